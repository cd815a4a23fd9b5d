"""Asking: the work behind `kbchat ask`, `kbchat chat` and `kbchat demo QUESTION`.

Free of Typer, so that kbchat.cli's fast path can run it before the command framework
loads (~100 ms); commands/ask.py and commands/chat.py declare the same commands for Typer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kbchat.errors import UsageError
from kbchat.settings import ConnectionOptions

if TYPE_CHECKING:
    from kbchat.render import Mode
    from kbchat.settings import Settings
    from kbchat.terminal import Terminal


def ask_command(
    words: Sequence[str],
    connection: ConnectionOptions,
    rich: bool = False,
    plain: bool = False,
    json: bool = False,
    output: Path | None = None,
    no_markdown: bool = False,
    no_color: bool = False,
    no_stream: bool = False,
    sources: bool = False,
    verbose: bool = False,
    debug: bool = False,
) -> None:
    """`kbchat ask` with its options parsed; ends the process through reporting's exit codes."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings
    from kbchat.question import build_question, read_stdin
    from kbchat.render import choose_mode
    from kbchat.terminal import Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        mode = choose_mode(rich=rich, plain=plain, json=json)
        text = build_question(words, read_stdin(words, term))
        settings = ready_settings(connection, term.err)
        answer_one(text, settings, term, mode, output=output, verbose=verbose, markdown=not no_markdown,
                   no_stream=no_stream, sources=sources)  # fmt: skip


def chat_command(
    connection: ConnectionOptions,
    no_markdown: bool = False,
    no_color: bool = False,
    verbose: bool = False,
    debug: bool = False,
) -> None:
    """`kbchat chat` with its options parsed: the chat until Ctrl-D, /exit or the end of piped input."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings
    from kbchat.kb import LaterKB
    from kbchat.repl import run_chat
    from kbchat.terminal import Terminal
    from kbchat.trace import make_trace

    term = Terminal.from_std(no_color=no_color)
    code = 0
    with reported(debug):
        settings = ready_settings(connection, term.err)
        with LaterKB(settings, make_trace(term.err, verbose)) as kb:
            code = run_chat(settings, term, kb, markdown=not no_markdown)
    raise SystemExit(code)


def answer_one(
    text: str,
    settings: Settings,
    term: Terminal,
    mode: Mode,
    output: Path | None = None,
    verbose: bool = False,
    markdown: bool = True,
    no_stream: bool = False,
    sources: bool = False,
) -> None:
    """One question through the pipeline; raises how it ended (exit codes are reporting's)."""
    from kbchat.commands.reporting import settle
    from kbchat.exchange import Question, exchange
    from kbchat.kb import connect
    from kbchat.render import make_renderer
    from kbchat.trace import make_trace

    question = Question(text, settings.request_filters(), no_stream=no_stream, closest=sources and not no_stream,
                        wait=settings.timeout)  # fmt: skip
    trace = make_trace(term.err, verbose)
    renderer = make_renderer(mode, term, markdown=markdown, sources=sources)
    with contextlib.ExitStack() as stack:
        copy_to = stack.enter_context(open_output(output)) if output else None
        kb = stack.enter_context(contextlib.closing(connect(settings, trace)))
        side = stack.enter_context(contextlib.closing(connect(settings, trace))) if question.closest else None
        answer = exchange(kb, question, renderer, side=side, copy_to=copy_to)
    settle(answer, mark_shown=renderer.marks_cancel and term.err_is_tty)


def open_output(path: Path) -> TextIO:
    """Open -o FILE before anything is sent, so a bad path fails fast."""
    try:
        return path.open("w", encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
