"""--code: only the answer's code blocks, each line the moment it is complete, for scripts.

`kbchat ask --code "a command that lists open ports" | sh`: the fences and the prose
around them are left out; two blocks are parted by a blank line. An answer with no code
block prints nothing, and the command says so (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable

from kbchat.events import Answer, Content, KBEvent
from kbchat.render import consume, handled_aside, line_writer
from kbchat.render.blocks import BlockSplitter
from kbchat.safe import terminal_safe
from kbchat.terminal import Terminal


class CodeRenderer:
    marks_cancel = False

    def __init__(self, term: Terminal) -> None:
        self.term = term
        self.blocks = 0  # code blocks found so far

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer() if answer is None else answer
        splitter = BlockSplitter(markdown=True)
        out = self.term.out
        write = line_writer(self.term, terminal_safe)

        def handle(event: KBEvent) -> None:
            if handled_aside(self.term, event):
                return
            if type(event) is Content:
                for piece in splitter.feed(answer.apply(event)):
                    if piece.kind == "open":
                        if self.blocks:
                            write("")
                        self.blocks += 1
                    elif piece.kind == "code":
                        write(piece.text)
            else:
                answer.apply(event)

        try:
            consume(events, handle, answer)
        finally:
            tail = splitter.tail.rstrip("\n")
            if splitter.fence and tail and not splitter.closes_fence(tail):
                write(tail)  # the last line of a block the answer never closed
            out.flush()
        return answer
