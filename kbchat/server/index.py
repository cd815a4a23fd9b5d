"""The local knowledge base's search engine: SQLite FTS5 with BM25 ranking.

Every subfolder of the docs folder is a tenant; files at the top belong to tenant
`demo`. The index lives in a cache file, is brought up to date by comparing each
file's size and mtime with what was indexed (so an unchanged folder starts at once),
and a watcher thread picks up changed files while the server runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kbchat.server.documents import parse_document, title_from_path
from kbchat.server.folder import Folder, Warn, tenant_of

SCHEMA_VERSION = "2"
MAX_TERMS = 64  # distinct words of a query that are searched for
SOURCE = "document"
TYPE_NAME = "Document"
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "in",
    "is", "it", "me", "of", "on", "or", "our", "so", "that", "the", "this", "to", "we", "what", "when",
    "where", "which", "who", "why", "will", "with", "you", "your", "about", "there", "their", "they",
    "have", "has", "had", "was", "were", "my",
})  # fmt: skip

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, mtime_ns INTEGER, size INTEGER,
    tenant TEXT NOT NULL, elemental_id TEXT NOT NULL, title TEXT, category TEXT, tags TEXT);
CREATE INDEX IF NOT EXISTS documents_tenant ON documents (tenant);
CREATE TABLE IF NOT EXISTS passages (id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL, seq INTEGER, heading TEXT);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (
    heading, text, tenant, tags, tag_ids, category, elemental,
    tokenize = 'porter unicode61 remove_diacritics 2');
INSERT INTO fts (fts, rank) VALUES ('rank', 'bm25(2.0, 1.0, 0, 0, 0, 0, 0)');
"""
# Filter values live in FTS columns as exact tokens, so one MATCH narrows by tenant, tags
# and the rest before ranking, and FTS5's `ORDER BY rank LIMIT n` ranks only what is left.
# A value becomes one token: a letter, its UTF-8 in hex, and a closing digit so the
# porter stemmer leaves it alone.


@dataclass(frozen=True)
class Hit:
    """One matching passage, with what the API's search and chat bodies need."""

    id: str
    score: float
    text: str
    snippet: str
    heading: str
    title: str
    path: str
    tenant: str
    elemental_id: str
    item_id: str
    category: str
    tags: tuple[str, ...]

    def payload(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant,
            "snack_elemental_id": self.elemental_id,
            "snack_item_id": self.item_id,
            "original_text": self.text,
            "tag_names": list(self.tags),
            "tag_ids": [tag_id(t) for t in self.tags],
            "source": SOURCE,
            "type_name": TYPE_NAME,
            "category_name": self.category,
            "document": self.path,
            "title": self.title,
            "heading": self.heading,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Refresh:
    added: int
    updated: int
    removed: int
    seconds: float


class Index:
    """An FTS5 index over a docs folder; one writer, any number of reading threads."""

    def __init__(self, docs: Path, db_path: Path, follow_symlinks: bool = False, warn: Warn | None = None) -> None:
        self.folder = Folder(docs, follow_symlinks, warn)
        self.docs = self.folder.docs
        self.db_path = db_path
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._open: set[sqlite3.Connection] = set()  # every connection, so close() can close them all
        self._open_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.built_at = 0.0
        db_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private(db_path)
        with self._writing() as db:
            stale = _schema_version(db) not in (None, SCHEMA_VERSION)
        if stale:
            db_path.unlink()  # an older layout, or not a database at all: start again
            _private(db_path)
        with self._writing() as db:
            db.executescript(SCHEMA)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=30, check_same_thread=False)
        with self._open_lock:
            self._open.add(db)
        return db

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection whose work is committed (or rolled back) and which is then closed."""
        db = self._connect()
        try:
            with db:
                yield db
        finally:
            self._close(db)

    def _close(self, db: sqlite3.Connection) -> None:
        with self._open_lock:
            self._open.discard(db)
        db.close()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A pooled read connection: request threads come and go, connections stay."""
        try:
            db = self._readers.get_nowait()
        except queue.Empty:
            db = self._connect()
        try:
            yield db
        finally:
            self._readers.put(db)

    # --- keeping it current -------------------------------------------------------

    def refresh(self) -> Refresh:
        """Index new and changed files, drop removed ones; returns what changed."""
        started = time.monotonic()
        with self._write_lock, self._writing() as db:
            indexed = {path: (mtime, size, doc_id) for path, mtime, size, doc_id in
                       db.execute("SELECT path, mtime_ns, size, id FROM documents")}  # fmt: skip
            seen: set[str] = set()
            added = updated = 0
            for relative, stat in self.folder.scan():
                seen.add(relative)
                old = indexed.get(relative)
                if old is not None and old[:2] == (stat.st_mtime_ns, stat.st_size):
                    continue
                if old is not None:
                    _delete_document(db, old[2])
                    updated += 1
                else:
                    added += 1
                self._insert(db, relative, stat)
            removed = [doc_id for path, (_, _, doc_id) in indexed.items() if path not in seen]
            for doc_id in removed:
                _delete_document(db, doc_id)
        self.built_at = time.time()
        return Refresh(added, updated, len(removed), time.monotonic() - started)

    def _insert(self, db: sqlite3.Connection, relative: str, stat: os.stat_result) -> None:
        text = self.folder.read(relative)
        if text is None:
            return
        tenant = tenant_of(relative)
        document = parse_document(text, title_from_path(relative.rsplit("/", 1)[-1]))
        elemental_id = "doc-" + hashlib.sha1(relative.encode()).hexdigest()[:12]
        cursor = db.execute(
            "INSERT INTO documents (path, mtime_ns, size, tenant, elemental_id, title, category, tags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (relative, stat.st_mtime_ns, stat.st_size, tenant, elemental_id, document.title,
             document.category, json.dumps(document.tags)),
        )  # fmt: skip
        doc_id = cursor.lastrowid
        columns = (
            token("t", tenant),
            " ".join(token("g", t.lower()) for t in document.tags),
            " ".join(token("i", tag_id(t)) for t in document.tags),
            token("c", document.category.lower()),
            token("e", elemental_id),
        )
        for seq, passage in enumerate(document.passages):
            row = db.execute(
                "INSERT INTO passages (doc_id, seq, heading) VALUES (?, ?, ?)", (doc_id, seq, passage.heading)
            )
            db.execute(
                "INSERT INTO fts (rowid, heading, text, tenant, tags, tag_ids, category, elemental)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row.lastrowid, passage.heading, passage.text, *columns),
            )

    def watch(self, interval: float = 1.0) -> threading.Thread:
        """Refresh every `interval` seconds in a daemon thread until `close()`."""

        def loop() -> None:
            while not self._stop.wait(interval):
                self.refresh()

        self._watcher = threading.Thread(target=loop, name="kbchat-index-watch", daemon=True)
        self._watcher.start()
        return self._watcher

    def close(self) -> None:
        """Stop the watcher and close every connection: SQLite then removes its -wal and -shm files."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._open_lock:
            connections, self._open = list(self._open), set()
        for db in connections:
            db.close()
        while True:
            try:
                self._readers.get_nowait()
            except queue.Empty:
                return

    # --- reading --------------------------------------------------------------------

    def search(self, query: str, filters: dict[str, Any], limit: int = 10, count: bool = True) -> tuple[list[Hit], int]:
        """The best `limit` passages for `query` within `filters`, and how many matched in all.

        Answers need no total: `count=False` skips that query (and returns 0) on the way
        to the first streamed byte.
        """
        words = fts_query(query)
        match = filter_match(filters)
        if not words or match is None:
            return [], 0
        match = f"{match} AND {{heading text}} : ({words})"
        with self._reading() as db:
            total = db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0] if count else 0
            rows = db.execute(
                "SELECT best.text, best.snip, p.heading, p.seq, best.rank,"
                " d.path, d.tenant, d.elemental_id, d.title, d.category, d.tags"
                " FROM (SELECT rowid, text, snippet(fts, 1, '**', '**', '…', 24) AS snip, rank FROM fts"
                "       WHERE fts MATCH ? ORDER BY rank LIMIT ?) AS best"
                " JOIN passages p ON p.id = best.rowid JOIN documents d ON d.id = p.doc_id ORDER BY best.rank",
                (match, limit),
            ).fetchall()
        return [_hit(row) for row in rows], total

    def stats(self) -> dict[str, Any]:
        with self._reading() as db:
            return {
                "documents": db.execute("SELECT count(*) FROM documents").fetchone()[0],
                "passages": db.execute("SELECT count(*) FROM passages").fetchone()[0],
                "tenants": [row[0] for row in db.execute("SELECT DISTINCT tenant FROM documents ORDER BY tenant")],
                "refreshed_at": self.built_at,
            }


def fts_query(text: str) -> str:
    """Words of the question as an FTS5 OR query; question words that say nothing are dropped.

    At most MAX_TERMS distinct words are kept: a query of a hundred thousand words would
    otherwise cost seconds of CPU to match and rank.
    """
    kept: dict[str, None] = {}
    for match in _WORD.finditer(text):
        word = match[0].lower()
        if word not in STOPWORDS:
            kept[word] = None
            if len(kept) == MAX_TERMS:
                break
    return " OR ".join(f'"{w}"' for w in kept)


def tag_id(name: str) -> str:
    return "tag-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def score(bm25: float) -> float:
    """BM25 (lower is better, unbounded) squashed into 0..1, higher is better."""
    strength = max(0.0, -bm25)
    return round(strength / (strength + 2.0), 4)


def token(kind: str, value: str) -> str:
    """One exact FTS token for a filter value (see SCHEMA)."""
    return f"{kind}{value.encode().hex()}0"


def filter_match(filters: dict[str, Any]) -> str | None:
    """Filters as an FTS5 MATCH expression: AND across keys, OR inside a list; None = nothing can match."""
    terms = [f"tenant : {token('t', filters['tenant_id'])}"]
    for key, value in filters.items():
        values = value if isinstance(value, list) else [value]
        if key == "tag_names" and values:
            terms.append("tags : (" + " OR ".join(token("g", v.lower()) for v in values) + ")")
        elif key == "tag_ids" and values:
            terms.append("tag_ids : (" + " OR ".join(token("i", v) for v in values) + ")")
        elif key == "category_name":
            terms.append(f"category : {token('c', value.lower())}")
        elif key == "elemental_id":
            terms.append(f"elemental : {token('e', value)}")
        elif (key == "source" and value.lower() != SOURCE) or (
            key == "type_name" and value.lower() != TYPE_NAME.lower()
        ):
            return None
        elif key == "user_id":
            return None  # files belong to no user
    return " AND ".join(terms)


def _hit(row: tuple[Any, ...]) -> Hit:
    text, snippet, heading, seq, bm25, path, tenant, elemental_id, title, category, tags = row
    item_id = f"{elemental_id}-{seq}"
    return Hit(
        id=item_id, score=score(bm25), text=text, snippet=snippet, heading=heading, title=title, path=path,
        tenant=tenant, elemental_id=elemental_id, item_id=item_id, category=category or "",
        tags=tuple(json.loads(tags or "[]")),
    )  # fmt: skip


def _delete_document(db: sqlite3.Connection, doc_id: int) -> None:
    db.execute("DELETE FROM fts WHERE rowid IN (SELECT id FROM passages WHERE doc_id = ?)", (doc_id,))
    db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
    db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))


def _schema_version(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.DatabaseError:
        return "broken"
    return row[0] if row else None


def _private(db_path: Path) -> None:
    """The index holds every tenant's text: the file and SQLite's -wal/-shm beside it are 0600.

    SQLite gives its -wal and -shm files the database file's mode, so creating that
    file 0600 first covers all three; older caches are tightened on open.
    """
    os.close(os.open(db_path, os.O_RDWR | os.O_CREAT, 0o600))
    for path in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o600)


def default_db_path(docs: Path, cache_dir: Path) -> Path:
    """One cache file per docs folder."""
    digest = hashlib.sha1(str(docs.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"index-{digest}.sqlite"
