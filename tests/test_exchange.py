"""One exchange, with a fake knowledge base: which events an answer has, and what the commands make of them.

No server and no process: `fake_kb` stands in for every KB a command opens, and `cli()`
runs the real entry point in this process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from kbchat.errors import ConnectFailed
from kbchat.events import Content, Done, KBEvent, Notice, Sources
from kbchat.exchange import Request, answer_events
from tests.conftest import KEY, cli
from tests.fake_kb import NO_DONE, FakeKB, error

CONN = ["--base-url", "https://kb.example", "--api-key", KEY, "--tenant", "acme"]
HIT = {"id": "1", "score": 0.91, "payload": {"original_text": "The Team plan costs $29.", "title": "Plans",
                                            "heading": "Team", "document": "plans.md"}}  # fmt: skip


def kinds(events: list[object]) -> list[str]:
    return [type(event).__name__ for event in events]


# --- the events of an answer ----------------------------------------------------------------


def test_a_streamed_answer_is_the_streams_events() -> None:
    kb = FakeKB(["Plans ", "start at $9."])
    events = list(answer_events(kb, Request("q", {"tenant_id": "acme"})))
    assert kinds(events) == ["Content", "Content", "Done"]
    assert kb.asked == [("q", {"tenant_id": "acme"})]


def test_the_chat_body_is_its_sources_then_the_answer() -> None:
    """The sources first, so that --cite can mark the answer as it is drawn; every renderer lists them after it."""
    kb = FakeKB()
    kb.chat_bodies.append({"answer": "Team costs $29.", "sources": [{"id": "s1", "score": 0.8, "text": "Team: $29"}]})
    events = list(answer_events(kb, Request("q", {"tenant_id": "acme"}, no_stream=True)))
    assert kinds(events) == ["Sources", "Content", "Done"]
    assert isinstance(events[1], Content) and events[1].text == "Team costs $29."
    assert json.loads(events[1].raw) == {
        "answer": "Team costs $29.",
        "sources": [{"id": "s1", "score": 0.8, "text": "Team: $29"}],
    }
    sources = events[0]
    assert isinstance(sources, Sources) and sources.origin == "answer" and sources.raw == ""
    assert sources.passages[0].text == "Team: $29"


def test_the_closest_passages_come_from_the_side_kb_once() -> None:
    kb, side = FakeKB(["The answer."]), FakeKB()
    side.search_bodies.append({"items": [HIT], "total_found": 1})
    events = list(answer_events(kb, Request("q", {"tenant_id": "acme"}, closest=True, limit=10), side))
    assert [kind for kind in kinds(events) if kind != "Sources"] == ["Content", "Done"]
    assert kinds(events).count("Sources") == 1 and kinds(events)[0] == "Content"
    sources = next(event for event in events if isinstance(event, Sources))
    assert isinstance(sources, Sources) and sources.origin == "search"
    assert json.loads(sources.raw) == {"event": "kbchat.sources", "data": {"items": [HIT], "total_found": 1}}
    assert side.asked == [("q", {"tenant_id": "acme"})] and kb.asked == [("q", {"tenant_id": "acme"})]


def answer_with_search(monkeypatch: pytest.MonkeyPatch, search: Future[dict[str, Any]],
                       stream: Iterator[KBEvent]) -> list[KBEvent]:  # fmt: skip
    monkeypatch.setattr("kbchat.exchange.search_beside", lambda side, request: search)
    kb = FakeKB()
    kb.stream_chat = lambda text, filters: stream  # type: ignore[method-assign]
    return list(answer_events(kb, Request("q", {"tenant_id": "acme"}, closest=True), FakeKB()))


def test_passages_in_before_the_answer_ends_come_between_its_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """--cite marks the answer by them as it streams."""
    search: Future[dict[str, Any]] = Future()
    search.set_result({"items": [HIT], "total_found": 1})
    events = answer_with_search(monkeypatch, search, iter([Content("A", ""), Content("B", ""), Done()]))
    assert kinds(events) == ["Content", "Sources", "Content", "Done"]


def test_passages_still_coming_when_the_answer_ends_are_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    search: Future[dict[str, Any]] = Future()

    def stream() -> Iterator[KBEvent]:
        yield Content("A", "")
        yield Done()
        search.set_result({"items": [HIT], "total_found": 1})  # as the stream's last read returns

    assert kinds(answer_with_search(monkeypatch, search, stream())) == ["Content", "Done", "Sources"]


def test_a_failed_side_search_is_a_notice_not_the_answers_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    search: Future[dict[str, Any]] = Future()
    search.set_exception(ConnectFailed("cannot connect to kb.example:443: connection refused"))
    events = answer_with_search(monkeypatch, search, iter([Content("A", ""), Done()]))
    assert Notice("no closest passages: cannot connect to kb.example:443: connection refused") in events
    assert kinds(events).count("Done") == 1 and not any(isinstance(event, Sources) for event in events)


# --- what the commands make of them ----------------------------------------------------------


def test_ask_opens_one_kb_and_closes_it(fake_kb: FakeKB) -> None:
    fake_kb.answers.append(["Plans ", "start at $9."])
    result = cli("ask", *CONN, "what", "are", "plans?")
    assert (result.returncode, result.stdout, result.stderr) == (0, "Plans start at $9.\n", "")
    assert (fake_kb.opened, fake_kb.closed) == (1, 1)
    assert fake_kb.asked == [("what are plans?", {"tenant_id": "acme"})]


def test_sources_open_a_second_kb_for_the_search(fake_kb: FakeKB) -> None:
    fake_kb.answers.append(["The answer."])
    fake_kb.search_bodies.append({"items": [HIT], "total_found": 1})
    result = cli("ask", *CONN, "--sources", "q")
    assert result.returncode == 0 and (fake_kb.opened, fake_kb.closed) == (2, 2)
    assert result.stdout.startswith("The answer.\n\nClosest passages")
    assert "0.91  Plans › Team (plans.md)  The Team plan costs $29." in result.stdout


def test_a_failed_side_search_is_one_warning(fake_kb: FakeKB) -> None:
    fake_kb.answers.append(["The answer."])
    fake_kb.search_bodies.append(ConnectFailed("cannot connect to kb.example:443: connection refused"))
    result = cli("ask", *CONN, "--sources", "q")
    assert (result.returncode, result.stdout) == (0, "The answer.\n")
    assert (
        result.stderr == "kbchat: warning: no closest passages: cannot connect to kb.example:443: connection refused\n"
    )


def test_ctrl_c_keeps_the_partial_answer_and_exits_130(fake_kb: FakeKB) -> None:
    fake_kb.answers.append(["Half of ", "the answer", KeyboardInterrupt()])
    result = cli("ask", *CONN, "q")
    assert (result.returncode, result.stdout, result.stderr) == (130, "Half of the answer\n", "kbchat: cancelled\n")
    assert fake_kb.closed == 1


def test_error_events_are_reported_after_the_answer(fake_kb: FakeKB) -> None:
    fake_kb.answers.append(["partial", error("model overloaded"), " more"])
    result = cli("ask", *CONN, "q")
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "partial more\n",
        "kbchat: error: model overloaded\n",
    )


def test_no_done_is_an_incomplete_answer(fake_kb: FakeKB) -> None:
    fake_kb.answers.append(["cut off", NO_DONE])
    result = cli("ask", *CONN, "q")
    assert (result.returncode, result.stdout) == (1, "cut off\n")
    assert result.stderr == "kbchat: error: the stream ended before the answer was complete\n"


def test_output_file_gets_the_plain_answer_whatever_the_mode(fake_kb: FakeKB, tmp_path: Path) -> None:
    fake_kb.answers.append(["saved ", "answer"])
    out = tmp_path / "answer.txt"
    result = cli("ask", *CONN, "--json", "-o", str(out), "q")
    assert out.read_text() == "saved answer\n" and result.stdout.count("\n") == 2


def test_a_piped_chat_opens_one_kb_for_all_its_questions(fake_kb: FakeKB) -> None:
    result = cli("chat", *CONN, input="first\nsecond\n/tenant globex\nthird\n")
    assert result.returncode == 0
    assert result.stdout == "answer to first\n\nanswer to second\n\nanswer to third\n"
    assert (fake_kb.opened, fake_kb.closed) == (1, 1)
    assert [filters["tenant_id"] for _, filters in fake_kb.asked] == ["acme", "acme", "globex"]


def test_a_chat_that_asks_nothing_never_connects(fake_kb: FakeKB) -> None:
    assert cli("chat", *CONN, input="/filters\n").returncode == 0
    assert fake_kb.opened == 0


@pytest.mark.parametrize("no_stream", [False, True])
def test_json_lines_are_the_payloads(fake_kb: FakeKB, no_stream: bool) -> None:
    fake_kb.answers.append(["a", "b"])
    fake_kb.chat_bodies.append({"answer": "ab", "sources": []})
    result = cli("ask", *CONN, "--json", *(["--no-stream"] if no_stream else []), "q")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    if no_stream:
        assert lines == [{"answer": "ab", "sources": []}]
    else:
        assert [line["data"]["content"] for line in lines] == ["a", "b"]


@pytest.mark.parametrize(
    ("payload", "label"),
    [
        ({"title": "Plans", "heading": "Team", "path": "plans.md"}, "Plans › Team (plans.md)"),
        ({"title": "Billing", "heading": "Billing", "document": "billing.md"}, "Billing (billing.md)"),
        ({"snack_elemental_id": "doc-1"}, "doc-1"),
    ],
)
def test_a_source_is_named_title_heading_and_path_once_each(payload: dict[str, str], label: str) -> None:
    from kbchat.passages import from_search_item

    assert from_search_item({"score": 0.5, "payload": payload}).label == label
