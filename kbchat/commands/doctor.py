"""`kbchat doctor`: is everything in place to ask a question?"""

from __future__ import annotations

import typer

from kbchat.ask_options import CommonOptions
from kbchat.commands.options import with_options
from kbchat.settings import ConnectionOptions
from kbchat.terminal import Terminal


@with_options("doctor")
def doctor(*, term: Terminal, connection: ConnectionOptions, common: CommonOptions) -> None:
    """Check that everything a question needs is in place.

    The config file, key, tenant, base URL, DNS, TLS, health and a test search: one
    line each, with the time it took; exit 0 only when every check passes. The network
    checks take the way requests would (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE).
    The key is never shown (at most its last 4 characters).
    """
    import os

    from kbchat.checks import run
    from kbchat.commands.reporting import reported
    from kbchat.render.doctor_lines import CheckLines

    term = term.without_color() if common.no_color else term
    lines = CheckLines(term)
    failed = False
    with reported(term):
        for check in run(connection, os.environ):
            lines.show(check)
            failed = failed or check.ok is not True
    raise typer.Exit(1 if failed else 0)
