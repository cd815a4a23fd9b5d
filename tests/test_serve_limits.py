"""serve against hostile documents and questions: linear passes, a deep folder, bounded caches.

Anyone who can drop a file in the docs folder, or send a question, chooses the text
these passes read; one bad file must never hold the whole server.
"""

from __future__ import annotations

import io
import os
import random
import re
import string
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from kbchat import terms
from kbchat.server import extract
from kbchat.server.documents import MAX_BLOCK, cut_block, heading_of, parse_document, uncommented
from kbchat.server.folder import MAX_DEPTH, Folder
from kbchat.server.index import Index
from kbchat.server.query import MAX_HIT_TEXT, search
from kbchat.server.run import serve_in_background, start_server, stop
from kbchat.server.serve_options import ServeOptions
from tests.linearity import assert_linear

# Each shape once made a pass over the document super-linear (the comment, link and
# heading patterns backtracked; header lines were popped off the front one by one).
SHAPES: dict[str, Callable[[int], str]] = {
    "unclosed comments": lambda n: "<!--" * (n // 4),
    "brackets after a link": lambda n: "](" + "[" * n,
    "unclosed link targets": lambda n: "[a](" * (n // 4),
    "unclosed autolinks": lambda n: "<http://" * (n // 8),
    "header lines": lambda n: "tags:\n" * n,
    "spaces in a heading": lambda n: "# x" + " " * (n // 40) + "y",
    "closing hashes in a heading": lambda n: "# x" + " #" * (n // 80) + " y",
    "front matter lines": lambda n: "---\n" + "a: b\n" * (n // 5),
    "one long line": lambda n: "word " * (n // 5),
    "fence lines": lambda n: "```\n" * (n // 4),
    "one long code block": lambda n: "```\n" + "x = 1\n" * (n // 6) + "```\n",
    "sentences in one line": lambda n: "A sentence. " * (n // 12),
}
BASE = 40_000  # characters at 1x: large enough for the timer, small enough for the old quadratic passes to show


def read(text: str) -> None:
    """Everything serve does with a document's text."""
    document = parse_document(text, "x")
    for passage in document.passages:
        terms.terms(passage.text)
        list(extract.units(passage.text))
        extract.quote(passage.text)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_pass_over_a_document_is_linear_in_its_size(shape: str) -> None:
    """4x the text costs about 4x the time; a quadratic pass costs 16x (the floor keeps timer noise out)."""
    assert_linear(read, SHAPES[shape], BASE, shape)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("# Plans", (1, "Plans")),
        ("## Plans ##", (2, "Plans")),
        ("### C#", (3, "C")),
        ("#\tTabbed", (1, "Tabbed")),
        ("#   ", (1, "")),
        ("#NoSpace", None),
        ("####### seven", None),
        ("text # not a heading", None),
        ("", None),
    ],
)
def test_headings_read_as_before(line: str, expected: tuple[int, str] | None) -> None:
    assert heading_of(line) == expected


OLD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")  # what headings were read with, on short lines


@given(st.text(alphabet="# \ta\u00a0b#\x0b", max_size=14))
def test_headings_read_as_the_old_pattern_read_them(line: str) -> None:
    match = OLD_HEADING.match(line)
    assert heading_of(line) == ((len(match[1]), match[2]) if match else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a <!-- hidden --> b", "a  b"),
        ("a <!-- one --> b <!-- two --> c", "a  b  c"),
        ("a <!-- unclosed", "a <!-- unclosed"),
        ("a <!-- x --> b <!-- unclosed", "a  b <!-- unclosed"),
        ("<!--<!-- x -->y", "y"),
        ("no comment", "no comment"),
    ],
)
def test_comments_are_removed_and_an_unclosed_one_kept(text: str, expected: str) -> None:
    assert uncommented(text) == expected


def test_a_five_megabyte_line_becomes_many_passages_and_a_quick_search(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    words = [f"w{i}" for i in range(1000)]
    (docs / "huge.md").write_text(" ".join(words[i % 1000] for i in range(1_000_000)) + " needle haystack\n")
    index = Index(docs, tmp_path / "index.sqlite")
    try:
        index.refresh()
        assert all(len(p.text) <= MAX_BLOCK for p in parse_document((docs / "huge.md").read_text(), "x").passages)
        started = time.monotonic()
        hits, _ = search(index, "needle haystack", {"tenant_id": "demo"}, limit=10)
        took = time.monotonic() - started
        assert hits and "needle haystack" in hits[0].text
        assert all(
            len(hit.text) <= MAX_HIT_TEXT and len(hit.search_item()["payload"]["original_text"]) <= MAX_HIT_TEXT
            for hit in hits
        )
        assert took < 1.0, f"a two-word search took {took:.2f} s"  # 1.9 s when the line was one passage
    finally:
        index.close()


def test_a_long_code_block_is_cut_into_fenced_pieces() -> None:
    block = "```python\n" + "".join(f"line_{i} = {i}\n" for i in range(2000)) + "```"
    pieces = cut_block(block)
    assert len(pieces) > 1
    for piece in pieces:
        lines = piece.split("\n")
        assert lines[0] == "```python" and lines[-1] == "```" and len(piece) <= MAX_BLOCK
    body = [line for piece in pieces for line in piece.split("\n")[1:-1]]
    assert body == block.split("\n")[1:-1]


def test_a_long_paragraph_is_cut_at_sentences() -> None:
    text = " ".join(f"Sentence number {i} says a little more." for i in range(500))
    pieces = cut_block(text)
    assert len(pieces) > 1 and all(len(p) <= MAX_BLOCK for p in pieces)
    assert all(piece.endswith(".") for piece in pieces)
    assert " ".join(pieces) == text


def test_health_answers_within_a_second_while_a_big_document_is_indexed(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "small.md").write_text("# Small\n\nA small document.\n")
    log = io.StringIO()
    server = start_server(
        ServeOptions(docs, port=0, cache_dir=tmp_path / "cache", pace=0.0), log=log, watch_interval=0.05
    )
    serve_in_background(server)
    try:
        hostile = "".join(make(250_000) + "\n\n" for make in SHAPES.values())
        (docs / "hostile.md").write_text(hostile)
        slowest = 0.0
        deadline = time.monotonic() + 60
        while server.index.stats()["documents"] < 2 and time.monotonic() < deadline:
            started = time.monotonic()
            assert requests.get(server.url + "/health", timeout=5).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
        assert server.index.stats()["documents"] == 2
        assert slowest < 1.0, f"/health took {slowest:.2f} s while a document was indexed"
    finally:
        stop(server)


def deep_folder(top: Path, depth: int) -> Path:
    """A folder `depth` levels below `top` (made one level at a time: os.makedirs recurses)."""
    here = top
    for _ in range(depth):
        here = here / "d"
        here.mkdir()
    return here


@pytest.fixture
def docs(tmp_path: Path) -> Iterator[Path]:
    """A docs folder, removed afterwards without recursion (shutil.rmtree, and so pytest's
    clean-up of old temporary folders, give up on a tree 1,500 levels deep)."""
    top = tmp_path / "docs"
    top.mkdir()
    yield top
    pending, found = [str(top)], []
    while pending:
        folder = pending.pop()
        found.append(folder)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    os.unlink(entry.path)
    for folder in reversed(found):
        os.rmdir(folder)


def test_a_folder_deeper_than_the_cap_is_skipped_and_said(docs: Path) -> None:
    (docs / "acme").mkdir()
    (docs / "acme" / "a.md").write_text("# A\n")
    ten = deep_folder(docs / "acme", 10)
    (ten / "ten.md").write_text("# Ten\n")
    (deep_folder(ten, 1490) / "deep.md").write_text("# Deep\n")  # 1,500 levels: os.walk's recursion gave up
    said: list[str] = []
    found = [path for path, _ in Folder(docs, warn=said.append).scan()]
    assert found == ["acme/a.md", "acme/" + "d/" * 10 + "ten.md"]
    assert len(said) == 1 and f"deeper than {MAX_DEPTH} folders" in said[0]


def test_a_failing_look_over_the_folder_never_ends_the_watcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nalpha\n")
    said: list[str] = []
    index = Index(docs, tmp_path / "index.sqlite", warn=said.append)
    index.refresh()
    scan = index.folder.scan
    failures = iter([RecursionError("maximum recursion depth exceeded")])

    def failing_once() -> object:
        for failure in failures:
            raise failure
        return scan()

    monkeypatch.setattr(index.folder, "scan", failing_once)
    watcher = index.watch(interval=0.01)
    try:
        (docs / "b.md").write_text("# B\n\nbravo\n")
        deadline = time.monotonic() + 10
        while index.stats()["documents"] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watcher.is_alive() and index.stats()["documents"] == 2
        assert said and "RecursionError" in said[0]
    finally:
        index.close()


def random_words(rng: random.Random, count: int, length: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=length)) for _ in range(count))


def test_made_up_words_never_grow_the_term_caches_past_their_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    terms.forget()
    for _ in range(5):
        terms.query_terms(random_words(rng, 64, 16_000), 64)
    assert terms.cached_bytes() == 0  # pieces that long are never cached
    monkeypatch.setattr(terms, "CACHE_BYTES", 100_000)  # a small budget, crossed many times below
    for _ in range(100):
        terms.query_terms(random_words(rng, 64, 30), 64)
        assert terms.cached_bytes() <= 2 * 100_000
    assert terms.cached_bytes() > 0
    terms.forget()


def test_a_word_longer_than_the_cap_is_one_term_in_documents_and_questions_alike(tmp_path: Path) -> None:
    word = "".join(random.Random(3).choices(string.ascii_lowercase, k=5000))
    assert terms.terms(word) == [word[: terms.MAX_WORD]] == terms.query_terms(f"where is {word}?", 64)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hash.md").write_text(f"# Hashes\n\nThe build hash is {word}.\n")
    (docs / "other.md").write_text("# Other\n\nNothing to see.\n")
    index = Index(docs, tmp_path / "index.sqlite")
    try:
        index.refresh()
        hits, _ = search(index, word, {"tenant_id": "demo"})
        assert [hit.path for hit in hits] == ["hash.md"]
    finally:
        index.close()


def test_serve_starts_over_a_very_deep_folder(tmp_path: Path, docs: Path) -> None:
    (docs / "top.md").write_text("# Top\n\nA top document.\n")
    deep_folder(docs, 1500)
    log = io.StringIO()
    server = start_server(
        ServeOptions(docs, port=0, cache_dir=tmp_path / "cache", pace=0.0), log=log, watch_interval=0.05
    )
    serve_in_background(server)
    try:
        assert requests.get(server.url + "/health", timeout=5).status_code == 200
        assert server.index.stats()["documents"] == 1
        assert f"deeper than {MAX_DEPTH} folders" in log.getvalue()
    finally:
        stop(server)


def test_an_index_cache_with_a_trigger_kbchat_did_not_make_is_built_again(tmp_path: Path) -> None:
    import sqlite3

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nalpha\n")
    cache = tmp_path / "index.sqlite"
    Index(docs, cache).close()
    db = sqlite3.connect(cache)
    db.execute(
        "CREATE TRIGGER spin AFTER INSERT ON passages BEGIN"
        " SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n);"
        " END"
    )
    db.commit()
    db.close()
    index = Index(docs, cache)
    try:
        index.refresh()  # the endless trigger would hold this forever
        assert index.stats()["documents"] == 1
    finally:
        index.close()
    db = sqlite3.connect(cache)
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (0,)
    db.close()
