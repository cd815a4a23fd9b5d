"""The answer log through the commands: what ask, demo and chat log, `kbchat log`, follow-ups, --code.

In this process, with the fake KB: `cli()` runs the real entry point. The log is the
file KBCHAT_LOG names (set per test), else the data dir of the test's own XDG_DATA_HOME.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from kbchat.answer_log import AnswerLog
from kbchat.errors import ConnectFailed
from kbchat.memory import CONTEXT, FOLLOW_UP, follow_up
from tests.conftest import KEY, POSIX_MODES, ask_args, cli, kbchat_env
from tests.fake_kb import NO_DONE, FakeKB, error
from tests.scripted_server import Reply, ScriptedServer, sse

CONN = ["--base-url", "https://kb.example", "--api-key", KEY, "--tenant", "acme"]


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "answers" / "log.db"
    monkeypatch.setenv("KBCHAT_LOG", str(path))
    return path


def logged() -> list[dict[str, Any]]:
    result = cli("log", "--json", "-n", "1000")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def ask(*args: str, input: str | None = None) -> Any:
    return cli("ask", *CONN, *args, input=input)


# --- what is logged ------------------------------------------------------------------------


def test_an_answer_is_logged_with_what_the_contract_lists(fake_kb: FakeKB, log_file: Path) -> None:
    fake_kb.answers.append(["Free, ", "Team."])
    assert ask("--filter", "tag_names=Plans", "what", "are", "the", "plans?").returncode == 0
    (entry,) = logged()
    assert entry["id"] == 1 and entry["time"].endswith("Z") and "T" in entry["time"]
    assert (entry["question"], entry["answer"], entry["status"], entry["error"]) == ("what are the plans?",
                                                                                   "Free, Team.", "ok", None)  # fmt: skip
    assert (entry["tenant"], entry["profile"], entry["base_url"]) == ("acme", "default", "https://kb.example")
    assert entry["filters"] == {"tenant_id": "acme", "tag_names": ["Plans"]}
    assert entry["first_content_ms"] >= 0 and entry["duration_ms"] >= entry["first_content_ms"]
    assert (entry["sources"], entry["continues"]) == ([], None)
    assert not POSIX_MODES or stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_the_key_and_a_password_are_in_no_file(fake_kb: FakeKB, log_file: Path) -> None:
    fake_kb.answers.append([f"you said {KEY}"])
    result = cli("ask", "--base-url", "https://me:hunter2pw@kb.example", "--api-key", KEY, "--tenant", "acme",
                 f"is {KEY} my key?")  # fmt: skip
    assert result.returncode == 0
    (entry,) = logged()
    assert entry["question"] == "is **** my key?" and entry["answer"] == "you said ****"
    assert entry["base_url"] == "https://kb.example"
    for file in log_file.parent.iterdir():
        data = file.read_bytes()
        assert KEY.encode() not in data and b"hunter2pw" not in data, file.name


@pytest.mark.parametrize(
    ("steps", "status", "error_text", "code"),
    [
        (["partial", KeyboardInterrupt()], "cancelled", None, 130),
        (["partial", error("model overloaded"), " more"], "failed", "model overloaded", 1),
        (["partial", NO_DONE], "failed", "the stream ended before the answer was complete", 1),
        ([ConnectFailed("cannot connect to kb.example: refused")], "failed", "cannot connect to kb.example", 1),
    ],
)
def test_how_an_answer_ended_is_logged(fake_kb: FakeKB, log_file: Path, steps: list[object], status: str,
                                       error_text: str | None, code: int) -> None:  # fmt: skip
    fake_kb.answers.append(steps)
    assert ask("q").returncode == code
    (entry,) = logged()
    assert entry["status"] == status
    assert entry["answer"] == ("" if status == "failed" and steps[0] != "partial" else entry["answer"])
    assert entry["answer"].startswith("partial") or steps[0] != "partial"
    assert (entry["error"] is None) if error_text is None else (error_text in entry["error"])


def test_no_stream_sources_are_logged_with_their_names(fake_kb: FakeKB, log_file: Path) -> None:
    source = {"id": "c1", "score": 0.91, "snack_item_id": "item-1", "text": "Team costs $29.", "title": "Plans",
              "heading": "Team", "document": "docs/plans.md"}  # fmt: skip
    fake_kb.chat_bodies.append({"answer": "Team costs $29.", "sources": [source]})
    result = ask("--no-stream", "--sources", "team price?")
    assert "0.91  Plans › Team (docs/plans.md)  Team costs $29." in result.stdout
    (entry,) = logged()
    assert entry["sources"] == [{"score": 0.91, "id": "item-1", "text": "Team costs $29.", "title": "Plans",
                                 "heading": "Team", "location": "docs/plans.md", "from": "answer"}]  # fmt: skip


@pytest.mark.parametrize("switch", ["--no-log", "env", "profile"])
def test_logging_is_off_with_no_log_the_env_or_the_profile(fake_kb: FakeKB, log_file: Path, switch: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    args = ["--no-log"] if switch == "--no-log" else []
    if switch == "env":
        monkeypatch.setenv("KBCHAT_NO_LOG", "1")
    if switch == "profile":
        Path(os.environ["KBCHAT_CONFIG"]).write_text("[profiles.default]\nlog = false\n")
    assert ask(*args, "q").returncode == 0
    assert cli("chat", *CONN, *args, input="one\ntwo\n").returncode == 0
    assert not log_file.exists()


def test_a_log_that_cannot_be_written_is_one_warning(fake_kb: FakeKB, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("KBCHAT_LOG", str(tmp_path / "a-file" / "log.db"))
    result = cli("chat", *CONN, input="one\ntwo\n")
    assert result.returncode == 0
    assert result.stdout == "answer to one\n\nanswer to two\n"
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("kbchat: warning: cannot open the answer log ") and "a-file" in warning


def test_each_chat_question_is_logged_with_its_tenant(fake_kb: FakeKB, log_file: Path) -> None:
    assert cli("chat", *CONN, input="one\n/tenant globex\ntwo\n").returncode == 0
    assert [(e["question"], e["tenant"]) for e in logged()] == [("one", "acme"), ("two", "globex")]


def test_demo_logs_its_answers(log_file: Path) -> None:
    assert cli("demo", "what are the products?").returncode == 0
    assert cli("demo", "--no-log", "who founded it?").returncode == 0
    (entry,) = logged()
    assert (entry["question"], entry["tenant"], entry["status"]) == ("what are the products?", "demo", "ok")
    assert "Pinecrest" in entry["answer"] and entry["sources"] == []


def test_demo_follows_up_too(log_file: Path) -> None:
    assert cli("demo", "what are the plans?").returncode == 0
    result = cli("demo", "-c", "--code", "and single sign-on?")
    assert result.returncode == 1 and result.stderr.endswith("kbchat: error: the answer has no code block\n")
    first, second = logged()
    assert (
        second["continues"] == first["id"]
        and second["query"] == "what are the plans?\n\nFollow-up question: and single sign-on?"
    )
    assert cli("demo", "--cid", "1").returncode == 2  # shapes one answer: needs a QUESTION


def test_an_answer_whose_reader_left_is_logged(server: ScriptedServer, log_file: Path) -> None:
    """`kbchat ask … | head -1`: what was read before the reader left is kept."""
    reader_left = threading.Event()
    server.queue(Reply([sse("line 0\n", done=False), reader_left, sse("line 1\n" * 5000)]))
    proc = subprocess.Popen([sys.executable, "-m", "kbchat", *ask_args(server), "q"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=kbchat_env(KBCHAT_LOG=str(log_file)))  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == b"line 0\n"
    proc.stdout.close()
    reader_left.set()
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 141 and err == b""
    (entry,) = logged()
    assert entry["status"] == "cancelled" and entry["error"] == "the reader of stdout went away"  # nothing failed
    assert entry["answer"].startswith("line 0\n")


# --- kbchat log ----------------------------------------------------------------------------


def fill(fake_kb: FakeKB, *questions: str, tenant: str = "acme") -> None:
    for question in questions:
        assert cli("ask", *CONN[:4], "--tenant", tenant, question).returncode == 0


def test_log_lists_the_last_ten_oldest_first(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, *(f"question number {n}" for n in range(12)))
    result = cli("log")
    lines = result.stdout.splitlines()
    assert len(lines) == 20 and lines[0].startswith("#3  ") and lines[0].endswith("acme  question number 2")
    assert lines[1] == "    answer to question number 2" and lines[-2].startswith("#12  ")
    assert [e["id"] for e in json.loads("[" + ",".join(cli("log", "--json", "-n", "3").stdout.splitlines()) + "]")] \
        == [10, 11, 12]  # fmt: skip


def test_log_search_and_tenant(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, "what are the plans?", "who founded it?")
    fill(fake_kb, "plans for globex?", tenant="globex")
    assert [e["id"] for e in logged()] == [1, 2, 3]
    found = cli("log", "--json", "-q", "plans")
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == [1, 3]
    found = cli("log", "--json", "-q", "plans", "--tenant", "globex")
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == [3]
    none = cli("log", "-q", "nothing")
    assert (none.returncode, none.stdout, none.stderr) == (0, "", "kbchat: no entries match\n")


def test_bad_search_syntax_is_one_line_and_exit_2(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, "q")
    result = cli("log", "-q", '"unclosed')
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith('kbchat: error: cannot search the log for ""unclosed"')


def test_an_empty_log_says_so_and_creates_nothing(log_file: Path) -> None:
    result = cli("log")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "kbchat: the answer log is empty\n")
    assert cli("log", "show", "last").returncode == 2
    assert not log_file.exists()


def test_log_show_piped_is_the_answer_as_received(fake_kb: FakeKB, log_file: Path) -> None:
    fake_kb.answers.append(["**bold** \x1b[31mred", "\n"])
    fake_kb.answers.append(["no newline at the end"])
    fill(fake_kb, "first", "second")
    assert cli("log", "show", "1").stdout == "**bold** \x1b[31mred\n"
    assert cli("log", "show", "last").stdout == "no newline at the end\n"


@pytest.mark.parametrize("args", [["show", "42"], ["show", "x"], ["rm", "42"], ["rm", "1", "x"]])
def test_an_unknown_id_is_exit_2_and_one_error_line(fake_kb: FakeKB, log_file: Path, args: list[str]) -> None:
    fill(fake_kb, "q")
    result = cli("log", *args)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("kbchat: error: no log entry ")
    assert len(logged()) == 1


def test_log_rm_and_rm_all(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, "one", "two", "three", "four")
    result = cli("log", "rm", "1", "3")
    assert (result.returncode, result.stderr) == (0, "kbchat: removed 2 entries\n")
    assert [e["question"] for e in logged()] == ["two", "four"]
    assert cli("log", "rm").returncode == 2 and cli("log", "rm", "2", "--all").returncode == 2
    assert cli("log", "rm", "--all").stderr == "kbchat: removed 2 entries\n"
    assert logged() == []


def test_log_export_is_markdown_under_each_question(fake_kb: FakeKB, log_file: Path, tmp_path: Path) -> None:
    fake_kb.answers.append(["The **plans**:\n\n- Free\n- Team\n"])
    fake_kb.answers.append(["part", KeyboardInterrupt()])
    fill(fake_kb, "what are\nthe plans?")
    ask("and \x1b[2Jprices?")
    target = tmp_path / "export.md"
    result = cli("log", "export", "-o", str(target))
    assert (result.returncode, result.stderr) == (0, f"kbchat: exported 2 entries to {target}\n")
    text = target.read_text()
    assert text.startswith("# kbchat answer log\n\n## what are the plans?\n\n*#1 · ")
    assert "acme" in text and "\n\nThe **plans**:\n\n- Free\n- Team\n\n## and ␛[2Jprices?\n\n*#2 · " in text
    assert text.endswith("\n\npart\n\n*[cancelled]*\n")
    assert not POSIX_MODES or stat.S_IMODE(target.stat().st_mode) == 0o600
    assert cli("log", "export").stdout == text


def test_log_path_is_where_the_log_is(log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("log", "path").stdout == f"{log_file}\n"
    monkeypatch.delenv("KBCHAT_LOG")
    assert cli("log", "path").stdout == f"{Path(os.environ['XDG_DATA_HOME']) / 'kbchat' / 'log.db'}\n"


def test_the_list_is_one_line_per_field_whatever_the_text(fake_kb: FakeKB, log_file: Path) -> None:
    fake_kb.answers.append(["line one\n\nline \x1b]52;c;ZXZpbA==\x07two " + "word " * 100])
    fill(fake_kb, "a question\nover two lines \u202e")
    head, preview = cli("log").stdout.splitlines()
    assert head.endswith("a question over two lines <U+202E>")
    assert preview.startswith("    line one line ␛]52;c;ZXZpbA==␇two word") and preview.endswith("…")
    assert len(preview) <= 120


# --- follow-ups ----------------------------------------------------------------------------


def test_continue_sends_the_previous_question_along(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, "what are the plans?")
    assert ask("-c", "and", "the", "prices?").returncode == 0
    assert fake_kb.asked[-1][0] == "what are the plans?\n\nFollow-up question: and the prices?"
    assert ask("--continue", "in euros?").returncode == 0
    assert fake_kb.asked[-1][0] == ("what are the plans?\n\nFollow-up question: and the prices?"
                                    "\n\nFollow-up question: in euros?")  # fmt: skip
    entries = logged()
    assert [(e["question"], e["continues"]) for e in entries] == [
        ("what are the plans?", None), ("and the prices?", 1), ("in euros?", 2)]  # fmt: skip


def test_cid_follows_a_given_exchange(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, "about plans", "about people")
    assert ask("--cid", "1", "more?").returncode == 0
    assert fake_kb.asked[-1][0] == "about plans\n\nFollow-up question: more?"
    assert logged()[-1]["continues"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "q"], "the answer log is empty"),
        (["--cid", "7", "q"], "no log entry 7"),
        (["-c", "--cid", "1", "q"], "give one of them"),
    ],
)
def test_follow_up_errors_send_nothing(fake_kb: FakeKB, log_file: Path, args: list[str], message: str) -> None:
    result = ask(*args)
    assert result.returncode == 2 and message in result.stderr and fake_kb.asked == []


def test_a_follow_up_without_logging_reads_the_log_but_adds_nothing(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, "about plans")
    assert ask("--no-log", "-c", "more?").returncode == 0
    assert fake_kb.asked[-1][0] == "about plans\n\nFollow-up question: more?"
    assert len(logged()) == 1


def test_the_carried_context_is_bounded() -> None:
    long = "word " * 2000
    query = follow_up(long, "next?")
    earlier, _, question = query.partition("\n\n" + FOLLOW_UP)
    assert question == "next?" and earlier.startswith("…word") and len(earlier) <= CONTEXT + 1
    assert follow_up("short one", "next?") == "short one\n\nFollow-up question: next?"


# --- --code -------------------------------------------------------------------------------


def test_code_prints_only_the_code_blocks(fake_kb: FakeKB, log_file: Path) -> None:
    fake_kb.answers.append(["Run this:\n\n```sh\nls -la\n", "echo hi\n```\n\nthen:\n\n~~~\nexit\n~~~\n"])
    result = ask("--code", "how?")
    assert (result.returncode, result.stdout) == (0, "ls -la\necho hi\n\nexit\n")
    assert logged()[0]["answer"].startswith("Run this:")


def test_code_with_no_code_block_is_exit_1(fake_kb: FakeKB, log_file: Path) -> None:
    fake_kb.answers.append(["Just prose."])
    result = ask("--code", "how?")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "kbchat: error: the answer has no code block\n"


def test_code_keeps_an_unclosed_block(fake_kb: FakeKB) -> None:
    fake_kb.answers.append(["```python\nprint(1)\nprint(2)"])
    assert ask("--code", "--no-log", "how?").stdout == "print(1)\nprint(2)\n"


def test_code_is_one_output_mode(fake_kb: FakeKB) -> None:
    result = ask("--code", "--json", "q")
    assert result.returncode == 2 and "choose one output mode" in result.stderr


def test_entries_written_by_an_older_kbchat_show_too(fake_kb: FakeKB, log_file: Path) -> None:
    fill(fake_kb, "q")
    with AnswerLog.open(log_file) as log:
        log.db.execute("UPDATE exchanges SET sources = ?", (json.dumps([{"title": "T", "future_key": 1}]),))
    assert "T" in cli("log", "export").stdout


def test_a_reader_that_left_a_windows_pipe_is_the_same_ending(server: ScriptedServer, log_file: Path) -> None:
    """On Windows a write to a pipe whose reader left may raise OSError EINVAL, not BrokenPipeError (CPython
    #79935): it was an "unexpected OSError", exit 1. Simulated: the Windows reading, and a stdout that fails so."""
    server.queue(Reply([sse("line 0\n", done=False), sse("line 1\n")]))
    prelude = (
        "import errno, io, sys\nimport kbchat.errors\nkbchat.errors.WINDOWS = True\n"
        "class Gone(io.TextIOWrapper):\n"
        "    def write(self, text):\n"
        "        if 'line 1' in text: raise OSError(errno.EINVAL, 'Invalid argument')\n"
        "        return super().write(text)\n"
        "sys.stdout = Gone(sys.stdout.buffer, encoding='utf-8')\n"
        "from kbchat.cli import main\nmain(prog_name='kbchat')"
    )
    result = subprocess.run([sys.executable, "-c", prelude, *ask_args(server), "q"], capture_output=True,
                            stdin=subprocess.DEVNULL, env=kbchat_env(KBCHAT_LOG=str(log_file)), timeout=20)  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (141, b"line 0\n", b"")
    (entry,) = logged()
    assert entry["status"] == "cancelled" and entry["error"] == "the reader of stdout went away"
