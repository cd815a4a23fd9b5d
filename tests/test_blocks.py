"""Cutting a streaming Markdown answer into finished blocks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbchat.render.blocks import BlockSplitter, alignments, split_cells


def split(chunks: list[str], markdown: bool = True) -> tuple[list[tuple[str, str]], str]:
    splitter = BlockSplitter(markdown)
    finished = [(piece.kind, piece.text) for chunk in chunks for piece in splitter.feed(chunk)]
    return finished, splitter.tail  # type: ignore[return-value]


MARKDOWNISH = st.text(alphabet="ab |-`#>*\n1.", max_size=80)


@given(MARKDOWNISH, st.lists(st.integers(0, 80), max_size=6))
def test_each_piece_says_where_it_is_in_all_that_was_fed(text: str, cuts: list[int]) -> None:
    """`at` places every piece's text in the whole answer, however it was cut into chunks (--cite marks by it)."""
    splitter = BlockSplitter(True)
    bounds = [0, *sorted(c for c in cuts if c <= len(text)), len(text)]
    pieces = [piece for a, b in itertools.pairwise(bounds) for piece in splitter.feed(text[a:b])]
    pieces.append(splitter.last_piece())
    for piece in pieces:
        assert text[piece.at : piece.at + len(piece.text)] == piece.text


B, OPEN, C, E = "block", "open", "code", "close"
T, R, END = "table", "row", "end"


@pytest.mark.parametrize(
    ("pieces", "finished", "tail"),
    [
        (["one\n\ntwo"], [(B, "one")], "two"),
        (["one\n", "\n", "two\n\n"], [(B, "one"), (B, "two")], ""),
        (["a\nb\n\n\n\nc"], [(B, "a\nb")], "c"),
        (["```py\nx = 1\n\ny = 2\n```\n\nafter"],
         [(OPEN, "```py"), (C, "x = 1"), (C, ""), (C, "y = 2"), (E, "```")], "after"),
        (["Here:\n```\ncode\n"], [(B, "Here:"), (OPEN, "```"), (C, "code")], ""),
        (["```\nopen fence\n\nstill op"], [(OPEN, "```"), (C, "open fence"), (C, "")], "still op"),
        (["~~~\n```\n~~~\n\nz"], [(OPEN, "~~~"), (C, "```"), (E, "~~~")], "z"),
        (["````\n```\n````\nz"], [(OPEN, "````"), (C, "```"), (E, "````")], "z"),
        (["```\n``` not a close\n"], [(OPEN, "```"), (C, "``` not a close")], ""),
        (["- a\n- b\n\n1. c"], [(B, "- a\n- b")], "1. c"),
        (["   \n\nx"], [], "x"),
        (["no newline at all"], [], "no newline at all"),
        (["| a | b |\n|---|--:|\n| 1 | 2 |\n| 3 |", " 4 |\n\nafter"],
         [(T, "| a | b |\n|---|--:|"), (R, "| 1 | 2 |"), (R, "| 3 | 4 |"), (END, "")], "after"),
        (["Intro:\n| a | b |\n| - | - |\nplain row\n- a list\n"],
         [(B, "Intro:"), (T, "| a | b |\n| - | - |"), (R, "plain row"), (END, "")], "- a list\n"),
        (["| a | b |\n|---|---|\n| 1 | 2 |\n```\ncode\n"],
         [(T, "| a | b |\n|---|---|"), (R, "| 1 | 2 |"), (END, ""), (OPEN, "```"), (C, "code")], ""),
        (["| a | b |\n|---|\n"], [], "| a | b |\n|---|\n"),  # the cell counts differ: not a table
        (["a | b\n---\n"], [], "a | b\n---\n"),  # a setext heading, not a table
        (["| a |\n|:-:|\n"], [(T, "| a |\n|:-:|")], ""),
        (["Plans:\n\n| a | b |\n| - | - |\n| 1 | 2 |\n"], [(B, "Plans:"), (T, "| a | b |\n| - | - |"), (R, "| 1 | 2 |")], ""),
    ],
)  # fmt: skip
def test_markdown_pieces(pieces: list[str], finished: list[tuple[str, str]], tail: str) -> None:
    assert split(pieces) == (finished, tail)


def test_literal_mode_finishes_every_line() -> None:
    assert split(["a\n\nb\nc"], markdown=False) == ([("line", "a"), ("line", ""), ("line", "b")], "c")


@given(
    st.lists(
        st.sampled_from(["x", " ", "\n", "\n\n", "```", "~~~", "- ", "#", "| a | b |\n", "|---|--:|\n", "| 1 |", "> "]),
        max_size=40,
    ),
    st.data(),
)
def test_any_chunking_gives_the_same_pieces(parts: list[str], data: st.DataObject) -> None:
    text = "".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert split(chunks) == split([text])


def test_visible_tail_of_a_tall_block_is_its_last_lines() -> None:
    splitter = BlockSplitter()
    splitter.feed("".join(f"- item {i}\n" for i in range(1000)))
    assert splitter.visible_tail(lines=3, columns=80).split("\n") == ["- item 997", "- item 998", "- item 999", ""]
    assert splitter.has_tail() and not BlockSplitter().has_tail()


def test_visible_tail_of_a_huge_line_is_bounded() -> None:
    splitter = BlockSplitter()
    splitter.feed("x" * 1_000_000)
    assert len(splitter.visible_tail(lines=10, columns=80)) == 800


@pytest.mark.parametrize(
    ("row", "cells"),
    [("| a | b |", ["a", "b"]), ("a | b", ["a", "b"]), (r"| a \| b | c |", ["a | b", "c"]), ("|  |", [""])],
)
def test_split_cells(row: str, cells: list[str]) -> None:
    assert split_cells(row) == cells


def test_alignments() -> None:
    assert alignments("| :-- | :-: | --: | --- |") == ["left", "center", "right", "left"]


@pytest.mark.parametrize(
    ("lines", "left"),
    [
        (["```py", "x = 1"], "```"),
        (["```py", "x = 1", "```"], ""),
        (["~~~~", "```", "still code", "~~~"], "~~~~"),  # a shorter or other fence closes nothing
        (["~~~~", "~~~~~"], ""),
        (["```", "``` not a close"], "```"),
        (["    ```", "indented four: not a fence"], ""),
        (["text", "## heading"], ""),
    ],
)
def test_which_fence_lines_leave_open(lines: list[str], left: str) -> None:
    from kbchat.fences import left_open

    assert left_open(lines) == left


def test_a_reader_that_does_not_follow_lists_takes_indented_fences() -> None:
    from kbchat.fences import left_open

    item = ["1. Install it:", "", "     ```sh", "     npm i"]
    assert (left_open(item), left_open(item, nested=True)) == ("", "```")


def test_code_lines_and_fence_lines_are_code() -> None:
    from kbchat.fences import Fences

    fences = Fences()
    assert [fences.step(line) for line in ["a", "~~~", "# x", "", "~~~", "b"]] == [False, True, True, True, True, False]


@pytest.mark.parametrize("screen", [40, 60])
def test_narrow_tables_keep_their_longest_words_whole(screen: int) -> None:
    """At 40 and 60 columns the header's and first row's words were broken (`pla`/`n`, `Bus`/`ine`/`ss`) while
    the last column had room to give: each column keeps at least its longest word while they fit."""
    import io

    from rich.console import Console

    from kbchat.render.markdown import TableLines

    table = TableLines("| plan | price | what it includes |\n| --- | --- | --- |", screen)
    row = "| Business | $79 | everything in Team, plus Alerts, SSO (SAML), audit log, 15-minute refresh |"
    widths = table.fix(row)
    assert widths[0] >= len("Business") and widths[1] >= len("price") and sum(widths) + 4 <= screen
    console = Console(file=io.StringIO(), width=screen, color_system=None)
    shown = [" ".join(segment.text for segment in line).split() for line in table.head(console, widths)[:1]]
    drawn = ["".join(segment.text for segment in line) for line in table.row(console, row, widths)]
    assert shown[0][:2] == ["plan", "price"] and drawn[0].split()[:2] == ["Business", "$79"]


@pytest.mark.parametrize("screen", [40, 50, 60])
def test_narrow_tables_leave_room_for_the_longer_words_of_later_rows(screen: int) -> None:
    """The first row fixes the columns (`Free`, `$0`); at 50 columns `Business`, `Enterprise` and `custom` came
    later and broke (`Ente/rpri/se`) while the last column had room: short columns get WORD_ROOM where it fits."""
    import io

    from rich.console import Console

    from kbchat.render.markdown import WORD_ROOM, TableLines

    table = TableLines("| plan | price | what it includes |\n| --- | --- | --- |", screen)
    widths = table.fix("| Free | $0 | Dashboards for up to 3 users, 5 dashboards, daily refresh |")
    assert widths[:2] == [WORD_ROOM, WORD_ROOM] and sum(widths) + 4 == screen
    console = Console(file=io.StringIO(), width=screen, color_system=None)
    for row in ("| Business | $79 | everything in Team |", "| Enterprise | custom | a dedicated support engineer |"):
        drawn = ["".join(segment.text for segment in line) for line in table.drawn(console, row)]
        plan, price = (cell.strip() for cell in row.split("|")[1:3])
        assert drawn[0].split()[:2] == [plan, price], drawn  # each whole on the row's first line
        assert all(line[: 2 * WORD_ROOM + 4].strip() == "" for line in drawn[1:]), drawn  # nothing wrapped under them


def test_a_screen_too_narrow_for_word_room_keeps_the_words_so_far() -> None:
    from kbchat.render.markdown import column_widths

    assert column_widths([4, 5, 61], 30, [4, 5, 10]) == [4, 5, 17]  # 10 + 10 + 10 would not fit in 26
