"""The live view's drawing thread and its output, with an in-memory console."""

from __future__ import annotations

import io
import os
import re

import pyte
import pytest
from pygments.token import Error
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax

from kbchat.events import Content, Done
from kbchat.render import Mode, make_renderer
from kbchat.render.lines import trim_right
from kbchat.render.live import BLINK, FRAME, SPINNER_DELAY, LiveView, with_mark
from kbchat.render.plain import PlainRenderer
from kbchat.render.rich import RichRenderer
from kbchat.terminal import Terminal


def screen_of(raw: str, columns: int = 60, rows: int = 200) -> list[str]:
    screen = pyte.Screen(columns, rows)
    screen.set_mode(pyte.modes.LNM)  # a tty turns \n into \r\n
    pyte.Stream(screen).feed(raw)
    return [line.rstrip() for line in screen.display]


def terminal(**kwargs: object) -> Terminal:
    return Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=True, **kwargs)  # type: ignore[arg-type]


def test_renderer_output_shows_each_block_once() -> None:
    term = terminal()
    pieces = [f"Paragraph {i}.\n\n" for i in range(50)] + ["The **end**."]
    answer = RichRenderer(term).render([*(Content(p, "") for p in pieces), Done()])
    lines = [line for line in screen_of(term.out.getvalue()) if line]
    assert lines == [f"Paragraph {i}." for i in range(50)] + ["The end."]
    assert answer.finished


def test_markup_and_control_characters_stay_text() -> None:
    term = terminal()
    RichRenderer(term).render([Content("[bold]x[/bold] \x1b]0;title\x07 :smile:", ""), Done()])
    raw = term.out.getvalue()
    assert "\x1b]0;" not in raw
    assert "[bold]x[/bold] \u241b]0;title\u2407 :smile:" in screen_of(raw)


def test_frames_are_due_at_most_30_a_second_and_at_each_blink() -> None:
    now = [0.0]
    console = Console(file=io.StringIO(), force_terminal=True, width=80, height=24)
    view = LiveView(console, markdown=True, clock=lambda: now[0])
    view.start(drawing_thread=False)
    assert view._next_frame(0.0) == SPINNER_DELAY  # nothing yet: the first frame is the spinner's
    now[0] = 0.05
    view.append("word ")
    assert view._next_frame(0.05) <= 0.05  # new text after a long pause: drawn at once
    view.draw()
    view.append("more ")
    assert view._next_frame(0.06) == pytest.approx(0.05 + FRAME)  # text pours in: one frame per FRAME
    now[0] = 0.05 + FRAME
    view.draw()
    assert view._next_frame(0.1) == pytest.approx(BLINK)  # a stall: the next frame is the cursor's blink
    view.stop()


def test_mark_goes_after_the_text_or_on_its_own_line() -> None:
    mark = Segment("[cancelled]", Style(dim=True))
    assert with_mark([[Segment("short" + " " * 30)]], mark, 40) == [[Segment("short"), Segment(" "), mark]]
    assert with_mark([[Segment("x" * 35)]], mark, 40) == [[Segment("x" * 35)], [mark]]
    assert with_mark([[Segment("| Free | $0")], [Segment(" " * 40)]], mark, 40) == [
        [Segment("| Free | $0"), Segment(" "), mark]]  # fmt: skip
    assert with_mark([], mark, 40) == [[mark]]


def test_trim_right_keeps_backgrounds() -> None:
    code = Segment("   ", Style(bgcolor="red"))
    assert trim_right([Segment("a  "), code]) == [Segment("a  "), code]
    assert trim_right([Segment("a  ")]) == [Segment("a")]


def test_dumb_terminal_falls_back_to_plain() -> None:
    assert isinstance(make_renderer(Mode.AUTO, terminal(dumb=True)), PlainRenderer)
    assert isinstance(make_renderer(Mode.AUTO, terminal()), RichRenderer)
    assert Terminal.from_std(env={"TERM": "dumb"}).dumb and not Terminal.from_std(env={"TERM": "dumb"}).color


@pytest.mark.parametrize(("env", "no_color", "color"), [({}, False, True), ({"NO_COLOR": "1"}, False, False),
                                                       ({"NO_COLOR": ""}, False, True), ({}, True, False)])  # fmt: skip
def test_no_color_and_the_option(env: dict[str, str], no_color: bool, color: bool) -> None:
    assert Terminal.from_std(no_color=no_color, env=env).color is color


def rendered(answer: str, columns: int = 60, **kwargs: object) -> list[str]:
    """The screen after the whole answer streamed in word-sized pieces."""
    import re

    term = terminal(**kwargs)
    pieces = re.findall(r"\S+\s*|\s+", answer)
    RichRenderer(term).render([*(Content(p, "") for p in pieces), Done()])
    return [line for line in screen_of(term.out.getvalue(), columns=columns) if line]


def test_html_in_an_answer_shows_as_the_text_it_is() -> None:
    lines = rendered(
        "Usage: pyenv uninstall [-f|--force] <version>\n\n<div>\nblock <b>html</b>\n</div>\n\nafter <br> end"
    )
    assert lines == [
        "Usage: pyenv uninstall [-f|--force] <version>",
        "<div> block <b>html</b> </div>",
        "after <br> end",
    ]


def test_a_closing_fence_without_a_newline_ends_the_code_block() -> None:
    term = terminal()
    RichRenderer(term).render([Content("Run:\n\n```sh\nmake test\n```", ""), Done()])
    lines = [line for line in screen_of(term.out.getvalue()) if line.strip()]
    assert lines[-1].strip() == "make test" and not any("```" in line for line in lines)


def test_a_table_keeps_its_columns_whatever_the_rows_hold() -> None:
    answer = (
        "| Plan | Price | Notes |\n| --- | --: | --- |\n| Free | $0 | for trying |\n"
        "| Enterprise | $1,999 | a very long note that has to wrap inside its own column |\n| Team | $29 | x |\n\nAfter."
    )
    lines = rendered(answer, columns=80)
    header = next(line for line in lines if line.startswith("Plan"))
    price_end = header.index("Price") + len("Price")
    for row, price in (("Free", "$0"), ("Enterprise", "$1,999"), ("Team", "$29")):
        line = next(line for line in lines if line.startswith(row))
        assert line.index(price) + len(price) == price_end, line  # right-aligned under its heading
    notes = header.index("Notes")
    wrapped = lines[lines.index(next(line for line in lines if line.startswith("Enterprise"))) + 1]
    assert wrapped[:notes].strip() == "" and wrapped[notes:].strip()  # the long note wraps in its column
    assert "|" not in "".join(lines) and lines[-1] == "After."
    assert set(lines[1].strip()) == {"─"}


def test_rows_after_a_resize_keep_their_words_whole() -> None:
    """The terminal narrowed mid-table: the rows still to come fit it, each word whole (Rich squeezed them:
    "Bus/ine/ss"); widened back, the columns the first row fixed."""
    from kbchat.render.markdown import TableLines

    table = TableLines("| plan | price | what it includes |\n| --- | --- | --- |", 100)
    wide = Console(file=io.StringIO(), force_terminal=True, width=100)
    narrow = Console(file=io.StringIO(), force_terminal=True, width=50)
    fixed = table.fix("| Free | $0 | Dashboards for up to 3 users, 5 dashboards, daily refresh |")
    table.drawn(wide, "| Team | $29 | Dashboards and Pipelines |")
    for row in ("| Business | $79 | everything in Team, plus Alerts |", "| Enterprise | custom | all of it |"):
        lines = ["".join(s.text for s in line).rstrip() for line in table.drawn(narrow, row)]
        assert all(len(line) <= 50 for line in lines)
        assert lines[0].split()[0] == row.split("|")[1].strip(), lines  # not cut inside the word
    table.drawn(wide, "| Free | $0 | x |")
    assert table.widths == fixed


def a_long_line_live(reflows: bool) -> tuple[io.StringIO, Console, LiveView]:
    """A live view 80 columns wide, not yet drawn, holding one 71-cell line (70 and the cursor)."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, height=24)
    view = LiveView(console, markdown=True, clock=lambda: 1.0)
    view.reflows = reflows
    view.start(drawing_thread=False)
    view.append("x" * 70)
    return out, console, view


def test_a_frame_that_reached_the_terminal_after_it_narrowed_gets_its_wrapped_rows_cleared() -> None:
    """Rendered for 80 columns, written once the terminal was 40: its 71-cell line wrapped as it was written.
    The width was read after the frame went out, so the next frame thought nothing had changed, and a table's
    header and a blank line stayed above the answer in tmux."""
    out, console, view = a_long_line_live(reflows=True)
    update = view.live.update

    def resized_as_written(*args: object, **kwargs: object) -> None:
        update(*args, **kwargs)  # type: ignore[arg-type]
        console.width = 40

    view.live.update = resized_as_written  # type: ignore[method-assign]
    view.draw()
    drawn = len(out.getvalue())
    view.live.update = update  # type: ignore[method-assign]
    view.draw()
    assert out.getvalue()[drawn:].startswith("\x1b[2K\x1b[1A")
    drawn = len(out.getvalue())
    view.stop()
    assert not out.getvalue()[drawn:].startswith("\x1b[2K\x1b[1A")  # cleared once, not again


@pytest.mark.parametrize("reflows", [True, False])
def test_a_narrowed_terminal_that_rewraps_gets_the_rows_it_made_cleared(reflows: bool) -> None:
    """tmux and most terminals rewrap a line longer than the new width: one 71-cell line becomes two rows at 40,
    and Rich, counting one, left the first row's words above the next frame. xterm cuts instead: nothing more."""
    out, console, view = a_long_line_live(reflows)
    view.draw()
    console.width = 40
    drawn = len(out.getvalue())
    view.draw()
    assert out.getvalue()[drawn:].startswith("\x1b[2K\x1b[1A") == reflows
    assert "\x1b[2K\x1b[1A\x1b[2K\x1b[1A" not in out.getvalue()[drawn:][:8]  # one row more, not two
    view.stop()


def test_which_terminals_rewrap_their_lines() -> None:
    from kbchat.render.live import terminal_reflows

    assert terminal_reflows({"TMUX": "/tmp/tmux-0/default,1,0"}) and terminal_reflows({"TERM_PROGRAM": "iTerm.app"})
    assert terminal_reflows({"VTE_VERSION": "7600"}) and terminal_reflows({"WT_SESSION": "x"})
    assert not terminal_reflows({"XTERM_VERSION": "XTerm(390)", "TERM": "xterm-256color"})


def test_without_colour_bold_and_dim_stay() -> None:
    term = terminal(color=False)
    RichRenderer(term).render([Content("**bold** and `code`", ""), Done()])
    raw = term.out.getvalue()
    assert "\x1b[1m" in raw  # bold
    assert not re.search(r"\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m", raw)  # no colour


def test_rich_mode_works_without_posix_terminal_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on Windows: no termios, fcntl or SIGWINCH. The answer still renders; typed keys would echo."""
    import signal
    import sys

    for name in ("termios", "fcntl", "tty"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    monkeypatch.delattr(signal, "SIGWINCH", raising=False)
    monkeypatch.setattr(sys, "stdin", _FakeTTYInput())
    term = terminal()
    answer = RichRenderer(term).render([Content("# Title\n\nSome **bold** text.", ""), Done()])
    assert answer.finished
    assert [line for line in screen_of(term.out.getvalue()) if line.strip()][-1] == "Some bold text."


class _FakeTTYInput(io.StringIO):
    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 0


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_the_first_plain_words_are_written_while_the_view_loads() -> None:
    """Rich loads in a thread; meanwhile plain words on the first line go out as they come, and the view then
    takes that line over. Markup waits for the view: nothing is drawn twice differently."""
    import fcntl
    import struct
    import termios
    import threading

    from kbchat.render.rich import Preparing

    main, side = os.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    with os.fdopen(side, "w") as out:
        term = Terminal(out=out, err=io.StringIO(), is_tty=True)
        loaded = threading.Event()
        calls: list[str] = []

        class View:  # stands in for the LiveView Rich would make
            def start(self) -> None:
                calls.append("start")

            def append(self, text: str) -> None:
                calls.append(text)

        view = View()
        preparing = Preparing(lambda: loaded.wait(10) and view, term)  # type: ignore[arg-type, return-value]
        assert preparing.written_early("Plans ") and preparing.written_early("start at")
        assert not preparing.written_early(" **$9**")  # markup: for the view to draw
        assert not preparing.written_early(" and more words than one line of forty columns holds")
        loaded.set()
        assert preparing.get() is view and calls == ["start", "Plans start at"]
        import select

        shown = b""
        while not shown.endswith(b"\x1b[K") and select.select([main], [], [], 5)[0]:  # the bytes, as they come
            shown += os.read(main, 1000)
        assert shown == b"Plans start at\r\x1b[K"
    os.close(main)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_ctrl_c_in_the_early_words_flush_leaves_them_to_the_view() -> None:
    """A Ctrl-C lands where the first words' flush returns: the view must still take them over (else Live's
    transient redraw would erase them, and the answer would show only `[cancelled]`)."""
    import fcntl
    import struct
    import termios

    from kbchat.render.rich import Preparing

    main, side = os.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))

    class InterruptedOnce(io.TextIOWrapper):
        interrupted = False

        def flush(self) -> None:
            super().flush()
            if not self.interrupted:
                self.interrupted = True
                raise KeyboardInterrupt

    with InterruptedOnce(os.fdopen(side, "wb")) as out:
        calls: list[str] = []

        class View:
            def start(self) -> None:
                calls.append("start")

            def append(self, text: str) -> None:
                calls.append(text)

        term = Terminal(out=out, err=io.StringIO(), is_tty=True)
        preparing = Preparing(lambda: View(), term)  # type: ignore[arg-type, return-value]
        with pytest.raises(KeyboardInterrupt):
            preparing.written_early("Half of the answer")
        preparing.get()
        assert calls == ["start", "Half of the answer"]
    os.close(main)


@pytest.mark.parametrize(("fence", "line"), [("```js", 'let s = "ab'), ("```go", 's := "ab'), ("```json", '{"a')])
def test_a_half_typed_code_line_gets_no_error_paint(fence: str, line: str) -> None:
    """Pygments calls an open quote an error, and monokai painted it pink on red until the line was complete."""
    from kbchat.render.markdown import CodeLines

    console = Console(file=io.StringIO(), width=40, force_terminal=True, color_system="truecolor")
    code = CodeLines(fence)
    styles = {segment.style for row in code.render(console, line) for segment in row if segment.style}
    error = Syntax.get_theme("monokai").get_style_for_token(Error)
    assert error.bgcolor not in {style.bgcolor for style in styles if style}


def test_paragraph_lines_are_not_padded_to_the_screen() -> None:
    """Rich pads a paragraph's lines with spaces to the width; a terminal that rewraps when it narrows counts
    them, and each padded line became the line and a blank row (the doubled blank lines after a resize)."""
    from rich.segment import Segment

    from kbchat.render.markdown import markdown_lines

    console = Console(file=io.StringIO(), force_terminal=True, width=80)
    lines = markdown_lines(console, "Plans and pricing\n\nTeam and Business come with a trial. **Bold** too.")
    assert [Segment.get_line_length(line) for line in lines] == [
        17,
        0,
        len("Team and Business come with a trial. Bold too."),
    ]
