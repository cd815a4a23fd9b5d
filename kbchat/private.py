"""Files only their owner may read: the answer log, the index cache, exports and saved chats.

Each holds answers or documents. Made with mode 0600, and an existing file is made
0600 too: `open(..., 0o600)` sets the mode only of a file it creates, so a log or an
export target that was 0644 under umask 022 used to stay 0644.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

PRIVATE = 0o600
BINARY = getattr(os, "O_BINARY", 0)  # Windows: without it os.open's fd is in text mode, and \n is written \r\r\n
MODE_BITS = os.name == "posix"  # group and other bits exist only there; Windows keeps a profile's files by ACL


def private_database(path: Path) -> None:
    """Create an SQLite file if missing; it and its -wal and -shm files are 0600.

    SQLite gives its -wal and -shm files the database file's mode, so creating that
    file 0600 first covers all three; files an older kbchat left are tightened here.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | BINARY, PRIVATE)
    try:
        _tighten(fd, path)
    finally:
        os.close(fd)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(companion, PRIVATE)


@contextlib.contextmanager
def open_private(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file written from the start, readable by its owner only, whether or not it existed.
    Its lines end in \n on every platform, as piped output does."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | BINARY, PRIVATE)
    try:
        _tighten(fd, path)
    except OSError:
        os.close(fd)
        raise
    with open(fd, "w", encoding="utf-8", newline="\n") as file:
        yield file


def _tighten(fd: int, path: Path) -> None:
    if hasattr(os, "fchmod"):  # POSIX; Windows has no group or other bits to clear
        os.fchmod(fd, PRIVATE)
    else:
        os.chmod(path, PRIVATE)
