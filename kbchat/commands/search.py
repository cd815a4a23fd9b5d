"""`kbchat search`: the closest passages for a query (/v1/kb/search), no answer."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kbchat.commands.common import (
    JSON,
    APIKey,
    BaseURL,
    Debug,
    FilterOpt,
    NoColor,
    Profile,
    Retries,
    Tenant,
    Timeout,
    Verbose,
    ready_settings,
    reported,
)
from kbchat.errors import UsageError

MAX_LIMIT = 100


def search(
    query: Annotated[list[str], typer.Argument(metavar="QUERY...", help="words to search for", show_default=False)],
    base_url: BaseURL = None,
    api_key: APIKey = None,
    tenant: Tenant = None,
    filter: FilterOpt = None,
    profile: Profile = None,
    timeout: Timeout = None,
    retries: Retries = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="how many passages, 1 to 100")] = 10,
    min_score: Annotated[
        float | None, typer.Option("--min-score", metavar="SCORE", help="drop passages scoring below this (0..1)")
    ] = None,
    json: JSON = False,
    no_color: NoColor = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """The closest passages for a query, without an answer.

    A table on a terminal, JSON when piped or with --json.

    Scores run from 0 to 1: 0.90 and up very relevant, 0.75 relevant, 0.60 moderate.
    """
    import json as jsonlib

    from kbchat.render import Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        text = " ".join(query).strip()
        if not text:
            raise UsageError('empty query: kbchat search "some words"')
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"--limit takes a whole number from 1 to {MAX_LIMIT}")
        if min_score is not None and not 0 <= min_score <= 1:
            raise UsageError("--min-score takes a number from 0 to 1")
        settings = ready_settings(term.err, base_url, api_key, tenant, filter, profile, timeout, retries)
        from kbchat.client import KBClient
        from kbchat.trace import make_trace

        body = KBClient(settings, trace=make_trace(term.err, verbose)).search(text, settings.request_filters(), limit)
        items: list[Any] = body["items"] if isinstance(body.get("items"), list) else []
        if min_score is not None:
            items = [
                i
                for i in items
                if isinstance(i, dict) and isinstance(i.get("score"), int | float) and i["score"] >= min_score
            ]
        if json or not term.is_tty:
            from kbchat.safe import json_safe

            text = jsonlib.dumps({**body, "items": items}, ensure_ascii=False, indent=2)
            print(json_safe(text) if term.is_tty else text, file=term.out)
            return
        from kbchat.passages import from_search_item
        from kbchat.render.table import print_search

        print_search(term, [from_search_item(i) for i in items], text, body.get("total_found"))
