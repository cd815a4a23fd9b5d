"""Exchanges as Markdown, for the chat's /save and `kbchat log export`. Pure.

Each question is a heading (on one line), its answer under it, then how it ended when
it did not end well. The file is read later, on a terminal too: the answers' control
characters are made visible, and no secret kbchat holds is in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from kbchat.safe import redact, terminal_safe


class Written(NamedTuple):
    question: str
    answer: str
    note: str = ""  # "cancelled", or the error that ended it
    about: str = ""  # a line under the heading: when, where, how long


def exchanges_markdown(title: str, exchanges: Iterable[Written], secret: str | None = None) -> str:
    """`# title`, then each exchange: `## question`, the about line in italics, the answer, the note."""
    parts = [f"# {title}\n"]
    for question, answer, note, about in exchanges:
        parts.append(f"## {' '.join(question.split())}\n")
        if about:
            parts.append(f"*{about}*\n")
        parts.append(f"{answer.rstrip()}\n")
        if note:
            parts.append(f"*[{' '.join(note.split())}]*\n")
    text = terminal_safe(redact("\n".join(parts)))
    return text.replace(secret, "****") if secret else text
