"""Rich output: the answer drawn live on a terminal (by kbchat.render.live).

The live view needs Rich, ~100 ms of imports. They are done in a thread of their own
while this one sends the question and waits for the first byte, so against a server
that takes its time (any model does) they cost nothing; the spinner shows once they
are done if the wait goes on. Against a server that answers at once, the first words
are written as they come while Rich still loads, as plain text on the first line
(only words Markdown would show as written, so nothing changes when the view takes
over: it clears that line and draws the same words).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from kbchat.events import Answer, Content, KBEvent, Notice, Pause, Sources
from kbchat.render import cited, consume, is_after, listed, say_notice
from kbchat.render.blocks import reads_as_written
from kbchat.safe import terminal_safe
from kbchat.terminal import Terminal, ignoring_ctrl_c, in_background, quiet_keyboard

if TYPE_CHECKING:
    from kbchat.citing import Citations, LiveMarks
    from kbchat.render.live import LiveView

Clock = Callable[[], float]
FIRST_WORDS = 0.03  # seconds Rich's imports wait for the first words, which they would slow (one GIL)


class RichRenderer:
    """The answer rendered live on a terminal."""

    marks_cancel = True

    def __init__(
        self, term: Terminal, markdown: bool = True, clock: Clock = time.monotonic, sources: bool = False,
        cite: bool = False,
    ) -> None:  # fmt: skip
        self.term = term
        self.markdown = markdown
        self.clock = clock
        self.sources = sources  # list a search's closest passages (the answer's own are listed always)
        self.marks: LiveMarks | None = None
        if cite:
            from kbchat.citing import LiveMarks

            self.marks = LiveMarks()

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer(keep_text=self.marks is not None) if answer is None else answer  # --cite matches it
        views: list[Preparing] = []
        after: list[KBEvent] = []
        marks = self.marks

        def view() -> Preparing:
            """Started at the first event: a Pause as the question goes out, while the server thinks.

            Rich's imports then compete with nothing (requests is loaded, the socket waits).
            """
            if not views:
                views.append(Preparing(self._view, self.term))
            return views[0]

        def handle(event: KBEvent) -> None:
            kind = type(event)
            if kind is Content:
                piece = terminal_safe(answer.apply(event))
                if marks is not None and ("\ue000" in piece or "\ue001" in piece):
                    from kbchat.citing import NOT_MARKS

                    piece = piece.translate(NOT_MARKS)
                if not view().written_early(piece):
                    view().get().append(piece)
            elif is_after(event):
                if marks is not None and kind is Sources:
                    marks.give(event.passages)  # type: ignore[union-attr]
                after.append(event)
            elif kind is Pause:
                view()
            else:
                answer.apply(event)

        with quiet_keyboard(self.term):
            try:
                consume(events, handle, answer)
            finally:
                with ignoring_ctrl_c():
                    view().get().stop(cancelled=answer.cancelled)
        for event in after:
            if isinstance(event, Sources) and listed(event, self.sources):
                from kbchat.render.table import print_passages

                print_passages(self.term, event.passages, event.query, event.title)
            elif isinstance(event, Notice):
                say_notice(self.term, event)
        if marks is not None and (found := self._citations(marks, answer, after)) is not None:
            from kbchat.render.marks import print_matched

            print_matched(view().get().console, found)
        return answer

    def _citations(self, marks: LiveMarks, answer: Answer, after: list[KBEvent]) -> Citations | None:
        """What was marked, as the answer keeps it for the log: the live view's own matches when its text was
        the answer's, character for character (no control character made visible, nothing cut); else the
        answer matched again. None when no passages came."""
        live = marks.citations() if self.markdown else None
        if live is not None and not answer.truncated and terminal_safe(text := answer.text) is text:
            answer.citations = live
            return live
        found = cited(answer, after)
        return live or found  # the numbers shown are the marks'

    def _view(self) -> LiveView:
        from kbchat.render.live import LiveView, make_console

        accessible = self.term.accessible
        return LiveView(make_console(self.term), self.markdown, self.clock, spinner=self.term.is_tty and not accessible,
                        accessible=accessible, marks=self.marks)  # fmt: skip


class Preparing:
    """A live view built and started in a thread of its own; `get` waits for it.

    Until it is ready, `written_early` writes the answer's first words straight to the
    terminal while they fit on the first line and read the same as Markdown; the view
    then takes that line over. The lock keeps the two from drawing at once. The imports
    wait FIRST_WORDS for those words first: under one GIL, a thread importing holds up
    the one reading the answer by up to 5 ms each time it needs the interpreter back.
    """

    def __init__(self, build: Callable[[], LiveView], term: Terminal) -> None:
        self.term = term
        self._view: LiveView | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._first_words = threading.Event()
        self._early = ""  # written before the view was ready: the view draws it again when it takes over
        self._columns = _columns(term) if term.is_tty and not term.dumb and not term.accessible else 0
        in_background(lambda: self._build(build), "kbchat-live-view")

    def _build(self, build: Callable[[], LiveView]) -> None:
        try:
            self._first_words.wait(FIRST_WORDS)
            view = build()
            with self._lock:
                if not self._early:  # else the main thread starts it, once it has cleared the early line
                    view.start()
                self._view = view
        except BaseException as err:
            self._error = err
        finally:
            self._ready.set()

    def written_early(self, piece: str) -> bool:
        """Write this piece now if the view is not ready yet and the text so far can be shown as is."""
        if self._ready.is_set() or not self._columns:
            return False
        with self._lock:
            text = self._early + piece
            if self._view is not None or not _one_plain_line(text, self._columns):
                return False
            self._early = text  # first: a Ctrl-C lands in the write's flush, and the view must still take this over
            self.term.out.write(piece)
            self.term.out.flush()
        self._first_words.set()
        return True

    def get(self) -> LiveView:
        self._first_words.set()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        assert self._view is not None
        if self._early:
            with self._lock, ignoring_ctrl_c():  # the line is put right whole, or not begun
                self.term.erase_line()
                self._view.start()
                self._view.append(self._early)
                self._early = ""
        return self._view


def _one_plain_line(text: str, columns: int) -> bool:
    """Printable ASCII words that leave room for the cursor on one line, and that Markdown shows as written."""
    return len(text) < columns - 1 and text.isascii() and text.isprintable() and reads_as_written(text)


def _columns(term: Terminal) -> int:
    try:
        return os.get_terminal_size(term.out.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0
