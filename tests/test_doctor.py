"""`kbchat doctor` with a good setup and with broken ones."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import KEY, cli, posix
from tests.scripted_server import ScriptedServer, json_reply


def healthy(server: ScriptedServer, search_status: int = 200) -> None:
    server.queue_for("/health", json_reply(200, {"status": "ok"}))
    server.queue_for("/health/detailed", json_reply(200, {"status": "ok", "db": "up"}))
    body = {"items": [], "total_found": 3} if search_status == 200 else {"detail": "Invalid or missing API key"}
    server.queue_for("/v1/kb/search", json_reply(search_status, body))


def lines(output: str) -> dict[str, str]:
    return {line[2:22].strip(): line for line in output.splitlines()}


def test_all_good(server: ScriptedServer) -> None:
    healthy(server)
    result = cli("doctor", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme")
    assert result.returncode == 0, result.stdout
    checks = lines(result.stdout)
    assert list(checks) == ["config file", "API key", "tenant", "base URL", "DNS", "connection", "GET /health",
                            "GET /health/detailed", "search"]  # fmt: skip
    assert all(line.startswith("✓") for line in checks.values())
    assert "****-key" not in result.stdout and KEY not in result.stdout + result.stderr
    assert "3 passages match" in checks["search"] and "ms)" in checks["GET /health"]
    assert server.requests[-1].headers["x-api-key"] == KEY


def test_missing_key_and_tenant_fail_and_skip_the_search(server: ScriptedServer) -> None:
    healthy(server)
    result = cli("doctor", "--base-url", server.url)
    checks = lines(result.stdout)
    assert result.returncode == 1
    assert checks["API key"].startswith("✗") and "KBCHAT_API_KEY" in checks["API key"]
    assert checks["tenant"].startswith("✗")
    assert checks["GET /health"].startswith("✓")
    assert checks["search"].startswith("-") and "skipped" in checks["search"]


def test_a_rejected_key_fails_the_search(server: ScriptedServer) -> None:
    healthy(server, search_status=401)
    result = cli("doctor", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme")
    assert result.returncode == 1
    assert "✗ search" in result.stdout and "HTTP 401 Unauthorized: Invalid or missing API key" in result.stdout


def test_nothing_listening(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("doctor", "--base-url", f"http://127.0.0.1:{port}", "--api-key", KEY, "-t", "a")
    checks = lines(result.stdout)
    assert result.returncode == 1
    assert checks["connection"].startswith("✗") and "connection refused" in checks["connection"]
    assert all(checks[name].startswith("-") for name in ("GET /health", "GET /health/detailed", "search"))


@posix("file modes (0600)")
def test_insecure_url_and_readable_config(server: ScriptedServer) -> None:
    config = Path(os.environ["KBCHAT_CONFIG"])
    config.write_text(f'[profiles.default]\napi_key = "{KEY}"\ntenant = "acme"\n')
    config.chmod(0o644)
    result = cli("doctor", "--base-url", "http://example.com")
    checks = lines(result.stdout)
    assert result.returncode == 1
    assert checks["config file"].startswith("✗") and "chmod 600" in checks["config file"]
    assert checks["API key"].startswith("✓") and "profile default" in checks["API key"]
    assert checks["base URL"].startswith("✗") and "refusing" in checks["base URL"]
    assert checks["DNS"].startswith("-")
    assert KEY not in result.stdout + result.stderr


# --- the way requests would go: proxies and CA bundles ----------------------------------------


def test_the_route_follows_the_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from kbchat.checks import route_of
    from kbchat.client import HTTPKB
    from kbchat.settings import Settings

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    with HTTPKB(Settings(base_url="https://kb.example", api_key=KEY, tenant="t")) as kb:
        route = route_of(kb, kb.base_url)
    assert (route.host, route.port, route.proxy, route.verify) == (
        "proxy.example",
        3128,
        "http://proxy.example:3128",
        "/etc/ssl/corporate.pem",
    )
    monkeypatch.setenv("NO_PROXY", "kb.example")
    with HTTPKB(Settings(base_url="https://kb.example", api_key=KEY, tenant="t")) as kb:
        route = route_of(kb, kb.base_url)
    assert (route.host, route.port, route.proxy) == ("kb.example", 443, "")
    with HTTPKB(Settings(base_url="https://kb.example", api_key=KEY, tenant="t", ca_bundle="/home/me/ca.pem")) as kb:
        assert route_of(kb, kb.base_url).verify == "/home/me/ca.pem"  # --ca-bundle wins, as in `ask`


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (openssl), made once."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Path]]:
    """A TLS listener on loopback with that certificate."""
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            sock.settimeout(2)  # a client that never closes cannot hold the fixture's teardown
            with sock, contextlib.suppress(OSError), context.wrap_socket(sock, server_side=True) as secure:
                secure.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], cert
    stop.set()
    thread.join(timeout=0.5)  # it ends on its own; a client that has not closed yet costs no wait
    listener.close()


@pytest.fixture
def connect_proxy() -> Iterator[Callable[[bytes], tuple[int, list[bytes]]]]:
    """One-shot CONNECT proxies on loopback: each says `answer`, then pipes bytes both ways."""
    sockets: list[socket.socket] = []

    def start(answer: bytes = b"HTTP/1.1 200 Connection established\r\n\r\n") -> tuple[int, list[bytes]]:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)
        asked: list[bytes] = []

        def run() -> None:
            client, _ = listener.accept()
            sockets.append(client)
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(4096)
            asked.append(request.split(b"\r\n")[0])
            client.sendall(answer)
            if b" 200 " not in answer:
                return
            host, port = request.split()[1].decode().rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            sockets.append(upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(source, target), daemon=True).start()

        threading.Thread(target=run, daemon=True).start()
        return listener.getsockname()[1], asked

    yield start
    for sock in sockets:
        sock.close()


def pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def test_tls_is_checked_through_the_proxys_tunnel(tls_server: tuple[int, Path], connect_proxy) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import urlsplit

    from kbchat.checks import Route, connect

    port, cert = tls_server
    proxy_port, asked = connect_proxy()
    route = Route("127.0.0.1", proxy_port, tls=True, proxy=f"http://127.0.0.1:{proxy_port}", verify=str(cert))
    detail = connect(route, urlsplit(f"https://127.0.0.1:{port}"), timeout=5)
    assert detail.startswith(f"TLS to 127.0.0.1:{port} through http://127.0.0.1:{proxy_port}, TLSv1.")
    assert detail.endswith("certificate valid") and asked == [f"CONNECT 127.0.0.1:{port} HTTP/1.1".encode()]


def test_a_proxy_that_refuses_the_tunnel_says_so(tls_server: tuple[int, Path], connect_proxy) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import urlsplit

    from kbchat.checks import Failed, Route, connect

    port, cert = tls_server
    proxy_port, _ = connect_proxy(b"HTTP/1.1 403 Forbidden\r\n\r\n")
    route = Route("127.0.0.1", proxy_port, tls=True, proxy=f"http://127.0.0.1:{proxy_port}", verify=str(cert))
    with pytest.raises(Failed, match=f"the proxy refused the tunnel to 127.0.0.1:{port}: HTTP/1.1 403 Forbidden"):
        connect(route, urlsplit(f"https://127.0.0.1:{port}"), timeout=5)


def test_doctor_trusts_the_ca_bundle_as_ask_does(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server
    result = cli("doctor", "--base-url", f"https://127.0.0.1:{port}", "--api-key", KEY, "-t", "acme",
                 "--ca-bundle", str(cert))  # fmt: skip
    assert f"TLS to 127.0.0.1:{port}, TLSv1." in result.stdout and "certificate valid" in result.stdout
    missing = cli("doctor", "--base-url", f"https://127.0.0.1:{port}", "--ca-bundle", str(cert) + ".gone")
    assert f"cannot load the CA bundle {cert}.gone: No such file or directory" in missing.stdout


def test_a_certificate_outside_the_bundle_is_not_trusted(tls_server: tuple[int, Path]) -> None:
    from urllib.parse import urlsplit

    from kbchat.checks import Failed, Route, connect

    port, _ = tls_server
    with pytest.raises(Failed, match=r"TLS certificate not trusted: self.signed certificate"):
        connect(Route("127.0.0.1", port, tls=True), urlsplit(f"https://127.0.0.1:{port}"), timeout=5)


# --- how the lines look ----------------------------------------------------------------------


def test_a_narrow_terminal_puts_the_detail_under_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from kbchat.checks import Check
    from kbchat.render.doctor_lines import CheckLines
    from kbchat.terminal import Terminal

    monkeypatch.setattr("shutil.get_terminal_size", lambda: os.terminal_size((40, 24)))
    out = io.StringIO()
    CheckLines(Terminal(out=out, err=out, is_tty=True, color=False)).show(
        Check("GET /health/detailed", True, 'HTTP 200 OK: {"status": "ok", "version": "1.2.3", "database": "up"}', 12.0)
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == "✓ GET /health/detailed" and all(line.startswith("    ") for line in lines[1:])
    assert all(len(line) <= 40 for line in lines) and "(12 ms)" in lines[-1]


def test_a_long_health_body_is_cut_at_a_word() -> None:
    from kbchat.checks import shorten

    body = '{"status": "ok", "checks": {"database": "healthy", "vector_store": "healthy", "queue": "lagging"}}'
    cut = shorten(body, 80)
    assert len(cut) <= 80 and cut.endswith("…") and body.startswith(cut[:-1])
    assert body[len(cut) - 1] in " ,"  # the cut falls between words, never inside one
