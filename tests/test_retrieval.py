"""What the local knowledge base finds and answers, in process: its index over small folders of documents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbchat.fences import left_open
from kbchat.server.extract import compose_answer
from kbchat.server.index import Index
from kbchat.server.query import Hit, search
from kbchat.server.run import SAMPLE_DOCS, SAMPLE_QUESTIONS


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    index = Index(SAMPLE_DOCS, tmp_path_factory.mktemp("sample") / "index.sqlite")
    index.refresh()
    yield index
    index.close()


def folder_index(tmp_path: Path, files: dict[str, str]) -> Index:
    docs = tmp_path / "docs"
    for name, text in files.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    index = Index(docs, tmp_path / "index.sqlite")
    index.refresh()
    return index


def ask(index: Index, question: str, limit: int = 3) -> tuple[list[Hit], str]:
    hits, _ = search(index, question, {"tenant_id": "demo"}, limit, count=False)
    return hits, compose_answer(question, hits)


@pytest.mark.parametrize(
    ("question", "document", "lead"),
    [
        (SAMPLE_QUESTIONS[0], "plans-and-pricing.md", "| Business | $79 |"),  # cost finds price
        (SAMPLE_QUESTIONS[1], "support-policy.md", "| Enterprise | within 1 hour"),  # respond finds response
        (SAMPLE_QUESTIONS[2], "billing-and-refunds.md", "Annual plans can be refunded in full"),
        ("what are the products?", "products.md", "Pinecrest sells three products."),
        ("is there a discount for schools?", "faq.md", "Yes: registered non-profits and schools get 50% off"),
    ],
)
def test_questions_as_people_ask_them_are_answered_from_the_right_document(
    sample: Index, question: str, document: str, lead: str
) -> None:
    hits, answer = ask(sample, question)
    assert hits[0].path == document
    assert answer.split("\n\n**")[0].count(lead) == 1  # the lead says it, before any quoted passage
    assert f"({'`'}{document}{'`'})" in answer


@pytest.mark.parametrize(
    "question",
    [
        "what's the weather on Mars?",
        "it's raining",
        "how do I bake sourdough bread?",
        "who won the football world cup in 2018?",
        "will it snow in Toronto tomorrow?",  # Toronto is an office: one word of four
        "what's a good marathon training plan?",  # "plan" is everywhere here
    ],
)
def test_off_topic_questions_get_the_honest_no_match(sample: Index, question: str) -> None:
    hits, answer = ask(sample, question)
    assert hits == []
    assert answer.startswith("Nothing in the knowledge base matches")
    assert search(sample, question, {"tenant_id": "demo"}, 10) == ([], 0)


def test_search_counts_every_match_and_names_each_hit(sample: Index) -> None:
    hits, total = search(sample, "refund annual plan", {"tenant_id": "demo"}, 2)
    assert len(hits) == 2 and total > 2
    payload = hits[0].search_item()["payload"]
    assert (payload["title"], payload["path"]) == ("Billing and refunds", "billing-and-refunds.md")
    assert payload["heading"] and "**" in payload["snippet"]


def test_a_table_of_contents_ranks_below_the_section_it_points_to(tmp_path: Path) -> None:
    toc = "\n".join(f"* [{name}](#{name.lower().replace(' ', '-')})" for name in
                    ("Install Python versions", "Uninstall Python versions", "Python version files", "Usage"))  # fmt: skip
    index = folder_index(tmp_path, {"README.md": (
        f"# pyenv\n\n## Table of Contents\n\n{toc}\n\n## Install Python versions\n\n"
        "Run pyenv install 3.12 to download, build and install a Python version.\n\n## Usage\n\nOther words.\n"
    )})  # fmt: skip
    hits, answer = ask(index, "how do I install a python version?")
    assert hits[0].heading == "Install Python versions"
    assert answer.startswith("**pyenv › Install Python versions** (`README.md`)\n\nRun pyenv install 3.12")


def test_a_section_repeated_word_for_word_in_many_files_is_shown_once(tmp_path: Path) -> None:
    shared = "## Configuration\n\nThe registry option sets the registry URL used by every command.\n"
    files = {f"cmd-{name}.md": f"# npm-{name}\n\nThe {name} command.\n\n{shared}" for name in ("a", "b", "c", "d")}
    index = folder_index(tmp_path, files)
    hits, _ = search(index, "registry URL", {"tenant_id": "demo"}, 10)
    assert [hit.heading for hit in hits] == ["Configuration"]


def test_words_in_nearly_every_passage_neither_pick_nor_drown_the_answer(tmp_path: Path) -> None:
    files = {f"doc{i}.md": f"# Doc {i}\n\nThe widget does thing number {i}.\n" for i in range(20)}
    files["gear.md"] = "# Gears\n\nThe widget gearbox needs oil every year.\n"
    index = folder_index(tmp_path, files)
    hits, _ = search(index, "widget gearbox", {"tenant_id": "demo"}, 3)
    assert hits[0].path == "gear.md"
    common, total = search(index, "the widget", {"tenant_id": "demo"}, 5)  # only common words: still answered
    assert len(common) == 5 and total == 21


def test_front_matter_titles_and_descriptions_find_their_document(tmp_path: Path) -> None:
    index = folder_index(tmp_path, {
        "npm-uninstall.md": "---\ntitle: npm-uninstall\ndescription: Remove a package\n---\n\n### Synopsis\n\n"
                            "npm uninstall <pkg>\n\n### Description\n\nThis takes it out of node_modules.\n",
        "npm-install.md": "---\ntitle: npm-install\ndescription: Install a package\n---\n\n### Description\n\n"
                          "This puts a package in node_modules.\n",
    })  # fmt: skip
    hits, answer = ask(index, "how do I remove a package?")
    assert hits[0].path == "npm-uninstall.md" and hits[0].title == "npm-uninstall"
    assert "**npm-uninstall › Synopsis** (`npm-uninstall.md`)" in answer


def test_an_answer_cut_inside_code_closes_the_code_block(tmp_path: Path) -> None:
    code = "\n".join(f"echo step {i}" for i in range(60))  # one passage, longer than a quote
    index = folder_index(tmp_path, {"setup.md": f"# Setup\n\nRun the setup script:\n\n```sh\n{code}\n```\n",
                                    "more.md": "# More setup\n\nAfter the setup script, restart.\n"})  # fmt: skip
    hits, answer = ask(index, "run the setup script")
    assert hits[0].path == "setup.md"
    assert left_open(answer.split("\n")) == ""
    lines = answer.split("\n")
    opened, closed = (i for i, line in enumerate(lines) if line.startswith("```"))
    assert lines[closed + 1 : closed + 3] == ["", "…"]  # closed where the quote was cut
    assert not any(line.startswith("**") for line in lines[opened:closed])  # no source's name inside the code box


def test_quoted_passages_are_named_title_heading_and_path(sample: Index) -> None:
    _, answer = ask(sample, "how long do you keep run history?")
    names = re.findall(r"^\*\*(.+?)\*\* \(`(.+?)`\)$", answer, re.MULTILINE)
    assert names[0] == ("Data retention and privacy", "data-retention.md")
    assert all(path.endswith(".md") for _, path in names)


@pytest.mark.parametrize(
    ("earlier", "question", "document", "found"),
    [
        # the subject shifts: the new question alone finds its answer, the earlier one adds nothing
        ("can I get my money back on an annual plan?", "how much does the Team plan cost?", "plans-and-pricing.md",
         "$29"),
        # a true follow-up: its own words and the earlier ones find it together
        ("can I get my money back on an annual plan?", "and what about monthly ones?", "billing-and-refunds.md",
         "Monthly plans"),
    ],
)  # fmt: skip
def test_a_follow_up_finds_what_its_own_question_finds_and_what_the_context_adds(
    sample: Index, earlier: str, question: str, document: str, found: str
) -> None:
    from kbchat.memory import follow_up

    hits, _ = search(sample, follow_up(earlier, question), {"tenant_id": "demo"}, 5)
    assert hits and hits[0].path == document and any(found in hit.text for hit in hits)
    alone, _ = search(sample, question, {"tenant_id": "demo"}, 5)
    assert {hit.id for hit in alone if hit.score >= hits[-1].score} <= {hit.id for hit in hits}  # what it alone finds


def test_the_follow_up_label_never_counts(sample: Index) -> None:
    from kbchat.server.query import split_follow_up

    assert split_follow_up("plans?\n\nFollow-up question: prices?\n\nFollow-up question: in euros?") == (
        "in euros?", "plans?\n\n prices?"
    )  # fmt: skip
    hits, _ = search(sample, "zzzz\n\nFollow-up question: qqqq", {"tenant_id": "demo"}, 5)
    assert hits == []  # the FAQ holds "question": had the label counted, it would have been found


def test_a_follow_ups_answer_leads_with_its_own_subject() -> None:
    """After the Business plan, "what about the Team plan?" leads with Team's row, not Business's again."""
    from kbchat.memory import follow_up
    from tests.conftest import cli

    assert cli("demo", "--no-log", follow_up("how much does the Business plan cost?", "what about the Team plan?"))\
        .stdout.splitlines()[2].startswith("| Team | $29 |")  # fmt: skip
