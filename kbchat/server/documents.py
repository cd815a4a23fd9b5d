"""Documents into passages: pure text handling for the local knowledge base.

A document is a Markdown or text file. Optional header lines at its very top set
metadata: `tags: A, B` (its tag_names) and `category: X` (its category_name); so does
YAML front matter between `---` lines (`title`, `description`, `tags`, `category`), as
static-site generators write it. The rest is split at headings and blank lines into
passages of a readable size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kbchat.fences import Fences

MAX_PASSAGE = 1200  # characters: paragraphs join up to this size, longer ones stand alone
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HEADER_LINE = re.compile(r"^(tags|category)\s*:\s*(.*)$", re.IGNORECASE)
_FRONT_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
_FRONT_ITEM = re.compile(r"^\s+-\s+(.*)$")
FRONT_MATTER_LINES = 100  # a `---` line further down is a rule, not the end of front matter
_LINK = re.compile(r"!?\[[^\]]*\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Passage:
    heading: str  # the nearest heading above it ("" before the first one)
    text: str
    listing: float = 0.0  # the share of its lines that are mostly links: a table of contents is 1.0


@dataclass(frozen=True)
class Document:
    title: str
    tags: tuple[str, ...] = ()
    category: str = ""
    passages: tuple[Passage, ...] = field(default_factory=tuple)
    description: str = ""  # front matter's one-line summary: searched with the title


def parse_document(text: str, fallback_title: str) -> Document:
    """Front matter or header lines, title (front matter's, the first heading, else the file name) and passages."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fields = front_matter(lines)
    while lines and (match := _HEADER_LINE.match(lines[0].strip())):
        fields[match[1].lower()] = match[2]
        lines.pop(0)
    tags = fields.get("tags", "").strip().strip("[]")
    lines = without_comments(lines)
    passages = split_passages(lines)
    title = (
        _unquote(fields.get("title", ""))
        or next((m[2] for line in lines if (m := _HEADING.match(line))), "")
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


def without_comments(lines: list[str]) -> list[str]:
    """The lines without HTML comments (`<!-- YAML added: v18.11.0 -->`), which no reader of the
    rendered page sees; code blocks keep theirs."""
    kept: list[str] = []
    prose: list[str] = []
    code = Fences(nested=True)
    for line in lines:
        if code.step(line):
            if prose:
                kept += _COMMENT.sub("", "\n".join(prose)).split("\n")
                prose.clear()
            kept.append(line)
        else:
            prose.append(line)
    if prose:
        kept += _COMMENT.sub("", "\n".join(prose)).split("\n")
    return kept


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


def split_passages(lines: list[str]) -> list[Passage]:
    """Blocks between blank lines, grouped under their heading, joined up to MAX_PASSAGE."""
    passages: list[Passage] = []
    heading = ""
    group: list[str] = []
    block: list[str] = []
    code = Fences(nested=True)

    def end_block() -> None:
        if block:
            text = "\n".join(block).strip()
            if text:
                if group and len("\n\n".join(group)) + len(text) > MAX_PASSAGE:
                    end_group()
                group.append(text)
            block.clear()

    def end_group() -> None:
        if group:
            text = "\n\n".join(group)
            passages.append(Passage(heading, text, listing_share(text)))
            group.clear()

    for line in lines:
        if code.step(line):
            block.append(line)  # blank lines and `#` lines in code are code
            continue
        heading_match = _HEADING.match(line)
        if heading_match:
            end_block()
            end_group()
            heading = heading_match[2]
        elif not line.strip():
            end_block()
        else:
            block.append(line)
    end_block()
    end_group()
    return passages


def title_from_path(name: str) -> str:
    """`plans-and-pricing.md` → `Plans and pricing`."""
    stem = name.rsplit(".", 1)[0].replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:]
