"""The live tail, calmed: half-typed Markdown closed for the moment, so it shows as it will. Pure.

While a block is being written, `The **API` would flash its asterisks until the closing
pair arrives, and a fence being typed shows its backticks. Only the live view uses this;
what is committed to the scrollback is always the text as written.
"""

from __future__ import annotations

import re

# A line that starts a new inline context: a list item, a heading, a quote. Emphasis never
# spans into the next one, so only the text from the last such line on is healed.
_BLOCK_START = re.compile(r" {0,3}(?:[-*+] |\d{1,9}[.)] |#{1,6}(?: |$)|>)")
# The last line, while it may still become a fence, a heading mark or a table's delimiter row.
_UNFINISHED_LINE = re.compile(r" {0,3}(?:`{3,}[^`]*|`{1,2}|~{3,}.*|~{1,2}|#{1,6}|\|?[\s:|-]*-[\s:|-]*)")
_TABLE_ROW = re.compile(r" {0,3}\|")
_RUN = re.compile(r"\\.|`+|\*+|_+|~~+|\]\(|\[|\]|\)")


def calm_tail(text: str) -> str:
    """The unfinished block as it should look now: open emphasis, code and links closed."""
    head, _, last = text.rpartition("\n")
    if _UNFINISHED_LINE.fullmatch(last) and last.strip():
        text = head
    lines = text.split("\n")
    rows = lines[:-1] if lines and not lines[-1] else lines[:]
    if rows and _TABLE_ROW.match(rows[-1]):
        while rows and _TABLE_ROW.match(rows[-1]):
            rows.pop()  # a table's header, waiting for its delimiter row: drawn as a table once that comes
        lines = rows
    first = 0
    for index, line in enumerate(lines):
        if _BLOCK_START.match(line):
            first = index
    done = "\n".join(lines[:first])
    return done + ("\n" if first else "") + heal("\n".join(lines[first:]))


def heal(text: str) -> str:
    """Close what is open at the end of some inline Markdown; drop an opener with nothing after it."""
    stack: list[tuple[str, int]] = []  # (closing text, where its opener starts)
    code = ""  # the backtick run of an open code span
    for match in _RUN.finditer(text):
        run, start, end = match[0], match.start(), match.end()
        if code:
            if run == code:
                code = ""
                stack.pop()
            continue
        if run[0] == "\\":
            continue
        if run[0] == "`":
            code = run
            stack.append((run, start))
            continue
        if run == "[":
            stack.append(("]", start))
        elif run == "]":
            _close(stack, "]")
        elif run == "](":
            _close(stack, "]")
            stack.append((")", start))
        elif run == ")":
            _close(stack, ")")
        else:
            _emphasis(stack, text, run, start, end)
    for closer, start in reversed(stack):
        if not text[start:].strip("*_~`[]( "):
            text = text[:start].rstrip(" ") if closer != ")" else text  # nothing typed after it yet
        elif closer == "]":
            text = text[:start] + text[start + 1 :]  # a bracket that is not yet a link shows no [
        else:
            text = text.rstrip(" \t") + closer  # `**Billing **` closes nothing: a closer after a space is none
    return text


def _emphasis(stack: list[tuple[str, int]], text: str, run: str, start: int, end: int) -> None:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    at_end = end == len(text)
    can_close = not before.isspace()
    can_open = not after.isspace() or at_end
    if run[0] == "_":  # an underscore inside a word (snake_case) neither opens nor closes
        can_open = can_open and not before.isalnum()
        can_close = can_close and not after.isalnum()
    if can_close and stack and stack[-1][0] == run:
        stack.pop()
    elif can_open:
        stack.append((run, start))


def _close(stack: list[tuple[str, int]], closer: str) -> None:
    """Pop to the matching opener, dropping emphasis left open inside it."""
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == closer:
            del stack[index:]
            return
