"""`kb_search` and `kb_ask`, the knowledge base as tools for AI agents: their schemas, their
arguments checked, their results shaped. Pure, and free of the mcp SDK (kbchat.agent_server
serves them with it).

The configured tenant is fixed: an agent reads untrusted text, and a prompt-injected one
must not roam across tenants, so a call's `filters.tenant_id` is refused unless
`--allow-tenant` names it. Every string returned went through the sanitiser: an agent's
client may well show it on a terminal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kbchat.declared import option
from kbchat.errors import UsageError
from kbchat.passages import Passage
from kbchat.safe import one_line, redact, terminal_safe
from kbchat.settings import Settings, add_filter, check_filter_key
from kbchat.wire import FILTER_KEYS, LIST_FILTER_KEYS

MAX_LIMIT = 20
DEFAULT_LIMIT = 5
MAX_TEXT = 10_000  # characters of a question or query a tool takes
PASSAGE_FIELDS = ("title", "heading", "path", "url", "id", "score", "text")


@dataclass(frozen=True)
class AgentOptions:
    """`kbchat mcp`'s own options."""

    demo: bool = option(False, "--demo", help="serve the bundled sample knowledge base (no key, no network)")
    allow_tenant: tuple[str, ...] = option(
        (), "--allow-tenant", kind=str, repeat=True, metavar="NAME",
        help="a tenant a tool call may name in filters.tenant_id (repeatable); else only the configured one",
    )  # fmt: skip


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


FILTERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "the API's filters; tenant_id only if the server allows it (--allow-tenant)",
    "properties": {
        key: {"type": "array", "items": {"type": "string"}} if key in LIST_FILTER_KEYS else {"type": "string"}
        for key in FILTER_KEYS
    },
    "additionalProperties": False,
}
PASSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: _nullable("number" if name == "score" else "string") for name in PASSAGE_FIELDS},
    "required": list(PASSAGE_FIELDS),
}
TOOLS: dict[str, dict[str, Any]] = {
    "kb_search": {
        "description": "Search the knowledge base: the passages closest to a query, best first, each with "
        "its document's title, the heading above it, where it is and its text.",
        "input": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "description": "what to look for"},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                "filters": FILTERS_SCHEMA,
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        "output": {
            "type": "object",
            "properties": {"passages": {"type": "array", "items": PASSAGE_SCHEMA}},
            "required": ["passages"],
        },
    },
    "kb_ask": {
        "description": "Ask the knowledge base a question: its answer, written from its documents, and the "
        "passages closest to the question (a search beside the answer, not the answer's own citations).",
        "input": {
            "type": "object",
            "properties": {
                "question": {"type": "string", "minLength": 1, "description": "the question"},
                "filters": FILTERS_SCHEMA,
            },
            "required": ["question"],
            "additionalProperties": False,
        },
        "output": {
            "type": "object",
            "properties": {"answer": {"type": "string"}, "sources": {"type": "array", "items": PASSAGE_SCHEMA}},
            "required": ["answer", "sources"],
        },
    },
}


def checked_text(arguments: dict[str, Any], name: str) -> str:
    """A required, non-empty string argument."""
    value = arguments.get(name)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{name} must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise UsageError(f"{name} is longer than {MAX_TEXT:,} characters")
    return value.strip()


def checked_limit(arguments: dict[str, Any]) -> int:
    value = arguments.get("limit", DEFAULT_LIMIT)
    if type(value) is not int or not 1 <= value <= MAX_LIMIT:
        raise UsageError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return value


def checked_arguments(arguments: Any, tool: str) -> dict[str, Any]:
    """The call's arguments: an object holding only what the tool's schema names."""
    if arguments is None:
        return {}
    if not isinstance(arguments, dict):
        raise UsageError("the arguments must be an object")
    unknown = sorted(set(arguments) - set(TOOLS[tool]["input"]["properties"]))
    if unknown:
        raise UsageError(f"{tool} takes no {one_line(unknown[0])[:40]!r}")
    return arguments


def call_settings(settings: Settings, filters: Any, allowed: tuple[str, ...]) -> Settings:
    """The settings for one call: the configured ones, with the call's filters (checked as --filter's are).

    A tenant other than the configured one is refused unless `--allow-tenant` names it.
    """
    if filters is None:
        return settings
    if not isinstance(filters, dict):
        raise UsageError("filters must be an object")
    tenant = settings.tenant
    extra: dict[str, str | list[str]] = {}
    for key, value in filters.items():
        check_filter_key(str(key))
        if isinstance(value, list) and key not in LIST_FILTER_KEYS:
            raise UsageError(f"filters.{key} takes one string")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise UsageError(f"filters.{key} takes a non-empty string" + (" or a list of them" if key in
                                                                         LIST_FILTER_KEYS else ""))  # fmt: skip
        if key == "tenant_id":
            if len(values) != 1:
                raise UsageError("filters.tenant_id takes one tenant")
            tenant = values[0].strip()
            if tenant != settings.tenant and tenant not in allowed:
                raise UsageError(
                    f"tenant {one_line(tenant)[:60]!r} is not allowed: this server answers for "
                    f"{one_line(settings.tenant or '(no tenant)')} (kbchat mcp --allow-tenant NAME allows another)"
                )
            continue
        add_filter(extra, key, ",".join(values) if key in LIST_FILTER_KEYS else values[0])
    return dataclasses.replace(settings, tenant=tenant, filters={**settings.filters, **extra})


def passage_record(passage: Passage) -> dict[str, Any]:
    """A passage as the tools return it: every field present, null when the server did not send it."""
    url = passage.location if passage.location.startswith(("http://", "https://")) else ""
    path = passage.location if not url else ""
    fields = {"title": passage.title, "heading": passage.heading, "path": path, "url": url, "id": passage.id,
              "text": passage.text}  # fmt: skip
    record: dict[str, Any] = {name: terminal_safe(redact(value)) if value else None for name, value in fields.items()}
    record["score"] = passage.score
    return {name: record[name] for name in PASSAGE_FIELDS}


def passages_text(passages: list[dict[str, Any]]) -> str:
    """The passages as a person (or a model) reads them: numbered, named, then their text."""
    if not passages:
        return "No passage matched."
    parts = []
    for number, passage in enumerate(passages, 1):
        name = " › ".join(part for part in (passage["title"], passage["heading"]) if part) or passage["id"] or ""
        where = passage["url"] or passage["path"]
        score = f" (score {passage['score']:.2f})" if passage["score"] is not None else ""
        head = f"[{number}] {name}" + (f" — {where}" if where else "") + score
        parts.append(f"{head}\n{passage['text'] or ''}".rstrip())
    return "\n\n".join(parts)


def answer_text(answer: str, sources: list[dict[str, Any]]) -> str:
    """The answer, then the closest passages, as readable text beside the structured result."""
    if not sources:
        return answer
    return f"{answer.rstrip()}\n\nClosest passages (a search for the same question):\n\n{passages_text(sources)}"
