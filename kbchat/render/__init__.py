"""One renderer interface over every output mode; the mode is chosen once, here."""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TextIO

from kbchat.events import Answer, KBEvent


class Mode(enum.Enum):
    AUTO = "auto"
    RICH = "rich"
    PLAIN = "plain"
    JSON = "json"


@dataclass(frozen=True)
class Terminal:
    """Where output goes and what it is; built in the command, never at import."""

    out: TextIO
    err: TextIO
    is_tty: bool
    err_is_tty: bool = False
    color: bool = True

    @classmethod
    def from_std(cls, no_color: bool = False) -> Terminal:
        return cls(
            out=sys.stdout,
            err=sys.stderr,
            is_tty=_isatty(sys.stdout),
            err_is_tty=_isatty(sys.stderr),
            color=not no_color and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb",
        )


class Renderer(Protocol):
    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        """Consume the events, showing the answer as it arrives, folding them into `answer`.

        Passing an Answer in lets the caller keep what arrived even when rendering
        ends in an exception (Ctrl-C, a broken stream).
        """
        ...


def resolve_mode(mode: Mode, term: Terminal) -> Mode:
    if mode is Mode.AUTO:
        return Mode.RICH if term.is_tty else Mode.PLAIN
    return mode


def make_renderer(mode: Mode, term: Terminal, markdown: bool = True) -> Renderer:
    """The renderer for a mode; AUTO means rich on a terminal, plain otherwise."""
    from kbchat.render.jsonl import JSONLinesRenderer
    from kbchat.render.plain import PlainRenderer

    mode = resolve_mode(mode, term)
    if mode is Mode.JSON:
        return JSONLinesRenderer(term)
    if mode is Mode.RICH and os.environ.get("TERM") != "dumb":
        from kbchat.render.rich import RichRenderer

        return RichRenderer(term, markdown=markdown)
    # A dumb terminal gets the text as it arrives, made safe, with a visible [cancelled].
    return PlainRenderer(term, safe=term.is_tty, mark_cancel=mode is Mode.RICH)


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False
