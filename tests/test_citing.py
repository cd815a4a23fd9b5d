"""Matching an answer's sentences to passages (--cite), and the marks that show it. Pure."""

from __future__ import annotations

import json

import pytest

from kbchat.citing import (
    CLOSE,
    NOT_MARKS,
    OPEN,
    Citations,
    Cited,
    LiveMarks,
    Matcher,
    StoredMarks,
    cite,
    plain_lines,
    read_citations,
    with_marks,
)
from kbchat.passages import Passage
from kbchat.render.blocks import BlockSplitter
from kbchat.sentences import sentences
from tests.linearity import assert_linear


def passage(heading: str, text: str, location: str = "plans.md", id: str = "") -> Passage:
    return Passage(score=0.8, id=id or heading, document="", tags=(), text=text, title="Plans", heading=heading,
                   location=location)  # fmt: skip


PRICES = passage("Prices", "The Team plan costs $29 per user per month. Business costs $79 and adds SSO.")
TRIALS = passage("Trials", "Team and Business come with a 14-day free trial. No credit card is needed.")
SUPPORT = passage("Support", "Support answers by email within one business day on Team.", "support.md")
PASSAGES = [PRICES, TRIALS, SUPPORT]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Business is priced at $79 and includes SSO.", [0]),  # inflections, other words around the same terms
        ("Both Team and Business can be tried free for 14 days.", [1]),  # clauses turned around
        ("No credit card is required to start the trial.", [1]),
        ("Support replies by email within a business day.", [2]),
        ("The Enterprise plan includes a dedicated engineer.", []),  # the subject, not the claim
        ("Business costs $99 per user.", []),  # a number the passages do not hold weighs double
        ("Hope this helps!", []),
        ("Team", []),  # one term, however well it matches: a claim says something of something
        ("Team and Business come with a trial.", [1]),
    ],
)
def test_which_passages_support_a_sentence(sentence: str, expected: list[int]) -> None:
    assert Matcher(PASSAGES).supports(sentence) == expected


def test_a_sentence_may_rest_on_several_passages() -> None:
    twin = passage("Prices again", "Business costs $79 per user per month and adds SSO.")
    assert sorted(Matcher([PRICES, twin, TRIALS]).supports("Business costs $79 and adds SSO.")) == [0, 1]


def test_a_sentence_going_on_about_the_passage_before_it_needs_less() -> None:
    matcher = Matcher(PASSAGES)
    sentence = "It adds SSO, which admins switch on."  # a third of its weight: under the threshold
    assert matcher.supports(sentence) == []
    assert matcher.supports(sentence, previous=[0]) == [0]
    assert matcher.supports("Hope this helps!", previous=[0]) == []


def test_passages_are_numbered_in_the_order_the_answer_first_uses_them() -> None:
    text = "Support replies by email within a business day. Business is priced at $79 and includes SSO. " \
           "Support answers by email on Team."  # fmt: skip
    found = cite(text, PASSAGES)
    assert [text[c.start : c.end][:7] for c in found.sentences] == ["Support", "Busines", "Support"]
    assert [c.sources for c in found.sentences] == [(1,), (2,), (1,)]
    assert found.used == [SUPPORT, PRICES]
    assert found.tally() == "3 of 3 sentences matched"


def test_the_json_lists_every_sentence_and_only_the_passages_used() -> None:
    text = "Business is priced at $79 and includes SSO. Hope this helps!"
    data = cite(text, PASSAGES).as_json()
    assert data == {
        "sentences": [{"start": 0, "end": 43, "sources": [1]}, {"start": 44, "end": 60, "sources": []}],
        "sources": [{"n": 1, "title": "Plans", "heading": "Prices", "path": "plans.md", "url": None,
                     "id": "Prices", "score": 0.8}],
    }  # fmt: skip
    web = cite(text, [passage("Prices", PRICES.text, "https://docs.example/plans")]).as_json()
    assert (web["sources"][0]["url"], web["sources"][0]["path"]) == ("https://docs.example/plans", None)


def test_plain_lines_follow_the_contract() -> None:
    text = "Business is priced at $79 per user per month and includes SSO for every user of the workspace. No."
    assert list(plain_lines(text, cite(text, PASSAGES))) == [
        "",
        "Matched sources:",
        "[1] Plans › Prices (plans.md)",
        "[1] " + text[:80],
    ]


def test_no_passages_match_nothing() -> None:
    found = cite("Business is priced at $79.", [])
    assert (found.used, found.tally()) == ([], "0 of 1 sentences matched")


@pytest.mark.parametrize(
    "stored",
    [
        None,
        [],
        "x",
        {"sentences": "x"},
        {"sentences": [1, None, {"start": "0"}]},
        {"sentences": [{"start": 5, "end": 2, "sources": [1]}]},  # backwards
        {"sentences": [{"start": 0, "end": 10**9, "sources": [1]}]},  # past the answer
        {"sentences": [{"start": 0, "end": 4, "sources": [1, 7, "2", None]}], "sources": [{"title": 3}]},
        {"sentences": [{"start": 0, "end": 4, "sources": [1]}], "sources": [{"score": 10**400}]},
    ],
)
def test_citations_read_back_from_the_log_are_untrusted(stored: object) -> None:
    found = read_citations(stored, 10)
    if found is not None:
        assert all(0 <= c.start < c.end <= 10 for c in found.sentences)
        assert all(1 <= n <= len(found.used) for c in found.sentences for n in c.sources)
        assert all(p.score is None or p.score < float("inf") for p in found.used)


def test_citations_survive_the_log() -> None:
    text = "Business is priced at $79 and includes SSO. Hope this helps!"
    found = cite(text, PASSAGES)
    back = read_citations(json.loads(json.dumps(found.as_json())), len(text))
    assert back is not None and back.sentences == found.sentences
    assert [p.label for p in back.used] == [p.label for p in found.used]


def test_marks_go_after_their_sentences() -> None:
    assert with_marks("One. Two.", [(4, (1,)), (9, (1, 2))]) == f"One. {OPEN}1{CLOSE} Two. {OPEN}1,2{CLOSE}"
    assert with_marks("One.", [(4, ())]) == "One."
    assert "\ue000x\ue001".translate(NOT_MARKS) == "\ufffdx\ufffd"


def marked_as_drawn(marks: LiveMarks | StoredMarks, text: str, give_before: int = 0) -> str:
    """The answer's blocks marked as the live view draws them; the passages come before block `give_before`."""
    splitter = BlockSplitter(markdown=True)
    pieces = [*splitter.feed(text), splitter.last_piece()]
    drawn = []
    for i, piece in enumerate(pieces):
        if isinstance(marks, LiveMarks) and i == give_before:
            marks.give(PASSAGES)
        drawn.append(marks.marked(piece))
    return "\n\n".join(drawn)


ANSWER = "Support replies by email within a business day.\n\nBusiness is priced at $79 and includes SSO. Thanks!"


def test_live_marks_are_those_of_the_whole_answer() -> None:
    marks = LiveMarks()
    drawn = marked_as_drawn(marks, ANSWER)
    assert drawn == ANSWER.replace("day.", f"day. {OPEN}1{CLOSE}").replace("SSO.", f"SSO. {OPEN}2{CLOSE}")
    assert marks.citations() == cite(ANSWER, PASSAGES)


def test_blocks_drawn_before_the_passages_come_stay_unmarked_but_keep_their_numbers() -> None:
    marks = LiveMarks()
    drawn = marked_as_drawn(marks, ANSWER, give_before=1)
    assert f"day. {OPEN}" not in drawn and f"SSO. {OPEN}2{CLOSE}" in drawn
    assert marks.citations() == cite(ANSWER, PASSAGES)


def test_passages_that_never_come_give_no_citations() -> None:
    marks = LiveMarks()
    marks.marked(BlockSplitter().last_piece())
    assert marks.citations() is None


def test_stored_marks_draw_what_the_log_kept() -> None:
    first, second, third = sentences(ANSWER)
    stored = Citations([Cited(*first, (2,)), Cited(*second, ()), Cited(*third, (1,))], [])
    drawn = marked_as_drawn(StoredMarks(stored), ANSWER.replace("Thanks", "Done"))  # another text: not where kept
    assert drawn == ANSWER.replace("day.", f"day. {OPEN}2{CLOSE}").replace("Thanks!", "Done!")


def test_matching_is_linear_in_the_answer() -> None:
    assert_linear(lambda text: cite(text, PASSAGES), lambda n: "Business is priced at $79 and includes SSO. " * n,
                  500, "cite")  # fmt: skip
    assert_linear(lambda text: cite(text, PASSAGES), lambda n: "- " + "word " * (40 * n), 500, "one long item")
