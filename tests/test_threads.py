"""Ctrl-C goes to the main thread: every helper thread of the client is started with SIGINT blocked.

A signal goes to any thread that does not block it. When the live renderer's clock
thread got Ctrl-C, only Python's flag was set, and the main thread slept on in `recv`
over a stalled stream (1 run in 25 under load took 10 s to stop, not 0.4 s).
"""

from __future__ import annotations

import re
import signal
import threading
from pathlib import Path

import pytest

from kbchat.terminal import in_background

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")


def test_a_background_thread_blocks_sigint_and_the_main_thread_does_not() -> None:
    seen: list[set[signal.Signals]] = []
    in_background(lambda: seen.append(signal.pthread_sigmask(signal.SIG_BLOCK, [])), "probe").join(5)
    assert seen and signal.SIGINT in seen[0]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert threading.current_thread() is threading.main_thread()


def test_no_client_module_starts_a_thread_another_way() -> None:
    """serve's threads take no Ctrl-C of a client's: the server stops on its own signals."""
    package = Path(__file__).resolve().parents[1] / "kbchat"
    starting = re.compile(r"threading\.Thread\(|ThreadPoolExecutor")
    found = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "server" not in path.parts and path.name != "terminal.py" and starting.search(path.read_text())
    ]
    assert found == []
