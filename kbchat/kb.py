"""What kbchat needs of a knowledge base, and the one that talks HTTP.

Commands and the chat receive a KB: HTTPKB in real use (kbchat.client), a fake in tests.
One is opened per command or chat session and its connection reused, question after
question; `--sources` opens a second one for the search that runs beside the stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from kbchat.trace import Trace, no_trace

if TYPE_CHECKING:
    from kbchat.events import KBEvent
    from kbchat.settings import Settings


class KB(Protocol):
    def stream_chat(self, query: str, filters: dict[str, Any]) -> Iterator[KBEvent]:
        """The answer's events as they arrive; the stream is closed when the iterator is."""
        ...

    def chat(self, query: str, filters: dict[str, Any]) -> dict[str, Any]:
        """The whole answer and its sources, `{"answer": ..., "sources": [...]}`."""
        ...

    def search(self, query: str, filters: dict[str, Any], limit: int = 10) -> dict[str, Any]:
        """The closest passages, `{"items": [...], "total_found": n}`."""
        ...

    def interrupt(self) -> None:
        """From another thread: end the request being read now, so that its reader returns at once."""
        ...

    def wake(self) -> None:
        """From another thread: end the body being read now, as interrupt does; later requests go on."""
        ...

    def close(self) -> None: ...


def connect(settings: Settings, trace: Trace = no_trace) -> KB:
    """The HTTP knowledge base for these settings (requests is imported only now)."""
    from kbchat.client import HTTPKB

    return HTTPKB(settings, trace)


class LaterKB:
    """A KB connected on first use: the chat's prompt shows before requests is even imported."""

    def __init__(self, settings: Settings, trace: Trace) -> None:
        self.settings = settings
        self.trace = trace
        self._kb: KB | None = None

    def __enter__(self) -> LaterKB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def kb(self) -> KB:
        if self._kb is None:
            self._kb = connect(self.settings, self.trace)
        return self._kb

    def stream_chat(self, query: str, filters: dict[str, Any]) -> Iterator[KBEvent]:
        return self.kb.stream_chat(query, filters)

    def chat(self, query: str, filters: dict[str, Any]) -> dict[str, Any]:
        return self.kb.chat(query, filters)

    def search(self, query: str, filters: dict[str, Any], limit: int = 10) -> dict[str, Any]:
        return self.kb.search(query, filters, limit)

    def interrupt(self) -> None:
        if self._kb is not None:
            self._kb.interrupt()

    def wake(self) -> None:
        if self._kb is not None:
            self._kb.wake()

    def close(self) -> None:
        if self._kb is not None:
            self._kb.close()
