"""Building the question from words and piped stdin."""

from __future__ import annotations

import pytest

from kbchat.errors import UsageError
from kbchat.question import build_question


@pytest.mark.parametrize(
    ("words", "stdin", "expected"),
    [
        (["what", "are", "the", "products"], None, "what are the products"),
        (["what are", "plans?"], None, "what are plans?"),
        (["-"], "piped question\n", "piped question"),
        ([], "piped question\n", "piped question"),
        (["summarise"], "some text\nmore\n", "summarise\n\nsome text\nmore"),
        (["summarise", "-"], "body", "summarise\n\nbody"),
        (["q"], "", "q"),
        (["q"], "  \n", "q"),
    ],
)
def test_build_question(words: list[str], stdin: str | None, expected: str) -> None:
    assert build_question(words, stdin) == expected


@pytest.mark.parametrize(("words", "stdin"), [([], None), ([" "], None), (["-"], ""), ([], " \n\t"), (["", ""], "")])
def test_empty_question_is_a_usage_error(words: list[str], stdin: str | None) -> None:
    with pytest.raises(UsageError, match="empty question"):
        build_question(words, stdin)
