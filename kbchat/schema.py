"""Whether an SQLite file kbchat reads back holds only what kbchat's own statements make.

The answer log and serve's index cache are files anyone with write access to them can
craft. A trigger or view runs its own code whenever kbchat writes or reads (an endless
recursive query on every insert held `kbchat ask` forever); a table of another shape
breaks every query. So each object of the file is compared with what kbchat's schema
makes, built in memory: a trigger's, view's or virtual table's SQL (its words joined by
one space), a table's columns, and only the names of FTS5's shadow tables, whose SQL is
SQLite's own and may change with its version (as may how a renamed table's SQL is quoted).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

Shapes = dict[tuple[str, str], str]


def made_by(scripts: Iterable[str]) -> Shapes:
    """What these scripts make in an empty database: (type, name) → shape."""
    db = sqlite3.connect(":memory:")
    try:
        for script in scripts:
            db.executescript(script)
        return shapes(db)
    finally:
        db.close()


def stranger(db: sqlite3.Connection, expected: Shapes) -> tuple[str, str] | None:
    """The first object of the database that `expected` does not hold as it is, as (type, name); or None."""
    for (kind, name), found in shapes(db).items():
        if expected.get((kind, name)) != found:
            return kind, name
    return None


def shapes(db: sqlite3.Connection) -> Shapes:
    rows = db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    virtual = {str(name) for _, name, sql in rows if _words(sql).upper().startswith("CREATE VIRTUAL TABLE")}
    return {
        (str(kind), str(name)): _shape(db, kind, name, sql, virtual)
        for kind, name, sql in rows
        if not str(name).startswith("sqlite_")  # SQLite's own: autoindexes, sqlite_sequence, sqlite_stat1
    }


def _shape(db: sqlite3.Connection, kind: Any, name: Any, sql: Any, virtual: set[str]) -> str:
    text = _words(sql)
    if kind in ("trigger", "view") or str(name) in virtual:
        return text
    if any(str(name).startswith(f"{table}_") for table in virtual):
        return "shadow"  # FTS5's own tables: named after their virtual table
    if kind == "table":
        return repr(db.execute("SELECT * FROM pragma_table_info(?)", (str(name),)).fetchall())
    return text


def _words(sql: Any) -> str:
    return " ".join(sql.split()) if isinstance(sql, str) else ""
