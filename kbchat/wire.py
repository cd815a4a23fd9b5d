"""The knowledge-base API's wire format, in one place: paths, filter keys, bodies, events.

Used by the client and the event decoder on one side, by `kbchat serve` on the other,
and by the shell completions. Pure; imports nothing from kbchat. (API.md has the
service's own description.)
"""

from __future__ import annotations

import json
from typing import Any

CHAT_STREAM = "/v1/kb/chat/stream"
CHAT = "/v1/kb/chat"
SEARCH = "/v1/kb/search"
HEALTH = "/health"
HEALTH_DETAILED = "/health/detailed"

FILTER_KEYS = (
    "tenant_id", "elemental_id", "user_id", "tag_ids", "tag_names",
    "source", "type_name", "category_name",
)  # fmt: skip
LIST_FILTER_KEYS = frozenset({"tag_ids", "tag_names"})

MESSAGE = "message"  # an event whose data.content is the next piece of the answer
ERROR = "error"  # an event reporting an error; the stream may go on
DONE = "[DONE]"  # the data of the event that ends a stream (not JSON)
SEARCH_LIMIT = 10


def chat_request(query: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The body of /v1/kb/chat and /v1/kb/chat/stream."""
    return {"query": query, "filters": filters}


def search_request(query: str, filters: dict[str, Any], limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """The body of /v1/kb/search."""
    return {"query": query, "filters": filters, "limit": limit}


def message_data(content: str) -> str:
    """The data of a message event, as the service writes it."""
    return json.dumps({"event": MESSAGE, "data": {"content": content}}, ensure_ascii=False)


def unwrap(body: Any) -> Any:
    """A response body without the older API's `{"response": ...}` envelope."""
    if isinstance(body, dict) and isinstance(body.get("response"), dict | list):
        return body["response"]
    return body


def error_detail(body: dict[str, Any]) -> Any:
    """What an error body says went wrong: `detail`, else the older `error_message`, else `message`."""
    return body.get("detail") or body.get("error_message") or body.get("message")
