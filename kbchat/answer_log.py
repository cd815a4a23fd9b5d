"""The answer log: every answered question kept in a local SQLite database, searchable.

One row per exchange (question, answer as received, how it ended, how long it took,
its sources, what it followed up), with an FTS5 index over questions and answers. WAL
mode, so a running chat and a `kbchat log` in another terminal never block each other;
mode 0600, and never the key. The schema is versioned with `PRAGMA user_version`, and
each version's migration runs once, in order, so an old log opens in a newer kbchat.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kbchat.errors import KBChatError, UsageError

ANSWER_LIMIT = 4 << 20  # characters of an answer kept; a longer one is logged cut, and says so
BUSY_TIMEOUT = 5.0  # seconds a write waits for another kbchat's write

# Each migration takes the log from the version before it to its own (its index + 1).
MIGRATIONS = (
    # 1: the exchanges, one row each
    """
    CREATE TABLE exchanges (
        id INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        profile TEXT NOT NULL,
        base_url TEXT NOT NULL,
        tenant TEXT NOT NULL,
        filters TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        first_content_ms REAL,
        duration_ms REAL
    );
    """,
    # 2: sources, follow-ups (the query sent, the exchange continued), cut answers, and search
    """
    ALTER TABLE exchanges ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE exchanges ADD COLUMN query TEXT;
    ALTER TABLE exchanges ADD COLUMN continues INTEGER;
    ALTER TABLE exchanges ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
    UPDATE exchanges SET query = question;
    CREATE VIRTUAL TABLE exchanges_fts USING fts5 (
        question, answer, content = 'exchanges', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2');
    INSERT INTO exchanges_fts (rowid, question, answer) SELECT id, question, answer FROM exchanges;
    CREATE TRIGGER exchanges_added AFTER INSERT ON exchanges BEGIN
        INSERT INTO exchanges_fts (rowid, question, answer) VALUES (new.id, new.question, new.answer);
    END;
    CREATE TRIGGER exchanges_removed AFTER DELETE ON exchanges BEGIN
        INSERT INTO exchanges_fts (exchanges_fts, rowid, question, answer)
            VALUES ('delete', old.id, old.question, old.answer);
    END;
    """,
)
VERSION = len(MIGRATIONS)
COLUMNS = ("id", "time", "profile", "base_url", "tenant", "filters", "question", "answer", "status", "error",
           "first_content_ms", "duration_ms", "sources", "query", "continues", "truncated")  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One logged exchange. `question` is what was typed; `query` what was sent (with its context)."""

    question: str
    answer: str
    status: str  # ok, cancelled or failed
    tenant: str
    base_url: str  # without user:password@
    profile: str
    filters: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    first_content_ms: float | None = None
    duration_ms: float | None = None
    sources: Sequence[Mapping[str, Any]] = ()
    query: str = ""
    continues: int | None = None
    truncated: bool = False  # the answer was longer than ANSWER_LIMIT characters
    time: str = ""  # UTC ISO 8601; set when logged
    id: int = 0  # set when logged

    def to_json(self) -> dict[str, Any]:
        """The entry as `kbchat log --json` prints it."""
        record = {"id": self.id, "time": self.time, **asdict(self)}
        record["filters"] = dict(self.filters)
        record["sources"] = [dict(source) for source in self.sources]
        return record


class AnswerLog:
    """The log database; open it with `AnswerLog.open(path)`, use it, close it."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open_existing(cls, path: Path) -> AnswerLog | None:
        """The log if there is one; None while nothing has been logged (reading creates no file)."""
        return cls.open(path) if path.exists() else None

    @classmethod
    def open(cls, path: Path) -> AnswerLog:
        """Open (or create, mode 0600) the log, bringing its schema up to date."""
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as err:
            raise LogUnavailable(f"cannot open the answer log {path}: {_reason(err)}") from None
        log = cls(db, path)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA secure_delete = ON")  # a removed answer is overwritten, not left in free pages
            log.migrate()
        except sqlite3.DatabaseError as err:
            db.close()
            raise LogUnavailable(f"cannot use the answer log {path}: {_reason(err)}") from None
        return log

    def migrate(self) -> None:
        """Run the migrations this log has not had yet, each in its own transaction.

        An up-to-date log is only read (a `kbchat log` never waits for a chat's write). Else
        the version is read again inside the write transaction, so two kbchats opening a new
        log at once migrate it once.
        """
        if self.version() == VERSION:
            return
        while True:
            with self.transaction():
                version = self.version()
                if version > VERSION:
                    raise LogUnavailable(f"the answer log {self.path} is from a newer kbchat (schema {version})")
                if version == VERSION:
                    return
                for statement in statements(MIGRATIONS[version]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {version + 1}")

    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction, begun at once (IMMEDIATE): committed, or rolled back on any error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            if self.db.in_transaction:
                self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> AnswerLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------

    def add(self, entry: Entry) -> int:
        """Log one exchange; its id."""
        time = entry.time or datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        row = (time, entry.profile, entry.base_url, entry.tenant, json.dumps(dict(entry.filters), ensure_ascii=False),
               entry.question, entry.answer, entry.status, entry.error, entry.first_content_ms, entry.duration_ms,
               json.dumps([dict(s) for s in entry.sources], ensure_ascii=False), entry.query or entry.question,
               entry.continues, int(entry.truncated))  # fmt: skip
        with self.transaction():
            cursor = self.db.execute(
                f"INSERT INTO exchanges ({', '.join(COLUMNS[1:])}) VALUES ({', '.join('?' * (len(COLUMNS) - 1))})", row
            )
        return int(cursor.lastrowid or 0)

    def remove(self, ids: Sequence[int]) -> int:
        """Remove these entries (all of them must exist, or none is removed); how many."""
        unique = list(dict.fromkeys(ids))
        with self.transaction():
            for id in unique:
                if self.db.execute("DELETE FROM exchanges WHERE id = ?", (id,)).rowcount == 0:
                    raise UsageError(f"no log entry {id} (kbchat log lists them)")
        self.forget()
        return len(unique)

    def clear(self) -> int:
        with self.transaction():
            count = self.db.execute("DELETE FROM exchanges").rowcount
        self.forget()
        return int(count)

    def forget(self) -> None:
        """After a removal: the old pages out of the write-ahead log too, and the index merged,
        so what was removed is in no file (best effort: a reader in another terminal may hold
        the WAL a moment longer)."""
        self.db.execute("INSERT INTO exchanges_fts (exchanges_fts) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- reading -----------------------------------------------------------------------------

    def get(self, id: int) -> Entry | None:
        row = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM exchanges WHERE id = ?", (id,)).fetchone()
        return _entry(row) if row else None

    def last(self) -> Entry | None:
        row = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM exchanges ORDER BY id DESC LIMIT 1").fetchone()
        return _entry(row) if row else None

    def find(self, id: str) -> Entry:
        """An entry by its id, or `last`; an unknown one is a usage error."""
        entry = self.last() if id == "last" else self.get(int(id)) if id.isdigit() else None
        if entry is None and id == "last":
            raise UsageError("the answer log is empty")
        if entry is None:
            raise UsageError(f"no log entry {id} (kbchat log lists them)")
        return entry

    def entries(self, limit: int | None = 10, text: str = "", tenant: str = "") -> list[Entry]:
        """The latest `limit` entries (all with None) matching the text and tenant, oldest first.

        A search walks the full-text index newest first and stops at the limit: a common
        word in 100,000 answers costs no more than a rare one.
        """
        columns = ", ".join(f"e.{c}" for c in COLUMNS)
        sql, args = f"SELECT {columns} FROM exchanges e", []
        if text:
            sql = f"SELECT {columns} FROM exchanges_fts f JOIN exchanges e ON e.id = f.rowid"
            sql += " WHERE exchanges_fts MATCH ?"
            args.append(text)
        if tenant:
            sql += (" AND" if text else " WHERE") + " e.tenant = ?"
            args.append(tenant)
        sql += (" ORDER BY f.rowid DESC" if text else " ORDER BY e.id DESC") + (" LIMIT ?" if limit is not None else "")
        try:
            rows = self.db.execute(sql, [*args, limit] if limit is not None else args).fetchall()
        except sqlite3.OperationalError as err:
            if text and not any(word in str(err) for word in ("locked", "busy", "disk")):  # FTS5's query syntax
                raise UsageError(
                    f'cannot search the log for "{text}": {err}; use words, "a phrase", AND, OR, NOT, prefix*'
                ) from None
            raise
        return [_entry(row) for row in reversed(rows)]


def find_in(log: AnswerLog | None, id: str) -> Entry:
    """An entry by its id, or `last`, in a log there may be no file of yet; an unknown one is a usage error."""
    if log is None:
        raise UsageError("the answer log is empty" if id == "last" else f"no log entry {id} (the log is empty)")
    return log.find(id)


class LogUnavailable(KBChatError):
    """The log cannot be opened or written: said once, as a warning, and the answer stands."""


def statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, whole (a trigger's body holds `;` too)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"an unfinished statement in a migration: {pending.strip()[:60]}")


def log_path(env: Mapping[str, str]) -> Path:
    """$KBCHAT_LOG, else log.db in the platform's user data dir."""
    if env.get("KBCHAT_LOG"):
        return Path(env["KBCHAT_LOG"]).expanduser()
    from platformdirs import user_data_path

    return user_data_path("kbchat", appauthor=False) / "log.db"


def _entry(row: Sequence[Any]) -> Entry:
    values = dict(zip(COLUMNS, row, strict=True))
    values["filters"] = json.loads(values["filters"] or "{}")
    values["sources"] = json.loads(values["sources"] or "[]")
    values["truncated"] = bool(values["truncated"])
    return Entry(**values)


def _reason(err: BaseException) -> str:
    return getattr(err, "strerror", None) or str(err)
