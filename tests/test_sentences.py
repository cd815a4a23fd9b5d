"""An answer's sentences for --cite: Markdown decides the units, and code is never in one."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbchat.render.blocks import BlockSplitter
from kbchat.sentences import in_piece, sentences
from tests.linearity import assert_linear


def split(text: str) -> list[str]:
    return [text[start:end] for start, end in sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Team costs $79.50 a month. Next.", ["Team costs $79.50 a month.", "Next."]),
        ("Use v2.1 or later. It works.", ["Use v2.1 or later.", "It works."]),
        ("Edit config.toml first. Then run it.", ["Edit config.toml first.", "Then run it."]),
        ("See https://x.example/a.b?c=d. Done.", ["See https://x.example/a.b?c=d.", "Done."]),
        ("Tools, e.g. Slack and Teams, work. So do webhooks.", ["Tools, e.g. Slack and Teams, work.", "So do webhooks."]),
        ("Dashboards, Pipelines etc. are included. Yes.", ["Dashboards, Pipelines etc. are included.", "Yes."]),
        ("Wait... what? Really.", ["Wait... what?", "Really."]),
        ("It ends here. and goes on in lower case.", ["It ends here. and goes on in lower case."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("**Bold claim.** Next one.", ["**Bold claim.**", "Next one."]),
        ("(An aside.) The point.", ["(An aside.)", "The point."]),
        ("Run `os.path. Join` now. Done.", ["Run `os.path. Join` now.", "Done."]),
        ("A ``code `with. Ticks` `` span. End.", ["A ``code `with. Ticks` `` span.", "End."]),
        ("An unclosed ` tick. Ends here.", ["An unclosed ` tick.", "Ends here."]),
        ("A line\nwrapped. Second.", ["A line\nwrapped.", "Second."]),
        ("- Item one. Still one.\n- Item two", ["Item one. Still one.", "Item two"]),
        ("1. First step.\n2. Second step.\n   goes on", ["First step.", "Second step.\n   goes on"]),
        ("Intro line:\n- a point", ["Intro line:", "a point"]),
        ("> Quoted. Two.", ["Quoted.", "Two."]),
        ("# Heading\n\nText.", ["Text."]),
        ("Title\n=====\n\nText.", ["Text."]),
        ("Text.\n\n---\n\nMore.", ["Text.", "More."]),
        ("**Plans and pricing** (`plans.md`)\n\nText.", ["Text."]),
        ("**Refunds:**\n\nText.", ["Text."]),
        ("**Note:** this one is a sentence.", ["**Note:** this one is a sentence."]),
        ("| plan | price |\n| --- | --- |\n| Team | $29 |\n| Pro | $79 |", ["Team | $29", "Pro | $79"]),
        ("Before.\n\n```py\nx = 1. Not. A sentence.\n```\n\nAfter.", ["Before.", "After."]),
        ("Before.\n\n    indented code. Here.\n\nAfter.", ["Before.", "After."]),
        ("", []),
        ("...", []),
    ],
)  # fmt: skip
def test_sentences(text: str, expected: list[str]) -> None:
    assert split(text) == expected


MARKDOWN = st.lists(
    st.sampled_from(
        [
            "Plans cost $9.50. ",
            "See `a.b. C`. ",
            "e.g. this. ",
            "- item. ",
            "1. step\n",
            "# Head\n",
            "\n",
            "\n\n",
            "```\ncode. Here.\n```\n",
            "| a | b |\n| - | - |\n| c. | d |\n",
            "> quote. ",
            "**bold.** ",
            "x",
            ".",
            " ",
            "`",
            "*",
            "|",
        ]
    ),
    max_size=25,
).map("".join)


@given(MARKDOWN)
def test_spans_slice_the_answer_in_order_and_trimmed(text: str) -> None:
    last = 0
    for start, end in sentences(text):
        assert last <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        last = end


@given(MARKDOWN)
def test_code_blocks_are_never_inside_a_sentence(text: str) -> None:
    splitter = BlockSplitter(markdown=True)
    pieces = splitter.feed(text)
    code = [(p.at, p.at + len(p.text)) for p in pieces if p.kind in ("open", "code", "close") and p.text]
    if splitter.fence and splitter.tail:
        code.append((splitter.last_piece().at, len(text)))
    for start, end in sentences(text):
        assert not any(start < code_end and code_start < end for code_start, code_end in code), text[start:end]


@given(MARKDOWN, st.lists(st.integers(0, 200), max_size=5))
def test_block_by_block_as_drawn_is_the_whole_answer_split(text: str, cuts: list[int]) -> None:
    """The live view marks each block as it commits it: the same sentences as the whole answer has."""
    splitter = BlockSplitter(markdown=True)
    bounds = [0, *sorted(c for c in cuts if c <= len(text)), len(text)]
    found = [s for a, b in itertools.pairwise(bounds) for p in splitter.feed(text[a:b]) for s in in_piece(p)]
    if splitter.has_tail():
        found += in_piece(splitter.last_piece())
    assert found == sentences(text)


@pytest.mark.parametrize(
    "shape",
    [
        lambda n: "word. " * n,
        lambda n: "`" * n,
        lambda n: "` x " * n,
        lambda n: "a" * (8 * n),
        lambda n: "." * (8 * n),
        lambda n: "**" + "** x" * n,
        lambda n: "**" + "**(" * n,
        lambda n: "- item.\n" * n,
        lambda n: "| a. | b |\n| - | - |\n" + "| c. | d |\n" * n,
        lambda n: "e.g. " * n,
        lambda n: "> " * n,
    ],
)
def test_every_shape_is_split_in_linear_time(shape) -> None:  # type: ignore[no-untyped-def]
    assert_linear(sentences, shape, 5000, "sentences")
