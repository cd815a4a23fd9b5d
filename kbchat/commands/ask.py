"""`kbchat ask`: one question, streamed. (The work is in commands/asking.py.)"""

from __future__ import annotations

from kbchat.commands.options import (
    JSON,
    Code,
    Debug,
    Follow,
    FollowID,
    NoColor,
    NoLog,
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
from kbchat.settings import ConnectionOptions


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
    code: Code = False,
    follow: Follow = False,
    cid: FollowID = None,
    no_log: NoLog = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Ask one question; the answer streams in as it is written.

    Words are joined with spaces; with stdin piped in, its text follows the words
    after a blank line. Exit codes: 0 answered, 1 failed, 2 usage, 130 cancelled.
    """
    from kbchat.commands.asking import ask_command

    ask_command(question or [], connection, rich=rich, plain=plain, json=json, output=output, no_markdown=no_markdown,
            no_color=no_color, no_stream=no_stream, sources=sources, verbose=verbose, debug=debug, code=code,
            no_log=no_log, follow=follow, cid=cid)  # fmt: skip
