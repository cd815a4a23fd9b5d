"""`--cite` end to end: each output mode, the answer log, the chat's /cite, and a search that fails."""

from __future__ import annotations

import io
import json
import re

import pytest

from kbchat.citing import cite
from kbchat.errors import ConnectFailed
from kbchat.events import Content, Done, Sources
from kbchat.passages import from_search_item
from kbchat.render.rich import RichRenderer
from kbchat.terminal import Terminal
from tests.conftest import KEY, cli
from tests.fake_kb import FakeKB
from tests.test_render_rich import screen_of

CONN = ["--base-url", "https://kb.example", "--api-key", KEY, "--tenant", "acme"]


def item(id: str, heading: str, text: str) -> dict[str, object]:
    return {"id": id, "score": 0.9, "payload": {"original_text": text, "title": "Plans", "heading": heading,
                                               "document": "plans.md"}}  # fmt: skip


PRICES = item("p1", "Prices", "The Team plan costs $29 per user per month. Business costs $79 and adds SSO.")
TRIALS = item("p2", "Trials", "Team and Business come with a 14-day free trial. No credit card is needed.")
SEARCH = {"items": [PRICES, TRIALS], "total_found": 2}
ANSWER = "Both plans can be tried for 14 days, free.\n\nBusiness is priced at $79 and adds SSO. Enjoy!"
PLAIN_CITED = (
    f"{ANSWER}\n\nMatched sources:\n[1] Plans › Trials (plans.md)\n[2] Plans › Prices (plans.md)\n"
    "[1] Both plans can be tried for 14 days, free.\n[2] Business is priced at $79 and adds SSO.\n"
)


@pytest.fixture
def cited_kb(fake_kb: FakeKB) -> FakeKB:
    fake_kb.answers.append(re.findall(r"\S+\s*|\s+", ANSWER))
    fake_kb.search_bodies.append(SEARCH)
    return fake_kb


def test_plain_is_the_answer_as_received_then_the_matched_sources(cited_kb: FakeKB) -> None:
    result = cli("ask", *CONN, "--cite", "what do plans cost?")
    assert (result.returncode, result.stdout, result.stderr) == (0, PLAIN_CITED, "")
    assert cited_kb.limits == [10]  # one search, of the 10 closest passages


def test_json_adds_one_line_of_citations_and_no_sources_unless_asked(cited_kb: FakeKB) -> None:
    result = cli("ask", *CONN, "--cite", "--json", "what do plans cost?")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("event") for line in lines[-2:]] == ["message", "kbchat.citations"]
    data = lines[-1]["data"]
    assert [ANSWER[s["start"] : s["end"]] for s in data["sentences"]] == [
        "Both plans can be tried for 14 days, free.", "Business is priced at $79 and adds SSO.", "Enjoy!"]  # fmt: skip
    assert [s["sources"] for s in data["sentences"]] == [[1], [2], []]
    assert data["sources"] == [
        {"n": 1, "title": "Plans", "heading": "Trials", "path": "plans.md", "url": None, "id": "p2", "score": 0.9},
        {"n": 2, "title": "Plans", "heading": "Prices", "path": "plans.md", "url": None, "id": "p1", "score": 0.9},
    ]


def test_json_with_sources_too_lists_them_before_the_citations(cited_kb: FakeKB) -> None:
    result = cli("ask", *CONN, "--cite", "--sources", "--json", "what do plans cost?")
    events = [json.loads(line).get("event") for line in result.stdout.splitlines()]
    assert events[-2:] == ["kbchat.sources", "kbchat.citations"] and events.count("kbchat.sources") == 1


def test_a_search_that_fails_costs_only_the_citations(fake_kb: FakeKB) -> None:
    fake_kb.answers.append([ANSWER])
    fake_kb.search_bodies.append(ConnectFailed("cannot connect to kb.example:443: connection refused"))
    result = cli("ask", *CONN, "--cite", "q")
    assert (result.returncode, result.stdout) == (0, ANSWER + "\n")
    assert (
        result.stderr == "kbchat: warning: no closest passages: cannot connect to kb.example:443: connection refused\n"
    )


def test_the_log_keeps_the_citations(cited_kb: FakeKB) -> None:
    assert cli("ask", *CONN, "--cite", "what do plans cost?").returncode == 0
    entry = json.loads(cli("log", "--json").stdout)
    assert entry["citations"] == cite(ANSWER, [from_search_item(PRICES), from_search_item(TRIALS)]).as_json()
    assert entry["sources"] == []  # the search was --cite's, not --sources'
    assert cli("log", "show", "last").stdout == PLAIN_CITED


def test_without_cite_nothing_is_searched_or_kept(fake_kb: FakeKB) -> None:
    fake_kb.answers.append([ANSWER])
    assert cli("ask", *CONN, "q").stdout == ANSWER + "\n"
    assert fake_kb.limits == [] and json.loads(cli("log", "--json").stdout)["citations"] is None


def test_cite_true_in_the_profile_cites_every_answer(cited_kb: FakeKB) -> None:
    assert cli("config", "set", "cite", "true").returncode == 0
    assert cli("ask", *CONN, "what do plans cost?").stdout == PLAIN_CITED
    assert "cite" in cli("config", "show").stdout


def test_code_mode_shows_code_only(cited_kb: FakeKB) -> None:
    result = cli("ask", *CONN, "--cite", "--code", "q")
    assert "Matched sources" not in result.stdout and cited_kb.limits == []


def rich(*events: object, markdown: bool = True, sources: bool = False) -> list[str]:
    term = Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=True)
    RichRenderer(term, markdown=markdown, sources=sources, cite=True).render(events)  # type: ignore[arg-type]
    return [line for line in screen_of(term.out.getvalue(), columns=80) if line]


PASSAGES = (from_search_item(PRICES), from_search_item(TRIALS))
FOUND = Sources("search", "q", PASSAGES, raw="{}")


SCREEN = [  # the answer marked as a terminal shows it, then the passages used
    "Both plans can be tried for 14 days, free. [1]",
    "Business is priced at $79 and adds SSO. [2] Enjoy!",
    "Matched sources",
    "[1] Plans › Trials (plans.md)",
    "[2] Plans › Prices (plans.md)",
    "2 of 3 sentences matched",
]


def test_rich_marks_each_supported_sentence_then_lists_the_passages_used() -> None:
    assert rich(FOUND, Content(ANSWER, ""), Done()) == SCREEN


def test_rich_draws_marks_dim_and_never_takes_the_servers_text_for_one() -> None:
    term = Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=True)
    RichRenderer(term, cite=True).render([FOUND, Content("Odd \ue0001\ue001 text. " + ANSWER, ""), Done()])
    raw = term.out.getvalue()
    assert "\x1b[2m[1]" in raw and "\ue000" not in raw and "\ue001" not in raw
    assert "Odd \ufffd1\ufffd text." in screen_of(raw, columns=120)[0]


def test_rich_lists_the_closest_passages_only_when_asked() -> None:
    assert not any("Closest passages" in line for line in rich(FOUND, Content(ANSWER, ""), Done()))
    assert any("Closest passages" in line for line in rich(FOUND, Content(ANSWER, ""), Done(), sources=True))


def test_literal_text_gets_no_marks_but_the_list() -> None:
    lines = rich(FOUND, Content(ANSWER, ""), Done(), markdown=False)
    assert lines[:2] == ["Both plans can be tried for 14 days, free.", "Business is priced at $79 and adds SSO. Enjoy!"]
    assert "2 of 3 sentences matched" in lines


def test_log_show_draws_the_kept_marks(cited_kb: FakeKB, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from kbchat.answer_log import AnswerLog, log_path
    from kbchat.render.entries import entry_shown

    assert cli("ask", *CONN, "--cite", "what do plans cost?").returncode == 0
    with AnswerLog.open(log_path(os.environ)) as answer_log:
        entry = answer_log.last()
    assert entry is not None
    term = Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=True)
    lines = [line for line in screen_of(entry_shown(entry, term), columns=80) if line]
    assert lines[2:] == SCREEN


def test_the_chat_turns_cite_on_and_shows_it_in_the_prompt(cited_kb: FakeKB) -> None:
    from kbchat.repl import prompt_label
    from tests.test_repl import Chat, run

    chat = Chat(re.findall(r"\S+\s*|\s+", ANSWER))
    chat.kb.search_bodies.append(SEARCH)
    assert prompt_label(chat.session) == "acme"
    run(chat.session, "/cite on", "what do plans cost?")
    assert prompt_label(chat.session) == "acme [cite]"
    assert "Matched sources:" in chat.session.term.out.getvalue()  # type: ignore[attr-defined]
    run(chat.session, "/cite off")
    assert prompt_label(chat.session) == "acme"


def test_finished_blocks_wait_a_moment_for_the_passages_then_go_unmarked() -> None:
    """The live view holds blocks for late passages (HOLD), showing them live; past it, they are drawn plain."""
    from rich.console import Console

    from kbchat.citing import LiveMarks
    from kbchat.render.live import HOLD, LiveView

    now = [0.0]
    marks = LiveMarks()
    out = io.StringIO()
    view = LiveView(Console(file=out, force_terminal=True, width=80, height=24), True, lambda: now[0], marks=marks)
    view.start(drawing_thread=False)
    view.append("Both plans can be tried for 14 days, free.\n\n")
    view.draw()
    assert view.blocks_printed == 0  # held: shown in the live region only
    marks.give(PASSAGES)
    view.append("Business is priced at $79 and adds SSO.\n\nMore")
    view.draw()
    assert view.blocks_printed == 2
    view.stop()
    assert "free. [1]" in screen_of(out.getvalue(), columns=80)[0]
    late = LiveMarks()
    view = LiveView(Console(file=io.StringIO(), force_terminal=True, width=80, height=24), True, lambda: now[0],
                    marks=late)  # fmt: skip
    view.start(drawing_thread=False)
    view.append("Both plans can be tried for 14 days, free.\n\nMore")
    now[0] += HOLD
    view.draw()
    assert view.blocks_printed == 1  # the passages never came in time
    view.stop()
    assert late.citations() is None


@pytest.mark.parametrize("text", [ANSWER, ANSWER.replace("\n", "\r\n"), "\x1b[31m" + ANSWER])
def test_rich_keeps_offsets_into_the_answer_as_received(text: str) -> None:
    """The live marks' own record when the screen's text is the answer's; matched again when it is not (CRs)."""
    from kbchat.events import Answer

    term = Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=True)
    answer = RichRenderer(term, cite=True).render([FOUND, Content(text, ""), Done()], Answer(keep_text=True))
    assert answer.citations is not None and answer.citations == cite(text, PASSAGES)
    assert [text[c.start : c.end][-4:] for c in answer.citations.sentences] == ["ree.", "SSO.", "joy!"]


def test_a_hostile_server_cannot_reach_the_terminal_or_stall_the_matching() -> None:
    """Escapes in a passage's names are shown, not obeyed; 5,000 passages where 10 were asked cost 20."""
    hostile = {"id": "x", "score": 0.9, "payload": {"original_text": TRIALS["payload"]["original_text"],  # type: ignore[index]
               "title": "Plans\x1b]0;pwned\x07", "heading": "Trials\x1b[2J", "document": "plans.md"}}  # fmt: skip
    filler = [item(f"f{i}", "Other", f"Unrelated note number {i} on weather.") for i in range(5000)]
    many = Sources("search", "q", tuple(map(from_search_item, [hostile, *filler])), raw="{}")
    term = Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=True)
    RichRenderer(term, cite=True).render([many, Content(ANSWER, ""), Done()])
    raw = term.out.getvalue()
    assert "\x1b]0;" not in raw and "\x1b[2J" not in raw
    assert "[1] Plans␛]0;pwned␇ › Trials␛[2J (plans.md)" in screen_of(raw, columns=120)
