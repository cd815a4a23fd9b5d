"""The answer log on a real terminal and between real processes: `log show` and its pager,
/copy's OSC 52, /edit and Ctrl-X Ctrl-E, a chat writing while `kbchat log` reads."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kbchat.answer_log import AnswerLog, Entry
from tests.conftest import KEY, kbchat_env, run_kbchat
from tests.pty_screen import PtySession
from tests.scripted_server import Reply, ScriptedServer, sse

pytestmark = pytest.mark.pty

LONG_ANSWER = "# Plans\n\n**Team** costs $29.\n\n" + "".join(f"- item number {n}\n" for n in range(40))


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log.db"
    monkeypatch.setenv("KBCHAT_LOG", str(path))
    return path


def add(path: Path, question: str, answer: str, **fields: object) -> int:
    base: dict[str, object] = dict(status="ok", tenant="acme", base_url="https://kb.example", profile="default")
    with AnswerLog.open(path) as log:
        return log.add(Entry(question=question, answer=answer, **{**base, **fields}))  # type: ignore[arg-type]


def env(log_file: Path, **extra: str) -> dict[str, str]:
    return kbchat_env(TERM="xterm-256color", KBCHAT_LOG=str(log_file), PROMPT_TOOLKIT_NO_CPR="1", **extra)


def test_log_show_renders_the_answer_and_pages_a_long_one(log_file: Path) -> None:
    add(log_file, "what are the plans?", LONG_ANSWER, duration_ms=1200.0, status="cancelled")
    shown = PtySession("log", "show", "last", env=env(log_file, PAGER="less"))
    screen = shown.wait_for(lambda text: "item number 10" in text)
    lines = screen.splitlines()
    assert lines[0] == "what are the plans?" and lines[1].startswith("#1 · ") and lines[1].endswith("acme · 1.2 s")
    assert "Team costs $29." in screen and "**" not in screen and "ESC" not in screen
    assert "item number 39" not in screen  # the pager holds the rest
    shown.child.send("G")  # the end
    shown.wait_for(lambda text: "item number 39 [cancelled]" in text)
    shown.child.send("q")
    assert shown.finish() == 0


def test_log_show_of_a_short_answer_prints_it_directly(log_file: Path) -> None:
    add(log_file, "q", "**Short** answer.", status="failed", error="HTTP 503 Service Unavailable: busy")
    shown = PtySession("log", "show", "1", env=env(log_file, PAGER="/no/pager/needed"))
    assert shown.finish() == 0
    assert "Short answer." in shown.text and "[failed: HTTP 503 Service Unavailable: busy]" in shown.text


def test_log_list_on_a_terminal_fits_its_width(log_file: Path) -> None:
    add(log_file, "a question " * 20, "an answer " * 40, status="failed")
    listed = PtySession("log", cols=60, env=env(log_file))
    assert listed.finish() == 0
    head, preview = listed.text.strip().splitlines()
    assert len(head) == 60 and head.endswith("…") and preview.startswith("    [failed] an answer")


def fake_editor(tmp_path: Path, question: str) -> str:
    script = tmp_path / "editor"
    script.write_text(f'#!/bin/sh\nprintf "%s" "{question}" > "$1"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def chat(server: ScriptedServer, log_file: Path, **extra: str) -> PtySession:
    args = ("chat", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme")
    session = PtySession(*args, env=env(log_file, **extra))
    session.wait_for(lambda text: "acme>" in text)
    return session


def test_copy_puts_the_answer_on_the_clipboard_by_osc52(server: ScriptedServer, log_file: Path) -> None:
    server.queue(Reply([sse("The **answer** ✓", "\n\n```sh\nls -la\n```")]))
    session = chat(server, log_file, TERM_PROGRAM="WezTerm")
    session.child.send("what?\r")
    session.wait_for(lambda text: "ls -la" in text and text.rstrip().endswith("acme>"))
    session.child.send("/copy\r")
    session.wait_for(lambda text: "copied the last answer, 34 characters (OSC 52)" in text)
    session.child.send("/copy code\r")
    session.wait_for(lambda text: "copied its last code block, 6 characters (OSC 52)" in text)
    session.child.sendcontrol("d")
    assert session.finish() == 0
    answer = "The **answer** ✓\n\n```sh\nls -la\n```"
    assert f"\x1b]52;c;{base64.b64encode(answer.encode()).decode()}\x07".encode() in session.raw
    assert f"\x1b]52;c;{base64.b64encode(b'ls -la').decode()}\x07".encode() in session.raw


def test_edit_and_ctrl_x_ctrl_e_write_the_question_in_the_editor(
    server: ScriptedServer, log_file: Path, tmp_path: Path
) -> None:
    server.queue(Reply([sse("first answer")]), Reply([sse("second answer")]))
    session = chat(server, log_file, EDITOR=fake_editor(tmp_path, "written in the editor"), VISUAL="")
    session.child.send("/edit\r")
    session.wait_for(lambda text: "first answer" in text and text.rstrip().endswith("acme>"))
    session.child.sendcontrol("x")
    session.child.sendcontrol("e")
    session.wait_for(lambda text: "second answer" in text and text.rstrip().endswith("acme>"))
    session.child.sendcontrol("d")
    assert session.finish() == 0
    assert [r.json()["query"] for r in server.requests] == ["written in the editor"] * 2
    assert "Traceback" not in session.text


def test_context_on_shows_in_the_prompt_and_carries_the_subject(server: ScriptedServer, log_file: Path) -> None:
    server.queue(Reply([sse("Free and Team.")]), Reply([sse("$29.")]))
    session = chat(server, log_file)
    session.child.send("/context on\r")
    session.wait_for(lambda text: text.rstrip().endswith("acme [context]>"))
    session.child.send("what are the plans?\r")
    session.wait_for(lambda text: "Free and Team." in text and text.rstrip().endswith("acme [context]>"))
    session.child.send("and team?\r")
    session.wait_for(lambda text: "$29." in text and text.rstrip().endswith("acme [context]>"))
    session.child.send("/history\r")
    session.wait_for(lambda text: "#2  and team?" in text)
    session.child.sendcontrol("d")
    assert session.finish() == 0
    assert server.requests[1].json()["query"] == "what are the plans?\n\nFollow-up question: and team?"


def test_a_chat_writes_while_kbchat_log_reads(server: ScriptedServer, log_file: Path) -> None:
    """Two processes on one log: the chat holds it open between answers, `kbchat log` reads and prunes."""
    server.queue(Reply([sse("answer one")]), Reply([sse("answer two")]), Reply([sse("answer three")]))
    chat = subprocess.Popen(
        [sys.executable, "-m", "kbchat", "chat", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(log_file),
    )  # fmt: skip
    assert chat.stdin is not None and chat.stdout is not None

    def ask(question: str, answer: str) -> None:
        chat.stdin.write(f"{question}\n".encode())  # type: ignore[union-attr]
        chat.stdin.flush()  # type: ignore[union-attr]
        line = chat.stdout.readline()  # type: ignore[union-attr]
        line = chat.stdout.readline() if line == b"\n" else line  # type: ignore[union-attr]  # between answers
        assert line == f"{answer}\n".encode()

    def listed() -> list[str]:
        result = run_kbchat("log", "--json", env=env(log_file))
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["answer"] for line in result.stdout.splitlines()]

    try:
        ask("one", "answer one")
        assert listed() == ["answer one"]
        ask("two", "answer two")
        assert run_kbchat("log", "rm", "1", env=env(log_file)).returncode == 0
        ask("three", "answer three")
        assert listed() == ["answer two", "answer three"]
    finally:
        _, err = chat.communicate(timeout=20)
    assert chat.returncode == 0 and err == b""
    assert stat.S_IMODE(os.stat(log_file).st_mode) == 0o600
