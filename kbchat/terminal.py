"""The terminal kbchat runs on: its line mode and echo, and Ctrl-C while the screen is put right.

POSIX-only parts (termios) are guarded: without them, rich output still works and
typed keys simply echo.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kbchat.render import Terminal

_quiet_depth = 0  # quiet_keyboard nests: the chat holds it between prompts, each answer inside it


@contextlib.contextmanager
def quiet_keyboard(term: Terminal) -> Iterator[None]:
    """While the answer streams, keys typed (and the ^C echo) do not garble the live region.

    Echo is off, and so is line mode: keys typed ahead, Ctrl-D included, wait as bytes
    for the next prompt instead of being cooked into lines (or lost) by the terminal.
    The chat holds this between its prompts too (prompt_toolkit restores it after each
    one), so a key typed as an answer ends never meets line mode. Without termios
    (Windows) typed keys simply echo.
    """
    global _quiet_depth
    try:
        import termios

        fd = sys.stdin.fileno()
        if _quiet_depth or not term.is_tty or not sys.stdin.isatty():
            raise OSError
        saved = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError, AttributeError):
        yield
        return
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | getattr(termios, "ECHOCTL", 0) | termios.ICANON)
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    _quiet_depth += 1
    try:
        yield
    finally:
        _quiet_depth -= 1
        termios.tcsetattr(fd, termios.TCSANOW, saved)


@contextlib.contextmanager
def ignoring_ctrl_c() -> Iterator[None]:
    """A second Ctrl-C while the screen is being put right must not leave it half done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
