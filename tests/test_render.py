"""Renderers fed KB events, writing to in-memory streams."""

from __future__ import annotations

import io

import pytest

from kbchat.events import Content, Done, NotJSON, StreamError, Unknown
from kbchat.exchange import copy_content
from kbchat.render import Mode, make_renderer, resolve_mode
from kbchat.render.jsonl import JSONLinesRenderer
from kbchat.render.plain import PlainRenderer
from kbchat.safe import terminal_safe
from kbchat.terminal import Terminal


def terminal(is_tty: bool = False, color: bool = True) -> Terminal:
    return Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=is_tty, color=color)


def events(*texts: str, done: bool = True) -> list:
    return [Content(t, "") for t in texts] + ([Done()] if done else [])


def interrupted(*texts: str):
    yield from events(*texts, done=False)
    raise KeyboardInterrupt


def test_plain_writes_content_and_one_newline() -> None:
    term = terminal()
    answer = PlainRenderer(term).render(events("a", "b"))
    assert term.out.getvalue() == "ab\n"
    assert answer.finished and answer.chars == 2


def test_plain_skips_everything_but_content() -> None:
    term = terminal()
    stream = [Content("x\n", ""), Unknown("usage", "{}"), NotJSON("junk"), StreamError("bad", "{}"), Done()]
    answer = PlainRenderer(term).render(stream)
    assert term.out.getvalue() == "x\n"
    assert answer.errors == ["bad"]


def test_plain_to_a_pipe_passes_control_characters_untouched() -> None:
    term = terminal()
    PlainRenderer(term).render(events("\x1b[2J"))
    assert term.out.getvalue() == "\x1b[2J\n"


def test_plain_on_a_terminal_makes_control_characters_harmless() -> None:
    term = terminal(is_tty=True)
    make_renderer(Mode.PLAIN, term).render(events("\x1b]52;c;ZXZpbA==\x07 ok\r\n\t[bold]x[/bold]\x9b\x7f"))
    assert term.out.getvalue() == "\u241b]52;c;ZXZpbA==\u2407 ok\n\t[bold]x[/bold]\ufffd\u2421\n"


@pytest.mark.parametrize(
    ("mark", "color", "expected"),
    [(True, True, "par \x1b[2m[cancelled]\x1b[0m\n"), (True, False, "par [cancelled]\n"), (False, True, "par\n")],
)
def test_cancel_mark_on_a_dumb_terminal(mark: bool, color: bool, expected: str) -> None:
    term = terminal(is_tty=True, color=color)
    answer = PlainRenderer(term, safe=True, mark_cancel=mark).render(interrupted("par"))
    assert answer.cancelled and not answer.finished
    assert term.out.getvalue() == expected


def test_json_lines_keep_payloads_as_sent() -> None:
    term = terminal()
    stream = [Content("a", '{"event":"message","data":{"content":"a"}}'), NotJSON("junk"),
              Unknown("usage", '{"event": "usage",\n "data": 1}'), Done()]  # fmt: skip
    answer = JSONLinesRenderer(term).render(stream)
    assert term.out.getvalue() == '{"event":"message","data":{"content":"a"}}\n{"event":"usage","data":1}\n'
    assert answer.finished


def test_copy_content_writes_plain_text_to_a_file() -> None:
    file = io.StringIO()
    passed = list(copy_content(events("a", "\x1b", "b"), file))
    assert file.getvalue() == "a\x1bb\n"
    assert len(passed) == 4


def test_resolve_mode() -> None:
    assert resolve_mode(Mode.AUTO, terminal(is_tty=True)) is Mode.RICH
    assert resolve_mode(Mode.AUTO, terminal(is_tty=False)) is Mode.PLAIN
    assert resolve_mode(Mode.JSON, terminal(is_tty=True)) is Mode.JSON


def test_terminal_safe_keeps_ordinary_text() -> None:
    text = "caf\u00e9 \u4e2d\u6587 \U0001f600\tx\ny"
    assert terminal_safe(text) == text
