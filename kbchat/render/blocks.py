"""Where a streaming Markdown answer can be cut into finished pieces. Pure.

A block is finished once a blank line follows it outside a code fence: nothing that
arrives later can change how it renders, so it can be printed once, for good. Code
fences are finished line by line (a code line renders the same whatever follows), so
a long code block streams into the scrollback instead of growing a live region. In
literal mode every complete line is finished.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")

Kind = Literal["block", "open", "code", "close", "line"]


class Piece(NamedTuple):
    """A finished piece: a Markdown block, a fence opening (its line), a code line, a fence
    closing, or (literal mode) a line."""

    kind: Kind
    text: str


class BlockSplitter:
    """Feed text as it streams; take finished pieces; the rest is the live tail."""

    def __init__(self, markdown: bool = True) -> None:
        self.markdown = markdown
        self._text = ""  # what has not been handed out yet
        self._scanned = 0  # _text[:_scanned] is whole lines already looked at
        self.fence = ""  # the fence marker of the open code block, "" outside one
        self.fence_line = ""  # the line that opened it (its info string names the language)

    def feed(self, text: str) -> list[Piece]:
        """Append text; return the pieces it finishes."""
        self._text += text
        pieces: list[Piece] = []
        start = 0  # where the unfinished text begins
        while (end := self._text.find("\n", self._scanned)) >= 0:
            line = self._text[self._scanned : end]
            line_start, self._scanned = self._scanned, end + 1
            if not self.markdown:
                pieces.append(Piece("line", line))
                start = self._scanned
            elif self.fence:
                if self._closes_fence(line):
                    self.fence = self.fence_line = ""
                    pieces.append(Piece("close", line))
                else:
                    pieces.append(Piece("code", line))
                start = self._scanned
            elif match := _FENCE.match(line):
                block = self._text[start:line_start]
                if block.strip():
                    pieces.append(Piece("block", block.rstrip("\n")))
                self.fence, self.fence_line = match[1], line
                pieces.append(Piece("open", line))
                start = self._scanned
            elif not line.strip():
                block = self._text[start:line_start]
                if block.strip():
                    pieces.append(Piece("block", block.rstrip("\n")))
                start = self._scanned
        if start:
            self._text = self._text[start:]
            self._scanned -= start
        return pieces

    @property
    def tail(self) -> str:
        """The unfinished text: the block (or code line) being written."""
        return self._text

    def has_tail(self) -> bool:
        """Whether the tail holds anything visible; never copies it."""
        return bool(self._text) and not self._text.isspace()

    def visible_tail(self, lines: int, columns: int) -> str:
        """The end of the tail that can show on a screen: a tall block costs no more to draw."""
        text = self._text
        cut = len(text)
        for _ in range(lines + 1):
            cut = text.rfind("\n", 0, cut)
            if cut < 0:
                break
        if cut >= 0:
            text = text[cut + 1 :]
        limit = lines * max(columns, 1)
        return text[-limit:] if len(text) > limit else text

    def _closes_fence(self, line: str) -> bool:
        match = _FENCE.match(line)
        if not match:
            return False
        marker = match[1]
        rest = line.strip()[len(marker) :]
        return marker[0] == self.fence[0] and len(marker) >= len(self.fence) and not rest
