"""`kbchat log`: the answer log listed, searched, shown, exported and pruned (declared for Typer;
the work is in kbchat.commands.logbook)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from kbchat.ask_options import AskOptions, CommonOptions
from kbchat.commands.logbook import LogListing
from kbchat.commands.options import with_options
from kbchat.terminal import Terminal

log_app = typer.Typer(rich_markup_mode=None)


@log_app.callback(invoke_without_command=True)
@with_options("log")
def log(ctx: typer.Context, *, term: Terminal, listing: LogListing, common: CommonOptions) -> None:
    """The answer log: the last 10 questions and answers, oldest first.

    Every answer of ask, chat and demo is kept in a local SQLite database (kbchat log
    path), never with the key; --no-log, KBCHAT_NO_LOG=1 or `log = false` in a profile
    keep answers out of it.
    """
    if ctx.invoked_subcommand is None:
        from kbchat.commands import logbook

        logbook.list_command(term, listing=listing, common=common)


@log_app.command("show", short_help="One answer, rendered (the text as received when piped).")
@with_options("log show")
def log_show(
    id: Annotated[str, typer.Argument(metavar="ID", help="an entry's id, or last", show_default=False)],
    *,
    term: Terminal,
    options: AskOptions,
    listing: LogListing,
    common: CommonOptions,
) -> None:
    """Show one answer: rendered as ask draws it on a terminal, the text as received when piped."""
    from kbchat.commands import logbook

    term = term.without_color() if common.no_color else term
    logbook.show_command(term, id, markdown=options.markdown, no_pager=listing.no_pager)


@log_app.command("export", short_help="The log as Markdown.")
@with_options("log export")
def log_export(
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="write to FILE")] = None,
    *,
    term: Terminal,
    listing: LogListing,
) -> None:
    """The log as Markdown, each exchange under its question as a heading (all of it unless -n)."""
    from kbchat.commands import logbook

    logbook.export_command(term, output, listing)


@log_app.command("rm", short_help="Remove entries, or --all.")
@with_options("log rm")
def log_rm(
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID...", help="the entries to remove")] = None,
    all: Annotated[bool, typer.Option("--all", help="remove every entry")] = False,
    *,
    term: Terminal,
) -> None:
    """Remove entries from the log, or all of them; what was removed is gone from the file too."""
    from kbchat.commands import logbook

    logbook.rm_command(term, ids or [], all=all)


@log_app.command("path", short_help="Print the answer log's path.")
@with_options("log path")
def log_path_cmd(*, term: Terminal) -> None:
    """Print the answer log's path ($KBCHAT_LOG or the platform data dir)."""
    from kbchat.answer_log import log_path
    from kbchat.terminal import print_path

    print_path(log_path(os.environ), term.out)
