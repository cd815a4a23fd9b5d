"""`ask`, `demo QUESTION` and the chat ask through one Asker: the same question leaves the same trace."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kbchat.errors import HTTPStatusError
from tests.conftest import KEY, cli
from tests.fake_kb import NO_DONE, FakeKB, error

CONN = ["--base-url", "https://kb.example", "--api-key", KEY, "--tenant", "acme"]
HIT = {"id": "7", "score": 0.8, "payload": {"original_text": "Team is $29.", "title": "Plans", "document": "p.md"}}
TIMING = {"id", "time", "first_content_ms", "duration_ms", "continues"}


def logged() -> list[dict[str, Any]]:
    result = cli("log", "--json", "-n", "100")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def without_timing(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key not in TIMING}


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        (["Plans ", "start at $9."], 0),
        (["Half an answer", error("the model is overloaded")], 1),
        (["Cut short", NO_DONE], 1),
        ([HTTPStatusError(503, "Service Unavailable", "busy")], 1),
    ],
)
def test_the_same_question_asked_and_chatted_is_logged_alike(fake_kb: FakeKB, steps: list[Any], code: int) -> None:
    fake_kb.answers.extend([steps, steps])
    fake_kb.search_bodies.extend([{"items": [HIT], "total_found": 1}] * 2)
    asked = cli("ask", *CONN, "--sources", "what are the plans?")
    chatted = cli("chat", *CONN, "--sources", input="what are the plans?\n")
    assert asked.returncode == chatted.returncode == code
    assert asked.stdout == chatted.stdout and asked.stderr == chatted.stderr
    by_ask, by_chat = logged()
    assert bool(by_ask["sources"]) is not isinstance(steps[0], Exception)  # a refused request shows no sources
    assert by_ask["status"] == ("ok" if code == 0 else "failed")
    assert without_timing(by_ask) == without_timing(by_chat)


def test_a_follow_up_asked_and_chatted_sends_and_logs_alike(fake_kb: FakeKB) -> None:
    assert cli("ask", *CONN, "about the plans").returncode == 0
    assert cli("ask", *CONN, "-c", "and the prices?").returncode == 0
    assert cli("chat", *CONN, input="/context on\nabout the plans\nand the prices?\n").returncode == 0
    queries = [query for query, _ in fake_kb.asked]
    assert queries[:2] == queries[2:] == ["about the plans", "about the plans\n\nFollow-up question: and the prices?"]
    first, follow, chat_first, chat_follow = logged()
    assert (follow["continues"], chat_follow["continues"]) == (first["id"], chat_first["id"])
    assert without_timing(follow) == without_timing(chat_follow)
