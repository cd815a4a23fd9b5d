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


if __name__ == "__main__":
    {"requests": requests_minimal, "httpx-sse": httpx_sse_client}[sys.argv[1]](sys.argv[2])
