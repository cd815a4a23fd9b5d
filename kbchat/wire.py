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
# How kbchat's follow-up query joins the earlier one and the new question (the API keeps no
# conversation): `<earlier query>\n\nFollow-up question: <question>`. kbchat serve reads it back.
FOLLOW_UP = "Follow-up question: "


def chat_request(query: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The body of /v1/kb/chat and /v1/kb/chat/stream."""
    return {"query": query, "filters": filters}


def search_request(query: str, filters: dict[str, Any], limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """The body of /v1/kb/search."""
    return {"query": query, "filters": filters, "limit": limit}


def message_data(content: str) -> str:
    """The data of a message event, as the service writes it."""
    return json.dumps({"event": MESSAGE, "data": {"content": content}}, ensure_ascii=False)


# A passage's fields as kbchat names them → as the service spells them (API.md: search items, chat sources).
PAYLOAD_NAMES = {
    "tenant": "tenant_id", "elemental_id": "snack_elemental_id", "item_id": "snack_item_id",
    "text": "original_text", "tags": "tag_names", "category": "category_name",
}  # fmt: skip
SOURCE_NAMES = {"elemental_id": "snack_elemental_id", "item_id": "snack_item_id"}
_READ_NAMES = {spelled: name for names in (PAYLOAD_NAMES, SOURCE_NAMES) for name, spelled in names.items()}


def search_item(id: str, score: float, fields: dict[str, Any]) -> dict[str, Any]:
    """One `items[]` entry of /v1/kb/search, from kbchat's names for its payload's fields."""
    return {"id": id, "score": score, "payload": {PAYLOAD_NAMES.get(k, k): v for k, v in fields.items()}}


def chat_source(id: str, score: float, fields: dict[str, Any]) -> dict[str, Any]:
    """One `sources[]` entry of /v1/kb/chat."""
    return {"id": id, "score": score, **{SOURCE_NAMES.get(k, k): v for k, v in fields.items()}}


def search_body(items: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {"items": items, "total_found": total}


def read_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A search payload or a chat source with kbchat's names (`snack_item_id` → `item_id`); the rest as sent."""
    return {_READ_NAMES.get(key, key): value for key, value in fields.items()}


def unwrap(body: Any) -> Any:
    """A response body without the older API's `{"response": ...}` envelope."""
    if isinstance(body, dict) and isinstance(body.get("response"), dict | list):
        return body["response"]
    return body


def error_detail(body: dict[str, Any]) -> Any:
    """What an error body says went wrong: `detail`, else the older `error_message`, else `message`."""
    return body.get("detail") or body.get("error_message") or body.get("message")
