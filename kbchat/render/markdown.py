"""Markdown as kbchat draws it: blocks, code lines, table rows. The heavy part of rich output.

Markdown is parsed with HTML off, so `<name>` and `<div>` show as the text they are
(an answer about `pyenv uninstall <version>` keeps its `<version>`). Code lines and
table rows are drawn one at a time, on a layout fixed when their block opens, so
that a line once drawn never has to change.

Imported only when an answer first needs it (markdown-it and Rich's Markdown cost
~60 ms), and Pygments only when a code block opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.cells import cell_len
from rich.console import Console
from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.syntax import SyntaxTheme
from rich.table import Table

from kbchat.render.blocks import alignments, split_cells

if TYPE_CHECKING:
    from pygments.token import _TokenType as TokenType
from kbchat.render.lines import is_blank, trim_right

CODE_THEME = "monokai"
COLUMN_GAP = 2  # spaces between table columns, as Rich's Markdown tables have
TABLE_COLUMN = 30  # a streamed table is this wide a column (or twice its first rows), within the screen
WORD_ROOM = 10  # on a narrow screen, a short column's room for a later row's longer word, where it fits

# One parser for every block: Rich's Markdown builds one per call, with HTML on.
_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")

Justify = Literal["left", "center", "right"]


class TextMarkdown(Markdown):
    """Rich's Markdown with HTML shown as text: Rich drops inline and block HTML silently."""

    def __init__(self, markup: str, code_theme: str = CODE_THEME, justify: Justify | None = None) -> None:
        super().__init__("", code_theme=code_theme, justify=justify, hyperlinks=False)
        self.markup = markup
        self.parsed = _PARSER.parse(markup)


class InlineMarkdown(TextMarkdown):
    """One table cell: emphasis, code and links, but never a heading or a list (`1. a` stays text)."""

    def __init__(self, markup: str, justify: Justify | None = None) -> None:
        super().__init__("", justify=justify)
        self.markup = markup
        self.parsed = [Token("paragraph_open", "p", 1), *_PARSER.parseInline(markup), Token("paragraph_close", "p", -1)]


def markdown_lines(console: Console, source: str, markdown: bool = True) -> list[list[Segment]]:
    """Rendered lines of some source, without the blank lines Rich puts above a lone list, and without
    the spaces Rich pads a paragraph's lines with to the screen's width: a terminal that rewraps when it
    narrows (tmux, VTE, iTerm2…) counts them, and turned each padded line into the line and a blank row."""
    from rich.text import Text

    renderable = TextMarkdown(source) if markdown else Text(source)
    lines = console.render_lines(renderable, console.options, pad=False)
    start = 0
    while start < len(lines) - 1 and is_blank(lines[start]):
        start += 1
    return [trim_right(line) for line in lines[start:]]


class CalmTheme(SyntaxTheme):
    """A syntax theme that draws Pygments' Error tokens as plain text.

    A code line being typed is often not yet valid (`let s = "ab`): the lexer calls the
    open quote an error, and monokai paints it pink on red until the line is complete.
    An answer's code is shown, not checked, so errors never get that paint.
    """

    def __init__(self, theme: SyntaxTheme) -> None:
        self.theme = theme

    def get_style_for_token(self, token_type: TokenType) -> Style:
        from pygments.token import Error, Text

        return self.theme.get_style_for_token(Text if token_type in Error else token_type)

    def get_background_style(self) -> Style:
        return self.theme.get_background_style()


class CodeLines:
    """Code lines rendered one at a time, looking like Rich's Markdown code block."""

    def __init__(self, fence_line: str, theme: str = CODE_THEME) -> None:
        from pygments.lexers import TextLexer, get_lexer_by_name
        from pygments.util import ClassNotFound
        from rich.syntax import Syntax

        info = fence_line.strip().lstrip("`~").strip()
        try:
            self.lexer = get_lexer_by_name(info.split()[0]) if info else TextLexer()
        except ClassNotFound:
            self.lexer = TextLexer()
        self.theme = CalmTheme(Syntax.get_theme(theme))
        self.background = self.theme.get_background_style()

    def render(self, console: Console, code: str) -> list[list[Segment]]:
        from rich.syntax import Syntax

        syntax = Syntax(code or " ", self.lexer, theme=self.theme, word_wrap=True, padding=(0, 1))
        return console.render_lines(syntax, console.options)

    def padding(self, width: int) -> list[Segment]:
        """The blank line above and below a code block."""
        return [Segment(" " * width, self.background)]


class TableLines:
    """A Markdown table drawn row by row on columns fixed by its first row, so rows never shift.

    Rich sizes a table's columns by all of its rows, which a stream does not have yet.
    Here the header and the first row decide (see column_widths); longer cells later wrap
    inside their column.
    Until the first row is complete the layout follows it as it is typed.
    """

    def __init__(self, source: str, screen: int) -> None:
        header, _, delimiter = source.partition("\n")
        self.headings = split_cells(header)
        self.justify = alignments(delimiter)
        self.screen = screen
        self.widths: list[int] | None = None  # fixed once the first row is complete
        self.fixed: tuple[int, list[int]] = (screen, [])  # the screen and widths the first row fixed
        self.words = [max((cell_len(w) for w in heading.split()), default=0) for heading in self.headings]

    def layout(self, first_row: str = "") -> list[int]:
        """The widths the header and this first row call for."""
        cells = self.cells(first_row) if first_row.strip() else [""] * len(self.headings)
        pairs = list(zip(self.headings, cells, strict=True))
        natural = [max(cell_len(heading), cell_len(cell)) for heading, cell in pairs]
        words = [max((cell_len(word) for word in f"{heading} {cell}".split()), default=0) for heading, cell in pairs]
        return column_widths(natural, self.screen, words)

    def fix(self, first_row: str = "") -> list[int]:
        self.widths = self.layout(first_row)
        self.fixed = (self.screen, self.widths)
        self.seen(first_row)
        return self.widths

    def seen(self, row: str) -> None:
        """Note a row's longest words: a resize keeps them whole in the rows still to come."""
        for i, cell in enumerate(self.cells(row)):
            self.words[i] = max(self.words[i], max((cell_len(word) for word in cell.split()), default=0))

    def refit(self, screen: int) -> None:
        """For the screen as it is now. After a resize, rows get the fixed columns in proportion, each at
        least its longest word so far, so a row may shift by a word (Rich's own squeeze broke every word:
        "Bus/ine/ss"); back at the size they were fixed at, the fixed columns again."""
        if self.widths is None:
            return
        self.screen = screen
        fixed_screen, fixed = self.fixed
        self.widths = fixed if screen == fixed_screen else column_widths(fixed, screen, self.words)

    def cells(self, line: str) -> list[str]:
        """A row's cells: missing ones are empty, extra ones dropped, as in GitHub's tables."""
        count = len(self.headings)
        return (split_cells(line) + [""] * count)[:count]

    def head(self, console: Console, widths: list[int]) -> list[list[Segment]]:
        """The header row and the rule under it."""
        style = console.get_style("markdown.table.header", default="bold")
        rule = console.get_style("markdown.table.border", default="none")
        width = sum(widths) + COLUMN_GAP * (len(widths) - 1)
        return [*self._render(console, self.headings, widths, style), [Segment("─" * width, rule)]]

    def row(self, console: Console, line: str, widths: list[int]) -> list[list[Segment]]:
        return self._render(console, self.cells(line), widths)

    def drawn(self, console: Console, line: str) -> list[list[Segment]]:
        """A finished row, for good, on the columns for the screen as it is now."""
        self.seen(line)
        self.refit(console.width)
        assert self.widths is not None
        return self.row(console, line, self.widths)

    def _render(
        self, console: Console, cells: list[str], widths: list[int], style: object = "none"
    ) -> list[list[Segment]]:
        table = Table(box=None, show_header=False, show_edge=False, pad_edge=False, padding=(0, COLUMN_GAP // 2))
        for width, justify in zip(widths, self.justify, strict=False):
            table.add_column(width=width, min_width=width, max_width=width, justify=justify, overflow="fold")
        drawn = (InlineMarkdown(cell, justify) for cell, justify in zip(cells, self.justify, strict=False))
        table.add_row(*drawn, style=style)  # type: ignore[arg-type]
        return [trim_right(line) for line in console.render_lines(table, console.options, pad=False)]


def column_widths(natural: list[int], screen: int, words: list[int] | None = None) -> list[int]:
    """Columns for cells `natural` wide so far: each gets its width and an equal share of the rest.

    The table is twice as wide as its first rows need, or TABLE_COLUMN a column, within the
    screen. An equal share (not one in proportion) because a first row says little about
    which column will hold the long cells later. On a screen too narrow for that, each
    column keeps at least its longest word (`words`) while they fit, so `plan` never
    breaks into `pla`/`n` while another column has room to give, and where the screen
    allows, WORD_ROOM cells for the words later rows bring (a `Free` column that will hold
    `Enterprise`); the widest column gives that room, and the rest is shared in proportion
    to what each column wants beyond its floor.
    """
    count = len(natural)
    natural = [max(3, width) for width in natural]
    room = max(3 * count, screen - COLUMN_GAP * (count - 1))
    if sum(natural) > room:  # too wide already
        floor = [min(max(3, word), width) for word, width in zip(words or [3] * count, natural, strict=True)]
        widest = natural.index(max(natural))
        roomy = [least if i == widest else max(least, WORD_ROOM) for i, least in enumerate(floor)]
        if sum(roomy) <= room:  # room for the longer words later rows bring: "Enterprise" under "Free"
            floor = roomy
        elif sum(floor) > room:
            floor = [3] * count  # not even the words fit: shrink in proportion
        wants = [max(0, width - least) for width, least in zip(natural, floor, strict=True)]
        spare = room - sum(floor)
        widths = [least + want * spare // max(1, sum(wants)) for least, want in zip(floor, wants, strict=True)]
        widths[wants.index(max(wants))] += room - sum(widths)
        return widths
    target = min(room, max(2 * sum(natural), TABLE_COLUMN * count))
    share, rest = divmod(target - sum(natural), count)
    return [width + share + (index < rest) for index, width in enumerate(natural)]
