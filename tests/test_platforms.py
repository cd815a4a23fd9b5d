"""Where users are: a Windows-like pipe encoding, the C locale, TLS behind company proxies, and the hints a
newcomer's first wrong base URL deserves (CLI.md, "Platforms and accessibility")."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest
import requests

from kbchat.failures import worth_retrying
from tests.conftest import HANG, KEY, ask_args, cli, kbchat_env, posix, run_kbchat
from tests.fake_kb import FakeKB
from tests.pty_screen import PtySession
from tests.scripted_server import Reply, ScriptedServer, Stall, json_reply, sse
from tests.test_doctor import certificate, tls_server  # noqa: F401 (fixtures)

ANSWER = "Plans → Team, café, 漢字\n"


@pytest.mark.parametrize(
    "locale",
    [{"PYTHONIOENCODING": "cp1252"}, {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}],
    ids=["windows-pipe", "C-locale"],
)
def test_piped_output_is_utf8_whatever_the_locale(server: ScriptedServer, locale: dict[str, str]) -> None:
    server.queue(Reply([sse(ANSWER)]))
    server.queue_for("/v1/kb/search", json_reply(200, {"items": [{"id": "1", "score": 0.9, "payload": {
        "original_text": ANSWER, "title": "Plans → Team"}}], "total_found": 1}))  # fmt: skip
    env = kbchat_env(**locale)
    asked = run_kbchat(*ask_args(server, "q"), env=env)
    searched = run_kbchat("search", *ask_args(server)[1:], "plans", env=env)
    assert (asked.returncode, asked.stdout, asked.stderr) == (0, ANSWER, "")
    assert searched.returncode == 0 and json.loads(searched.stdout)["items"][0]["payload"]["title"] == "Plans → Team"


@pytest.mark.pty
def test_a_console_that_cannot_show_a_character_gets_it_replaced(server: ScriptedServer) -> None:
    server.queue(Reply([sse(ANSWER)]))
    session = PtySession(*ask_args(server, "q"), env=kbchat_env(TERM="xterm-256color", PYTHONIOENCODING="cp1252"))
    assert session.finish() == 0
    assert "Plans" in session.text and "Team" in session.text and "Traceback" not in session.text


def test_a_refused_port_on_this_machine_is_not_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = run_kbchat("ask", "--base-url", f"http://127.0.0.1:{port}", "--api-key", KEY, "-t", "acme", "--retries",
                        "3", "q")  # fmt: skip
    assert time.monotonic() - started < 3  # three retries' backoff took 3.4 s
    assert result.returncode == 1
    assert result.stderr == f"kbchat: error: cannot connect to 127.0.0.1:{port}: connection refused\n"


def test_a_refused_remote_port_is_still_retried() -> None:
    err = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    assert worth_retrying(err, loopback=False) and not worth_retrying(err, loopback=True)


def test_https_to_a_plain_http_server_says_so() -> None:
    """A plain http server answers a TLS hello with an HTTP 400, which TLS reads as a wrong version number."""
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer() -> None:
        client, _ = listener.accept()
        with client:
            client.recv(4096)
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    with listener:
        result = run_kbchat("ask", "--base-url", f"https://127.0.0.1:{port}", "--api-key", KEY, "-t", "acme",
                            "--retries", "0", "q")  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (f"kbchat: error: cannot connect to 127.0.0.1:{port}: the server speaks plain http, "
                             f"not https: use --base-url http://127.0.0.1:{port}\n")  # fmt: skip


def test_a_base_url_with_a_path_that_answers_404_says_it_takes_none(server: ScriptedServer) -> None:
    server.queue(json_reply(404, {"detail": "Not Found"}))
    result = run_kbchat("ask", "--base-url", f"{server.url}/v1", "--api-key", KEY, "-t", "acme", "q")
    assert result.returncode == 1
    assert result.stderr == (f"kbchat: error: HTTP 404 Not Found: Not Found; the base URL takes no path: "
                             f"--base-url {server.url}\n")  # fmt: skip
    assert server.requests[0].path == "/v1/v1/kb/chat/stream"


@pytest.mark.parametrize(
    ("console", "written"),
    [(False, "Plans → café\n".encode()), (True, "Plans ? café\r\n".encode("cp1252"))],
    ids=["piped", "console"],
)
def test_a_windows_stream_piped_gets_utf8_and_lf_and_a_console_keeps_its_own(console: bool, written: bytes) -> None:
    """A stream as Windows sets one up (cp1252, \r\n): piped, the same bytes as on Linux; a console, its own."""
    from kbchat.terminal import writes_everything

    class Stream(io.TextIOWrapper):
        def isatty(self) -> bool:
            return console

    raw = io.BytesIO()
    stream = Stream(raw, encoding="cp1252", newline="\r\n")
    writes_everything(stream)
    stream.write("Plans → café\n")
    stream.flush()
    assert raw.getvalue() == written


@pytest.mark.parametrize(
    ("given", "meant"),
    [("127.0.0.1:8765", "http://127.0.0.1:8765"), ("localhost:8765", "http://localhost:8765"),
     ("kb.example.com", "https://kb.example.com"), ("[::1]:9/x", "http://[::1]:9/x")],
)  # fmt: skip
def test_a_base_url_without_a_scheme_suggests_one(given: str, meant: str) -> None:
    result = run_kbchat("ask", "--base-url", given, "--api-key", KEY, "-t", "acme", "q")
    assert result.returncode == 2 and result.stderr.rstrip().endswith(f"; did you mean {meant}?")


def test_a_certificate_that_fails_says_how_to_trust_a_company_ca(tls_server: tuple[int, Path]) -> None:  # noqa: F811
    port, cert = tls_server
    args = ["ask", "--base-url", f"https://127.0.0.1:{port}", "--api-key", KEY, "-t", "acme", "--retries", "0", "q"]
    result = run_kbchat(*args)
    assert result.returncode == 1 and "TLS error: self-signed certificate" in result.stderr
    assert (
        "pass its CA certificate (PEM) with --ca-bundle PATH (or REQUESTS_CA_BUNDLE), or add it to the system"
        in result.stderr
    )
    trusted = run_kbchat(*args, env=kbchat_env(REQUESTS_CA_BUNDLE=str(cert)))
    assert "TLS error" not in trusted.stderr  # the bundle is trusted (the listener then hangs up)


@pytest.mark.parametrize("how", ["option", "env", "profile"])
def test_ca_bundle_trusts_a_company_ca_beside_the_system_store(tls_server: tuple[int, Path], how: str) -> None:  # noqa: F811
    """--ca-bundle (KBCHAT_CA_BUNDLE, `ca_bundle`) wins over REQUESTS_CA_BUNDLE, which here names another CA."""
    port, cert = tls_server
    args = ["ask", "--base-url", f"https://127.0.0.1:{port}", "--api-key", KEY, "-t", "acme", "--retries", "0", "q"]
    env = {"REQUESTS_CA_BUNDLE": requests.certs.where()}  # certifi's: no company CA in it
    if how == "option":
        args[1:1] = ["--ca-bundle", str(cert)]
    elif how == "env":
        env["KBCHAT_CA_BUNDLE"] = str(cert)
    else:
        Path(os.environ["KBCHAT_CONFIG"]).write_text(f"[profiles.default]\nca_bundle = {json.dumps(str(cert))}\n")
    result = run_kbchat(*args, env=kbchat_env(**env))
    assert "TLS error" not in result.stderr and "cannot connect" in result.stderr  # trusted; then it hangs up


def test_a_ca_bundle_that_is_not_there_is_said_before_connecting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    result = run_kbchat("ask", "--base-url", "https://127.0.0.1:9", "--api-key", KEY, "-t", "acme",
                        "--ca-bundle", str(missing), "q")  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"kbchat: error: bad CA bundle {str(missing)!r} (from option): no such file or directory"
    )
    missing.write_text("not a certificate\n")
    result = run_kbchat("ask", "--base-url", "https://127.0.0.1:9", "--api-key", KEY, "-t", "acme",
                        "--ca-bundle", str(missing), "q")  # fmt: skip
    assert result.stderr.strip().endswith("(from option): no PEM certificate in it") and result.returncode == 2


@posix("a FIFO (mkfifo)")
@pytest.mark.parametrize("how", ["option", "REQUESTS_CA_BUNDLE"])
def test_a_pipe_named_as_the_ca_bundle_is_refused_not_read_for_ever(tmp_path: Path, how: str) -> None:
    """OpenSSL's read of a FIFO that no one writes to never ends: `kbchat ask` hung. A subprocess with a
    time limit: a hang fails the test, it does not hold the suite."""
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    args = ["ask", "--base-url", "https://127.0.0.1:9", "--api-key", KEY, "-t", "acme", "--retries", "0", "q"]
    if how == "option":
        result = run_kbchat(*args[:-1], "--ca-bundle", str(fifo), "q")
    else:
        result = run_kbchat(*args, env=kbchat_env(REQUESTS_CA_BUNDLE=str(fifo), CURL_CA_BUNDLE=""))
    origin = "option" if how == "option" else "env REQUESTS_CA_BUNDLE"
    assert (result.returncode, result.stderr.strip()) == (
        2, f"kbchat: error: bad CA bundle {str(fifo)!r} (from {origin}): a pipe or a device, not a file"
    )  # fmt: skip


def test_a_requests_ca_bundle_that_is_not_there_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone.pem"
    args = ["ask", "--base-url", "https://127.0.0.1:9", "--api-key", KEY, "-t", "acme", "--retries", "0", "q"]
    result = run_kbchat(*args, env=kbchat_env(REQUESTS_CA_BUNDLE=str(missing), CURL_CA_BUNDLE=""))
    assert (result.returncode, result.stderr.strip()) == (
        2, f"kbchat: error: bad CA bundle {str(missing)!r} (from env REQUESTS_CA_BUNDLE): no such file or directory"
    )  # fmt: skip


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="there the OS's own verifier is asked (truststore)")
def test_the_system_store_is_trusted_beside_certifis(tls_server: tuple[int, Path]) -> None:  # noqa: F811
    """The system's store, as OpenSSL is pointed at it (SSL_CERT_FILE standing in for a CA that IT put
    there): trusted with no bundle named, while requests' own bundle, certifi's, stays trusted too."""
    port, cert = tls_server
    args = ["ask", "--base-url", f"https://127.0.0.1:{port}", "--api-key", KEY, "-t", "acme", "--retries", "0", "q"]
    result = run_kbchat(*args, env=kbchat_env(SSL_CERT_FILE=str(cert)))
    assert "TLS error" not in result.stderr and "cannot connect" in result.stderr  # trusted; then it hangs up
    untrusted = run_kbchat(*args)
    assert "TLS error: self-signed certificate" in untrusted.stderr


def test_each_store_is_loaded_once_not_for_each_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a store costs 25-45 ms (OpenSSL 3); urllib3 would load the bundle again for each connection
    and truststore, on Linux, the system's: one context per bundle holds both, and connections load nothing."""
    import certifi

    from kbchat.client import HTTPKB
    from kbchat.settings import Settings
    from kbchat.trust import trust_context

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)  # requests' own bundle, then: certifi's
    trust_context.cache_clear()
    url = "https://kb.example"
    with (
        HTTPKB(Settings(base_url=url, api_key=KEY, tenant="acme")) as one,
        HTTPKB(Settings(base_url=url, api_key=KEY, tenant="acme")) as two,
    ):
        contexts = [kb.session.get_adapter(url).trusted() for kb in (one, two)]  # as their first https request does
        adapter = one.session.get_adapter(url)
        pool = adapter.poolmanager.connection_from_url(url)
        adapter.cert_verify(pool, url, True, None)  # requests' own bundle: in the context already
        assert pool.ca_certs is None and pool.cert_reqs == "CERT_REQUIRED"
        other = tmp_path / "other.pem"
        other.write_text(Path(certifi.where()).read_text())
        adapter.cert_verify(pool, url, str(other), None)  # another bundle than the one loaded: urllib3 loads it
        assert pool.ca_certs == str(other)
    assert contexts[0] is contexts[1]
    in_certifi = Path(certifi.where()).read_text().count("BEGIN CERTIFICATE")
    assert contexts[0].cert_store_stats()["x509_ca"] >= in_certifi


@pytest.mark.pty
@pytest.mark.parametrize("how", ["env", "profile"])
def test_accessible_prints_each_block_once_with_nothing_redrawn(
    server: ScriptedServer, how: str, tmp_path: Path
) -> None:
    """KBCHAT_ACCESSIBLE=1 (or `accessible = true`): no spinner, no cursor, no redraw; a screen reader hears each
    block once, rendered, as it completes."""
    answer = "# Plans\n\nThe **Team** plan costs $29.\n\n- one\n- two\n\n```sh\nls -l\n```\n\nThat is all.\n"
    pieces = [answer[i : i + 7] for i in range(0, len(answer), 7)]
    server.queue(Reply([0.2, *(sse(piece, done=False) for piece in pieces), sse()]))
    env = kbchat_env(TERM="xterm-256color")
    if how == "env":
        env["KBCHAT_ACCESSIBLE"] = "1"
    else:
        Path(env["KBCHAT_CONFIG"]).write_text("[profiles.default]\naccessible = true\n")
    session = PtySession(*ask_args(server, "q"), env=env)
    assert session.finish() == 0
    raw = session.raw.decode()
    for redraw in ("\x1b[?25l", "\x1b[1A", "\x1b[2K", "█", "⠋", "thinking"):
        assert redraw not in raw, repr(redraw)
    for words in ("Plans", "costs $29.", "one", "two", "That is all."):
        assert raw.count(words) == 1, words
    assert session.text.count("ls -l") == 1  # the code line (Pygments' colours come between its words)
    assert "The Team plan costs $29." in session.text and "**" not in session.text


@pytest.mark.parametrize(
    ("typed", "said"),
    [("--bogus", "no such option: --bogus (see kbchat ask --help)"),
     ("--sorces", "no such option: --sorces; did you mean --sources? (see kbchat ask --help)"),
     ("--no-makdown", "no such option: --no-makdown; did you mean --no-markdown? (see kbchat ask --help)")],
)  # fmt: skip
def test_a_mistyped_option_suggests_only_a_close_one(typed: str, said: str) -> None:
    from tests.conftest import cli

    result = cli("ask", typed, "q")
    assert (result.returncode, result.stderr) == (2, f"kbchat: error: {said}\n")


def test_ctrl_c_wakes_a_read_that_it_cannot_interrupt() -> None:
    """Windows: a console Ctrl-C cannot interrupt a socket's recv (python/cpython#85609), so a thread woken by
    Python's wakeup socket ends the read. Shown here with the mechanism forced on; SIGINT as it arrives."""
    import signal
    import threading

    from kbchat.terminal import ctrl_c_wakes

    woken = threading.Event()
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    with ctrl_c_wakes(woken.set, enabled=True):
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert woken.wait(2)
    assert signal.set_wakeup_fd(before) == before  # the earlier wakeup fd is back


def test_a_ctrl_c_on_windows_ends_the_wait_for_the_answers_headers(server: ScriptedServer) -> None:
    """Before the server has said anything, the wait for its status line is woken too; the next question
    goes on, on a new connection. Ctrl-C arrives as on Windows: flagged, with no read interrupted."""
    import _thread
    import threading

    from kbchat.client import HTTPKB
    from kbchat.events import Content
    from kbchat.settings import Settings
    from kbchat.terminal import ctrl_c_wakes

    server.queue(Reply([Stall()], framing="raw"), Reply([sse("Again.")]))
    kb = HTTPKB(Settings(base_url=server.url, api_key=KEY, tenant="acme", retries=0))

    def ctrl_c_once_awaited() -> None:
        deadline = time.monotonic() + HANG  # never awaited: the Ctrl-C comes anyway, and the test fails below
        while kb._awaited is None and time.monotonic() < deadline:
            time.sleep(0.005)
        awaited.append(kb._awaited is not None)
        _thread.interrupt_main()

    awaited: list[bool] = []

    threading.Thread(target=ctrl_c_once_awaited, daemon=True).start()
    with ctrl_c_wakes(kb.wake, enabled=True), pytest.raises(KeyboardInterrupt):
        list(kb.stream_chat("q", {"tenant_id": "acme"}))
    again = [event.text for event in kb.stream_chat("q", {"tenant_id": "acme"}) if isinstance(event, Content)]
    assert awaited == [True] and again == ["Again."] and len(server.requests) == 2
    kb.close()


def test_a_ctrl_c_on_windows_wakes_the_answer_being_read(fake_kb: FakeKB, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every question is asked with the waker on Windows: the reads of its answer end, it is cancelled (130)."""
    import signal

    monkeypatch.setattr("kbchat.errors.WINDOWS", True)
    fake_kb.answers.append(["Partial", lambda: signal.raise_signal(signal.SIGINT), " never shown"])
    result = cli("ask", "--base-url", "https://kb.example", "--api-key", KEY, "-t", "acme", "q")
    assert (result.returncode, result.stdout) == (130, "Partial\n") and fake_kb.woken == 1
