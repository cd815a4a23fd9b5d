"""Asking: the work behind `kbchat ask`, `kbchat chat` and `kbchat demo QUESTION`.

Free of Typer, so that kbchat.cli's fast path can run it before the command framework
loads (~100 ms); commands/ask.py and commands/chat.py declare the same commands for Typer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kbchat.errors import UsageError
from kbchat.memory import Memory
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
    code: bool = False,
    no_log: bool = False,
    follow: bool = False,
    cid: str | None = None,
) -> None:
    """`kbchat ask` with its options parsed; ends the process through reporting's exit codes."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings
    from kbchat.question import build_question, read_stdin
    from kbchat.render import choose_mode
    from kbchat.terminal import Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        mode = choose_mode(rich=rich, plain=plain, json=json, code=code)
        follows = followed(follow, cid)
        text = build_question(words, read_stdin(words, term))
        settings = ready_settings(replace(connection, log=False) if no_log else connection, term.err)
        answer_one(text, settings, term, mode, output=output, verbose=verbose, markdown=not no_markdown,
                   no_stream=no_stream, sources=sources, follows=follows)  # fmt: skip


def followed(follow: bool, cid: str | None) -> str | None:
    """The exchange a follow-up continues: `last` (-c), an id (--cid), or None."""
    if follow and cid:
        raise UsageError("--continue follows the last exchange, --cid ID another: give one of them")
    return "last" if follow else cid


def chat_command(
    connection: ConnectionOptions,
    no_markdown: bool = False,
    no_color: bool = False,
    verbose: bool = False,
    debug: bool = False,
    no_log: bool = False,
) -> None:
    """`kbchat chat` with its options parsed: the chat until Ctrl-D, /exit or the end of piped input."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings
    from kbchat.terminal import Terminal

    term = Terminal.from_std(no_color=no_color)
    code = 0
    with reported(debug):
        settings = ready_settings(replace(connection, log=False) if no_log else connection, term.err)
        code = chat(settings, term, verbose=verbose, markdown=not no_markdown)
    raise SystemExit(code)


def chat(settings: Settings, term: Terminal, verbose: bool = False, markdown: bool = True) -> int:
    """The chat over one connection, each exchange logged; its exit code (`kbchat chat`, `kbchat demo`)."""
    from kbchat.kb import LaterKB
    from kbchat.repl import run_chat
    from kbchat.trace import make_trace

    with LaterKB(settings, make_trace(term.err, verbose)) as kb, Memory(settings, term.err) as memory:
        return run_chat(settings, term, kb, memory, markdown=markdown)


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
    follows: str | None = None,
) -> None:
    """One question through the pipeline, then into the answer log; raises how it ended.

    `follows`: `last` or a log id, for a follow-up (the query carries that exchange's).
    """
    from kbchat.commands.reporting import settle
    from kbchat.errors import KBChatError
    from kbchat.events import Answer
    from kbchat.exchange import Question, exchange, outcome
    from kbchat.kb import connect
    from kbchat.memory import Memory, follow_up
    from kbchat.render import Mode, make_renderer
    from kbchat.trace import make_trace

    trace = make_trace(term.err, verbose)
    renderer = make_renderer(mode, term, markdown=markdown, sources=sources)
    answer = Answer(keep_text=settings.log)
    with contextlib.ExitStack() as stack:
        memory = stack.enter_context(Memory(settings, term.err))
        query, continues = text, None
        if follows:
            earlier = memory.earlier(follows, settings)
            query, continues = follow_up(earlier.query, text), earlier.id
        question = Question(query, settings.request_filters(), no_stream=no_stream,
                            closest=sources and not no_stream, wait=settings.timeout)  # fmt: skip
        copy_to = stack.enter_context(open_output(output)) if output else None
        kb = stack.enter_context(contextlib.closing(connect(settings, trace)))
        side = stack.enter_context(contextlib.closing(connect(settings, trace))) if question.closest else None
        try:
            exchange(kb, question, renderer, side=side, copy_to=copy_to, answer=answer)
        except KBChatError as err:
            memory.record(text, answer, err, query, continues)
            raise
        except BrokenPipeError:  # what was read is kept; reporting says how the command ends
            memory.record(text, answer, KBChatError("the reader of stdout went away"), query, continues)
            raise
        memory.record(text, answer, None if answer.cancelled else outcome(answer), query, continues)
    settle(answer, mark_shown=renderer.marks_cancel and term.err_is_tty)
    if mode is Mode.CODE and not answer.cancelled:
        from kbchat.render.code import CodeRenderer

        assert isinstance(renderer, CodeRenderer)
        if not renderer.blocks:
            raise KBChatError("the answer has no code block")


def open_output(path: Path) -> TextIO:
    """Open -o FILE before anything is sent, so a bad path fails fast."""
    try:
        return path.open("w", encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
