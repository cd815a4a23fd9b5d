"""Pure parts of the local knowledge base: documents into passages, queries, answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbchat.server.documents import MAX_PASSAGE, Passage, parse_document, title_from_path
from kbchat.server.extract import compose_answer, pieces, quote
from kbchat.server.index import Hit, fts_query, score, tag_id


def test_header_lines_title_and_passages() -> None:
    doc = parse_document(
        "tags: Plans, Pricing, Plans\ncategory: Billing\n# Plans\n\nIntro para.\n\n## Team\nTeam costs $29.\n\nMore.\n",
        "fallback",
    )
    assert doc.tags == ("Plans", "Pricing")
    assert doc.category == "Billing"
    assert doc.title == "Plans"
    assert doc.passages == (Passage("Plans", "Intro para."), Passage("Team", "Team costs $29.\n\nMore."))


def test_no_heading_uses_the_file_name() -> None:
    doc = parse_document("just text", "Notes")
    assert doc.title == "Notes" and doc.passages == (Passage("", "just text"),)


def test_code_fences_keep_their_blank_lines_and_hashes() -> None:
    doc = parse_document("# T\n\n```sh\n# not a heading\n\necho hi\n```\n", "x")
    assert doc.passages == (Passage("T", "```sh\n# not a heading\n\necho hi\n```"),)


def test_long_sections_split_into_readable_passages() -> None:
    paragraph = "word " * 100
    doc = parse_document("# T\n\n" + "\n\n".join([paragraph] * 6), "x")
    assert len(doc.passages) > 1
    assert all(len(p.text) <= MAX_PASSAGE for p in doc.passages)


def test_crlf_files() -> None:
    assert parse_document("# A\r\n\r\nbody\r\n", "x").passages == (Passage("A", "body"),)


@pytest.mark.parametrize(("name", "title"), [("plans-and-pricing.md", "Plans and pricing"), ("faq.txt", "Faq")])
def test_title_from_path(name: str, title: str) -> None:
    assert title_from_path(name) == title


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("What does the premium plan include?", '"premium" OR "plan" OR "include"'),
        ("what is it", ""),
        ('say "hi" OR DROP', '"say" OR "hi" OR "drop"'),
        ("Preço café", '"preço" OR "café"'),
    ],
)
def test_fts_query(question: str, query: str) -> None:
    assert fts_query(question) == query


def test_score_is_between_0_and_1_and_grows_with_relevance() -> None:
    assert score(0.0) == 0.0
    assert 0 < score(-1.0) < score(-5.0) < score(-50.0) < 1


def test_tag_id() -> None:
    assert tag_id("Release notes") == "tag-release-notes"


def hit(text: str, score_: float, heading: str = "H") -> Hit:
    return Hit(id="i", score=score_, text=text, snippet="", heading=heading, title="Doc", path="doc.md",
               tenant="demo", elemental_id="e", item_id="i", category="", tags=())  # fmt: skip


def test_answer_quotes_close_matches_with_their_documents() -> None:
    answer = compose_answer("q", [hit("Best.", 0.9), hit("Close.", 0.8), hit("Weak.", 0.3)])
    assert (
        answer
        == "Here is what the knowledge base says:\n\n**Doc: H** (`doc.md`)\n\nBest.\n\n**Doc: H** (`doc.md`)\n\nClose."
    )


def test_answer_when_nothing_matches() -> None:
    assert compose_answer(" capital of france ", []).startswith(
        "Nothing in the knowledge base matches “capital of france”."
    )


def test_quote_cuts_long_passages_at_a_sentence() -> None:
    text = "First sentence is here. " * 50
    quoted = quote(text, 100)
    assert quoted.endswith(".") and len(quoted) <= 100


@given(st.text())
def test_pieces_join_back_exactly(text: str) -> None:
    assert "".join(pieces(text)) == text
