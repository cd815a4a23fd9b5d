"""The SSE parser against the HTML standard's rules, under every chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbchat.sse import SSEEvent, SSEOverflow, SSEParser, encode_event


def parse(chunks: list[bytes]) -> list[SSEEvent]:
    parser = SSEParser()
    return [event for chunk in chunks for event in parser.feed(chunk)] + parser.close()


def every_split(payload: bytes) -> list[list[bytes]]:
    return [[payload[:i], payload[i:]] for i in range(len(payload) + 1)]


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"data: hi\n\n"], [SSEEvent("hi")]),
        ([b"data: hi\r\n\r\n"], [SSEEvent("hi")]),
        ([b"data: hi\r\r"], [SSEEvent("hi")]),
        ([b"data: hi\r", b"\n\r\n"], [SSEEvent("hi")]),  # CRLF split across reads
        ([b"data: hi\r", b"\n", b"\r", b"\n"], [SSEEvent("hi")]),
        ([b"data: a\r\n", b"\r\ndata: b\n\n"], [SSEEvent("a"), SSEEvent("b")]),
        ([b"data: caf\xc3", b"\xa9\n\n"], [SSEEvent("café")]),  # UTF-8 character split
        ([b"data: bad\xff\xfe\n\n"], [SSEEvent("bad\ufffd\ufffd")]),
        ([b"\xef\xbb\xbfdata: x\n\n"], [SSEEvent("x")]),  # BOM at the very start
        ([b"\xef", b"\xbb", b"\xbfdata: x\n\n"], [SSEEvent("x")]),
        ([b"data: x\n\n\xef\xbb\xbfdata: y\n\n"], [SSEEvent("x")]),  # a later BOM is not stripped
        ([b": keepalive\n\n"], []),
        ([b":\n\ndata: x\n\n"], [SSEEvent("x")]),
        ([b"data: a\ndata: b\n\n"], [SSEEvent("a\nb")]),
        ([b"data:  two spaces\n\n"], [SSEEvent(" two spaces")]),  # only one space is dropped
        ([b"data:nospace\n\n"], [SSEEvent("nospace")]),
        ([b"data\n\n"], [SSEEvent("")]),  # a field with no colon has an empty value
        ([b"data:\n\n"], [SSEEvent("")]),
        ([b"data: a\n\n\n\n"], [SSEEvent("a")]),  # blank lines with no data dispatch nothing
        ([b"event: error\ndata: x\n\n"], [SSEEvent("x", "error")]),
        ([b"event: error\n\ndata: x\n\n"], [SSEEvent("x")]),  # the type resets at each blank line
        ([b"id: 7\ndata: x\n\ndata: y\n\n"], [SSEEvent("x", id="7"), SSEEvent("y", id="7")]),
        ([b"id: a\0b\ndata: x\n\n"], [SSEEvent("x")]),  # an id with NUL is ignored
        ([b"foo: bar\ndata: x\n\n"], [SSEEvent("x")]),  # unknown fields are ignored
        ([b"data: x"], []),  # EOF mid-line: discarded
        ([b"data: x\n"], []),  # EOF before the blank line: discarded
        ([b"data: [DONE]\n\n"], [SSEEvent("[DONE]")]),
        ([b""], []),
    ],
)
def test_feed(chunks: list[bytes], expected: list[SSEEvent]) -> None:
    assert parse(chunks) == expected


def test_retry_field_sets_reconnection_time_only_when_digits() -> None:
    parser = SSEParser()
    parser.feed(b"retry: 1500\n\nretry: soon\n\n")
    assert parser.retry == 1500


def test_events_come_out_as_soon_as_their_blank_line_arrives() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: first\n") == []
    assert parser.feed(b"\n") == [SSEEvent("first")]
    assert parser.feed(b"data: sec") == []
    assert parser.feed(b"ond\r") == []
    assert parser.feed(b"\r") == [SSEEvent("second")]  # no waiting to see if LF follows


WIRE = (
    '\ufeffdata: {"event":"message","data":{"content":"Pläne \u4e2d"}}\r\n\r\n'
    ": keep-alive\n\nevent: error\rid: 42\rdata: line one\rdata: line two\r\r"
    "data: [DONE]\n\n"
).encode()
WIRE_EVENTS = [
    SSEEvent('{"event":"message","data":{"content":"Pläne \u4e2d"}}'),
    SSEEvent("line one\nline two", "error", "42"),
    SSEEvent("[DONE]", id="42"),
]


def test_wire_sample_whole() -> None:
    assert parse([WIRE]) == WIRE_EVENTS


@pytest.mark.parametrize("chunks", every_split(WIRE))
def test_wire_sample_split_at_every_boundary(chunks: list[bytes]) -> None:
    assert parse(chunks) == WIRE_EVENTS


def test_wire_sample_one_byte_at_a_time() -> None:
    assert parse([WIRE[i : i + 1] for i in range(len(WIRE))]) == WIRE_EVENTS


@settings(max_examples=600)
@given(st.data())
def test_any_chunking_gives_the_same_events(data: st.DataObject) -> None:
    stream = data.draw(
        st.lists(
            st.sampled_from([b"data: x", b"data:", b"\r", b"\n", b"\r\n", b": c", b"event: e", b"id: 1",
                             b"\xc3\xa9", b"\xff", b"\xef\xbb\xbf", b"retry: 9", b"data: {\"a\": 1}"]),
            max_size=40,
        ).map(b"".join)
    )  # fmt: skip
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert parse(chunks) == parse([stream])


@given(st.lists(st.text(), min_size=1, max_size=5), st.integers(1, 7))
def test_encode_then_parse_round_trip(payloads: list[str], size: int) -> None:
    # Line breaks inside data come back as \n: the wire cannot tell CR from LF.
    wire = b"".join(encode_event(p) for p in payloads)
    chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
    expected = [p.replace("\r\n", "\n").replace("\r", "\n") for p in payloads]
    assert [e.data for e in parse(chunks)] == expected


def test_encode_event_with_type_and_id() -> None:
    assert encode_event("a\nb", event="error", id="3") == b"event: error\nid: 3\ndata: a\ndata: b\n\n"


def test_a_long_event_in_many_chunks_is_joined_once() -> None:
    body = b"data: " + b"x" * 200_000 + b"\n\n"
    chunks = [body[i : i + 1500] for i in range(0, len(body), 1500)]
    assert parse(chunks) == [SSEEvent("x" * 200_000)]


# --- size limits: a server cannot fill memory with one line or one event ------------------


def feed_all(parser: SSEParser, chunks: list[bytes]) -> list[SSEEvent]:
    return [event for chunk in chunks for event in parser.feed(chunk)]


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ([b"data: " + b"x" * 100 for _ in range(20)], "one line of the stream is longer than 1000 bytes"),
        ([b"data: " + b"x" * 100 + b"\n" for _ in range(20)], "one event of the stream is larger than 1000 bytes"),
        ([b": " + b"c" * 2000], "one line of the stream is longer than 1000 bytes"),  # a comment is a line too
    ],
)
def test_a_line_or_event_over_the_limit_is_refused(chunks: list[bytes], message: str) -> None:
    parser = SSEParser(max_line=1000, max_event=1000)
    with pytest.raises(SSEOverflow, match=message):
        feed_all(parser, chunks)


def test_within_the_limits_nothing_is_refused() -> None:
    parser = SSEParser(max_line=1000, max_event=1000)
    event = b"data: " + b"x" * 900 + b"\n\n"
    keepalives = [b": k\n"] * 500  # comment lines, never part of an event's data: no limit on how many
    assert feed_all(parser, [event[:300], event[300:], *keepalives, event]) == [SSEEvent("x" * 900)] * 2


def test_many_events_in_a_row_never_add_up_to_the_limit() -> None:
    parser = SSEParser(max_line=1000, max_event=1000)
    chunk = b"data: 12345\n\n" * 50  # 650 bytes a chunk, events always ending
    assert len(feed_all(parser, [chunk] * 100)) == 5000
