"""A server that means harm, or is simply broken: the key stays home, the terminal stays ours.

Redirects to another origin or to plain http, escapes in reason phrases and headers,
endless lines and events (with a bound on memory), replies that are not HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import responses

from kbchat.client import HTTPKB
from kbchat.errors import Redirected
from kbchat.events import iter_events
from kbchat.render.jsonl import JSONLinesRenderer
from kbchat.settings import Settings
from kbchat.terminal import Terminal
from tests.conftest import KEY, ask_args, cli, kbchat_env, posix
from tests.scripted_server import Flood, Reply, ScriptedServer, json_reply, sse

STREAM = "/v1/kb/chat/stream"
SEARCH = "/v1/kb/search"
CHAT = "/v1/kb/chat"


def redirect(status: int, location: str) -> Reply:
    return Reply([b""], status=status, headers={"Location": location, "Content-Type": "text/plain"}, framing="length")


def conn(server: ScriptedServer) -> list[str]:
    return ["--base-url", server.url, "--api-key", KEY, "--tenant", "acme"]


# --- redirects: the key goes only where it was sent ------------------------------------


COMMANDS = {
    "ask": (STREAM, ["ask", "q"]),
    "ask --no-stream": (CHAT, ["ask", "--no-stream", "q"]),
    "search": (SEARCH, ["search", "q"]),
}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_redirect_to_another_origin_is_never_followed(server: ScriptedServer, status: int, command: str) -> None:
    path, args = COMMANDS[command]
    with ScriptedServer() as elsewhere:
        server.queue(redirect(status, elsewhere.url + path))
        result = cli(args[0], *conn(server), *args[1:])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"kbchat: error: the server redirected to {elsewhere.url}{path}; if that is right, use --base-url {elsewhere.url}\n"
    )
    assert elsewhere.requests == []


def test_sources_search_is_not_redirected_either(server: ScriptedServer) -> None:
    with ScriptedServer() as elsewhere:
        server.queue_for(SEARCH, redirect(307, elsewhere.url + SEARCH))
        server.queue_for(STREAM, Reply([sse("The answer.")]))
        result = cli(*ask_args(server, "--sources", "q"))
    assert result.returncode == 0 and result.stdout.startswith("The answer.\n")
    assert "kbchat: warning: no closest passages: the server redirected to" in result.stderr
    assert elsewhere.requests == []


def test_doctor_is_not_redirected(server: ScriptedServer) -> None:
    with ScriptedServer() as elsewhere:
        server.queue(redirect(302, elsewhere.url + "/health"), redirect(302, elsewhere.url + "/health/detailed"))
        server.queue_for(SEARCH, redirect(307, elsewhere.url + SEARCH))
        result = cli("doctor", *conn(server))
    assert result.returncode == 1
    assert f"✗ GET /health          the server redirected to {elsewhere.url}/health; if" in result.stdout
    assert elsewhere.requests == []


def test_a_same_origin_307_is_followed_with_method_and_body(server: ScriptedServer) -> None:
    server.queue(redirect(307, "/v2/kb/chat/stream"), redirect(308, server.url + "/v3/kb/chat/stream"))
    server.queue(Reply([sse("Moved, and answered.")]))
    result = cli(*ask_args(server, "-v", "where?"))
    assert (result.returncode, result.stdout) == (0, "Moved, and answered.\n")
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", STREAM), ("POST", "/v2/kb/chat/stream"), ("POST", "/v3/kb/chat/stream")
    ]  # fmt: skip
    assert all(r.json()["query"] == "where?" and r.headers["x-api-key"] == KEY for r in server.requests)
    assert "following HTTP 307 to " + server.url + "/v2/kb/chat/stream (the same origin)" in result.stderr
    assert "following HTTP 308 to " + server.url + "/v3/kb/chat/stream (the same origin)" in result.stderr


def test_more_than_three_hops_is_an_error(server: ScriptedServer) -> None:
    server.queue(*[redirect(307, f"/hop{i}") for i in range(4)], Reply([sse("never")]))
    result = cli(*ask_args(server, "q"))
    assert result.returncode == 1
    assert result.stderr == f"kbchat: error: the server redirected more than 3 times (last to {server.url}/hop3)\n"
    assert len(server.requests) == 4


def test_a_same_origin_301_would_turn_the_post_into_a_get(server: ScriptedServer) -> None:
    server.queue(redirect(301, "/v2/kb/chat/stream"), redirect(302, "/api/v1/kb/chat/stream"))
    result = cli(*ask_args(server, "q"))
    assert result.returncode == 1
    assert result.stderr == (
        f"kbchat: error: the server redirected to {server.url}/v2/kb/chat/stream with HTTP 301, which would "
        f"turn the POST into a GET; kbchat does not follow it\n"
    )
    result = cli(*ask_args(server, "q"))
    assert result.stderr.endswith(f"turn the POST into a GET; if that is right, use --base-url {server.url}/api\n")


@responses.activate
def test_https_redirected_to_plain_http_sends_nothing_in_cleartext() -> None:
    responses.post(
        "https://kb.example/v1/kb/chat/stream", status=308, headers={"Location": "http://kb.example/v1/kb/chat/stream"}
    )
    client = HTTPKB(Settings(base_url="https://kb.example", api_key=KEY, tenant="t"))
    with pytest.raises(Redirected, match=r"redirected to http://kb\.example/v1/kb/chat/stream; if that is right"):
        b"".join(client.stream_chat("q", {"tenant_id": "t"}))
    assert [call.request.url for call in responses.calls] == ["https://kb.example/v1/kb/chat/stream"]


# --- userinfo in the base URL ---------------------------------------------------------------


def test_a_password_in_the_base_url_is_never_shown(server: ScriptedServer) -> None:
    url = server.url.replace("http://", "http://ann:hunter2-secret@")
    server.queue(Reply([sse("ok")]))
    result = cli("ask", "--base-url", url, "--api-key", KEY, "-t", "acme", "-v", "q")
    assert result.returncode == 0
    assert "hunter2" not in result.stderr and server.requests[0].headers["authorization"].startswith("Basic ")
    timeout = cli("ask", "--base-url", url.replace(str(server.url.rsplit(":", 1)[1]), "1"), "--api-key", KEY, "-t", "a",
                  "--retries", "0", "q")  # fmt: skip
    bad = cli("ask", "--base-url", "ftp://ann:hunter2-secret@host", "--api-key", KEY, "-t", "a", "q")
    shown = cli("config", "show", env={"KBCHAT_BASE_URL": url})
    for result in (timeout, bad, shown):
        assert "hunter2" not in result.stdout + result.stderr, result
    assert "ftp://ann:****@host" in bad.stderr
    server.queue(json_reply(200, {"status": "ok"}), json_reply(200, {"status": "ok"}))
    server.queue(json_reply(200, {"items": [], "total_found": 0}))
    doctor = cli("doctor", "--base-url", url, "--api-key", KEY, "-t", "acme")
    assert "hunter2" not in doctor.stdout + doctor.stderr and "ann:****@127.0.0.1" in doctor.stdout
    from kbchat.repl import welcome

    assert "ann:****@127.0.0.1" in welcome(Settings(base_url=url, api_key=KEY, tenant="acme"))
    assert f"base_url = {server.url.replace('http://', 'http://ann:****@')}" in shown.stdout


# --- nothing from the server drives the terminal -----------------------------------------

EVIL = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x9b31m\u202e"


def test_verbose_traces_show_reason_and_headers_harmlessly(server: ScriptedServer) -> None:
    reply = Reply(
        [sse("ok")], reason="OK" + EVIL[:8], headers={"Content-Type": "text/event-stream", "X-Evil": "a\x1b]0;t\x07b"}
    )
    server.queue(reply)
    result = cli(*ask_args(server, "-v", "q"))
    assert result.returncode == 0
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "X-Evil: a\u241b]0;t\u2407b" in result.stderr


def test_an_error_reason_phrase_cannot_clear_the_screen(server: ScriptedServer) -> None:
    server.queue(
        Reply(
            [b"{}"], status=418, reason="Teapot\x1b[2J", headers={"Content-Type": "application/json"}, framing="length"
        )
    )
    result = cli(*ask_args(server, "q"))
    assert result.stderr == "kbchat: error: HTTP 418 Teapot\u241b[2J\n"


def test_json_on_a_terminal_escapes_c1_and_bidi_controls() -> None:
    out = _TTY()
    raw = json.dumps({"event": "message", "data": {"content": "a\x9b31m\u202eb\x7f"}}, ensure_ascii=False)
    JSONLinesRenderer(Terminal(out=out, err=out, is_tty=True)).render(
        iter_events([f"data: {raw}\n\ndata: [DONE]\n\n".encode()])
    )
    line = out.getvalue().strip()
    assert line == raw.replace("\x9b", "\\u009b").replace("\u202e", "\\u202e").replace("\x7f", "\\u007f")
    assert json.loads(line) == json.loads(raw)  # the same value for jq


def test_json_piped_is_passed_through_byte_for_byte(server: ScriptedServer) -> None:
    raw = json.dumps({"event": "message", "data": {"content": "a\x9b\u202e"}}, ensure_ascii=False)
    server.queue(Reply([f"data: {raw}\n\ndata: [DONE]\n\n".encode()]))
    assert cli(*ask_args(server, "--json", "q")).stdout == raw + "\n"


def test_search_json_on_a_terminal_escapes_c1_controls() -> None:
    from kbchat.render.table import print_search_json

    out = _TTY()
    print_search_json(
        Terminal(out=out, err=out, is_tty=True), {"items": [{"payload": {"original_text": "x\x9by\u2066"}}]}
    )
    assert "\x9b" not in out.getvalue() and "\u2066" not in out.getvalue()
    assert "x\\u009by\\u2066" in out.getvalue()


def test_bidi_controls_show_visibly_on_a_terminal() -> None:
    from kbchat.render.plain import PlainRenderer

    out = _TTY()
    PlainRenderer(Terminal(out=out, err=out, is_tty=True), safe=True).render(
        iter_events([sse("admin\u202e txt.exe\u2069 done")])
    )
    assert out.getvalue() == "admin<U+202E> txt.exe<U+2069> done\n"


class _TTY:
    """A text stream that says it is a terminal."""

    def __init__(self) -> None:
        import io

        self._buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self._buffer.write(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def getvalue(self) -> str:
        return self._buffer.getvalue()


# --- bounded, clean failure -----------------------------------------------------------------


@posix("a child's peak memory through os.wait4")
@pytest.mark.parametrize(
    ("flood", "message"),
    [
        (b"x" * 65536, "one line of the stream is longer than 16 MiB"),
        (b"data: " + b"y" * 4000 + b"\n", "one event of the stream is larger than 16 MiB"),
    ],
)
def test_an_endless_line_or_event_stops_at_16_mib_with_flat_memory(
    server: ScriptedServer, flood: bytes, message: str, tmp_path: Path
) -> None:
    server.queue(Reply([sse("Partial answer.", done=False), b"data: ", Flood(flood, limit=200 << 20)]))
    # Through a small launcher: a child forked straight from pytest (hundreds of MiB by now)
    # would count pytest's pages in its peak before it execs.
    report = tmp_path / "rusage"
    launcher = ("import os,subprocess,sys; p=subprocess.Popen(sys.argv[2:]); _,status,use=os.wait4(p.pid,0); "
                "open(sys.argv[1],'w').write(f'{os.waitstatus_to_exitcode(status)} {use.ru_maxrss}')")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", launcher, str(report), sys.executable, "-m", "kbchat",
                             *ask_args(server, "q")], capture_output=True, env=kbchat_env(), timeout=60,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    code, peak = (int(value) for value in report.read_text().split())
    assert code == 1
    assert result.stdout == b"Partial answer.\n"
    assert result.stderr.decode() == f"kbchat: error: {message}; kbchat stopped reading there\n"
    mib = peak / (1 << 20) if sys.platform == "darwin" else peak / 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    assert mib < 90, f"peak RSS {mib:.0f} MiB"


def test_a_reply_that_is_not_http_is_named_and_not_retried(server: ScriptedServer) -> None:
    server.queue(Reply([b"SSH-2.0-OpenSSH_9.2\r\n"], framing="raw"), Reply([sse("never")]))
    result = cli(*ask_args(server, "q"))
    port = server.url.rsplit(":", 1)[1]
    assert result.returncode == 1
    assert (
        result.stderr == f'kbchat: error: 127.0.0.1:{port} did not answer with HTTP (it sent "SSH-2.0-OpenSSH_9.2")\n'
    )
    assert len(server.requests) == 1


def test_oversized_headers_are_named_and_not_retried(server: ScriptedServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Big: " + b"h" * 70000 + b"\r\n\r\n"
    server.queue(Reply([head], framing="raw"), Reply([sse("never")]))
    result = cli(*ask_args(server, "q"))
    assert result.returncode == 1 and "sent an HTTP header line longer than 64 KiB" in result.stderr
    assert len(server.requests) == 1


def test_a_json_body_over_the_limit_is_refused(server: ScriptedServer) -> None:
    body = b'{"items": [], "pad": "' + b"p" * (17 << 20) + b'"}'
    server.queue(Reply([body], headers={"Content-Type": "application/json"}, framing="length"))
    result = cli("search", *conn(server), "q")
    assert result.returncode == 1
    assert (
        result.stderr
        == "kbchat: error: the response from /v1/kb/search is larger than 16 MiB; kbchat stops reading there\n"
    )


def test_deeply_nested_json_is_not_a_crash(server: ScriptedServer) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    server.queue(Reply([deep], headers={"Content-Type": "application/json"}, framing="length"))
    server.queue(Reply([b"data: " + deep + b"\n\n" + sse("fine")]))
    search = cli("search", *conn(server), "q")
    ask = cli(*ask_args(server, "q"))
    assert (search.returncode, search.stderr) == (
        1,
        "kbchat: error: the response from /v1/kb/search is JSON nested too deeply to read\n",
    )
    assert (ask.returncode, ask.stdout) == (0, "fine\n")


def test_a_huge_integer_score_is_shown_not_a_crash(server: ScriptedServer) -> None:
    body = (
        b'{"items": [{"id": "1", "score": 1'
        + b"0" * 400
        + b', "payload": {"original_text": "big"}}], "total_found": 1}'
    )
    server.queue(Reply([body], headers={"Content-Type": "application/json"}, framing="length"))
    result = cli("search", *conn(server), "q")
    assert result.returncode == 0 and '"score": 1' + "0" * 400 in result.stdout
    from kbchat.render.table import print_search

    out = _TTY()
    print_search(Terminal(out=out, err=out, is_tty=True), json.loads(result.stdout)["items"], "q", 1)
    assert "big" in out.getvalue()


def test_an_error_with_a_giant_detail_stays_one_short_line(server: ScriptedServer) -> None:
    server.queue(json_reply(400, {"detail": [{"loc": ["body"], "msg": "m" * 5000}] * 50}))
    result = cli(*ask_args(server, "q"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and len(result.stderr) < 400
