"""Search hits and chat sources as one shape, and snippets around the query's words. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"\w{3,}", re.UNICODE)
SNIPPET = 160


@dataclass(frozen=True)
class Passage:
    score: float | None
    id: str
    document: str
    tags: tuple[str, ...]
    text: str


def from_search_item(item: Any) -> Passage:
    """One `items[]` entry of /v1/kb/search; missing fields are simply absent."""
    item = item if isinstance(item, dict) else {}
    payload: dict[str, Any] = item["payload"] if isinstance(item.get("payload"), dict) else {}
    tags: list[Any] = payload["tag_names"] if isinstance(payload.get("tag_names"), list) else []
    document = payload.get("title") or payload.get("document") or payload.get("snack_elemental_id") or ""
    return Passage(
        score=_number(item.get("score")),
        id=str(payload.get("snack_item_id") or item.get("id") or ""),
        document=str(document),
        tags=tuple(str(t) for t in tags),
        text=str(payload.get("original_text") or ""),
    )


def from_chat_source(source: Any) -> Passage:
    """One `sources[]` entry of /v1/kb/chat."""
    source = source if isinstance(source, dict) else {}
    return Passage(
        score=_number(source.get("score")),
        id=str(source.get("snack_item_id") or source.get("id") or ""),
        document=str(source.get("snack_elemental_id") or ""),
        tags=(),
        text=str(source.get("text") or ""),
    )


def query_terms(query: str) -> list[str]:
    """The query's words worth highlighting (three letters or more), lower-cased, once each."""
    return list(dict.fromkeys(word.lower() for word in _WORD.findall(query)))


def snippet(text: str, terms: list[str], width: int = SNIPPET) -> str:
    """About `width` characters of the text on one line, around the first query word in it."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lower = flat.lower()
    hits = [lower.find(term) for term in terms if term in lower]
    first = min(hits) if hits else 0
    start = max(0, min(first - width // 4, len(flat) - width))
    end = start + width
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")


def _number(value: Any) -> float | None:
    """A score as a float; not a number (or an integer too large for one) is no score."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:
        return None
