"""One renderer interface over every output mode; the mode is chosen once, here.

A renderer consumes an exchange's events and returns its Answer. Ctrl-C while it draws
marks the answer cancelled (the partial answer stays shown); it never raises for it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from kbchat.events import Answer, KBEvent, Notice, Pause, Sources
from kbchat.safe import one_line
from kbchat.terminal import Terminal, ctrl_c_checked

if TYPE_CHECKING:
    from kbchat.citing import Citations


class Mode(enum.Enum):
    AUTO = "auto"
    RICH = "rich"
    PLAIN = "plain"
    JSON = "json"
    CODE = "code"  # only the code blocks


class Renderer(Protocol):
    marks_cancel: bool  # whether a cancelled answer shows `[cancelled]` where it stopped

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        """Consume the events, showing the answer as it arrives, folding them into `answer`.

        Passing an Answer in lets the caller keep what arrived even when rendering
        ends in an exception (a broken stream).
        """
        ...


def resolve_mode(mode: Mode, term: Terminal) -> Mode:
    if mode is Mode.AUTO:
        return Mode.RICH if term.is_tty else Mode.PLAIN
    return mode


def make_renderer(
    mode: Mode, term: Terminal, markdown: bool = True, sources: bool = False, cite: bool = False
) -> Renderer:
    """The renderer for a mode; AUTO means rich on a terminal, plain otherwise.

    `sources`: list the closest passages a search beside the stream found (the answer's own
    sources, from /v1/kb/chat, rich and --json show always). `cite`: match the answer's
    sentences to them, and show which (--code shows only code, so never).
    """
    mode = resolve_mode(mode, term)
    if mode is Mode.JSON:
        from kbchat.render.jsonl import JSONLinesRenderer

        return JSONLinesRenderer(term, sources=sources, cite=cite)
    if mode is Mode.CODE:
        from kbchat.render.code import CodeRenderer

        return CodeRenderer(term)
    if mode is Mode.RICH and not term.dumb:
        from kbchat.render.rich import RichRenderer

        return RichRenderer(term, markdown=markdown, sources=sources, cite=cite)
    from kbchat.render.plain import PlainRenderer

    # A dumb terminal gets the text as it arrives, made safe, with a visible [cancelled].
    return PlainRenderer(term, safe=term.is_tty, mark_cancel=mode is Mode.RICH, sources=sources or mode is Mode.RICH,
                         searched=sources, cite=cite)  # fmt: skip


def consume(events: Iterable[KBEvent], handle: Callable[[KBEvent], None], answer: Answer) -> None:
    """Hand each event to `handle`; Ctrl-C marks the answer cancelled; the stream is closed either way."""
    iterator = iter(events)
    try:
        with ctrl_c_checked():  # so a Ctrl-C over a stalled stream is never slept through
            for event in iterator:
                handle(event)
    except KeyboardInterrupt:
        answer.cancelled = True
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def is_after(event: KBEvent) -> bool:
    """Sources and notices are drawn once the answer is out."""
    return type(event) is Sources or type(event) is Notice


def listed(event: Sources, sources: bool) -> bool:
    """Whether passages are listed under the answer: its own always, a search's when --sources asked."""
    return sources or event.origin == "answer"


def cited(answer: Answer, events: Iterable[KBEvent]) -> Citations | None:
    """The answer's sentences matched to the passages it came with (the last of `events` that are
    Sources), kept on the answer for the log; None when none came (the search failed: its notice says so)."""
    found = [event for event in events if type(event) is Sources]
    if not found:
        return None
    from kbchat.citing import cite

    answer.citations = cite(answer.text, found[-1].passages)
    return answer.citations


def say_notice(term: Terminal, notice: Notice) -> None:
    print(f"kbchat: warning: {one_line(notice.text)}", file=term.err, flush=True)


def line_writer(term: Terminal, clean: Callable[[str], str]) -> Callable[[str], None]:
    """Write one line to stdout: made safe by `clean` on a terminal, byte for byte when piped."""
    out = term.out

    def write(line: str) -> None:
        out.write((clean(line) if term.is_tty else line) + "\n")

    return write


def handled_aside(term: Terminal, event: KBEvent) -> bool:
    """A pause flushes stdout, a notice goes to stderr: True when the event was one of them."""
    if type(event) is Pause:
        term.out.flush()
        return True
    if type(event) is Notice:
        say_notice(term, event)
        return True
    return False
