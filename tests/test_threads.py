"""Ctrl-C is never slept through: helper threads block it, and the main thread looks at it while an answer streams.

A Ctrl-C that sets only Python's flag, because another thread took it or because it
landed just before the main thread entered `poll()`, left the main thread asleep in `recv`
over a stalled stream (test_pty's and test_repl_pty's stall tests: 1 run in 8 to 25
under load took 10 s to stop, not 0.4 s).
"""

from __future__ import annotations

import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from kbchat.terminal import CHECK_EVERY, ctrl_c_checked, in_background

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")


def test_a_background_thread_blocks_sigint_and_the_main_thread_does_not() -> None:
    seen: list[set[signal.Signals]] = []
    in_background(lambda: seen.append(signal.pthread_sigmask(signal.SIG_BLOCK, [])), "probe").join(5)
    assert seen and {signal.SIGINT, signal.SIGALRM} <= seen[0]
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


def test_a_ctrl_c_that_only_set_the_flag_is_heard_while_an_answer_streams() -> None:
    """The flag is set from another thread, so the main thread's wait is not interrupted by it."""
    reader, writer = socket.socketpair()
    reader.settimeout(5)

    def ctrl_c_on_this_thread() -> None:
        time.sleep(0.2)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt), ctrl_c_checked():
            threading.Thread(target=ctrl_c_on_this_thread, daemon=True).start()
            reader.recv(1)  # a stalled stream: nothing ever comes
        assert time.monotonic() - started < 0.2 + 5 * CHECK_EVERY  # not the 5 s the wait would take
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the timer is gone afterwards
    finally:
        reader.close()
        writer.close()
