"""`kbchat doctor`'s lines: a mark, the check's name, what was found and how long it took.

On a terminal a long detail wraps under itself, and below 60 columns it goes on a line
of its own; piped, each check is exactly one line, for grep.
"""

from __future__ import annotations

import shutil
import textwrap

from kbchat.checks import Check
from kbchat.safe import one_line
from kbchat.terminal import Terminal

MARKS = {True: ("✓", "32"), False: ("✗", "31"), None: ("-", "2")}
NAME = 20  # the name column
NARROW = 60  # below this many columns the detail starts on its own line


class CheckLines:
    def __init__(self, term: Terminal) -> None:
        self.term = term
        self.width = shutil.get_terminal_size().columns if term.is_tty else 0

    def show(self, check: Check) -> None:
        mark, sgr = MARKS[check.ok]
        took = f"  ({check.ms:.0f} ms)" if check.ms is not None and check.ok is not None else ""
        detail = one_line(check.detail) + took
        head = f"{self.term.paint(mark, sgr)} {check.name:<{NAME}}"
        if not self.width:
            print(f"{head} {detail}", file=self.term.out, flush=True)
            return
        if self.width < NARROW:
            body = textwrap.wrap(detail, self.width - 4) or [""]
            print(head.rstrip() + "\n" + "\n".join("    " + line for line in body), file=self.term.out, flush=True)
            return
        indent = " " * (NAME + 3)
        body = textwrap.wrap(detail, self.width - len(indent)) or [""]
        print(head + " " + body[0], *(indent + line for line in body[1:]), sep="\n", file=self.term.out, flush=True)
