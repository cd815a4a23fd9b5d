"""`kbchat mcp`: the knowledge base as tools for AI agents and editors (the work is in kbchat.agent_server)."""

from __future__ import annotations

from kbchat.agent_tools import AgentOptions
from kbchat.ask_options import CommonOptions
from kbchat.commands.options import with_options
from kbchat.settings import ConnectionOptions, Settings
from kbchat.terminal import Terminal

INSTALL = "pip install 'kbchat[mcp]'"


@with_options("mcp")
def mcp(*, term: Terminal, connection: ConnectionOptions, agents: AgentOptions, common: CommonOptions) -> None:
    """Serve the knowledge base to an AI agent over MCP (stdio): tools kb_search and kb_ask.

    It takes the connection options of ask (or your profile); the tenant is fixed unless
    --allow-tenant names another a call may ask. stdout carries only the protocol;
    diagnostics go to stderr. Answers are logged, marked via: mcp. Needs the mcp extra.
    """
    import contextlib

    from kbchat.commands.reporting import reported
    from kbchat.errors import UsageError

    with reported(term, common.debug):
        try:
            from kbchat.agent_server import serve
        except ImportError as err:
            if (err.name or "").split(".")[0] not in ("mcp", "mcp_types", "anyio"):
                raise
            raise UsageError(f"kbchat mcp needs the MCP SDK: {INSTALL}") from None

        settings_context: contextlib.AbstractContextManager[Settings]
        if agents.demo:
            from kbchat.commands.serve import demo_settings

            settings_context = demo_settings(term, connection)
        else:
            from kbchat.config_file import load_settings

            settings_context = contextlib.nullcontext(load_settings(connection, term))  # the key is checked per call
        with settings_context as settings:
            serve(term, settings, agents, common.verbose)
