"""`kbchat mcp`, driven by the mcp SDK's own client: in this process for each failure kind, over stdio
(a real `kbchat mcp` process) for two tenants of `kbchat serve`, cancellation, the log and stdout."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from kbchat.agent_server import AgentTools, make_server
from kbchat.agent_tools import PASSAGE_FIELDS, TOOLS
from kbchat.answer_log import AnswerLog
from kbchat.server.run import serve_in_background, start_server, stop
from kbchat.server.serve_options import ServeOptions
from kbchat.settings import Settings
from kbchat.terminal import Terminal
from tests.conftest import KEY, kbchat_env
from tests.scripted_server import Reply, ScriptedServer, Stall, json_reply, sse

STREAM, SEARCH = "/v1/kb/chat/stream", "/v1/kb/search"
SERVE_KEY = "serve-key-0123456789"
HIT = {"id": "7", "score": 0.8, "payload": {"original_text": "Team is $29.", "title": "Plans", "path": "plans.md",
                                           "heading": "Team", "snack_item_id": "p-7"}}  # fmt: skip


def in_process(settings: Settings, session: Callable[[Client], Awaitable[Any]]) -> tuple[Any, str]:
    """Run `session` with the SDK's client connected to kbchat's server in this process; its result, and stderr."""
    err = io.StringIO()
    tools = AgentTools(Terminal(out=io.StringIO(), err=err, is_tty=False), settings, ("beta",), verbose=False)

    async def run() -> Any:
        async with Client(make_server(tools)) as client:
            return await session(client)

    return anyio.run(run), err.getvalue()


def text(result: types.CallToolResult) -> str:
    (content,) = result.content
    assert isinstance(content, types.TextContent)
    return content.text


def settings_for(url: str, **more: Any) -> Settings:
    return Settings(**{"base_url": url, "api_key": KEY, "tenant": "acme", "retries": 0, "timeout": 5.0, **more})


def test_both_tools_are_listed_with_input_and_output_schemas() -> None:
    tools, _ = in_process(settings_for("http://127.0.0.1:9"), lambda client: client.list_tools())
    listed = {tool.name: tool for tool in tools.tools}
    assert set(listed) == set(TOOLS) == {"kb_search", "kb_ask"}
    assert listed["kb_search"].input_schema["required"] == ["query"]
    assert listed["kb_search"].input_schema["properties"]["limit"] == {"type": "integer", "minimum": 1, "maximum": 20,
                                                                       "default": 5}  # fmt: skip
    assert listed["kb_ask"].output_schema is not None
    assert listed["kb_ask"].output_schema["required"] == ["answer", "sources"]
    passage = listed["kb_search"].output_schema["properties"]["passages"]["items"]  # type: ignore[index]
    assert passage["required"] == list(PASSAGE_FIELDS)


def test_every_failure_is_one_plain_line_and_the_server_goes_on(server: ScriptedServer) -> None:
    server.queue_for(SEARCH, json_reply(401, {"detail": f"bad key {KEY}"}), json_reply(429, {"detail": "slow down"}),
                     json_reply(503, {"detail": "busy"}), Reply([Stall()]))  # fmt: skip
    server.queue_for(STREAM, Reply([sse("half", done=False) + b'data: {"event": "error", "data": {"message": '
                                    b'"the model is overloaded"}}\n\ndata: [DONE]\n\n']))  # fmt: skip
    server.queue_for(SEARCH, json_reply(200, {"items": [], "total_found": 0}))
    server.queue_for(SEARCH, json_reply(200, {"items": [HIT], "total_found": 1}))
    calls = [
        ("kb_search", {"query": "q"}, "HTTP 401 Unauthorized: bad key ****"),
        ("kb_search", {"query": "q"}, "HTTP 429 Too Many Requests: slow down"),
        ("kb_search", {"query": "q"}, "HTTP 503 Service Unavailable: busy"),
        ("kb_search", {"query": "q"}, "no data from the server for 0.5 s"),
        ("kb_ask", {"question": "q"}, "the model is overloaded"),
        ("kb_search", {"query": ""}, "query must be a non-empty string"),
        ("kb_search", {"query": "q", "limit": 0}, "limit must be a whole number from 1 to 20"),
        ("kb_search", {"query": "q", "filters": {"colour": "red"}}, "unknown filter key 'colour'"),
        ("kb_search", {"query": "q", "filters": {"tenant_id": "gamma"}}, "tenant 'gamma' is not allowed"),
        ("kb_ask", {"question": "q", "extra": 1}, "kb_ask takes no 'extra'"),
        ("kb_nothing", {}, "no tool 'kb_nothing'"),
    ]

    async def session(client: Client) -> list[types.CallToolResult]:
        results = [await client.call_tool(name, arguments) for name, arguments, _ in calls]
        return [*results, await client.call_tool("kb_search", {"query": "team"})]

    results, err = in_process(settings_for(server.url, timeout=0.5), session)
    for (name, _, expected), result in zip(calls, results, strict=False):
        assert result.is_error, name
        assert text(result).startswith(expected) and "\n" not in text(result), text(result)
    assert not results[-1].is_error  # alive afterwards
    assert results[-1].structured_content == {"passages": [{"title": "Plans", "heading": "Team", "path": "plans.md",
                                                            "url": None, "id": "p-7", "score": 0.8,
                                                            "text": "Team is $29."}]}  # fmt: skip
    assert KEY not in repr(results) + err


def test_no_key_and_a_refused_connection_are_tool_errors() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once it is closed

    async def one(client: Client) -> types.CallToolResult:
        return await client.call_tool("kb_search", {"query": "q"})

    no_key, _ = in_process(settings_for(f"http://127.0.0.1:{port}", api_key=None), one)
    refused, _ = in_process(settings_for(f"http://127.0.0.1:{port}"), one)
    assert no_key.is_error and text(no_key).startswith("no API key")
    assert refused.is_error and text(refused).startswith(f"cannot connect to 127.0.0.1:{port}")


# --- a real `kbchat mcp` over stdio ------------------------------------------------------------


@pytest.fixture
def two_tenants(tmp_path: Path) -> Iterator[str]:
    """`kbchat serve` over a folder with tenants alpha and beta, a key required."""
    docs = tmp_path / "docs"
    for tenant, text_ in (("alpha", "# Alpha plans\n\nThe Orchid plan costs 12 euros a month."),
                          ("beta", "# Beta plans\n\nThe Lotus plan costs 99 euros a year.")):  # fmt: skip
        (docs / tenant).mkdir(parents=True)
        (docs / tenant / "plans.md").write_text(text_)
    server = start_server(ServeOptions(docs, port=0, api_key=SERVE_KEY, cache_dir=tmp_path / "cache", pace=0.0),
                          log=io.StringIO())  # fmt: skip
    serve_in_background(server)
    try:
        yield server.url
    finally:
        stop(server)


def over_stdio(
    args: list[str], session: Callable[[ClientSession], Awaitable[Any]], env: dict[str, str]
) -> tuple[Any, str]:
    """A real `kbchat mcp ARGS` process, driven by the SDK's stdio client; the result, and its stderr."""
    err_path = Path(env["KBCHAT_LOG"]).with_suffix(".stderr")
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "kbchat", "mcp", *args], env=env)

    async def run() -> Any:
        with err_path.open("w") as err:
            async with stdio_client(parameters, errlog=err) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                return await session(client)

    result = anyio.run(run)
    return result, err_path.read_text()


def test_search_and_ask_over_serve_with_two_tenants(two_tenants: str, tmp_path: Path) -> None:
    env = kbchat_env(KBCHAT_LOG=str(tmp_path / "log.db"))
    args = ["--base-url", two_tenants, "--api-key", SERVE_KEY, "--tenant", "alpha", "--allow-tenant", "beta"]

    async def session(client: ClientSession) -> list[types.CallToolResult]:
        return [
            await client.call_tool("kb_search", {"query": "orchid plan"}),
            await client.call_tool("kb_search", {"query": "lotus plan", "filters": {"tenant_id": "beta"}}),
            await client.call_tool("kb_search", {"query": "plan", "filters": {"tenant_id": "gamma"}}),
            await client.call_tool("kb_ask", {"question": "how much is the orchid plan?"}),
        ]

    (alpha, beta, gamma, asked), err = over_stdio(args, session, env)
    assert alpha.structured_content["passages"][0]["title"] == "Alpha plans"  # type: ignore[index]
    assert beta.structured_content["passages"][0]["title"] == "Beta plans"  # type: ignore[index]
    assert "Orchid" not in json.dumps(beta.structured_content) and "Lotus" not in json.dumps(alpha.structured_content)
    assert gamma.is_error and "tenant 'gamma' is not allowed" in text(gamma)
    assert not asked.is_error and "12 euros" in asked.structured_content["answer"]  # type: ignore[index]
    assert asked.structured_content["sources"][0]["path"] == "alpha/plans.md"  # type: ignore[index]
    assert "12 euros" in text(asked) and "Closest passages" in text(asked)
    with AnswerLog.open(tmp_path / "log.db") as log:
        (entry,) = log.entries()
    assert (entry.question, entry.tenant, entry.via, entry.status) == ("how much is the orchid plan?", "alpha", "mcp",
                                                                      "ok")  # fmt: skip
    everything = repr([alpha, beta, gamma, asked]) + err + json.dumps(entry.to_json())
    assert SERVE_KEY not in everything


def test_a_cancelled_call_closes_its_stream_and_is_logged_cancelled(server: ScriptedServer, tmp_path: Path) -> None:
    """The stalled stream is ended when the client cancels (else its answer would wait the stall's 60 s to be logged)."""
    server.queue_for(STREAM, Reply([sse("The start", done=False), Stall()]), Reply([sse("fine")]))
    server.default = json_reply(200, {"items": [], "total_found": 0})
    log_file = tmp_path / "log.db"
    args = ["--base-url", server.url, "--api-key", KEY, "--tenant", "acme"]

    def logged() -> list[tuple[str, str, str]]:
        if not log_file.exists():
            return []
        with AnswerLog.open(log_file) as log:
            return sorted((e.question, e.status, e.answer) for e in log.entries())

    async def session(client: ClientSession) -> tuple[types.CallToolResult, float]:
        with anyio.move_on_after(0.5):  # the first words are in by then; the stream then stalls
            await client.call_tool("kb_ask", {"question": "slow one"})
        cancelled = time.monotonic()
        next_one = await client.call_tool("kb_ask", {"question": "next one"})
        while len(logged()) < 2 and time.monotonic() - cancelled < 10:
            await anyio.sleep(0.05)
        return next_one, time.monotonic() - cancelled

    (next_one, waited), _ = over_stdio(args, session, kbchat_env(KBCHAT_LOG=str(log_file)))
    assert not next_one.is_error and next_one.structured_content["answer"] == "fine"  # type: ignore[index]
    assert logged() == [("next one", "ok", "fine"), ("slow one", "cancelled", "The start")] and waited < 5


def test_stdout_carries_only_the_protocol(tmp_path: Path) -> None:
    """Every line a real run writes to stdout is a JSON-RPC message, answers and failures alike."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": types.LATEST_PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "kb_ask",
                                                                       "arguments": {"question": "refund policy"}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "kb_search", "arguments": {}}},
    ]  # fmt: skip
    stdin = "".join(json.dumps(m) + "\n" for m in messages)
    env = kbchat_env(KBCHAT_LOG=str(tmp_path / "log.db"))
    with subprocess.Popen([sys.executable, "-m", "kbchat", "mcp", "--demo"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(stdin)
        proc.stdin.flush()
        lines = [proc.stdout.readline() for _ in range(4)]  # the four answers (the notification has none)
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait(timeout=20)
    replies = sorted((json.loads(line) for line in lines + rest.splitlines()), key=lambda reply: reply.get("id", 0))
    assert [reply.get("id") for reply in replies] == [1, 2, 3, 4]  # every line is one, and nothing else came
    assert "refunded in full" in json.dumps(replies[2]) and replies[3]["result"]["isError"] is True


def test_without_the_extra_it_says_how_to_install_it(tmp_path: Path) -> None:
    """The SDK hidden from the import system: one line with the command that installs it, exit 2."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\nclass Hide:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'mcp' or name.startswith('mcp.'):\n            raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
    )  # fmt: skip
    env = kbchat_env(PYTHONPATH=os.pathsep.join([str(hide), *sys.path]))
    result = subprocess.run([sys.executable, "-m", "kbchat", "mcp"], capture_output=True, text=True, env=env,
                            stdin=subprocess.DEVNULL, timeout=30)  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "kbchat: error: kbchat mcp needs the MCP SDK: pip install 'kbchat[mcp]'\n"
