"""Plain output: each piece of content written and flushed the moment it arrives."""

from __future__ import annotations

from collections.abc import Iterable

from kbchat.events import Answer, KBEvent, Notice, Pause, Sources
from kbchat.render import cited, consume, is_after, listed, say_notice
from kbchat.safe import terminal_safe
from kbchat.terminal import Terminal


class PlainRenderer:
    """Exactly the answer's content on stdout, plus one `\\n` if it ends mid-line; then sources and
    citations if asked."""

    def __init__(
        self, term: Terminal, safe: bool = False, mark_cancel: bool = False, sources: bool = False,
        searched: bool = False, cite: bool = False,
    ) -> None:  # fmt: skip
        self.term = term
        self.safe = safe  # stdout is a terminal: control characters never reach it raw
        self.marks_cancel = mark_cancel  # a dumb terminal standing in for rich mode
        self.sources = sources  # passages are listed (the answer's own; a search's when `searched`)
        self.searched = searched  # --sources: the closest passages of the search beside the stream too
        self.cite = cite

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer(keep_text=self.cite) if answer is None else answer  # --cite matches the whole text
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
        if self.cite and (citations := cited(answer, after)) is not None:
            from kbchat.citing import plain_lines

            self._write("".join(line + "\n" for line in plain_lines(answer.text, citations)))
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
        elif isinstance(event, Sources) and self.sources and listed(event, self.searched):
            from kbchat.render.table import plain_passages

            self._write(plain_passages(event.passages, event.query, event.title))

    def _write(self, text: str) -> None:
        self.term.out.write(terminal_safe(text) if self.safe else text)
        self.term.out.flush()
