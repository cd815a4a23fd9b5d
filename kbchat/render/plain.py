"""Plain output: each piece of content written and flushed the moment it arrives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from kbchat.events import Answer, Content, KBEvent, Pause
from kbchat.render import Terminal
from kbchat.safe import terminal_safe

DIM = "\x1b[2m"
RESET = "\x1b[0m"


class PlainRenderer:
    """Exactly the answer's content on stdout, plus one `\\n` if it ends mid-line."""

    def __init__(self, term: Terminal, safe: bool = False, mark_cancel: bool = False) -> None:
        self.term = term
        self.safe = safe  # stdout is a terminal: control characters never reach it raw
        self.mark_cancel = mark_cancel

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer() if answer is None else answer
        out = self.term.out
        clean = terminal_safe if self.safe else None
        try:
            for event in events:
                if type(event) is Pause:
                    out.flush()
                    continue
                text = answer.apply(event)
                if text:
                    out.write(clean(text) if clean else text)
        except KeyboardInterrupt:
            answer.cancelled = True
            raise
        finally:
            self._finish(answer)
        return answer

    def _finish(self, answer: Answer) -> None:
        out = self.term.out
        if answer.cancelled and self.mark_cancel:
            mark = f"{DIM}[cancelled]{RESET}" if self.term.color else "[cancelled]"
            out.write((" " if answer.needs_newline else "") + mark + "\n")
        elif answer.needs_newline:
            out.write("\n")
        out.flush()


def copy_content(events: Iterable[KBEvent], file: TextIO) -> Iterator[KBEvent]:
    """Pass events on while writing their content to `file` (for -o FILE), plain."""
    answer = Answer()
    try:
        for event in events:
            kind = type(event)
            if kind is Content:
                file.write(answer.apply(event))
            elif kind is Pause:
                file.flush()
            yield event
    finally:
        if answer.needs_newline:
            file.write("\n")
        file.flush()
