"""--json: one line per stream event as it arrives, the payload as the server sent it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from kbchat.events import Answer, Done, KBEvent, NotJSON, Pause
from kbchat.render import Terminal
from kbchat.safe import json_safe


class JSONLinesRenderer:
    """JSON Lines for `jq`: every JSON event, known kind or not; [DONE] is not JSON."""

    def __init__(self, term: Terminal) -> None:
        self.term = term

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer() if answer is None else answer
        out = self.term.out
        clean = json_safe if self.term.is_tty else None  # piped: byte for byte, as the server sent it
        try:
            for event in events:
                kind = type(event)
                if kind is Pause:
                    out.flush()
                    continue
                answer.apply(event)
                if kind is Done or kind is NotJSON:
                    continue
                raw = event.raw  # type: ignore[union-attr]  # Pause was skipped above
                if "\n" in raw or "\r" in raw:  # several data: lines; keep it one line
                    raw = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))
                out.write((clean(raw) if clean else raw) + "\n")
        except KeyboardInterrupt:
            answer.cancelled = True
            raise
        finally:
            out.flush()
        return answer
