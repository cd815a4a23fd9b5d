"""Extractive answers: the lines that answer first, then the passages they come from. No model.

An answer leads with the one or two sentences, list items or table rows (under their
table's header) that hold the most of the question, then quotes each passage under
"Title › Heading" and its path. A passage cut short ends at a line or sentence
boundary, its code fence closed, so the rest of the answer never renders as code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kbchat.server import terms
from kbchat.server.index import MAX_TERMS, Hit

MAX_SOURCES = 3
RELEVANCE = 0.8  # a passage after the first is quoted only if it scores this close to the best
ECHO = 200  # characters of the question repeated in a "nothing matches" answer
MAX_QUOTE = 700  # characters of one passage; cut at a line or sentence boundary
MAX_LEAD = 2  # sentences, items or rows that lead the answer
SHORT_SENTENCE = 12  # characters: a shorter sentence is joined to the next one
_PIECE = re.compile(r"\S+\s*|\s+")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019)]*\s+(?=[\"\u201c\u2018(\[`*_]?[A-Z0-9])")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")


def compose_answer(query: str, hits: Sequence[Hit]) -> str:
    """A short Markdown answer from the passages, or an honest "nothing matches"."""
    if not hits:
        asked = " ".join(query.split())
        asked = asked if len(asked) <= ECHO else asked[: ECHO - 1].rstrip() + "…"
        return f"Nothing in the knowledge base matches “{asked}”.\n\nTry other words, or check the tenant and filters."
    best = hits[0].score
    quoted = [h for h in hits[:MAX_SOURCES] if h.score >= best * RELEVANCE]
    lead = leading(quoted, set(hits[0].matched) or set(terms.query_terms(query, MAX_TERMS)))
    whole = any(lead.split() == hit.text.split() for hit in quoted)
    parts = [] if whole else [lead or "Here is what the knowledge base says:"]  # a lead that is a whole passage: once
    for hit in quoted:
        parts.append(f"**{label(hit)}** ({code_span(hit.path)})\n\n{quote(hit.text)}")
    return "\n\n".join(parts)


def label(hit: Hit) -> str:
    """`Title › Heading`, or the title alone when the heading repeats it."""
    if not hit.heading or hit.heading == hit.title:
        return hit.title
    return f"{hit.title} › {hit.heading}"


def code_span(text: str) -> str:
    """Text as inline code, fenced with more backticks than it holds (CommonMark)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# --- the lead ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A sentence, a list item or a table row (with its table's header), as it may lead an answer."""

    text: str
    header: str = ""  # a table row's header and rule lines


def units(text: str) -> Iterator[Unit]:
    """The passage's sentences, list items and table rows, in order; code blocks and headings are skipped."""
    fence = ""
    header: list[str] = []
    paragraph: list[str] = []

    def sentences() -> Iterator[Unit]:
        joined = " ".join(line.strip() for line in paragraph)
        paragraph.clear()
        short = ""  # "Yes." or "No." says little alone: it goes with the next sentence
        for sentence in _SENTENCE_END.split(joined):
            sentence = f"{short} {sentence.strip()}".strip()
            if len(sentence) < SHORT_SENTENCE:
                short = sentence
                continue
            short = ""
            yield Unit(sentence)
        if short:
            yield Unit(short)

    for line in text.split("\n"):
        stripped = line.strip()
        if fence:
            fence = "" if stripped.startswith(fence) else fence
            continue
        if match := _FENCE.match(line):
            yield from sentences()
            fence = match[1]
            continue
        if stripped.startswith("|"):
            yield from sentences()
            if _TABLE_RULE.match(stripped.replace("|", "", 1)) and header:
                header.append(stripped)
            elif len(header) < 2:
                header = [stripped]
            else:
                yield Unit(stripped, "\n".join(header))
            continue
        header = []
        if not stripped or stripped.startswith("#"):
            yield from sentences()
        elif _ITEM.match(line):
            yield from sentences()
            paragraph.append(stripped)
        else:
            paragraph.append(stripped)
    yield from sentences()


def leading(hits: Sequence[Hit], wanted: set[str]) -> str:
    """The sentences, items or rows of one passage that hold the most of the question's terms.

    A table row counts its header's words too ("| plan | price |" over "| Team | $29 |").
    A section whose heading is a question (an FAQ) is answered by its first sentence.
    """
    best: tuple[int, int] = (0, 0)
    lead: list[Unit] = []
    for rank, hit in enumerate(hits):
        asked = len(set(terms.terms(hit.heading)) & wanted) if hit.heading.rstrip().endswith("?") else 0
        held = []
        for position, unit in enumerate(units(hit.text)):
            count = len(_terms(unit) & wanted)
            held.append((max(count, asked) if position == 0 and not unit.header else count, position, unit))
        if not held:
            continue
        top = max(held, key=lambda item: (item[0], -item[1]))
        if top[0] > best[0]:
            best = (top[0], rank)
            chosen = [top[1:]]
            covered = _terms(top[2]) & wanted
            for count, position, unit in sorted(held, key=lambda item: (-item[0], item[1])):
                if len(chosen) == MAX_LEAD or not count:
                    break
                if unit is not top[2] and (_terms(unit) & wanted) - covered and unit.header == top[2].header:
                    chosen.append((position, unit))
                    covered |= _terms(unit) & wanted
            lead = [unit for _, unit in sorted(chosen, key=lambda item: item[0])]  # in reading order
    if not lead:
        return ""
    if lead[0].header:
        return "\n".join([lead[0].header, *(unit.text for unit in lead)])
    return " ".join(unit.text for unit in lead)


def _terms(unit: Unit) -> set[str]:
    return set(terms.terms(f"{unit.header}\n{unit.text}"))


# --- quoting ----------------------------------------------------------------------------


def quote(text: str, limit: int = MAX_QUOTE) -> str:
    """The passage, or its first lines up to `limit` characters, then "…".

    The cut falls at the end of a line (or of a sentence, inside a long one), and a
    code fence left open is closed (even in a whole passage: its file may never close it).
    """
    if len(text) <= limit:
        fence = open_fence(text.split("\n"))
        return f"{text}\n{fence}" if fence else text  # a file that never closed its last code block
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        if size + len(line) > limit:
            if not kept or (line.strip() and not _FENCE.match(line) and size < limit // 2):
                kept.append(_cut_line(line, limit - size))
            break
        kept.append(line)
        size += len(line) + 1
    while kept and (not kept[-1].strip() or _opens_fence(kept)):
        kept.pop()  # no trailing blank line, no fence opened on the last line kept
    fence = open_fence(kept)
    if fence:
        kept.append(fence)
    return "\n".join(kept).rstrip() + "\n\n…"


def _cut_line(line: str, room: int) -> str:
    """A line shortened to `room` characters at a sentence end, else at a word."""
    cut = line[: max(room, 1)]
    ends = [m.start() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] > room // 3:
        return cut[: ends[-1]].rstrip()
    return cut.rsplit(" ", 1)[0].rstrip() if " " in cut else cut


def open_fence(lines: Sequence[str]) -> str:
    """The fence that closes a code block left open by these lines, or ""."""
    fence = ""
    for line in lines:
        match = _FENCE.match(line)
        if match is None:
            continue
        marker = match[1]
        if not fence:
            fence = marker
        elif marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker) :].strip():
            fence = ""
    return fence


def _opens_fence(lines: list[str]) -> bool:
    """Whether the last line opens a code block (which would then hold nothing)."""
    return bool(_FENCE.match(lines[-1])) and bool(open_fence(lines))


def pieces(answer: str) -> list[str]:
    """Word-sized pieces with their trailing spaces; joined they give the answer exactly."""
    return _PIECE.findall(answer)
