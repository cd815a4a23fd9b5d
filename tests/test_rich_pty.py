"""The live renderer on a real terminal: what the user sees, frame by frame and afterwards."""

from __future__ import annotations

import re
import signal
import time

import pytest

from tests.conftest import ask_args, kbchat_env
from tests.pty_screen import PtySession
from tests.scripted_server import Reply, ScriptedServer, Stall, sse

pytestmark = pytest.mark.pty

CURSOR = "█"
SGR = re.compile(rb"\x1b\[([0-9;]*)m")


def words(text: str) -> list[str]:
    """The answer in word-sized pieces, as a model streams it."""
    return re.findall(r"\S+\s*|\s+", text)


MARKDOWN = (
    "# Plans\n\nThe **Team** plan costs `$29`; see [pricing](https://example.com/p).\n\n"
    "- Dashboards\n- Pipelines\n\n| plan | price |\n| --- | --- |\n| Team | $29 |\n\n"
    "```python\nprint('hello')\n```\n\nThat is all."
)


def test_ctrl_c_during_a_stall_stops_within_half_a_second(server: ScriptedServer) -> None:
    server.queue(Reply([sse(*words("# Heading\n\nA partial answer that"), done=False), Stall()]))
    session = PtySession(*ask_args(server, "q"))
    session.wait_for(lambda text: "A partial answer that" in text)
    sent = time.monotonic()
    session.child.kill(signal.SIGINT)
    session.wait_for(lambda text: "[cancelled]" in text, timeout=5)
    elapsed = time.monotonic() - sent
    status = session.finish()
    assert elapsed < 0.5, f"took {elapsed:.2f} s"
    assert status == 130
    assert "A partial answer that [cancelled]" in session.text and CURSOR not in session.text
    assert "Traceback" not in session.text
    assert session.raw.rfind(b"\x1b[?25h") > session.raw.rfind(b"\x1b[?25l")  # the cursor is shown again


def test_a_second_ctrl_c_leaves_no_traceback(server: ScriptedServer) -> None:
    server.queue(Reply([sse("Partial", done=False), Stall()]))
    session = PtySession(*ask_args(server, "q"))
    session.wait_for(lambda text: "Partial" in text)
    session.child.kill(signal.SIGINT)
    session.child.kill(signal.SIGINT)
    assert session.finish() == 130
    assert "Traceback" not in session.text and "KeyboardInterrupt" not in session.text
    assert session.raw.rfind(b"\x1b[?25h") > session.raw.rfind(b"\x1b[?25l")


def test_no_color_keeps_bold_and_dim(server: ScriptedServer) -> None:
    server.queue(Reply([sse(*words(MARKDOWN))]))
    session = PtySession(*ask_args(server, "q"), env=kbchat_env(TERM="xterm-256color", NO_COLOR="1"))
    assert session.finish() == 0
    codes = [int(p) for params in SGR.findall(session.raw) for p in params.split(b";") if p]
    assert not any(30 <= c <= 49 or 90 <= c <= 107 for c in codes), "a colour code"
    assert 1 in codes, "no bold"  # **Team**, the heading, the list bullets
    assert "Dashboards" in session.text
    y, line = next((y, line) for y, line in enumerate(session.text.splitlines()) if "The Team plan" in line)
    assert session.screen.buffer[y][line.index("Team")].bold


def test_a_terminal_without_termios_still_gets_the_live_answer(server: ScriptedServer) -> None:
    """What Windows lacks (termios, fcntl, tty, SIGWINCH) made unavailable in the child."""
    prelude = "import sys, signal\nsys.modules.update(termios=None, fcntl=None, tty=None)\ndel signal.SIGWINCH"
    server.queue(Reply([sse(*words("# Portable\n\nStill **rendered** live."))]))
    session = PtySession(*ask_args(server, "q"), prelude=prelude)
    assert session.finish() == 0
    assert "Still rendered live." in session.text and "**" not in session.text and CURSOR not in session.text


def test_cite_marks_each_block_as_it_is_drawn_and_lists_the_passages_used(server: ScriptedServer) -> None:
    """The marks follow the stream: the first paragraph is marked while the answer is still coming."""
    from tests.scripted_server import json_reply
    from tests.test_cite import ANSWER, SEARCH

    first = ANSWER.split("\n\n")[0]
    server.queue_for("/v1/kb/search", json_reply(200, SEARCH))
    server.queue_for("/v1/kb/chat/stream", Reply([sse(*words(first + "\n\n"), done=False), Stall()]))
    session = PtySession(*ask_args(server, "--cite", "what do plans cost?"))
    session.wait_for(lambda text: "Both plans can be tried for 14 days, free. [1]" in text)
    session.child.kill(signal.SIGINT)
    session.wait_for(lambda text: "sentences matched" in text, timeout=5)
    assert session.finish() == 130
    lines = [line for line in session.text.splitlines() if line.strip()]
    assert lines[-5:] == ["Both plans can be tried for 14 days, free. [1]", "[cancelled]", "Matched sources",
                          "[1] Plans › Trials (plans.md)", "1 of 1 sentences matched"]  # fmt: skip
    assert b"\x1b[2m[1]" in session.raw
