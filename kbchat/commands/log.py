"""`kbchat log`: the answer log listed, searched, shown, exported and pruned (declared for Typer;
the work is in kbchat.commands.logbook)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from kbchat.commands.options import NoColor

log_app = typer.Typer(rich_markup_mode=None)

Count = Annotated[int | None, typer.Option("--count", "-n", metavar="N", min=0, help="the last N entries")]
Search = Annotated[
    str | None,
    typer.Option(
        "--query", "-q", metavar="TEXT",
        help='only entries whose question or answer match TEXT: words, "a phrase", OR, NOT, prefix*',
    ),
]  # fmt: skip
TenantOnly = Annotated[str | None, typer.Option("--tenant", "-t", metavar="ID", help="only this tenant's entries")]
NoPager = Annotated[bool, typer.Option("--no-pager", help="print directly, even when taller than the screen")]


@log_app.callback(invoke_without_command=True)
def log(
    ctx: typer.Context,
    count: Count = None,
    query: Search = None,
    tenant: TenantOnly = None,
    json: Annotated[bool, typer.Option("--json", help="one JSON object per entry and line")] = False,
    no_pager: NoPager = False,
    no_color: NoColor = False,
) -> None:
    """The answer log: the last 10 questions and answers, oldest first.

    Every answer of ask, chat and demo is kept in a local SQLite database (kbchat log
    path), never with the key; --no-log, KBCHAT_NO_LOG=1 or `log = false` in a profile
    keep answers out of it.
    """
    if ctx.invoked_subcommand is None:
        from kbchat.commands import logbook

        logbook.list_command(count=count, query=query, tenant=tenant, json=json, no_pager=no_pager, no_color=no_color)


@log_app.command("show", short_help="One answer, rendered (the text as received when piped).")
def log_show(
    id: Annotated[str, typer.Argument(metavar="ID", help="an entry's id, or last", show_default=False)],
    no_markdown: Annotated[bool, typer.Option("--no-markdown", help="show the answer literally")] = False,
    no_pager: NoPager = False,
    no_color: NoColor = False,
) -> None:
    """Show one answer: rendered as ask draws it on a terminal, the text as received when piped."""
    from kbchat.commands import logbook

    logbook.show_command(id, no_markdown=no_markdown, no_pager=no_pager, no_color=no_color)


@log_app.command("export", short_help="The log as Markdown.")
def log_export(
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="write to FILE")] = None,
    count: Count = None,
    query: Search = None,
    tenant: TenantOnly = None,
    no_pager: NoPager = False,
) -> None:
    """The log as Markdown, each exchange under its question as a heading (all of it unless -n)."""
    from kbchat.commands import logbook

    logbook.export_command(output, count=count, query=query, tenant=tenant, no_pager=no_pager)


@log_app.command("rm", short_help="Remove entries, or --all.")
def log_rm(
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID...", help="the entries to remove")] = None,
    all: Annotated[bool, typer.Option("--all", help="remove every entry")] = False,
) -> None:
    """Remove entries from the log, or all of them; what was removed is gone from the file too."""
    from kbchat.commands import logbook

    logbook.rm_command(ids or [], all=all)


@log_app.command("path", short_help="Print the answer log's path.")
def log_path_cmd() -> None:
    """Print the answer log's path ($KBCHAT_LOG or the platform data dir)."""
    from kbchat.answer_log import log_path

    print(log_path(os.environ))
