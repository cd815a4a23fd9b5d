"""Which declared options each command takes, read by the fast path and by Typer alike.

A command receives each group as one keyword argument (`connection`, `options`,
`common`, `listing`, `serving`, `agents`); the flags, help and defaults are on the
dataclasses' fields. `takes` imports only the groups a command needs: the fast path reads
`ask`'s on every question.
"""

from __future__ import annotations

from kbchat.ask_options import CHAT_TAKES, AskOptions, CommonOptions
from kbchat.declared import Group
from kbchat.settings import CONNECTING, ConnectionOptions

CONNECTION = Group("connection", ConnectionOptions)
COMMON = Group("common", CommonOptions)
COLOR = Group("common", CommonOptions, frozenset({"no_color"}))
TRACED = Group("common", CommonOptions, frozenset({"verbose", "debug"}))
ANSWERING: dict[str, tuple[Group, ...]] = {
    "ask": (CONNECTION, Group("options", AskOptions), COMMON),
    "chat": (CONNECTION, Group("options", AskOptions, CHAT_TAKES), COMMON),
    "demo": (Group("connection", ConnectionOptions, frozenset({"log"})), Group("options", AskOptions), COMMON),
    "search": (Group("connection", ConnectionOptions, CONNECTING), COMMON),
    "doctor": (Group("connection", ConnectionOptions, CONNECTING), COLOR),
    "config": (Group("connection", ConnectionOptions, frozenset({"profile"})),),
}


def takes(command: str) -> tuple[Group, ...]:
    """The groups of options `command` takes (`log show` for a subcommand); () for none."""
    if command in ANSWERING:
        return ANSWERING[command]
    if command.startswith("log"):
        from kbchat.commands.logbook import LogListing

        return {
            "log": (Group("listing", LogListing), COLOR),
            "log show": (Group("options", AskOptions, frozenset({"markdown"})),
                         Group("listing", LogListing, frozenset({"no_pager"})), COLOR),
            "log export": (Group("listing", LogListing, frozenset({"count", "query", "tenant", "no_pager"})),),
        }.get(command, ())  # fmt: skip
    if command == "serve":
        from kbchat.server.serve_options import ServeOptions

        return (Group("serving", ServeOptions), Group("common", CommonOptions, frozenset({"debug"})))
    if command == "mcp":
        from kbchat.agent_tools import AgentOptions

        return (CONNECTION, Group("agents", AgentOptions), TRACED)
    return ()
