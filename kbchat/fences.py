"""Code fences in Markdown, as CommonMark reads them: which lines open, close or sit in a code block. Pure.

The live renderer (render/blocks.py), the local knowledge base's passages and its
answers all ask this one place, so a `~~~` fence, or a ```` ``` ```` inside a
```` ```` ```` block, is code to each of them alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_NESTED_FENCE = re.compile(r"\s*(`{3,}|~{3,})")


def opener(line: str, nested: bool = False) -> str:
    """The fence marker a line starts with (```` ``` ````, `~~~~` …), or "".

    `nested`: any indent, for a reader that does not follow list items, whose fences are
    indented as deep as the item's text (npm's docs have many).
    """
    match = (_NESTED_FENCE if nested else _FENCE).match(line)
    return match[1] if match else ""


def closes(fence: str, line: str, nested: bool = False) -> bool:
    """Whether `line` closes a block opened with `fence`: the same character, at least as many, nothing after."""
    marker = opener(line, nested)
    return bool(marker) and marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker) :]


class Fences:
    """Lines fed in order: whether each belongs to a code block, and the block left open."""

    def __init__(self, nested: bool = False) -> None:
        self.nested = nested  # see `opener`
        self.fence = ""  # the marker of the open code block, "" outside one

    def step(self, line: str) -> bool:
        """Whether this line is code: inside a block, or the fence line that opens or closes one."""
        if self.fence:
            if closes(self.fence, line, self.nested):
                self.fence = ""
            return True
        self.fence = opener(line, self.nested)
        return bool(self.fence)


def left_open(lines: Iterable[str], nested: bool = False) -> str:
    """The fence that closes a code block these lines leave open, or ""."""
    fences = Fences(nested)
    for line in lines:
        fences.step(line)
    return fences.fence
