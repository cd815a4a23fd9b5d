"""search, ask --no-stream and ask --sources, as real subprocesses against loopback servers."""

from __future__ import annotations

import json
import threading

import pytest
import responses

from kbchat.client import HTTPKB
from kbchat.errors import BadResponse
from kbchat.settings import Settings
from tests.conftest import KEY, cli, kbchat_env
from tests.pty_screen import PtySession
from tests.scripted_server import Reply, ScriptedServer, json_reply, sse
from tests.test_ask_e2e import read_some, start_kbchat

SEARCH = "/v1/kb/search"
CHAT = "/v1/kb/chat"
STREAM = "/v1/kb/chat/stream"


def conn(server: ScriptedServer) -> list[str]:
    return ["--base-url", server.url, "--api-key", KEY, "--tenant", "acme"]


def item(score: float, text: str, title: str = "Plans", tags: list[str] | None = None) -> dict:
    return {"id": f"id-{score}", "score": score,
            "payload": {"original_text": text, "title": title, "snack_item_id": f"item-{score}", "tag_names": tags or []}}  # fmt: skip


SEARCH_BODY = {
    "items": [item(0.91, "The Team plan costs $29.", tags=["Plans"]), item(0.42, "Unrelated text.")],
    "total_found": 7,
}
CHAT_BODY = {
    "answer": "Team costs **$29**.",
    "sources": [{"id": "s1", "score": 0.88, "snack_item_id": "item-1", "text": "Team plan: $29 a user."}],
}


# --- search -------------------------------------------------------------------------------


def test_search_prints_json_when_piped(server: ScriptedServer) -> None:
    server.queue(json_reply(200, SEARCH_BODY))
    result = cli("search", *conn(server), "--limit", "5", "--filter", "tag_names=Plans", "team", "price")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == SEARCH_BODY
    assert server.requests[0].path == SEARCH
    assert server.requests[0].json() == {
        "query": "team price",
        "filters": {"tenant_id": "acme", "tag_names": ["Plans"]},
        "limit": 5,
    }


def test_search_min_score_drops_weak_hits(server: ScriptedServer) -> None:
    server.queue(json_reply(200, SEARCH_BODY))
    result = cli("search", *conn(server), "--min-score", "0.6", "team")
    assert [i["score"] for i in json.loads(result.stdout)["items"]] == [0.91]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--limit", "0", "q"], "--limit"), (["--min-score", "2", "q"], "--min-score"), ([" "], "empty query")],
)
def test_search_usage_errors(server: ScriptedServer, args: list[str], message: str) -> None:
    result = cli("search", *conn(server), *args)
    assert result.returncode == 2 and message in result.stderr and server.requests == []


def test_search_http_error(server: ScriptedServer) -> None:
    server.queue(json_reply(400, {"detail": "Invalid filter: x"}))
    result = cli("search", *conn(server), "q")
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "kbchat: error: HTTP 400 Bad Request: Invalid filter: x\n",
    )


@pytest.mark.pty
def test_search_table_on_a_terminal(server: ScriptedServer) -> None:
    server.queue(json_reply(200, SEARCH_BODY))
    session = PtySession("search", *conn(server), "team", "price", cols=100)
    assert session.finish() == 0
    text = session.text
    assert "score" in text and "passage" in text
    assert "0.91" in text and "The Team plan costs $29." in text and "item-0.91" in text
    assert "2 shown of 7 found" in text
    bold_team = b"\x1b[1mTeam\x1b[0m" in session.raw or b"\x1b[1mteam" in session.raw.lower()
    assert bold_team, "query words are highlighted"


# --- ask --no-stream ---------------------------------------------------------------------


def test_no_stream_plain_shows_only_the_answer(server: ScriptedServer) -> None:
    server.queue(json_reply(200, CHAT_BODY))
    result = cli("ask", *conn(server), "--no-stream", "how much is team")
    assert (result.returncode, result.stdout) == (0, "Team costs **$29**.\n")
    assert server.requests[0].path == CHAT


def test_no_stream_plain_with_sources(server: ScriptedServer) -> None:
    server.queue(json_reply(200, CHAT_BODY))
    result = cli("ask", *conn(server), "--no-stream", "--sources", "how much is team")
    assert result.stdout == "Team costs **$29**.\n\nSources:\n0.88  item-1  Team plan: $29 a user.\n"


def test_no_stream_json_is_the_body(server: ScriptedServer) -> None:
    server.queue(json_reply(200, CHAT_BODY))
    result = cli("ask", *conn(server), "--no-stream", "--json", "q")
    assert json.loads(result.stdout) == CHAT_BODY


def test_no_stream_errors(server: ScriptedServer) -> None:
    server.queue(json_reply(503, {"detail": "down"}, {"Retry-After": "0"}), json_reply(200, {"sources": []}))
    result = cli("ask", *conn(server), "--no-stream", "q")
    assert (result.returncode, result.stderr) == (1, "kbchat: error: the chat response has no answer\n")


@pytest.mark.pty
def test_no_stream_on_a_terminal_renders_answer_and_sources(server: ScriptedServer) -> None:
    server.queue(json_reply(200, CHAT_BODY))
    session = PtySession("ask", *conn(server), "--no-stream", "q", cols=100)
    assert session.finish() == 0
    assert "Team costs $29." in session.text and "Sources" in session.text and "Team plan: $29 a user." in session.text


# --- ask --sources ---------------------------------------------------------------------------


def test_sources_never_delay_the_first_token(server: ScriptedServer) -> None:
    search_may_answer = threading.Event()
    server.queue_for(STREAM, Reply([sse("First token", done=False), 0.3, sse(" and the rest.")]))
    server.queue_for(SEARCH, Reply([search_may_answer, json.dumps(SEARCH_BODY).encode()],
                                   headers={"Content-Type": "application/json"}, framing="length"))  # fmt: skip
    proc = start_kbchat("ask", *conn(server), "--sources", "q")
    try:
        assert read_some(proc, timeout=10) == b"First token"  # the search is still held back
    finally:
        search_may_answer.set()
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out.decode().startswith(" and the rest.\n\nClosest passages")
    assert "0.91  Plans  The Team plan costs $29." in out.decode()
    assert {r.path for r in server.requests} == {STREAM, SEARCH}


def test_sources_failing_is_only_a_warning(server: ScriptedServer) -> None:
    server.queue_for(STREAM, Reply([sse("Answer.")]))
    server.queue_for(SEARCH, json_reply(500, {"detail": "search is down"}))
    result = cli("ask", *conn(server), "--sources", "--retries", "0", "q")
    assert (result.returncode, result.stdout) == (0, "Answer.\n")
    assert result.stderr == "kbchat: warning: no closest passages: HTTP 500 Internal Server Error: search is down\n"


def test_sources_with_json_adds_one_line(server: ScriptedServer) -> None:
    server.queue_for(STREAM, Reply([sse("A")]))
    server.queue_for(SEARCH, json_reply(200, SEARCH_BODY))
    lines = cli("ask", *conn(server), "--sources", "--json", "q").stdout.splitlines()
    assert json.loads(lines[-1]) == {"event": "kbchat.sources", "data": SEARCH_BODY}


def test_against_serve_end_to_end() -> None:
    result = cli("demo", "--sources", "refund annual")
    assert result.returncode == 0
    assert "Closest passages" in result.stdout and "refunded in full" in result.stdout
    assert kbchat_env()  # the demo needs nothing from the environment


# --- the client's JSON endpoints ------------------------------------------------------------


@responses.activate
def test_client_search_and_chat_bodies() -> None:
    settings = Settings(base_url="https://kb.example", api_key="k", tenant="t")
    responses.post("https://kb.example/v1/kb/search", json={"response": SEARCH_BODY})
    responses.post("https://kb.example/v1/kb/chat", body="<html>", content_type="text/html")
    kb = HTTPKB(settings)
    assert kb.search("q", {"tenant_id": "t"}, 3) == SEARCH_BODY
    with pytest.raises(BadResponse, match="expected JSON from /v1/kb/chat, but the server sent text/html"):
        kb.chat("q", {"tenant_id": "t"})
