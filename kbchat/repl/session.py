"""The chat's session: questions and slash commands. Pure: input and answering are passed in.

Each question is independent (the API keeps no conversation); the session keeps only
what the user set (tenant, filters, Markdown) and the transcript for /save.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from kbchat.errors import KBChatError, UsageError
from kbchat.events import Answer
from kbchat.exchange import outcome
from kbchat.safe import one_line
from kbchat.settings import Settings, add_filter, check_filter_key
from kbchat.wire import FILTER_KEYS

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
    "markdown": "/markdown on|off: render answers as Markdown, or show them literally",
}

AskFn = Callable[[str, Settings, bool, Answer], Answer]  # question, settings, Markdown on → the answer shown
CANCELLED = 130


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
class Turn:
    question: str
    answer: str
    note: str = ""  # "cancelled", or the error that ended it


@dataclass
class ChatSession:
    """What one chat remembers between questions."""

    settings: Settings
    ask: AskFn
    out: TextIO
    err: TextIO
    clear_screen: Callable[[], None] = lambda: None
    markdown: bool = True
    scripted: bool = False  # stdin piped: failures add up to the exit code, Ctrl-C stops the run
    transcript: list[Turn] = field(default_factory=list)
    exit_code: int = 0

    def handle(self, line: str) -> bool:
        """Act on one line of input; False when the user asked to leave."""
        command = parse_command(line)
        if command is None:
            question = line.strip().removeprefix("/") if line.strip().startswith("//") else line.strip()
            return self.ask_question(question) if question else True
        try:
            return self.run_command(command)
        except UsageError as err:
            self.say(f"kbchat: error: {one_line(str(err))}")
            self.failed(err.exit_code)
            return True

    def ask_question(self, question: str) -> bool:
        """Ask, show, remember; False when the run must stop (Ctrl-C in a scripted chat)."""
        answer = Answer(keep_text=True)
        note = ""
        try:
            answer = self.ask(question, self.settings, self.markdown, answer)
            if answer.cancelled:
                note = "cancelled"
            elif problem := outcome(answer):
                raise problem
        except KBChatError as err:
            note = one_line(str(err))
            self.say(f"kbchat: error: {note}")
            self.failed(err.exit_code)
        self.transcript.append(Turn(question, answer.text, note))
        if answer.cancelled and self.scripted:
            self.failed(CANCELLED)
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
        elif name == "markdown":
            if arg not in ("", "on", "off"):
                raise UsageError("/markdown on or /markdown off")
            if arg:
                self.markdown = arg == "on"
            self.say(f"Markdown rendering {'on' if self.markdown else 'off'}")
        else:
            raise UsageError(f"unknown command /{name}{suggest(name)}")
        return True

    def set_tenant(self, tenant: str) -> None:
        if not tenant:
            self.say(f"tenant: {self.settings.tenant}")
            return
        if " " in tenant:
            raise UsageError("a tenant id has no spaces")
        self.settings = dataclasses.replace(self.settings, tenant=tenant)
        self.say(f"tenant: {tenant}")

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
        path = Path(name).expanduser()
        try:
            path.write_text(transcript_markdown(self.transcript, self.settings.api_key), encoding="utf-8")
        except OSError as err:
            raise UsageError(f"cannot write {path}: {err.strerror}") from None
        self.say(f"saved {len(self.transcript)} question{'s' * (len(self.transcript) != 1)} to {path}")

    def say(self, text: str) -> None:
        print(text, file=self.err, flush=True)


def transcript_markdown(turns: list[Turn], secret: str | None) -> str:
    """The chat as Markdown: each question as a heading, its answer under it; never the key."""
    parts = ["# kbchat transcript\n"]
    for turn in turns:
        question = turn.question.replace("\n", " ")
        parts.append(f"## {question}\n\n{turn.answer.rstrip()}\n")
        if turn.note:
            parts.append(f"*[{turn.note}]*\n")
    text = "\n".join(parts)
    return text.replace(secret, "****") if secret else text


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
