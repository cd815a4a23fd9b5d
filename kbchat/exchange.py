"""One exchange: a question put to the knowledge base, its answer shown as it arrives.

    question → KB (client → sse → events) → renderer → terminal

This module only decides which events an exchange has: the answer's (streamed, or the
chat body at once), then its sources. The renderer draws them all, sources and notices
included, and returns the Answer; `outcome` says what that answer means for the exit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from kbchat.errors import BadResponse, KBChatError, StreamIncomplete
from kbchat.events import Answer, Content, Done, KBEvent, Notice, Pause, Sources
from kbchat.passages import from_chat_source, from_search_item
from kbchat.safe import one_line
from kbchat.terminal import in_background

if TYPE_CHECKING:
    from concurrent.futures import Future

    from kbchat.kb import KB
    from kbchat.render import Renderer

SOURCES_LIMIT = 5
CITE_LIMIT = 10  # passages --cite matches sentences against (bench/citations.py measured with 10)


@dataclass(frozen=True)
class Request:
    """What to ask, and which way."""

    text: str
    filters: dict[str, Any]
    no_stream: bool = False  # ask /v1/kb/chat: the whole answer at once, with its sources
    closest: bool = False  # while streaming, search for the closest passages beside it
    limit: int = SOURCES_LIMIT  # how many
    cite: bool = False  # the passages will be matched to the answer's sentences: their words are stemmed early
    wait: float = 60.0  # how long the answer's end waits for that search


def exchange(
    kb: KB,
    request: Request,
    renderer: Renderer,
    side: KB | None = None,
    copy_to: TextIO | None = None,
    answer: Answer | None = None,
) -> Answer:
    """Show one answer; the Answer says how it ended. `side` runs the closest-passages search."""
    answer = Answer() if answer is None else answer
    events = noted(answer_events(kb, request, side), answer)
    if copy_to is not None:
        events = copy_content(events, copy_to)
    return renderer.render(events, answer)


def noted(events: Iterable[KBEvent], answer: Answer) -> Iterator[KBEvent]:
    """Pass the events on, noting in the answer when its content began and ended, and its sources."""
    started = time.monotonic()
    try:
        for event in events:
            if answer.first_content_ms is None and isinstance(event, Content) and event.text:
                answer.first_content_ms = (time.monotonic() - started) * 1000
            elif isinstance(event, Sources):
                answer.sources.append(event)
            yield event
    finally:
        answer.duration_ms = (time.monotonic() - started) * 1000


def answer_events(kb: KB, request: Request, side: KB | None = None) -> Iterator[KBEvent]:
    """The answer's events, and its sources as soon as they are in (asked for when rendering starts, so a
    spinner shows): --cite marks the answer as it streams. Renderers list them after the answer."""
    if request.no_stream:
        yield from chat_events(kb.chat(request.text, request.filters), request.text)
        return
    closest = search_beside(side, request) if request.closest and side is not None else None
    for event in kb.stream_chat(request.text, request.filters):
        yield event
        if closest is not None and closest.done():
            yield closest_event(closest, request)
            closest = None
    if closest is not None:
        yield closest_event(closest, request)


def chat_events(body: dict[str, Any], query: str) -> Iterator[KBEvent]:
    """/v1/kb/chat's body as the events of an answer: its sources first (--cite marks the answer by them)."""
    text = body.get("answer")
    if not isinstance(text, str):
        raise BadResponse("the chat response has no answer")
    passages = tuple(from_chat_source(source) for source in _list(body.get("sources")))
    yield Sources("answer", query, passages, raw="")  # --json prints them with the body
    yield Content(text, json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    yield Done()


def search_beside(side: KB, request: Request) -> Future[dict[str, Any]]:
    """The stream carries no sources: search at the same moment, on its own connection.

    A daemon thread completes the future, so a search still waiting when the user leaves
    (Ctrl-C, an error) never holds the exit up.
    """
    from concurrent.futures import Future  # only with --sources: start-up does not pay for it

    future: Future[dict[str, Any]] = Future()

    def run() -> None:
        try:
            body = side.search(request.text, request.filters, request.limit)
        except BaseException as err:
            future.set_exception(err)
            return
        if request.cite:  # here, while the answer streams: the stemmer's import and the passages' words
            from kbchat.citing import Matcher

            Matcher([from_search_item(item) for item in _list(body.get("items"))])
        future.set_result(body)

    in_background(run, "kbchat-closest")
    return future


def closest_event(closest: Future[dict[str, Any]], request: Request) -> KBEvent:
    """The search's passages, or a notice that they could not be had (the answer's exit stands)."""
    try:
        body = closest.result(timeout=request.wait)
    except TimeoutError:
        return Notice(f"no closest passages: no answer within {request.wait:g} s")
    except KBChatError as err:
        return Notice(f"no closest passages: {one_line(str(err))}")
    passages = tuple(from_search_item(item) for item in _list(body.get("items")))
    raw = json.dumps({"event": "kbchat.sources", "data": body}, ensure_ascii=False)
    return Sources("search", request.text, passages, raw)


def copy_content(events: Iterable[KBEvent], file: TextIO) -> Iterator[KBEvent]:
    """Pass events on while writing their content to `file` (for -o FILE): the plain answer."""
    answer = Answer()
    try:
        for event in events:
            kind = type(event)
            if kind is Content:
                file.write(answer.apply(event))
            elif kind is Pause:
                file.flush()
            yield event
    finally:
        if answer.needs_newline:
            file.write("\n")
        file.flush()


def outcome(answer: Answer) -> KBChatError | None:
    """What went wrong with an answer that was shown: error events, or no [DONE]; None if nothing."""
    if answer.errors:
        return KBChatError("; ".join(answer.errors) + ("" if answer.finished else " (and the stream ended early)"))
    if not answer.finished:
        return StreamIncomplete()
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
