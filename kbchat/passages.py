"""Search hits and chat sources as one shape, and snippets around the query's words. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kbchat.wire import read_fields

_WORD = re.compile(r"\w{3,}", re.UNICODE)
SNIPPET = 160
LOCATION_KEYS = ("url", "source_url", "document", "path", "file_name")  # where a document is


@dataclass(frozen=True)
class Passage:
    """A passage, with what a person needs to find it again: its document's title, the
    heading above it, and where the document is (a path or URL), when the server says."""

    score: float | None
    id: str
    document: str  # the document's id (elemental id)
    tags: tuple[str, ...]
    text: str
    title: str = ""
    heading: str = ""
    location: str = ""  # path or URL

    @property
    def name(self) -> str:
        """`Title › Heading`, else the document's id, else the passage's."""
        return source_name(self.title, self.heading) or self.document or self.id

    @property
    def label(self) -> str:
        """The name, and where the document is: `Plans › Team (docs/plans.md)`."""
        where = self.location if self.location and self.location != self.name else ""
        return f"{self.name} ({where})" if where and self.name else self.name or where


def source_name(title: str, heading: str) -> str:
    """`Title › Heading`; the title alone when the heading repeats it (a document's first section)."""
    return " › ".join(part for part in (title, "" if heading == title else heading) if part)


def from_search_item(item: Any) -> Passage:
    """One `items[]` entry of /v1/kb/search; missing fields are simply absent."""
    item = item if isinstance(item, dict) else {}
    payload = read_fields(item["payload"]) if isinstance(item.get("payload"), dict) else {}
    tags: list[Any] = payload["tags"] if isinstance(payload.get("tags"), list) else []
    return Passage(
        score=score_of(item.get("score")),
        id=_text(payload.get("item_id") or item.get("id")),
        document=_text(payload.get("elemental_id")),
        tags=tuple(str(t) for t in tags),
        text=_text(payload.get("text")),
        **_names(payload),
    )


def from_chat_source(source: Any) -> Passage:
    """One `sources[]` entry of /v1/kb/chat."""
    source = read_fields(source) if isinstance(source, dict) else {}
    return Passage(
        score=score_of(source.get("score")),
        id=_text(source.get("item_id") or source.get("id")),
        document=_text(source.get("elemental_id")),
        tags=(),
        text=_text(source.get("text")),
        **_names(source),
    )


def _names(fields: dict[str, Any]) -> dict[str, str]:
    """Title, heading and location from whichever of the usual keys the server sends."""
    location = next((fields[k] for k in LOCATION_KEYS if isinstance(fields.get(k), str) and fields[k]), "")
    return {"title": _text(fields.get("title")), "heading": _text(fields.get("heading")), "location": location}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None or isinstance(value, dict | list) else str(value)


def highlight_words(query: str) -> list[str]:
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


def score_of(value: Any) -> float | None:
    """A score as a float; not a number (or an integer too large for one) is no score."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:
        return None
