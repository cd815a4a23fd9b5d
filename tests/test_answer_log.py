"""The answer log's database: round trips, search, schema migrations, privacy, two writers."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbchat.answer_log import MIGRATIONS, SEARCHED, VERSION, AnswerLog, Entry, LogUnavailable, log_path, statements
from kbchat.errors import UsageError
from tests.conftest import posix


def entry(question: str = "what are the plans?", answer: str = "Free, Team and Business.", **fields: object) -> Entry:
    base: dict[str, object] = dict(status="ok", tenant="acme", base_url="https://kb.example", profile="default")
    return Entry(question=question, answer=answer, **{**base, **fields})  # type: ignore[arg-type]


@pytest.fixture
def answer_log(tmp_path: Path) -> AnswerLog:
    with AnswerLog.open(tmp_path / "log.db") as opened:
        yield opened  # type: ignore[misc]


# Any text SQLite can hold as UTF-8: everything but lone surrogates (which kbchat writes as U+FFFD).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=150, deadline=None)
@given(question=TEXT.filter(str.strip), answer=TEXT, tenant=TEXT, error=st.none() | TEXT)
def test_any_unicode_comes_back_identical(tmp_path_factory: pytest.TempPathFactory, question: str, answer: str,
                                          tenant: str, error: str | None) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("log") / "log.db"
    with AnswerLog.open(path) as log:
        written = entry(question, answer, tenant=tenant, error=error, filters={"tag_names": [tenant, "é"]},
                        sources=[{"title": answer[:20], "score": 0.5}], status="failed")  # fmt: skip
        id = log.add(written)
        back = log.get(id)
    assert back is not None
    assert (back.question, back.answer, back.tenant, back.error) == (question, answer, tenant, error)
    assert back.question.encode() == question.encode() and back.answer.encode() == answer.encode()
    assert back.filters == {"tag_names": [tenant, "é"]} and back.sources == [{"title": answer[:20], "score": 0.5}]


def test_entries_are_listed_oldest_first_and_limited(answer_log: AnswerLog) -> None:
    ids = [answer_log.add(entry(f"question {n}", tenant="acme" if n % 2 else "globex")) for n in range(15)]
    assert [e.id for e in answer_log.entries()] == ids[-10:]
    assert [e.id for e in answer_log.entries(3)] == ids[-3:]
    assert [e.id for e in answer_log.entries(None, tenant="globex")] == ids[::2]
    assert answer_log.last() == answer_log.get(ids[-1])


def test_full_text_search_over_questions_and_answers(answer_log: AnswerLog) -> None:
    plans = answer_log.add(entry("what are the plans?", "Free, Team and Business."))
    sso = answer_log.add(entry("does it have single sign-on?", "Yes, with SAML on Business."))
    answer_log.add(entry("who founded it?", "Two engineers."))
    assert [e.id for e in answer_log.entries(text="business")] == [plans, sso]
    assert [e.id for e in answer_log.entries(text="plan")] == [plans]  # the porter stemmer: plans → plan
    assert [e.id for e in answer_log.entries(text='"single sign"')] == [sso]
    assert [e.id for e in answer_log.entries(text="sam*")] == [sso]
    assert [e.id for e in answer_log.entries(text="business NOT saml")] == [plans]


@pytest.mark.parametrize("text", ['"unclosed', "AND", "a OR", "(", "NEAR(", "*", "col:umn"])
def test_bad_search_syntax_is_a_usage_error(answer_log: AnswerLog, text: str) -> None:
    answer_log.add(entry())
    with pytest.raises(UsageError, match="cannot search the log for"):
        answer_log.entries(text=text)


def test_removed_entries_leave_the_search_too(answer_log: AnswerLog) -> None:
    first = answer_log.add(entry("alpha question", "alpha answer"))
    second = answer_log.add(entry("beta question", "beta answer"))
    assert answer_log.remove([first]) == (1, [])
    assert answer_log.entries(text="alpha") == [] and answer_log.get(first) is None
    with pytest.raises(UsageError, match=f"no log entry {first}"):
        answer_log.remove([second, first])
    assert answer_log.get(second) is not None  # nothing is removed when one id is unknown
    assert answer_log.clear() == 1 and answer_log.entries() == []


def test_find_takes_an_id_or_last(answer_log: AnswerLog) -> None:
    with pytest.raises(UsageError, match="the answer log is empty"):
        answer_log.find("last")
    id = answer_log.add(entry())
    assert answer_log.find("last").id == id == answer_log.find(str(id)).id
    for unknown in ("99", "x", "-1", ""):
        with pytest.raises(UsageError, match="no log entry"):
            answer_log.find(unknown)


@posix("file modes (0600)")
def test_the_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "log.db"
    with AnswerLog.open(path) as log:
        log.add(entry())
        assert log.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for side in path.parent.glob("log.db-*"):  # -wal and -shm follow the database's mode
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0, side


V1_ROW = ("2026-01-02T03:04:05.000Z", "work", "https://kb.example", "acme", '{"tenant_id": "acme"}',
          "what are the plans?", "Free and Team.", "ok", None, 120.5, 900.0)  # fmt: skip


def test_a_version_1_log_is_migrated_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO exchanges (time, profile, base_url, tenant, filters, question, answer, status, error,"
               " first_content_ms, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", V1_ROW)  # fmt: skip
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with AnswerLog.open(path) as log:
        assert log.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        (old,) = log.entries()
        assert (old.id, old.time, old.profile, old.question, old.answer) == (1, *V1_ROW[0:2], *V1_ROW[5:7])
        assert (old.query, old.sources, old.continues, old.truncated) == ("what are the plans?", [], None, False)
        assert old.citations is None  # schema 5's column: none were asked
        assert [e.id for e in log.entries(text="team")] == [1]  # the old answers are searchable
        new = log.add(entry("and business?", continues=1))
        assert [e.id for e in log.entries(text="business")] == [new]


def test_citations_are_kept_and_never_read_by_the_list(tmp_path: Path) -> None:
    cited = {"sentences": [{"start": 0, "end": 14, "sources": [1]}], "sources": [{"n": 1, "title": "Plans"}]}
    with AnswerLog.open(tmp_path / "log.db") as log:
        id = log.add(dataclasses.replace(entry("what are the plans?"), citations=cited))
        assert log.get(id).citations == cited
        assert [e.citations for e in log.entries(whole=False)] == [None]  # the list reads no long column
        log.db.execute("UPDATE exchanges SET citations = '[1, 2' WHERE id = ?", (id,))
        assert log.get(id).citations is None  # not JSON, or not an object: none


def test_a_version_3_log_searches_the_start_of_long_answers_once_migrated(tmp_path: Path) -> None:
    """Schema 4 indexes an answer's first SEARCHED characters: the old whole-answer index is made again to match."""
    path = tmp_path / "log.db"
    with AnswerLog.open(path) as log:
        log.db.execute("PRAGMA user_version = 0")
    db = sqlite3.connect(path)
    for tail in ("exchanges_fts", "exchanges"):
        db.execute(f"DROP TABLE {tail}")
    db.commit()
    for script in MIGRATIONS[:3]:
        db.executescript(script)
    long_answer = "early " + "filler " * (SEARCHED // 7) + " lateword"
    db.execute("INSERT INTO exchanges (time, profile, base_url, tenant, filters, question, answer, status, preview)"
               " VALUES ('t', 'p', 'u', 'acme', '{}', 'long one', ?, 'ok', '')", (long_answer,))  # fmt: skip
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    with AnswerLog.open(path) as log:
        assert log.version() == VERSION
        assert [e.question for e in log.entries(text="early")] == ["long one"]
        assert log.entries(text="lateword") == []  # past the searched start
        kept = log.add(entry("short one", "lateword here"))
        assert [e.id for e in log.entries(text="lateword")] == [kept]
        log.remove([1])
        log.db.execute("INSERT INTO exchanges_fts (exchanges_fts) VALUES ('integrity-check')")  # removed cleanly
        assert [e.question for e in log.entries()] == ["short one"]


def test_a_log_from_a_newer_kbchat_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    with pytest.raises(LogUnavailable, match="from a newer kbchat"):
        AnswerLog.open(path)


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(LogUnavailable, match="cannot use the answer log"):
        AnswerLog.open(path)


def test_an_unwritable_place_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(LogUnavailable, match="cannot open the answer log"):
        AnswerLog.open(tmp_path / "file" / "log.db")


def test_migrations_split_into_whole_statements() -> None:
    parts = list(statements(MIGRATIONS[1]))
    assert any(p.startswith("CREATE TRIGGER") and p.endswith("END;") for p in parts)
    with pytest.raises(ValueError, match="unfinished"):
        list(statements("CREATE TABLE x (a"))


def test_the_path_is_kbchat_log_or_the_data_dir(tmp_path: Path) -> None:
    assert log_path({"KBCHAT_LOG": str(tmp_path / "a.db")}) == tmp_path / "a.db"
    assert log_path(os.environ) == Path(os.environ["XDG_DATA_HOME"]) / "kbchat" / "log.db"


def test_xdg_folders_are_honoured_on_every_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """platformdirs reads XDG_* only on Linux (a Mac's own place stands in for its answer here); a user
    who sets them meant them on every platform; a relative one is invalid (the XDG spec) and ignored."""
    import platformdirs

    from kbchat.places import user_folder

    mac = Path("/Users/me/Library/Application Support/kbchat")
    monkeypatch.setattr("kbchat.places.sys.platform", "darwin")
    monkeypatch.setattr(platformdirs, "user_data_path", lambda *args, **kwargs: mac)
    assert user_folder("data", {"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "kbchat"
    assert user_folder("data", {"XDG_DATA_HOME": "relative/dir"}) == mac
    assert user_folder("data", {}) == mac


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="platformdirs has its own places there")
@pytest.mark.parametrize("kind", ["config", "data", "state", "cache"])
def test_with_no_xdg_folder_set_the_places_are_platformdirs_own(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Linux kbchat spares itself platformdirs' import, and must land where platformdirs would."""
    import platformdirs

    from kbchat.places import XDG, user_folder

    monkeypatch.delenv(XDG[kind], raising=False)
    expected = getattr(platformdirs, f"user_{kind}_path")("kbchat", appauthor=False)
    assert user_folder(kind, {}) == expected


def test_two_threads_write_while_another_reads(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    AnswerLog.open(path).close()
    failures: list[BaseException] = []

    def write(name: str) -> None:
        try:
            with AnswerLog.open(path) as log:
                for n in range(50):
                    log.add(entry(f"{name} {n}"))
        except BaseException as err:
            failures.append(err)

    writers = [threading.Thread(target=write, args=(name,)) for name in ("left", "right")]
    for writer in writers:
        writer.start()
    with AnswerLog.open(path) as reader:
        while any(w.is_alive() for w in writers):
            reader.entries(5, text="left OR right")
    for writer in writers:
        writer.join()
    assert failures == []
    with AnswerLog.open(path) as log:
        assert len(log.entries(None)) == 100


NEW_LOG = """
import sys
from kbchat.answer_log import AnswerLog
from tests.conftest import posix
AnswerLog.open(__import__("pathlib").Path(sys.argv[1])).close()
"""


def test_processes_creating_the_log_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    procs = [subprocess.Popen([sys.executable, "-c", NEW_LOG, str(path)], stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=30)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    with AnswerLog.open(path) as log:
        assert log.db.execute("PRAGMA user_version").fetchone()[0] == VERSION


def test_an_entry_as_json_has_the_documented_keys(answer_log: AnswerLog) -> None:
    id = answer_log.add(entry(error=None, first_content_ms=12.5, duration_ms=80.0))
    record = answer_log.find(str(id)).to_json()
    documented = {"id", "time", "question", "answer", "status", "error", "tenant", "filters", "profile", "base_url",
                  "first_content_ms", "duration_ms", "sources", "continues"}  # fmt: skip
    assert documented <= record.keys()
    assert list(record)[:2] == ["id", "time"] and record["time"].endswith("Z")
    assert json.loads(json.dumps(record)) == record


def test_a_removed_answer_is_in_no_file(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with AnswerLog.open(path) as log:
        kept = log.add(entry("kept question", "kept answer"))
        gone = log.add(entry("secret question qwertzuiop", "the answer mentions plughxyzzy " * 50))
        log.remove([gone])
        assert log.get(kept) is not None
        for file in path.parent.iterdir():  # while the log is open, its write-ahead log too
            data = file.read_bytes()
            assert b"plughxyzzy" not in data and b"qwertzuiop" not in data, file.name


def test_opening_an_up_to_date_log_waits_for_no_writer(tmp_path: Path) -> None:
    """`kbchat log` in one terminal while a chat writes in another: a reader takes no write lock."""
    import time

    path = tmp_path / "log.db"
    with AnswerLog.open(path) as log:
        log.add(entry())
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a chat in the middle of its write
    writer.execute("INSERT INTO exchanges (time, profile, base_url, tenant, filters, question, answer, status)"
                   " VALUES ('t', 'p', 'u', 't', '{}', 'q', 'a', 'ok')")  # fmt: skip
    try:
        started = time.monotonic()
        with AnswerLog.open(path) as reader:
            assert [e.question for e in reader.entries()] == ["what are the plans?"]
        assert time.monotonic() - started < 1  # the busy timeout is 5 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("| plan | price |\n| --- | --- |\n| **Business** | $79 |", "plan · price\nBusiness · $79"),
        ("# Plans\n\n- **Team**: `$29`\n- see [the list](https://x.example/p)", "Plans\n\nTeam: $29\nsee the list"),
        ("```sh\nls -l\n```\nsnake_case 2*3", "\nls -l\n\nsnake_case 2*3"),
    ],
)
def test_list_previews_are_the_words_an_answer_shows(answer: str, words: str) -> None:
    from kbchat.render.entries import plain_words

    assert plain_words(answer) == words


def test_log_show_of_a_cut_answer_closes_its_half_typed_markdown(answer_log: AnswerLog) -> None:
    """A cancelled answer that stopped inside bold ends as its live tail showed it, not with a dangling `**`."""
    import io as io_

    from kbchat.render.entries import entry_shown
    from kbchat.terminal import Terminal

    id = answer_log.add(entry(answer="The plans:\n\n**Plans and pri", status="cancelled"))
    term = Terminal(out=io_.StringIO(), err=io_.StringIO(), is_tty=True, color=False)
    shown = entry_shown(answer_log.find(str(id)), term)
    assert "Plans and pri" in shown and "**" not in shown and "[cancelled]" in shown


PREVIEW_SHAPES = {
    "a long dash line": lambda n: "-" * n + "x",
    "a pipe and spaces": lambda n: "|" + " " * n + "x",
    "brackets": lambda n: "[" * (n // 3) + "](" * (n // 3),
    "stars": lambda n: "*" * n,
    "table cells": lambda n: "| a " * (n // 4),
}


@pytest.mark.parametrize("shape", PREVIEW_SHAPES)
def test_a_preview_is_linear_in_its_answer(shape: str) -> None:
    """A logged answer is anyone's text: 4x of it costs about 4x (a dash line cost 16x, 86 ms at 4,000)."""
    from kbchat.render.entries import plain_words
    from tests.linearity import assert_linear

    assert_linear(plain_words, PREVIEW_SHAPES[shape], 20_000, shape)
