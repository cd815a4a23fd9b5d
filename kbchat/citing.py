"""Which sentence of an answer rests on which passage: `--cite`, matched here. Pure.

The stream carries no citations, so kbchat matches each sentence (kbchat.sentences)
against the closest passages with the local server's own terms (kbchat.terms: stemmed,
stop words out, its few synonyms). A passage supports a sentence when it holds enough of
the sentence's weight: each term weighs by how rare it is among the passages (a word
every passage has says nothing about which one the sentence rests on), the sentence's
numbers count double and must all be there (a price or a limit is the claim), and at
least two of the sentence's terms must be there. The threshold was measured
(bench/citations.py), not guessed; it is labelled "matched", never "cited by the server".

The passages used are numbered in the order the answer first uses them. On a terminal
each mark goes into a block's Markdown as it is drawn (LiveMarks; StoredMarks for `log
show`), as `\\ue000n\\ue001`: two private-use characters, as wide as the brackets they
stand for, that kbchat.render.marks draws as a dim `[n]`. The answer's own text never
holds them: the renderer replaces any the server sends.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from kbchat import terms
from kbchat.passages import Passage, score_of
from kbchat.render.blocks import Piece
from kbchat.sentences import Span, in_piece, sentences

THRESHOLD = 0.4  # share of a sentence's weight a passage must hold (bench/citations.py measured it)
RATIO = 0.8  # a second passage supports a sentence too when it holds this much of what the best one holds
CONTINUES = 0.3  # enough for the best passage when the sentence before rested on it
NUMBER_WEIGHT = 2.0  # a number's weight, against its rarity's
MIN_SHARED = 2  # terms a sentence and its passage must share: a claim says something of something
MATCHED_PASSAGES = 20  # passages a sentence is matched against at most (10 are asked for)
MATCHED_TEXT = 8000  # characters of a sentence matched at most: a row or item of a megabyte is cut
PREVIEW = 80  # characters of a sentence on a plain citation line


class Cited(NamedTuple):
    """One sentence: where it is in the answer, and the numbers of the passages that support it."""

    start: int
    end: int
    sources: tuple[int, ...]


@dataclass
class Citations:
    """An answer's sentences with the passages each rests on, and those passages, numbered from 1."""

    sentences: list[Cited] = field(default_factory=list)
    used: list[Passage] = field(default_factory=list)  # `used[n - 1]` is passage n

    @property
    def matched(self) -> int:
        return sum(1 for cited in self.sentences if cited.sources)

    def tally(self) -> str:
        return f"{self.matched} of {len(self.sentences)} sentences matched"

    def as_json(self) -> dict[str, Any]:
        """The `kbchat.citations` event's data, and what the answer log keeps."""
        return {
            "sentences": [{"start": c.start, "end": c.end, "sources": list(c.sources)} for c in self.sentences],
            "sources": [
                {"n": n, "title": p.title or None, "heading": p.heading or None, "path": _path(p), "url": _url(p),
                 "id": p.id or None, "score": p.score}
                for n, p in enumerate(self.used, 1)
            ],
        }  # fmt: skip


def _url(passage: Passage) -> str | None:
    return passage.location if passage.location.startswith(("http://", "https://")) else None


def _path(passage: Passage) -> str | None:
    return passage.location if passage.location and not _url(passage) else None


class Matcher:
    """The passages, ready to be matched against sentence after sentence."""

    def __init__(self, passages: Sequence[Passage], threshold: float = THRESHOLD) -> None:
        self.passages = passages
        self.threshold = threshold
        groups = terms.synonyms()
        self.held: list[frozenset[str]] = []
        for passage in passages:
            own = set(terms.terms(f"{passage.heading}\n{passage.text}"))
            for term in list(own):
                own.update(groups.get(term, ()))
            self.held.append(frozenset(own))
        count = len(passages)
        seen: dict[str, int] = {}
        for held in self.held:
            for term in held:
                seen[term] = seen.get(term, 0) + 1
        self._seen = seen
        self._count = count

    def weight(self, term: str) -> float:
        """How much a term says about which passage a sentence rests on: rare among them says more."""
        rarity = math.log((self._count + 1) / (self._seen.get(term, 0) + 0.5))
        return rarity * NUMBER_WEIGHT if term.isdigit() else rarity

    def scores(self, sentence: str) -> list[float]:
        """Each passage's share of the sentence's weight: 0 where fewer than MIN_SHARED terms are shared, or
        where one of the sentence's numbers is missing (a price or a limit changed is no support)."""
        wanted = set(terms.terms(sentence[:MATCHED_TEXT]))
        if len(wanted) < MIN_SHARED:
            return [0.0] * len(self.held)
        weights = {term: self.weight(term) for term in wanted}
        total = sum(weights.values())
        numbers = {term for term in wanted if term.isdigit()}
        found = []
        for held in self.held:
            shared = wanted & held
            supported = len(shared) >= MIN_SHARED and numbers <= held and total > 0
            found.append(sum(weights[t] for t in shared) / total if supported else 0.0)
        return found

    def supports(self, sentence: str, previous: Sequence[int] = ()) -> list[int]:
        """The passages (indexes, best first) that support a sentence, given those that supported the one before.

        Those clearing the threshold within RATIO of the best; else, when the best is one the
        sentence before rested on and clears CONTINUES, that one: an answer goes on about a
        passage in words of its own ("It is the recommended way…").
        """
        scored = self.scores(sentence)
        best = max(scored, default=0.0)
        chosen = [i for i, score in enumerate(scored) if score >= self.threshold and score >= RATIO * best]
        if not chosen and best >= CONTINUES:
            chosen = [i for i in previous if scored[i] == best][:1]
        return sorted(chosen, key=lambda i: -scored[i])


class Matching:
    """One answer's sentences matched in order: passages numbered as first used, each sentence after the last."""

    def __init__(self, passages: Sequence[Passage], threshold: float = THRESHOLD) -> None:
        passages = passages[:MATCHED_PASSAGES]  # a server may send more than asked for: each costs every sentence
        self.matcher = Matcher(passages, threshold)
        self.passages = passages
        self.numbers: dict[int, int] = {}  # passage index -> its number
        self._previous: list[int] = []

    def next(self, sentence: str) -> tuple[int, ...]:
        """The numbers of the passages that support the answer's next sentence."""
        self._previous = self.matcher.supports(sentence, self._previous)
        return tuple(sorted(self.numbers.setdefault(i, len(self.numbers) + 1) for i in self._previous))

    @property
    def used(self) -> list[Passage]:
        return [self.passages[i] for i in sorted(self.numbers, key=self.numbers.__getitem__)]


def cite(text: str, passages: Sequence[Passage], threshold: float = THRESHOLD) -> Citations:
    """Every sentence of an answer, each with the passages that support it."""
    matching = Matching(passages, threshold)
    found = [Cited(s, e, matching.next(text[s:e])) for s, e in sentences(text)]
    return Citations(found, matching.used)


OPEN, CLOSE = "\ue000", "\ue001"
NOT_MARKS = str.maketrans({OPEN: "\ufffd", CLOSE: "\ufffd"})  # the answer's own, if it sends any


class Marks(Protocol):
    def ready(self) -> bool:
        """Whether blocks can be marked now (the passages are in)."""
        ...

    def marked(self, piece: Piece) -> str:
        """The piece's text with a mark after each supported sentence (called once per piece, in order)."""
        ...


class LiveMarks:
    """Sentences matched as their blocks are drawn; numbered in the order the answer first uses a passage.

    The passages come from the search beside the stream, usually before the first block is
    done; the live view holds finished blocks for them a moment (render.live.HOLD). A block
    drawn before them is drawn unmarked, but its sentences are matched once they are in, so
    the numbers and the count stay those of the whole answer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matching: Matching | None = None
        self._waiting: list[tuple[Span, str]] = []  # sentences drawn before the passages came
        self.found: list[Cited] = []

    def ready(self) -> bool:
        return self._matching is not None

    def give(self, passages: Sequence[Passage]) -> None:
        """The passages are in (from the thread reading the stream)."""
        with self._lock:
            self._matching = Matching(passages)

    def marked(self, piece: Piece) -> str:
        spans = in_piece(piece)
        with self._lock:
            matching = self._matching
            if matching is None:
                self._waiting.extend((span, piece.text[span.start - piece.at : span.end - piece.at]) for span in spans)
                return piece.text
            for span, sentence in self._waiting:
                self.found.append(Cited(span.start, span.end, matching.next(sentence)))
            self._waiting.clear()
            marks = []
            for span in spans:
                numbers = matching.next(piece.text[span.start - piece.at : span.end - piece.at])
                self.found.append(Cited(span.start, span.end, numbers))
                marks.append((span.end - piece.at, numbers))
        return with_marks(piece.text, marks)

    def citations(self) -> Citations | None:
        """What was marked, once every sentence has been drawn; None if the passages never came."""
        with self._lock:
            if self._matching is None:
                return None
            for span, sentence in self._waiting:
                self.found.append(Cited(span.start, span.end, self._matching.next(sentence)))
            self._waiting.clear()
            return Citations(list(self.found), self._matching.used)


class StoredMarks:
    """The marks the answer log kept, at the sentences they were made for."""

    def __init__(self, citations: Citations) -> None:
        self.numbers = {(c.start, c.end): c.sources for c in citations.sentences}

    def ready(self) -> bool:
        return True

    def marked(self, piece: Piece) -> str:
        marks = [(span.end - piece.at, self.numbers.get((span.start, span.end), ())) for span in in_piece(piece)]
        return with_marks(piece.text, marks)


def with_marks(text: str, marks: Sequence[tuple[int, tuple[int, ...]]]) -> str:
    """The text with ` \\ue000n,m\\ue001` after each position that has numbers."""
    parts = []
    done = 0
    for at, numbers in marks:
        if numbers:
            parts += [text[done:at], f" {OPEN}{','.join(map(str, numbers))}{CLOSE}"]
            done = at
    return "".join(parts) + text[done:] if parts else text


def plain_lines(text: str, citations: Citations) -> Iterator[str]:
    """What plain output adds after the answer: the blank line, the sources, each matched sentence."""
    yield ""
    yield "Matched sources:"
    for n, passage in enumerate(citations.used, 1):
        yield f"[{n}] {passage.label}"
    for cited in citations.sentences:
        if cited.sources:
            yield f"[{','.join(map(str, cited.sources))}] {preview(text[cited.start : cited.end])}"


def preview(sentence: str) -> str:
    """A sentence's first PREVIEW characters, on one line."""
    return " ".join(sentence[: PREVIEW * 4].split())[:PREVIEW]


def read_citations(data: Any, length: int) -> Citations | None:
    """Citations as kept in the answer log (untrusted): anything that does not fit the answer is dropped."""
    if not isinstance(data, dict):
        return None
    sources = data.get("sources")
    used = [_stored_passage(item) for item in sources] if isinstance(sources, list) else []
    found: list[Cited] = []
    last = 0
    for item in data.get("sentences") or []:
        if not isinstance(item, dict):
            continue
        start, end, numbers = item.get("start"), item.get("end"), item.get("sources")
        if not (isinstance(start, int) and isinstance(end, int) and last <= start < end <= length):
            continue
        numbers = numbers if isinstance(numbers, list) else []
        kept = tuple(n for n in numbers if isinstance(n, int) and 1 <= n <= len(used))
        found.append(Cited(start, end, kept))
        last = end
    return Citations(found, used)


def _stored_passage(item: Any) -> Passage:
    item = item if isinstance(item, dict) else {}

    def text(key: str) -> str:
        value = item.get(key)
        return value if isinstance(value, str) else ""

    return Passage(
        score=score_of(item.get("score")),
        id=text("id"), document="", tags=(), text="", title=text("title"), heading=text("heading"),
        location=text("url") or text("path"),
    )  # fmt: skip
