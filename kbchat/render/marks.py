"""`--cite`'s `[n]` marks drawn dim once Rich has laid a block out, and **Matched sources** under the answer.

The marks are put into a block's Markdown by kbchat.citing (LiveMarks, StoredMarks) as two
private-use characters around the numbers, as wide as the brackets they stand for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style

from kbchat.citing import CLOSE, OPEN, Citations

if TYPE_CHECKING:
    from rich.console import Console

MARK = Style(dim=True)


def dim_marks(lines: list[list[Segment]]) -> list[list[Segment]]:
    """Rendered lines with each mark drawn as a dim `[n]`."""
    out = []
    inside = False
    for line in lines:
        drawn: list[Segment] = []
        for segment in line:
            text = segment.text
            if not inside and OPEN not in text:
                drawn.append(segment)
                continue
            start = 0
            for i, char in enumerate(text):
                if char == OPEN or (char == CLOSE and inside):
                    piece = text[start:i]
                    if piece:
                        drawn.append(Segment(piece, _dim(segment.style) if inside else segment.style))
                    drawn.append(Segment("[" if char == OPEN else "]", _dim(segment.style)))
                    inside, start = char == OPEN, i + 1
            if text[start:]:
                drawn.append(Segment(text[start:], _dim(segment.style) if inside else segment.style))
        out.append(list(Segment.simplify(drawn)))
    return out


def _dim(style: Style | None) -> Style:
    return MARK if style is None else Style(color=style.color, bgcolor=style.bgcolor, dim=True)


def print_matched(console: Console, citations: Citations) -> None:
    """**Matched sources** under the answer: the passages used, `[n] Title › Heading (path)`; then the count."""
    from rich.text import Text

    from kbchat.safe import one_line

    console.print()
    if citations.used:
        console.print(Text("Matched sources", style="bold"))
        for n, passage in enumerate(citations.used, 1):
            console.print(Text.assemble((f"[{n}] ", "dim"), one_line(passage.label)))
    console.print(Text(citations.tally(), style="dim"))
