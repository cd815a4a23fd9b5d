"""`kbchat chat`: the interactive REPL (what bare `kbchat` opens on a terminal)."""

from __future__ import annotations

from kbchat.commands.options import Debug, NoColor, NoLog, NoMarkdown, Verbose, with_connection
from kbchat.settings import ConnectionOptions


@with_connection
def chat(
    *,
    connection: ConnectionOptions,
    no_markdown: NoMarkdown = False,
    no_color: NoColor = False,
    no_log: NoLog = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Chat: one question after another, each answered live.

    Slash commands: /help /tenant /filter /filters /retry /save /markdown /clear /exit.
    With stdin not a terminal, each non-empty line is a question, answered in plain text;
    the exit code is non-zero if any answer failed.
    """
    from kbchat.commands.asking import chat_command

    chat_command(connection, no_markdown=no_markdown, no_color=no_color, verbose=verbose, debug=debug, no_log=no_log)
