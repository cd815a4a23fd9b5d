"""`kbchat mcp`: kb_search and kb_ask (kbchat.agent_tools) served to an AI agent over stdio,
with the official mcp SDK's low-level server.

Imported by `kbchat mcp` alone: the SDK is an optional extra, and nothing else loads it.
Each call runs in a worker thread through what `ask` uses: the settings resolved once, the
KB interface, the Asker (answers logged `via: mcp`) and the sanitiser. A failure is a tool
result with isError and one plain line, and the server goes on. A call the client
cancels has its request ended at once (Asker.interrupt shuts its socket down).
"""

from __future__ import annotations

import contextlib
import io
import threading
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from kbchat import __version__
from kbchat.agent_tools import (
    TOOLS,
    answer_text,
    call_settings,
    checked_arguments,
    checked_limit,
    checked_text,
    passage_record,
    passages_text,
)
from kbchat.errors import Cancelled, KBChatError, UsageError
from kbchat.safe import one_line, redact, terminal_safe
from kbchat.terminal import Terminal
from kbchat.trace import make_trace

if TYPE_CHECKING:
    from kbchat.agent_tools import AgentOptions
    from kbchat.asker import Asker
    from kbchat.kb import KB
    from kbchat.settings import Settings

Result = tuple[dict[str, Any], str]  # the structured result, and the same as readable text


def serve(term: Terminal, settings: Settings, options: AgentOptions, verbose: bool) -> None:
    """Serve the tools on stdin/stdout until the client goes away."""
    server = make_server(AgentTools(term, settings, options.allow_tenant, verbose))

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)


def make_server(tools: AgentTools) -> Server[Any]:
    """The MCP server of these tools (tests connect the SDK's client to it in-process too)."""

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        listed = [types.Tool(name=name, description=tool["description"], input_schema=tool["input"],
                             output_schema=tool["output"]) for name, tool in TOOLS.items()]  # fmt: skip
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        call = Call(tools, params.name, params.arguments)
        try:
            return await anyio.to_thread.run_sync(call.run, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            call.interrupt()  # the thread ends its request now; its answer is logged as cancelled
            raise

    return Server("kbchat", version=__version__, on_list_tools=list_tools, on_call_tool=call_tool)


class AgentTools:
    """The tools' work, one call at a time per thread: each call opens its own connection."""

    def __init__(self, term: Terminal, settings: Settings, allowed: tuple[str, ...], verbose: bool) -> None:
        self.term = term
        self.settings = settings
        self.allowed = allowed
        self.verbose = verbose

    def kb_search(self, arguments: dict[str, Any], call: Call) -> Result:
        from kbchat.kb import connect
        from kbchat.passages import from_search_item

        query, limit = checked_text(arguments, "query"), checked_limit(arguments)
        settings = self.ready(arguments)
        with contextlib.closing(connect(settings, make_trace(self.term.err, self.verbose))) as kb:
            call.started(kb)
            body = kb.search(query, settings.request_filters(), limit)
        items = body.get("items")
        found = items[:limit] if isinstance(items, list) else []
        passages = [passage_record(from_search_item(item)) for item in found]
        return {"passages": passages}, passages_text(passages)

    def kb_ask(self, arguments: dict[str, Any], call: Call) -> Result:
        from kbchat.ask_options import AskOptions
        from kbchat.commands.asking import open_asker

        question = checked_text(arguments, "question")
        settings = self.ready(arguments)
        quiet = Terminal(out=io.StringIO(), err=self.term.err, is_tty=False)  # stdout is the protocol's
        with open_asker(quiet, settings, self.verbose, via="mcp") as asker:
            call.started(asker)
            turn = asker.ask(question, AskOptions(plain=True, sources=True, cite=False))  # a profile's cite: not here
        if turn.answer.cancelled:
            raise Cancelled()
        if turn.failure is not None:
            raise turn.failure
        sources = [passage_record(p) for found in turn.answer.sources for p in found.passages]
        answer = terminal_safe(redact(turn.answer.text))
        return {"answer": answer, "sources": sources}, answer_text(answer, sources)

    def ready(self, arguments: dict[str, Any]) -> Settings:
        """This call's settings: its filters checked (the tenant fixed unless allowed), the key there."""
        settings = call_settings(self.settings, arguments.get("filters"), self.allowed)
        settings.check_ready()
        return settings


class Call:
    """One tool call, in the worker thread that runs it; `interrupt` may come from the server's."""

    def __init__(self, tools: AgentTools, name: str, arguments: Any) -> None:
        self.tools = tools
        self.name = name
        self.arguments = arguments
        self._lock = threading.Lock()
        self._running: Asker | KB | None = None
        self._interrupted = False

    def run(self) -> types.CallToolResult:
        try:
            if self.name not in TOOLS:
                raise UsageError(f"no tool {one_line(self.name)[:60]!r}: kbchat serves {', '.join(TOOLS)}")
            arguments = checked_arguments(self.arguments, self.name)
            structured, text = getattr(self.tools, self.name)(arguments, self)
        except KBChatError as err:
            return failed(str(err))
        except Exception as err:  # a tool error all the same: the server goes on
            return failed(f"unexpected {type(err).__name__}: {err}")
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)

    def started(self, running: Asker | KB) -> None:
        """What an interrupt ends: the Asker or the KB this call now waits on."""
        with self._lock:
            self._running = running
            if self._interrupted:
                running.interrupt()

    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            if self._running is not None:
                self._running.interrupt()


def failed(message: str) -> types.CallToolResult:
    """A tool error: one plain line (what `kbchat: error:` would say), never a secret."""
    line = one_line(redact(message))
    return types.CallToolResult(content=[types.TextContent(type="text", text=line)], is_error=True)
