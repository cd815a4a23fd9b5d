"""Plain output: each piece of content written and flushed the moment it arrives."""

from __future__ import annotations

from collections.abc import Iterable

from kbchat.events import Answer, KBEvent, Notice, Pause, Sources
from kbchat.render import consume, is_after, say_notice
from kbchat.safe import terminal_safe
from kbchat.terminal import Terminal


class PlainRenderer:
    """Exactly the answer's content on stdout, plus one `\\n` if it ends mid-line; then sources if asked."""

    def __init__(self, term: Terminal, safe: bool = False, mark_cancel: bool = False, sources: bool = False) -> None:
        self.term = term
        self.safe = safe  # stdout is a terminal: control characters never reach it raw
        self.marks_cancel = mark_cancel  # a dumb terminal standing in for rich mode
        self.sources = sources

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer() if answer is None else answer
        out = self.term.out
        clean = terminal_safe if self.safe else None
        after: list[KBEvent] = []

        def handle(event: KBEvent) -> None:
            if type(event) is Pause:
                out.flush()
            elif is_after(event):
                after.append(event)
            else:
                text = answer.apply(event)
                if text:
                    out.write(clean(text) if clean else text)

        try:
            consume(events, handle, answer)
        finally:
            self._finish(answer)
        for event in after:
            self._after(event)
        return answer

    def _finish(self, answer: Answer) -> None:
        out = self.term.out
        if answer.cancelled and self.marks_cancel:
            mark = self.term.paint("[cancelled]", "2")
            out.write((" " if answer.needs_newline else "") + mark + "\n")
        elif answer.needs_newline:
            out.write("\n")
        out.flush()

    def _after(self, event: KBEvent) -> None:
        if isinstance(event, Notice):
            say_notice(self.term, event)
        elif isinstance(event, Sources) and self.sources:
            from kbchat.render.table import plain_passages

            text = plain_passages(event.passages, event.query, event.title)
            self.term.out.write(terminal_safe(text) if self.safe else text)
            self.term.out.flush()
