"""The knowledge base over HTTP: requests, retries, timeouts, redirects; one connection reused.

HTTPKB is the KB (kbchat.kb) that talks to the real API (or `kbchat serve`). The stream
is read with urllib3's `read1`, which hands over whatever has arrived, chunked or
close-delimited (`iter_content`/`iter_lines` wait for buffers to fill), and parsed by
kbchat.events. Redirects are followed by hand, only within the base URL's origin, so
the key goes nowhere else.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
import urllib3.exceptions
import urllib3.poolmanager

from kbchat import __version__, wire
from kbchat.errors import (
    BadResponse,
    ConnectFailed,
    Redirected,
    StreamIdle,
    StreamIncomplete,
)
from kbchat.events import PAUSE, Content, Done, KBEvent, NotJSON, Unknown, iter_events
from kbchat.failures import (
    RETRY_STATUSES,
    backoff,
    cause,
    error_text,
    not_http,
    origin_of,
    phrase,
    read_json,
    redirect_message,
    retry_delay,
    status_error,
    worth_retrying,
)
from kbchat.safe import display_url, one_line
from kbchat.settings import is_loopback
from kbchat.trace import Trace, no_trace

if TYPE_CHECKING:
    from kbchat.settings import Settings

READ_SIZE = 65536
DRAIN = 0.25  # seconds to wait for a body's end after [DONE], so the connection can be reused
JSON_BODY_LIMIT = 16 << 20  # a chat or search response larger than this is refused, not read on
MAX_REDIRECTS = 3  # same-origin hops followed in one request; another origin is never followed


class HTTPKB:
    """The API over one `requests.Session`: its connection is kept and reused, question after question."""

    def __init__(
        self,
        settings: Settings,
        trace: Trace = no_trace,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.trace = trace
        self.sleep = sleep
        self.base_url, user, password = split_userinfo(settings.base_url)
        self.loopback = is_loopback(urlsplit(self.base_url).hostname or "")
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": f"kbchat/{__version__}", "x-api-key": settings.api_key or ""})
        adapter = kb_adapter(self._awaiting, self._trust if urlsplit(self.base_url).scheme == "https" else None)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        if user or password:
            self.session.auth = (user, password)  # as requests would from the URL, but never to another origin
        self._reading: requests.Response | None = None  # the response whose body is being read now
        self._awaited: Any = None  # the socket waiting for a response's headers now
        self._interrupted = False

    def _trust(self) -> tuple[ssl.SSLContext, str]:
        """The context https connections use, and the bundle loaded into it. A bundle that cannot be
        loaded (REQUESTS_CA_BUNDLE naming a missing file, or a pipe) is a usage error, said once."""
        from kbchat.settings import bad_ca_bundle
        from kbchat.trust import trust_context

        cafile = self.route()[1]
        try:
            return trust_context(cafile), cafile
        except OSError as err:  # ssl.SSLError is one too
            env = [f"env {name}" for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if os.environ.get(name) == cafile]
            origin = self.settings.origins.get("ca_bundle", "") if self.settings.ca_bundle else "".join(env[:1])
            raise bad_ca_bundle(cafile, origin, err) from None

    def __enter__(self) -> HTTPKB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def interrupt(self) -> None:
        """From another thread (an agent cancelled its call): as `wake`, and every later request ends too."""
        self._interrupted = True
        self.wake()

    def wake(self) -> None:
        """From another thread: the response awaited or read now ends at once, its headers or its body;
        later requests go on (a Ctrl-C on Windows, which cannot interrupt a socket's recv). The socket is
        shut down, which wakes a read waiting on it (closing would not), through a duplicate of its
        descriptor: under TLS the reading thread is inside the socket's own object, and once the server
        said `Connection: close` the connection has let go of that object."""
        response = self._reading
        waiting = response.raw if response is not None else self._awaited
        if waiting is None:
            return
        with contextlib.suppress(OSError, ValueError), socket.fromfd(waiting.fileno(), socket.AF_INET,
                                                                     socket.SOCK_STREAM) as duplicate:  # fmt: skip
            duplicate.shutdown(socket.SHUT_RDWR)

    def _awaiting(self, sock: Any) -> None:
        """Told by this session's connections: `sock` waits for a response's headers (None: no more)."""
        self._awaited = sock

    def stream_chat(self, query: str, filters: dict[str, Any]) -> Iterator[KBEvent]:
        """POST /v1/kb/chat/stream; its events the moment their bytes arrive.

        A Pause first: the question is about to go out, and nothing will arrive before the
        server answers (a renderer can start what it needs meanwhile).
        """
        yield PAUSE
        if self._interrupted:
            return
        response = self.send(
            "POST",
            wire.CHAT_STREAM,
            wire.chat_request(query, filters),
            headers={"Accept": "text/event-stream", "Accept-Encoding": "identity"},
        )
        self._reading = response
        try:
            if self._interrupted:
                return
            content_type = response.headers.get("Content-Type", "")
            if content_type and not content_type.lower().startswith("text/event-stream"):
                yield from _events_from_json(response, content_type)
                return
            yield from note_skipped(iter_events(self._read_body(response)), self.trace)
            finish_body(response)
        finally:
            self._reading = None
            response.close()

    def search(self, query: str, filters: dict[str, Any], limit: int = wire.SEARCH_LIMIT) -> dict[str, Any]:
        """POST /v1/kb/search: `{"items": [...], "total_found": n}`."""
        return self._json(wire.SEARCH, wire.search_request(query, filters, limit))

    def chat(self, query: str, filters: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/kb/chat: `{"answer": "...", "sources": [...]}` in one response."""
        return self._json(wire.CHAT, wire.chat_request(query, filters))

    def get(self, path: str) -> tuple[int, str, str]:
        """GET a path once (health checks): status, reason and up to 4 KB of the body, any status."""
        response = self.send("GET", path, retries=0, check=False)
        with response:
            try:
                text = response.raw.read(4096, decode_content=True).decode("utf-8", "replace")
            except (urllib3.exceptions.HTTPError, OSError):
                text = ""
        return response.status_code, response.reason or phrase(response.status_code), text

    def _json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.send("POST", path, body, headers={"Accept": "application/json"})
        self._reading = response
        try:
            if self._interrupted:
                raise StreamIncomplete("stopped")
            data = response.raw.read(JSON_BODY_LIMIT + 1, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:
            raise StreamIdle(f"no data from the server for {self.settings.timeout:g} s (--timeout)") from None
        except (urllib3.exceptions.HTTPError, OSError):
            raise StreamIncomplete("the response ended before it was complete") from None
        finally:
            self._reading = None
            response.close()
        if len(data) > JSON_BODY_LIMIT:
            raise BadResponse(
                f"the response from {path} is larger than {JSON_BODY_LIMIT >> 20} MiB; kbchat stops reading there"
            )
        try:
            obj = wire.unwrap(json.loads(data))
        except RecursionError:
            raise BadResponse(f"the response from {path} is JSON nested too deeply to read") from None
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise BadResponse(f"expected JSON from {path}, but the server sent {one_line(content_type)}") from None
        if not isinstance(obj, dict):
            raise BadResponse(f"expected a JSON object from {path}")
        return obj

    def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retries: int | None = None,
        check: bool = True,
    ) -> requests.Response:
        """Send with retries (connection failures, 429/502/503/504; only before any answer
        content); with `check`, a status of 300 or more that was not followed is raised."""
        retries = self.settings.retries if retries is None else retries
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                response = self._follow(method, path, body, headers, attempt)
            except requests.ConnectionError as err:
                if self._interrupted:  # the wait for the headers was ended: stopped, not a fault to retry
                    raise StreamIncomplete("stopped") from None
                wrong = not_http(err)
                if wrong:
                    raise BadResponse(f"{self.origin} {wrong}") from None
                if last or not worth_retrying(err, self.loopback):
                    raise ConnectFailed(self._connect_message(err, attempt + 1)) from None
                self._wait(backoff(attempt), f"cannot connect ({cause(err, self.settings.connect_timeout)})")
                continue
            except requests.Timeout:
                raise ConnectFailed(
                    f"no response from {self.origin} within {self.settings.timeout:g} s (--timeout)"
                ) from None
            except requests.RequestException as err:
                raise ConnectFailed(f"cannot send the request to {self.origin}: {one_line(str(err))}") from None
            if response.status_code in RETRY_STATUSES and not last:
                delay = retry_delay(response.headers, attempt)
                response.close()
                self._wait(delay, f"HTTP {response.status_code}")
                continue
            if check and response.status_code >= 300:
                error = status_error(response, self._hint(response.status_code))
                response.close()
                raise error
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _follow(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None, attempt: int
    ) -> requests.Response:
        """One attempt, following redirects within the base URL's origin, at most 3 hops.

        A redirect to another origin (scheme, host or port) is refused: requests would
        carry x-api-key there (it strips only Authorization), even from https to http.
        A POST follows only 307 and 308, which keep the method and body.
        """
        url = self.base_url + path
        sent = f" body={json.dumps(body, ensure_ascii=False)}" if body is not None else ""
        for hop in range(MAX_REDIRECTS + 1):
            self.trace(f"{method} {url} (attempt {attempt + 1}){sent}")
            started = time.monotonic()
            response = self.session.request(
                method,
                url,
                json=body,
                headers=headers,
                stream=True,
                allow_redirects=False,
                timeout=(self.settings.connect_timeout, self.settings.timeout),
                verify=self.settings.ca_bundle,  # None: REQUESTS_CA_BUNDLE, else certifi's (beside the system's)
            )
            elapsed = (time.monotonic() - started) * 1000
            self.trace(f"HTTP {response.status_code} {response.reason} in {elapsed:.0f} ms; {_headers(response)}")
            location = response.headers.get("Location")
            if not (300 <= response.status_code < 400 and location):
                return response
            response.close()
            target = urljoin(url, location.strip())
            same_origin = origin_of(target) == origin_of(url)
            if not same_origin or (method != "GET" and response.status_code not in (307, 308)):
                raise Redirected(redirect_message(target, path, response.status_code, method, same_origin))
            if hop == MAX_REDIRECTS:
                raise Redirected(
                    f"the server redirected more than {MAX_REDIRECTS} times (last to {display_url(target)})"
                )
            self.trace(f"following HTTP {response.status_code} to {target} (the same origin)")
            url = target
        raise AssertionError("unreachable: the last hop returns or raises")

    def route(self) -> tuple[str, str]:
        """The proxy requests would use for the base URL ("" for none) and the CA bundle it would trust.

        HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY; --ca-bundle, else REQUESTS_CA_BUNDLE and
        CURL_CA_BUNDLE, else requests' own bundle. For `kbchat doctor`, so it checks the path `ask` takes.
        """
        scheme = urlsplit(self.base_url).scheme
        resolved = self.session.merge_environment_settings(self.base_url, {}, None, self.settings.ca_bundle, None)
        proxies = resolved.get("proxies") or {}
        proxy = proxies.get(scheme) or proxies.get("all") or ""
        verify = resolved.get("verify", True)
        return str(proxy), verify if isinstance(verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH

    @property
    def origin(self) -> str:
        """HOST:PORT of the base URL, as errors name it."""
        parts = urlsplit(self.base_url)
        return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"

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

    def _hint(self, status: int) -> str:
        """What a status may mean here: a 404 from a base URL with a path, that the path is the mistake."""
        parts = urlsplit(self.base_url)
        if status != 404 or not parts.path.strip("/"):
            return ""
        return f"the base URL takes no path: --base-url {urlunsplit((parts.scheme, parts.netloc, '', '', ''))}"

    def _connect_message(self, err: requests.RequestException, attempts: int) -> str:
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        said = cause(err, self.settings.connect_timeout)
        if said.endswith("plain http, not https"):
            said += f": use --base-url http://{self.origin}" if self.loopback else " (the key goes over https only)"
        return f"cannot connect to {self.origin}: {said}{tries}"


def kb_adapter(
    awaiting: Callable[[Any], None], trust: Callable[[], tuple[ssl.SSLContext, str]] | None
) -> requests.adapters.HTTPAdapter:
    """An adapter for one HTTPKB's session; nothing global is patched.

    Its connections tell `awaiting` the socket that waits for a response's headers, so `wake`
    can end that wait too: a Ctrl-C on Windows, or an agent's cancel, while the server has not
    yet answered. With `trust` (kbchat.trust), https connections trust the operating system's
    store as well as the CA bundle, as the browser does behind a company's TLS-inspecting proxy;
    the context is made at the first https request (its 50 ms of loading then overlap the
    renderer's start), and the bundle loaded into it is not loaded again for each connection.
    """
    default_pools = urllib3.poolmanager.pool_classes_by_scheme
    pools = {scheme: _awaited_pool(pool, awaiting) for scheme, pool in default_pools.items()}
    making = threading.Lock()

    class KBAdapter(requests.adapters.HTTPAdapter):
        context: ssl.SSLContext | None = None
        loaded: str | None = None  # the CA bundle in `context`

        def trusted(self) -> ssl.SSLContext | None:
            """The context for https connections, made once (the stream and a --sources search may ask at once)."""
            with making:
                if trust is not None and self.context is None:
                    self.context, self.loaded = trust()
                    self.poolmanager.connection_pool_kw["ssl_context"] = self.context
            return self.context

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            if (request.url or "").startswith("https:"):
                self.trusted()
            return super().send(request, *args, **kwargs)

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            if self.context is not None:
                kwargs.setdefault("ssl_context", self.context)
            manager = super().proxy_manager_for(proxy, **kwargs)
            if manager.pool_classes_by_scheme is default_pools:  # not SOCKS, whose pools are its own
                manager.pool_classes_by_scheme = pools
            return manager

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
            if self.loaded is not None and getattr(conn, "ca_certs", None) == self.loaded:
                conn.ca_certs = None  # in the context already: urllib3 would load it for each connection

    return KBAdapter()


def _awaited_pool(pool: type[Any], awaiting: Callable[[Any], None]) -> type[Any]:
    """urllib3's pool class whose connections say which socket waits for a response's headers."""

    class Awaited(pool.ConnectionCls):  # type: ignore[name-defined,misc]
        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            awaiting(self.sock)
            try:
                return super().getresponse(*args, **kwargs)
            finally:
                awaiting(None)

    return type(f"Awaited{pool.__name__}", (pool,), {"ConnectionCls": Awaited})


def finish_body(response: requests.Response) -> None:
    """After [DONE], read what is left of the body (the final chunk, just behind it).

    A body read to its end puts the connection back in the pool, so the next question
    reuses it (no new TCP and TLS handshake); one cut short is closed. A server that
    keeps the stream open after [DONE] costs DRAIN seconds at most, never the idle timeout.
    """
    raw = response.raw
    sock = getattr(raw.connection, "sock", None)
    if sock is None or not (raw.chunked or response.headers.get("Content-Length")):
        return  # a close-delimited body: the connection ends with it anyway
    previous = sock.gettimeout()
    sock.settimeout(DRAIN)
    try:
        for _ in range(16):  # a few reads at most: what follows [DONE] is tiny, or the connection is dropped
            if not raw.read1(READ_SIZE, decode_content=True):
                return
    except (urllib3.exceptions.HTTPError, OSError):
        return
    finally:
        with contextlib.suppress(OSError):  # the same socket whether it went back to the pool or was closed
            sock.settimeout(previous)


def note_skipped(events: Iterator[KBEvent], trace: Trace) -> Iterator[KBEvent]:
    """Pass every event on; under --verbose, say which ones the answer skips."""
    for event in events:
        if isinstance(event, NotJSON):
            trace(f"skipped data that is not JSON: {event.raw[:200]!r}")
        elif isinstance(event, Unknown):
            trace(f"skipped event of unknown kind {event.kind!r}")
        yield event


def split_userinfo(url: str) -> tuple[str, str, str]:
    """The URL without `user:password@`, and the user and password (percent-decoded)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, "", ""
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), unquote(user), unquote(password)


def _events_from_json(response: requests.Response, content_type: str) -> Iterator[KBEvent]:
    """A 200 that is not an event stream: a chat body is the whole answer; an error body is an error."""
    obj = read_json(response)
    if isinstance(obj, dict) and isinstance(obj.get("answer"), str):
        yield Content(obj["answer"], wire.message_data(obj["answer"]))
        yield Done()
        return
    if isinstance(obj, dict):
        detail = error_text(obj)
        if detail:
            raise BadResponse(f"the server answered 200 with an error: {detail}")
    raise BadResponse(f"expected an event stream, but the server sent {one_line(content_type.split(';')[0])}")


def _headers(response: requests.Response) -> str:
    return ", ".join(f"{k}: {v}" for k, v in response.headers.items())
