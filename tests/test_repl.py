"""The chat loop without a terminal: commands, session state, transcript, piped mode."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kbchat.errors import HTTPStatusError
from kbchat.events import Answer, Content, Done
from kbchat.repl.session import ChatSession, Command, parse_command, run_loop, suggest, transcript_markdown
from kbchat.settings import Settings
from tests.conftest import KEY, ask_args, cli, kbchat_env
from tests.scripted_server import Reply, ScriptedServer, json_reply, sse


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("/help", Command("help", "")),
        ("  /TENANT  acme ", Command("tenant", "acme")),
        ("/filter tag_names=A,B", Command("filter", "tag_names=A,B")),
        ("/save ~/chat.md", Command("save", "~/chat.md")),
        ("what is /help?", None),
        ("//not a command", None),
        ("", None),
    ],
)
def test_parse_command(line: str, command: Command | None) -> None:
    assert parse_command(line) == command


def test_suggest() -> None:
    assert suggest("exti") == "; did you mean /exit?"
    assert suggest("zzzz") == "; /help lists the commands"


class Asker:
    """Stands in for the exchange: records each question with the settings it was asked under."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.asked: list[tuple[str, str, dict, bool]] = []

    def __call__(self, question: str, settings: Settings, markdown: bool, answer: Answer) -> Answer:
        self.asked.append((question, settings.tenant or "", dict(settings.filters), markdown))
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        answer.apply(Content(f"answer to {question}" if outcome == "ok" else "part", ""))
        if outcome == "cancelled":
            answer.cancelled = True
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            answer.apply(Done())
        return answer


def session(kb: Asker, scripted: bool = True) -> tuple[ChatSession, io.StringIO]:
    err = io.StringIO()
    settings = Settings(base_url="https://kb.example", api_key=KEY, tenant="acme")
    return ChatSession(settings, kb, io.StringIO(), err, scripted=scripted), err


def run(chat: ChatSession, *lines: str) -> int:
    queue = list(lines)

    def read() -> str:
        if not queue:
            raise EOFError
        item = queue.pop(0)
        if item == "^C":
            raise KeyboardInterrupt
        return item

    return run_loop(chat, read)


def test_questions_tenant_filters_and_markdown_reach_the_asker() -> None:
    kb = Asker()
    chat, err = session(kb)
    code = run(chat, "first?", "/tenant globex", "/filter tag_names=A,B", "/filter source=document",
               "/filter -source", "/markdown off", "second?", "", "^C", "/exit", "never asked")  # fmt: skip
    assert code == 0
    assert kb.asked == [("first?", "acme", {}, True), ("second?", "globex", {"tag_names": ["A", "B"]}, False)]
    assert "filters: tenant_id=globex tag_names=A,B" in err.getvalue()


def test_retry_asks_the_last_question_again_with_current_settings() -> None:
    kb = Asker()
    chat, _ = session(kb)
    run(chat, "q1", "/tenant other", "/retry")
    assert [(q, t) for q, t, _, _ in kb.asked] == [("q1", "acme"), ("q1", "other")]


def test_errors_are_shown_and_the_chat_goes_on() -> None:
    kb = Asker(HTTPStatusError(503, "Service Unavailable", "busy"), "ok")
    chat, err = session(kb)
    assert run(chat, "q1", "q2") == 1
    assert "kbchat: error: HTTP 503 Service Unavailable: busy" in err.getvalue()
    assert [t.note for t in chat.transcript] == ["HTTP 503 Service Unavailable: busy", ""]


def test_a_cancelled_answer_is_kept_and_marked() -> None:
    chat, _ = session(Asker("cancelled", "ok"), scripted=False)
    assert run(chat, "q1", "q2") == 0
    assert [(t.answer, t.note) for t in chat.transcript] == [("part", "cancelled"), ("answer to q2", "")]


def test_ctrl_c_stops_a_scripted_chat_with_130() -> None:
    kb = Asker("cancelled", "ok")
    chat, _ = session(kb)
    assert run(chat, "q1", "q2") == 130
    assert [q for q, *_ in kb.asked] == ["q1"]


def test_a_person_leaves_with_0_whatever_failed_on_the_way() -> None:
    """Ctrl-D exits 0 in a chat on a terminal: each error was shown as it came."""
    kb = Asker(HTTPStatusError(503, "Service Unavailable", "busy"))
    chat, err = session(kb, scripted=False)
    assert run(chat, "/markdown", "q1", "/bogus", "q2") == 0
    assert "Markdown rendering on" in err.getvalue() and "kbchat: error: unknown command /bogus" in err.getvalue()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/bogus", "unknown command /bogus"),
        ("/exti", "did you mean /exit?"),
        ("/filter colour=red", "unknown filter key 'colour'"),
        ("/filter tag_names", "/filter KEY=VALUE"),
        ("/filter -source", "no source filter is set"),
        ("/markdown maybe", "/markdown on or /markdown off"),
        ("/retry", "nothing to retry yet"),
        ("/save", "/save FILE"),
        ("/tenant a b", "no spaces"),
        ("/context maybe", "/context on or /context off"),
        ("/history many", "/history N"),
        ("/copy", "no answer to copy yet"),
        ("/copy all", "/copy, or /copy code"),
        ("/edit", "/edit needs a terminal"),
    ],
)
def test_bad_commands_say_why_and_carry_on(line: str, message: str) -> None:
    kb = Asker()
    chat, err = session(kb)
    assert run(chat, line, "still here?") == 2
    assert message in err.getvalue() and err.getvalue().startswith("kbchat: error: ")
    assert kb.asked[-1][0] == "still here?"


def test_save_writes_markdown_without_the_key(tmp_path: Path) -> None:
    chat, err = session(Asker("ok", "cancelled"), scripted=False)
    target = tmp_path / "chat.md"
    run(chat, f"my key is {KEY}, what is it for?", "second", f"/save {target}")
    text = target.read_text()
    assert KEY not in text
    assert text == (
        "# kbchat transcript\n\n## my key is ****, what is it for?\n\nanswer to my key is ****, what is it for?\n\n"
        "## second\n\npart\n\n*[cancelled]*\n"
    )
    assert f"saved 2 questions to {target}" in err.getvalue()


def test_context_makes_each_question_a_follow_up() -> None:
    kb = Asker()
    remembered: list[tuple[str, str, int | None]] = []

    def remember(question: str, answer: Answer, failure: object, query: str, continues: int | None,
                 settings: Settings) -> int:  # fmt: skip
        remembered.append((question, query, continues))
        return len(remembered) + 40

    chat, err = session(kb)
    chat.remember = remember
    run(chat, "about plans", "/context on", "and prices?", "in euros?", "/context off", "new subject", "/context")
    assert [q for q, *_ in kb.asked] == [
        "about plans",
        "about plans\n\nFollow-up question: and prices?",
        "about plans\n\nFollow-up question: and prices?\n\nFollow-up question: in euros?",
        "new subject",
    ]
    assert [c for *_, c in remembered] == [None, 41, 42, None]
    assert [q for q, *_ in remembered] == ["about plans", "and prices?", "in euros?", "new subject"]
    assert "follow-ups on: each question carries the one before" in err.getvalue()
    assert err.getvalue().rstrip().endswith("follow-ups off")


def test_the_prompt_shows_context() -> None:
    from kbchat.repl import prompt_label

    chat, _ = session(Asker())
    assert prompt_label(chat) == "acme"
    run(chat, "/context on")
    assert prompt_label(chat) == "acme [context]"


def test_history_lists_this_chats_exchanges() -> None:
    chat, err = session(Asker("ok", "cancelled", "ok"), scripted=False)
    chat.remember = lambda *args: None
    run(chat, "/history", "first question", "second\nquestion " + "long " * 30, "third", "/history 2")
    lines = err.getvalue().splitlines()
    assert lines[0] == "no exchanges yet"
    assert lines[-2].startswith("      2.  second question long long") and lines[-2].endswith("…  [cancelled]")
    assert lines[-1] == "      3.  third"


def test_history_shows_log_ids() -> None:
    chat, err = session(Asker())
    chat.remember = lambda *args: 7
    run(chat, "q", "/history")
    assert err.getvalue().splitlines()[-1] == "      #7  q"


def test_copy_hands_the_last_answer_or_its_last_code_block_over() -> None:
    copied: list[tuple[str, str]] = []

    class CodeAsker(Asker):
        def __call__(self, question: str, settings: Settings, markdown: bool, answer: Answer) -> Answer:
            answer.apply(Content("Try:\n\n```sh\nls\n```\n\nor\n\n```\npwd\n```\n", ""))
            answer.apply(Done())
            return answer

    chat, err = session(CodeAsker())
    chat.copy = lambda text, what: copied.append((text, what)) or f"copied {what}"
    run(chat, "how?", "/copy", "/copy code")
    assert copied == [("Try:\n\n```sh\nls\n```\n\nor\n\n```\npwd\n```\n", "the last answer"),
                      ("pwd", "its last code block")]  # fmt: skip
    assert "copied the last answer" in err.getvalue()
    chat.transcript[-1] = chat.transcript[-1].__class__("q", "no code here")
    assert run(chat, "/copy code") == 2 and "the last answer has no code block" in err.getvalue()


def test_edit_asks_what_was_written_in_the_editor() -> None:
    kb = Asker()
    chat, err = session(kb)
    written = iter(["  a question\nover lines\n", "   \n"])
    chat.edit = lambda: next(written)
    run(chat, "/edit", "/edit")
    assert [q for q, *_ in kb.asked] == ["a question\nover lines"]
    assert "nothing to ask: the file was left empty" in err.getvalue()


def test_transcript_markdown_of_nothing() -> None:
    assert transcript_markdown([], None) == "# kbchat transcript\n"


# --- piped mode, through the command line ---------------------------------------------------


def test_piped_chat_answers_each_line(server: ScriptedServer) -> None:
    server.queue(Reply([sse("one")]), Reply([sse("two\n")]))
    args = [a for a in ask_args(server) if a != "ask"]
    result = cli("chat", *args, input=b"first question\n\n   \n/tenant globex\nsecond question\n")
    assert (result.returncode, result.stdout) == (0, "one\ntwo\n")
    assert [r.json()["query"] for r in server.requests] == ["first question", "second question"]
    assert [r.json()["filters"]["tenant_id"] for r in server.requests] == ["acme", "globex"]
    assert result.stderr == "tenant: globex\n"


def test_piped_chat_fails_when_any_answer_failed(server: ScriptedServer) -> None:
    server.queue(json_reply(400, {"detail": "Invalid filter: x"}), Reply([sse("fine")]))
    args = [a for a in ask_args(server) if a != "ask"]
    result = cli("chat", *args, input=b"q1\nq2\n")
    assert (result.returncode, result.stdout) == (1, "fine\n")
    assert result.stderr == "kbchat: error: HTTP 400 Bad Request: Invalid filter: x\n"


def test_piped_demo_chat() -> None:
    result = cli("demo", input=b"is my data encrypted\nrefund policy\n")
    assert result.returncode == 0
    assert "AES-256" in result.stdout and "refunded in full" in result.stdout


def test_chat_needs_a_key_like_ask() -> None:
    result = cli("chat", "--tenant", "acme", input=b"q\n", env=kbchat_env())
    assert result.returncode == 2 and "no API key" in result.stderr


def test_slash_completion() -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from kbchat.repl.prompt import SlashCompleter

    def complete(text: str) -> list[str]:
        return [c.text for c in SlashCompleter().get_completions(Document(text), CompleteEvent())]

    assert complete("/fi") == ["/filter", "/filters"]
    assert complete("/filter tag") == ["tag_ids=", "tag_names="]
    assert complete("/filter -so") == ["-source"]
    assert complete("/markdown o") == ["on", "off"]
    assert complete("a question") == [] and complete("/tenant x\n/fi") == []


def test_a_new_tenant_starts_the_context_afresh() -> None:
    kb = Asker()
    chat, err = session(kb)
    run(chat, "/context on", "acme's secret roadmap?", "/tenant globex", "and the plans?", "and prices?")
    assert [(q, t) for q, t, *_ in kb.asked] == [
        ("acme's secret roadmap?", "acme"),
        ("and the plans?", "globex"),  # acme's question never goes to globex
        ("and the plans?\n\nFollow-up question: and prices?", "globex"),
    ]
    assert "tenant: globex (follow-ups start afresh)" in err.getvalue()


def test_save_writes_a_private_file_whatever_the_umask(tmp_path: Path) -> None:
    import os
    import stat

    target = tmp_path / "chat.md"
    target.write_text("")
    target.chmod(0o644)
    chat, _ = session(Asker())
    old = os.umask(0o022)
    try:
        run(chat, "q", f"/save {target}", f"/save {tmp_path / 'new.md'}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 == stat.S_IMODE((tmp_path / "new.md").stat().st_mode)
    assert "answer to q" in target.read_text()


ESCAPE = "t\x1b]0;owned\x07"


def test_values_with_escapes_are_shown_harmlessly() -> None:
    from kbchat.repl import prompt_label, welcome

    settings = Settings(base_url="https://kb.example", api_key=KEY, tenant=ESCAPE, profile=ESCAPE,
                        filters={"category_name": ESCAPE})  # fmt: skip
    chat = ChatSession(settings, Asker(), io.StringIO(), err := io.StringIO())
    run(chat, "/filters", "/tenant", f"/filter tag_names={ESCAPE}")
    shown = err.getvalue() + welcome(settings) + prompt_label(chat)
    assert "\x1b" not in shown and "\x07" not in shown and shown.count("t␛]0;owned␇") == 10


@pytest.mark.parametrize(
    ("editor", "message"),
    [
        ('"unclosed', "$EDITOR is not a command line (No closing quotation)"),
        ("/no/such/editor --wait", "cannot run the editor /no/such/editor ($EDITOR)"),
    ],
)
def test_a_broken_editor_is_one_line_and_the_chat_goes_on(
    monkeypatch: pytest.MonkeyPatch, editor: str, message: str
) -> None:
    from kbchat.repl.prompt import edit_in_editor

    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor)
    kb = Asker()
    chat, err = session(kb, scripted=False)
    chat.edit = edit_in_editor
    assert run(chat, "/edit", "still here?") == 0
    assert err.getvalue().splitlines()[0].startswith(f"kbchat: error: {message}")
    assert [q for q, *_ in kb.asked] == ["still here?"]
