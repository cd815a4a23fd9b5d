"""What a user sees when kbchat writes to a real terminal."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.conftest import ask_args
from tests.pty_screen import PtySession
from tests.scripted_server import Reply, ScriptedServer, Stall, sse

pytestmark = pytest.mark.pty


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_text_appears_before_the_stream_ends(server: ScriptedServer, framing: str) -> None:
    release = threading.Event()
    server.queue(Reply([sse("The first token", done=False), release, sse(" and the rest.")], framing=framing))  # type: ignore[arg-type]
    session = PtySession(*ask_args(server, "q"))
    try:
        session.wait_for(lambda text: "The first token" in text)
    finally:
        release.set()
    assert session.finish() == 0
    assert "The first token and the rest." in session.text


def test_escape_sequences_from_the_server_never_reach_the_terminal(server: ScriptedServer) -> None:
    evil = "safe\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x9b31m [bold]x[/bold]"
    server.queue(Reply([sse(evil)]))
    session = PtySession(*ask_args(server, "q"))
    assert session.finish() == 0
    assert b"\x1b[2J" not in session.raw and b"\x1b]" not in session.raw and b"\xc2\x9b" not in session.raw
    assert "safe\u241b[2J\u241b]0;pwned\u2407" in session.text
    assert "[bold]x[/bold]" in session.text


def test_ctrl_c_during_a_stall_keeps_the_partial_answer(server: ScriptedServer) -> None:
    server.queue(Reply([sse("Half of the answer", done=False), Stall()]))
    session = PtySession(*ask_args(server, "q"))
    session.wait_for(lambda text: "Half of the answer" in text)
    sent = time.monotonic()
    session.child.kill(signal.SIGINT)
    status = session.finish()
    assert time.monotonic() - sent < 2.0
    assert status == 130
    assert "Half of the answer [cancelled]" in session.text
    assert "Traceback" not in session.text and "KeyboardInterrupt" not in session.text
    assert server.closed.wait(2)


def test_errors_show_on_the_terminal_after_the_partial_answer(server: ScriptedServer) -> None:
    server.queue(Reply([sse("partial", done=False)], framing="close"))
    session = PtySession(*ask_args(server, "q"))
    assert session.finish() == 1
    lines = [line for line in session.text.splitlines() if line]
    assert lines == ["partial", "kbchat: error: the stream ended before the answer was complete"]
