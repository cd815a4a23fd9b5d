"""`kbchat serve` and `kbchat demo` as real subprocesses, with kbchat ask against them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import cli, kbchat_env, posix


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    docs = tmp_path / "docs"
    (docs / "acme").mkdir(parents=True)
    (docs / "acme" / "plans.md").write_text("tags: Plans\n# Plans\n\nThe Llama plan costs $5 a month.\n")
    (docs / "acme" / "support.md").write_text("tags: Support\n# Support\n\nLlama support answers within a day.\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kbchat", "serve", "--docs", str(docs), "--port", "0", "--pace", "0",
         "--api-key", "local-key", "--cache-dir", str(tmp_path / "cache")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kbchat_env(),
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line
    yield line.split()[-1], proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


def test_ask_against_serve(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    result = cli(
        "ask", "--base-url", url, "--api-key", "local-key", "-t", "acme", "how", "much", "is", "the", "llama", "plan"
    )
    assert result.returncode == 0, result.stderr
    assert "The Llama plan costs $5 a month." in result.stdout and "`acme/plans.md`" in result.stdout


def test_filters_reach_serve(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    result = cli(
        "ask", "--base-url", url, "--api-key", "local-key", "-t", "acme", "--filter", "tag_names=Support", "llama"
    )
    assert "support answers within a day" in result.stdout and "$5" not in result.stdout


def test_serve_errors_reach_kbchat(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    result = cli("ask", "--base-url", url, "--api-key", "wrong", "-t", "acme", "llama")
    assert (result.returncode, result.stderr) == (
        1,
        "kbchat: error: HTTP 401 Unauthorized: Invalid or missing API key\n",
    )


@posix("SIGINT sent to another process")
def test_serve_logs_and_stops_cleanly_on_ctrl_c(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, proc = served
    cli("ask", "--base-url", url, "--api-key", "local-key", "-t", "acme", "llama")
    assert proc.stderr is not None
    logged = [proc.stderr.readline() for _ in range(2)]  # the start line, then the request's line
    proc.send_signal(signal.SIGINT)  # only now: the line is written after the client has its answer
    out, err = proc.communicate(timeout=10)
    err = "".join(logged) + err
    assert proc.returncode == 0
    assert '"POST /v1/kb/chat/stream" 200' in err and "kbchat serve: stopped" in err
    assert "local-key" not in out + err and "Traceback" not in err


def test_serve_refuses_an_open_host_without_a_key() -> None:
    result = cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2 and "refusing to serve on 0.0.0.0 without --api-key" in result.stderr


def test_demo_answers_a_question_with_no_setup() -> None:
    result = cli("demo", "what", "does", "the", "premium", "plan", "include?")
    assert result.returncode == 0, result.stderr
    assert 'Customers often call Business "the premium plan"' in result.stdout
    banner = result.stderr.splitlines()[0]
    assert banner.startswith("kbchat demo: 12 sample documents") and len(banner) <= 80  # one line on any terminal


def test_demo_json_mode() -> None:
    result = cli("demo", "--json", "refund policy")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["event"] for line in lines} == {"message"}
    assert "refunded in full within 30 days" in "".join(line["data"]["content"] for line in lines)


def test_demo_ignores_the_users_settings() -> None:
    env = kbchat_env(KBCHAT_BASE_URL="https://unreachable.example", KBCHAT_TENANT="other", KBCHAT_API_KEY="k")
    result = cli("demo", "is my data encrypted", env=env)
    assert result.returncode == 0 and "AES-256" in result.stdout


def test_search_against_serve(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    args = ["search", "--base-url", url, "--api-key", "local-key", "-t", "acme"]
    body = json.loads(cli(*args, "llama").stdout)
    assert body["total_found"] == 2 and {i["payload"]["document"] for i in body["items"]} == {
        "acme/plans.md",
        "acme/support.md",
    }
    filtered = json.loads(cli(*args, "--filter", "tag_names=Support", "llama").stdout)
    assert [i["payload"]["document"] for i in filtered["items"]] == ["acme/support.md"]
    missing = cli(*args, "--filter", "tag_names=Nothing", "llama")
    assert json.loads(missing.stdout) == {"items": [], "total_found": 0}


def test_demo_refuses_answer_options_without_a_question() -> None:
    result = cli("demo", "--json", "-o", "x.txt", input=b"")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("kbchat: error: --json, --output shape one answer: give a QUESTION")


def test_demo_says_a_bad_question_before_it_starts_a_server() -> None:
    result = cli("demo", "  ", input=b"")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == 'kbchat: error: empty question: kbchat demo "your question" (or pipe it on stdin)\n'


def test_serve_rejects_a_port_out_of_range() -> None:
    result = cli("serve", "--port", "99999")
    assert (result.returncode, result.stderr) == (
        2,
        "kbchat: error: --port takes 0 to 65535 (0 picks a free port), not 99999\n",
    )


def test_serve_streams_at_once_unless_asked_to_pace(tmp_path: Path) -> None:
    """A paced stream is the demo's, for a person watching; `ask` against `serve` is never slowed by default."""
    from kbchat.server.run import serve_in_background, start_server, stop
    from kbchat.server.serve_options import ServeOptions

    server = start_server(ServeOptions(port=0, cache_dir=tmp_path))
    serve_in_background(server)
    try:
        assert server.pace == 0.0
    finally:
        stop(server)
