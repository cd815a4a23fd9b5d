"""Cutting a streaming Markdown answer into finished blocks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbchat.render.blocks import BlockSplitter


def split(pieces: list[str], markdown: bool = True) -> tuple[list[str], str]:
    splitter = BlockSplitter(markdown)
    blocks = [block for piece in pieces for block in splitter.feed(piece)]
    return blocks, splitter.tail


@pytest.mark.parametrize(
    ("pieces", "blocks", "tail"),
    [
        (["one\n\ntwo"], ["one"], "two"),
        (["one\n", "\n", "two\n\n"], ["one", "two"], ""),
        (["a\nb\n\n\n\nc"], ["a\nb"], "c"),
        (["```py\nx = 1\n\ny = 2\n```\n\nafter"], ["```py\nx = 1\n\ny = 2\n```"], "after"),
        (["```\nopen fence\n\nstill open"], [], "```\nopen fence\n\nstill open"),
        (["~~~\n```\n\n~~~\n\nz"], ["~~~\n```\n\n~~~"], "z"),
        (["````\n```\n\n````\n\nz"], ["````\n```\n\n````"], "z"),
        (["- a\n- b\n\n1. c"], ["- a\n- b"], "1. c"),
        (["   \n\nx"], [], "x"),
        (["no newline at all"], [], "no newline at all"),
    ],
)
def test_markdown_blocks(pieces: list[str], blocks: list[str], tail: str) -> None:
    assert split(pieces) == (blocks, tail)


def test_literal_mode_finishes_every_line() -> None:
    assert split(["a\n\nb\nc"], markdown=False) == (["a", "", "b"], "c")


@given(st.lists(st.sampled_from(["x", " ", "\n", "\n\n", "```", "~~~", "- ", "#"]), max_size=40), st.data())
def test_any_chunking_gives_the_same_blocks(parts: list[str], data: st.DataObject) -> None:
    text = "".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert split(pieces) == split([text])


def test_visible_tail_of_a_tall_code_block_keeps_its_fence() -> None:
    splitter = BlockSplitter()
    splitter.feed("```python\n" + "".join(f"line {i}\n" for i in range(1000)))
    visible = splitter.visible_tail(lines=5, columns=80)
    assert visible.split("\n") == ["```python", "line 996", "line 997", "line 998", "line 999", ""]


def test_visible_tail_of_a_huge_line_is_bounded() -> None:
    splitter = BlockSplitter()
    splitter.feed("x" * 1_000_000)
    assert len(splitter.visible_tail(lines=10, columns=80)) == 800
