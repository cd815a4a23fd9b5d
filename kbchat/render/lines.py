"""Pre-rendered lines of segments: printing them as they are, and telling blank ones apart."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment


class SegmentLines:
    """Pre-rendered lines, printed as they are.

    Printed for good they end with a newline (console.print adds none to a custom
    renderable); inside the Live region they must not, or the region grows a line.
    """

    def __init__(self, lines: list[list[Segment]], final_newline: bool = True) -> None:
        self.lines = lines
        self.final_newline = final_newline

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for index, line in enumerate(self.lines):
            yield from line
            if self.final_newline or index < len(self.lines) - 1:
                yield Segment.line()


def is_blank(line: list[Segment]) -> bool:
    """Nothing but spaces, and no background that would make them visible."""
    return all(not seg.text.strip() and (seg.style is None or seg.style.bgcolor is None) for seg in line)


def trim_right(line: list[Segment]) -> list[Segment]:
    """The line without its trailing padding (spaces with no background)."""
    trimmed = list(line)
    while trimmed and is_blank([trimmed[-1]]):
        trimmed.pop()
    if trimmed and (trimmed[-1].style is None or trimmed[-1].style.bgcolor is None):
        last = trimmed[-1]
        trimmed[-1] = Segment(last.text.rstrip(" "), last.style, last.control)
    return trimmed
