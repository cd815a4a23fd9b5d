"""The server loop that shutdown() ends at once: with an hour between polls, a stop that waited
for the poll would hang the test (each wait below is a bound on a hang, not a timing claim)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from kbchat.server.wakeable import WakeableServer
from tests.conftest import HANG

HOUR = 3600.0


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(self.request.recv(100))


class EchoServer(WakeableServer, socketserver.ThreadingTCPServer):
    daemon_threads = True


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer(("127.0.0.1", 0), Echo)
    yield server
    server.server_close()


def serving(server: EchoServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(HOUR,), daemon=True)
    thread.start()
    return thread


def ask(server: EchoServer, text: bytes) -> bytes:
    with socket.create_connection(server.server_address[:2], timeout=HANG) as sock:
        sock.sendall(text)
        return sock.recv(100)


def test_shutdown_ends_the_loop_without_waiting_for_the_poll(echo: EchoServer) -> None:
    loop = serving(echo)
    assert ask(echo, b"ping") == b"ping"
    stopper = threading.Thread(target=echo.shutdown, daemon=True)
    stopper.start()
    stopper.join(HANG)
    loop.join(HANG)
    assert not stopper.is_alive() and not loop.is_alive()


def test_a_server_serves_again_after_a_stop(echo: EchoServer) -> None:
    for text in (b"one", b"two"):
        loop = serving(echo)
        assert ask(echo, text) == text
        echo.shutdown()
        loop.join(HANG)
        assert not loop.is_alive()


def test_a_shutdown_before_the_loop_ends_it_as_it_starts_and_leaves_no_wake_behind(echo: EchoServer) -> None:
    """As socketserver's: a stop asked before its thread got going still stops it. The byte it sent
    is read then, not left to wake every select of a later loop (a loop spinning on one core)."""
    echo.shutdown()
    early = serving(echo)
    early.join(HANG)
    assert not early.is_alive()
    assert not readable(echo._wake_read)
    loop = serving(echo)
    assert ask(echo, b"still serving") == b"still serving"
    echo.shutdown()
    loop.join(HANG)
    assert not loop.is_alive()


def readable(sock: socket.socket) -> bool:
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False


class NoSuchFamily(EchoServer):
    address_family = 255  # type: ignore[assignment]  # socket.socket() fails before bind: socketserver's own clean-up never runs


@pytest.mark.parametrize("server, address", [
    (EchoServer, "taken"),
    (NoSuchFamily, ("127.0.0.1", 0)),
], ids=["port taken", "no such address family"])  # fmt: skip
def test_a_server_that_cannot_start_closes_its_wake_pair(
    echo: EchoServer, monkeypatch: pytest.MonkeyPatch, server: type[EchoServer], address: object
) -> None:
    made: list[socket.socket] = []
    real = socket.socketpair

    def recorded() -> tuple[socket.socket, socket.socket]:
        pair = real()
        made.extend(pair)
        return pair

    monkeypatch.setattr(socket, "socketpair", recorded)
    with pytest.raises(OSError):
        server(echo.server_address[:2] if address == "taken" else address, Echo)
    assert len(made) == 2 and all(sock.fileno() == -1 for sock in made)
