"""The live view on a screen, frame by frame: what a person sees while an answer streams.

The view draws into a pyte screen (what a terminal would show, scrollback included);
frames are drawn by hand at the moments a fake clock says, so blinking, the spinner and
every intermediate frame are checked without waiting on real time. A real terminal, in
a real process, is tested in test_rich_pty.py.
"""

from __future__ import annotations

import io
import re

import pyte
import pytest

from kbchat.render.live import BLINK, CURSOR, SPINNER_DELAY, LiveView, make_console
from kbchat.terminal import Terminal


def words(text: str) -> list[str]:
    """The answer in word-sized pieces, as a model streams it."""
    return re.findall(r"\S+\s*|\s+", text)


class Screen:
    """A LiveView drawing into a pyte screen; `now` is the view's clock."""

    def __init__(self, markdown: bool = True, rows: int = 24, cols: int = 80, color: bool = True) -> None:
        self.now = 0.0
        self.out = io.StringIO()
        console = make_console(Terminal(out=self.out, err=io.StringIO(), is_tty=True, color=color))
        console.size = (cols, rows)
        self.view = LiveView(console, markdown, clock=lambda: self.now, spinner=True)
        self.screen = pyte.HistoryScreen(cols, rows, history=10_000)
        self.screen.set_mode(pyte.modes.LNM)  # a tty turns \n into \r\n
        self.stream = pyte.Stream(self.screen)
        self.fed = 0
        self.view.start(drawing_thread=False)

    def frame(self, at: float | None = None) -> str:
        """Draw one frame (at a moment of the clock) and return what the screen shows."""
        if at is not None:
            self.now = at
        self.view.draw()
        return self.text

    def type(self, *pieces: str, gap: float = 0.04, every: int = 1) -> list[str]:
        """Pieces arriving `gap` apart, a frame after each (or after every `every`): the screens on the way."""
        seen = []
        for index, piece in enumerate(pieces, 1):
            self.now += gap
            self.view.append(piece)
            if index % every == 0 or index == len(pieces):
                seen.append(self.frame())
        return seen

    def finish(self, cancelled: bool = False) -> str:
        self.view.stop(cancelled=cancelled)
        return self.text

    @property
    def text(self) -> str:
        self.stream.feed(self.out.getvalue()[self.fed :])
        self.fed = len(self.out.getvalue())
        return "\n".join(line.rstrip() for line in self.screen.display)

    @property
    def scrollback(self) -> list[str]:
        """Every line that scrolled off the top, then the screen."""
        self.text  # noqa: B018 - feeds what was written
        columns = self.screen.columns
        gone = ["".join(line[x].data for x in range(columns)).rstrip() for line in self.screen.history.top]
        return gone + [line.rstrip() for line in self.screen.display]


def line_with(text: str, part: str) -> str:
    return next(line for line in text.splitlines() if part in line)


# --- the cursor and the spinner -----------------------------------------------------------


def test_the_cursor_blinks_while_the_stream_stalls_and_is_gone_at_the_end() -> None:
    screen = Screen()
    screen.type("Waiting for more")
    shown = [line_with(screen.frame(at=t), "Waiting").endswith(CURSOR) for t in (0.2, 0.2 + BLINK, 0.2 + 2 * BLINK)]
    assert shown == [True, False, True]
    screen.type(" and done.")
    assert "Waiting for more and done." in screen.finish() and CURSOR not in screen.text


def test_a_slow_first_token_gets_a_spinner_a_fast_one_never() -> None:
    slow = Screen()
    assert "thinking" not in slow.frame(at=SPINNER_DELAY / 2)
    assert "thinking" in slow.frame(at=SPINNER_DELAY + 0.01)
    slow.type("Here it is.")
    assert "thinking" not in slow.finish() and "Here it is." in slow.text
    fast = Screen()
    seen = fast.type("Quick.", gap=SPINNER_DELAY / 2)
    assert not any("thinking" in text for text in seen) and "thinking" not in fast.finish()


# --- what the text looks like ---------------------------------------------------------------

MARKDOWN = (
    "# Plans\n\nThe **Team** plan costs `$29`; see [pricing](https://example.com/p).\n\n"
    "- Dashboards\n- Pipelines\n\n| plan | price |\n| --- | --- |\n| Team | $29 |\n\n"
    "```python\nprint('hello')\n```\n\nThat is all."
)


def test_markdown_is_rendered() -> None:
    screen = Screen()
    screen.type(*words(MARKDOWN))
    text = screen.finish()
    assert "Plans" in text and "# Plans" not in text
    assert "The Team plan costs $29; see pricing (https://example.com/p)." in text and "**" not in text
    assert "• Dashboards" in text and "• Pipelines" in text
    assert re.search(r"Team\s+\$29", text) and "|" not in text
    assert "print('hello')" in text and "```" not in text
    assert text.rstrip().endswith("That is all.")


def test_no_markdown_shows_the_text_literally() -> None:
    screen = Screen(markdown=False)
    screen.type(*words(MARKDOWN))
    screen.finish()
    assert [line for line in screen.scrollback if line] == [line for line in MARKDOWN.splitlines() if line]


def test_html_and_placeholders_show_as_written() -> None:
    screen = Screen()
    screen.type(*words("Run widget install <name> --force.\n\n<div>\nraw <b>block</b>\n</div>"))
    text = screen.finish()
    assert "Run widget install <name> --force." in text and "<div> raw <b>block</b> </div>" in text


def test_a_closing_fence_at_the_very_end_closes_the_code_box() -> None:
    screen = Screen()
    screen.type(*words("Run this:\n\n```sh\nmake test\n```"))
    text = screen.finish()
    assert "```" not in text and any(line.strip() == "make test" for line in text.splitlines())


def test_a_finished_quote_is_never_taken_for_the_cursor() -> None:
    screen = Screen()
    screen.type(*words("> A quoted line.\n\nAnd after it."))
    text = screen.finish()
    assert "▌ A quoted line." in text and CURSOR not in text


def test_without_colour_bold_stays() -> None:
    screen = Screen(color=False)
    screen.type(*words("The **Team** plan."))
    text = screen.finish()
    y = next(y for y, line in enumerate(text.splitlines()) if "The Team plan" in line)
    x = text.splitlines()[y].index("Team")
    cell = screen.screen.buffer[y][x]
    assert cell.bold and cell.fg == "default"


def test_a_narrow_terminal_lays_out_wide_characters_and_tabs() -> None:
    screen = Screen(cols=20)
    screen.type(*words("中文字符测试 and emoji 😀 here.\n\n```\na\tb\n```"))
    screen.finish()
    joined = "".join(screen.scrollback).replace(" ", "")
    assert "中文字符测试" in joined and "😀" in joined and "andemoji" in joined and "a" in joined and "b" in joined


# --- calm while it streams -------------------------------------------------------------------


def test_half_typed_emphasis_code_and_links_never_show_their_markers() -> None:
    screen = Screen()
    pieces = [
        "The ",
        "**",
        "API",
        " key",
        "**",
        " is ",
        "`",
        "sk-",
        "…",
        "`",
        " and ",
        "[docs",
        "](https://ex",
        ".com)",
        ".",
    ]
    for text in screen.type(*pieces):
        line = line_with(text, "The") if "The" in text else ""
        assert not set("*`[]") & set(line) and "](" not in line, line
    assert "The API key is sk-… and docs (https://ex.com)." in screen.finish()


def test_a_streamed_table_never_shifts_its_columns() -> None:
    screen = Screen()
    head = "Plans:\n\n| Plan | Price | Notes |\n| --- | --: | --- |\n| Free | $0 | for trying |\n"
    rest = "| Team | $29 | per user |\n| Enterprise | $1,999 | a long note that wraps inside its own column |\n\nDone."
    seen = screen.type(*words(head))
    free = line_with(seen[-1], "Free")
    seen += screen.type(*words(rest))
    text = screen.finish()
    for frame in seen:
        assert "|" not in frame and "---" not in frame
        if "Free" in frame and "Team" in frame:
            assert line_with(frame, "Free") == free  # drawn once, never moved
    price_end = line_with(text, "Plan ").index("Price") + len("Price")
    for row, price in (("Free", "$0"), ("Team", "$29"), ("Enterprise", "$1,999")):
        assert line_with(text, row).index(price) + len(price) == price_end


# --- long answers, and a resize ------------------------------------------------------------


@pytest.mark.parametrize("shape", ["paragraphs", "one tall list"])
def test_a_long_answer_is_in_the_scrollback_exactly_once(shape: str) -> None:
    if shape == "paragraphs":
        answer = "\n\n".join(f"Paragraph {i:03d} of the long answer." for i in range(120))
    else:
        answer = "\n".join(f"- item {i:03d} of the long list" for i in range(120))
    screen = Screen(rows=30)
    screen.type(*words(answer), gap=0.001, every=25)  # as the 30-a-second frame cap would
    screen.finish()
    seen = "\n".join(screen.scrollback)
    for i in range(120):
        label = f"Paragraph {i:03d} of" if shape == "paragraphs" else f"item {i:03d} of"
        assert seen.count(label) == 1, f"{label!r} appears {seen.count(label)} times"
    assert CURSOR not in seen


def test_a_resize_while_streaming_loses_and_repeats_nothing() -> None:
    screen = Screen()
    screen.type(*words("\n\n".join(f"Before {i:02d} resize." for i in range(10))))
    screen.view.console.size = (50, 24)
    screen.screen.resize(24, 50)
    screen.type(*words("\n\n" + "\n\n".join(f"After {i:02d} resize." for i in range(10))))
    screen.finish()
    seen = "\n".join(screen.scrollback)
    for label in [f"Before {i:02d}" for i in range(10)] + [f"After {i:02d}" for i in range(10)]:
        assert seen.count(label) == 1, label


def test_a_cancelled_answer_keeps_its_text_and_the_mark() -> None:
    screen = Screen()
    screen.type(*words("# Heading\n\nA partial answer that"))
    text = screen.finish(cancelled=True)
    assert "A partial answer that [cancelled]" in text and CURSOR not in text


def test_a_whole_answer_at_once_ends_its_code_box_too() -> None:
    """--no-stream: the chat body's answer arrives in one piece."""
    from kbchat.exchange import chat_events
    from kbchat.render.rich import RichRenderer

    out = io.StringIO()
    term = Terminal(out=out, err=io.StringIO(), is_tty=True)
    RichRenderer(term).render(chat_events({"answer": "Run this:\n\n```sh\nmake test\n```", "sources": []}, "q"))
    screen = pyte.Screen(80, 40)
    screen.set_mode(pyte.modes.LNM)
    pyte.Stream(screen).feed(out.getvalue())
    lines = [line.rstrip() for line in screen.display if line.strip()]
    assert "```" not in "\n".join(lines) and any(line.strip() == "make test" for line in lines)
    assert "Sources" in lines[-2] and lines[-1].strip() == "none"
