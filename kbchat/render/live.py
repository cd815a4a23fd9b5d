"""The live view: the answer typed as Markdown, with a blinking cursor, scrollback-safe.

Finished blocks are printed once, permanently, above a transient Live region that
holds only the unfinished tail (cropped to the screen) and the cursor. So the cost of
a frame does not grow with the answer, the scrollback fills as the answer streams,
and nothing is printed twice. One drawing thread owns the terminal: the main thread
only appends text, so a slow terminal never slows reading, and the cursor keeps
blinking while the network is silent.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from kbchat.render.blocks import BlockSplitter, Piece, reads_as_written
from kbchat.render.calm import calm_tail
from kbchat.render.lines import SegmentLines, is_blank, trim_right
from kbchat.terminal import Terminal, in_background

if TYPE_CHECKING:
    from kbchat.citing import Marks
    from kbchat.render.markdown import CodeLines, TableLines

CURSOR = "█"  # a full block: nothing Rich draws for Markdown (a quote's bar is ▌), so never taken for text
FRAME = 1 / 30  # at most 30 frames a second; a pending change is drawn within one frame
BLINK = 0.5  # the cursor is on for half a second, off for half a second
SPINNER_DELAY = 0.1  # fast answers never flash a spinner
HOLD = 2.0  # seconds finished blocks wait in the live region for --cite's passages, from the first text
CANCELLED = Style(dim=True)

Clock = Callable[[], float]


def make_console(term: Terminal) -> Console:
    """A console on the terminal; server text never goes through Rich markup or emoji codes.

    Without colour (NO_COLOR, --no-color) bold, italic, underline and dim stay: Rich's
    `no_color` drops colours only, where `color_system=None` would drop all styling.
    """
    return Console(
        file=term.out,
        force_terminal=True,
        no_color=not term.color,
        color_system="auto",
        highlight=False,
        markup=False,
        emoji=False,
    )


class LiveView:
    """The Live region and the finished blocks above it; drawn by one thread."""

    def __init__(
        self, console: Console, markdown: bool, clock: Clock = time.monotonic, spinner: bool = True,
        accessible: bool = False, marks: Marks | None = None,
    ) -> None:  # fmt: skip
        self.console = console
        self.marks = marks if markdown else None  # --cite: `[n]` after supported sentences (literal text stays as is)
        self.accessible = accessible  # each finished block printed once, by the caller's thread; nothing live
        self.markdown = markdown
        self.clock = clock
        self.show_spinner = spinner
        self.splitter = BlockSplitter(markdown)
        self.code: CodeLines | None = None  # the code block being streamed, line by line
        self.table: TableLines | None = None  # the table being streamed, row by row
        self.live = Live(console=console, auto_refresh=False, transient=True, redirect_stdout=False,
                         redirect_stderr=False, vertical_overflow="visible")  # fmt: skip
        self.blocks_printed = 0
        self.frames = 0
        self._incoming: list[str] = []
        self._received = False
        self._first_text: float | None = None  # when the first text came (--cite holds blocks from then)
        self._shown: list[int] = []  # the cells each line of the live region took when drawn
        self.reflows = terminal_reflows(os.environ)
        self._dirty = False
        self._stopping = False
        self._lock = threading.Condition()
        self._started = 0.0
        self._last_frame = 0.0
        self._spinner: RenderableType | None = None  # made when first shown: most answers never need it
        self._markdown: ModuleType | None = None
        self._warming: threading.Thread | None = None
        self._thread: threading.Thread | None = None

    # --- the main thread's side -----------------------------------------------------

    def start(self, drawing_thread: bool = True) -> None:
        """Show the live region; without the drawing thread, frames are drawn by calling draw()."""
        self._started = self.clock()
        if self.accessible:
            return
        self.live.start()
        if drawing_thread:
            self._thread = in_background(self._run, "kbchat-render")

    def append(self, text: str) -> None:
        """New content: queued for the next frame, never drawn by the caller."""
        if not text:
            return
        if self._first_text is None:
            self._first_text = self.clock()
        if self.accessible:
            with self._lock:
                self._incoming.append(text)
            if not self._holding(self.clock()):
                self._commit(self._take())
            return
        with self._lock:
            self._incoming.append(text)
            self._received = self._dirty = True
            self._lock.notify()

    def _holding(self, now: float) -> bool:
        """Whether finished blocks wait for --cite's passages (HOLD at most): drawn for good, they get no marks."""
        marks = self.marks
        return (
            marks is not None and not marks.ready() and self._first_text is not None and now - self._first_text < HOLD
        )

    def stop(self, cancelled: bool = False) -> None:
        """Draw the rest for good, then the [cancelled] mark if any; the cursor comes back."""
        with self._lock:
            self._stopping = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join()
        if self.accessible:
            self.finish(cancelled)
            return
        try:
            self._clear_reflowed()
            self._commit(self._take())
            self.live.update(Text(""), refresh=False)
        finally:
            self.live.stop()
        self.finish(cancelled)
        self.console.show_cursor(True)

    def finish(self, cancelled: bool = False, cut: bool = False) -> None:
        """Print the unfinished tail for good, and the [cancelled] mark if any.

        An answer cut short (cancelled, or a stream that broke) ends as its live tail showed
        it, half-typed Markdown closed: `**Plans`, never a dangling `**`."""
        lines = self._final_lines(cut or cancelled)
        if cancelled:
            lines = with_mark(lines, Segment("[cancelled]", CANCELLED), self.console.width)
        if lines:
            if self.code is None and self.table is None and self.blocks_printed and self.splitter.has_tail():
                self.console.line()
            self.console.print(SegmentLines(lines))

    def _final_lines(self, cut: bool = False) -> list[list[Segment]]:
        """The unfinished tail, rendered for good (an open code block is closed)."""
        tail = self.splitter.tail.rstrip("\n")
        marked = self.marks is not None and self.code is None and self.splitter.has_tail()
        if marked:
            assert self.marks is not None
            tail = self.marks.marked(self.splitter.last_piece())
        if cut and self.markdown and self.code is None and self.table is None:
            tail = calm_tail(tail)
        if self.code is not None:
            code = [] if not tail or self.splitter.closes_fence(tail) else self.code.render(self.console, tail)
            return [*code, self.code.padding(self.console.width)]
        if self.table is not None:
            lines = self._table_head(tail) if self.table.widths is None else []
            lines += self.table.drawn(self.console, tail) if tail.strip() else []
        else:
            lines = self._lines(tail) if self.splitter.has_tail() else []
        return self._dimmed(lines) if marked else lines

    # --- the drawing thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                now = self.clock()
                wait = self._next_frame(now) - now
                if wait > 0:
                    self._lock.wait(wait)
                    continue
            self.draw()

    def _next_frame(self, now: float) -> float:
        """When the next frame is due: soon after new text, else at the next blink or spin."""
        if self._dirty:
            return self._last_frame + FRAME
        if not self._received:
            if now - self._started < SPINNER_DELAY:
                return self._started + SPINNER_DELAY
            return self._last_frame + (0.08 if self.show_spinner else BLINK)
        drawn = self._last_frame - self._started  # the first blink boundary after the last frame
        return self._started + (int(drawn / BLINK) + 1) * BLINK

    def draw(self) -> None:
        """One frame: print what the new text finished, redraw the tail and cursor."""
        now = self.clock()
        self._last_frame = now
        self._clear_reflowed()
        if not self._holding(now):
            self._commit(self._take())
        renderable = self._live_renderable(now)
        self.live.update(renderable, refresh=True)
        self._shown = line_lengths(renderable)
        self.frames += 1
        self._warm()

    def _clear_reflowed(self) -> None:
        """The rows the live region's lines take at the terminal's width now, beyond one each, cleared.

        A terminal that reflows (tmux, VTE, iTerm2, kitty, Windows Terminal…) wraps each line
        longer than the new width onto more rows; Rich, which counts the lines it drew, would
        clear too few and leave their first parts above the next frame. Counted from the
        lines' lengths, not from the width they were drawn for: a frame rendered just before
        a resize reached the terminal after it, and wrapped as it was written (the header of
        a table and a blank line were left above the answer). xterm cuts lines instead:
        there the count stays right, and clearing more would erase the answer.
        """
        width, lengths = self.console.width, self._shown
        if not self.reflows or width < 1:
            return
        extra = sum(max(1, -(-length // width)) for length in lengths) - len(lengths)
        if extra > 0:
            self.console.file.write("\x1b[2K\x1b[1A" * extra)  # from the bottom row up, before Rich's own
            self._shown = [min(length, width) for length in lengths]  # one row each now, as Rich will clear them

    def _take(self) -> str:
        with self._lock:
            text = "".join(self._incoming)
            self._incoming.clear()
            self._dirty = False
        return text

    def _commit(self, text: str) -> None:
        """Print the pieces this text finishes, above the live region, once and for good."""
        for piece in self.splitter.feed(text):
            self.console.print(SegmentLines(self._piece_lines(piece)))

    def _piece_lines(self, piece: Piece) -> list[list[Segment]]:
        if self.marks is not None and piece.kind in ("block", "row") and piece.at >= 0:  # at -1: marked
            marked = self.marks.marked(piece)
            if marked is not piece.text:
                return self._dimmed(self._piece_lines(piece._replace(text=marked, at=-1)))
        kind, text, _ = piece
        if kind == "line":
            return self._lines(text)
        if kind == "code":
            assert self.code is not None
            return self.code.render(self.console, text)
        if kind == "close":
            assert self.code is not None
            padding, self.code = self.code.padding(self.console.width), None
            return [padding]
        if kind == "row":
            assert self.table is not None
            head = self._table_head(text) if self.table.widths is None else []
            return [*head, *self.table.drawn(self.console, text)]
        if kind == "end":
            assert self.table is not None
            head = self._table_head("") if self.table.widths is None else []
            self.table = None
            return head
        if kind == "table":  # drawn with its first row, which fixes the columns
            self.table = self.md.TableLines(text, self.console.width)
            return []
        spacer: list[list[Segment]] = [[]] if self.blocks_printed else []
        self.blocks_printed += 1
        if kind == "open":
            self.code = self.md.CodeLines(text)
            return [*spacer, self.code.padding(self.console.width)]
        return [*spacer, *self._lines(text)]

    def _dimmed(self, lines: list[list[Segment]]) -> list[list[Segment]]:
        from kbchat.render.marks import dim_marks

        return dim_marks(lines)

    def _table_head(self, first_row: str) -> list[list[Segment]]:
        """The table's header, for good, its columns fixed by the first row."""
        assert self.table is not None
        spacer: list[list[Segment]] = [[]] if self.blocks_printed else []
        self.blocks_printed += 1
        return [*spacer, *self.table.head(self.console, self.table.fix(first_row))]

    def _live_renderable(self, now: float) -> RenderableType:
        if not self._received:
            if not self.show_spinner or now - self._started < SPINNER_DELAY:
                return Text("")
            if self._spinner is None:
                from rich.spinner import Spinner

                self._spinner = Spinner("dots", text=Text(" thinking…", style="dim"))
            return self._spinner
        cursor = CURSOR if int((now - self._started) / BLINK) % 2 == 0 else " "
        height = max(1, self.console.height - 2)
        with self._lock:
            held = "".join(self._incoming) if self._holding(now) else ""  # shown live while it waits
        tail = self.splitter.visible_tail(height, self.console.width, held)
        if self.code is not None:  # inside a code block only the line being written is live
            if tail.strip() and self.splitter.fence.startswith(tail.strip()):
                tail = ""  # what may be the closing fence, still being typed
            lines = self.code.render(self.console, tail + cursor)
            return SegmentLines(lines[-height:], final_newline=False)
        if self.table is not None:  # the row being written, on the table's columns
            self.table.refit(self.console.width)
            row = calm_tail(tail) + cursor
            if self.table.widths is not None:
                return SegmentLines(self.table.row(self.console, row, self.table.widths)[-height:], final_newline=False)
            widths = self.table.layout(row)  # the first row: the columns follow it until it is complete
            lines = [*self.table.head(self.console, widths), *self.table.row(self.console, row, widths)]
            body = SegmentLines(lines[-height:], final_newline=False)
            return Group(Text(""), body) if self.blocks_printed else body
        if self.markdown:
            tail = calm_tail(tail)
        body = SegmentLines(self._lines(tail + cursor)[-height:], final_newline=False)
        return Group(Text(""), body) if self.markdown and self.blocks_printed else body

    def _lines(self, source: str) -> list[list[Segment]]:
        """Rendered lines of some source: as Markdown, or (literal mode, or plain words) as text."""
        # Until an answer holds more than plain words, kbchat.render.markdown need not be loaded.
        if not self.markdown or (self._markdown is None and reads_as_written(source)):
            return self.console.render_lines(Text(source.rstrip("\n")), self.console.options, pad=False)
        lines: list[list[Segment]] = self.md.markdown_lines(self.console, source)
        return lines

    @property
    def md(self) -> ModuleType:
        """kbchat.render.markdown, loaded now if the warm-up has not finished it yet."""
        if self._markdown is None:
            import kbchat.render.markdown

            self._markdown = kbchat.render.markdown
        return self._markdown

    def _warm(self) -> None:
        """Load the Markdown stack in the background, while the network is waited for.

        Started by the first frame (a spinner's, or the first text's): the first token
        never waits for ~60 ms of imports it may not need.
        """
        if self._warming is None and self.markdown:
            self._warming = in_background(lambda: self.md, "kbchat-markdown")


def line_lengths(renderable: RenderableType) -> list[int]:
    """The cells each line of a live frame takes (the spinner's and an empty frame's: one short line)."""
    if isinstance(renderable, SegmentLines):
        return [Segment.get_line_length(line) for line in renderable.lines] or [0]
    if isinstance(renderable, Group):
        return [length for part in renderable.renderables for length in line_lengths(part)]
    return [0]


REFLOWING = ("TMUX", "VTE_VERSION", "KITTY_WINDOW_ID", "WT_SESSION", "KONSOLE_VERSION", "ALACRITTY_WINDOW_ID",
             "WEZTERM_PANE")  # fmt: skip
REFLOWING_PROGRAMS = ("iTerm.app", "Apple_Terminal", "WezTerm", "vscode", "ghostty")


def terminal_reflows(env: Mapping[str, str]) -> bool:
    """Whether the terminal rewraps its lines when it narrows, as far as its environment says (xterm does not)."""
    return any(env.get(name) for name in REFLOWING) or env.get("TERM_PROGRAM", "") in REFLOWING_PROGRAMS


def print_whole(
    console: Console, text: str, markdown: bool = True, cancelled: bool = False, cut: bool = False,
    marks: Marks | None = None,
) -> None:  # fmt: skip
    """A whole answer at once, exactly as the live view leaves it once its stream has ended."""
    view = LiveView(console, markdown, spinner=False, marks=marks)
    view._commit(text)
    view.finish(cancelled, cut)


def with_mark(lines: list[list[Segment]], mark: Segment, width: int) -> list[list[Segment]]:
    """The mark after the last line's text if it fits there, else on a line of its own (blank lines go)."""
    while lines and is_blank(lines[-1]):  # a table row's bottom padding, say
        lines = lines[:-1]
    if lines:
        last = trim_right(lines[-1])
        used = Segment.get_line_length(last)
        if used and used + 1 + len(mark.text) <= width:
            return [*lines[:-1], [*last, Segment(" "), mark]]
    return [*lines, [mark]]
