"""The question: words from the command line and/or text piped on stdin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kbchat.errors import UsageError

if TYPE_CHECKING:
    from kbchat.terminal import Terminal

STDIN = "-"


def build_question(words: Sequence[str], stdin_text: str | None, command: str = "ask") -> str:
    """Words joined with spaces, then a blank line and the stdin text; never empty (`command` names the
    command in the error)."""
    typed = " ".join(word for word in words if word != STDIN)
    piped = (stdin_text or "").strip()
    question = f"{typed}\n\n{piped}" if typed.strip() and piped else typed or piped
    if not question.strip():
        raise UsageError(f'empty question: kbchat {command} "your question" (or pipe it on stdin)')
    return question.strip()


def read_stdin(words: Sequence[str], term: Terminal) -> str | None:
    """Stdin's text when it is piped in or `-` asks for it; None when it is a terminal."""
    if STDIN not in words and term.stdin_is_tty:
        return None
    stream = term.stdin
    if stream is None or stream.closed:
        return ""
    try:
        return stream.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError, AttributeError):
        return ""
