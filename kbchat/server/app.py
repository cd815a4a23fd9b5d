"""The HTTP side of the local knowledge base: the API's endpoints, bodies and errors.

Standard library only: a thread per connection, JSON bodies, SSE over chunked
transfer encoding written with `sse.encode_event`, the same wire format as the
service (`data: {"event":"message",...}`, `data: [DONE]`).
"""

from __future__ import annotations

import hmac
import io
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from kbchat import __version__, wire
from kbchat.safe import one_line
from kbchat.server.bodies import MAX_BODY, RequestError, parse_body, read_limit, read_query
from kbchat.server.connections import ConnectionLimit, DeadlineReader, InFlight
from kbchat.server.extract import compose_answer, pieces
from kbchat.server.index import Index
from kbchat.server.query import search as search_index
from kbchat.server.query import split_follow_up
from kbchat.server.serve_options import DEFAULT_PACE, MAX_CONNECTIONS
from kbchat.server.wakeable import WakeableServer
from kbchat.sse import encode_event

ANSWER_PASSAGES = 3


@dataclass
class StreamCounters:
    active: int = 0
    completed: int = 0
    cancelled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **deltas: int) -> None:
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)


class KBServer(WakeableServer, ThreadingHTTPServer):
    """The server; request handlers read their settings from it."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # socketserver's 5 drops SYNs when many clients connect at once

    def __init__(
        self,
        address: tuple[str, int],
        index: Index,
        api_key: str | None = None,
        pace: float = DEFAULT_PACE,
        log: TextIO | None = sys.stderr,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.index = index
        self.api_key = api_key
        self.pace = pace
        self.log = log
        self.streams = StreamCounters()
        self.connections = ConnectionLimit(max_connections)
        self.in_flight = InFlight()
        self.started = time.time()
        self._refusal_logged = 0.0

    def say(self, line: str) -> None:
        """One line in the server's log, made safe: it holds what clients sent."""
        if self.log is not None:
            print(one_line(line), file=self.log, flush=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread per connection, up to the limit; past it, a 503 and no thread."""
        if self.connections.admit():
            super().process_request(request, client_address)
            return
        self.connections.refuse(request)
        now = time.monotonic()
        if now - self._refusal_logged >= 1:  # at most a line a second, however hard the flood
            self._refusal_logged = now
            self.say(f"{client_address[0]} refused: {self.connections.limit} connections already open "
                     f"({self.connections.refused} refused so far)")  # fmt: skip

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An error outside a request's handling: one line, not a traceback."""
        error = sys.exc_info()[1]
        self.say(f"{client_address[0]} connection error: {type(error).__name__}: {error}")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}" if ":" not in str(host) else f"http://[{host!s}]:{port}"


Route = Callable[["Handler", dict[str, Any]], None]


class Handler(BaseHTTPRequestHandler):
    server: KBServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small SSE writes must leave at once, not wait for an ACK
    server_version = f"kbchat-serve/{__version__}"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def setup(self) -> None:
        super().setup()
        self.answered = 0  # requests answered on this connection
        self.reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self.reader)

    def handle_one_request(self) -> None:
        self.reader.await_request()
        super().handle_one_request()

    def _dispatch(self, method: str) -> None:
        with self.server.in_flight.request():
            self._answer(method)

    def _answer(self, method: str) -> None:
        started = time.monotonic()
        self.status = 0
        self.body_read = False
        path = self.path.split("?", 1)[0]
        try:
            routes = ROUTES.get(path)
            if routes is None:
                raise RequestError(404, "Not Found")
            route = routes.get(method)
            if route is None:
                self.allow = ", ".join(routes)
                raise RequestError(405, "Method Not Allowed")
            if path != wire.HEALTH:
                self._check_key()
            route(self, self._body() if method == "POST" else {})
        except RequestError as err:
            if not self.body_read and self.headers.get("Content-Length", "0") not in ("", "0"):
                self.close_connection = True  # an unread body must not be taken for the next request
            self._send_json(err.status, {"detail": err.detail})
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client left, or stopped reading
        except Exception as err:  # a bug must cost one request, not the connection's thread silently
            self.close_connection = True
            self.server.say(f"{self.client_address[0]} error in {method} {path}: {type(err).__name__}: {err}")
            if not self.status:
                self._send_json(500, {"detail": "Internal Server Error"})
        finally:
            self.answered += 1
            self._access_log(method, path, started)

    # --- request checks ---------------------------------------------------------------

    def _check_key(self) -> None:
        if self.server.api_key is None:
            return
        given = self.headers.get("x-api-key", "")
        if not hmac.compare_digest(given.encode(), self.server.api_key.encode()):
            raise RequestError(401, "Invalid or missing API key")

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise RequestError(400, "Invalid Content-Length") from None
        if length > MAX_BODY:
            raise RequestError(413, f"Request body too large (limit {MAX_BODY} bytes)")
        try:
            raw = self.rfile.read(length) if length > 0 else b""
        except TimeoutError:
            raise RequestError(408, "Request Timeout: the body did not arrive in time") from None
        if len(raw) < length:
            raise RequestError(400, "Request body shorter than its Content-Length")
        self.body_read = True
        return parse_body(raw)

    # --- responses ------------------------------------------------------------------

    def _send_json(self, status: int, body: Any) -> None:
        self.reader.respond()
        data = json.dumps(body, ensure_ascii=False).encode()
        self.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 405:
            self.send_header("Allow", self.allow)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, answer: str) -> None:
        self.reader.respond()
        self.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        streams = self.server.streams
        streams.add(active=1)
        try:
            for i, piece in enumerate(pieces(answer)):
                if i and self.server.pace:
                    time.sleep(self.server.pace)
                self._chunk(encode_event(wire.message_data(piece)))
            self._chunk(encode_event(wire.DONE))
            self.wfile.write(b"0\r\n\r\n")
            streams.add(completed=1)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client left (or stopped reading): generation stops here
            self.status = 499
            streams.add(cancelled=1)
            raise
        finally:
            streams.add(active=-1)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _access_log(self, method: str, path: str, started: float) -> None:
        elapsed = (time.monotonic() - started) * 1000
        status = "cancelled" if self.status == 499 else self.status
        self.server.say(f'{self.client_address[0]} "{method} {path}" {status} {elapsed:.1f}ms')

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Replaced by one access-log line per request, written when it ends."""

    def log_error(self, format: str, *args: Any) -> None:
        """Malformed or timed-out requests (http.server's own messages quote what the client sent).

        A kept-alive connection that goes quiet after its requests is closed without a word: a
        client keeping its connection for the next question is no fault."""
        if format.startswith("Request timed out") and self.answered:
            return
        self.server.say(f"{self.client_address[0]} {format % args}")


# --- endpoints --------------------------------------------------------------------------


def health(handler: Handler, body: dict[str, Any]) -> None:
    handler._send_json(200, {"status": "ok"})


def health_detailed(handler: Handler, body: dict[str, Any]) -> None:
    """Counts for anyone who may ask; tenant names and the docs path only to a caller with the key."""
    server = handler.server
    streams = server.streams
    index = server.index.stats()
    if server.api_key is None:  # no key to check: anyone on this machine may be asking
        index = {key: value for key, value in index.items() if key != "tenants"}
    else:
        index["docs"] = str(server.index.docs)
    handler._send_json(200, {
        "status": "ok",
        "version": __version__,
        "uptime_seconds": round(time.time() - server.started, 3),
        "index": index,
        "streams": {"active": streams.active, "completed": streams.completed, "cancelled": streams.cancelled},
        "connections": {"active": server.connections.active, "limit": server.connections.limit},
    })  # fmt: skip


def search(handler: Handler, body: dict[str, Any]) -> None:
    query, filters = read_query(body)
    limit = read_limit(body.get("limit", 10))
    hits, total = search_index(handler.server.index, query, filters, limit)
    handler._send_json(200, wire.search_body([hit.search_item() for hit in hits], total))


def chat(handler: Handler, body: dict[str, Any]) -> None:
    query, filters = read_query(body)
    hits, _ = search_index(handler.server.index, query, filters, ANSWER_PASSAGES, count=False)
    asked, context = split_follow_up(query)
    answer = compose_answer(asked, hits, focus=bool(context))
    handler._send_json(200, {"answer": answer, "sources": [h.chat_source() for h in hits]})


def chat_stream(handler: Handler, body: dict[str, Any]) -> None:
    query, filters = read_query(body)
    hits, _ = search_index(handler.server.index, query, filters, ANSWER_PASSAGES, count=False)
    asked, context = split_follow_up(query)
    handler._send_stream(compose_answer(asked, hits, focus=bool(context)))


ROUTES: dict[str, dict[str, Route]] = {
    wire.HEALTH: {"GET": health},
    wire.HEALTH_DETAILED: {"GET": health_detailed},
    wire.SEARCH: {"POST": search},
    wire.CHAT: {"POST": chat},
    wire.CHAT_STREAM: {"POST": chat_stream},
}
