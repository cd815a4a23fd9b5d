"""Where a streaming Markdown answer can be cut into finished blocks. Pure.

A block is finished once a blank line follows it outside a code fence: nothing that
arrives later can change how it renders, so it can be printed once, for good. In
literal mode every complete line is finished.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


class BlockSplitter:
    """Feed text as it streams; take finished blocks; the rest is the live tail."""

    def __init__(self, markdown: bool = True) -> None:
        self.markdown = markdown
        self._text = ""  # what has not been handed out as a block yet
        self._scanned = 0  # _text[:_scanned] is whole lines already looked at
        self._fence = ""  # the fence marker of the open code block, "" outside one
        self._fence_line = ""  # the line that opened it, to show a tall block's end

    def feed(self, text: str) -> list[str]:
        """Append text; return the blocks it finishes (without their blank lines)."""
        self._text += text
        blocks: list[str] = []
        start = 0
        while (end := self._text.find("\n", self._scanned)) >= 0:
            line = self._text[self._scanned : end]
            line_start, self._scanned = self._scanned, end + 1
            if not self.markdown:
                blocks.append(line)
                start = self._scanned
            elif self._opens_or_closes_fence(line):
                continue
            elif not self._fence and not line.strip():
                block = self._text[start:line_start]
                if block.strip():
                    blocks.append(block.rstrip("\n"))
                start = self._scanned
        if start:
            self._text = self._text[start:]
            self._scanned -= start
        return blocks

    @property
    def tail(self) -> str:
        """The unfinished text: the block being written."""
        return self._text

    def visible_tail(self, lines: int, columns: int) -> str:
        """The end of the tail that can show on a screen: a tall block costs no more to draw."""
        text = self._text
        if text.count("\n") > lines:
            text = "\n".join(text.split("\n")[-lines:])
            if self._fence and not text.startswith(self._fence_line):
                text = f"{self._fence_line}\n{text}"
        limit = lines * max(columns, 1)
        if len(text) > limit:
            text = text[-limit:]
        return text

    def _opens_or_closes_fence(self, line: str) -> bool:
        match = _FENCE.match(line)
        if not match:
            return False
        marker = match[1]
        if not self._fence:
            self._fence, self._fence_line = marker, line
        elif marker[0] == self._fence[0] and len(marker) >= len(self._fence) and not line.strip()[len(marker) :]:
            self._fence = self._fence_line = ""
        return True
