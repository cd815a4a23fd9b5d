"""How long a client may take, and how many may be connected: slow clients cannot hold threads.

A request's headers and body must arrive within REQUEST_TIMEOUT of its first byte;
a keep-alive connection idle for IDLE_TIMEOUT is closed; a response that the client
stops reading for WRITE_TIMEOUT is abandoned. Past `max_connections`, a new
connection is answered 503 at once, without a thread of its own.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator

from kbchat.server.serve_options import MAX_CONNECTIONS

REQUEST_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0
WRITE_TIMEOUT = 30.0
REFUSED_LINGER = 2.0  # seconds a refused connection stays half-open, so its 503 is read, not reset
MAX_LINGERING = 256
STOP_GRACE = 1.0  # seconds a stop waits for the requests being answered


class DeadlineReader(io.RawIOBase):
    """A socket's input with deadlines: idle until a request's first byte, then the request's own."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline: float | None = None
        self.waiting = False  # between requests: the first byte starts the request's clock

    def readable(self) -> bool:
        return True

    def await_request(self) -> None:
        self.waiting = True
        self.deadline = time.monotonic() + IDLE_TIMEOUT

    def respond(self) -> None:
        """The request is in: no read deadline; writes may block for WRITE_TIMEOUT at most."""
        self.deadline = None
        self.sock.settimeout(WRITE_TIMEOUT)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the client took too long")
            self.sock.settimeout(remaining)
        count = self.sock.recv_into(buffer)
        if count and self.waiting:
            self.waiting = False
            self.deadline = time.monotonic() + REQUEST_TIMEOUT
        return count


class InFlight:
    """The requests being answered: a stop waits a moment for them, so their log lines come first."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        with self._changed:
            self.count += 1
        try:
            yield
        finally:
            with self._changed:
                self.count -= 1
                self._changed.notify_all()

    def settle(self, timeout: float = STOP_GRACE) -> bool:
        """Wait until no request is being answered (at most `timeout`); whether none is."""
        with self._changed:
            return self._changed.wait_for(lambda: self.count == 0, timeout)


class ConnectionLimit:
    """Counts connections; refuses the ones past the limit with a 503 and no thread."""

    def __init__(self, limit: int = MAX_CONNECTIONS) -> None:
        self.limit = limit
        self.active = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._lingering: list[tuple[socket.socket, float]] = []
        self._reaper: threading.Thread | None = None

    def admit(self) -> bool:
        with self._lock:
            if self.active >= self.limit:
                self.refused += 1
                return False
            self.active += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.active -= 1

    def refuse(self, sock: socket.socket) -> None:
        """Answer 503 without reading the request, then let the connection drain and close."""
        body = b'{"detail": "too many connections; try again shortly"}'
        head = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))  # fmt: skip
        try:
            sock.setblocking(False)
            sock.send(head + body)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        with self._lock:
            if len(self._lingering) >= MAX_LINGERING:
                sock.close()
                return
            self._lingering.append((sock, time.monotonic() + REFUSED_LINGER))
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="kbchat-serve-refused", daemon=True)
                self._reaper.start()

    def _reap(self) -> None:
        """Read and drop what refused clients send; close each once it has closed, or after a while."""
        while True:
            time.sleep(0.1)
            with self._lock:
                lingering, self._lingering = self._lingering, []
            kept = []
            for sock, until in lingering:
                if _drained(sock) or time.monotonic() > until:
                    sock.close()
                else:
                    kept.append((sock, until))
            with self._lock:
                self._lingering.extend(kept)


def _drained(sock: socket.socket) -> bool:
    """Whether the peer has closed (reading what it sent on the way)."""
    try:
        while sock.recv(65536):
            pass
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True
