"""Rich output: the answer drawn live on a terminal (by kbchat.render.live).

The live view needs Rich, ~100 ms of imports. They are done in a thread of their own
while this one sends the question and waits for the first byte, so against a server
that takes its time (any model does) they cost nothing; the spinner shows once they
are done if the wait goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from kbchat.events import Answer, Content, KBEvent, Notice, Pause, Sources
from kbchat.render import consume, is_after, say_notice
from kbchat.safe import terminal_safe
from kbchat.terminal import Terminal, ignoring_ctrl_c, in_background, quiet_keyboard

if TYPE_CHECKING:
    from kbchat.render.live import LiveView

Clock = Callable[[], float]


class RichRenderer:
    """The answer rendered live on a terminal."""

    marks_cancel = True

    def __init__(self, term: Terminal, markdown: bool = True, clock: Clock = time.monotonic) -> None:
        self.term = term
        self.markdown = markdown
        self.clock = clock

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer() if answer is None else answer
        view = Preparing(self._view)
        after: list[KBEvent] = []

        def handle(event: KBEvent) -> None:
            kind = type(event)
            if kind is Content:
                view.get().append(terminal_safe(answer.apply(event)))
            elif is_after(event):
                after.append(event)
            elif kind is not Pause:
                answer.apply(event)

        with quiet_keyboard(self.term):
            try:
                consume(events, handle, answer)
            finally:
                with ignoring_ctrl_c():
                    view.get().stop(cancelled=answer.cancelled)
        for event in after:
            if isinstance(event, Sources):
                from kbchat.render.table import print_passages

                print_passages(self.term, event.passages, event.query, event.title)
            elif isinstance(event, Notice):
                say_notice(self.term, event)
        return answer

    def _view(self) -> LiveView:
        from kbchat.render.live import LiveView, make_console

        view = LiveView(make_console(self.term), self.markdown, self.clock, spinner=self.term.is_tty)
        view.start()
        return view


class Preparing:
    """A live view built and started in a thread of its own; `get` waits for it."""

    def __init__(self, build: Callable[[], LiveView]) -> None:
        self._view: LiveView | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        in_background(lambda: self._build(build), "kbchat-live-view")

    def _build(self, build: Callable[[], LiveView]) -> None:
        try:
            self._view = build()
        except BaseException as err:
            self._error = err
        finally:
            self._ready.set()

    def get(self) -> LiveView:
        self._ready.wait()
        if self._error is not None:
            raise self._error
        assert self._view is not None
        return self._view
