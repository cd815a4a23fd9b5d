"""The answer log: every answered question kept in a local SQLite database, searchable.

One row per exchange (question, answer as received, how it ended, how long it took,
its sources, what it followed up), with an FTS5 index over questions and answers. WAL
mode, so a running chat and a `kbchat log` in another terminal never block each other;
mode 0600, and never the key. The schema is versioned with `PRAGMA user_version`, and
each version's migration runs once, in order, so an old log opens in a newer kbchat.

The file is read back as untrusted input: anyone who can write it chooses what is in
it. A log whose schema holds anything kbchat did not make (a trigger runs code on every
insert) is refused; every statement stops at a deadline; every value read is checked
for its type; and whatever reaches a screen goes through kbchat.safe there.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kbchat.errors import KBChatError, UsageError
from kbchat.events import Origin, Sources
from kbchat.passages import Passage
from kbchat.private import private_database
from kbchat.safe import one_line
from kbchat.schema import Shapes, made_by, stranger

BUSY_TIMEOUT = 5.0  # seconds a write waits for another kbchat's write
DEADLINE = 5.0  # seconds any one read or write may work: a crafted log must not hold kbchat
SCAN_DEADLINE = 60.0  # seconds for a look through every answer (log rm's for a removed question)
PREVIEW = 400  # characters of a long answer kept apart for `kbchat log`'s list (a whole answer may be 4 MiB)
LONG_ANSWER = 8192  # characters from which an answer gets a preview: a shorter one is read whole, at little cost
QUOTED = 8  # characters a removed question has at least for `log rm` to look for it in other entries
MAX_ID = 10**18 - 1  # an id of more digits is no entry (SQLite's integers end at 2**63)

SEARCHED = 65536  # characters of an answer `kbchat log -q` searches: indexing a 4 MiB answer's words took 100 ms


def search_triggers(answer: str) -> str:
    """The full-text index follows the table (an FTS5 table with external content); `answer`:
    what of a row's answer it holds, `{row}.answer` for the whole of it."""
    new, old = answer.format(row="new"), answer.format(row="old")
    return f"""
    CREATE TRIGGER exchanges_added AFTER INSERT ON exchanges BEGIN
        INSERT INTO exchanges_fts (rowid, question, answer) VALUES (new.id, new.question, {new});
    END;
    CREATE TRIGGER exchanges_removed AFTER DELETE ON exchanges BEGIN
        INSERT INTO exchanges_fts (exchanges_fts, rowid, question, answer)
            VALUES ('delete', old.id, old.question, {old});
    END;
    """


SEARCHED_ANSWER = f"substr({{row}}.answer, 1, {SEARCHED})"


def exchanges_table(name: str, via: bool = False) -> str:
    """The exchanges table as schema 3 laid it out: the small columns first, the long texts last
    (SQLite walks a long answer's overflow pages to reach any column stored after it); `via` (4)
    among the small ones."""
    return f"""CREATE TABLE {name} (
        id INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        profile TEXT NOT NULL,
        base_url TEXT NOT NULL,
        tenant TEXT NOT NULL,
        filters TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        first_content_ms REAL,
        duration_ms REAL,
        continues INTEGER,
        truncated INTEGER NOT NULL DEFAULT 0,{" via TEXT," if via else ""}
        preview TEXT NOT NULL DEFAULT '',
        question TEXT NOT NULL,
        query TEXT,
        sources TEXT NOT NULL DEFAULT '[]',
        answer TEXT NOT NULL
    );"""


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
    """
    + search_triggers("{row}.answer"),
    # 3: the table made again with the small columns first and the long texts last (SQLite
    # walks a 4 MiB answer's overflow pages to reach any column stored after it), and a long
    # answer's start kept apart ('' for a short one), so the list never reads whole answers
    f"""
    {exchanges_table("exchanges_3")}
    INSERT INTO exchanges_3 (id, time, profile, base_url, tenant, filters, status, error, first_content_ms,
        duration_ms, continues, truncated, preview, question, query, sources, answer)
        SELECT id, time, profile, base_url, tenant, filters, status, error, first_content_ms, duration_ms,
            continues, truncated,
            CASE WHEN length(answer) > {LONG_ANSWER} THEN substr(answer, 1, {PREVIEW}) ELSE '' END,
            question, query, sources, answer
        FROM exchanges;
    DROP TABLE exchanges;
    ALTER TABLE exchanges_3 RENAME TO exchanges;
    """
    + search_triggers("{row}.answer"),  # dropped with the old table
    # 4: what asked (`via`: mcp for an agent's tool call, else NULL), among the small columns;
    # and only an answer's first SEARCHED characters searched, so a 4 MiB answer is logged at once
    f"""
    {exchanges_table("exchanges_4", via=True)}
    INSERT INTO exchanges_4 (id, time, profile, base_url, tenant, filters, status, error, first_content_ms,
        duration_ms, continues, truncated, preview, question, query, sources, answer)
        SELECT id, time, profile, base_url, tenant, filters, status, error, first_content_ms, duration_ms,
            continues, truncated, preview, question, query, sources, answer
        FROM exchanges;
    DROP TABLE exchanges;
    ALTER TABLE exchanges_4 RENAME TO exchanges;
    INSERT INTO exchanges_fts (exchanges_fts) VALUES ('delete-all');
    INSERT INTO exchanges_fts (rowid, question, answer)
        SELECT id, question, {SEARCHED_ANSWER.format(row="exchanges")} FROM exchanges;
    """
    + search_triggers(SEARCHED_ANSWER),
    # 5: the citations `--cite` matched (JSON, as kbchat.citations' data), NULL when none were asked;
    # last, after the answer: only `log show` and `log --json` read them, and they read the answer too
    """
    ALTER TABLE exchanges ADD COLUMN citations TEXT;
    """,
)
VERSION = len(MIGRATIONS)
COLUMNS = ("id", "time", "profile", "base_url", "tenant", "filters", "question", "answer", "status", "error",
           "first_content_ms", "duration_ms", "sources", "query", "continues", "truncated", "via",
           "citations")  # fmt: skip
WRITTEN = (*COLUMNS[1:], "preview")


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
    truncated: bool = False  # the answer was longer than the log keeps (memory.LOGGED)
    via: str | None = None  # what asked, when not a person: `mcp` for an agent's tool call
    citations: Mapping[str, Any] | None = None  # what `--cite` matched (kbchat.citing's JSON), else None
    time: str = ""  # UTC ISO 8601; set when logged
    id: int = 0  # set when logged

    def to_json(self) -> dict[str, Any]:
        """The entry as `kbchat log --json` prints it."""
        record = {"id": self.id, "time": self.time, **asdict(self)}
        record["filters"] = dict(self.filters)
        record["sources"] = [dict(source) for source in self.sources]
        return record

    def shown_sources(self) -> Sources | None:
        """The logged sources as `ask` showed them: the answer's own, else the closest passages of a search.

        Read back as untrusted: a field of another type is left out, fields a later kbchat added aside.
        """
        if not self.sources:
            return None
        origin: Origin = "answer" if any(source.get("from") == "answer" for source in self.sources) else "search"
        return Sources(origin, self.question, tuple(map(_passage, self.sources)), raw="")


def source_records(sources: Iterable[Sources]) -> list[dict[str, Any]]:
    """Each passage of an answer's sources as the log keeps it, with `from`: its Sources' origin."""
    return [{**{key: value for key, value in asdict(passage).items() if value not in (None, "", (), [])},
             "from": sources_event.origin}
            for sources_event in sources for passage in sources_event.passages]  # fmt: skip


def _passage(source: Mapping[str, Any]) -> Passage:
    score, tags = source.get("score"), source.get("tags")
    fields: dict[str, Any] = {
        name: value if isinstance(value := source.get(name), str) else ""
        for name in ("id", "document", "text", "title", "heading", "location")
    }
    fields["score"] = float(score) if isinstance(score, int | float) and math.isfinite(score) else None
    fields["tags"] = tuple(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else ()
    return Passage(**fields)


class AnswerLog:
    """The log database; open it with `AnswerLog.open(path)`, use it, close it."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self._timing = False

    @classmethod
    def open_existing(cls, path: Path) -> AnswerLog | None:
        """The log if there is one; None while nothing has been logged (reading creates no file)."""
        return cls.open(path) if path.exists() else None

    @classmethod
    def open(cls, path: Path) -> AnswerLog:
        """Open (or create, mode 0600) the log, bringing its schema up to date."""
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            private_database(path)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as err:
            raise LogUnavailable(f"cannot open the answer log {path}: {_reason(err)}") from None
        log = cls(db, path)
        try:
            with log.timed():
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA secure_delete = ON")  # a removed answer is overwritten, not left in free pages
                log.check_schema()
            log.migrate()  # kbchat's own statements over a schema just checked: as long as the log is big
        except (sqlite3.DatabaseError, LogUnavailable) as err:
            db.close()
            if isinstance(err, LogUnavailable):
                raise
            raise LogUnavailable(f"cannot use the answer log {path}: {_reason(err)}") from None
        return log

    def check_schema(self) -> None:
        """Refuse a log holding what no kbchat made: a trigger or view runs code whenever the log is used.

        Every object must be one kbchat's migrations make, of the same shape (see `shape`). The
        version and the objects are read in one transaction: another kbchat may be migrating.
        """
        self.db.execute("BEGIN")
        try:
            version = self.version()
            found = stranger(self.db, expected_schema(version)) if 0 <= version <= VERSION else None
        finally:
            self.db.execute("COMMIT")
        if version < 0:
            raise LogUnavailable(f"the answer log {self.path} has an unknown schema version ({version})")
        if found is not None:
            kind, name = found
            raise LogUnavailable(
                f"the answer log {self.path} holds a {one_line(kind)} {one_line(name)[:60]!r} "
                "that kbchat did not make; it is not used (move it away to start a new log)"
            )

    @contextlib.contextmanager
    def timed(self, scan: bool = False) -> Iterator[None]:
        """Statements run meanwhile stop once they have worked DEADLINE seconds (SQLite's progress
        handler); SCAN_DEADLINE for a look through every answer (`log rm`'s), linear in the log's size."""
        seconds = SCAN_DEADLINE if scan else DEADLINE
        if self._timing:
            yield  # inside another timed piece of work: its deadline holds
            return
        deadline = time.monotonic() + seconds
        self.db.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
        self._timing = True
        try:
            yield
        except sqlite3.OperationalError as err:
            if "interrupted" not in str(err):
                raise
            if time.monotonic() < deadline:  # Ctrl-C: Python's handler ran inside the progress handler, which stopped
                raise KeyboardInterrupt from None
            raise LogUnavailable(f"the answer log {self.path} took over {seconds:g} s; left as it was") from None
        finally:
            self._timing = False
            self.db.set_progress_handler(None, 0)

    def migrate(self) -> None:
        """Run the migrations this log has not had yet, each in its own transaction.

        An up-to-date log is only read (a `kbchat log` never waits for a chat's write). Else
        the version is read again inside the write transaction, so two kbchats opening a new
        log at once migrate it once.
        """
        if self.version() == VERSION:
            return
        while True:
            with self.transaction(timed=False):
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
    def transaction(self, timed: bool = True) -> Iterator[None]:
        """A write transaction, begun at once (IMMEDIATE): committed, or rolled back on any error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            with self.timed() if timed else contextlib.nullcontext():
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
               entry.continues, int(entry.truncated), entry.via,
               None if entry.citations is None else json.dumps(entry.citations, ensure_ascii=False),
               preview(entry.answer))  # fmt: skip
        with self.transaction():
            cursor = self.db.execute(
                f"INSERT INTO exchanges ({', '.join(WRITTEN)}) VALUES ({', '.join('?' * len(WRITTEN))})", row
            )
        return int(cursor.lastrowid or 0)

    def remove(self, ids: Sequence[int]) -> tuple[int, list[int]]:
        """Remove these entries (all of them must exist, or none is removed); how many, and
        the entries left that still quote a removed question (an answer may repeat it).

        A follow-up's query holds the question it followed: each follow-up of a removed
        entry, and each of theirs, has its query made again without it.
        """
        unique = list(dict.fromkeys(ids))
        with self.transaction():
            questions = []
            for id in unique:
                row = self.db.execute("SELECT question FROM exchanges WHERE id = ?", (id,)).fetchone()
                if row is None:
                    raise UsageError(f"no log entry {id} (kbchat log lists them)")
                questions.append(_text(row[0]))
                self.db.execute("DELETE FROM exchanges WHERE id = ?", (id,))
            self._requery(set(unique))
        quoting = self._quoting(questions)
        self.forget()
        return len(unique), quoting

    def _quoting(self, questions: Sequence[str]) -> list[int]:
        """The entries whose question, query or answer holds one of these questions (of QUOTED characters or more)."""
        found: set[int] = set()
        with self.timed(scan=True):  # 1.2 s through the 312 MB of 100,000 answers
            for question in {q.strip() for q in questions if len(q.strip()) >= QUOTED}:
                rows = self.db.execute(
                    "SELECT id FROM exchanges WHERE instr(question, ?1) OR instr(query, ?1) OR instr(answer, ?1)",
                    (question,),
                ).fetchall()
                found.update(id for (id,) in rows)
        return sorted(found)

    def _requery(self, removed: set[int]) -> None:
        """The queries of the follow-ups of removed entries, made again from what is left, in order."""
        from kbchat.memory import follow_up

        queries: dict[int, str | None] = dict.fromkeys(removed)  # a removed entry's query is gone
        rows = self.db.execute(
            "SELECT id, question, continues FROM exchanges WHERE continues IS NOT NULL AND id > ? ORDER BY id",
            (min(removed),),
        ).fetchall()
        for id, question, continues in rows:
            if continues not in queries:
                continue
            earlier = queries[continues]
            query = follow_up(earlier, str(question)) if earlier is not None else str(question)
            queries[id] = query
            self.db.execute("UPDATE exchanges SET query = ? WHERE id = ?", (query, id))

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
        with self.timed():
            row = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM exchanges WHERE id = ?", (id,)).fetchone()
        return _entry(row) if row else None

    def last(self, base_url: str | None = None, tenant: str | None = None) -> Entry | None:
        """The latest entry; with `base_url` and `tenant`, the latest asked of that knowledge base."""
        sql, args = f"SELECT {', '.join(COLUMNS)} FROM exchanges", []
        if base_url is not None:
            sql, args = sql + " WHERE base_url = ? AND tenant = ?", [base_url, tenant or ""]
        with self.timed():
            row = self.db.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
        return _entry(row) if row else None

    def find(self, id: str) -> Entry:
        """An entry by its id, or `last`; an unknown one is a usage error."""
        entry = self.last() if id == "last" else self.get(entry_id(id))
        if entry is None and id == "last":
            raise UsageError("the answer log is empty")
        if entry is None:
            raise UsageError(f"no log entry {one_line(id)} (kbchat log lists them)")
        return entry

    def entries(self, limit: int | None = 10, text: str = "", tenant: str = "", whole: bool = True) -> list[Entry]:
        """The latest `limit` entries (all with None) matching the text and tenant, oldest first.

        A search walks the full-text index newest first and stops at the limit: a common
        word in 100,000 answers costs no more than a rare one. `whole=False` reads each
        answer's first PREVIEW characters only (what a list shows).
        """
        columns = [f"e.{c}" for c in COLUMNS] if whole else LISTED
        return [_entry(row) for row in reversed(self._select(limit, text, tenant, columns))]

    def each(self, limit: int | None = None, text: str = "", tenant: str = "") -> Iterator[Entry]:
        """The same entries as `entries`, oldest first, read one at a time (an export holds one in memory)."""
        for (id,) in reversed(self._select(limit, text, tenant, ("e.id",))):
            entry = self.get(id)
            if entry is not None:
                yield entry

    def _select(self, limit: int | None, text: str, tenant: str, columns: Sequence[str]) -> list[Any]:
        for value, what in ((text, "search the log for"), (tenant, "list the entries of tenant")):
            if not _is_text(value):
                raise UsageError(f"cannot {what} {one_line(value)!r}: it is not valid UTF-8")
        shown = ", ".join(columns)
        sql, args = f"SELECT {shown} FROM exchanges e", []
        if text:
            sql = f"SELECT {shown} FROM exchanges_fts f JOIN exchanges e ON e.id = f.rowid"
            sql += " WHERE exchanges_fts MATCH ?"
            args.append(text)
        if tenant:
            sql += (" AND" if text else " WHERE") + " e.tenant = ?"
            args.append(tenant)
        sql += (" ORDER BY f.rowid DESC" if text else " ORDER BY e.id DESC") + (" LIMIT ?" if limit is not None else "")
        try:
            with self.timed():
                return self.db.execute(sql, [*args, limit] if limit is not None else args).fetchall()
        except sqlite3.OperationalError as err:
            if text and not any(word in str(err) for word in ("locked", "busy", "disk")):  # FTS5's query syntax
                raise UsageError(
                    f'cannot search the log for "{one_line(text)}": {err}; use words, "a phrase", AND, OR, NOT, prefix*'
                ) from None
            raise


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
    from kbchat.places import user_folder

    return user_folder("data", env) / "log.db"


def preview(answer: str) -> str:
    """What the list reads of a long answer; "" for one short enough to read whole (a preview of
    every answer made a log of ordinary ones 28 % bigger)."""
    return answer[:PREVIEW] if len(answer) > LONG_ANSWER else ""


def entry_id(text: str) -> int:
    """A log entry's id as typed: ASCII digits only (str.isdigit takes `²` and Arabic-Indic digits), not too long."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID))):
        raise UsageError(f"no log entry {one_line(text)[:40]} (an id is a number; kbchat log lists them)")
    return int(text)


@functools.cache
def expected_schema(version: int) -> Shapes:
    """What kbchat's migrations up to `version` make (see kbchat.schema)."""
    return made_by(MIGRATIONS[:version])


PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between looks at the clock (well under a millisecond)
LISTED = tuple(  # what a list reads: no long answer whole
    "CASE WHEN e.preview = '' THEN e.answer ELSE e.preview END"
    if column == "answer"
    else "NULL"
    if column == "citations"
    else f"e.{column}"
    for column in COLUMNS
)
_TEXT = ("time", "profile", "base_url", "tenant", "question", "answer", "status", "query")


def _entry(row: Sequence[Any]) -> Entry:
    """An entry from a row of a file anyone may have written: each value of the type it should have, or left out."""
    values = dict(zip(COLUMNS, row, strict=True))
    for name in _TEXT:
        values[name] = _text(values[name])
    values["error"] = None if values["error"] is None else _text(values["error"])
    for name in ("first_content_ms", "duration_ms"):
        value = values[name]
        values[name] = float(value) if isinstance(value, int | float) and math.isfinite(value) else None
    values["continues"] = values["continues"] if type(values["continues"]) is int else None
    values["truncated"] = values["truncated"] == 1
    values["via"] = values["via"] if isinstance(values["via"], str) else None
    filters = _json(values["filters"])
    values["filters"] = filters if isinstance(filters, dict) else {}
    sources = _json(values["sources"])
    values["sources"] = [s for s in sources if isinstance(s, dict)] if isinstance(sources, list) else []
    citations = _json(values["citations"]) if values["citations"] is not None else None
    values["citations"] = citations if isinstance(citations, dict) else None
    return Entry(**values)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _json(value: Any) -> Any:
    try:
        return json.loads(_text(value) or "null")
    except (ValueError, RecursionError):
        return None


def _is_text(value: str) -> bool:
    """Whether the value can be stored: an undecodable command-line byte arrives as a lone surrogate."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reason(err: BaseException) -> str:
    return getattr(err, "strerror", None) or str(err)
