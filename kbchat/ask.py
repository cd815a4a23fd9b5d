"""One question, streamed: client bytes → SSE events → KB events → renderer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

from kbchat.config import Settings
from kbchat.errors import Cancelled, KBChatError, StreamIncomplete, UsageError
from kbchat.events import Answer, KBEvent, NotJSON, Unknown, iter_events
from kbchat.render import Mode, Terminal, make_renderer, resolve_mode

Trace = Callable[[str], None]


def run_ask(
    question: str,
    settings: Settings,
    term: Terminal,
    mode: Mode,
    output: Path | None = None,
    verbose: bool = False,
    answer: Answer | None = None,
    markdown: bool = True,
) -> Answer:
    """Stream one answer to the terminal (and FILE); raise what went wrong after showing it.

    `answer`, when given, is filled as the stream arrives, so a caller keeps the
    partial text even when this raises.
    """
    from kbchat.client import KBClient

    trace = make_trace(term) if verbose else _quiet
    file = open_output(output) if output else None
    renderer = make_renderer(mode, term, markdown=markdown)
    client = KBClient(settings, trace=trace)
    events: Iterable[KBEvent] = note_skipped(
        iter_events(client.stream_chat(question, settings.request_filters())), trace
    )
    try:
        if file is not None:
            from kbchat.render.plain import copy_content

            events = copy_content(events, file)
        answer = renderer.render(events, answer)
    except KeyboardInterrupt:
        shown = resolve_mode(mode, term) is Mode.RICH and term.err_is_tty
        raise Cancelled(shown_on_screen=shown) from None
    finally:
        if file is not None:
            file.close()
    check_answer(answer)
    return answer


def check_answer(answer: Answer) -> None:
    """An answer with error events, or without [DONE], is a failure (after being shown)."""
    if answer.errors:
        raise KBChatError("; ".join(answer.errors) + ("" if answer.finished else " (and the stream ended early)"))
    if not answer.finished:
        raise StreamIncomplete()


def note_skipped(events: Iterable[KBEvent], trace: Trace) -> Iterator[KBEvent]:
    """Pass every event on; under --verbose, say which ones the answer skips."""
    for event in events:
        kind = type(event)
        if kind is NotJSON:
            trace(f"skipped data that is not JSON: {event.raw[:200]!r}")
        elif kind is Unknown:
            trace(f"skipped event of unknown kind {event.kind!r}")  # type: ignore[union-attr]
        yield event


def open_output(path: Path) -> TextIO:
    """Open -o FILE before anything is sent, so a bad path fails fast."""
    try:
        return path.open("w", encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None


def make_trace(term: Terminal) -> Trace:
    def trace(message: str) -> None:
        print(f"kbchat: {message}", file=term.err, flush=True)

    return trace


def _quiet(message: str) -> None:
    """--verbose is off."""
