"""The live renderer on a real terminal: what the user sees, frame by frame and afterwards."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable

import pytest

from tests.conftest import ask_args, kbchat_env
from tests.pty_screen import PtySession
from tests.scripted_server import Reply, ScriptedServer, Stall, json_reply, sse

pytestmark = pytest.mark.pty

CURSOR = "█"
SGR = re.compile(rb"\x1b\[([0-9;]*)m")


def words(text: str) -> list[str]:
    """The answer in word-sized pieces, as a model streams it."""
    return re.findall(r"\S+\s*|\s+", text)


def test_cursor_blinks_during_a_stall_and_is_gone_at_the_end(server: ScriptedServer) -> None:
    release = threading.Event()
    server.queue(Reply([sse("Waiting for more", done=False), release, sse(" and done.")]))
    session = PtySession(*ask_args(server, "q"))
    session.wait_for(lambda text: "Waiting for more" in text)
    states = set()
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        session.pump(0.05)
        line = next(line for line in session.text.splitlines() if "Waiting" in line)
        states.add(line.endswith(CURSOR))
    release.set()
    assert states == {True, False}, "the cursor should show and hide while the stream stalls"
    assert session.finish() == 0
    assert "Waiting for more and done." in session.text and CURSOR not in session.text


def test_spinner_before_a_slow_first_token(server: ScriptedServer) -> None:
    server.queue(Reply([0.6, sse("Here it is.")]))
    session = PtySession(*ask_args(server, "q"))
    session.wait_for(lambda text: "thinking" in text)
    assert session.finish() == 0
    assert "thinking" not in session.text and "Here it is." in session.text


def test_a_fast_answer_never_flashes_a_spinner(server: ScriptedServer) -> None:
    server.queue(Reply([sse("Quick.")]))
    session = PtySession(*ask_args(server, "q"))
    assert session.finish() == 0
    assert b"thinking" not in session.raw


MARKDOWN = (
    "# Plans\n\nThe **Team** plan costs `$29`; see [pricing](https://example.com/p).\n\n"
    "- Dashboards\n- Pipelines\n\n| plan | price |\n| --- | --- |\n| Team | $29 |\n\n"
    "```python\nprint('hello')\n```\n\nThat is all."
)


def test_markdown_is_rendered(server: ScriptedServer) -> None:
    server.queue(Reply([sse(*words(MARKDOWN))]))
    session = PtySession(*ask_args(server, "q"))
    assert session.finish() == 0
    text = session.text
    assert "Plans" in text and "# Plans" not in text
    assert "The Team plan costs $29; see pricing" in text and "**" not in text
    assert "• Dashboards" in text and "• Pipelines" in text
    assert re.search(r"Team\s+\$29", text)
    assert "print('hello')" in text and "```" not in text
    assert text.rstrip().endswith("That is all.")


def test_no_markdown_shows_the_text_literally(server: ScriptedServer) -> None:
    server.queue(Reply([sse(*words(MARKDOWN))]))
    session = PtySession(*ask_args(server, "q", "--no-markdown"))
    assert session.finish() == 0
    lines = [line for line in session.scrollback if line]
    assert lines == [line for line in MARKDOWN.splitlines() if line]


@pytest.mark.parametrize("shape", ["paragraphs", "one tall list"])
def test_a_long_answer_is_in_the_scrollback_exactly_once(server: ScriptedServer, shape: str) -> None:
    if shape == "paragraphs":
        answer = "\n\n".join(f"Paragraph {i:03d} of the long answer." for i in range(120))
    else:
        answer = "\n".join(f"- item {i:03d} of the long list" for i in range(120))
    server.queue(Reply([sse(*words(answer))]))
    session = PtySession(*ask_args(server, "q"), rows=30, cols=80)
    assert session.finish() == 0
    seen = "\n".join(session.scrollback)
    for i in range(120):
        label = f"Paragraph {i:03d} of" if shape == "paragraphs" else f"item {i:03d} of"
        assert seen.count(label) == 1, f"{label!r} appears {seen.count(label)} times"
    assert CURSOR not in seen


def test_a_resize_while_streaming_loses_and_repeats_nothing(server: ScriptedServer) -> None:
    release = threading.Event()
    first = "\n\n".join(f"Before {i:02d} resize." for i in range(10))
    second = "\n\n".join(f"After {i:02d} resize." for i in range(10))
    server.queue(Reply([sse(*words(first), done=False), release, sse(*words("\n\n" + second))]))
    session = PtySession(*ask_args(server, "q"), rows=24, cols=80)
    session.wait_for(lambda text: "Before 09" in text)
    session.screen.resize(24, 50)
    session.child.setwinsize(24, 50)
    time.sleep(0.1)
    release.set()
    assert session.finish() == 0
    seen = "\n".join(session.scrollback)
    for label in [f"Before {i:02d}" for i in range(10)] + [f"After {i:02d}" for i in range(10)]:
        assert seen.count(label) == 1, label


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


@pytest.mark.parametrize("how", ["NO_COLOR", "--no-color"])
def test_no_color_keeps_bold_and_dim(server: ScriptedServer, how: str) -> None:
    server.queue(Reply([sse(*words(MARKDOWN))]))
    extra = ("--no-color",) if how == "--no-color" else ()
    env = kbchat_env(TERM="xterm-256color", **({"NO_COLOR": "1"} if how == "NO_COLOR" else {}))
    session = PtySession(*ask_args(server, "q", *extra), env=env)
    assert session.finish() == 0
    codes = [int(p) for params in SGR.findall(session.raw) for p in params.split(b";") if p]
    assert not any(30 <= c <= 49 or 90 <= c <= 107 for c in codes), "a colour code"
    assert 1 in codes, "no bold"  # **Team**, the heading, the list bullets
    assert "Dashboards" in session.text
    y, line = next((y, line) for y, line in enumerate(session.text.splitlines()) if "The Team plan" in line)
    assert session.screen.buffer[y][line.index("Team")].bold


def test_dumb_terminal_gets_plain_text(server: ScriptedServer) -> None:
    server.queue(Reply([sse("plain **text**\x1b[2J")]))
    session = PtySession(*ask_args(server, "q"), env=kbchat_env(TERM="dumb"))
    assert session.finish() == 0
    assert b"\x1b" not in session.raw
    assert "plain **text**\u241b[2J" in session.text


def test_narrow_terminal_wide_characters_and_tabs(server: ScriptedServer) -> None:
    answer = "中文字符测试 and emoji 😀 here.\n\n```\na\tb\n```"
    server.queue(Reply([sse(*words(answer))]))
    session = PtySession(*ask_args(server, "q"), rows=24, cols=20)
    assert session.finish() == 0
    joined = "".join(session.scrollback).replace(" ", "")
    assert "中文字符测试" in joined and "😀" in joined and "andemoji" in joined
    assert "a" in joined and "b" in joined
    assert all(len(line) <= 20 for line in session.scrollback)


def frames(session: PtySession, done: Callable[[str], bool], timeout: float = 10) -> list[str]:
    """Every screen the user saw, one per read, until `done` holds."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.pump(0.02)
        seen.append(session.text)
        if done(session.text):
            return seen
    raise AssertionError(f"screen never matched; it shows:\n{session.text}")


def test_html_and_placeholders_show_as_written(server: ScriptedServer) -> None:
    answer = "Run `widget install <name> --force`, or widget install <name> --force.\n\n<div>\nraw <b>block</b>\n</div>"
    server.queue(Reply([sse(*words(answer))]))
    session = PtySession(*ask_args(server, "q"))
    assert session.finish() == 0
    assert "Run widget install <name> --force, or widget install <name> --force." in session.text
    assert "<div> raw <b>block</b> </div>" in session.text


@pytest.mark.parametrize("no_stream", [False, True])
def test_a_closing_fence_at_the_very_end_closes_the_code_box(server: ScriptedServer, no_stream: bool) -> None:
    answer = "Run this:\n\n```sh\nmake test\n```"
    if no_stream:
        server.queue(json_reply(200, {"answer": answer, "sources": []}))
    else:
        server.queue(Reply([sse(*words(answer))]))
    session = PtySession(*ask_args(server, "q", *(["--no-stream"] if no_stream else [])))
    assert session.finish() == 0
    assert "```" not in session.text
    assert any(line.strip() == "make test" for line in session.text.splitlines())


def test_half_typed_emphasis_never_flashes_its_markers(server: ScriptedServer) -> None:
    steps: list = []
    for piece in [
        "The ",
        "**",
        "API",
        " key",
        "**",
        " is ",
        "`",
        "sk-",
        "…",
        "`",
        " and ",
        "[docs",
        "](https://ex",
        ".com)",
        ".",
    ]:
        steps += [sse(piece, done=False), 0.03]
    server.queue(Reply([*steps, sse()]))
    session = PtySession(*ask_args(server, "q"))
    seen = frames(session, lambda text: "docs (https://ex.com)." in text and CURSOR not in text)
    assert session.finish() == 0
    for text in seen:
        line = next((line for line in text.splitlines() if line.startswith("The")), "")
        assert "*" not in line and "`" not in line and "[" not in line and "](" not in line, line
    assert "The API key is sk-… and docs (https://ex.com)." in session.text


def test_a_streamed_table_never_shifts_its_columns(server: ScriptedServer) -> None:
    release = threading.Event()
    head = "Plans:\n\n| Plan | Price | Notes |\n| --- | --: | --- |\n| Free | $0 | for trying |\n| Team | $2"
    rest = "9 | per user |\n| Enterprise | $1,999 | a long note that wraps inside its own column |\n\nDone."
    server.queue(Reply([sse(*words(head), done=False), release, sse(*words(rest))]))
    session = PtySession(*ask_args(server, "q"))
    before = frames(session, lambda text: "Team" in text and "$2" in text)[-1]
    release.set()
    seen = frames(session, lambda text: "Done." in text and CURSOR not in text)
    assert session.finish() == 0
    free = next(line for line in before.splitlines() if line.startswith("Free"))
    assert free in session.text.splitlines()  # the first row, drawn once, never moved
    for text in seen:
        assert "|" not in text and "---" not in text
    lines = session.text.splitlines()
    price_end = next(line for line in lines if line.startswith("Plan ")).index("Price") + len("Price")
    for row, price in (("Free", "$0"), ("Team", "$29"), ("Enterprise", "$1,999")):
        line = next(line for line in lines if line.startswith(row))
        assert line.index(price) + len(price) == price_end, line


def test_a_finished_quote_is_never_taken_for_the_cursor(server: ScriptedServer) -> None:
    server.queue(Reply([sse(*words("> A quoted line.\n\nAnd after it."))]))
    session = PtySession(*ask_args(server, "q"))
    assert session.finish() == 0
    assert "▌ A quoted line." in session.text and CURSOR not in session.text


def test_a_terminal_without_termios_still_gets_the_live_answer(server: ScriptedServer) -> None:
    """What Windows lacks (termios, fcntl, tty, SIGWINCH) made unavailable in the child."""
    prelude = "import sys, signal\nsys.modules.update(termios=None, fcntl=None, tty=None)\ndel signal.SIGWINCH"
    server.queue(Reply([sse(*words("# Portable\n\nStill **rendered** live."))]))
    session = PtySession(*ask_args(server, "q"), prelude=prelude)
    assert session.finish() == 0
    assert "Still rendered live." in session.text and "**" not in session.text and CURSOR not in session.text
