"""The work behind `kbchat ask`, `kbchat chat` and `kbchat demo`: settings, then the Asker.

Free of Typer, so that kbchat.cli's fast path can run it before the command framework
loads (~100 ms); commands/ask.py and commands/chat.py declare the same commands for Typer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kbchat.errors import ExitCode

if TYPE_CHECKING:
    from kbchat.ask_options import AskOptions, CommonOptions
    from kbchat.asker import Asker
    from kbchat.settings import ConnectionOptions, Settings
    from kbchat.terminal import Terminal


def ask_command(
    term: Terminal, words: Sequence[str], *, connection: ConnectionOptions, options: AskOptions, common: CommonOptions
) -> None:
    """`kbchat ask` with its options parsed; ends the process through reporting's exit codes."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings
    from kbchat.question import build_question, read_stdin

    term = term.without_color() if common.no_color else term
    with reported(term, common.debug):
        options.check()
        text = build_question(words, read_stdin(words, term))
        answer_one(term, ready_settings(connection, term), text, options, common.verbose)


def chat_command(term: Terminal, *, connection: ConnectionOptions, options: AskOptions, common: CommonOptions) -> None:
    """`kbchat chat` with its options parsed: the chat until Ctrl-D, /exit or the end of piped input."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings

    term = term.without_color() if common.no_color else term
    code: int = ExitCode.OK
    with reported(term, common.debug):
        code = chat(term, ready_settings(connection, term), options, common.verbose)
    raise SystemExit(code)


def answer_one(term: Terminal, settings: Settings, text: str, options: AskOptions, verbose: bool) -> None:
    """One question, answered and logged; raises how it ended (`ask`, `demo QUESTION`)."""
    from kbchat.commands.reporting import settle

    with open_asker(term, settings, verbose, one_answer=True) as asker:
        turn = asker.ask(text, options)
    settle(turn)


def chat(term: Terminal, settings: Settings, options: AskOptions, verbose: bool) -> int:
    """The chat over one connection, each exchange logged; its exit code (`kbchat chat`, `kbchat demo`)."""
    from kbchat.repl import run_chat

    with open_asker(term, settings, verbose) as asker:
        return run_chat(asker, options)


def open_asker(
    term: Terminal, settings: Settings, verbose: bool, one_answer: bool = False, via: str | None = None
) -> Asker:
    """An Asker over a knowledge base connected on first use (the chat's prompt shows before requests loads).

    `via`: what asks, when not a person (`mcp`), for the answer log."""
    from kbchat.asker import Asker
    from kbchat.kb import LaterKB
    from kbchat.memory import Memory
    from kbchat.trace import make_trace

    trace = make_trace(term.err, verbose)
    return Asker(settings, term, LaterKB(settings, trace), Memory(term, via=via), trace, one_answer=one_answer)
