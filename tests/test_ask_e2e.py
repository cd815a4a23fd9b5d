"""`kbchat ask` as a real subprocess against the scripted loopback server."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import KEY, ask_args, cli, kbchat_env, posix
from tests.scripted_server import Drop, Reply, ScriptedServer, Stall, json_reply, sse

FRAMINGS = ["chunked", "close", "length"]


def error_event(message: str) -> bytes:
    return b"data: " + json.dumps({"event": "error", "data": {"message": message}}).encode() + b"\n\n"


# --- How a stream ends: one test per row of the contract's table ------------------


@pytest.mark.parametrize("framing", FRAMINGS)
def test_done_gives_the_answer_and_exit_0(server: ScriptedServer, framing: str) -> None:
    server.queue(Reply([sse("Plans", " start at", " $9.")], framing=framing))  # type: ignore[arg-type]
    result = cli(*ask_args(server, "what", "are", "plans?"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "Plans start at $9.\n", "")
    assert server.requests[0].json() == {"query": "what are plans?", "filters": {"tenant_id": "acme"}}


def test_answer_ending_in_newline_gets_no_extra_one(server: ScriptedServer) -> None:
    server.queue(Reply([sse("line\n")]))
    assert cli(*ask_args(server, "q")).stdout == "line\n"


def test_empty_answer_prints_nothing(server: ScriptedServer) -> None:
    server.queue(Reply([sse()]))
    result = cli(*ask_args(server, "q"))
    assert (result.returncode, result.stdout) == (0, "")


def test_error_event_keeps_reading_and_exits_1(server: ScriptedServer) -> None:
    server.queue(Reply([sse("partial", done=False), error_event("model overloaded"), sse(" more")]))
    result = cli(*ask_args(server, "q"))
    assert result.returncode == 1
    assert result.stdout == "partial more\n"
    assert result.stderr == "kbchat: error: model overloaded\n"


def test_http_error_prints_nothing_on_stdout(server: ScriptedServer) -> None:
    server.queue(json_reply(401, {"detail": "Invalid API key"}))
    result = cli(*ask_args(server, "q"))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "kbchat: error: HTTP 401 Unauthorized: Invalid API key\n"


@pytest.mark.parametrize("framing", ["chunked", "close", "length"])
def test_connection_closed_before_done(server: ScriptedServer, framing: str) -> None:
    server.queue(Reply([sse("half an", done=False), Drop()], framing=framing))  # type: ignore[arg-type]
    result = cli(*ask_args(server, "q"))
    assert (result.returncode, result.stdout) == (1, "half an\n")
    assert result.stderr == "kbchat: error: the stream ended before the answer was complete\n"


def test_idle_timeout(server: ScriptedServer) -> None:
    server.queue(Reply([sse("waiting", done=False), Stall()]))
    result = cli(*ask_args(server, "q", "--timeout", "0.5"))
    assert (result.returncode, result.stdout) == (1, "waiting\n")
    assert "no data from the server for 0.5 s (--timeout)" in result.stderr


def test_keepalive_comments_reset_the_idle_timer(server: ScriptedServer) -> None:
    steps: list = [sse("a", done=False)]
    for _ in range(3):  # 0.75 s in all, more than the timeout; never 0.6 s without a byte
        steps += [0.25, b": keep-alive\n\n"]
    server.queue(Reply([*steps, sse("b")]))
    result = cli(*ask_args(server, "q", "--timeout", "0.6"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "ab\n", "")


def test_cannot_connect_names_host_and_cause() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("ask", "--base-url", f"http://127.0.0.1:{port}", "--api-key", KEY, "-t", "a", "--retries", "1", "q")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"kbchat: error: cannot connect to 127.0.0.1:{port}: connection refused\n"  # not retried


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "acme", "q"], "no API key"),
        (["--api-key", KEY, "q"], "no tenant"),
        (["--api-key", KEY, "-t", "a", "   "], "empty question"),
        (["--api-key", KEY, "-t", "a", "--filter", "colour=red", "q"], "unknown filter key 'colour'"),
        (["--api-key", KEY, "-t", "a", "--plain", "--json", "q"], "choose one output mode"),
        (["--api-key", KEY, "-t", "a", "--base-url", "http://example.com", "q"], "refusing to send the API key"),
        (["--api-key", KEY, "-t", "a", "--timeout", "-1", "q"], "bad timeout"),
        (["--api-key", KEY, "-t", "a", "-o", "/nonexistent/dir/out.txt", "q"], "cannot write /nonexistent/dir/out.txt"),
    ],
)
def test_usage_errors_exit_2_and_send_nothing(server: ScriptedServer, args: list[str], message: str) -> None:
    if "--base-url" not in args:
        args = ["--base-url", server.url, *args]
    result = cli("ask", *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("kbchat: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert server.requests == []


def test_unknown_option_is_a_usage_error(server: ScriptedServer) -> None:
    result = cli("ask", "--frobnicate", "q")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("kbchat: error: no such option: --frobnicate")
    assert result.stderr.endswith(" (see kbchat ask --help)\n") and result.stderr.count("\n") == 1


# --- Retries ----------------------------------------------------------------------


def test_503_then_200(server: ScriptedServer) -> None:
    server.queue(json_reply(503, {"detail": "warming up"}, {"Retry-After": "0"}), Reply([sse("ok")]))
    result = cli(*ask_args(server, "q", "-v"))
    assert (result.returncode, result.stdout) == (0, "ok\n")
    assert len(server.requests) == 2
    assert "HTTP 503; retrying in 0.00 s" in result.stderr


def test_429_waits_for_retry_after(server: ScriptedServer) -> None:
    server.queue(json_reply(429, {"detail": "rate limited"}, {"Retry-After": "0.3"}), Reply([sse("ok")]))
    started = time.monotonic()
    result = cli(*ask_args(server, "q", "-v"))
    assert (result.returncode, result.stdout) == (0, "ok\n")
    assert time.monotonic() - started >= 0.3
    assert "HTTP 429; retrying in 0.30 s" in result.stderr


def test_no_retry_once_content_arrived(server: ScriptedServer) -> None:
    server.queue(Reply([sse("once", done=False), Drop()]), Reply([sse("twice")]))
    result = cli(*ask_args(server, "q"))
    assert (result.returncode, result.stdout) == (1, "once\n")
    assert len(server.requests) == 1


def test_retries_0_reports_the_first_failure(server: ScriptedServer) -> None:
    server.queue(json_reply(503, {"detail": "down"}), Reply([sse("never")]))
    result = cli(*ask_args(server, "q", "--retries", "0"))
    assert result.stderr == "kbchat: error: HTTP 503 Service Unavailable: down\n"


# --- The question, output modes, the key --------------------------------------------


def test_words_and_stdin_together(server: ScriptedServer) -> None:
    server.queue(Reply([sse("ok")]))
    cli(*ask_args(server, "summarise", "this"), input=b"first line\nsecond\n")
    assert server.requests[0].json()["query"] == "summarise this\n\nfirst line\nsecond"


def test_question_from_stdin_with_dash(server: ScriptedServer) -> None:
    server.queue(Reply([sse("ok")]))
    cli(*ask_args(server, "-"), input="what is the price? \u20ac\n".encode())
    assert server.requests[0].json()["query"] == "what is the price? \u20ac"


def test_bare_kbchat_with_piped_stdin_asks(server: ScriptedServer) -> None:
    server.queue(Reply([sse("piped answer")]))
    env = kbchat_env(KBCHAT_BASE_URL=server.url, KBCHAT_API_KEY=KEY, KBCHAT_TENANT="acme")
    result = cli(input=b"what is piped?", env=env)
    assert (result.returncode, result.stdout) == (0, "piped answer\n")
    assert server.requests[0].json()["query"] == "what is piped?"


def test_plain_output_is_the_content_exactly(server: ScriptedServer) -> None:
    content = ["[bold]x[/bold] ", "\x1b]52;c;ZXZpbA==\x07", " tab\there", " caf\u00e9 \u4e2d\U0001f600"]
    server.queue(Reply([sse(*content)]))
    result = cli(*ask_args(server, "q"))
    assert result.stdout == "".join(content) + "\n"


def test_json_mode_prints_each_payload_as_sent(server: ScriptedServer) -> None:
    usage = b'data: {"event":"usage","data":{"tokens":3}}\n\n'
    server.queue(Reply([sse("a", done=False), usage, b"data: not json\n\n", error_event("e"), sse("b")]))
    result = cli(*ask_args(server, "q", "--json"))
    lines = result.stdout.splitlines()
    assert [json.loads(line).get("event") for line in lines] == ["message", "usage", "error", "message"]
    assert lines[1] == '{"event":"usage","data":{"tokens":3}}'
    assert result.returncode == 1 and result.stderr == "kbchat: error: e\n"


def test_output_file_gets_the_plain_answer(server: ScriptedServer, tmp_path) -> None:
    server.queue(Reply([sse("saved", " answer")]))
    out = tmp_path / "answer.txt"
    result = cli(*ask_args(server, "q", "--json", "-o", str(out)))
    assert out.read_text() == "saved answer\n"
    assert result.stdout.count("\n") == 2


def test_verbose_traces_but_never_shows_the_key(server: ScriptedServer) -> None:
    server.queue(
        json_reply(503, {"detail": "x"}, {"Retry-After": "0"}),
        Reply([sse("a", done=False), b"data: junk\n\n", error_event(f"bad key {KEY[:6]}"), Drop()]),
    )
    result = cli(*ask_args(server, "q", "-v"))
    assert KEY not in result.stdout + result.stderr
    assert "POST " in result.stderr and "skipped data that is not JSON" in result.stderr
    assert server.requests[0].headers["x-api-key"] == KEY


def test_key_never_printed_on_errors(server: ScriptedServer) -> None:
    server.queue(json_reply(401, {"detail": "nope"}))
    for args in (
        ask_args(server, "q", "-v"),
        ["ask", "--api-key", KEY, "-t", "a", "--base-url", "http://x.example", "q"],
    ):
        result = cli(*args)
        assert KEY not in result.stdout + result.stderr


# --- Streaming for real: latency, Ctrl-C, closed pipes ----------------------------------


def start_kbchat(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kbchat", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=kbchat_env(),
    )


def read_some(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return os.read(proc.stdout.fileno(), 65536) if ready else b""


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_first_content_reaches_the_pipe_before_the_rest_is_sent(server: ScriptedServer, framing: str) -> None:
    release = threading.Event()
    server.queue(Reply([sse("first", done=False), release, sse(" second")], framing=framing))  # type: ignore[arg-type]
    proc = start_kbchat(*ask_args(server, "q"))
    try:
        assert read_some(proc, timeout=10) == b"first"  # the server is still holding the rest back
    finally:
        release.set()
    out, err = proc.communicate(timeout=10)
    assert (proc.returncode, out, err) == (0, b" second\n", b"")


@posix("SIGINT sent to another process")
def test_ctrl_c_keeps_the_partial_answer_and_exits_130(server: ScriptedServer) -> None:
    server.queue(Reply([sse("partial", done=False), Stall()]))
    proc = start_kbchat(*ask_args(server, "q"))
    assert read_some(proc, timeout=10) == b"partial"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=5)
    assert time.monotonic() - sent < 2.0
    assert (proc.returncode, out, err) == (130, b"\n", b"kbchat: cancelled\n")
    assert server.closed.wait(2), "the connection was not closed"


def test_a_reader_that_goes_away_ends_kbchat_quietly(server: ScriptedServer) -> None:
    server.queue(Reply([sse("a", done=False), 0.2, sse("b" * 100_000, done=False), 0.2, sse("c")]))
    proc = start_kbchat(*ask_args(server, "q"))
    assert read_some(proc, timeout=10) == b"a"
    assert proc.stdout is not None
    proc.stdout.close()
    assert proc.wait(timeout=10) == 141
    assert proc.stderr is not None
    with proc.stderr:
        assert proc.stderr.read() == b""


def test_the_reader_of_a_pipe_sees_the_end_before_the_answer_is_logged(server: ScriptedServer, tmp_path: Path) -> None:
    """stdout is let go once the answer is written: the next program in a pipe need not wait for the log."""
    import sqlite3

    from kbchat.answer_log import AnswerLog

    log = tmp_path / "log.db"
    AnswerLog.open(log).close()
    holder = sqlite3.connect(log, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the log is busy: kbchat's write waits for it
    server.queue(Reply([sse("the whole answer\n")]))
    with subprocess.Popen([sys.executable, "-m", "kbchat", *ask_args(server, "q")], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          env=kbchat_env(KBCHAT_LOG=str(log))) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            assert proc.stdout.read() == b"the whole answer\n"  # the end of the pipe, while the log still waits
            assert proc.poll() is None
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert proc.wait(timeout=20) == 0
    with AnswerLog.open(log) as answer_log:
        assert [e.answer for e in answer_log.entries()] == ["the whole answer\n"]
