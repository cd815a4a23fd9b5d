#!/usr/bin/env python3
"""What a `kbchat mcp` tool call costs over the HTTP call it makes, against a loopback `kbchat serve`.

    python bench/mcp_calls.py          # about 20 s; one table

Needs the mcp extra (`pip install -e '.[test]'` has it). Interleaved, medians: the machine is shared.
kb_search is timed from the agent's side (the SDK's client over stdio: JSON-RPC out, the
tool's thread, its own connection, the search, the result back), beside the same search
made directly, on a new connection each time (as the tool makes it) and on a kept one.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import table  # noqa: E402
from kbchat.client import HTTPKB  # noqa: E402
from kbchat.server.run import serve_in_background, start_server, stop  # noqa: E402
from kbchat.server.serve_options import ServeOptions  # noqa: E402
from kbchat.settings import Settings  # noqa: E402

KEY = "bench-mcp-key-0123456789"
QUERIES = ["refund annual plan", "single sign-on", "support response time", "data encryption", "team plan price"]
ROUNDS = 40


def main() -> None:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    with tempfile.TemporaryDirectory() as folder:
        server = start_server(ServeOptions(port=0, api_key=KEY, pace=0.0, cache_dir=Path(folder) / "cache"),
                              log=io.StringIO())  # fmt: skip
        serve_in_background(server)
        settings = Settings(base_url=server.url, api_key=KEY, tenant="demo")
        filters = settings.request_filters()
        times: dict[str, list[float]] = {"kb_search tool call": [], "HTTP search, new connection": [],
                                         "HTTP search, kept connection": []}  # fmt: skip
        kept = HTTPKB(settings)
        args = ["-m", "kbchat", "mcp", "--base-url", server.url, "--api-key", KEY, "-t", "demo", "--no-log"]
        parameters = StdioServerParameters(command=sys.executable, args=args)

        async def run() -> None:
            async with stdio_client(parameters, errlog=sys.stderr) as (read, write), ClientSession(read, write) as c:
                await c.initialize()
                await c.call_tool("kb_search", {"query": "warm up"})
                for round_ in range(ROUNDS):
                    query = QUERIES[round_ % len(QUERIES)]
                    started = time.perf_counter()
                    result = await c.call_tool("kb_search", {"query": query, "limit": 5})
                    times["kb_search tool call"].append(time.perf_counter() - started)
                    assert not result.is_error
                    started = time.perf_counter()
                    with HTTPKB(settings) as fresh:
                        fresh.search(query, filters, 5)
                    times["HTTP search, new connection"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    kept.search(query, filters, 5)
                    times["HTTP search, kept connection"].append(time.perf_counter() - started)

        try:
            anyio.run(run)
        finally:
            kept.close()
            stop(server)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    over = medians["kb_search tool call"] - medians["HTTP search, new connection"]
    rows = [[name, f"{ms:.1f}"] for name, ms in medians.items()]
    rows.append(["tool call over its HTTP search", f"{over:+.1f}", "ok" if over <= 20 else "MISSED"])
    table(f"kbchat mcp: kb_search against kbchat serve (the sample), {ROUNDS} calls",
          ["what", "median ms", "target: tool call <= +20 ms over its HTTP search"], [[*r, ""][:3] for r in rows])  # fmt: skip


if __name__ == "__main__":
    main()
