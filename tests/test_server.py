"""The local knowledge base's HTTP API, through real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kbchat.errors import UsageError
from kbchat.events import Content, Done, iter_events
from kbchat.server.app import KBServer
from kbchat.server.index import Index, default_db_path
from kbchat.server.run import SAMPLE_DOCS, open_index, serve_in_background, start_server, stop
from kbchat.server.serve_options import ServeOptions

SERVE_KEY = "serve-key-0123456789"
STREAM = "/v1/kb/chat/stream"


def running(tmp_path: Path, docs: Path = SAMPLE_DOCS, **kwargs) -> KBServer:
    log = kwargs.pop("log", io.StringIO())
    options = ServeOptions(docs, port=0, cache_dir=tmp_path / "cache", pace=kwargs.pop("pace", 0.0), **kwargs)
    server = start_server(options, log=log)
    serve_in_background(server)
    return server


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KBServer]:
    server = running(tmp_path)
    yield server
    stop(server)


@pytest.fixture
def locked_kb(tmp_path: Path) -> Iterator[KBServer]:
    server = running(tmp_path, api_key=SERVE_KEY)
    yield server
    stop(server)


@pytest.fixture
def tenants_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "acme").mkdir(parents=True)
    (docs / "globex").mkdir()
    (docs / "top.md").write_text("# Top\n\nThe shared handbook mentions llamas.\n")
    (docs / "acme" / "plans.md").write_text("tags: Plans\ncategory: Billing\n# Plans\n\nAcme llamas cost $5.\n")
    (docs / "acme" / "support.md").write_text("tags: Support, Plans\n# Support\n\nAcme llamas get support.\n")
    (docs / "acme" / "notes.txt").write_text("Acme llamas are quiet.\n")
    (docs / "globex" / "plans.md").write_text("tags: Plans\n# Plans\n\nGlobex llamas cost $9.\n")
    return docs


def post(server: KBServer, path: str, body: object, key: str | None = None) -> requests.Response:
    headers = {"x-api-key": key} if key else {}
    return requests.post(server.url + path, json=body, headers=headers, timeout=10)


def ask_body(query: str = "what does the premium plan include", **filters: object) -> dict[str, object]:
    return {"query": query, "filters": {"tenant_id": "demo", **filters}}


# --- shapes --------------------------------------------------------------------------


def test_health(kb: KBServer) -> None:
    response = requests.get(kb.url + "/health", timeout=10)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_health_detailed(kb: KBServer) -> None:
    body = requests.get(kb.url + "/health/detailed", timeout=10).json()
    assert body["status"] == "ok"
    assert body["index"]["documents"] == 12
    assert "tenants" not in body["index"] and "docs" not in body["index"]  # no key: no names, no paths
    assert body["streams"] == {"active": 0, "completed": 0, "cancelled": 0}


def test_health_detailed_names_tenants_and_docs_to_a_caller_with_the_key(locked_kb: KBServer) -> None:
    assert requests.get(locked_kb.url + "/health/detailed", timeout=10).status_code == 401
    body = requests.get(locked_kb.url + "/health/detailed", headers={"x-api-key": SERVE_KEY}, timeout=10).json()
    assert body["index"]["tenants"] == ["demo"] and body["index"]["docs"] == str(SAMPLE_DOCS.resolve())


def test_search_shape(kb: KBServer) -> None:
    response = post(kb, "/v1/kb/search", {**ask_body("refund annual plan"), "limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 3 and body["total_found"] >= 3
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    payload = body["items"][0]["payload"]
    assert payload["document"] == "billing-and-refunds.md"
    assert payload["tenant_id"] == "demo" and payload["tag_names"] == ["Billing", "Refunds"]
    assert {"snack_elemental_id", "snack_item_id", "original_text", "tag_ids", "source", "type_name"} <= payload.keys()
    assert "**" in payload["snippet"]


def test_search_without_a_match(kb: KBServer) -> None:
    assert post(kb, "/v1/kb/search", ask_body("xylophone")).json() == {"items": [], "total_found": 0}


def test_chat_shape(kb: KBServer) -> None:
    body = post(kb, "/v1/kb/chat", ask_body()).json()
    assert "the premium plan" in body["answer"] and "plans-and-pricing.md" in body["answer"]
    assert body["sources"][0].keys() == {
        "id",
        "score",
        "snack_item_id",
        "snack_elemental_id",
        "text",
        "title",
        "heading",
        "document",
        "path",
    }
    assert body["sources"][0]["document"].endswith(".md") and body["sources"][0]["title"]


def test_stream_wire_format_matches_the_chat_answer(kb: KBServer) -> None:
    with requests.post(kb.url + STREAM, json=ask_body(), stream=True, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["Transfer-Encoding"] == "chunked"
        raw = response.raw.read()
    lines = raw.decode().split("\n\n")
    assert lines[0].startswith('data: {"event": "message", "data": {"content": ')
    assert lines[-2:] == ["data: [DONE]", ""]
    events = list(iter_events([raw]))
    assert type(events[-1]) is Done
    streamed = "".join(e.text for e in events if type(e) is Content)
    assert streamed == post(kb, "/v1/kb/chat", ask_body()).json()["answer"]


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"query": "x", "filters": {}}, 400, "tenant_id is required in filters"),
        ({"query": "x"}, 400, "tenant_id is required in filters"),
        ({"filters": {"tenant_id": "demo"}}, 400, "query is required"),
        ({"query": "  ", "filters": {"tenant_id": "demo"}}, 400, "query is required"),
        ({"query": "x", "filters": {"tenant_id": "demo", "colour": "red"}}, 400, "Invalid filter: colour"),
        (
            {"query": 5, "filters": {"tenant_id": "demo"}},
            422,
            [{"loc": ["body", "query"], "msg": "Input should be a valid string", "type": "string_type"}],
        ),
        (
            {"query": "x", "filters": []},
            422,
            [{"loc": ["body", "filters"], "msg": "Input should be a valid dictionary", "type": "dict_type"}],
        ),
        (
            {"query": "x", "filters": {"tenant_id": "demo", "tag_names": [1]}},
            422,
            [
                {
                    "loc": ["body", "filters", "tag_names"],
                    "msg": "Input should be a valid list of strings",
                    "type": "list_type",
                }
            ],
        ),
        ([1, 2], 422, [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]),
    ],
)
@pytest.mark.parametrize("path", ["/v1/kb/search", "/v1/kb/chat", STREAM])
def test_bad_bodies(kb: KBServer, path: str, body: object, status: int, detail: object) -> None:
    response = post(kb, path, body)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


@pytest.mark.parametrize("limit", [0, 101, "5", 2.5, True])
def test_bad_limit(kb: KBServer, limit: object) -> None:
    response = post(kb, "/v1/kb/search", {**ask_body(), "limit": limit})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "limit"]


def test_body_that_is_not_json(kb: KBServer) -> None:
    response = requests.post(kb.url + "/v1/kb/chat", data=b"{not json", timeout=10)
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


def test_unknown_path_and_wrong_method(kb: KBServer) -> None:
    missing = requests.get(kb.url + "/v1/kb/nothing", timeout=10)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = requests.get(kb.url + "/v1/kb/search", timeout=10)
    assert (wrong.status_code, wrong.json(), wrong.headers["Allow"]) == (405, {"detail": "Method Not Allowed"}, "POST")
    assert requests.delete(kb.url + "/health", timeout=10).status_code == 405


def test_body_over_1_mib_is_refused_unread(kb: KBServer) -> None:
    conn = http.client.HTTPConnection(*kb.server_address[:2], timeout=10)
    conn.putrequest("POST", "/v1/kb/chat")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str((1 << 20) + 1))
    conn.endheaders()
    response = conn.getresponse()
    assert (response.status, json.loads(response.read())) == (
        413,
        {"detail": "Request body too large (limit 1048576 bytes)"},
    )
    conn.close()


def test_key_required_when_set(locked_kb: KBServer) -> None:
    assert post(locked_kb, "/v1/kb/chat", ask_body()).status_code == 401
    wrong = post(locked_kb, "/v1/kb/chat", ask_body(), key="nope")
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid or missing API key"})
    assert post(locked_kb, "/v1/kb/chat", ask_body(), key=SERVE_KEY).status_code == 200
    assert requests.get(locked_kb.url + "/health", timeout=10).status_code == 200
    assert requests.get(locked_kb.url + "/health/detailed", timeout=10).status_code == 401


def test_access_log_has_one_line_per_request_and_no_key(tmp_path: Path) -> None:
    log = io.StringIO()
    server = running(tmp_path, api_key=SERVE_KEY, log=log)
    try:
        post(server, "/v1/kb/chat", ask_body(), key=SERVE_KEY)
        post(server, "/v1/kb/chat", ask_body(), key="wrong-key")
        requests.get(server.url + "/nothing", timeout=10)
    finally:
        stop(server)
    lines = log.getvalue().splitlines()
    # A line is written once its response has gone out, so requests on separate connections may be
    # logged in either order: each is compared, not their order.
    assert all(re.fullmatch(r'127\.0\.0\.1 "(POST|GET) /\S*" \d{3} \d+\.\dms', line) for line in lines), lines
    logged = sorted((line.split('"')[1], line.split()[3]) for line in lines)
    assert logged == [("GET /nothing", "404"), ("POST /v1/kb/chat", "200"), ("POST /v1/kb/chat", "401")]
    assert SERVE_KEY not in log.getvalue() and "wrong-key" not in log.getvalue()


def test_non_loopback_host_needs_a_key(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"refusing to serve on 0\.0\.0\.0 without --api-key"):
        start_server(ServeOptions(host="0.0.0.0", port=0, cache_dir=tmp_path))


def test_missing_docs_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        start_server(ServeOptions(tmp_path / "nope", port=0, cache_dir=tmp_path))


# --- filters and tenants -------------------------------------------------------------------


def documents(server: KBServer, query: str, **filters: object) -> list[str]:
    body = {"query": query, "filters": filters, "limit": 100}
    response = post(server, "/v1/kb/search", body)
    assert response.status_code == 200, response.text
    return sorted(item["payload"]["document"] for item in response.json()["items"])


def test_tenants_and_filters(tmp_path: Path, tenants_docs: Path) -> None:
    server = running(tmp_path, tenants_docs)
    try:
        assert documents(server, "llamas", tenant_id="demo") == ["top.md"]
        assert documents(server, "llamas", tenant_id="acme") == ["acme/notes.txt", "acme/plans.md", "acme/support.md"]
        assert documents(server, "llamas", tenant_id="globex") == ["globex/plans.md"]
        assert documents(server, "llamas", tenant_id="nobody") == []
        assert documents(server, "llamas", tenant_id="acme", tag_names=["Support"]) == ["acme/support.md"]
        assert documents(server, "llamas", tenant_id="acme", tag_names=["support", "nothing"]) == ["acme/support.md"]
        assert documents(server, "llamas", tenant_id="acme", tag_names=["Plans"]) == [
            "acme/plans.md",
            "acme/support.md",
        ]
        assert documents(server, "llamas", tenant_id="acme", tag_ids=["tag-support"]) == ["acme/support.md"]
        assert documents(server, "llamas", tenant_id="acme", tag_names=["Plans"], category_name="billing") == [
            "acme/plans.md"
        ]
        assert documents(server, "llamas", tenant_id="acme", source="document", type_name="Document") == [
            "acme/notes.txt", "acme/plans.md", "acme/support.md",
        ]  # fmt: skip
        assert documents(server, "llamas", tenant_id="acme", source="elemental") == []
        assert documents(server, "llamas", tenant_id="acme", user_id="u1") == []
        elemental = post(server, "/v1/kb/search", {"query": "llamas", "filters": {"tenant_id": "globex"}}).json()
        only = elemental["items"][0]["payload"]["snack_elemental_id"]
        assert documents(server, "llamas", tenant_id="globex", elemental_id=only) == ["globex/plans.md"]
    finally:
        stop(server)


# --- the index over time --------------------------------------------------------------------


def test_index_is_reused_when_nothing_changed(tmp_path: Path, tenants_docs: Path) -> None:
    first = open_index(tenants_docs, tmp_path / "cache")
    first.close()
    second = Index(tenants_docs, default_db_path(tenants_docs, tmp_path / "cache"))
    refresh = second.refresh()
    assert (refresh.added, refresh.updated, refresh.removed) == (0, 0, 0)
    assert second.stats()["documents"] == 5
    second.close()


def test_changed_files_are_picked_up_without_a_restart(tmp_path: Path, tenants_docs: Path) -> None:
    server = start_server(ServeOptions(tenants_docs, port=0, cache_dir=tmp_path / "cache"), watch_interval=0.05)
    serve_in_background(server)
    try:
        (tenants_docs / "acme" / "new.md").write_text("# New\n\nZebras arrived.\n")
        (tenants_docs / "acme" / "notes.txt").write_text("Acme giraffes are quiet.\n")
        (tenants_docs / "acme" / "support.md").unlink()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and documents(server, "zebras", tenant_id="acme") != ["acme/new.md"]:
            time.sleep(0.05)
        while time.monotonic() < deadline and documents(server, "llamas", tenant_id="acme") != ["acme/plans.md"]:
            time.sleep(0.05)
        assert documents(server, "zebras", tenant_id="acme") == ["acme/new.md"]
        assert documents(server, "giraffes", tenant_id="acme") == ["acme/notes.txt"]
        assert documents(server, "llamas", tenant_id="acme") == ["acme/plans.md"]
    finally:
        stop(server)


def test_a_broken_cache_file_is_rebuilt(tmp_path: Path, tenants_docs: Path) -> None:
    db = default_db_path(tenants_docs, tmp_path)
    db.write_bytes(b"this is not a database" * 100)
    index = open_index(tenants_docs, tmp_path)
    assert index.stats()["documents"] == 5
    index.close()


# --- streams under load and when clients leave ------------------------------------------------


def test_a_client_that_disconnects_stops_its_generation(tmp_path: Path) -> None:
    server = running(tmp_path, pace=0.05)
    try:
        body = json.dumps(ask_body("security encryption certifications access")).encode()
        with socket.create_connection(server.server_address[:2], timeout=10) as sock:
            sock.sendall(b"POST " + STREAM.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
            received = b""
            while b"data: " not in received:  # headers and the first event may come in separate reads
                chunk = sock.recv(65536)
                assert chunk, "the server closed before the first event"
                received += chunk
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (server.streams.cancelled, server.streams.active) != (1, 0):
            time.sleep(0.02)
        assert (server.streams.active, server.streams.cancelled, server.streams.completed) == (0, 1, 0)
    finally:
        stop(server)


def test_many_concurrent_streams_all_complete(kb: KBServer) -> None:
    answers: list[str] = []

    def client() -> None:
        with requests.post(kb.url + STREAM, json=ask_body(), stream=True, timeout=30) as response:
            events = list(iter_events([response.raw.read()]))
        answers.append(
            "".join(e.text for e in events if type(e) is Content) + ("|done" if type(events[-1]) is Done else "")
        )

    threads = [threading.Thread(target=client) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 30 and len(set(answers)) == 1 and answers[0].endswith("|done")
    deadline = time.monotonic() + 5  # a client can finish reading before its server thread counts it
    while time.monotonic() < deadline and kb.streams.completed < 30:
        time.sleep(0.01)
    assert kb.streams.completed == 30
