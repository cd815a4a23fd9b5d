"""Pure parts of the local knowledge base: documents into passages, words into terms, ranking, answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbchat import terms
from kbchat.fences import left_open
from kbchat.server.documents import MAX_PASSAGE, Section, listing_share, parse_document, title_from_path
from kbchat.server.extract import code_span, compose_answer, leading, pieces, quote
from kbchat.server.query import Hit, tag_id
from kbchat.server.ranking import Candidate, Ranking, Want, bm25f, idf, rank, weigh

# --- documents -------------------------------------------------------------------------------


def test_header_lines_title_and_passages() -> None:
    doc = parse_document(
        "tags: Plans, Pricing, Plans\ncategory: Billing\n# Plans\n\nIntro para.\n\n## Team\nTeam costs $29.\n\nMore.\n",
        "fallback",
    )
    assert doc.tags == ("Plans", "Pricing")
    assert doc.category == "Billing"
    assert doc.title == "Plans"
    assert doc.passages == (Section("Plans", "Intro para."), Section("Team", "Team costs $29.\n\nMore."))


def test_front_matter_sets_title_description_tags_and_category() -> None:
    doc = parse_document(
        '---\ntitle: "npm-uninstall"\nsection: 1\ndescription: Remove a package\ntags:\n  - CLI\n  - Packages\n'
        "category: Commands\n---\n\n### Synopsis\n\nnpm uninstall <pkg>\n",
        "fallback",
    )
    assert (doc.title, doc.description, doc.tags, doc.category) == (
        "npm-uninstall", "Remove a package", ("CLI", "Packages"), "Commands",
    )  # fmt: skip
    assert doc.passages == (Section("Synopsis", "npm uninstall <pkg>"),)
    assert parse_document("---\ntags: [a, b]\n---\ntext", "f").tags == ("a", "b")


def test_a_rule_without_an_end_is_not_front_matter() -> None:
    doc = parse_document("---\ntitle: x\n\nJust text after a rule.\n", "Notes")
    assert doc.title == "Notes" and "Just text after a rule." in doc.passages[-1].text


def test_html_comments_are_dropped_outside_code() -> None:
    doc = parse_document("# T\n\n<!-- YAML\nadded: v1 -->\nReads a file.\n\n```html\n<!-- kept -->\n```\n", "x")
    assert doc.passages == (Section("T", "Reads a file.\n\n```html\n<!-- kept -->\n```"),)


def test_no_heading_uses_the_file_name() -> None:
    doc = parse_document("just text", "Notes")
    assert doc.title == "Notes" and doc.passages == (Section("", "just text"),)


def test_code_fences_keep_their_blank_lines_and_hashes() -> None:
    doc = parse_document("# T\n\n```sh\n# not a heading\n\necho hi\n```\n", "x")
    assert doc.passages == (Section("T", "```sh\n# not a heading\n\necho hi\n```"),)


def test_long_sections_split_into_readable_passages() -> None:
    paragraph = "word " * 100
    doc = parse_document("# T\n\n" + "\n\n".join([paragraph] * 6), "x")
    assert len(doc.passages) > 1
    assert all(len(p.text) <= MAX_PASSAGE for p in doc.passages)


def test_crlf_files() -> None:
    assert parse_document("# A\r\n\r\nbody\r\n", "x").passages == (Section("A", "body"),)


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("* [Install](#install)\n* [Usage](#usage)\n  * [Flags](#flags)", 1.0),
        ("See <https://example.com/a> and\n- [b](b.md)\nPlain words that explain a thing.", 2 / 3),
        ("Team costs $29, see [pricing](p.md) for the rest of what it includes.", 0.0),
        ("", 0.0),
    ],
)
def test_listing_share(text: str, share: float) -> None:
    assert listing_share(text) == pytest.approx(share)


@pytest.mark.parametrize(("name", "title"), [("plans-and-pricing.md", "Plans and pricing"), ("faq.txt", "Faq")])
def test_title_from_path(name: str, title: str) -> None:
    assert title_from_path(name) == title


def test_tag_id() -> None:
    assert tag_id("Release notes") == "tag-release-notes"


# --- terms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("What does the premium plan include?", ["premium", "plan", "includ"]),
        ("what is it", []),
        ("what's the weather on Mars? it's raining", ["weather", "mar", "rain"]),  # no "s" of "what's"
        ("I no longer need it: is there a way?", []),  # words that frame a question
        ('say "hi" OR DROP', ["say", "hi", "drop"]),
        ("installing, installation, installs", ["instal"]),
        ("package_json a-b x 42", ["packag", "json", "42"]),
        ("Preço café", ["preço", "café"]),
    ],
)
def test_query_terms(question: str, wanted: list[str]) -> None:
    assert terms.query_terms(question, 64) == wanted


def test_query_terms_are_capped() -> None:
    many = " ".join(f"word{i}" for i in range(500))
    assert terms.query_terms(many, 64) == [f"word{i}" for i in range(64)]


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))))
def test_fast_terms_are_each_words_term(text: str) -> None:
    assert terms.terms(text) == [t for m in terms.words(text.lower()) if (t := terms.term_of(m[0])) is not None]


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))), st.integers(1, 8))
def test_a_questions_terms_are_its_text_terms_once_each_and_capped(text: str, limit: int) -> None:
    assert terms.query_terms(text, limit) == list(dict.fromkeys(terms.terms(text)))[:limit]


def test_document_and_question_agree_on_terms() -> None:
    assert terms.terms("Responses are sent within a day.") == ["respons", "sent", "within", "day"]


def test_synonyms_are_groups_of_terms() -> None:
    assert terms.synonyms()["cost"] == terms.synonyms()["price"] == frozenset({"cost", "price", "fee"})


def test_highlight_marks_the_question_words_where_most_of_them_are() -> None:
    text = "Intro words here. " * 10 + "Refunds of annual plans are paid in full within 30 days. " + "Tail. " * 20
    shown = terms.highlight(text, ["refund", "annual"])
    assert shown.startswith("…") and shown.endswith("…")
    assert "**Refunds** of **annual** plans" in shown
    assert terms.highlight("Short text.", ["text"]) == "Short **text**."


# --- ranking ----------------------------------------------------------------------------------


def test_idf_falls_as_a_term_gets_common() -> None:
    assert idf(1, 100) > idf(10, 100) > idf(90, 100) > 0


def test_a_word_no_passage_has_weighs_as_much_as_the_rarest_known_one() -> None:
    weights = weigh({"busi": 3, "plan": 20, "cost": 0}, 40)
    assert weights["cost"] == weights["busi"] > weights["plan"]
    assert weigh({"weather": 0}, 40) == {"weather": 1.0}


def candidate(rowid: int, text: str, listing: float = 0.0, title: str = "") -> Candidate:
    return Candidate(rowid, title, "", text, listing)


def wants(*words: str) -> list[Want]:
    return [Want(frozenset({word}), 1.0) for word in words]


def test_rank_orders_by_bm25_and_demotes_lists_of_links() -> None:
    ranked = rank([candidate(1, "a b x x x x"), candidate(2, "a a b b", listing=1.0), candidate(3, "a b")],
                  wants("a", "b"), 4.0)  # fmt: skip
    assert [r.rowid for r in ranked] == [3, 1, 2]
    assert all(0 < r.score < 1 for r in ranked)


def test_bm25f_counts_the_title_and_heading_more_and_long_texts_less() -> None:
    def score(text: str, heading: str = "", title: str = "") -> float:
        return bm25f(Candidate(1, title, heading, text, 0.0).fields(), wants("a"), 2.0)

    assert score("x x", title="a") > score("x x", heading="a") > score("a x") > score("a" + " x" * 20) > 0
    assert score("ab x") == score("x ba") == 0  # whole terms only


def test_rank_answers_nothing_when_no_passage_holds_enough_of_the_question() -> None:
    question = wants("best", "tenni", "player", "time")
    only = [candidate(1, "best effort time")]
    assert rank(only, question, 3.0, Ranking(evidence=0.6)) == []
    assert [r.rowid for r in rank(only, question, 3.0, Ranking(evidence=0.5))] == [1]


def test_rank_drops_passages_under_the_floor_once_one_answers() -> None:
    ranked = rank([candidate(1, "a b c"), candidate(2, "d", title="e")], wants("a", "b", "c", "d", "e"), 2.0,
                  Ranking(evidence=0.5, floor=0.5))  # fmt: skip
    assert [r.rowid for r in ranked] == [1]


def test_the_title_counts_as_part_of_a_passage() -> None:
    (ranked,) = rank([candidate(1, "remov", title="npm uninstal")], wants("uninstal", "remov"), 1.0)
    assert ranked.coverage == 1.0


# --- answers ----------------------------------------------------------------------------------


def hit(text: str, score_: float, heading: str = "H", matched: frozenset[str] = frozenset()) -> Hit:
    return Hit(id="i", score=score_, text=text, heading=heading, title="Doc", path="doc.md",
               tenant="demo", elemental_id="e", item_id="i", category="", tags=(), matched=matched)  # fmt: skip


def test_answer_leads_with_what_answers_then_quotes_close_matches_under_their_names() -> None:
    best = "The best passage says this. Another sentence."
    answer = compose_answer("best close", [hit(best, 0.9), hit("The close one.", 0.85), hit("Weak one.", 0.3)])
    assert answer == (
        f"The best passage says this.\n\n**Doc › H** (`doc.md`)\n\n{best}\n\n**Doc › H** (`doc.md`)\n\nThe close one."
    )


def test_a_lead_that_is_a_whole_passage_is_not_said_twice() -> None:
    answer = compose_answer("bank transfer", [hit("Invoices are paid by card or bank transfer.", 0.9)])
    assert answer == "**Doc › H** (`doc.md`)\n\nInvoices are paid by card or bank transfer."


def test_answer_when_nothing_matches() -> None:
    assert compose_answer(" capital of france ", []).startswith(
        "Nothing in the knowledge base matches “capital of france”."
    )


def test_a_table_row_leads_under_its_header() -> None:
    table = "All prices are per user.\n\n| plan | price |\n| --- | --- |\n| Team | $29 |\n| Business | $79 |"
    assert leading([hit(table, 0.9)], {"busi", "price"}) == "| plan | price |\n| --- | --- |\n| Business | $79 |"


def test_a_question_heading_is_answered_by_its_first_sentence() -> None:
    faq = hit("No. Pinecrest is a hosted service only. Enterprise customers can choose a region.", 0.9,
              heading="Do you offer an on-premises version?")  # fmt: skip
    assert leading([faq], {"offer", "version"}) == "No. Pinecrest is a hosted service only."
    plain = hit("The API lets you work. Over the limit you get 429.", 0.9, heading="Rate limits")
    assert leading([plain], {"rate", "limit"}) == "Over the limit you get 429."


def test_the_lead_comes_from_one_passage_in_reading_order() -> None:
    first = hit("Refunds take ten days. Annual plans are refunded in full.", 0.9)
    other = hit("Trials are free for annual buyers.", 0.8)
    assert leading([first, other], {"refund", "annual", "day", "trial"}) == (
        "Refunds take ten days. Annual plans are refunded in full."
    )


def test_code_span_outlasts_the_backticks_inside() -> None:
    assert code_span("docs/a.md") == "`docs/a.md`"
    assert code_span("odd`name.md") == "`` odd`name.md ``"


def test_quote_cuts_long_prose_at_a_sentence() -> None:
    quoted = quote("First sentence is here. " * 50, 100)
    assert quoted.endswith(".\n\n…") and len(quoted) <= 104


def test_quote_cut_inside_a_code_block_closes_it() -> None:
    text = "Run this:\n\n```sh\n" + "\n".join(f"echo line {i}" for i in range(100)) + "\n```\n\n## Next"
    quoted = quote(text, 200)
    lines = quoted.split("\n")
    assert lines[-3:] == ["```", "", "…"] and left_open(lines) == ""
    assert all(len(line) <= 20 for line in lines)  # whole lines only


def test_quote_never_ends_on_an_opening_fence() -> None:
    text = "A" * 90 + "\n```\ncode that does not fit " + "x" * 200 + "\n```"
    assert quote(text, 100) == "A" * 90 + "\n\n…"


_MARKDOWN = st.lists(
    st.sampled_from(["```", "~~~~", "```py", "text here.", "", "| a | b |", "- item", "# head", "x" * 150]),
    max_size=60,
)


@given(_MARKDOWN, st.integers(min_value=20, max_value=400))
def test_a_quoted_passage_never_leaves_a_fence_open(lines: list[str], limit: int) -> None:
    quoted = quote("\n".join(lines), limit)
    assert left_open(quoted.split("\n")) == ""


@given(st.text())
def test_pieces_join_back_exactly(text: str) -> None:
    assert "".join(pieces(text)) == text
