"""`kbchat doctor`: is everything in place to ask a question?"""

from __future__ import annotations

import os
import sys

import typer

from kbchat.commands.common import APIKey, BaseURL, FilterOpt, NoColor, Profile, Retries, Tenant, Timeout, reported
from kbchat.config import ConnectionOptions

MARKS = {True: ("✓", "32"), False: ("✗", "31"), None: ("-", "2")}


def doctor(
    base_url: BaseURL = None,
    api_key: APIKey = None,
    tenant: Tenant = None,
    filter: FilterOpt = None,
    profile: Profile = None,
    timeout: Timeout = None,
    retries: Retries = None,
    no_color: NoColor = False,
) -> None:
    """Check that everything a question needs is in place.

    The config file, key, tenant, base URL, DNS, TLS, health and a test search: one
    line each, with the time it took; exit 0 only when every check passes.
    The key is never shown (at most its last 4 characters).
    """
    from kbchat.doctor import run
    from kbchat.safe import one_line

    color = sys.stdout.isatty() and not no_color and not os.environ.get("NO_COLOR")
    failed = False
    with reported():
        options = ConnectionOptions(base_url, api_key, tenant, tuple(filter or ()), profile, timeout, retries)
        for check in run(options, os.environ):
            mark, sgr = MARKS[check.ok]
            shown = f"\x1b[{sgr}m{mark}\x1b[0m" if color else mark
            took = f"  ({check.ms:.0f} ms)" if check.ms is not None and check.ok is not None else ""
            print(f"{shown} {check.name:<20} {one_line(check.detail)}{took}", flush=True)
            failed = failed or check.ok is not True
    raise typer.Exit(1 if failed else 0)
