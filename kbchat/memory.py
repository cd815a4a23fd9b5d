"""What kbchat remembers of each exchange, and how a follow-up carries its subject.

The answer log is opened only once an answer has ended (never on the way to the first
byte), and a log that cannot be written costs one warning, never the answer. The key,
and any other secret kbchat holds, is written as ****; the base URL without user:password.

A follow-up: the knowledge base answers one question at a time, so the query sent for
one holds the earlier exchange's query too (bounded), then the new question:

    <the earlier query, its last 1,000 characters at most>

    Follow-up question: <the new question>
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kbchat.errors import ReaderLeft
from kbchat.safe import one_line, redact
from kbchat.wire import FOLLOW_UP

if TYPE_CHECKING:
    from kbchat.answer_log import AnswerLog, Entry
    from kbchat.asker import Turn
    from kbchat.settings import Settings
    from kbchat.terminal import Terminal

CONTEXT = 1000  # characters of the earlier query a follow-up carries
LOGGED = 1 << 20  # characters of an answer the log keeps: writing 4 MiB took 30 ms at every exit, 1 MiB 10
_SURROGATE = re.compile("[\ud800-\udfff]")


def follow_up(earlier_query: str, question: str) -> str:
    """The query for a follow-up: the earlier query (cut at a word to CONTEXT characters), then the question."""
    earlier = earlier_query.strip()
    if len(earlier) > CONTEXT:
        cut = earlier[-CONTEXT:]
        space = cut.find(" ")
        earlier = "…" + (cut[space + 1 :] if 0 <= space < CONTEXT // 4 else cut)
    return f"{earlier}\n\n{FOLLOW_UP}{question}"


class Memory:
    """The answer log as the commands use it: written after each answer, read for follow-ups."""

    def __init__(self, term: Terminal, env: Mapping[str, str] = os.environ, via: str | None = None) -> None:
        self.term = term
        self.via = via  # what asks, when not a person: `mcp`
        self.env = env  # SQLite and the log's code are loaded only once an answer has ended
        self._log: AnswerLog | None = None
        self._failed = False

    def record(self, turn: Turn, settings: Settings) -> int | None:
        """Log one exchange, as asked under these settings (unless logging is off); its id, or None."""
        if not settings.log or self._failed:
            return None
        import sqlite3

        from kbchat.answer_log import Entry, LogUnavailable, source_records

        answer = turn.answer
        text = answer.text
        entry = Entry(
            question=clean(turn.question), answer=clean(text[:LOGGED]), status=status(turn),
            tenant=settings.tenant or "", base_url=settings.logged_url,
            profile=settings.profile, filters=settings.request_filters(),
            error=one_line(str(turn.failure)) if turn.failure else None,
            first_content_ms=_round(answer.first_content_ms), duration_ms=_round(answer.duration_ms),
            sources=source_records(answer.sources),
            query=clean(turn.query), continues=turn.continues, truncated=answer.truncated or len(text) > LOGGED,
            via=self.via, citations=answer.citations.as_json() if answer.citations is not None else None,
        )  # fmt: skip
        try:
            return self.log().add(entry)
        except LogUnavailable as err:
            self._warn(str(err))
        except (OSError, sqlite3.Error) as err:  # the answer stands; the log waits
            self._warn(f"the answer was not logged: {err}")
        return None

    def earlier(self, id: str, settings: Settings) -> Entry:
        """The exchange a follow-up continues: `last` asked of this knowledge base, or an id asked of it.

        Its question goes out again inside the follow-up's query, so it must have been asked
        of the same base URL and tenant: profile a's question never reaches profile b's server.
        (The log is read even with logging off, never created.)
        """
        from kbchat.answer_log import AnswerLog, find_in, log_path
        from kbchat.errors import UsageError

        if self._log is None:
            self._log = AnswerLog.open_existing(log_path(self.env))
        here = (settings.logged_url, settings.tenant or "")
        if id != "last":
            entry = find_in(self._log, id)
            if (entry.base_url, entry.tenant) != here:
                raise UsageError(
                    f"log entry #{entry.id} was asked of {where(entry.base_url, entry.tenant)}, "
                    f"not {where(*here)}: a follow-up goes where its question went"
                )
            return entry
        found = self._log.last(*here) if self._log else None
        if found is not None:
            return found
        other = find_in(self._log, "last")  # says when the log is empty
        raise UsageError(
            f"nothing asked of {where(*here)} to follow up (the last exchange, #{other.id}, "
            f"was asked of {where(other.base_url, other.tenant)})"
        )

    def log(self) -> AnswerLog:
        if self._log is None:
            from kbchat.answer_log import AnswerLog, log_path

            self._log = AnswerLog.open(log_path(self.env))
        return self._log

    def close(self) -> None:
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _warn(self, message: str) -> None:
        self._failed = True  # said once; a chat goes on without its log
        self.term.warn(message)


def where(base_url: str, tenant: str) -> str:
    return one_line(f"{base_url} tenant {tenant}")


def status(turn: Turn) -> str:
    """ok, cancelled or failed (the log's three). A reader of stdout that went away (`| head -3`) stopped
    reading as Ctrl-C stops it: cancelled, with its reason as the error; nothing failed."""
    answer = turn.answer
    if answer.cancelled or isinstance(turn.failure, ReaderLeft):
        return "cancelled"
    return "failed" if turn.failure is not None or answer.errors or not answer.finished else "ok"


def clean(text: str) -> str:
    """Secrets as ****, and lone surrogates (from undecodable bytes) as U+FFFD: UTF-8 cannot store them.

    Most text has none: ASCII is known at once, and encoding is ten times as quick as the
    search (22 ms for a 4 MiB answer), so the search runs only when encoding fails.
    """
    text = redact(text)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _round(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 1)
