"""The chat loop without a terminal: commands, session state, transcript, piped mode."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from kbchat.ask_options import AskOptions
from kbchat.asker import Asker, Earlier, Turn
from kbchat.errors import HTTPStatusError
from kbchat.memory import Memory
from kbchat.repl.session import ChatSession, Command, parse_command, run_loop, suggest, transcript_markdown
from kbchat.settings import Settings
from kbchat.terminal import Terminal
from tests.conftest import KEY, ask_args, cli, kbchat_env, posix
from tests.fake_kb import FakeKB
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


class Chat:
    """A chat over the real Asker, a FakeKB and the answer log (in this test's data dir); what each question met."""

    def __init__(self, *answers: list[object], scripted: bool = True) -> None:
        self.kb = FakeKB(*answers)
        self.err = io.StringIO()
        term = Terminal(out=io.StringIO(), err=self.err, is_tty=False)
        settings = Settings(base_url="https://kb.example", api_key=KEY, tenant="acme")
        self.asker = RecordingAsker(settings, term, self.kb, Memory(term))
        self.session = ChatSession(self.asker, term, scripted=scripted)

    @property
    def asked(self) -> list[tuple[str, str, dict[str, object], bool]]:
        """(query, tenant, the other filters, Markdown on) of each question sent."""
        return [(query, filters["tenant_id"], {k: v for k, v in filters.items() if k != "tenant_id"}, options.markdown)
                for (query, filters), options in zip(self.kb.asked, self.asker.options, strict=True)]  # fmt: skip


class RecordingAsker(Asker):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.options: list[AskOptions] = []

    def ask(self, question: str, options: AskOptions, earlier: Earlier | None = None) -> Turn:
        self.options.append(options)
        return super().ask(question, options, earlier)


CANCELLED = ["part", KeyboardInterrupt()]


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
    chat = Chat()
    code = run(chat.session, "first?", "/tenant globex", "/filter tag_names=A,B", "/filter source=document",
               "/filter -source", "/markdown off", "second?", "", "^C", "/exit", "never asked")  # fmt: skip
    assert code == 0
    assert chat.asked == [("first?", "acme", {}, True), ("second?", "globex", {"tag_names": ["A", "B"]}, False)]
    assert "filters: tenant_id=globex tag_names=A,B" in chat.err.getvalue()


def test_retry_asks_the_last_question_again_with_current_settings() -> None:
    chat = Chat()
    run(chat.session, "q1", "/tenant other", "/retry")
    assert [(q, t) for q, t, _, _ in chat.asked] == [("q1", "acme"), ("q1", "other")]


def test_errors_are_shown_and_the_chat_goes_on() -> None:
    chat = Chat([HTTPStatusError(503, "Service Unavailable", "busy")], ["fine"])
    assert run(chat.session, "q1", "q2") == 1
    assert "kbchat: error: HTTP 503 Service Unavailable: busy" in chat.err.getvalue()
    assert [t.note for t in chat.session.transcript] == ["HTTP 503 Service Unavailable: busy", ""]


def test_a_cancelled_answer_is_kept_and_marked() -> None:
    chat = Chat(CANCELLED, ["fine"], scripted=False)
    assert run(chat.session, "q1", "q2") == 0
    assert [(t.answer.text, t.note) for t in chat.session.transcript] == [("part", "cancelled"), ("fine", "")]


def test_ctrl_c_stops_a_scripted_chat_with_130() -> None:
    chat = Chat(CANCELLED, ["fine"])
    assert run(chat.session, "q1", "q2") == 130
    assert [q for q, *_ in chat.asked] == ["q1"]


def test_a_person_leaves_with_0_whatever_failed_on_the_way() -> None:
    """Ctrl-D exits 0 in a chat on a terminal: each error was shown as it came."""
    chat = Chat([HTTPStatusError(503, "Service Unavailable", "busy")], scripted=False)
    assert run(chat.session, "/markdown", "q1", "/bogus", "q2") == 0
    assert "markdown on" in chat.err.getvalue() and "kbchat: error: unknown command /bogus" in chat.err.getvalue()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/bogus", "unknown command /bogus"),
        ("/exti", "did you mean /exit?"),
        ("/filter colour=red", "unknown filter key 'colour'"),
        ("/filter tag_names", "/filter KEY=VALUE"),
        ("/filter -source", "no source filter is set"),
        ("/markdown maybe", "/markdown on or /markdown off"),
        ("/sources maybe", "/sources on or /sources off"),
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
    chat = Chat()
    assert run(chat.session, line, "still here?") == 2
    assert message in chat.err.getvalue() and chat.err.getvalue().startswith("kbchat: error: ")
    assert chat.asked[-1][0] == "still here?"


def test_save_writes_markdown_without_the_key(tmp_path: Path) -> None:
    chat = Chat([f"answer to my key is {KEY}"], CANCELLED, scripted=False)
    target = tmp_path / "chat.md"
    run(chat.session, f"my key is {KEY}, what is it for?", "second", f"/save {target}")
    text = target.read_text()
    assert KEY not in text
    assert text == (
        "# kbchat transcript\n\n## my key is ****, what is it for?\n\nanswer to my key is ****\n\n"
        "## second\n\npart\n\n*[cancelled]*\n"
    )
    assert f"saved 2 questions to {target}" in chat.err.getvalue()


def test_context_makes_each_question_a_follow_up_and_the_log_says_what_each_continued() -> None:
    from kbchat.answer_log import AnswerLog, log_path

    chat = Chat()
    run(chat.session, "asked before", "/context on", "about plans", "and prices?", "in euros?", "/context off",
        "new subject", "/context")  # fmt: skip
    assert [q for q, *_ in chat.asked] == [
        "asked before",
        "about plans",  # the question before /context on stays out of it
        "about plans\n\nFollow-up question: and prices?",
        "about plans\n\nFollow-up question: and prices?\n\nFollow-up question: in euros?",
        "new subject",
    ]
    log = AnswerLog.open(log_path(os.environ))
    entries = log.entries(10, "", "")
    assert [(e.id, e.question, e.continues) for e in entries] == [
        (1, "asked before", None), (2, "about plans", None), (3, "and prices?", 2), (4, "in euros?", 3),
        (5, "new subject", None),
    ]  # fmt: skip
    assert "follow-ups on: each next question carries the one before" in chat.err.getvalue()
    assert chat.err.getvalue().rstrip().endswith("follow-ups off")


def test_the_prompt_shows_context() -> None:
    from kbchat.repl import prompt_label

    chat = Chat()
    assert prompt_label(chat.session) == "acme"
    run(chat.session, "/context on")
    assert prompt_label(chat.session) == "acme [context]"


def test_history_lists_this_chats_exchanges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBCHAT_NO_LOG", "1")
    chat = Chat(["one"], CANCELLED, ["three"], scripted=False)
    chat.asker.settings = Settings(base_url="https://kb.example", api_key=KEY, tenant="acme", log=False)
    run(chat.session, "/history", "first question", "second\nquestion " + "long " * 30, "third", "/history 2")
    lines = chat.err.getvalue().splitlines()
    assert lines[0] == "no exchanges yet"
    assert lines[-2].startswith("      2.  second question long long") and lines[-2].endswith("…  [cancelled]")
    assert lines[-1] == "      3.  third"


def test_history_shows_log_ids() -> None:
    chat = Chat()
    run(chat.session, "q", "q again", "/history")
    assert chat.err.getvalue().splitlines()[-2:] == ["      #1  q", "      #2  q again"]


def test_sources_on_lists_the_closest_passages_under_each_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    hit = {"id": "1", "score": 0.9, "payload": {"original_text": "Team: $29.", "title": "Plans", "document": "p.md"}}
    chat = Chat(["The Team plan is $29."], ["Anything else."])
    monkeypatch.setattr("kbchat.kb.connect", lambda settings, trace: chat.kb)  # the search's own connection
    chat.kb.search_bodies.append({"items": [hit], "total_found": 1})
    run(chat.session, "/sources on", "team price?", "/sources off", "more?")
    shown = chat.session.term.out.getvalue()  # type: ignore[attr-defined]
    assert shown.startswith("The Team plan is $29.\n") and "Closest passages" in shown and "Plans" in shown
    assert shown.endswith("Anything else.\n") and shown.count("Closest passages") == 1
    assert [q for q, _ in chat.kb.asked] == ["team price?", "team price?", "more?"]  # the answer, its search
    assert "sources on" in chat.err.getvalue() and "sources off" in chat.err.getvalue()


def test_copy_hands_the_last_answer_or_its_last_code_block_over() -> None:
    copied: list[tuple[str, str]] = []
    answer = "Try:\n\n```sh\nls\n```\n\nor\n\n```\npwd\n```\n"
    chat = Chat([answer], ["no code here"])
    chat.session.copy = lambda text, what: copied.append((text, what)) or f"copied {what}"
    run(chat.session, "how?", "/copy", "/copy code")
    assert copied == [(answer, "the last answer"), ("pwd", "its last code block")]
    assert "copied the last answer" in chat.err.getvalue()
    assert (
        run(chat.session, "and now?", "/copy code") == 2 and "the last answer has no code block" in chat.err.getvalue()
    )


def test_edit_asks_what_was_written_in_the_editor() -> None:
    chat = Chat()
    written = iter(["  a question\nover lines\n", "   \n"])
    chat.session.edit = lambda: next(written)
    run(chat.session, "/edit", "/edit")
    assert [q for q, *_ in chat.asked] == ["a question\nover lines"]
    assert "> a question\n> over lines\n" in chat.err.getvalue()  # the question it sent, shown
    assert "nothing to ask: the file was left empty" in chat.err.getvalue()


def test_transcript_markdown_of_nothing() -> None:
    assert transcript_markdown([], None) == "# kbchat transcript\n"


# --- piped mode, through the command line ---------------------------------------------------


def test_piped_chat_answers_each_line(server: ScriptedServer) -> None:
    server.queue(Reply([sse("one")]), Reply([sse("two\n")]))
    args = [a for a in ask_args(server) if a != "ask"]
    result = cli("chat", *args, input=b"first question\n\n   \n/tenant globex\nsecond question\n")
    assert (result.returncode, result.stdout) == (0, "one\n\ntwo\n")  # a blank line between answers
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
    chat = Chat()
    run(chat.session, "/context on", "acme's secret roadmap?", "/tenant globex", "and the plans?", "and prices?")
    assert [(q, t) for q, t, *_ in chat.asked] == [
        ("acme's secret roadmap?", "acme"),
        ("and the plans?", "globex"),  # acme's question never goes to globex
        ("and the plans?\n\nFollow-up question: and prices?", "globex"),
    ]
    assert "tenant: globex (follow-ups start afresh)" in chat.err.getvalue()


@posix("file modes (0600)")
def test_save_writes_a_private_file_whatever_the_umask(tmp_path: Path) -> None:
    import stat

    target = tmp_path / "chat.md"
    target.write_text("")
    target.chmod(0o644)
    chat = Chat()
    old = os.umask(0o022)
    try:
        run(chat.session, "q", f"/save {target}", f"/save {tmp_path / 'new.md'}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 == stat.S_IMODE((tmp_path / "new.md").stat().st_mode)
    assert "answer to q" in target.read_text()


ESCAPE = "t\x1b]0;owned\x07"


def test_values_with_escapes_are_shown_harmlessly() -> None:
    from kbchat.repl import prompt_label, welcome

    settings = Settings(base_url="https://kb.example", api_key=KEY, tenant=ESCAPE, profile=ESCAPE,
                        filters={"category_name": ESCAPE})  # fmt: skip
    chat = Chat()
    chat.asker.settings = settings
    run(chat.session, "/filters", "/tenant", f"/filter tag_names={ESCAPE}")
    shown = chat.err.getvalue() + welcome(settings) + prompt_label(chat.session)
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
    chat = Chat(scripted=False)
    chat.session.edit = edit_in_editor
    assert run(chat.session, "/edit", "still here?") == 0
    assert chat.err.getvalue().splitlines()[0].startswith(f"kbchat: error: {message}")
    assert [q for q, *_ in chat.asked] == ["still here?"]
