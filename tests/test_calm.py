"""The live tail, calmed: what a half-typed block shows while it streams."""

from __future__ import annotations

import pytest

from kbchat.render.calm import calm_tail


@pytest.mark.parametrize(
    ("tail", "shown"),
    [
        ("The **API", "The **API**"),
        ("**Billing ", "**Billing**"),  # a piece ended in a space: a closer after it would close nothing
        ("The *plans and ", "The *plans and*"),
        ("The **", "The"),
        ("The **API*", "The **API**"),
        ("The **API**", "The **API**"),
        ("*one* and _two", "*one* and _two_"),
        ("a ~~gone", "a ~~gone~~"),
        ("run `pip inst", "run `pip inst`"),
        ("run ``a`b", "run ``a`b``"),
        ("`a**b` and **c", "`a**b` and **c**"),
        ("see [docs](https://ex", "see [docs](https://ex)"),
        ("see [do", "see do"),
        ("see [docs] there", "see [docs] there"),
        ("my_var and snake_case_name", "my_var and snake_case_name"),
        ("_emph word_ done", "_emph word_ done"),
        ("_emph wo", "_emph wo_"),
        (r"\*not emphasis", r"\*not emphasis"),
        ("2 * 3 = 6", "2 * 3 = 6"),
        ("- a **x\n- b **y", "- a **x\n- b **y**"),
        ("* item", "* item"),
        ("> quoted **wor", "> quoted **wor**"),
        ("Intro\n```py", "Intro"),
        ("Intro\n``", "Intro"),
        ("Intro\n`code and", "Intro\n`code and`"),
        ("Intro\n#", "Intro"),
        ("| a | b |\n|---|-", ""),
        ("Plans:\n| Plan | Pri", "Plans:"),
        ("Plans:\n| Plan | Price |\n", "Plans:"),
        ("Heading\n---", "Heading"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_calm_tail(tail: str, shown: str) -> None:
    assert calm_tail(tail) == shown
