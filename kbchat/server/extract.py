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

from kbchat import terms
from kbchat.fences import Fences, left_open, opener
from kbchat.passages import source_name
from kbchat.server.query import MAX_TERMS, Hit

MAX_SOURCES = 3
RELEVANCE = 0.8  # a passage after the first is quoted only if it scores this close to the best
ECHO = 200  # characters of the question repeated in a "nothing matches" answer
MAX_QUOTE = 700  # characters of one passage; cut at a line or sentence boundary
MAX_LEAD = 2  # sentences, items or rows that lead the answer
SHORT_SENTENCE = 12  # characters: a shorter sentence is joined to the next one
_PIECE = re.compile(r"\S+\s*|\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019)]*\s+(?=[\"\u201c\u2018(\[`*_]?[A-Z0-9])")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")


def compose_answer(query: str, hits: Sequence[Hit], focus: bool = False) -> str:
    """A short Markdown answer from the passages, or an honest "nothing matches".

    `focus`: the hits were found with an earlier question's words too (a follow-up); the
    lead is the sentence that holds this question's own words, not the earlier one's."""
    if not hits:
        asked = " ".join(query.split())
        asked = asked if len(asked) <= ECHO else asked[: ECHO - 1].rstrip() + "…"
        return f"Nothing in the knowledge base matches “{asked}”.\n\nTry other words, or check the tenant and filters."
    best = hits[0].score
    quoted = [h for h in hits[:MAX_SOURCES] if h.score >= best * RELEVANCE]
    own, matched = set(terms.query_terms(query, MAX_TERMS)), set(hits[0].matched)
    lead = leading(quoted, (matched & own if focus else set()) or matched or own)
    whole = any(lead.split() == hit.text.split() for hit in quoted)
    parts = [] if whole else [lead or "Here is what the knowledge base says:"]  # a lead that is a whole passage: once
    for hit in quoted:
        parts.append(f"**{source_name(hit.title, hit.heading)}** ({code_span(hit.path)})\n\n{quote(hit.text)}")
    return "\n\n".join(parts)


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
    code = Fences(nested=True)
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
        if code.step(line):
            yield from sentences()
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
    best = 0
    lead: list[Unit] = []
    for hit in hits:
        asked = len(set(terms.terms(hit.heading)) & wanted) if hit.heading.rstrip().endswith("?") else 0
        held = []  # (how many of the question's terms, where, the unit, those terms)
        for position, unit in enumerate(units(hit.text)):
            found = set(terms.terms(f"{unit.header}\n{unit.text}")) & wanted
            count = max(len(found), asked) if position == 0 and not unit.header else len(found)
            held.append((count, position, unit, found))
        if not held:
            continue
        top = max(held, key=lambda item: (item[0], -item[1]))
        if top[0] > best:
            best = top[0]
            chosen = [top]
            covered = set(top[3])
            for item in sorted(held, key=lambda item: (-item[0], item[1])):
                if len(chosen) == MAX_LEAD or not item[0]:
                    break
                if item is not top and item[3] - covered and item[2].header == top[2].header:
                    chosen.append(item)
                    covered |= item[3]
            lead = [item[2] for item in sorted(chosen, key=lambda item: item[1])]  # in reading order
    if not lead:
        return ""
    if lead[0].header:
        return "\n".join([lead[0].header, *(unit.text for unit in lead)])
    return " ".join(unit.text for unit in lead)


# --- quoting ----------------------------------------------------------------------------


def quote(text: str, limit: int = MAX_QUOTE) -> str:
    """The passage, or its first lines up to `limit` characters, then "…".

    The cut falls at the end of a line (or of a sentence, inside a long one), and a
    code fence left open is closed (even in a whole passage: its file may never close it).
    """
    if len(text) <= limit:
        fence = left_open(text.split("\n"), nested=True)
        return f"{text}\n{fence}" if fence else text  # a file that never closed its last code block
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        if size + len(line) > limit:
            if not kept or (line.strip() and not opener(line, nested=True) and size < limit // 2):
                kept.append(_cut_line(line, limit - size))
            break
        kept.append(line)
        size += len(line) + 1
    while kept and (not kept[-1].strip() or (opener(kept[-1], nested=True) and left_open(kept, nested=True))):
        kept.pop()  # no trailing blank line, no fence opened on the last line kept
    fence = left_open(kept, nested=True)
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


def pieces(answer: str) -> list[str]:
    """Word-sized pieces with their trailing spaces; joined they give the answer exactly."""
    return _PIECE.findall(answer)
