"""`kbchat ask`: one question, streamed. (The work is in commands/asking.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kbchat.commands.options import QuestionWords, with_options

if TYPE_CHECKING:
    from kbchat.ask_options import AskOptions, CommonOptions
    from kbchat.settings import ConnectionOptions
    from kbchat.terminal import Terminal


@with_options("ask")
def ask(question: QuestionWords = None, *, term: Terminal, connection: ConnectionOptions, options: AskOptions,
        common: CommonOptions) -> None:  # fmt: skip
    """Ask one question; the answer streams in as it is written.

    Words are joined with spaces; with stdin piped in, its text follows the words
    after a blank line. Exit codes: 0 answered, 1 failed, 2 usage, 130 cancelled.
    """
    from kbchat.commands.asking import ask_command

    ask_command(term, words=question or [], connection=connection, options=options, common=common)
