"""Query planning for the local knowledge base: a question and filters → the passages that answer it.

    words → the index's terms (synonyms, else kin) → weights → FTS5 candidates (rare terms
    first, within the filters) → ranking.rank → each section once → Hits

kbchat.server.index keeps the index current; this reads it. Filter values are exact
tokens in FTS columns (`token`), so one MATCH narrows by tenant, tags and the rest.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from kbchat import terms, wire
from kbchat.server import ranking
from kbchat.server.ranking import Candidate, Want

if TYPE_CHECKING:
    from kbchat.server.index import Index

MAX_TERMS = 64  # distinct terms of a query that are searched for
MAX_HIT_TEXT = 8000  # characters of a passage a hit carries: passages are cut shorter, this guards the payloads
SOURCE = "document"
TYPE_NAME = "Document"
KIN_PREFIX = 5  # letters a term and its kin share at least
KIN_REACH = 2  # letters the kin may differ by at the end


@dataclass(frozen=True)
class Hit:
    """One matching passage, with what the API's search and chat bodies need."""

    id: str
    score: float
    text: str
    heading: str
    title: str
    path: str
    tenant: str
    elemental_id: str
    item_id: str
    category: str
    tags: tuple[str, ...]
    matched: frozenset[str] = frozenset()  # the index terms that stood for the question's words

    def search_item(self) -> dict[str, Any]:
        """The hit as one `items[]` entry of /v1/kb/search."""
        return wire.search_item(self.id, self.score, {
            "tenant": self.tenant, "elemental_id": self.elemental_id, "item_id": self.item_id, "text": self.text,
            "tags": list(self.tags), "tag_ids": [tag_id(t) for t in self.tags], "source": SOURCE,
            "type_name": TYPE_NAME, "category": self.category, "document": self.path, "path": self.path,
            "title": self.title, "heading": self.heading,
            "snippet": terms.highlight(self.text, self.matched),  # made here: only search shows it
        })  # fmt: skip

    def chat_source(self) -> dict[str, Any]:
        """The hit as one `sources[]` entry of /v1/kb/chat."""
        return wire.chat_source(self.id, self.score, {
            "item_id": self.item_id, "elemental_id": self.elemental_id, "title": self.title,
            "heading": self.heading, "document": self.path, "path": self.path, "text": self.text,
        })  # fmt: skip


class Shown(NamedTuple):
    """What the candidates' query brings of each passage beyond its ranking columns."""

    digest: str
    text: str
    heading: str
    seq: int
    path: str
    tenant: str
    elemental_id: str
    title: str
    category: str | None
    tags: str | None  # a JSON list


class Plan(NamedTuple):
    """FTS5's candidates, the question's terms as the index knows them, the MATCH that found them,
    and what each candidate shows."""

    candidates: list[Candidate]
    wants: list[Want]
    where: str
    shown: dict[int, Shown]


def search(
    index: Index, query: str, filters: dict[str, Any], limit: int = 10, count: bool = True
) -> tuple[list[Hit], int]:
    """The best `limit` passages for `query` within `filters`, and how many matched in all.

    A follow-up (kbchat's `…\n\nFollow-up question: …`) finds what its own question finds
    first, then what the earlier one adds: two subjects' words in one query left no passage
    holding enough of either, and the label's words never count.
    """
    own, context = split_follow_up(query)
    if not context:
        return _search(index, own, filters, limit, count)
    alone, total = _search(index, own, filters, limit, count)
    together, more = _search(index, f"{context}\n{own}", filters, limit, count)
    best: dict[str, Hit] = {}
    for hit in (*alone, *together):  # each passage once, at the better of its two scores
        if hit.id not in best or hit.score > best[hit.id].score:
            best[hit.id] = hit
    return sorted(best.values(), key=lambda hit: -hit.score)[:limit], max(total, more)


def split_follow_up(query: str) -> tuple[str, str]:
    """(the question itself, the earlier queries it carries, without the labels); the context "" if none."""
    context, marker, own = query.rpartition(wire.FOLLOW_UP)
    if not marker:
        return query, ""
    return own.strip(), context.replace(wire.FOLLOW_UP, " ").strip()


def _search(
    index: Index, query: str, filters: dict[str, Any], limit: int = 10, count: bool = True
) -> tuple[list[Hit], int]:
    """The best passages for one question. Nothing is returned when no passage holds enough of it
    (see kbchat.server.ranking). Answers need no total: `count=False` skips that query (and
    returns 0) on the way to the first streamed byte."""
    wanted = terms.query_terms(query, MAX_TERMS)
    match = filter_match(filters)
    if not wanted or match is None:
        return [], 0
    with index.reading() as db:
        found = plan(db, index, wanted, match)
        if found is None:
            return [], 0
        ranked = ranking.rank(found.candidates, found.wants, index.average_length, index.ranking)
        if not ranked:
            return [], 0
        best = _distinct(ranked, {rowid: shown.digest for rowid, shown in found.shown.items()})[:limit]
        total = db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (found.where,)).fetchone()[0] if count else 0
    matched = frozenset().union(*(want.forms for want in found.wants))
    return [_hit(found.shown[r.rowid], r.score, matched) for r in best], total


def plan(db: sqlite3.Connection, index: Index, wanted: list[str], match: str) -> Plan | None:
    """The candidates and how to rank them, all in one query; None when no term is in the index.

    A term the index lacks is looked for by its kin (see `_kin`). Terms in more than
    `ranking.common` of all passages pick no candidates, nor do those past the
    `candidate_budget` of passages the rarer ones hold already (FTS5 ranks every
    passage that matches: a term in 8,000 of them costs 40 ms). When every term is
    that common, the first `common_scan` passages holding them all are ranked
    instead of every passage in the index.
    """
    settings = index.ranking
    related = {term: terms.synonyms().get(term, frozenset({term})) for term in wanted}
    looked_up = sorted(set().union(*related.values()))
    df = dict(db.execute(
        f"SELECT term, passages FROM term_counts WHERE term IN ({', '.join('?' * len(looked_up))})", looked_up
    ).fetchall())  # fmt: skip
    forms: dict[str, dict[str, int]] = {}
    for term in wanted:
        forms[term] = {form: df[form] for form in related[term] if df.get(form)} or _kin(db, term)
    total = max(index.passage_count, 1)
    weights = ranking.weigh({term: max(found.values(), default=0) for term, found in forms.items()}, total)
    wants = [Want(frozenset(forms[term]), weights[term]) for term in wanted]
    present = {form: count for found in forms.values() for form, count in found.items()}
    if not present:
        return None
    rare: list[str] = []
    budget = settings.candidate_budget
    for form, count in sorted(present.items(), key=lambda item: item[1]):
        if count > settings.common * total or (rare and count > budget):
            break
        rare.append(form)
        budget -= count
    joined = " OR ".join(f'"{form}"' for form in rare) or " AND ".join(f'"{form}"' for form in present)
    where = f"{match} AND {{title heading text}} : ({joined})"
    rank = f"bm25({settings.title_weight}, {settings.heading_weight}, 1, 0, 0, 0, 0, 0)"
    found = "SELECT rowid, title, heading, text FROM fts WHERE fts MATCH ? AND rank MATCH ?"
    if rare:
        found, limit = found + " ORDER BY rank LIMIT ?", settings.candidates
    else:
        found, limit = found + " LIMIT ?", settings.common_scan
    # One query, not three: under load every call into SQLite waits for the GIL again.
    rows = db.execute(
        "SELECT c.rowid, c.title, c.heading, c.text, p.listing, p.digest,"
        " p.text, p.heading, p.seq, d.path, d.tenant, d.elemental_id, d.title, d.category, d.tags"
        f" FROM ({found}) AS c JOIN passages p ON p.id = c.rowid JOIN documents d ON d.id = p.doc_id",
        (where, rank, limit),
    ).fetchall()
    if not rows:
        return None
    candidates = [Candidate(row[0], row[1], row[2], row[3], row[4] or 0.0) for row in rows]
    return Plan(candidates, wants, where, {row[0]: Shown(*row[5:]) for row in rows})


def tag_id(name: str) -> str:
    return "tag-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def token(kind: str, value: str) -> str:
    """One exact FTS token for a filter value: a letter, then its UTF-8 in hex, then a 0."""
    return f"{kind}{value.encode().hex()}0"


def filter_match(filters: dict[str, Any]) -> str | None:
    """Filters as an FTS5 MATCH expression: AND across keys, OR inside a list; None = nothing can match."""
    matches = [f"tenant : {token('t', filters['tenant_id'])}"]
    for key, value in filters.items():
        values = value if isinstance(value, list) else [value]
        if key == "tag_names" and values:
            matches.append("tags : (" + " OR ".join(token("g", v.lower()) for v in values) + ")")
        elif key == "tag_ids" and values:
            matches.append("tag_ids : (" + " OR ".join(token("i", v) for v in values) + ")")
        elif key == "category_name":
            matches.append(f"category : {token('c', value.lower())}")
        elif key == "elemental_id":
            matches.append(f"elemental : {token('e', value)}")
        elif (key == "source" and value.lower() != SOURCE) or (
            key == "type_name" and value.lower() != TYPE_NAME.lower()
        ):
            return None
        elif key == "user_id":
            return None  # files belong to no user
    return " AND ".join(matches)


def _hit(shown: Shown, score: float, wanted: frozenset[str]) -> Hit:
    item_id = f"{shown.elemental_id}-{shown.seq}"
    text = shown.text if len(shown.text) <= MAX_HIT_TEXT else shown.text[: MAX_HIT_TEXT - 1] + "…"
    return Hit(
        id=item_id, score=score, text=text, heading=shown.heading, title=shown.title,
        path=shown.path, matched=wanted, tenant=shown.tenant, elemental_id=shown.elemental_id,
        item_id=item_id, category=shown.category or "", tags=tuple(json.loads(shown.tags or "[]")),
    )  # fmt: skip


def _kin(db: sqlite3.Connection, term: str) -> dict[str, int]:
    """Index terms that differ from a term the index lacks only in its last letters: respond → respons.

    The stemmer leaves some word families apart (respond, response); for a word the
    knowledge base never uses, its nearest family is what the question means.
    """
    if len(term) < KIN_PREFIX + 1:
        return {}
    prefix = term[: max(KIN_PREFIX, len(term) - KIN_REACH)]
    rows = db.execute(
        "SELECT term, passages FROM term_counts WHERE term >= ? AND term < ? LIMIT 200", (prefix, prefix + "\U0010ffff")
    )
    return {kin: count for kin, count in rows if abs(len(kin) - len(term)) <= KIN_REACH and not kin.isdigit()}


def _distinct(ranked: list[ranking.Ranked], digests: dict[int, str]) -> list[ranking.Ranked]:
    """The ranking with each section once: generated docs repeat whole sections word for word
    (npm's "Configuration" blocks are in dozens of files), and three copies are no answer."""
    seen: set[str] = set()
    kept = []
    for passage in ranked:
        digest = digests.get(passage.rowid, "")
        if digest not in seen:
            seen.add(digest)
            kept.append(passage)
    return kept
