"""How to ask and show one answer: AskOptions, declared once for the command line and the chat.

`ask` and `demo QUESTION` take them all, the chat those it can change as it goes
(CHAT_TAKES; a field with a `toggle` is also `/NAME on|off` in the chat), and the Asker
reads them. Adding an answer option is two edits: its field here, and where it acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kbchat.declared import declarations, default_of, option
from kbchat.errors import UsageError

if TYPE_CHECKING:
    from kbchat.render import Mode

OUT = "Output"
MODES = ("rich", "plain", "json", "code")


@dataclass(frozen=True)
class AskOptions:
    """One answer's options, as given on the command line (or changed in the chat)."""

    rich: bool = option(False, "--rich", help="render for a terminal (default when stdout is one)", panel=OUT)
    plain: bool = option(False, "--plain", help="the text as it arrives (default when piped)", panel=OUT)
    json: bool = option(False, "--json", help="one JSON object per stream event", panel=OUT)
    code: bool = option(False, "--code", help="only the code blocks of the answer (exit 1 if none)", panel=OUT)
    output: Path | None = option(
        None, "--output", "-o", kind=Path, metavar="FILE", help="also write the plain answer to FILE", panel=OUT
    )
    markdown: bool = option(
        True, "--no-markdown", sets=False, help="show the text literally", panel=OUT,
        toggle="render answers as Markdown, or show them literally",
    )  # fmt: skip
    no_stream: bool = option(
        False, "--no-stream", help="ask /v1/kb/chat: the whole answer at once, with its sources", panel=OUT
    )
    sources: bool = option(
        False, "--sources", help="also list the closest passages (a search beside the answer)", panel=OUT,
        toggle="list the closest passages under each answer (a search beside it)",
    )  # fmt: skip
    cite: bool | None = option(
        None, "--cite", help="mark which sentences the closest passages support (matched here) [config cite]",
        panel=OUT, toggle="mark which sentences of each answer the closest passages support",
    )  # fmt: skip
    follow: bool = option(
        False, "--continue", "-c", help="a follow-up of the last logged exchange: its question goes along"
    )
    cid: str | None = option(
        None, "--cid", kind=str, metavar="ID", help="a follow-up of logged exchange ID (kbchat log lists them)"
    )

    @property
    def mode(self) -> Mode:
        """The mode --rich/--plain/--json/--code ask for; AUTO when none does."""
        from kbchat.render import Mode

        chosen = [name for name in MODES if getattr(self, name)]
        if len(chosen) > 1:
            raise UsageError(f"choose one output mode, not {' and '.join('--' + c for c in chosen)}")
        return Mode(chosen[0]) if chosen else Mode.AUTO

    @property
    def follows(self) -> str | None:
        """The exchange a follow-up continues: `last` (-c), an id (--cid), or None."""
        if self.follow and self.cid:
            raise UsageError("--continue follows the last exchange, --cid ID another: give one of them")
        return "last" if self.follow else self.cid

    def one_answer_flags(self) -> list[str]:
        """The options given that shape a single answer, which the chat does not take (`demo --json` alone)."""
        return [declared.flags[0] for name, declared in declarations(AskOptions).items()
                if name not in CHAT_TAKES and getattr(self, name) != default_of(AskOptions, name)]  # fmt: skip

    def check(self) -> None:
        """Say a conflict before anything is sent."""
        self.mode  # noqa: B018
        self.follows  # noqa: B018


CHAT_TAKES = frozenset({"markdown", "sources", "cite"})  # what `kbchat chat` takes of these; it changes them with /NAME


@dataclass(frozen=True)
class CommonOptions:
    """What every command that shows an answer or a table takes."""

    verbose: bool = option(False, "--verbose", "-v", help="trace requests and skipped events on stderr")
    no_color: bool = option(False, "--no-color", help="no colours (also NO_COLOR)", panel=OUT)
    debug: bool = option(False, "--debug", help="show a traceback for unexpected errors", hidden=True)
