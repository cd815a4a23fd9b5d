"""`kbchat ask`: one question, streamed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kbchat.commands.options import (
    JSON,
    Debug,
    NoColor,
    NoMarkdown,
    NoStream,
    Output,
    Plain,
    Question,
    Rich,
    Sources,
    Verbose,
    with_connection,
)
from kbchat.errors import UsageError
from kbchat.settings import ConnectionOptions

if TYPE_CHECKING:
    from kbchat.render import Mode
    from kbchat.settings import Settings
    from kbchat.terminal import Terminal


@with_connection
def ask(
    question: Question = None,
    *,
    connection: ConnectionOptions,
    rich: Rich = False,
    plain: Plain = False,
    json: JSON = False,
    output: Output = None,
    no_markdown: NoMarkdown = False,
    no_color: NoColor = False,
    no_stream: NoStream = False,
    sources: Sources = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Ask one question; the answer streams in as it is written.

    Words are joined with spaces; with stdin piped in, its text follows the words
    after a blank line. Exit codes: 0 answered, 1 failed, 2 usage, 130 cancelled.
    """
    from kbchat.commands.options import choose_mode, ready_settings
    from kbchat.commands.reporting import reported
    from kbchat.question import build_question, read_stdin
    from kbchat.render import Mode
    from kbchat.terminal import Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        mode = Mode(choose_mode(rich=rich, plain=plain, json=json))
        text = build_question(question or [], read_stdin(question or [], term))
        settings = ready_settings(connection, term.err)
        answer_one(text, settings, term, mode, output=output, verbose=verbose, markdown=not no_markdown,
                   no_stream=no_stream, sources=sources)  # fmt: skip


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
    """One question through the pipeline, for `ask` and `demo QUESTION`; raises how it ended."""
    import contextlib

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
