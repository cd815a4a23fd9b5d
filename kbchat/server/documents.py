"""Documents into passages: pure text handling for the local knowledge base.

A document is a Markdown or text file. Optional header lines at its very top set
metadata: `tags: A, B` (its tag_names) and `category: X` (its category_name); so does
YAML front matter between `---` lines (`title`, `description`, `tags`, `category`), as
static-site generators write it. The rest is split at headings and blank lines into
passages of a readable size.

Anyone who can drop a file in the docs folder chooses this text, and the whole server
waits while it is read: every pass here is linear in the text's size (no pattern that
can backtrack over the rest of a line, no scan restarted from every position), and a
paragraph too long to be one passage is cut into several (tests/test_serve_limits.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kbchat.fences import Fences, closes, opener

MAX_PASSAGE = 1200  # characters: paragraphs join up to this size, longer ones stand alone
MAX_BLOCK = 4 * MAX_PASSAGE  # characters: a longer paragraph or code block is cut into passages this long
_HEADER_LINE = re.compile(r"^(tags|category)\s*:\s*(.*)$", re.IGNORECASE)
_FRONT_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
_FRONT_ITEM = re.compile(r"^\s+-\s+(.*)$")
FRONT_MATTER_LINES = 100  # a `---` line further down is a rule, not the end of front matter
# Each bracket run stops at the next opening bracket too, so a failed match never rescans
# the rest of the line from every `[` (80,000 of them took 2 s; now 20 ms).
_LINK = re.compile(r"!?\[[^\[\]\n]*\]\([^()\n]*\)|<https?://[^<>\n]*>|https?://\S+")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Section:
    """A passage of a document as read from its file: the text under one heading (or a piece of a long one)."""

    heading: str  # the nearest heading above it ("" before the first one)
    text: str
    listing: float = 0.0  # the share of its lines that are mostly links: a table of contents is 1.0


@dataclass(frozen=True)
class Document:
    title: str
    tags: tuple[str, ...] = ()
    category: str = ""
    passages: tuple[Section, ...] = field(default_factory=tuple)
    description: str = ""  # front matter's one-line summary: searched with the title


def parse_document(text: str, fallback_title: str) -> Document:
    """Front matter or header lines, title (front matter's, the first heading, else the file name) and passages."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fields = front_matter(lines)
    start = 0
    while start < len(lines) and (match := _HEADER_LINE.match(lines[start].strip())):
        fields[match[1].lower()] = match[2]
        start += 1
    del lines[:start]  # once: popping each line off the front moved all the rest each time
    tags = fields.get("tags", "").strip().strip("[]")
    lines = without_comments(lines)
    passages = split_passages(lines)
    title = (
        _unquote(fields.get("title", ""))
        or next((found[1] for line in lines if (found := heading_of(line))), "")
        or fallback_title
    )
    return Document(
        title=title,
        tags=tuple(dict.fromkeys(t for t in (_unquote(t) for t in tags.split(",")) if t)),
        category=_unquote(fields.get("category", "")),
        passages=tuple(passages),
        description=_unquote(fields.get("description", "")),
    )


def front_matter(lines: list[str]) -> dict[str, str]:
    """YAML front matter's simple fields, removed from `lines`; a block list becomes `a, b`.

    Only `key: value` lines and `- item` lists are read; anything fancier is left unread
    (and not shown as text either).
    """
    if not lines or lines[0].strip() != "---":
        return {}
    end = next((i for i in range(1, min(len(lines), FRONT_MATTER_LINES)) if lines[i].strip() in ("---", "...")), 0)
    if not end:
        return {}
    fields: dict[str, str] = {}
    key = ""
    for line in lines[1:end]:
        if (match := _FRONT_FIELD.match(line)) is not None:
            key = match[1].lower()
            fields[key] = match[2].strip()
        elif key and (item := _FRONT_ITEM.match(line)) is not None:
            fields[key] = ", ".join(part for part in (fields[key], item[1].strip()) if part)
    del lines[: end + 1]
    return fields


def heading_of(line: str) -> tuple[int, str] | None:
    """An ATX heading's level and text (`## Plans ##` → 2, "Plans"), or None.

    Written out, not a pattern: `^(#{1,6})\\s+(.*?)\\s*#*\\s*$` took 22 s over one heading
    line of 2,000 spaces (each lazy step rescanned the spaces after it).
    """
    level = len(line) - len(line.lstrip("#"))
    if not 1 <= level <= 6 or not line[level : level + 1].isspace():
        return None
    return level, line[level:].strip().rstrip("#").rstrip()


def without_comments(lines: list[str]) -> list[str]:
    """The lines without HTML comments (`<!-- YAML added: v18.11.0 -->`), which no reader of the
    rendered page sees; code blocks keep theirs."""
    kept: list[str] = []
    prose: list[str] = []
    code = Fences(nested=True)
    for line in lines:
        if code.step(line):
            if prose:
                kept += uncommented("\n".join(prose)).split("\n")
                prose.clear()
            kept.append(line)
        else:
            prose.append(line)
    if prose:
        kept += uncommented("\n".join(prose)).split("\n")
    return kept


def uncommented(text: str) -> str:
    """The text without `<!-- … -->` comments; an unclosed one stays as written.

    Found with `str.find`, left to right, once: the pattern `<!--.*?-->` scanned to the
    end from every unclosed `<!--` (60,000 of them held the server for 50 s).
    """
    if "<!--" not in text:
        return text
    kept: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break  # no comment closes after here, so none of the later openers closes either
        kept.append(text[position:start])
        position = end + 3
    kept.append(text[position:])
    return "".join(kept)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value.strip()


def listing_share(text: str) -> float:
    """The share of the text's lines that are mostly links (a table of contents, a "see also" list)."""
    if "](" not in text and "http" not in text:
        return 0.0  # no link at all: most passages, and the quick answer
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return 0.0
    linked = 0
    for line in lines:
        body = _LIST_MARK.sub("", line).strip()
        if sum(len(m[0]) for m in _LINK.finditer(body)) * 2 >= len(body):
            linked += 1
    return linked / len(lines)


def split_passages(lines: list[str]) -> list[Section]:
    """Blocks between blank lines, grouped under their heading, joined up to MAX_PASSAGE."""
    passages: list[Section] = []
    heading = ""
    group: list[str] = []
    block: list[str] = []
    code = Fences(nested=True)
    size = 0  # characters in `group`, joined

    def end_block() -> None:
        nonlocal size
        if block:
            text = "\n".join(block).strip()
            for piece in cut_block(text) if len(text) > MAX_BLOCK else [text] if text else []:
                if group and size + len(piece) > MAX_PASSAGE:
                    end_group()
                size += len(piece) + 2 * bool(group)
                group.append(piece)
            block.clear()

    def end_group() -> None:
        nonlocal size
        if group:
            text = "\n\n".join(group)
            passages.append(Section(heading, text, listing_share(text)))
            group.clear()
            size = 0

    for line in lines:
        if code.step(line):
            block.append(line)  # blank lines and `#` lines in code are code
            continue
        found = heading_of(line)
        if found:
            end_block()
            end_group()
            heading = found[1]
        elif not line.strip():
            end_block()
        else:
            block.append(line)
    end_block()
    end_group()
    return passages


def cut_block(text: str, limit: int = MAX_BLOCK) -> list[str]:
    """A paragraph or code block too long for one passage, as pieces of at most `limit` characters.

    A code block's pieces are each fenced again, so every passage reads as code.
    """
    fence = opener(text, nested=True)
    if not fence:
        return cut_text(text, limit)
    lines = text.split("\n")
    closed = len(lines) > 1 and closes(fence, lines[-1], nested=True)
    body = "\n".join(lines[1 : -1 if closed else None])
    room = max(limit - 2 * (len(lines[0]) + 1), limit // 2)
    return [f"{lines[0]}\n{piece}\n{fence}" for piece in cut_text(body, room)]


def cut_text(text: str, limit: int) -> list[str]:
    """The text in pieces of at most `limit` characters, in one pass.

    Each cut falls at the last line end before the limit, else the last sentence end,
    else the last space, else at the limit itself (a 5 MB line of one word).
    """
    pieces = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        cut = end
        for boundary, keep in (("\n", 0), (". ", 1), (" ", 0)):
            found = text.rfind(boundary, start, end)
            if found > start + limit // 4:
                cut = found + keep
                break
        pieces.append(text[start:cut].strip())
        start = cut
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def title_from_path(name: str) -> str:
    """`plans-and-pricing.md` → `Plans and pricing`."""
    stem = name.rsplit(".", 1)[0].replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:]
