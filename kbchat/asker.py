"""Asking one question, the one way: `ask`, `demo QUESTION` and every chat question come here.

    question ─ a follow-up carries the earlier query ─→ KB → renderer → terminal
             ─→ (one answer: stdout released) ─→ the answer log ─→ Turn

The Asker never raises for how an answer ended: the Turn says it (cancelled, the failure),
and the caller decides what that means (`ask` exits with it, the chat says it and goes on).
Only a reader of stdout that went away is raised again, once the exchange is logged.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO

from kbchat.errors import KBChatError, ReaderLeft, UsageError, reader_left
from kbchat.events import Answer
from kbchat.safe import one_line
from kbchat.terminal import ctrl_c_wakes
from kbchat.trace import Trace, no_trace

if TYPE_CHECKING:
    from kbchat.ask_options import AskOptions
    from kbchat.kb import KB
    from kbchat.memory import Memory
    from kbchat.settings import Settings
    from kbchat.terminal import Terminal


class Earlier(NamedTuple):
    """The exchange a follow-up continues: the query it sent, and its log id (None when not logged)."""

    query: str
    log_id: int | None = None


@dataclass
class Turn:
    """One exchange: what was asked and sent, what came back, how it ended, where it was logged."""

    question: str
    query: str  # what was sent: the question, after the earlier query for a follow-up
    answer: Answer = field(default_factory=Answer)
    continues: int | None = None  # the log id of the exchange it followed
    failure: KBChatError | None = None  # error events, a broken stream, a refused request; None if cancelled
    log_id: int | None = None
    cancel_shown: bool = False  # the renderer drew `[cancelled]` where the answer stopped

    @property
    def note(self) -> str:
        """`cancelled`, the failure's one line, or nothing."""
        if self.answer.cancelled:
            return "cancelled"
        return one_line(str(self.failure)) if self.failure else ""

    def earlier(self) -> Earlier:
        return Earlier(self.query, self.log_id)


class Asker:
    """Ask, show, remember: one question at a time over one knowledge base, which it owns and closes.

    `one_answer`: the process ends after this answer (`ask`, `demo QUESTION`): stdout is
    released before the log is written, and the text is kept only for the log.
    """

    def __init__(
        self, settings: Settings, term: Terminal, kb: KB, memory: Memory,
        trace: Trace = no_trace, one_answer: bool = False,
    ) -> None:  # fmt: skip
        self.settings = settings  # the chat changes it as it goes (/tenant, /filter)
        self.term = term
        self.kb = kb
        self.memory = memory
        self.trace = trace
        self.one_answer = one_answer
        self._beside: KB | None = None  # a second connection for --sources, opened when first needed
        self._interrupted = False

    def ask(self, question: str, options: AskOptions, earlier: Earlier | None = None) -> Turn:
        """One question through the pipeline and into the answer log.

        `earlier`: the exchange this one follows (the chat's); else `options.follows` names
        one in the log (`-c`, `--cid`), asked of this same knowledge base.
        """
        from kbchat.exchange import CITE_LIMIT, SOURCES_LIMIT, Request, exchange, outcome
        from kbchat.memory import LOGGED, follow_up
        from kbchat.render import Mode, make_renderer

        mode = options.mode
        if earlier is None and (follows := options.follows):
            found = self.memory.earlier(follows, self.settings)
            earlier = Earlier(found.query, found.id)
        query = follow_up(earlier.query, question) if earlier else question
        cite = self.cites(options) and mode is not Mode.CODE
        kept = Answer(keep_text=True) if not self.one_answer else Answer(keep_text=self.settings.log or cite,
                                                                          keep_limit=LOGGED)  # fmt: skip
        turn = Turn(question, query, kept, continues=earlier.log_id if earlier else None)
        term = dataclasses.replace(self.term, accessible=True) if self.settings.accessible else self.term
        renderer = make_renderer(mode, term, markdown=options.markdown, sources=options.sources, cite=cite)
        request = Request(query, self.settings.request_filters(), no_stream=options.no_stream,
                          closest=(options.sources or cite) and not options.no_stream, cite=cite,
                          limit=CITE_LIMIT if cite else SOURCES_LIMIT, wait=self.settings.timeout)  # fmt: skip
        with contextlib.ExitStack() as stack:
            copy_to = stack.enter_context(open_output(options.output)) if options.output else None
            beside = self.beside() if request.closest else None
            stack.enter_context(ctrl_c_wakes(self._wake))
            try:
                exchange(self.kb, request, renderer, side=beside, copy_to=copy_to, answer=turn.answer)
            except KBChatError as err:
                turn.failure = err
            except OSError as err:  # a reader that left: what was read is kept, and the command ends so
                if not reader_left(err):
                    raise
                turn.failure = ReaderLeft()
                self.remember(turn)
                raise
        if not options.sources:  # a search only --cite asked for is not the answer's sources
            turn.answer.sources = [found for found in turn.answer.sources if found.origin == "answer"]
        if self._interrupted:  # whatever the stopped stream looked like, it was cancelled
            turn.answer.cancelled, turn.failure = True, None
        if turn.failure is None and not turn.answer.cancelled:
            turn.failure = outcome(turn.answer)
        turn.cancel_shown = renderer.marks_cancel and self.term.err_is_tty
        self.remember(turn)
        if mode is Mode.CODE and turn.failure is None and not turn.answer.cancelled:
            from kbchat.render.code import CodeRenderer

            if isinstance(renderer, CodeRenderer) and not renderer.blocks:  # the answer is fine, --code's output not
                turn.failure = KBChatError("the answer has no code block")
        return turn

    def cites(self, options: AskOptions) -> bool:
        """--cite, `/cite on`, else the profile's `cite = true`."""
        return self.settings.cite if options.cite is None else options.cite

    def remember(self, turn: Turn) -> None:
        """Into the answer log; a single answer's reader is let go first, so a pipe's next program goes on."""
        if self.one_answer:
            self.term.release_stdout()
        turn.log_id = self.memory.record(turn, self.settings)

    def interrupt(self) -> None:
        """From another thread: the question being asked ends at once, as cancelled (an agent's call was)."""
        self._interrupted = True
        for kb in self._open_kbs():
            kb.interrupt()

    def _wake(self) -> None:
        """A Ctrl-C: what is being awaited or read ends now (see ctrl_c_wakes); the next question goes on."""
        for kb in self._open_kbs():
            kb.wake()

    def _open_kbs(self) -> list[KB]:
        """The answer's KB, and the --sources search's beside it once that has opened."""
        return [kb for kb in (self.kb, self._beside) if kb is not None]

    def beside(self) -> KB:
        if self._beside is None:
            from kbchat.kb import connect

            self._beside = connect(self.settings, self.trace)
        return self._beside

    def close(self) -> None:
        for kb in (self._beside, self.kb):
            if kb is not None:
                kb.close()
        self.memory.close()

    def __enter__(self) -> Asker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_output(path: Path) -> TextIO:
    """Open -o FILE before anything is sent, so a bad path fails fast; \n-ended lines, as piped."""
    try:
        return path.open("w", encoding="utf-8", newline="\n")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
