"""Ranking the passages FTS5 found, and telling which of them answer at all. Pure.

FTS5 picks the candidates; here each is scored with BM25F (a term in the title or
description counts 4 times, in the heading twice) and an IDF that never reaches 0, so
in a small folder, where every word is in half the passages and FTS5's BM25 is 0 for
all, the passage that says it most still comes first. A passage that is a list of
links (a table of contents, "See also") keeps a tenth of its score: it says every word
and answers nothing. A passage is
returned only if it holds at least half of the question, each term weighted by how
rare it is: "who is the best tennis player of all time?" is not a question about the
one passage that says "best effort" and "response times".

Measured and left out (bench/answers.py, README): scaling BM25 by that coverage, a
bonus for the question's words close together, and one for the title or heading
saying them; each lost questions on the npm corpus and gained none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Ranking:
    """How passages are ranked. The defaults are kbchat's; bench/answers.py turns each off to measure it."""

    title_weight: float = 4.0  # BM25F: a term in the title or description counts 4 times
    heading_weight: float = 2.0
    k1: float = 1.2  # BM25's term-frequency saturation and length normalisation, as usual
    b: float = 0.75
    common: float = 0.25  # a term in more than this share of passages picks no candidates (dynamic stop word)
    candidates: int = 50  # passages BM25 hands to the ranking
    candidate_budget: int = 2000  # passages the terms that pick candidates may hold between them (the rarest first)
    common_scan: int = 200  # when every term is common: passages looked at, in index order
    listing_penalty: float = 0.9  # a passage made only of links keeps a tenth of its score
    evidence: float = 0.4  # the least share of the question the best passage must hold; 0 answers any match
    floor: float = 0.2  # the least share any other returned passage holds


DEFAULT = Ranking()


@dataclass(frozen=True)
class Candidate:
    """A passage FTS5 found: its id and its terms by field, each field as the index holds it
    (terms joined by single spaces): counted with str.count, in C, not split into lists."""

    rowid: int
    title: str
    heading: str
    text: str
    listing: float  # the share of its lines that are links in a list (0..1)

    def fields(self) -> tuple[str, str, str]:
        """Text, heading and title, each with a space at both ends, so " term " matches whole terms only."""
        return f" {self.text} ", f" {self.heading} ", f" {self.title} "


@dataclass(frozen=True)
class Want:
    """One term of the question: the index terms that count as it, and its weight."""

    forms: frozenset[str]
    weight: float


@dataclass(frozen=True)
class Ranked:
    rowid: int
    score: float  # 0..1, higher is better
    coverage: float  # the share of the question's weight it holds (0..1)


def idf(df: int, total: int) -> float:
    """BM25's inverse document frequency, in the form that never reaches 0 (log of 1 + …)."""
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def weigh(df: Mapping[str, int], total: int) -> dict[str, float]:
    """Each question term's weight: its IDF; a term no passage has weighs as much as the rarest one that some do.

    Such a word is part of what was asked and stays unanswered, so it lowers every
    passage's coverage; but weighing it by its own IDF (the highest there is) would
    let one unknown word ("how much does the Business plan *cost*?") sink a question
    the rest of it answers.
    """
    known = {term: idf(count, total) for term, count in df.items() if count}
    heaviest = max(known.values(), default=1.0)
    return {term: known.get(term, heaviest) for term in df}


def rank(
    candidates: Sequence[Candidate], wants: Sequence[Want], average_length: float, ranking: Ranking = DEFAULT
) -> list[Ranked]:
    """The candidates best first; none when no passage holds enough of the question.

    `average_length` is the mean number of terms in a passage's text, for BM25's length normalisation.
    """
    total = sum(want.weight for want in wants) or 1.0
    ranked = []
    for candidate in candidates:
        fields = candidate.fields()
        coverage = sum(want.weight for want in wants if any(f" {f} " in field for f in want.forms for field in fields))
        coverage /= total
        value = bm25f(fields, wants, average_length, ranking) * (1 - ranking.listing_penalty * candidate.listing)
        ranked.append(Ranked(candidate.rowid, round(value / (value + 2.0), 4), round(coverage, 4)))
    if not ranked or max(r.coverage for r in ranked) < ranking.evidence:
        return []
    return sorted((r for r in ranked if r.coverage >= min(ranking.floor, ranking.evidence)), key=lambda r: -r.score)


def bm25f(
    fields: tuple[str, str, str], wants: Sequence[Want], average_length: float, ranking: Ranking = DEFAULT
) -> float:
    """BM25 over a passage's text, heading and title (see Candidate.fields), their term frequencies weighted
    and added; the text's length normalises."""
    text, heading, title = fields
    length = text.count(" ") - 1  # terms in " a b c ": spaces less one
    norm = ranking.k1 * (1 - ranking.b + ranking.b * length / max(average_length, 1.0))
    value = 0.0
    for want in wants:
        tf = 0.0
        for form in want.forms:
            padded = f" {form} "
            tf += ranking.title_weight * title.count(padded) + ranking.heading_weight * heading.count(padded)
            tf += text.count(padded)
        value += want.weight * tf * (ranking.k1 + 1) / (tf + norm)
    return value
