"""Documents into passages: pure text handling for the local knowledge base.

A document is a Markdown or text file. Optional header lines at its very top set
metadata: `tags: A, B` (its tag_names) and `category: X` (its category_name). The
rest is split at headings and blank lines into passages of a readable size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PASSAGE = 1200  # characters: paragraphs join up to this size, longer ones stand alone
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HEADER_LINE = re.compile(r"^(tags|category)\s*:\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    heading: str  # the nearest heading above it ("" before the first one)
    text: str


@dataclass(frozen=True)
class Document:
    title: str
    tags: tuple[str, ...] = ()
    category: str = ""
    passages: tuple[Passage, ...] = field(default_factory=tuple)


def parse_document(text: str, fallback_title: str) -> Document:
    """Header lines, title (first heading, else the file name) and passages."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tags: tuple[str, ...] = ()
    category = ""
    while lines and (match := _HEADER_LINE.match(lines[0].strip())):
        key, value = match[1].lower(), match[2]
        if key == "tags":
            tags = tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
        else:
            category = value.strip()
        lines.pop(0)
    passages = split_passages(lines)
    title = next((m[2] for line in lines if (m := _HEADING.match(line))), "") or fallback_title
    return Document(title=title, tags=tags, category=category, passages=tuple(passages))


def split_passages(lines: list[str]) -> list[Passage]:
    """Blocks between blank lines, grouped under their heading, joined up to MAX_PASSAGE."""
    passages: list[Passage] = []
    heading = ""
    group: list[str] = []
    block: list[str] = []
    in_fence = False

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
            passages.append(Passage(heading, "\n\n".join(group)))
            group.clear()

    for line in lines:
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            block.append(line)
            continue
        heading_match = None if in_fence else _HEADING.match(line)
        if heading_match:
            end_block()
            end_group()
            heading = heading_match[2]
        elif not line.strip() and not in_fence:
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
