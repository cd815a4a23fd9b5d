"""`kbchat chat`: the interactive REPL (what bare `kbchat` opens on a terminal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kbchat.commands.options import with_options

if TYPE_CHECKING:
    from kbchat.ask_options import AskOptions, CommonOptions
    from kbchat.settings import ConnectionOptions
    from kbchat.terminal import Terminal


@with_options("chat")
def chat(*, term: Terminal, connection: ConnectionOptions, options: AskOptions, common: CommonOptions) -> None:
    """Chat: one question after another, each answered live.

    /help lists the slash commands (/tenant, /filter, /retry, /save, /context, …).
    With stdin not a terminal, each non-empty line is a question, answered in plain text;
    the exit code is non-zero if any answer failed.
    """
    from kbchat.commands.asking import chat_command

    chat_command(term, connection=connection, options=options, common=common)
