"""The fast path: an `ask`, `chat` or `log` command line parsed before Typer loads, exactly as Typer parses it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbchat.cli import fast_parse, run_typer
from tests.conftest import kbchat_env


def through_typer(args: list[str], monkeypatch: pytest.MonkeyPatch, command: str = "ask") -> dict[str, Any] | None:
    """What Typer hands the same code for `kbchat COMMAND ARGS` (None when it refuses the line)."""
    from kbchat.terminal import Terminal

    seen: list[dict[str, Any]] = []

    def capture(term: Any, **given: Any) -> None:
        seen.append(given)

    monkeypatch.setattr("kbchat.commands.asking.ask_command", capture)
    monkeypatch.setattr("kbchat.commands.asking.chat_command", capture)
    monkeypatch.setattr("kbchat.commands.logbook.list_command", capture)
    code = run_typer([command, *args], "kbchat", Terminal.from_std())
    return seen[0] if code == 0 and seen else None


def normalised(parsed: dict[str, Any]) -> dict[str, Any]:
    """The question's words as a list, whichever way they came."""
    return {key: list(value) if key == "words" else value for key, value in parsed.items()}


@pytest.mark.parametrize(
    "args",
    [
        ["what", "are", "the", "products?"],
        ["--base-url", "http://127.0.0.1:9", "--api-key=sk-abc", "-t", "acme", "q"],
        ["-p", "work", "--filter", "tag_names=A,B", "--filter=source=document", "--timeout", "2.5", "--retries=0", "q"],
        ["--plain", "-v", "--no-markdown", "--no-color", "--sources", "-o", "out.txt", "--", "--not-an-option"],
        ["-", "--json", "--no-stream", "--debug"],
        [],
    ],
)
def test_the_fast_path_reads_a_line_as_typer_does(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = fast_parse("ask", args)
    assert fast is not None
    assert normalised(fast) == normalised(through_typer(args, monkeypatch) or {})


@pytest.mark.parametrize(
    "args",
    [["--help"], ["-h"], ["--bogus", "q"], ["-vt", "acme"], ["--timeout", "soon"], ["--retries", "1.5"],
     ["--tenant"], ["--rich=yes"], ["-t", "a", "-t", "b"]],
)  # fmt: skip
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert fast_parse("ask", args) is None


@pytest.mark.parametrize(
    "args",
    [[], ["-t", "acme", "--base-url=http://127.0.0.1:9", "--no-markdown", "-v", "--filter", "source=document"],
     ["--no-color", "--profile", "work", "--timeout", "5", "--retries", "0", "--debug"]],
)  # fmt: skip
def test_the_chat_too(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = fast_parse("chat", args)
    assert fast is not None
    assert normalised(fast) == normalised(through_typer(args, monkeypatch, "chat") or {})


@pytest.mark.parametrize("args", [["question"], ["--plain"], ["-o", "f"], ["--"], ["--help"]])
def test_what_the_chat_does_not_take_is_left_to_typer(args: list[str]) -> None:
    assert fast_parse("chat", args) is None


@pytest.mark.parametrize(
    "args",
    [[], ["-n", "3"], ["--count=5", "-q", "plans OR prices", "--tenant", "acme"], ["--json", "--no-pager", "--no-color"],
     ["-t", "globex", "--query=x*"]],
)  # fmt: skip
def test_the_log_list_too(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = fast_parse("log", args)
    assert fast is not None
    assert normalised(fast) == normalised(through_typer(args, monkeypatch, "log") or {})


@pytest.mark.parametrize("args", [["show", "1"], ["rm", "--all"], ["-n", "-1"], ["-n", "x"], ["--help"], ["-c"]])
def test_log_subcommands_and_the_rest_are_left_to_typer(args: list[str]) -> None:
    assert fast_parse("log", args) is None


TOKENS = st.sampled_from(
    ["q", "what?", "-", "--", "--plain", "--json", "-v", "--sources", "--no-stream", "--tenant", "-t", "acme",
     "--filter", "tag_ids=1", "--timeout", "3", "--retries", "2", "--base-url=http://127.0.0.1:9", "-o", "f.txt",
     "--profile=p", "--api-key", "sk-x", "--timeout=1e3", "--filter=source=document", "-p", "work",
     "-n", "2", "-q", "--no-pager", "--count=0"]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(TOKENS, max_size=10))
def test_whenever_the_fast_path_answers_typer_agrees(args: list[str]) -> None:
    for command in ("ask", "chat", "log"):
        fast = fast_parse(command, args)
        if fast is None:
            continue
        with pytest.MonkeyPatch.context() as monkeypatch:
            assert normalised(fast) == normalised(through_typer(args, monkeypatch, command) or {})


def test_an_ordinary_ask_never_imports_typer() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kbchat", "ask", "--base-url", "http://127.0.0.1:9",
         "--api-key", "sk-0123456789abcdef", "-t", "acme", "--retries", "0", "q"],
        capture_output=True, text=True, env=kbchat_env(), timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 1 and "cannot connect to 127.0.0.1:9" in result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "requests" in imported and "typer" not in imported and "click" not in imported
    assert not {name for name in imported if name.split(".")[0] in ("mcp", "mcp_types", "anyio", "pydantic")}


def test_the_mcp_sdk_is_loaded_by_kbchat_mcp_alone() -> None:
    """Every other command, Typer's too, runs without the optional SDK's ~300 ms of imports."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "kbchat", "search", "--help"],
                            capture_output=True, text=True, env=kbchat_env(), timeout=30)  # fmt: skip
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert result.returncode == 0 and "typer" in imported
    assert not {name for name in imported if name.split(".")[0] in ("mcp", "mcp_types", "anyio", "pydantic")}
