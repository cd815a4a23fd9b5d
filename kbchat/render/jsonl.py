"""--json: one line per stream event as it arrives, the payload as the server sent it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from kbchat.events import Answer, Done, KBEvent, NotJSON, Sources
from kbchat.render import consume, handled_aside, line_writer
from kbchat.safe import json_safe
from kbchat.terminal import Terminal


class JSONLinesRenderer:
    """JSON Lines for `jq`: every JSON event, known kind or not; [DONE] is not JSON."""

    marks_cancel = False

    def __init__(self, term: Terminal) -> None:
        self.term = term

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer() if answer is None else answer
        out = self.term.out
        write = line_writer(self.term, json_safe)  # piped: byte for byte, as the server sent it

        def handle(event: KBEvent) -> None:
            kind = type(event)
            if handled_aside(self.term, event):
                return
            if kind is Sources:
                if event.raw:  # type: ignore[union-attr]
                    write(event.raw)  # type: ignore[union-attr]
            else:
                answer.apply(event)
                if kind is Done or kind is NotJSON:
                    return
                raw = event.raw  # type: ignore[union-attr]
                if "\n" in raw or "\r" in raw:  # several data: lines; keep it one line
                    raw = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))
                write(raw)

        try:
            consume(events, handle, answer)
        finally:
            out.flush()
        return answer
