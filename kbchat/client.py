"""HTTP to the knowledge-base API: requests, retries, timeouts; yields raw bytes.

The stream is read with urllib3's `read1`, which hands over whatever has arrived,
chunked or close-delimited; `iter_content`/`iter_lines` wait for buffers to fill.
"""

from __future__ import annotations

import http
import json
import random
import socket
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from kbchat import __version__
from kbchat.errors import (
    BadResponse,
    ConnectFailed,
    HTTPStatusError,
    StreamIdle,
    StreamIncomplete,
    format_detail,
)
from kbchat.trace import Trace, no_trace

if TYPE_CHECKING:
    from kbchat.config import Settings

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time, with jitter
BACKOFF_CAP = 30.0
READ_SIZE = 65536
ERROR_BODY_LIMIT = 1 << 20
EPOCH_THRESHOLD = 1_000_000_000  # X-RateLimit-Reset above this is an epoch time, not a wait

E = TypeVar("E", bound=BaseException)


class KBClient:
    """One API endpoint set over a pooled `requests.Session`."""

    def __init__(
        self,
        settings: Settings,
        trace: Trace = no_trace,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.trace = trace
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": f"kbchat/{__version__}", "x-api-key": settings.api_key or ""})

    def stream_chat(self, query: str, filters: dict[str, Any]) -> Iterator[bytes]:
        """POST /v1/kb/chat/stream; yield body bytes the moment they arrive."""
        response = self.post(
            "/v1/kb/chat/stream",
            {"query": query, "filters": filters},
            headers={"Accept": "text/event-stream", "Accept-Encoding": "identity"},
        )
        try:
            content_type = response.headers.get("Content-Type", "")
            if content_type and not content_type.lower().startswith("text/event-stream"):
                yield _event_stream_from_json(response, content_type)
                return
            yield from self._read_body(response)
        finally:
            response.close()

    def search(self, query: str, filters: dict[str, Any], limit: int = 10) -> dict[str, Any]:
        """POST /v1/kb/search: `{"items": [...], "total_found": n}`."""
        return self._json("/v1/kb/search", {"query": query, "filters": filters, "limit": limit})

    def chat(self, query: str, filters: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/kb/chat: `{"answer": "...", "sources": [...]}` in one response."""
        return self._json("/v1/kb/chat", {"query": query, "filters": filters})

    def get(self, path: str) -> tuple[int, str, str]:
        """GET a path once (health checks): status, reason and up to 4 KB of the body."""
        url = self.settings.base_url + path
        try:
            response = self.session.get(
                url, stream=True, timeout=(self.settings.connect_timeout, self.settings.timeout)
            )
        except requests.Timeout:
            raise ConnectFailed(f"no response from {_host(url)} within {self.settings.timeout:g} s") from None
        except requests.RequestException as err:
            raise ConnectFailed(self._connect_message(err, 1)) from None
        with response:
            try:
                text = response.raw.read(4096, decode_content=True).decode("utf-8", "replace")
            except (urllib3.exceptions.HTTPError, OSError):
                text = ""
        return response.status_code, response.reason or _phrase(response.status_code), text

    def _json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, body, headers={"Accept": "application/json"})
        try:
            obj = _unwrap(json.loads(response.raw.read(ERROR_BODY_LIMIT * 16, decode_content=True)))
        except urllib3.exceptions.ReadTimeoutError:
            raise StreamIdle(f"no data from the server for {self.settings.timeout:g} s (--timeout)") from None
        except (urllib3.exceptions.HTTPError, OSError):
            raise StreamIncomplete("the response ended before it was complete") from None
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise BadResponse(f"expected JSON from {path}, but the server sent {content_type}") from None
        finally:
            response.close()
        if not isinstance(obj, dict):
            raise BadResponse(f"expected a JSON object from {path}")
        return obj

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> requests.Response:
        """Send with retries (only before any answer content); raise on status >= 400."""
        url = self.settings.base_url + path
        for attempt in range(self.settings.retries + 1):
            last = attempt == self.settings.retries
            self.trace(f"POST {url} (attempt {attempt + 1}) body={json.dumps(body, ensure_ascii=False)}")
            started = time.monotonic()
            try:
                response = self.session.post(
                    url,
                    json=body,
                    headers=headers,
                    stream=True,
                    timeout=(self.settings.connect_timeout, self.settings.timeout),
                )
            except requests.ConnectionError as err:
                if last or not _worth_retrying(err):
                    raise ConnectFailed(self._connect_message(err, attempt + 1)) from None
                self._wait(backoff(attempt), f"cannot connect ({_cause(err, self.settings.connect_timeout)})")
                continue
            except requests.Timeout:
                raise ConnectFailed(
                    f"no response from {_host(url)} within {self.settings.timeout:g} s (--timeout)"
                ) from None
            except requests.RequestException as err:
                raise ConnectFailed(f"cannot send the request to {_host(url)}: {err}") from None
            elapsed = (time.monotonic() - started) * 1000
            self.trace(f"HTTP {response.status_code} {response.reason} in {elapsed:.0f} ms; {_headers(response)}")
            if response.status_code in RETRY_STATUSES and not last:
                delay = retry_delay(response.headers, attempt)
                response.close()
                self._wait(delay, f"HTTP {response.status_code}")
                continue
            if response.status_code >= 400:
                error = status_error(response)
                response.close()
                raise error
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _read_body(self, response: requests.Response) -> Iterator[bytes]:
        raw = response.raw
        received = 0
        while True:
            try:
                chunk = raw.read1(READ_SIZE, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError:
                raise StreamIdle(
                    f"no data from the server for {self.settings.timeout:g} s (--timeout); the answer is incomplete"
                ) from None
            except (urllib3.exceptions.HTTPError, OSError) as err:
                self.trace(f"stream broke after {received} bytes: {err}")
                raise StreamIncomplete() from None
            if not chunk:
                self.trace(f"stream closed by the server after {received} bytes")
                return
            received += len(chunk)
            yield chunk

    def _wait(self, delay: float, why: str) -> None:
        self.trace(f"{why}; retrying in {delay:.2f} s")
        self.sleep(delay)

    def _connect_message(self, err: requests.RequestException, attempts: int) -> str:
        url = urlsplit(self.settings.base_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        return f"cannot connect to {url.hostname}:{port}: {_cause(err, self.settings.connect_timeout)}{tries}"


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


def status_error(response: requests.Response) -> HTTPStatusError:
    """HTTP <code> <reason>: <detail>, the detail read from a JSON body when there is one."""
    reason = response.reason or _phrase(response.status_code)
    obj = _read_json(response)
    detail = _detail(obj) if isinstance(obj, dict) else format_detail(obj) if isinstance(obj, str | list) else ""
    return HTTPStatusError(response.status_code, reason, detail)


def _event_stream_from_json(response: requests.Response, content_type: str) -> bytes:
    """A 200 that is not an event stream: accept a chat body, report an error body."""
    obj = _read_json(response)
    if isinstance(obj, dict) and isinstance(obj.get("answer"), str):
        message = json.dumps({"event": "message", "data": {"content": obj["answer"]}}, ensure_ascii=False)
        return f"data: {message}\n\ndata: [DONE]\n\n".encode()
    if isinstance(obj, dict):
        detail = _detail(obj)
        if detail:
            raise BadResponse(f"the server answered 200 with an error: {detail}")
    raise BadResponse(f"expected an event stream, but the server sent {content_type.split(';')[0]}")


def _read_json(response: requests.Response) -> Any:
    """A small body (an error, or a JSON answer where a stream was expected) as JSON, else None."""
    try:
        return _unwrap(json.loads(response.raw.read(ERROR_BODY_LIMIT, decode_content=True)))
    except (ValueError, urllib3.exceptions.HTTPError, OSError):
        return None


def _detail(obj: dict[str, Any]) -> str:
    """The message of an error body: `detail`, else the older `error_message`, else `message`."""
    return format_detail(obj.get("detail") or obj.get("error_message") or obj.get("message"))


def _unwrap(obj: Any) -> Any:
    """Tolerate the older API's `{"response": ...}` envelope."""
    if isinstance(obj, dict) and isinstance(obj.get("response"), dict | list):
        return obj["response"]
    return obj


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _worth_retrying(err: requests.ConnectionError) -> bool:
    """TLS failures and unknown host names do not heal by themselves; the rest may."""
    if isinstance(err, requests.exceptions.SSLError):
        return False
    gai = _find(err, socket.gaierror)
    return gai is None or gai.errno == socket.EAI_AGAIN


def _cause(err: BaseException, connect_timeout: float) -> str:
    """The root cause of a failed connection, in a few words."""
    if isinstance(err, requests.exceptions.ConnectTimeout) or _find(err, TimeoutError):
        return f"timed out after {connect_timeout:g} s"
    if _find(err, socket.gaierror):
        return "cannot resolve the host name"
    import ssl

    tls = _find(err, ssl.SSLError)
    if tls is not None or isinstance(err, requests.exceptions.SSLError):
        reason = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or "handshake failed"
        return f"TLS error: {reason}"
    if _find(err, ConnectionRefusedError):
        return "connection refused"
    if _find(err, ConnectionResetError):
        return "connection reset by the server"
    os_error = _find(err, OSError)
    if os_error is not None and os_error.strerror:
        return os_error.strerror.lower()
    return "connection failed"


def _find(err: BaseException, kind: type[E]) -> E | None:
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


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _headers(response: requests.Response) -> str:
    return ", ".join(f"{k}: {v}" for k, v in response.headers.items())
