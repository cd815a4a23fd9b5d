"""The chat: one question after another, on one connection to the knowledge base.

    session.py   what the chat remembers, its slash commands (pure)
    prompt.py    the prompt a person types at (prompt_toolkit)

On a terminal the answers are drawn live; with stdin piped each non-empty line is a
question (or a slash command) answered in plain text, and the exit code adds up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from kbchat.clipboard import copy
from kbchat.repl.session import ChatSession, run_loop
from kbchat.safe import display_url, one_line, terminal_safe
from kbchat.settings import DEFAULT_PROFILE, Settings
from kbchat.terminal import quiet_keyboard

if TYPE_CHECKING:
    from kbchat.ask_options import AskOptions
    from kbchat.asker import Asker


def run_chat(asker: Asker, options: AskOptions) -> int:
    """Chat until Ctrl-D, /exit or the end of piped input; the exit code. Each question goes through the Asker."""
    term = asker.term
    scripted = not term.stdin_is_tty
    options = dataclasses.replace(options, cite=asker.cites(options))  # the profile's `cite = true`, until /cite off
    session = ChatSession(asker, term, dataclasses.replace(options, plain=True) if scripted else options,
                          scripted=scripted, copy=lambda text, what: copy(term, text, what))  # fmt: skip
    if scripted:
        assert term.stdin is not None
        return run_loop(session, line_reader(term.stdin))
    session.clear_screen = term.clear_screen
    session.say(welcome(session.settings))
    with quiet_keyboard(term):
        # The prompt shows at once; the line editor (~250 ms of imports) takes over when loaded,
        # with whatever was typed meanwhile: echo is off and keys wait as bytes until then.
        placeholder = term.is_tty and not term.dumb
        if placeholder:
            print(term.paint(prompt_label(session), "1") + "> ", end="", file=term.out, flush=True)
        from kbchat.repl.prompt import edit_in_editor, history_path, prompt_reader

        if placeholder:
            term.erase_line()
        session.edit = edit_in_editor
        read = prompt_reader(lambda: prompt_label(session), history_path(), session.settings.api_key, term.warn)
        return run_loop(session, read)


def welcome(settings: Settings) -> str:
    host = urlsplit(display_url(settings.base_url)).netloc
    profile = "" if settings.profile == DEFAULT_PROFILE else f", profile {settings.profile}"
    return terminal_safe(
        f"kbchat chat with {host}, tenant {settings.tenant}{profile}. /help for commands, Ctrl-D to leave."
    )


def prompt_label(session: ChatSession) -> str:
    """`acme`, `work:acme` for another profile, then ` [context]` while follow-ups are on, ` [cite]` while
    sentences are matched to passages."""
    settings = session.settings
    tenant = settings.tenant or ""
    label = tenant if settings.profile == DEFAULT_PROFILE else f"{settings.profile}:{tenant}"
    return one_line(label) + (" [context]" if session.context else "") + (" [cite]" if session.options.cite else "")


def line_reader(stream: TextIO) -> Callable[[], str]:
    """Piped input: one question (or /command) per non-empty line."""
    lines: Iterator[str] = (line.rstrip("\r\n") for line in stream)

    def read() -> str:
        for line in lines:
            if line.strip():
                return line
        raise EOFError

    return read
