"""The terminal kbchat runs on, owned here alone: its streams and what they are, colour and
dumb-ness, line mode and echo while an answer streams, Ctrl-C while the screen is put
right, clearing the screen, a pager for long output, and a reader of stdout that went away.

It is made once, in kbchat.cli.main, and owns every diagnostic line: `say`, `warn`, `error`
(whatever they carry passes the sanitiser). POSIX-only parts (termios) are guarded: without
them rich output still works and typed keys simply echo. Imports only kbchat.safe, and
nothing heavy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from kbchat.safe import one_line, redact, terminal_safe

CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"  # home, clear the screen, and its scrollback


@dataclass(frozen=True)
class Terminal:
    """Where input comes from and output goes, and what each is; built in the command, never at import."""

    out: TextIO
    err: TextIO
    is_tty: bool  # stdout
    err_is_tty: bool = False
    color: bool = True  # NO_COLOR, --no-color and TERM=dumb turn colour off
    dumb: bool = False  # TERM=dumb: no cursor movement either
    accessible: bool = False  # KBCHAT_ACCESSIBLE: each block printed once, for a screen reader; no redraws
    stdin: TextIO | None = None
    stdin_is_tty: bool = False

    @classmethod
    def from_std(cls, no_color: bool = False, env: Mapping[str, str] = os.environ) -> Terminal:
        dumb = env.get("TERM") == "dumb"
        for stream in (sys.stdout, sys.stderr):
            writes_everything(stream)
        return cls(
            out=sys.stdout,
            err=sys.stderr,
            is_tty=isatty(sys.stdout),
            err_is_tty=isatty(sys.stderr),
            color=not no_color and not env.get("NO_COLOR") and not dumb,
            dumb=dumb,
            stdin=sys.stdin,
            stdin_is_tty=isatty(sys.stdin),
        )

    def without_color(self) -> Terminal:
        """--no-color: the same terminal, painted in no colour."""
        return dataclasses.replace(self, color=False)

    def say(self, line: str) -> None:
        """A line for the person, on stderr; what it holds (a tenant, a path, a server's words) made harmless."""
        with contextlib.suppress(OSError, ValueError):  # a closed stderr has no one to tell
            print(terminal_safe(redact(line)), file=self.err, flush=True)

    def warn(self, message: str) -> None:
        self.say(f"kbchat: warning: {one_line(message)}")

    def error(self, message: str) -> None:
        self.say(f"kbchat: error: {one_line(message)}")

    def release_stdout(self) -> None:
        """All of the output is written: let a pipe's reader see its end now, before any bookkeeping.

        stdout is flushed, then pointed at /dev/null (so an exit's flush cannot fail); a terminal stays.
        """
        with contextlib.suppress(OSError, ValueError):
            self.out.flush()
        if not self.is_tty:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.out.fileno())
                os.close(devnull)

    def clear_screen(self) -> None:
        if self.is_tty and not self.dumb:
            print(CLEAR_SCREEN, end="", file=self.out, flush=True)

    def erase_line(self) -> None:
        """Back to the start of the line, and clear it (a placeholder gives way to the real thing)."""
        if self.is_tty and not self.dumb:
            print("\r\x1b[K", end="", file=self.out, flush=True)

    def set_clipboard(self, payload: str) -> None:
        """OSC 52: the terminal puts this base64 text on the clipboard of the machine at the keyboard."""
        print(f"\x1b]52;c;{payload}\x07", end="", file=self.out, flush=True)

    def page(self, text: str, pager: bool = True, env: Mapping[str, str] = os.environ) -> None:
        """Text for stdout; through $PAGER (`less -FRX` when unset) on a terminal if taller than it.

        As git and gh do: LESS=FRX unless set (colours pass, a pager that fits quits at
        once, the screen is not cleared). `--no-pager`, PAGER=cat or an empty PAGER print
        directly, and so does a pager that cannot be started.
        """
        if pager and self.is_tty and not self.dumb and text.count("\n") >= _screen_height():
            command = env.get("KBCHAT_PAGER", env.get("PAGER", "less"))
            if command.strip() not in ("", "cat") and _run_pager(command, text, env):
                return
        self.out.write(text)
        self.out.flush()

    def paint(self, text: str, sgr: str) -> str:
        """Text in an SGR style (`32` green, `1` bold) when the terminal takes colour."""
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.color and self.is_tty else text


def writes_everything(stream: TextIO) -> None:
    """Piped or redirected, UTF-8 whatever the locale (as Python 3.15 will do by default), and lines
    ending in \n on every platform, so a script or a file gets the same bytes everywhere; on a console,
    its own line endings (\r\n on Windows) and any character its encoding cannot show replaced.
    Never a UnicodeEncodeError.

    A Windows pipe gets cp1252 without UTF-8 mode: `kbchat ask … | cat` printed half a line of
    an answer with an arrow in it, then failed.
    """
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None:
        return
    with contextlib.suppress(ValueError, OSError):
        if isatty(stream):
            reconfigure(errors="replace")
        else:
            reconfigure(encoding="utf-8", errors="replace", newline="\n")


def print_path(path: object, stream: TextIO) -> None:
    """A path as a script reads it when piped (`sqlite3 "$(kbchat log path)"`); on a terminal, with its
    control characters made visible: KBCHAT_LOG or an XDG_*_HOME may hold escape sequences."""
    text = str(path)
    print(terminal_safe(text) if isatty(stream) else text, file=stream)


def isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


_quiet_depth = 0  # quiet_keyboard nests: the chat holds it between prompts, each answer inside it
_ordinary: tuple[int, list[Any]] | None = None  # the terminal's own settings while it is quiet


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

        if _quiet_depth or not term.is_tty or not term.stdin_is_tty or term.stdin is None:
            raise OSError
        fd = term.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError, AttributeError):
        yield
        return
    global _ordinary
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | getattr(termios, "ECHOCTL", 0) | termios.ICANON)
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    _quiet_depth += 1
    _ordinary = (fd, saved)
    try:
        yield
    finally:
        _quiet_depth -= 1
        _ordinary = None
        termios.tcsetattr(fd, termios.TCSANOW, saved)


@contextlib.contextmanager
def ordinary_keyboard() -> Iterator[None]:
    """The terminal as the user had it (echo, line mode) for a while: an editor runs in it."""
    held = _ordinary
    if held is None:
        yield
        return
    import termios

    fd, saved = held
    quiet = termios.tcgetattr(fd)
    termios.tcsetattr(fd, termios.TCSANOW, saved)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, quiet)


CHECK_EVERY = 0.1  # seconds between the main thread's looks at Ctrl-C while an answer streams


def in_background(target: Callable[[], object], name: str) -> threading.Thread:
    """Start a daemon thread that never takes Ctrl-C (nor ctrl_c_checked's timer), so the kernel
    hands those signals to the main thread.

    A signal goes to any thread that does not block it. When a helper thread got it, only
    Python's flag was set: the main thread slept on in `recv` over a stalled stream (10 s
    and more under load) before it noticed. The thread is started with both signals
    blocked here, so it inherits the mask from its first instruction.
    """
    thread = threading.Thread(target=target, name=name, daemon=True)
    if not hasattr(signal, "pthread_sigmask"):  # Windows: console Ctrl-C reaches the main thread anyway
        thread.start()
        return thread
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGALRM})
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return thread


@contextlib.contextmanager
def ctrl_c_checked() -> Iterator[None]:
    """Meanwhile the main thread looks at Ctrl-C at least every CHECK_EVERY seconds, whatever it waits on.

    A SIGINT that lands after Python's last look and before the thread enters `poll()`
    (a window that widens when the machine is busy) only sets Python's flag, and `poll()`
    then sleeps for the whole read timeout: a Ctrl-C over a stalled stream took 10 s, not
    0.4. A timer signal interrupts such a wait, Python runs the pending handler, and the
    wait goes on (PEP 475). POSIX only: Windows delivers a console Ctrl-C another way.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _look_at_signals)
    signal.setitimer(signal.ITIMER_REAL, CHECK_EVERY, CHECK_EVERY)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def ctrl_c_wakes(wake: Callable[[], None], enabled: bool | None = None) -> Iterator[None]:
    """Meanwhile a Ctrl-C also calls `wake` at once, from a thread of its own.

    On Windows a console Ctrl-C cannot interrupt a socket's recv (python/cpython#85609): over a
    stalled stream the main thread would raise its KeyboardInterrupt only when the read timed
    out, a minute later. Python writes each signal's number to its wakeup socket as the signal
    arrives; a thread waiting there calls `wake`, which ends the read, and the KeyboardInterrupt
    follows at once. POSIX needs none of it: there the signal interrupts the read itself.
    """
    from kbchat.errors import WINDOWS

    if not (WINDOWS if enabled is None else enabled) or threading.current_thread() is not threading.main_thread():
        yield
        return
    import socket

    ours, theirs = socket.socketpair()
    ours.setblocking(False)  # as set_wakeup_fd requires: a full buffer must never block a signal
    previous = signal.set_wakeup_fd(ours.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        with contextlib.suppress(OSError):
            while signals := theirs.recv(64):  # b"" once `ours` is closed
                if signal.SIGINT in signals:
                    wake()

    watcher = in_background(watch, "kbchat-ctrl-c")
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        ours.close()
        watcher.join()  # soon: its recv returns what came, then b"" now that `ours` is closed
        theirs.close()


def _look_at_signals(signum: int, frame: object) -> None:
    """Nothing: being called is the point (the interrupted wait lets Python run a pending Ctrl-C)."""


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


def ignore_ctrl_c_from_now_on() -> None:
    """Leaving after a Ctrl-C: another one must not turn the exit into a traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _screen_height() -> int:
    import shutil

    return shutil.get_terminal_size().lines


def _run_pager(command: str, text: str, env: Mapping[str, str]) -> bool:
    """Show text in the pager; False if it could not be started. Ctrl-C is the pager's business."""
    import shlex
    import subprocess

    sys.stdout.flush()
    try:
        pager = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, env={"LESS": "FRX", "LV": "-c", **env})
    except (OSError, ValueError):
        return False
    with ignoring_ctrl_c():
        assert pager.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):  # the user left the pager early
            pager.stdin.write(text.encode("utf-8", "replace"))
            pager.stdin.close()
        pager.wait()
    return True
