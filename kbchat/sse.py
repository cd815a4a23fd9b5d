"""Incremental text/event-stream parser, and the matching encoder for our server.

Follows the HTML standard's "event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
bytes of any chunking in, whole events out, no I/O. Imports nothing from kbchat.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"


class SSEEvent(NamedTuple):
    """One dispatched event. A NamedTuple because parsers make millions of them."""

    data: str
    event: str = "message"  # the standard's default type when no `event:` line came
    id: str = ""  # the last event ID seen so far in the stream, as the standard keeps it


class SSEParser:
    """Incremental text/event-stream parser: feed any byte chunks, get whole events."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # bytes of a line whose end has not arrived yet
        self._skip_lf = False  # the last chunk ended in CR: a LF opening the next one ends nothing
        self._started = False  # a BOM is only stripped from the stream's first line
        self._data: list[str] = []
        self._event = ""
        self._last_id = ""
        self.retry: int | None = None  # reconnection time the server asked for, in ms

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Take the next bytes from the wire; return the events they complete."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if not end:
            if chunk:
                self._pending.append(chunk)
            return []
        complete, rest = chunk[:end], chunk[end:]
        if self._pending:
            # Join a long line's fragments once, when its end arrives: linear, not quadratic.
            self._pending.append(complete)
            complete = b"".join(self._pending)
            self._pending = []
        if rest:
            self._pending.append(rest)
        # A CR ends a line at once (no waiting to see whether LF follows); a LF that
        # does follow, in the next chunk, is the second half of a CRLF and is skipped.
        self._skip_lf = not rest and complete[-1] == 0x0D
        # CR and LF never occur inside a UTF-8 multibyte sequence, so decoding whole
        # lines keeps split characters intact; invalid bytes become U+FFFD.
        text = complete.decode("utf-8", "replace")
        lines = _LINE_BREAK.split(text) if "\r" in text else text.split("\n")
        lines.pop()  # the empty string after the final line break
        if not self._started:
            self._started = True
            if lines[0].startswith(_BOM):
                lines[0] = lines[0][1:]
        return self._lines(lines)

    def close(self) -> list[SSEEvent]:
        """End of stream: an unterminated line or event is discarded, as the standard says."""
        self._pending = []
        self._data = []
        self._event = ""
        return []

    def _lines(self, lines: list[str]) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        data = self._data
        for line in lines:
            if line[:6] == "data: ":  # by far the most common line: keep it first and cheap
                data.append(line[6:])
            elif not line:
                if data:
                    events.append(SSEEvent("\n".join(data), self._event or "message", self._last_id))
                    data.clear()
                self._event = ""
            elif line[0] != ":":  # a leading colon marks a comment (a keep-alive): ignored
                self._field(line)
        return events

    def _field(self, line: str) -> None:
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        # any other field name is ignored


def encode_event(data: str, event: str | None = None, id: str | None = None) -> bytes:
    """Serialise one event; multi-line data becomes one `data:` line per line."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    lines.extend(f"data: {part}" for part in _LINE_BREAK.split(data))
    return ("\n".join(lines) + "\n\n").encode("utf-8")
