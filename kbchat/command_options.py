"""Which declared options each command takes, read by the fast path and by Typer alike.

A command receives each group as one keyword argument (`connection`, `options`,
`common`, `listing`); the flags, help and defaults are on the dataclasses' fields.
"""

from __future__ import annotations

from kbchat.agent_tools import AgentOptions
from kbchat.ask_options import CHAT_TAKES, AskOptions, CommonOptions
from kbchat.commands.logbook import LogListing
from kbchat.declared import Group
from kbchat.server.serve_options import ServeOptions
from kbchat.settings import CONNECTING, ConnectionOptions

CONNECTION = Group("connection", ConnectionOptions)
COMMON = Group("common", CommonOptions)
COLOR = Group("common", CommonOptions, frozenset({"no_color"}))

TAKES: dict[str, tuple[Group, ...]] = {
    "ask": (CONNECTION, Group("options", AskOptions), COMMON),
    "chat": (CONNECTION, Group("options", AskOptions, CHAT_TAKES), COMMON),
    "demo": (Group("connection", ConnectionOptions, frozenset({"log"})), Group("options", AskOptions), COMMON),
    "serve": (Group("serving", ServeOptions), Group("common", CommonOptions, frozenset({"debug"}))),
    "search": (Group("connection", ConnectionOptions, CONNECTING), COMMON),
    "doctor": (Group("connection", ConnectionOptions, CONNECTING), COLOR),
    "log": (Group("listing", LogListing), COLOR),
    "log show": (
        Group("options", AskOptions, frozenset({"markdown"})),
        Group("listing", LogListing, frozenset({"no_pager"})),
        COLOR,
    ),
    "log export": (Group("listing", LogListing, frozenset({"count", "query", "tenant", "no_pager"})),),
    "mcp": (CONNECTION, Group("agents", AgentOptions), Group("common", CommonOptions, frozenset({"verbose", "debug"}))),
    "config": (Group("connection", ConnectionOptions, frozenset({"profile"})),),
    "log rm": (),
    "log path": (),
}
