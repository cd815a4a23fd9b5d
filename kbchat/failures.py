"""How an HTTP attempt went wrong, told in a few words, and whether waiting can help.

The causes of a failed connection, a reply that is not HTTP, a redirect kbchat does not
follow, a status error and its detail; and when to retry: 429/502/503/504 and
connection failures, after Retry-After or X-RateLimit-Reset, else exponential backoff.
"""

from __future__ import annotations

import http
import http.client
import json
import random
import socket
import time
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions

from kbchat import wire
from kbchat.errors import HTTPStatusError, format_detail
from kbchat.safe import display_url, one_line

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time, with jitter
BACKOFF_CAP = 30.0
EPOCH_THRESHOLD = 1_000_000_000  # X-RateLimit-Reset above this is an epoch time, not a wait
ERROR_BODY_LIMIT = 1 << 20

E = TypeVar("E", bound=BaseException)


def origin_of(url: str) -> tuple[str, str, int]:
    """Scheme, host and port: where a request goes, and so where the key goes."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or (443 if parts.scheme == "https" else 80)


def redirect_message(target: str, path: str, status: int, method: str, same_origin: bool) -> str:
    """Where the server pointed, and the --base-url that would go there directly."""
    parts = urlsplit(target)
    prefix = parts.path[: -len(path)] if parts.path.endswith(path) else ""
    base = urlunsplit((parts.scheme, parts.netloc, prefix.rstrip("/"), "", ""))
    shown = one_line(display_url(target))
    advice = f"; if that is right, use --base-url {one_line(display_url(base))}"
    if same_origin:  # a POST sent on after 301/302/303 would arrive as a GET, without its body
        if not parts.path.endswith(path):
            advice = "; kbchat does not follow it"
        return f"the server redirected to {shown} with HTTP {status}, which would turn the {method} into a GET{advice}"
    return f"the server redirected to {shown}{advice}"


def not_http(err: requests.ConnectionError) -> str:
    """What is wrong when the reply was not HTTP at all, or had oversized headers; "" otherwise."""
    problem = find(err, http.client.HTTPException)
    if problem is None or isinstance(problem, http.client.RemoteDisconnected):
        return ""  # closed without a word: a connection failure, worth retrying
    if isinstance(problem, http.client.LineTooLong):
        return "sent an HTTP header line longer than 64 KiB"
    if isinstance(problem, http.client.BadStatusLine):
        sent = one_line(str(problem.args[0]) if problem.args else "")[:60]
        return "did not answer with HTTP" + (f' (it sent "{sent}")' if sent else "")
    return f"sent a malformed HTTP response: {one_line(str(problem))[:100]}"


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: 0.5 s, 1 s, 2 s … each scaled by 0.5 to 1."""
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * random.uniform(0.5, 1.0))


def retry_delay(headers: Any, attempt: int, now: float | None = None) -> float:
    """Honour Retry-After, else X-RateLimit-Reset (a wait if small, an epoch if large), capped."""
    now = time.time() if now is None else now
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return _clamp(float(retry_after))
        except ValueError:
            import email.utils  # an HTTP date is rare: import only for it

            try:
                return _clamp(email.utils.parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            pass
        else:
            return _clamp(value - now if value > EPOCH_THRESHOLD else value)
    return backoff(attempt)


def _clamp(seconds: float) -> float:
    return max(0.0, min(BACKOFF_CAP, seconds))


def status_error(response: requests.Response, hint: str = "") -> HTTPStatusError:
    """HTTP <code> <reason>: <detail>, the detail read from a JSON body when there is one; then a hint."""
    reason = response.reason or phrase(response.status_code)
    obj = read_json(response)
    detail = error_text(obj) if isinstance(obj, dict) else format_detail(obj) if isinstance(obj, str | list) else ""
    return HTTPStatusError(response.status_code, reason, "; ".join(part for part in (detail, hint) if part))


def read_json(response: requests.Response) -> Any:
    """A small body (an error, or a JSON answer where a stream was expected) as JSON, else None."""
    try:
        return wire.unwrap(json.loads(response.raw.read(ERROR_BODY_LIMIT, decode_content=True)))
    except (ValueError, RecursionError, urllib3.exceptions.HTTPError, OSError):
        return None


def error_text(obj: dict[str, Any]) -> str:
    return format_detail(wire.error_detail(obj))


def phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def worth_retrying(err: requests.ConnectionError, loopback: bool = False) -> bool:
    """TLS failures and unknown host names do not heal by themselves, nor does a refused port on
    this machine (nothing listens there: the server is not started); the rest may."""
    if isinstance(err, requests.exceptions.SSLError):
        return False
    if loopback and find(err, ConnectionRefusedError):
        return False
    gai = find(err, socket.gaierror)
    return gai is None or gai.errno == socket.EAI_AGAIN


def cause(err: BaseException, connect_timeout: float) -> str:
    """The root cause of a failed connection, in a few words."""
    if isinstance(err, requests.exceptions.ConnectTimeout) or find(err, TimeoutError):
        return f"timed out after {connect_timeout:g} s"
    if find(err, socket.gaierror):
        return "cannot resolve the host name"
    import ssl

    tls = find(err, ssl.SSLError)
    if tls is not None or isinstance(err, requests.exceptions.SSLError):
        if getattr(tls, "reason", None) == "WRONG_VERSION_NUMBER":
            return "the server speaks plain http, not https"
        reason = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or "handshake failed"
        if isinstance(tls, ssl.SSLCertVerificationError):
            return (f"TLS error: {reason}; if your network inspects TLS (a company proxy), pass its CA "
                    "certificate (PEM) with --ca-bundle PATH (or REQUESTS_CA_BUNDLE), or add it to the system "
                    "trust store")  # fmt: skip
        return f"TLS error: {reason}"
    if find(err, ConnectionRefusedError):
        return "connection refused"
    if find(err, ConnectionResetError):
        return "connection reset by the server"
    os_error = find(err, OSError)
    if os_error is not None and os_error.strerror:
        return os_error.strerror.lower()
    return "connection failed"


def find(err: BaseException, kind: type[E]) -> E | None:
    """Search an exception's causes, contexts and urllib3 `reason`s for one of `kind`."""
    seen: set[int] = set()
    stack: list[Any] = [err]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind) and current is not err:
            return current
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None), *current.args])
    return None
