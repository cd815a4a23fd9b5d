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
MAX_LINE = 16 << 20  # bytes of one line; a server that never ends one cannot fill memory
MAX_EVENT = 16 << 20  # bytes of one event's lines; nor can one that never ends an event


class SSEOverflow(ValueError):
    """A line or an event is larger than the parser holds; the stream cannot go on."""


class SSEEvent(NamedTuple):
    """One dispatched event. A NamedTuple because parsers make millions of them."""

    data: str
    event: str = "message"  # the standard's default type when no `event:` line came
    id: str = ""  # the last event ID seen so far in the stream, as the standard keeps it


class SSEParser:
    """Incremental text/event-stream parser: feed any byte chunks, get whole events."""

    def __init__(self, max_line: int = MAX_LINE, max_event: int = MAX_EVENT) -> None:
        self.max_line = max_line
        self.max_event = max_event
        self._pending: list[bytes] = []  # bytes of a line whose end has not arrived yet
        self._pending_size = 0
        self._open_size = 0  # bytes fed into the event now open (exact to within one chunk)
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
                self._hold(chunk)
            return []
        complete, rest = chunk[:end], chunk[end:]
        if self._pending:
            # Join a long line's fragments once, when its end arrives: linear, not quadratic.
            self._pending.append(complete)
            complete = b"".join(self._pending)
            self._pending = []
            self._pending_size = 0
        if rest:
            self._hold(rest)
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
        events = self._lines(lines)
        if not self._data or events:  # an event ended in this chunk: the open one began in it
            self._open_size = 0
        else:
            self._open_size += len(complete)
            if self._open_size > self.max_event:
                self.close()
                raise SSEOverflow(f"one event of the stream is larger than {_mib(self.max_event)}")
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: an unterminated line or event is discarded, as the standard says."""
        self._pending = []
        self._pending_size = self._open_size = 0
        self._data = []
        self._event = ""
        return []

    def _hold(self, part: bytes) -> None:
        """Keep the start of a line until its end arrives; refuse a line that never ends."""
        self._pending.append(part)
        self._pending_size += len(part)
        if self._pending_size > self.max_line:
            self.close()
            raise SSEOverflow(f"one line of the stream is longer than {_mib(self.max_line)}")

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


def _mib(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size} bytes"


def encode_event(data: str, event: str | None = None, id: str | None = None) -> bytes:
    """Serialise one event; multi-line data becomes one `data:` line per line."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    lines.extend(f"data: {part}" for part in _LINE_BREAK.split(data))
    return ("\n".join(lines) + "\n\n").encode("utf-8")
