"""Which files of a docs folder are served, and to which tenant.

Files at the top belong to tenant `demo`; each subfolder is a tenant, its files at any
depth. A symbolic link whose real path leaves its tenant's folder (a link named
`notes.md` to `~/.config/kbchat/config.toml`, or into another tenant's folder) is
skipped unless the operator asks to follow links: a document's tenant must be where
the file really is.
"""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Callable, Iterator
from pathlib import Path

from kbchat.private import BINARY

SUFFIXES = frozenset({".md", ".markdown", ".txt"})
TOP_LEVEL_TENANT = "demo"
MAX_DEPTH = 64  # folders below the docs folder; deeper ones are skipped, and said

Warn = Callable[[str], None]


class Folder:
    """A docs folder walked for documents; each skipped link is reported once."""

    def __init__(self, docs: Path, follow_symlinks: bool = False, warn: Warn | None = None) -> None:
        self.docs = docs.resolve()
        self.follow_symlinks = follow_symlinks
        self.warn = warn
        self._warned: set[str] = set()

    def scan(self) -> Iterator[tuple[str, os.stat_result]]:
        """Each served file's path relative to the folder (with /) and its stat, in name order.

        Walked with a stack, not recursion: os.walk recursed once a level, so a folder
        1,500 levels deep ended the walk (and with it the watcher) in RecursionError.
        Folders deeper than MAX_DEPTH are skipped, and said once.
        """
        visited: set[tuple[int, int]] = set()  # real folders seen: a link loop is walked once
        pending: list[tuple[str, int]] = [(str(self.docs), 0)]
        while pending:
            root, depth = pending.pop()
            try:
                here = os.stat(root)
                with os.scandir(root) as found:
                    entries = sorted(found, key=lambda entry: entry.name)
            except OSError:
                continue  # vanished, unreadable, or a path too long to open
            if (here.st_dev, here.st_ino) in visited:
                continue
            visited.add((here.st_dev, here.st_ino))
            folders = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if _is_folder(entry, self.follow_symlinks):
                    if entry.is_symlink() and not self.follow_symlinks:
                        self._skip(entry.path, "a symbolic link to a folder")
                    elif depth >= MAX_DEPTH:
                        self._skip(entry.path, f"deeper than {MAX_DEPTH} folders", hint=False)
                    else:
                        folders.append((entry.path, depth + 1))
                elif Path(entry.name).suffix.lower() in SUFFIXES and (served := self._served(entry.path)):
                    yield self.relative(entry.path), served
            pending.extend(reversed(folders))  # the first folder is walked next: files come in name order

    def _served(self, full: str) -> os.stat_result | None:
        """A document's stat, if it is a regular file served from here."""
        if not self.follow_symlinks and os.path.islink(full) and not self._link_stays_home(full):
            return None
        try:
            info = os.stat(full)
        except OSError:
            return None  # vanished while scanning (or a dangling link): the next refresh settles it
        return info if stat_module.S_ISREG(info.st_mode) else None

    def read(self, relative: str) -> str | None:
        """A document's text (invalid UTF-8 as U+FFFD), or None if it cannot be read now.

        Without --follow-symlinks a link is checked again and its real path opened with
        O_NOFOLLOW, so a file swapped for a link after the scan is not read through it.
        """
        path = os.path.join(self.docs, relative)
        flags = os.O_RDONLY | BINARY
        if not self.follow_symlinks:
            if os.path.islink(path):
                if not self._link_stays_home(path):
                    return None
                path = os.path.realpath(path)
            flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags)
            with os.fdopen(fd, "rb") as file:
                return file.read().decode("utf-8", "replace")
        except OSError:
            return None

    def relative(self, full: str) -> str:
        return os.path.relpath(full, self.docs).replace(os.sep, "/")

    def _link_stays_home(self, full: str) -> bool:
        """Whether a link's real path is in the folder of the tenant its place gives it."""
        relative = self.relative(full)
        real = Path(os.path.realpath(full))
        if "/" not in relative:  # tenant demo: a file at the top, not in another tenant's subfolder
            allowed, home = real.parent == self.docs, "the top folder"
        else:
            tenant_folder = (self.docs / relative.split("/", 1)[0]).resolve()
            allowed, home = real.is_relative_to(tenant_folder), "its tenant's folder"
        if not allowed:
            self._skip(full, f"a symbolic link to a file outside {home}")
        return allowed

    def _skip(self, full: str, why: str, hint: bool = True) -> None:
        relative = self.relative(full)
        if relative not in self._warned:
            self._warned.add(relative)
            if self.warn is not None:
                self.warn(f"skipped {relative}: {why}" + (" (--follow-symlinks serves it)" if hint else ""))


def _is_folder(entry: os.DirEntry[str], follow_symlinks: bool) -> bool:
    """Whether an entry is a folder to walk (a link to one counts, to be followed or said)."""
    try:
        return entry.is_dir(follow_symlinks=True) if follow_symlinks or entry.is_symlink() else entry.is_dir()
    except OSError:
        return False


def tenant_of(relative: str) -> str:
    """The tenant a file belongs to by its place: its top folder, else `demo`."""
    parts = relative.split("/")
    return parts[0] if len(parts) > 1 else TOP_LEVEL_TENANT
