"""--verbose tracing: a function that takes one line, or one that drops it. No I/O on import."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from kbchat.safe import one_line

Trace = Callable[[str], None]


def no_trace(message: str) -> None:
    """Tracing is off."""


def make_trace(err: TextIO, verbose: bool) -> Trace:
    """--verbose traces go to stderr as `kbchat: …`, made safe (server text, secrets); without it, nowhere."""
    if not verbose:
        return no_trace

    def trace(message: str) -> None:
        print(f"kbchat: {one_line(message)}", file=err, flush=True)

    return trace
