"""The chat's session: questions and slash commands. Pure: input, answering, the log,
the clipboard and the editor are passed in.

The API keeps no conversation: the session keeps what the user set (tenant, filters,
Markdown, follow-ups) and the exchanges so far, for /history, /copy, /retry and /save.
With /context on, each question is a follow-up: its query carries the previous one's.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kbchat.ask_options import CHAT_TAKES, AskOptions
from kbchat.asker import Earlier, Turn
from kbchat.declared import declarations
from kbchat.errors import ExitCode, UsageError
from kbchat.settings import Settings, add_filter, check_filter_key
from kbchat.terminal import Terminal
from kbchat.wire import FILTER_KEYS

TOGGLES = {name: declared.toggle for name, declared in declarations(AskOptions).items() if name in CHAT_TAKES}
COMMANDS = {
    "help": "list the commands",
    "exit": "leave (also /quit, Ctrl-D)",
    "quit": "leave",
    "clear": "clear the screen",
    "tenant": "/tenant ID: ask this tenant from now on",
    "filter": "/filter KEY=VALUE adds a filter, /filter -KEY drops one",
    "filters": "show the tenant and filters in use",
    "retry": "ask the last question again",
    "save": "/save FILE: write the questions and answers so far as Markdown",
    **{name: f"/{name} on|off: {toggle}" for name, toggle in TOGGLES.items()},
    "context": "/context on|off: ask each next question as a follow-up of the one before",
    "history": "/history [N]: the last N exchanges of this chat (10)",
    "copy": "/copy: the last answer to the clipboard; /copy code: its last code block",
    "edit": "/edit: write the next question in $EDITOR (also Ctrl-X Ctrl-E at the prompt)",
}
HISTORY = 10


class Asking(Protocol):
    """What the chat asks through: kbchat.asker.Asker, or a stand-in in tests."""

    settings: Settings

    def ask(self, question: str, options: AskOptions, earlier: Earlier | None = None) -> Turn: ...

    def cites(self, options: AskOptions) -> bool: ...


@dataclass(frozen=True)
class Command:
    name: str
    arg: str


def parse_command(line: str) -> Command | None:
    """`/name arg` → Command; anything else is a question (None)."""
    text = line.strip()
    if not text.startswith("/") or text.startswith("//"):
        return None
    name, _, arg = text[1:].partition(" ")
    return Command(name.lower(), arg.strip())


def suggest(name: str) -> str:
    close = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.5)
    return f"; did you mean /{close[0]}?" if close else "; /help lists the commands"


@dataclass
class ChatSession:
    """What one chat remembers between questions."""

    asker: Asking
    term: Terminal
    options: AskOptions = field(default_factory=AskOptions)  # /markdown, /sources change them
    clear_screen: Callable[[], None] = lambda: None
    copy: Callable[[str, str], str] = lambda text, what: "no clipboard here"
    edit: Callable[[], str] | None = None
    context: bool = False
    context_from: int = 0  # the first exchange a follow-up may carry: none from before /context on or /tenant
    scripted: bool = False  # stdin piped: failures add up to the exit code, Ctrl-C stops the run
    transcript: list[Turn] = field(default_factory=list)
    exit_code: int = ExitCode.OK

    @property
    def settings(self) -> Settings:
        return self.asker.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.asker.settings = settings

    def handle(self, line: str) -> bool:
        """Act on one line of input; False when the user asked to leave."""
        command = parse_command(line)
        if command is None:
            question = line.strip().removeprefix("/") if line.strip().startswith("//") else line.strip()
            return self.ask_question(question) if question else True
        try:
            return self.run_command(command)
        except UsageError as err:
            self.term.error(str(err))
            self.failed(err.exit_code)
            return True

    def ask_question(self, question: str) -> bool:
        """Ask, show, remember (the Asker); False when the run must stop (Ctrl-C in a scripted chat)."""
        followed = self.context and len(self.transcript) > self.context_from
        if self.scripted and any(earlier.answer.text for earlier in self.transcript):
            self.term.out.write("\n")  # piped, one answer after another: a blank line between them
        turn = self.asker.ask(question, self.options, self.transcript[-1].earlier() if followed else None)
        self.transcript.append(turn)
        if turn.failure is not None and not turn.answer.cancelled:
            self.term.error(turn.note)
            self.failed(turn.failure.exit_code)
        if turn.answer.cancelled and self.scripted:
            self.failed(ExitCode.CANCELLED)
            return False
        return True

    def failed(self, code: int) -> None:
        """A scripted chat's exit code says the worst that happened; a person saw each error as it came."""
        if self.scripted:
            self.exit_code = max(self.exit_code, code)

    def run_command(self, command: Command) -> bool:
        name, arg = command.name, command.arg
        if name in ("exit", "quit"):
            return False
        if name == "help":
            width = max(map(len, COMMANDS))
            self.say("\n".join(f"  /{n:<{width}}  {text}" for n, text in COMMANDS.items()))
            self.say("  Enter sends; Alt-Enter or a trailing \\ starts a new line; Ctrl-C cancels an answer.")
        elif name == "clear":
            self.clear_screen()
        elif name == "tenant":
            self.set_tenant(arg)
        elif name == "filter":
            self.change_filter(arg)
        elif name == "filters":
            self.say(self.describe_filters())
        elif name == "retry":
            if not self.transcript:
                raise UsageError("nothing to retry yet")
            return self.ask_question(self.transcript[-1].question)
        elif name == "save":
            self.save(arg)
        elif name in TOGGLES:
            self.toggle(name, arg)
        elif name == "context":
            if arg not in ("", "on", "off"):
                raise UsageError("/context on or /context off")
            if arg == "on" and not self.context:  # from now on: a question asked before stays out of it
                self.context_from = len(self.transcript)
            if arg:
                self.context = arg == "on"
            self.say("follow-ups on: each next question carries the one before" if self.context else "follow-ups off")
        elif name == "history":
            self.history(arg)
        elif name == "copy":
            self.copy_answer(arg)
        elif name == "edit":
            return self.edit_question()
        else:
            raise UsageError(f"unknown command /{name}{suggest(name)}")
        return True

    def toggle(self, name: str, arg: str) -> None:
        """`/markdown on`: an answer option, changed for the questions that follow; alone, how it is."""
        if arg not in ("", "on", "off"):
            raise UsageError(f"/{name} on or /{name} off")
        if arg:
            changed: dict[str, Any] = {name: arg == "on"}
            self.options = dataclasses.replace(self.options, **changed)
        self.say(f"{name} {'on' if getattr(self.options, name) else 'off'}")

    def history(self, arg: str) -> None:
        if arg and not arg.isdigit():
            raise UsageError("/history N, N a number of exchanges")
        turns = self.transcript[-int(arg or HISTORY) :] if arg != "0" else []
        if not turns:
            self.say("no exchanges yet")
        for number, turn in enumerate(turns, len(self.transcript) - len(turns) + 1):
            label = f"#{turn.log_id}" if turn.log_id else f"{number}."
            question = " ".join(turn.question.split())
            question = question if len(question) <= 70 else question[:69] + "…"
            self.say(f"  {label:>6}  {question}" + (f"  [{turn.note}]" if turn.note else ""))

    def copy_answer(self, arg: str) -> None:
        from kbchat.render.blocks import code_blocks

        if arg not in ("", "code"):
            raise UsageError("/copy, or /copy code")
        if not self.transcript or not self.transcript[-1].answer.text:
            raise UsageError("no answer to copy yet")
        text = self.transcript[-1].answer.text
        if arg == "code":
            blocks = code_blocks(text)
            if not blocks:
                raise UsageError("the last answer has no code block")
            text = blocks[-1]
        self.say(self.copy(text, "its last code block" if arg else "the last answer"))

    def edit_question(self) -> bool:
        if self.edit is None:
            raise UsageError("/edit needs a terminal")
        question = self.edit().strip()
        if not question:
            self.say("nothing to ask: the file was left empty")
            return True
        self.say("\n".join(f"> {line}" for line in question.splitlines()))  # what was asked, as a prompt shows it
        return self.ask_question(question)

    def set_tenant(self, tenant: str) -> None:
        if not tenant:
            self.say(f"tenant: {self.settings.tenant}")
            return
        if " " in tenant:
            raise UsageError("a tenant id has no spaces")
        if tenant != self.settings.tenant:
            self.context_from = len(self.transcript)  # another tenant's questions never go to this one
        self.settings = dataclasses.replace(self.settings, tenant=tenant)
        self.say(f"tenant: {tenant}" + (" (follow-ups start afresh)" if self.context else ""))

    def change_filter(self, arg: str) -> None:
        filters = {k: list(v) if isinstance(v, list) else v for k, v in self.settings.filters.items()}
        if arg.startswith("-"):
            key = arg[1:].strip()
            check_filter_key(key)
            if filters.pop(key, None) is None:
                raise UsageError(f"no {key} filter is set")
        else:
            key, eq, value = arg.partition("=")
            key = key.strip()
            if not eq or not key or not value.strip():
                raise UsageError(f"/filter KEY=VALUE, with KEY one of: {', '.join(FILTER_KEYS)}")
            if key == "tenant_id":
                self.set_tenant(value.strip())
                return
            add_filter(filters, key, value)
        self.settings = dataclasses.replace(self.settings, filters=filters)
        self.say(self.describe_filters())

    def describe_filters(self) -> str:
        parts = [f"tenant_id={self.settings.tenant}"]
        parts += [f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in self.settings.filters.items()]
        return "filters: " + " ".join(parts)

    def save(self, name: str) -> None:
        if not name:
            raise UsageError("/save FILE")
        from kbchat.private import open_private

        path = Path(name).expanduser()
        try:
            with open_private(path) as file:  # the answers are as private as the log they are in
                file.write(transcript_markdown(self.transcript, self.settings.api_key))
        except OSError as err:
            raise UsageError(f"cannot write {path}: {err.strerror}") from None
        self.say(f"saved {len(self.transcript)} question{'s' * (len(self.transcript) != 1)} to {path}")

    def say(self, text: str) -> None:
        self.term.say(text)


def transcript_markdown(turns: list[Turn], secret: str | None) -> str:
    """The chat as Markdown: each question as a heading, its answer under it; never the key."""
    from kbchat.transcript import Written, exchanges_markdown

    return exchanges_markdown("kbchat transcript", (Written(t.question, t.answer.text, t.note) for t in turns), secret)


def run_loop(session: ChatSession, read_line: Callable[[], str]) -> int:
    """Read and handle lines until /exit or end of input; the exit code."""
    while True:
        try:
            line = read_line()
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line
        except EOFError:
            return session.exit_code
        if not session.handle(line):
            return session.exit_code
