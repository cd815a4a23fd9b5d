"""Run kbchat in a pseudo-terminal and keep a pyte screen of what the user sees."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import pexpect
import pyte

from tests.conftest import kbchat_env


class PtySession:
    """kbchat in a pty of `rows` x `cols`; every byte it writes is fed to a pyte screen."""

    def __init__(
        self, *args: str, rows: int = 24, cols: int = 80, env: dict[str, str] | None = None, prelude: str = ""
    ) -> None:
        """`prelude`: Python run first in the child (say, to make a module unavailable)."""
        self.screen = pyte.HistoryScreen(cols, rows, history=10_000)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        start = (
            ["-c", f"{prelude}\nfrom kbchat.cli import main\nmain(prog_name='kbchat')"] if prelude else ["-m", "kbchat"]
        )
        self.child = pexpect.spawn(
            sys.executable,
            [*start, *args],
            dimensions=(rows, cols),
            env=env or kbchat_env(TERM="xterm-256color"),
        )

    @property
    def text(self) -> str:
        """What the screen shows now."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    @property
    def scrollback(self) -> list[str]:
        """Every line that scrolled off the top, then the screen: what the user can scroll through."""
        columns = self.screen.columns
        gone = ["".join(line[x].data for x in range(columns)).rstrip() for line in self.screen.history.top]
        return gone + [line.rstrip() for line in self.screen.display]

    def pump(self, seconds: float = 0.05) -> None:
        """Read whatever arrived within `seconds` and draw it."""
        try:
            data = self.child.read_nonblocking(65536, timeout=seconds)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            return
        self.raw += data
        self.stream.feed(data)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.text):
                return self.text
            self.pump()
        raise AssertionError(f"screen never matched; it shows:\n{self.text}")

    def finish(self, timeout: float = 10) -> int:
        """Drain the output until the process exits; return its exit status."""
        deadline = time.monotonic() + timeout
        while self.child.isalive() and time.monotonic() < deadline:
            self.pump()
        self.pump(0.01)
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else 128 + (self.child.signalstatus or 0)
