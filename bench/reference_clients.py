"""Reference clients the benchmarks compare kbchat with; run as `python reference_clients.py NAME URL`.

Each posts the same chat request and writes the answer's content to stdout,
flushing per piece, so they do the same work kbchat does in plain mode.
"""

from __future__ import annotations

import json
import sys

BODY = {"query": "bench", "filters": {"tenant_id": "bench"}}
HEADERS = {"x-api-key": "bench-key", "Accept": "text/event-stream"}


def content_of(data: str) -> str | None:
    if data.strip() == "[DONE]":
        return None
    try:
        return json.loads(data).get("data", {}).get("content", "")
    except ValueError:
        return ""


def requests_minimal(url: str) -> None:
    """The smallest reasonable requests client (iter_content, chunk_size=None)."""
    import requests

    with requests.post(url, json=BODY, headers=HEADERS, stream=True, timeout=60) as response:
        buffer = b""
        for chunk in response.iter_content(chunk_size=None):
            buffer += chunk
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                for line in event.decode().splitlines():
                    if line.startswith("data: "):
                        text = content_of(line[6:])
                        if text is None:
                            return
                        sys.stdout.write(text)
                        sys.stdout.flush()


def httpx_sse_client(url: str) -> None:
    """httpx + httpx-sse, the usual modern choice."""
    import httpx
    from httpx_sse import connect_sse

    with httpx.Client(timeout=60) as client, connect_sse(client, "POST", url, json=BODY, headers=HEADERS) as source:
        for event in source.iter_sse():
            text = content_of(event.data)
            if text is None:
                return
            sys.stdout.write(text)
            sys.stdout.flush()


class _WithoutClick:
    """httpx loads its own command line (click, rich, pygments: ~50 ms) whenever click is installed,
    and the test extra installs it (with the mcp SDK). A script built on httpx-sse in its own venv
    has no click: so it is hidden here, and the reference is timed as it would run there."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "click" or name.startswith("click."):
            raise ModuleNotFoundError(name, name=name)


if __name__ == "__main__":
    sys.meta_path.insert(0, _WithoutClick())  # type: ignore[arg-type]
    {"requests": requests_minimal, "httpx-sse": httpx_sse_client}[sys.argv[1]](sys.argv[2])
