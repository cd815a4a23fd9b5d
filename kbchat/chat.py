"""`kbchat chat`: the REPL on a terminal, one question per line when stdin is piped."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TextIO
from urllib.parse import urlsplit

from kbchat.ask import run_ask
from kbchat.config import DEFAULT_PROFILE, Settings
from kbchat.errors import Cancelled
from kbchat.events import Answer
from kbchat.question import stdin_is_tty
from kbchat.render import Mode, Terminal
from kbchat.repl import ChatSession, run_loop
from kbchat.safe import display_url
from kbchat.terminal import quiet_keyboard


def run_chat(settings: Settings, term: Terminal, verbose: bool = False, markdown: bool = True) -> int:
    """Chat until Ctrl-D, /exit or the end of piped input; the exit code."""
    interactive = stdin_is_tty()
    mode = Mode.AUTO if interactive else Mode.PLAIN

    def ask(question: str, current: Settings, answer: Answer, use_markdown: bool) -> None:
        try:
            run_ask(question, current, term, mode, verbose=verbose, answer=answer, markdown=use_markdown)
        except Cancelled:
            if not interactive:
                raise KeyboardInterrupt from None  # a script's Ctrl-C stops the whole run
            raise

    session = ChatSession(settings, ask, term.out, term.err, markdown=markdown)
    if not interactive:
        return run_loop(session, line_reader(sys.stdin))
    from kbchat.repl_prompt import history_path, prompt_reader

    session.clear_screen = lambda: print("\x1b[H\x1b[2J\x1b[3J", end="", file=term.out, flush=True)
    print(welcome(session.settings), file=term.err, flush=True)
    read = prompt_reader(lambda: prompt_label(session.settings), history_path(), settings.api_key, session.say)
    with quiet_keyboard(term):
        return run_loop(session, read)


def welcome(settings: Settings) -> str:
    host = urlsplit(display_url(settings.base_url)).netloc
    profile = "" if settings.profile == DEFAULT_PROFILE else f", profile {settings.profile}"
    return f"kbchat chat with {host}, tenant {settings.tenant}{profile}. /help for commands, Ctrl-D to leave."


def prompt_label(settings: Settings) -> str:
    tenant = settings.tenant or ""
    return tenant if settings.profile == DEFAULT_PROFILE else f"{settings.profile}:{tenant}"


def line_reader(stream: TextIO) -> Callable[[], str]:
    """Piped input: one question (or /command) per non-empty line."""
    lines: Iterator[str] = (line.rstrip("\r\n") for line in stream)

    def read() -> str:
        for line in lines:
            if line.strip():
                return line
        raise EOFError

    return read
