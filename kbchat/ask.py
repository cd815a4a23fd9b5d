"""One question, streamed: client bytes → SSE events → KB events → renderer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kbchat.config import Settings
from kbchat.errors import BadResponse, Cancelled, KBChatError, StreamIncomplete, UsageError
from kbchat.events import Answer, Content, Done, KBEvent, NotJSON, Unknown, iter_events
from kbchat.passages import Passage, from_chat_source, from_search_item
from kbchat.render import Mode, Terminal, make_renderer, resolve_mode
from kbchat.safe import json_safe, one_line, terminal_safe
from kbchat.trace import Trace, make_trace

if TYPE_CHECKING:
    from kbchat.client import KBClient


def run_ask(
    question: str,
    settings: Settings,
    term: Terminal,
    mode: Mode,
    output: Path | None = None,
    verbose: bool = False,
    answer: Answer | None = None,
    markdown: bool = True,
    no_stream: bool = False,
    sources: bool = False,
) -> Answer:
    """Stream one answer to the terminal (and FILE); raise what went wrong after showing it.

    `answer`, when given, is filled as the stream arrives, so a caller keeps the
    partial text even when this raises. `no_stream` asks /v1/kb/chat instead and
    shows its sources; `sources` lists the closest passages under a streamed answer.
    """
    from kbchat.client import KBClient

    trace = make_trace(term.err, verbose)
    mode = resolve_mode(mode, term)
    file = open_output(output) if output else None
    renderer = make_renderer(mode, term, markdown=markdown)
    client = KBClient(settings, trace=trace)
    filters = settings.request_filters()
    chat_body: list[dict[str, Any]] = []
    closest: Background | None = None
    events: Iterable[KBEvent]
    if no_stream:
        events = chat_events(client, question, filters, chat_body)
    else:
        if sources:  # the stream carries no sources: search at the same time, never before it
            closest = Background(lambda: KBClient(settings, trace=trace).search(question, filters, SOURCES_LIMIT))
        events = note_skipped(iter_events(client.stream_chat(question, filters)), trace)
    try:
        if file is not None:
            from kbchat.render.plain import copy_content

            events = copy_content(events, file)
        answer = renderer.render(events, answer)
    except KeyboardInterrupt:
        raise Cancelled(shown_on_screen=mode is Mode.RICH and term.err_is_tty) from None
    finally:
        if file is not None:
            file.close()
    check_answer(answer)
    if chat_body and mode is not Mode.JSON and (sources or mode is Mode.RICH):
        passages = [from_chat_source(s) for s in _list(chat_body[0].get("sources"))]
        show_passages(term, mode, passages, question, "Sources")
    if closest is not None:
        show_closest(term, mode, closest, settings.timeout, question)
    return answer


SOURCES_LIMIT = 5
CLOSEST = "Closest passages (a search for the same question, not the answer's own citations)"


def chat_events(
    client: KBClient, question: str, filters: dict[str, Any], body: list[dict[str, Any]]
) -> Iterator[KBEvent]:
    """/v1/kb/chat as events, asked when rendering starts (so the spinner shows meanwhile)."""
    response = client.chat(question, filters)
    text = response.get("answer")
    if not isinstance(text, str):
        raise BadResponse("the chat response has no answer")
    body.append(response)
    yield Content(text, json.dumps(response, ensure_ascii=False, separators=(",", ":")))
    yield Done()


def show_passages(term: Terminal, mode: Mode, passages: list[Passage], question: str, title: str) -> None:
    if mode is Mode.RICH:
        from kbchat.render.table import print_passages

        print_passages(term, passages, question, title)
    else:
        from kbchat.render.table import plain_passages

        text = plain_passages(passages, question, title)
        term.out.write(terminal_safe(text) if term.is_tty else text)
        term.out.flush()


def show_closest(term: Terminal, mode: Mode, closest: Background, timeout: float, question: str) -> None:
    """The search that ran beside the stream; its failure is a warning, not the answer's."""
    try:
        body = closest.result(timeout)
    except KBChatError as err:
        print(f"kbchat: warning: no closest passages: {one_line(str(err))}", file=term.err, flush=True)
        return
    if mode is Mode.JSON:
        line = json.dumps({"event": "kbchat.sources", "data": body}, ensure_ascii=False)
        term.out.write((json_safe(line) if term.is_tty else line) + "\n")
        term.out.flush()
        return
    passages = [from_search_item(item) for item in _list(body.get("items"))]
    show_passages(term, mode, passages, question, CLOSEST)


class Background:
    """A call run in a daemon thread; result() waits for it and re-raises its error."""

    def __init__(self, call: Callable[[], dict[str, Any]]) -> None:
        self._value: dict[str, Any] = {}
        self._error: KBChatError | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], dict[str, Any]]) -> None:
        try:
            self._value = call()
        except KBChatError as err:
            self._error = err

    def result(self, timeout: float) -> dict[str, Any]:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise KBChatError(f"no answer within {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._value


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def check_answer(answer: Answer) -> None:
    """An answer with error events, or without [DONE], is a failure (after being shown)."""
    if answer.errors:
        raise KBChatError("; ".join(answer.errors) + ("" if answer.finished else " (and the stream ended early)"))
    if not answer.finished:
        raise StreamIncomplete()


def note_skipped(events: Iterable[KBEvent], trace: Trace) -> Iterator[KBEvent]:
    """Pass every event on; under --verbose, say which ones the answer skips."""
    for event in events:
        if isinstance(event, NotJSON):
            trace(f"skipped data that is not JSON: {event.raw[:200]!r}")
        elif isinstance(event, Unknown):
            trace(f"skipped event of unknown kind {event.kind!r}")
        yield event


def open_output(path: Path) -> TextIO:
    """Open -o FILE before anything is sent, so a bad path fails fast."""
    try:
        return path.open("w", encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
