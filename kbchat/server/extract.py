"""Extractive answers: the best-matching passages, quoted with their documents. No model."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kbchat.server.index import Hit

MAX_SOURCES = 3
RELEVANCE = 0.8  # a passage after the first is quoted only if it scores this close to the best
ECHO = 200  # characters of the question repeated in a "nothing matches" answer
MAX_QUOTE = 700  # characters of one passage; cut at a sentence or word boundary
_PIECE = re.compile(r"\S+\s*|\s+")


def compose_answer(query: str, hits: Sequence[Hit]) -> str:
    """A short Markdown answer from the passages, or an honest "nothing matches"."""
    if not hits:
        asked = " ".join(query.split())
        asked = asked if len(asked) <= ECHO else asked[: ECHO - 1].rstrip() + "…"
        return f"Nothing in the knowledge base matches “{asked}”.\n\nTry other words, or check the tenant and filters."
    parts = ["Here is what the knowledge base says:"]
    best = hits[0].score
    for hit in [h for h in hits[:MAX_SOURCES] if h.score >= best * RELEVANCE]:
        where = hit.title if not hit.heading or hit.heading == hit.title else f"{hit.title}: {hit.heading}"
        parts.append(f"**{where}** (`{hit.path}`)\n\n{quote(hit.text)}")
    return "\n\n".join(parts)


def quote(text: str, limit: int = MAX_QUOTE) -> str:
    """The passage, shortened at a sentence end (else a word) when it is long."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    if end > limit // 2:
        return cut[: end + 1]
    return cut.rsplit(" ", 1)[0] + " …"


def pieces(answer: str) -> list[str]:
    """Word-sized pieces with their trailing spaces; joined they give the answer exactly."""
    return _PIECE.findall(answer)
