"""`kbchat log`'s work, Typer-free: kbchat.cli lists the log without loading Typer.

The log is read where it is (KBCHAT_LOG, else the data dir); while no answer has been
logged there is no file, and reading never creates one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kbchat.errors import UsageError

if TYPE_CHECKING:
    from kbchat.answer_log import AnswerLog
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

    with reading(no_color) as (term, answer_log):
        entries = answer_log.entries(10 if count is None else count, query or "", tenant or "") if answer_log else []
        if not entries:
            say("the answer log is empty" if answer_log is None or not answer_log.last() else "no entries match")
            return
        term.page(entry_json(entries, term) if json else entry_list(entries, term), pager=not no_pager and not json)


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
    """`kbchat log export`: Markdown, to stdout or a file of mode 0600."""
    from kbchat.render.entries import entries_markdown

    with reading(no_color=False) as (term, answer_log):
        entries = answer_log.entries(count, query or "", tenant or "") if answer_log else []
        text = entries_markdown(entries)
        if output is None:
            term.page(text, pager=not no_pager)
            return
        write_private(output, text)
        say(f"exported {entries_count(len(entries))} to {output}")


def rm_command(ids: Sequence[str], all: bool = False) -> None:
    """`kbchat log rm`: these entries, or all of them; an unknown id removes nothing."""
    with reading(no_color=False) as (_, answer_log):
        if bool(ids) == all:
            raise UsageError("name the entries to remove (kbchat log rm 3 4), or --all, not both")
        if all:
            removed = answer_log.clear() if answer_log else 0
        else:
            bad = next((i for i in ids if not i.isdigit()), None)
            if bad is not None or answer_log is None:
                raise UsageError(f"no log entry {bad or ids[0]} (kbchat log lists them)")
            removed = answer_log.remove([int(i) for i in ids])
        say(f"removed {entries_count(removed)}")


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


def write_private(path: Path, text: str) -> None:
    """Write an export: it holds answers, so it is made readable by its owner only (0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None


def entries_count(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def say(text: str) -> None:
    print(f"kbchat: {text}", file=sys.stderr)
