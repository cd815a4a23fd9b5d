"""`kbchat search`: the closest passages for a query (/v1/kb/search), no answer."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kbchat.ask_options import OUT, CommonOptions
from kbchat.commands.options import with_options
from kbchat.settings import ConnectionOptions
from kbchat.terminal import Terminal

MAX_LIMIT = 100


@with_options("search")
def search(
    query: Annotated[list[str], typer.Argument(metavar="QUERY...", help="words to search for", show_default=False)],
    *,
    term: Terminal,
    connection: ConnectionOptions,
    common: CommonOptions,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="how many passages, 1 to 100")] = 10,
    min_score: Annotated[
        float | None, typer.Option("--min-score", metavar="SCORE", help="drop passages scoring below this (0..1)")
    ] = None,
    json: Annotated[
        bool, typer.Option("--json", help="print the response as JSON (the default when piped)", rich_help_panel=OUT)
    ] = False,
) -> None:
    """The closest passages for a query, without an answer.

    A table on a terminal, JSON when piped or with --json.

    Scores run from 0 to 1: 0.90 and up very relevant, 0.75 relevant, 0.60 moderate.
    """
    import contextlib

    from kbchat.commands.reporting import reported
    from kbchat.config_file import ready_settings
    from kbchat.errors import UsageError
    from kbchat.kb import connect
    from kbchat.trace import make_trace

    term = term.without_color() if common.no_color else term
    with reported(term, common.debug):
        text = " ".join(query).strip()
        if not text:
            raise UsageError('empty query: kbchat search "some words"')
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"--limit takes a whole number from 1 to {MAX_LIMIT}")
        if min_score is not None and not 0 <= min_score <= 1:
            raise UsageError("--min-score takes a number from 0 to 1")
        settings = ready_settings(connection, term)
        with contextlib.closing(connect(settings, make_trace(term.err, common.verbose))) as kb:
            body = kb.search(text, settings.request_filters(), limit)
        items: list[Any] = body["items"] if isinstance(body.get("items"), list) else []
        if min_score is not None:
            items = [i for i in items if isinstance(i, dict) and _scores_at_least(i.get("score"), min_score)]
        from kbchat.render.table import print_search, print_search_json

        if json or not term.is_tty:
            print_search_json(term, {**body, "items": items})
        else:
            print_search(term, items, text, body.get("total_found"))


def _scores_at_least(score: Any, floor: float) -> bool:
    return isinstance(score, int | float) and not isinstance(score, bool) and score >= floor
