"""What each SSE event means for the answer, and how a stream of them ends."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbchat.events import (
    GENERIC_ERROR,
    PAUSE,
    Answer,
    Content,
    Done,
    NotJSON,
    StreamError,
    Unknown,
    decode,
    iter_events,
)
from kbchat.sse import SSEEvent
from tests.scripted_server import sse


@pytest.mark.parametrize(
    ("data", "event", "expected"),
    [
        ('{"event":"message","data":{"content":"Plans"}}', "message", Content("Plans", "")),
        ('{"event": "message", "data": {"content": " start at"}}', "message", Content(" start at", "")),
        ('{"event":"message","data":{"content":"a\\nb \\"q\\" \\u00e9"}}', "message", Content('a\nb "q" é', "")),
        ('{"data":{"content":"x"}}', "message", Content("x", "")),  # no event key: SSE type, default message
        ('{"data":{"content":"x"}}', "error", StreamError(GENERIC_ERROR, "")),
        ('{"data":{"message":"boom"}}', "error", StreamError("boom", "")),
        ('{"event":"message","data":"bare"}', "message", Content("bare", "")),
        ('{"event":"message","data":{}}', "message", Unknown("message", "")),
        ('{"event":"message","data":{"content":null}}', "message", Unknown("message", "")),
        ('{"event":"error","data":{"message":"quota exceeded"}}', "message", StreamError("quota exceeded", "")),
        ('{"event":"error","data":{"detail":"bad tenant"}}', "message", StreamError("bad tenant", "")),
        ('{"event":"error","data":"plain string"}', "message", StreamError("plain string", "")),
        ('{"event":"error","message":"top level"}', "message", StreamError("top level", "")),
        ('{"event":"error","detail":[{"loc":["body","query"],"msg":"required"}]}', "message",
         StreamError("body.query: required", "")),
        ('{"event":"error","data":{}}', "message", StreamError(GENERIC_ERROR, "")),
        ('{"event":"error","data":{"message":"two\\nlines\\u001b[31m"}}', "message", StreamError("two lines\u241b[31m", "")),
        ('{"event":"usage","data":{"tokens":3}}', "message", Unknown("usage", "")),
        ("[1, 2]", "message", Unknown("", "")),
        ("[DONE]", "message", Done()),
        ("  [DONE] \n", "message", Done()),
        ("not json", "message", NotJSON("")),
        ("", "message", NotJSON("")),
    ],
)  # fmt: skip
def test_decode(data: str, event: str, expected: object) -> None:
    decoded = decode(SSEEvent(data, event))
    assert type(decoded) is type(expected)
    assert decoded[:-1] == expected[:-1]  # type: ignore[index]
    assert decoded.raw == data


@given(st.text())
def test_fast_path_agrees_with_json_loads(text: str) -> None:
    data = json.dumps({"event": "message", "data": {"content": text}}, ensure_ascii=False)
    spaced = json.dumps({"event": "message", "data": {"content": text}}, ensure_ascii=False, separators=(",", ":"))
    assert decode(SSEEvent(data)) == Content(text, data)
    assert decode(SSEEvent(spaced)) == Content(text, spaced)


def test_iter_events_stops_after_done_and_closes_the_source() -> None:
    closed = []

    def chunks():
        try:
            yield sse("a", "b")
            yield b"data: " + b'{"event":"message","data":{"content":"after"}}\n\n'
        finally:
            closed.append(True)

    events = list(iter_events(chunks()))
    assert [type(e) for e in events] == [Content, Content, Done]
    assert closed == [True]


def test_iter_events_without_done_just_ends() -> None:
    events = list(iter_events([sse("part", done=False), b"data: unterminated"]))
    assert events == [Content("part", '{"event": "message", "data": {"content": "part"}}'), PAUSE]


def test_a_pause_follows_each_read_that_completed_events() -> None:
    reads = [sse("a", "b", done=False), b'data: {"event":"message",', b'"data":{"content":"c"}}\n\n', sse()]
    kinds = [type(e).__name__ for e in iter_events(reads)]
    assert kinds == ["Content", "Content", "Pause", "Content", "Pause", "Done"]


def test_answer_folds_events() -> None:
    answer = Answer(keep_text=True)
    for event in iter_events(
        [sse("Hello", " world", done=False), b'data: {"event":"error","data":{"message":"late"}}\n\n']
    ):
        answer.apply(event)
    assert answer.text == "Hello world"
    assert answer.errors == ["late"]
    assert not answer.finished
    assert answer.needs_newline


def test_answer_without_keep_text_holds_no_text() -> None:
    answer = Answer()
    assert answer.apply(Content("abc\n", "")) == "abc\n"
    assert answer.parts == [] and answer.chars == 4 and not answer.needs_newline
    assert answer.apply(Done()) == "" and answer.finished


def test_empty_answer_needs_no_newline() -> None:
    assert not Answer().needs_newline
