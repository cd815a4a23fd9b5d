"""HTTPKB against `responses`: request shape, status errors, retries, odd bodies."""

from __future__ import annotations

import email.utils

import pytest
import requests
import responses
from responses import matchers

from kbchat import __version__
from kbchat.client import HTTPKB
from kbchat.errors import BadResponse, ConnectFailed, HTTPStatusError
from kbchat.events import Content, Done, Pause
from kbchat.failures import BACKOFF_CAP, backoff, retry_delay
from kbchat.settings import Settings
from tests.conftest import HANG
from tests.scripted_server import Reply, ScriptedServer, Stall, sse

BASE = "https://kb.example"
URL = BASE + "/v1/kb/chat/stream"
SETTINGS = Settings(base_url=BASE, api_key="sk-key", tenant="acme", retries=2)
FILTERS = {"tenant_id": "acme"}
KEY_16 = "sk-0123456789abcdef"


def client(settings: Settings = SETTINGS) -> tuple[HTTPKB, list[float]]:
    slept: list[float] = []
    return HTTPKB(settings, sleep=slept.append), slept


def body(kb: HTTPKB, query: str = "q") -> str:
    """The answer's text, read through the whole pipeline."""
    return "".join(event.text for event in kb.stream_chat(query, FILTERS) if type(event) is Content)


@responses.activate
def test_request_shape() -> None:
    responses.post(
        URL,
        body=sse("hi"),
        content_type="text/event-stream",
        match=[
            matchers.json_params_matcher(
                {"query": "what are plans", "filters": {"tenant_id": "acme", "tag_names": ["A"]}}
            ),
            matchers.header_matcher(
                {"x-api-key": "sk-key", "Accept": "text/event-stream", "User-Agent": f"kbchat/{__version__}"}
            ),
        ],
    )
    kb, _ = client()
    events = list(kb.stream_chat("what are plans", {"tenant_id": "acme", "tag_names": ["A"]}))
    assert [type(event) for event in events] == [Pause, Content, Done]  # a Pause as it goes out; nothing after [DONE]


@pytest.mark.parametrize(
    ("status", "json_body", "text_body", "message"),
    [
        (400, {"detail": "tenant_id is required in filters"}, None, "HTTP 400 Bad Request: tenant_id is required in filters"),
        (401, {"detail": "Not authenticated"}, None, "HTTP 401 Unauthorized: Not authenticated"),
        (422, {"detail": [{"loc": ["body", "query"], "msg": "Field required", "type": "missing"}]}, None,
         "HTTP 422 Unprocessable Entity: body.query: Field required"),
        (403, {"detail": {"code": "forbidden", "tenant": "x"}}, None, 'HTTP 403 Forbidden: {"code": "forbidden", "tenant": "x"}'),
        (404, {"response": {"detail": "gone"}}, None, "HTTP 404 Not Found: gone"),
        (400, {"error_message": "old envelope"}, None, "HTTP 400 Bad Request: old envelope"),
        (500, None, "<html>Internal</html>", "HTTP 500 Internal Server Error"),
        (405, {}, None, "HTTP 405 Method Not Allowed"),
    ],
)  # fmt: skip
@responses.activate
def test_status_errors(status: int, json_body: object, text_body: str | None, message: str) -> None:
    if json_body is not None:
        responses.post(URL, json=json_body, status=status)
    else:
        responses.post(URL, body=text_body, status=status, content_type="text/html")
    kb, _ = client(Settings(base_url=BASE, api_key="k", tenant="t", retries=0))
    with pytest.raises(HTTPStatusError) as info:
        body(kb)
    assert str(info.value) == message
    assert info.value.status == status


@responses.activate
def test_retries_503_then_answers() -> None:
    responses.post(URL, json={"detail": "busy"}, status=503)
    responses.post(URL, body=sse("ok"), content_type="text/event-stream")
    kb, slept = client()
    assert body(kb) == "ok"
    assert len(slept) == 1 and 0.25 <= slept[0] <= 0.5


@responses.activate
def test_429_honours_retry_after() -> None:
    responses.post(URL, json={"detail": "slow down"}, status=429, headers={"Retry-After": "2"})
    responses.post(URL, body=sse("ok"), content_type="text/event-stream")
    kb, slept = client()
    assert body(kb) == "ok"
    assert slept == [2.0]


@responses.activate
def test_gives_up_after_the_retries_with_the_last_status() -> None:
    for _ in range(3):
        responses.post(URL, json={"detail": "still down"}, status=503, headers={"Retry-After": "0"})
    kb, slept = client()
    with pytest.raises(HTTPStatusError, match="HTTP 503 Service Unavailable: still down"):
        body(kb)
    assert slept == [0.0, 0.0]


@responses.activate
def test_4xx_is_not_retried() -> None:
    responses.post(URL, json={"detail": "Invalid filter: x"}, status=400)
    kb, slept = client()
    with pytest.raises(HTTPStatusError):
        body(kb)
    assert slept == [] and len(responses.calls) == 1


@responses.activate
def test_connection_errors_are_retried_then_reported() -> None:
    responses.post(URL, body=requests.ConnectionError("refused"))
    kb, slept = client()
    with pytest.raises(ConnectFailed, match=r"cannot connect to kb.example:443: .* \(after 3 attempts\)"):
        body(kb)
    assert len(slept) == 2


@responses.activate
def test_tls_errors_are_not_retried() -> None:
    responses.post(URL, body=requests.exceptions.SSLError("certificate verify failed"))
    kb, slept = client()
    with pytest.raises(ConnectFailed, match="TLS error"):
        body(kb)
    assert slept == []


@responses.activate
def test_read_timeout_before_headers() -> None:
    responses.post(URL, body=requests.ReadTimeout("slow"))
    kb, _ = client()
    with pytest.raises(ConnectFailed, match=r"no response from kb\.example:443 within 60 s"):
        body(kb)


@responses.activate
def test_a_json_chat_body_instead_of_a_stream_is_accepted() -> None:
    responses.post(URL, json={"answer": "Plans start at $9.", "sources": []})
    kb, _ = client()
    events = list(kb.stream_chat("q", FILTERS))
    assert [(type(e), getattr(e, "text", None)) for e in events] == [
        (Pause, None), (Content, "Plans start at $9."), (Done, None)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"detail": "tenant unknown"}}, "answered 200 with an error: tenant unknown"),
        ({"body": "<html>hi</html>", "content_type": "text/html"}, "expected an event stream, but the server sent text/html"),
        ({"json": {"items": []}}, "expected an event stream, but the server sent application/json"),
    ],
)  # fmt: skip
@responses.activate
def test_a_200_that_is_not_a_stream(kwargs: dict[str, object], message: str) -> None:
    responses.post(URL, **kwargs)  # type: ignore[arg-type]
    kb, _ = client()
    with pytest.raises(BadResponse, match=message):
        body(kb)


def test_retry_delay_rules() -> None:
    now = 1_700_000_000.0
    assert retry_delay({"Retry-After": "3"}, 0, now) == 3.0
    assert retry_delay({"Retry-After": "600"}, 0, now) == BACKOFF_CAP
    assert retry_delay({"Retry-After": email.utils.formatdate(now + 5, usegmt=True)}, 0, now) == 5.0
    assert retry_delay({"X-RateLimit-Reset": "4"}, 0, now) == 4.0
    assert retry_delay({"X-RateLimit-Reset": str(now + 7)}, 0, now) == 7.0
    assert retry_delay({"X-RateLimit-Reset": str(now - 7)}, 0, now) == 0.0
    assert retry_delay({"Retry-After": "1", "X-RateLimit-Reset": "9"}, 0, now) == 1.0
    assert 0.5 <= retry_delay({"Retry-After": "soon"}, 1, now) <= 1.0
    assert 0.25 <= retry_delay({}, 0, now) <= 0.5


def test_backoff_grows_and_is_capped() -> None:
    assert 2.0 <= backoff(3) <= 4.0
    assert backoff(20) <= BACKOFF_CAP


def test_dns_failures_are_named_and_not_retried_when_permanent() -> None:
    import socket

    from kbchat.failures import cause, worth_retrying

    unknown = requests.ConnectionError(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    flaky = requests.ConnectionError(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    assert cause(unknown, 10) == "cannot resolve the host name"
    assert not worth_retrying(unknown) and worth_retrying(flaky)
    assert (
        cause(requests.ConnectionError(ConnectionRefusedError(111, "Connection refused")), 10) == "connection refused"
    )


# --- one connection, question after question ---------------------------------------------


@pytest.fixture
def counted_server(tmp_path):  # type: ignore[no-untyped-def]
    """kbchat serve (keep-alive, chunked), counting the TCP connections it accepts."""
    import io

    from kbchat.server.run import serve_in_background, start_server, stop
    from kbchat.server.serve_options import ServeOptions

    server = start_server(ServeOptions(port=0, cache_dir=tmp_path, pace=0.0), log=io.StringIO())
    accepted: list[object] = []
    original = server.process_request
    server.process_request = lambda request, address: (accepted.append(address), original(request, address))[1]  # type: ignore[method-assign]
    serve_in_background(server)
    yield server, accepted
    stop(server)


def test_an_agents_cancel_ends_the_wait_for_the_headers_and_nothing_is_retried(server: ScriptedServer) -> None:
    """An agent cancels before the server has answered at all: the wait for the status line ends at once,
    as a stop (not a dropped connection to retry), rather than when the read timeout comes a minute later."""
    import threading

    from kbchat.errors import StreamIncomplete

    server.queue(Reply([Stall()], framing="raw"))
    kb = HTTPKB(Settings(base_url=server.url, api_key=KEY_16, tenant="acme", retries=2))
    raised: list[BaseException] = []

    def read() -> None:
        try:
            list(kb.stream_chat("q", FILTERS))
        except StreamIncomplete as err:
            raised.append(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while kb._awaited is None and reader.is_alive():  # the request is out and its headers awaited
        reader.join(0.01)
    assert kb._awaited is not None, raised
    kb.interrupt()
    reader.join(HANG)
    assert not reader.is_alive() and len(raised) == 1 and len(server.requests) == 1
    kb.close()


def test_questions_on_one_kb_share_one_connection(counted_server) -> None:  # type: ignore[no-untyped-def]
    server, accepted = counted_server
    with HTTPKB(Settings(base_url=server.url, api_key=KEY_16, tenant="demo")) as kb:
        for question in ("plans", "refunds", "security"):
            assert "".join(e.text for e in kb.stream_chat(question, {"tenant_id": "demo"}) if type(e) is Content)
        kb.search("plans", {"tenant_id": "demo"})
        kb.chat("plans", {"tenant_id": "demo"})
    assert len(accepted) == 1


def test_a_piped_chat_asks_every_question_on_one_connection(counted_server) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import cli

    server, accepted = counted_server
    result = cli(
        "chat", "--base-url", server.url, "--api-key", KEY_16, "-t", "demo", input="plans\nrefunds\nsecurity\n"
    )
    assert result.returncode == 0
    assert all(f"(`{name}.md`)" in result.stdout for name in ("plans-and-pricing", "billing-and-refunds", "security"))
    assert len(accepted) == 1


@pytest.mark.parametrize("how", ["interrupt", "wake"])
def test_an_interrupt_from_another_thread_ends_a_stalled_stream_at_once(server: ScriptedServer, how: str) -> None:
    """What `kbchat mcp` does when an agent cancels a call (interrupt), and a Ctrl-C on Windows, which cannot
    interrupt the read itself (wake): the read waiting on the socket returns; after a wake the next one goes on."""
    import threading

    from kbchat.errors import StreamIncomplete

    server.queue(Reply([sse("The start", done=False), Stall()]))
    kb = HTTPKB(Settings(base_url=server.url, api_key=KEY_16, tenant="acme", retries=0))
    seen: list[object] = []
    started = threading.Event()

    def read() -> None:
        try:
            for event in kb.stream_chat("q", FILTERS):
                seen.append(event)
                started.set()
        except StreamIncomplete as err:
            seen.append(err)

    reader = threading.Thread(target=read)
    reader.start()
    assert started.wait(HANG)
    while not any(isinstance(event, Content) for event in seen):
        reader.join(0.01)
    getattr(kb, how)()
    reader.join(HANG)
    assert not reader.is_alive() and isinstance(seen[-1], StreamIncomplete)
    server.queue(Reply([sse("Again.")]))
    again = [event.text for event in kb.stream_chat("q", FILTERS) if isinstance(event, Content)]
    assert again == ([] if how == "interrupt" else ["Again."])  # interrupted for good; woken, not
    kb.close()
