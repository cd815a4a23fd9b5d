"""Every failure kbchat reports, one class per outcome, each with its exit code.

    KBChatError (1)
     ├── UsageError (2)          missing key/tenant, bad option, empty question, insecure URL
     ├── ConfigError (2)         unreadable or invalid config file
     ├── ConnectFailed (1)       no response after retries; names the host and the cause
     ├── HTTPStatusError (1)     "HTTP <code> <reason>: <detail>"
     ├── BadResponse (1)         a reply that is not an answer: not HTTP, too large, not JSON
     ├── Redirected (1)          a redirect kbchat does not follow (another origin, too many)
     ├── StreamIncomplete (1)    the stream broke off before [DONE]
     │    └── StreamIdle (1)     no byte for longer than the idle timeout
     ├── StreamTooLarge (1)      one line or event over the size limit
     ├── Cancelled (130)         Ctrl-C while the answer streamed
     └── ReaderLeft (141)        the reader of stdout went away (`| head`)

Lower layers raise these and never print or exit; `cli` turns one into
`kbchat: error: …` and its exit code. An `error` event inside a stream is data,
not an exception: it is collected by `events.Answer`.
"""

from __future__ import annotations

import enum
import errno
import sys
from typing import Any, ClassVar

from kbchat.safe import one_line


class ExitCode(enum.IntEnum):
    """How a kbchat process ends, for a shell or a script."""

    OK = 0
    FAILED = 1
    USAGE = 2  # the command line, the settings or the config file; nothing was sent
    CANCELLED = 130  # 128 + SIGINT
    READER_LEFT = 141  # 128 + SIGPIPE, as a shell reports a pipeline's reader going away


class KBChatError(Exception):
    """Base class: a failure explained to the user in one line."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED


class UsageError(KBChatError):
    """The command line or settings are wrong; nothing was sent."""

    exit_code = ExitCode.USAGE


class ConfigError(KBChatError):
    """The config file cannot be read or holds a bad value."""

    exit_code = ExitCode.USAGE


class ConnectFailed(KBChatError):
    """No HTTP response could be had, even after the retries."""


class HTTPStatusError(KBChatError):
    """The server answered with a status of 400 or more."""

    def __init__(self, status: int, reason: str, detail: str = "") -> None:
        self.status = status
        text = f"HTTP {status} {reason}".rstrip()
        super().__init__(f"{text}: {detail}" if detail else text)


class BadResponse(KBChatError):
    """The server answered with something that is not an answer (or not HTTP at all)."""


class Redirected(KBChatError):
    """The server redirected elsewhere; the key is not sent after it."""


class StreamIncomplete(KBChatError):
    """The stream ended, or broke, before [DONE]."""

    def __init__(self, message: str = "the stream ended before the answer was complete") -> None:
        super().__init__(message)


class StreamIdle(StreamIncomplete):
    """No byte arrived within the idle timeout."""


class StreamTooLarge(KBChatError):
    """One line or one event of the stream is larger than kbchat will hold."""


class Cancelled(KBChatError):
    """Ctrl-C while streaming; the partial answer stays where it was shown."""

    exit_code = ExitCode.CANCELLED

    def __init__(self, shown_on_screen: bool = False) -> None:
        self.shown_on_screen = shown_on_screen  # the renderer drew [cancelled] on stderr's terminal
        super().__init__("cancelled")


WINDOWS = sys.platform == "win32"


def reader_left(err: BaseException) -> bool:
    """Whether a write failed because the pipe's reader went away: BrokenPipeError, or on Windows the
    EINVAL OSError that CPython may raise instead (python/cpython#79935; pip reads it the same way)."""
    return isinstance(err, BrokenPipeError) or (WINDOWS and isinstance(err, OSError) and err.errno == errno.EINVAL)


class ReaderLeft(KBChatError):
    """The reader of stdout went away before the answer was written (`kbchat ask … | head -3`)."""

    exit_code = ExitCode.READER_LEFT

    def __init__(self) -> None:
        super().__init__("the reader of stdout went away")


DETAIL_LIMIT = 300  # characters of a server's error detail shown on the one error line


def format_detail(detail: Any) -> str:
    """Render an API `detail` (string, FastAPI list of {loc, msg}, or object) on one line."""
    try:
        text = _detail_text(detail)
    except (RecursionError, ValueError):  # nested too deeply to walk, or an integer too long to print
        text = "(a detail kbchat cannot show)"
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1].rstrip() + "…"


def _detail_text(detail: Any) -> str:
    if detail is None:
        return ""
    if isinstance(detail, str):
        return one_line(detail)
    if isinstance(detail, list):
        return "; ".join(filter(None, (_format_item(item) for item in detail)))
    if isinstance(detail, dict) and ("msg" in detail or "message" in detail):
        return _format_item(detail)
    import json

    return one_line(json.dumps(detail, ensure_ascii=False, separators=(", ", ": ")))


def _format_item(item: Any) -> str:
    """One FastAPI validation entry as `loc.path: msg`, anything else compactly."""
    if not isinstance(item, dict):
        return _detail_text(item)
    msg = item.get("msg", item.get("message"))
    if not isinstance(msg, str):
        import json

        return _detail_text(json.dumps(item, ensure_ascii=False))
    loc = item.get("loc")
    if isinstance(loc, list) and loc:
        return one_line(f"{'.'.join(str(part) for part in loc)}: {msg}")
    return one_line(msg)
