"""The answer log on screen: `kbchat log`'s list, `log show`'s answer, `log export`'s Markdown.

Everything from the log passes the sanitiser: it came from a server once. `--json`
and a piped `log show` are data and keep the text as received (JSON escapes what a
terminal would obey, as `ask --json` does).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from kbchat.answer_log import Entry
from kbchat.render.blocks import is_delimiter_row
from kbchat.safe import json_safe, one_line, terminal_safe
from kbchat.terminal import Terminal
from kbchat.transcript import Written, markdown_parts

if TYPE_CHECKING:
    from kbchat.citing import Citations

PIPED_WIDTH = 120  # columns of `kbchat log` piped, where no terminal says
STATUS_SGR = {"cancelled": "33", "failed": "31"}


def entry_list(entries: Sequence[Entry], term: Terminal) -> str:
    """Two lines an entry: `#id  time  tenant  question`, then how it ended and the answer's start."""
    from rich.cells import cell_len

    width = shutil.get_terminal_size().columns if term.is_tty else PIPED_WIDTH
    lines = []
    for entry in entries:
        head = f"#{entry.id}  {one_line(local_time(entry.time))}  {one_line(entry.tenant)}  "
        question = fit(one_line(entry.question), width - cell_len(head))
        lines.append(term.paint(head, "2") + term.paint(question, "1"))
        status = "" if entry.status == "ok" else f"[{one_line(entry.status)[:20]}] "
        follows = f"(follows #{entry.continues}) " if entry.continues else ""
        preview = fit(
            one_line(plain_words(entry.answer[:PREVIEWED])) or "(no answer)", width - 4 - cell_len(status + follows)
        )
        marks = term.paint(status, STATUS_SGR.get(entry.status, "2")) + term.paint(follows, "2")
        lines.append("    " + marks + preview)
    return "".join(line + "\n" for line in lines)


PREVIEWED = 2000  # characters of an answer a list line is made from: more never fits
_FENCE_LINE = re.compile(r"^ {0,3}(?:`{3,}|~{3,}).*$", re.M)
_LINE_MARK = re.compile(r"^ {0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+)", re.M)
_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\n]*\)")
_MARKERS = re.compile(r"\*\*|~~|`+|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")


def plain_words(markdown: str) -> str:
    """Markdown as the words it shows, for a one-line preview: no `**`, no table pipes, no `#`. Linear."""
    text = _FENCE_LINE.sub("", "\n".join(line for line in markdown.split("\n") if not is_delimiter_row(line)))
    text = _MARKERS.sub("", _LINK.sub(r"\1", _LINE_MARK.sub("", text)))
    lines = (" · ".join(cell.strip() for cell in line.strip().strip("|").split("|")) if "|" in line else line
             for line in text.split("\n"))  # fmt: skip
    return "\n".join(lines)


def entry_json(entry: Entry, term: Terminal) -> str:
    """The entry as one JSON line, for jq; on a terminal, controls in strings escaped."""
    text = json.dumps(entry.to_json(), ensure_ascii=False) + "\n"
    return json_safe(text) if term.is_tty else text


def entry_shown(entry: Entry, term: Terminal, markdown: bool = True) -> str:
    """`log show` on a terminal: the question and when, the answer as `ask` draws it, how it ended, sources."""
    from rich.text import Text

    from kbchat.render.live import make_console, print_whole
    from kbchat.render.table import print_passages

    buffer = io.StringIO()
    shown = dataclasses.replace(term, out=buffer)
    console = make_console(shown)
    console.print(Text(one_line(entry.question), style="bold"))
    console.print(Text(about(entry), style="dim"))
    console.print()
    citations = entry_citations(entry)
    marks = None
    if citations is not None:
        from kbchat.citing import NOT_MARKS, StoredMarks

        marks = StoredMarks(citations)
    answer = terminal_safe(entry.answer)
    print_whole(console, answer.translate(NOT_MARKS) if marks else answer, markdown,
                cancelled=entry.status == "cancelled", cut=entry.status != "ok", marks=marks)  # fmt: skip
    if entry.status == "failed":
        console.print(Text(f"[failed: {one_line(entry.error or 'the answer did not end')}]", style="red"))
    if entry.truncated:
        console.print(Text("[the log kept only the start of this answer]", style="dim"))
    if (sources := entry.shown_sources()) is not None:
        print_passages(shown, sources.passages, sources.query, sources.title)
    if citations is not None:
        from kbchat.render.marks import print_matched

        print_matched(console, citations)
    return buffer.getvalue()


def entry_citations(entry: Entry) -> Citations | None:
    """What `--cite` matched for the entry, as far as it fits its answer (the log is anyone's file)."""
    if entry.citations is None:
        return None
    from kbchat.citing import read_citations

    return read_citations(entry.citations, len(entry.answer))


def entry_plain(entry: Entry) -> str:
    """`log show` piped: the answer as received (a `\\n` if it ends mid-line), then its citations, as `ask --cite`."""
    text = entry.answer + ("\n" if entry.answer and not entry.answer.endswith("\n") else "")
    if (citations := entry_citations(entry)) is not None:
        from kbchat.citing import plain_lines

        text += "".join(line + "\n" for line in plain_lines(entry.answer, citations))
    return text


def entries_markdown(entries: Iterable[Entry]) -> Iterator[str]:
    """`log export`: the title, then each exchange under its question, with when and where, how it ended,
    its sources; in parts, an entry at a time."""

    def written(entry: Entry) -> Written:
        answer = entry.answer
        if (sources := entry.shown_sources()) is not None:
            listed = "".join(f"- {p.label}\n" for p in sources.passages)
            answer = f"{answer.rstrip()}\n\n{sources.title}:\n\n{listed}"
        note = "" if entry.status == "ok" else entry.status + (f": {entry.error}" if entry.error else "")
        return Written(entry.question, answer, note, about(entry))

    return markdown_parts("kbchat answer log", (written(entry) for entry in entries))


def about(entry: Entry) -> str:
    """`#12 · 2026-11-30 09:14 · acme · 1.2 s · follows #11`."""
    parts = [f"#{entry.id}", one_line(local_time(entry.time)), one_line(entry.tenant)]
    if entry.duration_ms is not None:
        parts.append(f"{entry.duration_ms / 1000:.1f} s")
    if entry.continues:
        parts.append(f"follows #{entry.continues}")
    return " · ".join(part for part in parts if part)


def local_time(stamp: str) -> str:
    """An ISO 8601 UTC time as the local `YYYY-MM-DD HH:MM`; as it is if it is not one."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def fit(text: str, width: int) -> str:
    """The text cut to `width` terminal cells, with … when cut."""
    from rich.cells import cell_len, set_cell_size

    width = max(width, 10)
    return text if cell_len(text) <= width else set_cell_size(text, width - 1).rstrip() + "…"
