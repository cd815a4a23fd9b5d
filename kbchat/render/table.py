"""Search results and sources: a table on a terminal, plain lines elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kbchat.passages import Passage, from_search_item, highlight_words, snippet
from kbchat.render.live import make_console
from kbchat.safe import json_safe, terminal_safe
from kbchat.terminal import Terminal


def score_style(score: float | None) -> str:
    """The API's guidance: >= 0.90 very relevant, 0.75 relevant, 0.60 moderate, below probably not."""
    if score is None:
        return "dim"
    if score >= 0.9:
        return "bold green"
    if score >= 0.75:
        return "green"
    return "yellow" if score >= 0.6 else "dim"


def highlighted(text: str, terms: list[str]) -> Text:
    """A one-line snippet of server text, the query's words in bold."""
    line = Text(terminal_safe(snippet(text, terms)))
    line.highlight_words(terms, style="bold", case_sensitive=False)
    return line


def passages_table(passages: Sequence[Passage], query: str, numbered: bool = True) -> Table:
    terms = highlight_words(query)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=True)
    if numbered:
        table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("document", overflow="fold", ratio=2)
    table.add_column("tags", overflow="fold", ratio=1)
    table.add_column("passage", overflow="fold", ratio=5)
    for rank, passage in enumerate(passages, 1):
        score = "" if passage.score is None else f"{passage.score:.2f}"
        document = Text(terminal_safe(passage.name))
        where = passage.location or (passage.id if passage.id != passage.name else "")
        if where:
            document.append("\n" + terminal_safe(where), style="dim")
        cells = [Text(score, style=score_style(passage.score)), document,
                 Text(terminal_safe(", ".join(passage.tags))), highlighted(passage.text, terms)]  # fmt: skip
        table.add_row(*([str(rank)] if numbered else []), *cells)
    return table


def print_passages(term: Terminal, passages: Sequence[Passage], query: str, title: str) -> None:
    """A titled table of passages under an answer, on a terminal."""
    console: Console = make_console(term)
    console.print()
    console.print(Text(title, style="bold dim"))
    if passages:
        console.print(passages_table(passages, query, numbered=False))
    else:
        console.print(Text("none", style="dim"))


def plain_passages(passages: Sequence[Passage], query: str, title: str) -> str:
    """The same as plain text: a blank line, the title, then `score  Title › Heading (path)  snippet` lines."""
    terms = highlight_words(query)
    lines = ["", f"{title}:"]
    for passage in passages:
        score = "    " if passage.score is None else f"{passage.score:.2f}"
        lines.append(f"{score}  {passage.label}  {snippet(passage.text, terms)}")
    return "\n".join(lines) + "\n"


def print_search(term: Terminal, items: Sequence[Any], query: str, total: Any) -> None:
    """Search results (the API's `items`) as a table, with how many there were in all."""
    passages = [from_search_item(item) for item in items]
    console = make_console(term)
    if not passages:
        console.print(Text("No passages match.", style="dim"))
        return
    console.print(passages_table(passages, query))
    found = f" of {total} found" if isinstance(total, int) and total > len(passages) else ""
    console.print(Text(f"{len(passages)} shown{found}", style="dim"))


def print_search_json(term: Terminal, body: dict[str, Any]) -> None:
    """The search response as indented JSON; on a terminal, controls inside strings escaped."""
    import json

    text = json.dumps(body, ensure_ascii=False, indent=2)
    print(json_safe(text) if term.is_tty else text, file=term.out)
