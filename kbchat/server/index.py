"""The local knowledge base's search engine: SQLite FTS5 with BM25 ranking.

Every subfolder of the docs folder is a tenant; files at the top belong to tenant
`demo`. The index lives in a cache file, is brought up to date by comparing each
file's size and mtime with what was indexed (so an unchanged folder starts at once),
and a watcher thread picks up changed files while the server runs.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kbchat import terms
from kbchat.private import private_database
from kbchat.schema import Shapes, made_by, stranger
from kbchat.server.documents import parse_document, title_from_path
from kbchat.server.folder import Folder, Warn, tenant_of
from kbchat.server.query import tag_id, token
from kbchat.server.ranking import DEFAULT, Ranking

SCHEMA_VERSION = "7"  # 7: long paragraphs cut into passages (documents.MAX_BLOCK)
WATCH_SHARE = 10  # the watcher waits at least this many times as long as its last look took

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, mtime_ns INTEGER, size INTEGER,
    tenant TEXT NOT NULL, elemental_id TEXT NOT NULL, title TEXT, category TEXT, tags TEXT);
CREATE INDEX IF NOT EXISTS documents_tenant ON documents (tenant);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL, seq INTEGER, heading TEXT, text TEXT, listing REAL,
    digest TEXT, length INTEGER);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id);
CREATE INDEX IF NOT EXISTS passages_length ON passages (length);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (
    title, heading, text, tenant, tags, tag_ids, category, elemental,
    tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE IF NOT EXISTS term_counts (term TEXT PRIMARY KEY, passages INTEGER NOT NULL) WITHOUT ROWID;
"""
# The FTS columns hold terms (kbchat.terms: stemmed, stop words left out), made
# in Python so the question, the index and the re-ranking agree on every word; the
# passage as written is in `passages`. `term_counts` holds how many passages have each
# term (title, heading or text), kept with every insert and delete: FTS5's own vocabulary
# table answers that in 8 ms a term here (SQLite 3.40 scans it), this one in microseconds.
# Filter values live in FTS columns as exact tokens, so one MATCH narrows by tenant, tags
# and the rest before ranking, and FTS5's `ORDER BY rank LIMIT n` ranks only what is left.
# A value becomes one token: a letter, then its UTF-8 in hex, then a 0.


@dataclass(frozen=True)
class Refresh:
    added: int
    updated: int
    removed: int
    seconds: float


class Index:
    """An FTS5 index over a docs folder; one writer, any number of reading threads."""

    def __init__(
        self,
        docs: Path,
        db_path: Path,
        follow_symlinks: bool = False,
        warn: Warn | None = None,
        ranking: Ranking = DEFAULT,
    ) -> None:
        self.folder = Folder(docs, follow_symlinks, warn)
        self.ranking = ranking
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
        private_database(db_path)  # it holds every tenant's text
        with self._writing() as db:
            stale = _schema_version(db) not in (None, SCHEMA_VERSION) or _crafted(db)
        if stale:
            db_path.unlink()  # an older layout, not a database, or one kbchat did not make: start again
            private_database(db_path)  # it holds every tenant's text
        with self._writing() as db:
            db.executescript(SCHEMA)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            self.passage_count, self.average_length = _corpus_shape(db)

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
    def reading(self) -> Iterator[sqlite3.Connection]:
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
            counts: Counter[str] = Counter()  # passages gained (or lost) by each term
            for relative, stat in self.folder.scan():
                seen.add(relative)
                old = indexed.get(relative)
                if old is not None and old[:2] == (stat.st_mtime_ns, stat.st_size):
                    continue
                if old is not None:
                    _delete_document(db, old[2], counts)
                    updated += 1
                else:
                    added += 1
                self._insert(db, relative, stat, counts)
            removed = [doc_id for path, (_, _, doc_id) in indexed.items() if path not in seen]
            for doc_id in removed:
                _delete_document(db, doc_id, counts)
            if counts:
                db.executemany(
                    "INSERT INTO term_counts VALUES (?, ?)"
                    " ON CONFLICT (term) DO UPDATE SET passages = passages + excluded.passages",
                    ((term, change) for term, change in counts.items() if change),
                )
                db.execute("DELETE FROM term_counts WHERE passages <= 0")
            if added or updated or removed:
                self.passage_count, self.average_length = _corpus_shape(db)
        self.built_at = time.time()
        return Refresh(added, updated, len(removed), time.monotonic() - started)

    def _insert(self, db: sqlite3.Connection, relative: str, stat: os.stat_result, counts: Counter[str]) -> None:
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
        title_terms = terms.terms(f"{document.title}\n{document.description}")
        title = " ".join(title_terms)
        columns = (
            token("t", tenant),
            " ".join(token("g", t.lower()) for t in document.tags),
            " ".join(token("i", tag_id(t)) for t in document.tags),
            token("c", document.category.lower()),
            token("e", elemental_id),
        )
        first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM passages").fetchone()[0]
        rows, fts_rows = [], []
        for seq, passage in enumerate(document.passages):
            words = terms.terms(passage.text)
            heading = terms.terms(passage.heading)
            counts.update(set(words).union(heading, title_terms))
            digest = _digest(passage.heading, passage.text)
            rows.append((first + seq, doc_id, seq, passage.heading, passage.text, passage.listing, digest, len(words)))
            fts_rows.append((first + seq, title, " ".join(heading), " ".join(words), *columns))
        db.executemany("INSERT INTO passages (id, doc_id, seq, heading, text, listing, digest, length)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
        db.executemany("INSERT INTO fts (rowid, title, heading, text, tenant, tags, tag_ids, category, elemental)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", fts_rows)  # fmt: skip

    def watch(self, interval: float = 1.0) -> threading.Thread:
        """Refresh every `interval` seconds in a daemon thread until `close()`.

        A big folder waits longer: ten times as long as a look that found nothing new
        took, so the watcher spends at most a tenth of the time scanning (10,000 files take
        0.4 s to look over, and searches wait for the GIL meanwhile: p99 72 ms, not 19).
        """

        def loop() -> None:
            wait = interval
            while not self._stop.wait(wait):
                try:
                    done = self.refresh()
                except Exception as err:  # the watcher outlives any one look: said, then tried again
                    self._say(f"the index watcher could not look over {self.docs}: {type(err).__name__}: {err}")
                    wait = WATCH_SHARE * interval
                    continue
                changed = done.added or done.updated or done.removed
                wait = interval if changed else max(interval, WATCH_SHARE * done.seconds)

        self._watcher = threading.Thread(target=loop, name="kbchat-index-watch", daemon=True)
        self._watcher.start()
        return self._watcher

    def _say(self, message: str) -> None:
        if self.folder.warn is not None:
            self.folder.warn(message)

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

    def stats(self) -> dict[str, Any]:
        with self.reading() as db:
            return {
                "documents": db.execute("SELECT count(*) FROM documents").fetchone()[0],
                "passages": db.execute("SELECT count(*) FROM passages").fetchone()[0],
                "tenants": [row[0] for row in db.execute("SELECT DISTINCT tenant FROM documents ORDER BY tenant")],
                "refreshed_at": self.built_at,
            }


def _digest(heading: str, text: str) -> str:
    """The same section, word for word, in several documents shares one digest."""
    return hashlib.sha1(f"{heading}\n{text}".encode()).hexdigest()[:16]


def _corpus_shape(db: sqlite3.Connection) -> tuple[int, float]:
    """How many passages there are, and their mean length in terms (BM25's statistics).

    Read from the index on `length`, not the table: 80,000 passages' text is 60 MB to scan."""
    count, average = db.execute("SELECT count(*), avg(length) FROM passages").fetchone()
    return int(count), float(average or 0.0)


def _delete_document(db: sqlite3.Connection, doc_id: int, counts: Counter[str]) -> None:
    rows = db.execute(
        "SELECT title, heading, text FROM fts WHERE rowid IN (SELECT id FROM passages WHERE doc_id = ?)", (doc_id,)
    )
    for title, heading, text in rows:
        counts.subtract({*title.split(), *heading.split(), *text.split()})
    db.execute("DELETE FROM fts WHERE rowid IN (SELECT id FROM passages WHERE doc_id = ?)", (doc_id,))
    db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
    db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))


def _crafted(db: sqlite3.Connection) -> bool:
    """Whether the cache holds anything SCHEMA does not make (a trigger would run on every insert)."""
    try:
        return stranger(db, _schema_shapes()) is not None
    except sqlite3.DatabaseError:
        return True


@functools.cache
def _schema_shapes() -> Shapes:
    return made_by([SCHEMA])


def _schema_version(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.DatabaseError:
        return "broken"
    return row[0] if row else None


def default_db_path(docs: Path, cache_dir: Path) -> Path:
    """One cache file per docs folder."""
    digest = hashlib.sha1(str(docs.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"index-{digest}.sqlite"
