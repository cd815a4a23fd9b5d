"""Knowledge-base events: what each SSE event means for the answer, and what follows it. Pure.

Wire format (kbchat.wire, API.md section 7): `data: {"event": "message", "data":
{"content": "..."}}`, `{"event": "error", "data": {"message": "..."}}`, and a literal
`[DONE]` that ends it. After the answer an exchange may add its sources and notices:
they are events too, so that every renderer draws them its own way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from kbchat.errors import StreamTooLarge, format_detail
from kbchat.passages import Passage
from kbchat.sse import SSEEvent, SSEOverflow, SSEParser
from kbchat.wire import DONE, ERROR, MESSAGE

if TYPE_CHECKING:
    from kbchat.citing import Citations


class Content(NamedTuple):
    """The next piece of the answer, to be appended verbatim (leading spaces matter)."""

    text: str
    raw: str


class StreamError(NamedTuple):
    """The server reported an error inside the stream; reading goes on."""

    message: str
    raw: str


class Unknown(NamedTuple):
    """A JSON event of a kind kbchat does not know: skipped, but shown by --json."""

    kind: str
    raw: str


class NotJSON(NamedTuple):
    """Data that is neither JSON nor [DONE]: skipped (noted under --verbose)."""

    raw: str


class Done(NamedTuple):
    """The `[DONE]` marker: the answer is complete."""

    raw: str = "[DONE]"


class Pause(NamedTuple):
    """All that has arrived is out: the next event waits on the network. Renderers flush here."""


Origin = Literal["answer", "search"]
TITLES: dict[Origin, str] = {
    "answer": "Sources",
    "search": "Closest passages (a search for the same question, not the answer's own citations)",
}


class Sources(NamedTuple):
    """Passages to list under the answer: its own sources, or the closest passages of a search."""

    origin: Origin  # `answer`: /v1/kb/chat's own (--no-stream); `search`: a search beside the stream (--sources)
    query: str  # its words are highlighted in the snippets
    passages: tuple[Passage, ...]
    raw: str  # what --json prints; "" when the passages already went out with the answer

    @property
    def title(self) -> str:
        return TITLES[self.origin]


class Notice(NamedTuple):
    """A warning to show after the answer, on stderr (a side search that failed)."""

    text: str


PAUSE = Pause()

KBEvent = Content | StreamError | Unknown | NotJSON | Done | Pause | Sources | Notice

GENERIC_ERROR = "the server reported an error without a message"

# The overwhelmingly common event, in the compact or spaced form servers emit. A JSON
# string with no quote, backslash or control character means exactly its characters,
# so a match gives what json.loads would, at a fraction of its cost. Only for short
# events: on long ones the regex engine is slower than json's C scanner.
_FAST_PATH_LIMIT = 512
_PLAIN_MESSAGE = re.compile(
    r'\{\s*"event"\s*:\s*"message"\s*,\s*"data"\s*:\s*\{\s*"content"\s*:\s*"([^"\\\x00-\x1f]*)"\s*\}\s*\}'
)


def decode(event: SSEEvent) -> KBEvent:
    """Say what one SSE event means."""
    data = event.data
    if len(data) < _FAST_PATH_LIMIT:
        match = _PLAIN_MESSAGE.fullmatch(data)
        if match:
            return Content(match[1], data)
    if data.strip() == DONE:
        return Done(data)
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python can read
        return NotJSON(data)
    if not isinstance(obj, dict):
        return Unknown("", data)
    kind = obj.get("event")
    if not isinstance(kind, str):
        kind = event.event  # no `event` key: the SSE `event:` field names it (default message)
    payload = obj.get("data")
    if kind == MESSAGE:
        text = payload.get("content") if isinstance(payload, dict) else payload
        return Content(text, data) if isinstance(text, str) else Unknown(kind, data)
    if kind == ERROR:
        return StreamError(error_message(obj), data)
    return Unknown(kind, data)


def error_message(obj: dict[str, Any]) -> str:
    """The text of an error event: data.message, data.detail, data, then top-level keys."""
    payload = obj.get("data")
    candidates = []
    if isinstance(payload, dict):
        candidates += [payload.get("message"), payload.get("detail")]
    elif isinstance(payload, str):
        candidates.append(payload)
    candidates += [obj.get("message"), obj.get("detail")]
    for candidate in candidates:
        text = format_detail(candidate)
        if text:
            return text
    return GENERIC_ERROR


def iter_events(chunks: Iterable[bytes]) -> Iterator[KBEvent]:
    """Bytes in, KB events out, a Pause after each read's events; stops right after [DONE].

    Renderers write each Content at once and flush at each Pause: a read's events
    arrived together, so one flush for all of them is as early as one for each.
    """
    parser = SSEParser()
    try:
        for chunk in chunks:
            try:
                sse_events = parser.feed(chunk)
            except SSEOverflow as err:
                raise StreamTooLarge(f"{err}; kbchat stopped reading there") from None
            for sse_event in sse_events:
                kb_event = decode(sse_event)
                yield kb_event
                if type(kb_event) is Done:
                    return  # nothing after [DONE] is read
            if sse_events:
                yield PAUSE
        yield from map(decode, parser.close())
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


@dataclass
class Answer:
    """What a stream has produced so far: shared by every renderer.

    The text itself is kept only when asked (`keep_text`): plain output streams a
    50 MB answer through in constant memory.
    """

    keep_text: bool = False
    keep_limit: int = 4 << 20  # characters kept at most; past it the text is cut and `truncated` says so
    parts: list[str] = field(default_factory=list)
    chars: int = 0
    last_char: str = ""
    errors: list[str] = field(default_factory=list)
    finished: bool = False
    cancelled: bool = False
    truncated: bool = False
    # What the exchange notes for the answer log: the passages listed after the answer, and
    # the times from the question sent to the first content and to the end.
    sources: list[Sources] = field(default_factory=list)
    first_content_ms: float | None = None
    duration_ms: float | None = None
    citations: Citations | None = None  # --cite: its sentences matched to the passages (once it has ended)

    def apply(self, event: KBEvent) -> str:
        """Fold one event in; return the content it adds ("" for anything else)."""
        kind = type(event)
        if kind is Content:
            text = event.text  # type: ignore[union-attr]
            if text:
                if self.keep_text:
                    room = self.keep_limit - self.chars
                    if room > 0:
                        self.parts.append(text[:room])
                    self.truncated = self.truncated or len(text) > room
                self.chars += len(text)
                self.last_char = text[-1]
            return text
        if kind is StreamError:
            self.errors.append(event.message)  # type: ignore[union-attr]
        elif kind is Done:
            self.finished = True
        return ""

    @property
    def text(self) -> str:
        """The whole answer (only when `keep_text` was set)."""
        return "".join(self.parts)

    @property
    def needs_newline(self) -> bool:
        """True when output ends mid-line: the one `\\n` the contract adds at the end."""
        return bool(self.chars) and self.last_char != "\n"
