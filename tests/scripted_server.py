"""A loopback HTTP server that replays scripted replies byte by byte.

Each request takes the next queued `Reply`: its status, headers, framing (chunked,
close-delimited or Content-Length) and steps — bytes to write, pauses, events to
wait for, a stall or a dropped connection. Used by the tests and by bench/.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from kbchat.server.wakeable import WakeableServer

Framing = Literal["chunked", "close", "length", "raw"]  # raw: the steps are the whole reply, no status line


class Stall:
    """Send nothing more, keeping the connection open until the client leaves."""


class Drop:
    """Cut the connection mid-body (no terminating chunk, short of Content-Length)."""


@dataclass
class Flood:
    """Send these bytes again and again until the client leaves (or `limit` bytes went out)."""

    data: bytes
    limit: int = 1 << 30


Step = bytes | float | threading.Event | Stall | Drop | Flood


@dataclass
class Reply:
    steps: list[Step] = field(default_factory=list)
    status: int = 200
    reason: str = ""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    framing: Framing = "chunked"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def sse(*contents: str, done: bool = True) -> bytes:
    """The documented wire format: one message event per piece, then [DONE]."""
    events = [
        "data: " + json.dumps({"event": "message", "data": {"content": c}}, ensure_ascii=False) + "\n\n"
        for c in contents
    ]
    return ("".join(events) + ("data: [DONE]\n\n" if done else "")).encode()


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    """An ordinary JSON response (errors, non-stream endpoints)."""
    return Reply(
        steps=[json.dumps(body).encode()],
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
        framing="length",
    )


class ScriptedServer:
    """Start with `with ScriptedServer() as server:`; queue replies; read `requests`."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.by_path: dict[str, deque[Reply]] = {}  # replies for one path, ahead of the general queue
        self.default: Reply | None = None  # served when the queue is empty (benchmarks)
        self.requests: list[Request] = []
        self.write_times: list[float] = []  # perf_counter() after each bytes step is sent
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def queue(self, *replies: Reply) -> ScriptedServer:
        self.replies.extend(replies)
        return self

    def queue_for(self, path: str, *replies: Reply) -> ScriptedServer:
        """Replies for requests to `path` only (concurrent requests to several paths)."""
        self.by_path.setdefault(path, deque()).extend(replies)
        return self

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def next_reply(self, path: str = "") -> Reply:
        if self.by_path.get(path):
            return self.by_path[path].popleft()
        if self.replies:
            return self.replies.popleft()
        if self.default is not None:
            return self.default
        return json_reply(500, {"detail": "no reply scripted"})


class _Server(WakeableServer, socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ScriptedServer


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        owner = self.server.owner
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = _read_request(sock)
        if request is None:
            return
        owner.requests.append(request)
        reply = owner.next_reply(request.path)
        try:
            _send(sock, reply, owner)
        except OSError:
            pass  # the client went away; that is what several tests do on purpose
        finally:
            owner.closed.set()


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            return None
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return Request(method, path, headers, body)


def _send(sock: socket.socket, reply: Reply, owner: ScriptedServer) -> None:
    if reply.framing == "raw":
        _steps(sock, reply, owner)
        sock.shutdown(socket.SHUT_WR)
        _wait_for_client_to_leave(sock, owner, limit=5.0)
        return
    headers = dict(reply.headers)
    if reply.framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
    elif reply.framing == "length":
        headers["Content-Length"] = str(sum(len(s) for s in reply.steps if isinstance(s, bytes)))
    headers["Connection"] = "close"
    reason = reply.reason or _reason(reply.status)
    head = f"HTTP/1.1 {reply.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall((head + "\r\n").encode("latin-1"))
    if not _steps(sock, reply, owner):
        return
    if reply.framing == "chunked":
        sock.sendall(b"0\r\n\r\n")
    sock.shutdown(socket.SHUT_WR)
    _wait_for_client_to_leave(sock, owner, limit=5.0)


def _steps(sock: socket.socket, reply: Reply, owner: ScriptedServer) -> bool:
    """Play the reply's steps; False when one of them ended the connection."""
    for step in reply.steps:
        if isinstance(step, bytes):
            if step:
                sock.sendall(b"%x\r\n%s\r\n" % (len(step), step) if reply.framing == "chunked" else step)
            owner.write_times.append(time.perf_counter())
        elif isinstance(step, float | int):
            time.sleep(step)
        elif isinstance(step, threading.Event):
            step.wait(10)
        elif isinstance(step, Stall):
            _wait_for_client_to_leave(sock, owner)
            return False
        elif isinstance(step, Drop):
            sock.shutdown(socket.SHUT_RDWR)
            return False
        elif isinstance(step, Flood):
            data = b"%x\r\n%s\r\n" % (len(step.data), step.data) if reply.framing == "chunked" else step.data
            sent = 0
            while sent < step.limit:
                sock.sendall(data)  # raises once the client has gone: the handler ends quietly
                sent += len(step.data)
    return True


def _wait_for_client_to_leave(sock: socket.socket, owner: ScriptedServer, limit: float = 60.0) -> None:
    """Block until the client closes its side (or the server stops)."""
    sock.settimeout(0.05)
    deadline = time.monotonic() + limit
    while not owner._stop.is_set() and time.monotonic() < deadline:
        try:
            if sock.recv(1024) == b"":
                return
        except TimeoutError:
            continue
        except OSError:
            return


def _reason(status: int) -> str:
    import http

    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
