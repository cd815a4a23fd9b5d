"""`kbchat chat`: the interactive REPL (what bare `kbchat` opens on a terminal)."""

from __future__ import annotations

import typer

from kbchat.commands.options import Debug, NoColor, NoMarkdown, Verbose, with_connection
from kbchat.settings import ConnectionOptions


@with_connection
def chat(
    *,
    connection: ConnectionOptions,
    no_markdown: NoMarkdown = False,
    no_color: NoColor = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Chat: one question after another, each answered live.

    Slash commands: /help /tenant /filter /filters /retry /save /markdown /clear /exit.
    With stdin not a terminal, each non-empty line is a question, answered in plain text;
    the exit code is non-zero if any answer failed.
    """
    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings
    from kbchat.kb import LaterKB
    from kbchat.repl import run_chat
    from kbchat.terminal import Terminal
    from kbchat.trace import make_trace

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        settings = ready_settings(connection, term.err)
        with LaterKB(settings, make_trace(term.err, verbose)) as kb:
            code = run_chat(settings, term, kb, markdown=not no_markdown)
    raise typer.Exit(code)
