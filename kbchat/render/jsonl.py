"""--json: one line per stream event as it arrives, the payload as the server sent it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from kbchat.events import Answer, Done, KBEvent, NotJSON, Sources
from kbchat.render import cited, consume, handled_aside, line_writer
from kbchat.safe import json_safe
from kbchat.terminal import Terminal


class JSONLinesRenderer:
    """JSON Lines for `jq`: every JSON event, known kind or not; [DONE] is not JSON. After the stream,
    `kbchat.sources` (--sources) and `kbchat.citations` (--cite) lines."""

    marks_cancel = False

    def __init__(self, term: Terminal, sources: bool = False, cite: bool = False) -> None:
        self.term = term
        self.sources = sources
        self.cite = cite

    def render(self, events: Iterable[KBEvent], answer: Answer | None = None) -> Answer:
        answer = Answer(keep_text=self.cite) if answer is None else answer  # --cite matches the whole text
        out = self.term.out
        write = line_writer(self.term, json_safe)  # piped: byte for byte, as the server sent it
        searched: list[Sources] = []  # passages, written once the answer is out (a search's, if asked)

        def handle(event: KBEvent) -> None:
            kind = type(event)
            if handled_aside(self.term, event):
                return
            if kind is Sources:
                searched.append(event)  # type: ignore[arg-type]
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
            for found in searched:
                if found.raw and self.sources:
                    write(found.raw)
            if self.cite and (citations := cited(answer, searched)) is not None:
                write(json.dumps({"event": "kbchat.citations", "data": citations.as_json()}, ensure_ascii=False))
        finally:
            out.flush()
        return answer
