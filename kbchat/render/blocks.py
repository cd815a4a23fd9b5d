"""Where a streaming Markdown answer can be cut into finished pieces. Pure.

A block is finished once a blank line follows it outside a code fence: nothing that
arrives later can change how it renders, so it can be printed once, for good. Code
fences are finished line by line (a code line renders the same whatever follows), so
a long code block streams into the scrollback instead of growing a live region. So are
tables, once their header and delimiter row are in: the renderer fixes the column
widths then, and each row is drawn once. In literal mode every complete line is finished.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from kbchat import fences

_DELIMITER_ROW = re.compile(r" {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*")
_CELL_BREAK = re.compile(r"(?<!\\)\|")
# What ends a table besides a blank line (markdown-it: what may interrupt a block quote).
_ENDS_TABLE = re.compile(r" {0,3}(?:`{3,}|~{3,}|>|#{1,6}(?: |$)|[-*+] |\d{1,9}[.)] |(?:[-*_] *){3,}$)")

# One line that reads the same as Markdown: no inline markup, nothing that starts a block.
_MARKUP = re.compile(r"[*_`\[\]<>\\~&]|\n\s*\S|^\s|^(?:[-+=#>]|\d+[.)])")


def reads_as_written(text: str) -> bool:
    """Whether Markdown would show this text exactly as written (plain words on one line)."""
    return not _MARKUP.search(text.rstrip("\n"))


Kind = Literal["block", "open", "code", "close", "table", "row", "end", "line"]


class Piece(NamedTuple):
    """A finished piece: a Markdown block, a fence opening (its line), a code line, a fence
    closing, a table's header and delimiter rows, one of its rows, the end of a table
    (no text), or (literal mode) a line."""

    kind: Kind
    text: str
    at: int = 0  # where the text begins in all that was fed (--cite marks sentences by it)


class BlockSplitter:
    """Feed text as it streams; take finished pieces; the rest is the live tail."""

    def __init__(self, markdown: bool = True) -> None:
        self.markdown = markdown
        self._text = ""  # what has not been handed out yet
        self._scanned = 0  # _text[:_scanned] is whole lines already looked at
        self._handed = 0  # how much of what was fed is before _text
        self.fence = ""  # the fence marker of the open code block, "" outside one
        self.fence_line = ""  # the line that opened it (its info string names the language)
        self.columns = 0  # the column count of the table being written, 0 outside one

    def feed(self, text: str) -> list[Piece]:
        """Append text; return the pieces it finishes."""
        self._text += text
        pieces: list[Piece] = []
        base = self._handed
        start = 0  # where the unfinished text begins
        while (end := self._text.find("\n", self._scanned)) >= 0:
            line = self._text[self._scanned : end]
            line_start, self._scanned = self._scanned, end + 1
            if not self.markdown:
                pieces.append(Piece("line", line, base + line_start))
                start = self._scanned
            elif self.fence:
                if fences.closes(self.fence, line):
                    self.fence = self.fence_line = ""
                    pieces.append(Piece("close", line, base + line_start))
                else:
                    pieces.append(Piece("code", line, base + line_start))
                start = self._scanned
            elif self.columns and line.strip() and not _ENDS_TABLE.match(line):
                pieces.append(Piece("row", line, base + line_start))
                start = self._scanned
            else:
                if self.columns:
                    self.columns = 0
                    pieces.append(Piece("end", "", base + line_start))
                    start = line_start
                if marker := fences.opener(line):
                    block = self._text[start:line_start]
                    if block.strip():
                        pieces.append(Piece("block", block.rstrip("\n"), base + start))
                    self.fence, self.fence_line = marker, line
                    pieces.append(Piece("open", line, base + line_start))
                    start = self._scanned
                elif not line.strip():
                    block = self._text[start:line_start]
                    if block.strip():
                        pieces.append(Piece("block", block.rstrip("\n"), base + start))
                    start = self._scanned
                elif line_start > start and (columns := _table_columns(self._text, start, line_start, line)):
                    header_start = _previous_line(self._text, start, line_start)
                    block = self._text[start:header_start]
                    if block.strip():
                        pieces.append(Piece("block", block.rstrip("\n"), base + start))
                    pieces.append(Piece("table", self._text[header_start:line_start] + line, base + header_start))
                    self.columns = columns
                    start = self._scanned
        if start:
            self._text = self._text[start:]
            self._scanned -= start
            self._handed += start
        return pieces

    @property
    def tail(self) -> str:
        """The unfinished text: the block (or code line) being written."""
        return self._text

    def last_piece(self) -> Piece:
        """The tail as the piece it would be once finished: a code line, a table row, or a block."""
        kind: Kind = "code" if self.fence else "row" if self.columns else "block"
        return Piece(kind, self._text.rstrip("\n"), self._handed)

    def has_tail(self) -> bool:
        """Whether the tail holds anything visible; never copies it."""
        return bool(self._text) and not self._text.isspace()

    def visible_tail(self, lines: int, columns: int, more: str = "") -> str:
        """The end of the tail (and of `more` text after it) that can show on a screen: a tall block costs no
        more to draw."""
        text = self._text + more
        cut = len(text)
        for _ in range(lines + 1):
            cut = text.rfind("\n", 0, cut)
            if cut < 0:
                break
        if cut >= 0:
            text = text[cut + 1 :]
        limit = lines * max(columns, 1)
        return text[-limit:] if len(text) > limit else text

    def closes_fence(self, line: str) -> bool:
        """Whether a line (the last, maybe without its newline) closes the open code block."""
        return bool(self.fence) and fences.closes(self.fence, line)


def is_delimiter_row(line: str) -> bool:
    """`| --- | :-: |`: the row under a table's header."""
    return "|" in line and bool(_DELIMITER_ROW.fullmatch(line))


def _table_columns(text: str, start: int, line_start: int, line: str) -> int:
    """The column count when `line` is a delimiter row under a header row of as many cells, else 0."""
    if not is_delimiter_row(line):
        return 0
    header = text[_previous_line(text, start, line_start) : line_start - 1]
    count = len(split_cells(line))
    return count if "|" in header and len(split_cells(header)) == count else 0


def _previous_line(text: str, start: int, line_start: int) -> int:
    """Where the line before the one at `line_start` begins, no earlier than `start`."""
    return max(start, text.rfind("\n", start, line_start - 1) + 1)


def split_cells(row: str) -> list[str]:
    """A table row's cells: outer pipes dropped, split at unescaped pipes, `\\|` kept as `|`."""
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [cell.strip().replace("\\|", "|") for cell in _CELL_BREAK.split(row)]


def alignments(delimiter_row: str) -> list[Literal["left", "center", "right"]]:
    """Each column's alignment from the delimiter row: `:--` left, `:-:` center, `--:` right."""
    aligned: list[Literal["left", "center", "right"]] = []
    for cell in split_cells(delimiter_row):
        if cell.endswith(":"):
            aligned.append("center" if cell.startswith(":") else "right")
        else:
            aligned.append("left")
    return aligned


def code_blocks(text: str) -> list[str]:
    """The code blocks of a whole answer, each as its lines without the fences (an unclosed one too)."""
    splitter = BlockSplitter(markdown=True)
    blocks: list[list[str]] = []
    for piece in splitter.feed(text if text.endswith("\n") else text + "\n"):
        if piece.kind == "open":
            blocks.append([])
        elif piece.kind == "code":
            blocks[-1].append(piece.text)
    return ["\n".join(lines) for lines in blocks]
