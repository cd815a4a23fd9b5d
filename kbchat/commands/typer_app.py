"""The Typer app: every command, and what bare `kbchat` does."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kbchat import __version__
from kbchat.commands.agent import mcp
from kbchat.commands.ask import ask
from kbchat.commands.chat import chat
from kbchat.commands.config import config_app
from kbchat.commands.doctor import doctor
from kbchat.commands.log import log_app
from kbchat.commands.search import search
from kbchat.commands.serve import demo, serve

app = typer.Typer(
    name="kbchat",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
for command in (ask, chat, search, doctor, demo, serve, mcp):
    app.command()(command)
app.add_typer(config_app, name="config")
app.add_typer(log_app, name="log")


def show_version(value: bool) -> None:
    if value:
        print(f"kbchat {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=show_version, is_eager=True, help="show the version and exit"),
    ] = None,
) -> None:
    """Talk to your knowledge base from the terminal.

    New here? `kbchat demo` tries it on a bundled sample, with no key and no setup.

    With no command: the chat on a terminal; with stdin piped, the question is read
    from it (as `kbchat ask -`).
    """
    from kbchat.terminal import isatty

    if ctx.invoked_subcommand is not None:
        return
    if isatty(sys.stdin):
        ctx.invoke(chat, ctx=ctx)
    else:
        ctx.invoke(ask, ctx=ctx, question=["-"])
