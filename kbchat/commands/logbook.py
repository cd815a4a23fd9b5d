"""`kbchat log`'s work, Typer-free: kbchat.cli lists the log without loading Typer.

The log is read where it is (KBCHAT_LOG, else the data dir); while no answer has been
logged there is no file, and reading never creates one.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kbchat.errors import UsageError
from kbchat.safe import one_line

if TYPE_CHECKING:
    from kbchat.answer_log import AnswerLog, Entry
    from kbchat.terminal import Terminal


def list_command(
    count: int | None = None,
    query: str | None = None,
    tenant: str | None = None,
    json: bool = False,
    no_pager: bool = False,
    no_color: bool = False,
) -> None:
    """`kbchat log`: the last entries, oldest first; paged on a terminal when taller than it."""
    from kbchat.render.entries import entry_json, entry_list

    limit = 10 if count is None else count
    with reading(no_color) as (term, answer_log):
        if answer_log is None:
            say("the answer log is empty")
            return
        if json:  # whole answers, a line each, written as read
            shown = 0
            for shown, entry in enumerate(answer_log.each(limit, query or "", tenant or ""), 1):  # noqa: B007
                term.out.write(entry_json(entry, term))
            term.out.flush()
        else:  # previews: a list never reads long answers whole
            entries = answer_log.entries(limit, query or "", tenant or "", whole=False)
            if entries:
                term.page(entry_list(entries, term), pager=not no_pager)
            shown = len(entries)
        if not shown:
            say("the answer log is empty" if not answer_log.last() else "no entries match")


def show_command(id: str, no_markdown: bool = False, no_pager: bool = False, no_color: bool = False) -> None:
    """`kbchat log show`: rendered as ask draws it on a terminal; the text as received when piped."""
    from kbchat.answer_log import find_in

    with reading(no_color) as (term, answer_log):
        entry = find_in(answer_log, id)
        if not term.is_tty:
            term.out.write(entry.answer + ("\n" if entry.answer and not entry.answer.endswith("\n") else ""))
            return
        from kbchat.render.entries import entry_shown

        term.page(entry_shown(entry, term, markdown=not no_markdown), pager=not no_pager)


def export_command(
    output: Path | None = None,
    count: int | None = None,
    query: str | None = None,
    tenant: str | None = None,
    no_pager: bool = False,
) -> None:
    """`kbchat log export`: Markdown, to stdout or a file of mode 0600, an entry at a time."""
    from kbchat.private import open_private

    with reading(no_color=False) as (term, answer_log):
        entries = answer_log.each(count, query or "", tenant or "") if answer_log else iter(())
        if output is None:
            if no_pager or not term.is_tty:
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
        say(f"exported {entries_count(exported)} to {output}")


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


def rm_command(ids: Sequence[str], all: bool = False) -> None:
    """`kbchat log rm`: these entries, or all of them; an unknown id removes nothing."""
    with reading(no_color=False) as (_, answer_log):
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
        say(f"removed {entries_count(removed)}")
        if quoting:
            one = len(quoting) == 1
            say(f"{', '.join(f'#{id}' for id in quoting)} still quote{'s' * one} a removed question "
                f"(kbchat log rm {' '.join(map(str, quoting))} removes {'it' if one else 'them'} too)")  # fmt: skip


@contextlib.contextmanager
def reading(no_color: bool) -> Iterator[tuple[Terminal, AnswerLog | None]]:
    """The terminal and the log (None while there is no log file yet), errors reported."""
    from kbchat.answer_log import AnswerLog, log_path
    from kbchat.commands.reporting import reported
    from kbchat.terminal import Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported():
        answer_log = AnswerLog.open_existing(log_path(os.environ))
        with contextlib.closing(answer_log) if answer_log else contextlib.nullcontext():
            yield term, answer_log


def entries_count(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def say(text: str) -> None:
    print(f"kbchat: {one_line(text)}", file=sys.stderr)  # a path or a query may hold escapes
