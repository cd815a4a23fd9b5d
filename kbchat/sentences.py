"""An answer's sentences, as `--cite` marks them: where each claim begins and ends. Pure, linear.

Markdown decides the units, the same way the live view cuts the answer into blocks
(kbchat.render.blocks), so a block can be marked the moment it is drawn:
- a paragraph (or a block quote) is cut into sentences;
- a list item is one unit, however many sentences it holds, and so is a table row;
- headings (and a paragraph that is one bold line, as answers write them), a table's
  header, rules and code (fenced or indented) are no units at all.

A sentence ends at `.`, `!`, `?` or `…` (and the closing quotes, brackets or emphasis
after it) followed by white space and then no lower-case letter: so "$79.50", "v2.1",
"config.toml" and URLs never end one, nor do "e.g." and the like, nor anything inside
inline code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from kbchat.render.blocks import BlockSplitter, Piece, split_cells


class Span(NamedTuple):
    """A sentence: `text[start:end]`, no white space at either end."""

    start: int
    end: int


ENDS = ".!?…"
CLOSERS = "\"')]}*_\u201d\u2019\u00bb"  # may follow the end mark and still belong to the sentence
# Words a full stop follows without ending the sentence (lower-cased, without the stop).
ABBREVIATIONS = frozenset(
    "e.g i.e cf vs etc approx incl esp resp fig mr mrs ms dr prof st jr sr dept ca al".split()  # noqa: SIM905
)
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_RULE = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*$")
_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_WORD_BEFORE = re.compile(r"[\w.]*$")
# A paragraph of one line in bold, maybe with a colon or a note in brackets after it: a heading in all but name.
_BOLD_LINE = re.compile(r"[ \t]*(\*\*|__)[^\n]*?\1:?(?:[ \t]*\([^()\n]*\))?[ \t]*")


def sentences(text: str) -> list[Span]:
    """Every sentence of a whole answer, in order."""
    splitter = BlockSplitter(markdown=True)
    found: list[Span] = []
    for piece in splitter.feed(text):
        found.extend(in_piece(piece))
    if splitter.has_tail():
        found.extend(in_piece(splitter.last_piece()))
    return found


def in_piece(piece: Piece) -> list[Span]:
    """The sentences of one finished piece of the live view, at their place in the whole answer."""
    if piece.kind == "row":
        return _row(piece.text, piece.at)
    if piece.kind == "block":
        return [Span(piece.at + s, piece.at + e) for s, e in in_block(piece.text)]
    return []


def in_block(block: str) -> list[Span]:
    """The sentences of a block of Markdown that holds no blank line."""
    lines = _lines(block)
    if not lines or all(_indented_code(block[s:e]) for s, e in lines):
        return []
    last = block[lines[-1][0] : lines[-1][1]]
    if len(lines) > 1 and _SETEXT.match(last) and not _ITEM.match(last):
        return []  # a heading underlined with === or ---
    if len(lines) == 1 and _BOLD_LINE.fullmatch(last):
        return []
    found: list[Span] = []
    prose_start = -1  # where the run of paragraph lines being gathered begins
    item: list[int] = []  # the list item being gathered: its start and end
    for start, end in lines:
        line = block[start:end]
        if _HEADING.match(line) or _RULE.match(line):
            found.extend(_close(block, prose_start, start, item))
            prose_start, item = -1, []
        elif marker := _ITEM.match(line):
            found.extend(_close(block, prose_start, start, item))
            prose_start, item = -1, [start + marker.end(), end]
        elif item:  # the item goes on: an indented line, or a lazy continuation
            item[1] = end
        elif prose_start < 0:
            prose_start = start
    found.extend(_close(block, prose_start, len(block), item))
    return found


def _close(block: str, prose_start: int, prose_end: int, item: list[int]) -> Iterator[Span]:
    """The sentences of the paragraph lines or the list item gathered so far."""
    if item:
        yield from _trimmed(block, item[0], item[1])
    elif prose_start >= 0:
        yield from prose(block, prose_start, prose_end)


def prose(text: str, start: int, end: int) -> Iterator[Span]:
    """The sentences of running text in `text[start:end]`."""
    code_ends = _inline_code(text, start, end)
    begin = i = start
    while i < end:
        char = text[i]
        if char == "`" and i in code_ends:
            i = code_ends[i]
        elif char in ENDS and _ends_sentence(text, i, start, end):
            stop = i + 1
            while stop < end and (text[stop] in ENDS or text[stop] in CLOSERS):
                stop += 1
            yield from _trimmed(text, begin, stop)
            begin = i = stop
        else:
            i += 1
    yield from _trimmed(text, begin, end)


def _ends_sentence(text: str, i: int, start: int, end: int) -> bool:
    """Whether the mark at `i` ends a sentence: white space after it (and its closers), no lower case next."""
    after = i + 1
    while after < end and (text[after] in ENDS or text[after] in CLOSERS):
        after += 1
    if after < end and not text[after].isspace():
        return False
    following = after
    while following < end and text[following].isspace():
        following += 1
    if following < end and text[following].islower():
        return False
    if text[i] == ".":
        word = _WORD_BEFORE.search(text, max(start, i - 12), i)
        before = word[0].lower() if word else ""
        if before in ABBREVIATIONS:
            return False
    return True


def _inline_code(text: str, start: int, end: int) -> dict[int, int]:
    """Each backtick run that opens inline code, mapped to where its closing run ends.

    A run is closed by the next run of the same length; one with none is literal
    backticks. One pass: each run length's runs are paired in order.
    """
    runs: dict[int, list[int]] = {}
    i = text.find("`", start, end)
    while 0 <= i < end:
        j = i
        while j < end and text[j] == "`":
            j += 1
        runs.setdefault(j - i, []).append(i)
        i = text.find("`", j, end)
    pairs: dict[int, int] = {}
    for length, starts in runs.items():
        for opening, closing in zip(starts[::2], starts[1::2], strict=False):
            pairs[opening] = closing + length
    # A run inside another's code is no opener: drop pairs that begin inside an earlier pair.
    kept: dict[int, int] = {}
    reach = -1
    for opening in sorted(pairs):
        if opening >= reach:
            kept[opening] = reach = pairs[opening]
    return kept


def _row(row: str, at: int) -> list[Span]:
    """A table row is one unit: from its first cell's text to its last's."""
    if not any(split_cells(row)):
        return []
    begin = len(row) - len(row.lstrip())
    finish = len(row.rstrip())
    if row.startswith("|", begin):
        begin += 1
    if finish > begin and row[finish - 1] == "|" and row[finish - 2 : finish] != "\\|":
        finish -= 1
    return [Span(at + s, at + e) for s, e in _trimmed(row, begin, finish)]


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    """`text[start:end]` without white space at its ends (nor a quote's `>` before it), if a word is left."""
    while start < end and (text[start].isspace() or text[start] == ">"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(c.isalnum() for c in text[start:end]):
        yield Span(start, end)


def _lines(block: str) -> list[tuple[int, int]]:
    """Each line's start and end (without its newline)."""
    found = []
    start = 0
    while start <= len(block):
        end = block.find("\n", start)
        if end < 0:
            end = len(block)
        if block[start:end].strip():
            found.append((start, end))
        start = end + 1
    return found


def _indented_code(line: str) -> bool:
    return line.startswith(("    ", "\t"))
