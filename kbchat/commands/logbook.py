"""`kbchat log`'s work, Typer-free: kbchat.cli lists the log without loading Typer.

The log is read where it is (KBCHAT_LOG, else the data dir); while no answer has been
logged there is no file, and reading never creates one.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kbchat.declared import option
from kbchat.errors import UsageError

if TYPE_CHECKING:
    from kbchat.answer_log import AnswerLog, Entry
    from kbchat.ask_options import CommonOptions
    from kbchat.terminal import Terminal


@dataclass(frozen=True)
class LogListing:
    """Which entries, and how: `kbchat log` and `kbchat log export`."""

    count: int | None = option(None, "--count", "-n", kind=int, metavar="N", minimum=0, help="the last N entries")
    query: str | None = option(
        None, "--query", "-q", kind=str, metavar="TEXT",
        help='only entries whose question or answer match TEXT: words, "a phrase", OR, NOT, prefix*',
    )  # fmt: skip
    tenant: str | None = option(None, "--tenant", "-t", kind=str, metavar="ID", help="only this tenant's entries")
    json: bool = option(False, "--json", help="one JSON object per entry and line")
    no_pager: bool = option(False, "--no-pager", help="print directly, even when taller than the screen")


def list_command(term: Terminal, *, listing: LogListing, common: CommonOptions) -> None:
    """`kbchat log`: the last entries, oldest first; paged on a terminal when taller than it."""
    from kbchat.render.entries import entry_json, entry_list

    limit = 10 if listing.count is None else listing.count
    query, tenant = listing.query or "", listing.tenant or ""
    term = term.without_color() if common.no_color else term
    with reading(term) as answer_log:
        if answer_log is None:
            term.say("kbchat: the answer log is empty")
            return
        if listing.json:  # whole answers, a line each, written as read
            shown = 0
            for shown, entry in enumerate(answer_log.each(limit, query, tenant), 1):  # noqa: B007
                term.out.write(entry_json(entry, term))
            term.out.flush()
        else:  # previews: a list never reads long answers whole
            entries = answer_log.entries(limit, query, tenant, whole=False)
            if entries:
                term.page(entry_list(entries, term), pager=not listing.no_pager)
            shown = len(entries)
        if not shown:
            term.say("kbchat: " + ("the answer log is empty" if not answer_log.last() else "no entries match"))


def show_command(term: Terminal, id: str, markdown: bool = True, no_pager: bool = False) -> None:
    """`kbchat log show`: rendered as ask draws it on a terminal; the text as received when piped."""
    from kbchat.answer_log import find_in

    with reading(term) as answer_log:
        entry = find_in(answer_log, id)
        from kbchat.render.entries import entry_plain, entry_shown

        if not term.is_tty:
            term.out.write(entry_plain(entry))
            return
        term.page(entry_shown(entry, term, markdown=markdown), pager=not no_pager)


def export_command(term: Terminal, output: Path | None, listing: LogListing) -> None:
    """`kbchat log export`: Markdown, to stdout or a file of mode 0600, an entry at a time."""
    from kbchat.private import open_private

    with reading(term) as answer_log:
        entries = answer_log.each(listing.count, listing.query or "", listing.tenant or "") if answer_log else iter(())
        if output is None:
            if listing.no_pager or not term.is_tty:
                exported = write_markdown(term.out, entries)
                term.out.flush()
            else:
                buffer = io.StringIO()
                exported = write_markdown(buffer, entries)
                term.page(buffer.getvalue())
            return
        try:
            with open_private(output) as file:
                exported = write_markdown(file, entries)
        except OSError as err:
            raise UsageError(f"cannot write {output}: {err.strerror}") from None
        term.say(f"kbchat: exported {entries_count(exported)} to {output}")


def write_markdown(out: TextIO, entries: Iterable[Entry]) -> int:
    """The entries as Markdown, written one at a time; how many."""
    from kbchat.render.entries import entries_markdown

    parts = entries_markdown(entries)
    out.write(next(parts))  # the title
    count = 0
    for part in parts:
        out.write(part)
        count += 1
    return count


def rm_command(term: Terminal, ids: Sequence[str], all: bool = False) -> None:
    """`kbchat log rm`: these entries, or all of them; an unknown id removes nothing."""
    with reading(term) as answer_log:
        if bool(ids) == all:
            raise UsageError("name the entries to remove (kbchat log rm 3 4), or --all, not both")
        quoting: list[int] = []
        if all:
            removed = answer_log.clear() if answer_log else 0
        else:
            from kbchat.answer_log import entry_id

            numbers = [entry_id(i) for i in ids]
            if answer_log is None:
                raise UsageError(f"no log entry {numbers[0]} (the log is empty)")
            removed, quoting = answer_log.remove(numbers)
        term.say(f"kbchat: removed {entries_count(removed)}")
        if quoting:
            one = len(quoting) == 1
            term.say(f"kbchat: {', '.join(f'#{id}' for id in quoting)} still quote{'s' * one} a removed question "
                f"(kbchat log rm {' '.join(map(str, quoting))} removes {'it' if one else 'them'} too)")  # fmt: skip


@contextlib.contextmanager
def reading(term: Terminal) -> Iterator[AnswerLog | None]:
    """The log (None while there is no log file yet), errors reported."""
    from kbchat.answer_log import AnswerLog, log_path
    from kbchat.commands.reporting import reported

    with reported(term):
        answer_log = AnswerLog.open_existing(log_path(os.environ))
        with contextlib.closing(answer_log) if answer_log else contextlib.nullcontext():
            yield answer_log


def entries_count(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"
