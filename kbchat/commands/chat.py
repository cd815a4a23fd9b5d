"""`kbchat chat`: the interactive REPL (what bare `kbchat` opens on a terminal)."""

from __future__ import annotations

import typer

from kbchat.commands.common import (
    APIKey,
    BaseURL,
    Debug,
    FilterOpt,
    NoColor,
    NoMarkdown,
    Profile,
    Retries,
    Tenant,
    Timeout,
    Verbose,
    ready_settings,
    reported,
)


def chat(
    base_url: BaseURL = None,
    api_key: APIKey = None,
    tenant: Tenant = None,
    filter: FilterOpt = None,
    profile: Profile = None,
    timeout: Timeout = None,
    retries: Retries = None,
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
    from kbchat.render import Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        settings = ready_settings(term.err, base_url, api_key, tenant, filter, profile, timeout, retries)
        from kbchat.chat import run_chat

        code = run_chat(settings, term, verbose=verbose, markdown=not no_markdown)
    raise typer.Exit(code)
