"""Request bodies of the local knowledge base, checked as the service checks them.

The service's documented messages (400 `query is required`, `tenant_id is required in
filters`, `Invalid filter: <key>`) and FastAPI-style 422s for the wrong JSON; lone
surrogates made U+FFFD and deep nesting refused, so no body can crash a handler.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kbchat.wire import FILTER_KEYS, LIST_FILTER_KEYS

MAX_BODY = 1 << 20
MAX_DEPTH = 32  # JSON nesting accepted in a body; the API's bodies are three levels deep
MAX_LIMIT = 100
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestError(Exception):
    """An error response: status and the `detail` of its body."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object, or the 422 that says why not."""
    try:
        parsed = json.loads(raw)
    except RecursionError:  # nested deeper than Python reads
        raise too_deep() from None
    except ValueError as err:
        raise RequestError(422, [_problem(["body"], f"JSON decode error: {err}", "json_invalid")]) from None
    body = scrub(parsed)
    if not isinstance(body, dict):
        raise RequestError(422, [_problem(["body"], "Input should be a valid dictionary", "dict_type")])
    return body


def read_query(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`query` and `filters` checked with the service's documented messages."""
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise RequestError(422, [_problem(["body", "query"], "Input should be a valid string", "string_type")])
    if not query or not query.strip():
        raise RequestError(400, "query is required")
    return query, read_filters(body.get("filters"))


def read_filters(filters: Any) -> dict[str, Any]:
    if filters is None:
        raise RequestError(400, "tenant_id is required in filters")
    if not isinstance(filters, dict):
        raise RequestError(422, [_problem(["body", "filters"], "Input should be a valid dictionary", "dict_type")])
    checked: dict[str, Any] = {}
    for key, value in filters.items():
        if key not in FILTER_KEYS:
            raise RequestError(400, f"Invalid filter: {key}")
        if value is None:
            continue
        if key in LIST_FILTER_KEYS:
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problem = _problem(["body", "filters", key], "Input should be a valid list of strings", "list_type")
                raise RequestError(422, [problem])
        elif not isinstance(value, str):
            raise RequestError(
                422, [_problem(["body", "filters", key], "Input should be a valid string", "string_type")]
            )
        checked[key] = value
    if not checked.get("tenant_id"):
        raise RequestError(400, "tenant_id is required in filters")
    return checked


def read_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        problem = _problem(["body", "limit"], f"Input should be a whole number from 1 to {MAX_LIMIT}", "int_range")
        raise RequestError(422, [problem])
    return limit


def scrub(value: Any, depth: int = 0) -> Any:
    """A parsed body with lone surrogates (`"\\ud800"`, which UTF-8 cannot carry) made U+FFFD."""
    if depth > MAX_DEPTH:
        raise too_deep()
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [scrub(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {scrub(key): scrub(item, depth + 1) for key, item in value.items()}
    return value


def too_deep() -> RequestError:
    return RequestError(422, [_problem(["body"], f"JSON nested deeper than {MAX_DEPTH} levels", "json_invalid")])


def _problem(loc: list[str], msg: str, kind: str) -> dict[str, Any]:
    """One FastAPI-style validation entry."""
    return {"loc": loc, "msg": msg, "type": kind}
