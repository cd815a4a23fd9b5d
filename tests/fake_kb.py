"""A knowledge base for in-process tests: answers from a queue, questions recorded.

Each queued answer is a list of steps: a string is a piece of content, an event is
passed on as is, an exception is raised where it stands (KeyboardInterrupt() is Ctrl-C), a
function is called there (a signal raised, say);
`NO_DONE` leaves [DONE] out. Commands get it through `kbchat.kb.connect` (see the
`fake_kb` fixture in conftest).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from kbchat.events import Content, Done, KBEvent, StreamError
from kbchat.wire import message_data

NO_DONE = object()


def error(message: str) -> StreamError:
    """An error event inside the stream."""
    return StreamError(message, "")


class FakeKB:
    def __init__(self, *answers: list[Any]) -> None:
        self.answers: deque[list[Any]] = deque(answers)
        self.chat_bodies: deque[dict[str, Any] | BaseException] = deque()
        self.search_bodies: deque[dict[str, Any] | BaseException] = deque()
        self.asked: list[tuple[str, dict[str, Any]]] = []  # (question, filters), every endpoint
        self.limits: list[int] = []  # each search's limit
        self.opened = 0
        self.closed = 0
        self.interrupted = 0
        self.woken = 0

    def stream_chat(self, query: str, filters: dict[str, Any]) -> Iterator[KBEvent]:
        self.asked.append((query, filters))
        steps = self.answers.popleft() if self.answers else [f"answer to {query}"]
        done = True
        for step in steps:
            if step is NO_DONE:
                done = False
            elif isinstance(step, BaseException):
                raise step
            elif isinstance(step, str):
                yield Content(step, message_data(step))
            elif callable(step):
                step()
            else:
                yield step
        if done:
            yield Done()

    def chat(self, query: str, filters: dict[str, Any]) -> dict[str, Any]:
        self.asked.append((query, filters))
        return _next(self.chat_bodies, {"answer": f"answer to {query}", "sources": []})

    def search(self, query: str, filters: dict[str, Any], limit: int = 10) -> dict[str, Any]:
        self.asked.append((query, filters))
        self.limits.append(limit)
        return _next(self.search_bodies, {"items": [], "total_found": 0})

    def interrupt(self) -> None:
        self.interrupted += 1

    def wake(self) -> None:
        self.woken += 1

    def close(self) -> None:
        self.closed += 1


def _next(queue: deque[Any], default: dict[str, Any]) -> dict[str, Any]:
    body = queue.popleft() if queue else default
    if isinstance(body, BaseException):
        raise body
    return body
