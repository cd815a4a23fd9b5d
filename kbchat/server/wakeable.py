"""A server loop that shutdown() ends at once.

socketserver's `serve_forever` looks for a stop only between polls, so `shutdown()` waits up
to a poll interval (0.5 s by default): the demo's exit and every test server's stop paid it.
Here the loop also watches one end of a socket pair, and `shutdown()` writes a byte to the
other: the loop wakes, sees the stop, and ends. Socket pairs exist on every platform.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import socketserver
import threading
from typing import Any


class WakeableServer(socketserver.TCPServer):
    """Mixed in before a socketserver class: `serve_forever` and `shutdown` without the poll's wait."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._stop_asked = False
        self._stopped = threading.Event()
        self._stopped.set()
        try:
            super().__init__(*args, **kwargs)
        except BaseException:  # the port is taken: the pair goes with the server that never was
            self._close_wake()
            raise

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Handle requests until shutdown(); `poll_interval` only paces `service_actions`."""
        self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_read, selectors.EVENT_READ)
                while not self._stop_asked:
                    ready = selector.select(poll_interval)
                    if self._stop_asked:
                        break
                    for key, _ in ready:
                        if key.fileobj is self:
                            self._handle_request_noblock()  # type: ignore[attr-defined]  # socketserver's accept and dispatch
                        else:  # a byte from a shutdown() that came before this loop
                            self._drain_wake()
                    self.service_actions()
        finally:
            self._drain_wake()
            self._stop_asked = False
            self._stopped.set()

    def shutdown(self) -> None:
        """Ask the loop to end and wait until it has; call from another thread than the loop's."""
        self._stop_asked = True
        with contextlib.suppress(OSError):  # a full pair means the loop has bytes to wake it already
            self._wake_write.send(b"\0")
        self._stopped.wait()

    def server_close(self) -> None:
        super().server_close()
        self._close_wake()

    def _close_wake(self) -> None:
        self._wake_read.close()
        self._wake_write.close()

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):  # nothing left to read (BlockingIOError), or closed
            while self._wake_read.recv(4096):
                pass
