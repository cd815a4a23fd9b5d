"""The REPL in a real pseudo-terminal, as a person types into it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import KEY, kbchat_env
from tests.pty_screen import PtySession
from tests.scripted_server import Reply, ScriptedServer, Stall, sse

pytestmark = pytest.mark.pty

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def repl(server: ScriptedServer, *extra: str) -> PtySession:
    env = kbchat_env(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
    session = PtySession("chat", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme", *extra, env=env)
    session.wait_for(lambda text: "acme>" in text)
    return session


def type_line(session: PtySession, text: str) -> None:
    session.child.send(text + "\r")


def test_question_answered_then_ctrl_d_leaves_with_0(server: ScriptedServer) -> None:
    server.queue(Reply([sse("The answer", " is here.")]))
    session = repl(server)
    assert "kbchat chat with 127.0.0.1" in session.text and "tenant acme" in session.text
    type_line(session, "what is it?")
    session.wait_for(lambda text: "The answer is here." in text and text.rstrip().endswith("acme>"))
    session.child.sendcontrol("d")
    assert session.finish() == 0
    assert server.requests[0].json()["query"] == "what is it?"


def test_ctrl_c_cancels_the_answer_and_the_next_question_works(server: ScriptedServer) -> None:
    server.queue(Reply([sse("Half an", done=False), Stall()]), Reply([sse("Second answer.")]))
    session = repl(server)
    type_line(session, "first")
    session.wait_for(lambda text: "Half an" in text)
    session.child.kill(signal.SIGINT)
    session.wait_for(lambda text: "[cancelled]" in text and text.rstrip().endswith("acme>"))
    assert server.closed.wait(2)
    type_line(session, "second")
    session.wait_for(lambda text: "Second answer." in text)
    session.child.sendcontrol("d")
    assert session.finish() == 0
    assert "Traceback" not in session.text


def test_history_survives_a_restart_and_never_holds_the_key(server: ScriptedServer) -> None:
    server.queue(Reply([sse("one")]), Reply([sse("two")]))
    first = repl(server)
    type_line(first, "remember this question")
    first.wait_for(lambda text: "one" in text.split("remember this question", 1)[-1])
    type_line(first, f"is {KEY} secret")
    first.wait_for(lambda text: "two" in text.split("secret", 1)[-1])
    first.child.sendcontrol("d")
    first.finish()
    second = repl(server)
    second.child.send("\x1b[A")  # Up: the previous question comes back
    second.wait_for(lambda text: "acme> remember this question" in text)
    second.child.sendcontrol("c")
    second.child.sendcontrol("d")
    assert second.finish() == 0
    history = next(Path(kbchat_env()["XDG_STATE_HOME"]).rglob("history")).read_text()
    assert "remember this question" in history and KEY not in history


def test_pasted_lines_are_one_question(server: ScriptedServer) -> None:
    server.queue(Reply([sse("ok")]), Reply([sse("ok")]), Reply([sse("ok")]))
    session = repl(server)
    session.child.send(f"{PASTE_START}first line\nsecond line\nthird{PASTE_END}")
    session.wait_for(lambda text: "third" in text)
    session.child.send("\r")
    session.wait_for(lambda text: "ok" in text and text.rstrip().endswith("acme>"))
    session.child.send("alt\x1b\renter\r")  # Alt-Enter (ESC, CR) inserts a newline
    session.wait_for(lambda text: text.count("ok") >= 2 and text.rstrip().endswith("acme>"))
    session.child.send("back\\\rslash\r")  # a trailing backslash continues the question
    session.wait_for(lambda text: text.count("ok") >= 3)
    session.child.sendcontrol("d")
    session.finish()
    assert [r.json()["query"] for r in server.requests] == [
        "first line\nsecond line\nthird",
        "alt\nenter",
        "back\nslash",
    ]


def test_an_unwritable_state_dir_keeps_history_for_the_session_only(server: ScriptedServer, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    server.queue(Reply([sse("still answered")]))
    env = kbchat_env(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", XDG_STATE_HOME=str(blocker))
    session = PtySession("chat", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme", env=env)
    session.wait_for(lambda text: "kbchat: warning: history is kept for this session only: cannot write" in text)
    type_line(session, "a question")
    session.wait_for(lambda text: "still answered" in text and text.rstrip().endswith("acme>"))
    session.child.send("\x1b[A")  # Up still brings the question back within the session
    session.wait_for(lambda text: text.rstrip().endswith("acme> a question"))
    session.child.sendcontrol("c")
    session.child.sendcontrol("d")
    assert session.finish() == 0


def test_config_set_api_key_asks_for_the_key_unseen() -> None:
    session = PtySession("config", "set", "api_key")
    session.wait_for(lambda text: "API key (typing is not shown):" in text)
    session.child.send("sk-typed-secret-0123456789\r")
    assert session.finish() == 0
    assert "sk-typed" not in session.text and "api_key = ****" in session.text
    config = Path(kbchat_env()["KBCHAT_CONFIG"]).read_text()
    assert 'api_key = "sk-typed-secret-0123456789"' in config


def test_demo_suggests_questions_it_answers() -> None:
    from kbchat.server.run import SAMPLE_QUESTIONS

    session = PtySession("demo", rows=40, cols=120, env=kbchat_env(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1"))
    session.wait_for(lambda text: "demo>" in text)
    assert "Try: " + "\n     ".join(SAMPLE_QUESTIONS) in session.text
    type_line(session, SAMPLE_QUESTIONS[0])
    session.wait_for(lambda text: "$79" in text and "Plans and pricing" in text, timeout=30)
    session.child.sendcontrol("c")  # the rest is typed at a reader's pace: enough seen
    session.wait_for(lambda text: text.rstrip().endswith("demo>"), timeout=30)
    session.child.sendcontrol("d")
    assert session.finish() == 0
