"""The answer log as untrusted input, and what it keeps private: modes, crafted files,
removals that reach follow-ups, ids as typed, follow-ups that stay with their knowledge base.

In this process with the fake KB, like tests/test_memory.py; a real process where a
crafted log could hold kbchat forever.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import stat
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from kbchat import answer_log as answer_log_module
from kbchat.answer_log import PREVIEW, AnswerLog, Entry, LogUnavailable
from kbchat.memory import follow_up
from kbchat.render.entries import about, entry_list, entry_shown
from kbchat.terminal import Terminal
from tests.conftest import KEY, ask_args, cli, kbchat_env, posix, run_kbchat
from tests.fake_kb import FakeKB
from tests.scripted_server import Reply, ScriptedServer, sse
from tests.test_memory import CONN, ask, logged

ESCAPE = "\x1b]0;owned\x07\x1b[2J"


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "answers" / "log.db"
    monkeypatch.setenv("KBCHAT_LOG", str(path))
    return path


def entry(question: str = "what are the plans?", **fields: Any) -> Entry:
    base: dict[str, Any] = dict(answer="Free and Team.", status="ok", tenant="acme", base_url="https://kb.example",
                                profile="default")  # fmt: skip
    return Entry(question=question, **{**base, **fields})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- private files -------------------------------------------------------------------------


@posix("file modes (0600)")
def test_an_existing_log_readable_by_others_is_made_private(log_file: Path) -> None:
    with AnswerLog.open(log_file) as log:
        log.add(entry())
    for path in log_file.parent.iterdir():
        path.chmod(0o644)
    assert cli("log").returncode == 0
    assert {path.name: mode(path) for path in log_file.parent.iterdir()} == dict.fromkeys(
        (p.name for p in log_file.parent.iterdir()), 0o600
    )


@posix("file modes (0600)")
def test_an_export_over_a_file_readable_by_others_is_made_private(log_file: Path, tmp_path: Path) -> None:
    with AnswerLog.open(log_file) as log:
        log.add(entry())
    target = tmp_path / "existing.md"
    target.write_text("old")
    target.chmod(0o644)
    result = cli("log", "export", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert mode(target) == 0o600 and "Free and Team." in target.read_text()


# --- a crafted log ---------------------------------------------------------------------------


def crafted(log_file: Path, **values: Any) -> None:
    """A log whose row holds what a hostile writer chose, in columns of any declared type."""
    with AnswerLog.open(log_file) as log:
        log.add(entry())
        sets = ", ".join(f"{name} = ?" for name in values)
        log.db.execute(f"UPDATE exchanges SET {sets}", list(values.values()))


def test_text_in_number_columns_never_reaches_the_terminal_raw(log_file: Path) -> None:
    crafted(log_file, time=ESCAPE, status=ESCAPE, continues=ESCAPE, duration_ms=ESCAPE, first_content_ms="x",
            filters="not json", sources='[1, "two", {"title": 3, "score": "high"}]', truncated="yes")  # fmt: skip
    listed = cli("log")
    assert listed.returncode == 0 and "\x1b" not in listed.stdout + listed.stderr
    assert "␛]0;owned" in listed.stdout  # shown, harmlessly
    (found,) = AnswerLog.open(log_file).entries()
    assert (found.continues, found.duration_ms, found.first_content_ms, found.filters, found.truncated) == (
        None, None, None, {}, False)  # fmt: skip
    assert found.sources == [{"title": 3, "score": "high"}]
    shown = entry_shown(found, Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=True, color=False))
    assert "\x1b]" not in shown and "\x07" not in shown and "␛]0;owned" in about(found)
    assert "\x1b" not in entry_list([found], Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=False))
    as_json = cli("log", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["time"] == ESCAPE  # data, kept as it is


def test_a_log_with_a_trigger_kbchat_did_not_make_is_refused(log_file: Path) -> None:
    with AnswerLog.open(log_file) as log:
        log.add(entry())
        log.db.execute(
            "CREATE TRIGGER spin AFTER INSERT ON exchanges BEGIN"
            " SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n);"
            " END"
        )
    with pytest.raises(LogUnavailable, match="holds a trigger 'spin' that kbchat did not make"):
        AnswerLog.open(log_file)
    result = cli("log")
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "trigger 'spin'" in result.stderr


def test_a_changed_trigger_of_kbchat_is_refused_too(log_file: Path) -> None:
    with AnswerLog.open(log_file) as log:
        log.db.executescript(
            "DROP TRIGGER exchanges_added;"
            "CREATE TRIGGER exchanges_added AFTER INSERT ON exchanges BEGIN DELETE FROM exchanges; END;"
        )
    with pytest.raises(LogUnavailable, match="trigger 'exchanges_added'"):
        AnswerLog.open(log_file)


@pytest.mark.parametrize(
    ("script", "named"),
    [
        ("CREATE VIEW everything AS SELECT * FROM exchanges", "view 'everything'"),
        ("CREATE INDEX mine ON exchanges (tenant)", "index 'mine'"),
        ("CREATE TABLE extra (x)", "table 'extra'"),
        ("ALTER TABLE exchanges ADD COLUMN extra TEXT", "table 'exchanges'"),
        ("PRAGMA user_version = -3", "unknown schema version (-3)"),
    ],
)
def test_a_log_with_anything_else_kbchat_did_not_make_is_refused(log_file: Path, script: str, named: str) -> None:
    with AnswerLog.open(log_file) as log:
        log.db.execute(script)
    with pytest.raises(LogUnavailable, match=re.escape(named)):
        AnswerLog.open(log_file)


def test_ask_over_a_log_with_an_endless_trigger_answers_warns_once_and_exits(
    server: ScriptedServer, log_file: Path
) -> None:
    with AnswerLog.open(log_file) as log:
        log.db.execute(
            "CREATE TRIGGER spin AFTER INSERT ON exchanges BEGIN"
            " SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n);"
            " END"
        )
    server.queue(Reply([sse("The answer stands.")]))
    started = time.monotonic()
    result = run_kbchat(*ask_args(server, "q"), env=kbchat_env(KBCHAT_LOG=str(log_file)))
    assert (result.returncode, result.stdout) == (0, "The answer stands.\n")
    assert result.stderr.count("kbchat: warning:") == 1 and "trigger 'spin'" in result.stderr
    assert time.monotonic() - started < 10


def test_a_statement_that_works_past_the_deadline_is_stopped(log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer_log_module, "DEADLINE", 0.2)
    log = AnswerLog.open(log_file)
    log.db.execute(  # made after the check, as another process could
        "CREATE TRIGGER spin AFTER INSERT ON exchanges BEGIN"
        " SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n);"
        " END"
    )
    started = time.monotonic()
    with pytest.raises(LogUnavailable, match=r"took over 0\.2 s"):
        log.add(entry())
    assert time.monotonic() - started < 3
    log.db.execute("DROP TRIGGER spin")
    assert log.add(entry()) == 1  # the stopped write left nothing behind, and the log works on
    log.close()


def test_a_log_from_before_the_preview_column_is_migrated_and_listed(log_file: Path) -> None:
    log_file.parent.mkdir()
    db = sqlite3.connect(log_file)
    for migration in answer_log_module.MIGRATIONS[:2]:
        db.executescript(migration)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO exchanges (time, profile, base_url, tenant, filters, question, answer, status)"
               " VALUES ('2026-11-30T09:00:00Z', 'default', 'https://kb.example', 'acme', '{}', 'old q', ?, 'ok')",
               ("x" * 9000,))  # fmt: skip
    db.commit()
    db.close()
    with AnswerLog.open(log_file) as log:
        (listed,) = log.entries(whole=False)
        assert listed.answer == "x" * PREVIEW and log.entries()[0].answer == "x" * 9000


# --- removing ----------------------------------------------------------------------------------


def test_removing_an_entry_removes_its_question_from_later_follow_ups(fake_kb: FakeKB, log_file: Path) -> None:
    secret = "the merger with Globex closes in May"
    fake_kb.answers.extend([["Noted."], ["The board."], ["In May."], ["Yes."]])
    assert ask(secret).returncode == 0
    assert ask("-c", "who approves it?").returncode == 0
    assert ask("-c", "and when?").returncode == 0
    assert ask("unrelated").returncode == 0
    assert secret in logged()[2]["query"]
    result = cli("log", "rm", "1")
    assert (result.returncode, result.stderr) == (0, "kbchat: removed 1 entry\n")
    second, third, fourth = logged()
    assert second["query"] == "who approves it?"
    assert third["query"] == follow_up("who approves it?", "and when?")
    assert fourth["query"] == "unrelated"
    assert not any(secret in json.dumps(e) for e in (second, third, fourth))
    assert secret.encode() not in b"".join(p.read_bytes() for p in log_file.parent.iterdir())


def test_removing_says_which_entries_still_quote_the_question(fake_kb: FakeKB, log_file: Path) -> None:
    fake_kb.answers.extend([["Noted."], ["You asked: what about the merger?"]])
    assert ask("what about the merger?").returncode == 0
    assert ask("repeat my question").returncode == 0
    result = cli("log", "rm", "1")
    assert result.returncode == 0
    assert "kbchat: #2 still quotes a removed question (kbchat log rm 2 removes it too)" in result.stderr


# --- reading without holding the whole log -------------------------------------------------------


def test_the_list_reads_previews_and_export_one_entry_at_a_time(log_file: Path, tmp_path: Path) -> None:
    size = 1 << 20
    with AnswerLog.open(log_file) as log:
        for n in range(12):
            log.add(entry(f"question {n}", answer=f"{n} " + "y" * size))
        assert all(len(e.answer) <= PREVIEW for e in log.entries(None, whole=False))
    target = tmp_path / "export.md"
    tracemalloc.start()
    try:
        result = cli("log", "export", "-o", str(target))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.returncode == 0 and "exported 12 entries" in result.stderr
    assert target.stat().st_size > 12 * size
    assert peak < 12 * size  # one entry at a time (all twelve at once held over 50 MB)


# --- ids as typed ---------------------------------------------------------------------------


@pytest.mark.parametrize("id", ["²", "\u0661", "1" * 23, "-1", "1.0", " 1", "last1"])
@pytest.mark.parametrize("command", [["log", "show"], ["log", "rm"], ["ask", *CONN, "q", "--cid"]])
def test_an_id_that_is_not_plain_digits_is_a_usage_error(
    fake_kb: FakeKB, log_file: Path, command: list[str], id: str
) -> None:
    with AnswerLog.open(log_file) as log:
        log.add(entry())
    result = cli(*command, id)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "kbchat: error:" in result.stderr
    assert "unexpected" not in result.stderr and fake_kb.asked == []


@pytest.mark.parametrize("option", ["-q", "--tenant"])
def test_an_undecodable_search_is_a_usage_error(log_file: Path, option: str) -> None:
    with AnswerLog.open(log_file) as log:
        log.add(entry())
    result = cli("log", option, "\udcff")  # what a byte 0xff on the command line becomes
    assert result.returncode == 2 and "not valid UTF-8" in result.stderr and "unexpected" not in result.stderr


# --- follow-ups stay with their knowledge base -----------------------------------------------


def profiles(tmp_path: Path) -> None:
    Path(os.environ["KBCHAT_CONFIG"]).write_text(
        f'[profiles.a]\nbase_url = "https://a.example"\napi_key = "{KEY}"\ntenant = "acme"\n'
        f'[profiles.b]\nbase_url = "https://b.example"\napi_key = "{KEY}"\ntenant = "globex"\n'
    )


def test_continue_never_crosses_to_another_profile(fake_kb: FakeKB, log_file: Path, tmp_path: Path) -> None:
    profiles(tmp_path)
    assert cli("ask", "-p", "a", "what is in the a-only roadmap?").returncode == 0
    result = cli("ask", "-p", "b", "-c", "and for b?")
    assert result.returncode == 2 and fake_kb.asked[1:] == []
    assert "nothing asked of https://b.example tenant globex" in result.stderr
    assert "#1, was asked of https://a.example tenant acme" in result.stderr
    crossed = cli("ask", "-p", "b", "--cid", "1", "and for b?")
    assert crossed.returncode == 2 and "log entry #1 was asked of https://a.example tenant acme" in crossed.stderr
    assert fake_kb.asked[1:] == []


def test_continue_follows_the_last_exchange_of_its_own_profile(fake_kb: FakeKB, log_file: Path, tmp_path: Path) -> None:
    profiles(tmp_path)
    assert cli("ask", "-p", "a", "a question").returncode == 0
    assert cli("ask", "-p", "b", "b question").returncode == 0
    assert cli("ask", "-p", "a", "-c", "more?").returncode == 0
    assert fake_kb.asked[-1][0] == follow_up("a question", "more?")
    assert logged()[-1]["continues"] == 1


def test_a_tenant_change_is_a_new_knowledge_base_for_follow_ups(fake_kb: FakeKB, log_file: Path) -> None:
    assert ask("what are the plans?").returncode == 0
    result = cli("ask", *CONN[:4], "--tenant", "globex", "-c", "and prices?")
    assert result.returncode == 2 and "tenant globex" in result.stderr and len(fake_kb.asked) == 1


def test_what_log_commands_say_is_sanitised(log_file: Path, tmp_path: Path) -> None:
    with AnswerLog.open(log_file) as log:
        log.add(entry())
    result = cli("log", "export", "-o", str(tmp_path / "out\x1b]0;x\x07.md"))
    assert result.returncode == 0 and "\x1b" not in result.stderr and "out␛]0;x␇.md" in result.stderr
    refused = cli("log", "-q", "nothing\x1b[2J")
    assert refused.returncode == 2 and "\x1b" not in refused.stderr and "nothing␛[2J" in refused.stderr


def test_ctrl_c_stops_a_long_statement_at_once(log_file: Path) -> None:
    import _thread
    import signal
    import threading

    log = AnswerLog.open(log_file)
    log.db.execute(  # made after the check, as another process could
        "CREATE TRIGGER spin AFTER INSERT ON exchanges BEGIN"
        " SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n);"
        " END"
    )
    timer = threading.Timer(0.2, _thread.interrupt_main, (signal.SIGINT,))  # as Ctrl-C arrives, on every platform
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        log.add(entry())
    assert time.monotonic() - started < 2  # not the 5 s deadline, nor forever
    log.db.execute("DROP TRIGGER spin")
    assert log.add(entry()) == 1
    log.close()


@pytest.mark.parametrize(("terminal", "shown"), [(True, "/tmp/x␛]0;pwned␇/kbchat/log.db"),
                                                 (False, "/tmp/x\x1b]0;pwned\x07/kbchat/log.db")])  # fmt: skip
def test_log_path_and_config_path_never_drive_the_terminal(terminal: bool, shown: str) -> None:
    """An XDG_*_HOME (or KBCHAT_LOG) holding an escape sequence: made visible on a terminal; piped, the
    path as it is, for the script that opens it."""
    from kbchat.terminal import print_path

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    out = Stream()
    print_path(Path("/tmp/x\x1b]0;pwned\x07") / "kbchat" / "log.db", out)
    assert out.getvalue() == shown + "\n"
