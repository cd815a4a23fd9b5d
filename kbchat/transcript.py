"""Exchanges as Markdown, for the chat's /save and `kbchat log export`. Pure.

Each question is a heading (on one line), its answer under it, then how it ended when
it did not end well. The file is read later, on a terminal too: the answers' control
characters are made visible, and no secret kbchat holds is in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from kbchat.safe import redact, terminal_safe


class Written(NamedTuple):
    question: str
    answer: str
    note: str = ""  # "cancelled", or the error that ended it
    about: str = ""  # a line under the heading: when, where, how long


def exchanges_markdown(title: str, exchanges: Iterable[Written], secret: str | None = None) -> str:
    """`# title`, then each exchange: `## question`, the about line in italics, the answer, the note."""
    return "".join(markdown_parts(title, exchanges, secret))


def markdown_parts(title: str, exchanges: Iterable[Written], secret: str | None = None) -> Iterator[str]:
    """The same Markdown in parts, the title first, then one part an exchange (an export holds one at a time)."""

    def clean(text: str) -> str:
        text = terminal_safe(redact(text))
        return text.replace(secret, "****") if secret else text

    yield clean(f"# {title}\n")
    for question, answer, note, about in exchanges:
        parts = [f"## {' '.join(question.split())}\n"]
        if about:
            parts.append(f"*{about}*\n")
        parts.append(f"{answer.rstrip()}\n")
        if note:
            parts.append(f"*[{' '.join(note.split())}]*\n")
        yield clean("\n" + "\n".join(parts))
