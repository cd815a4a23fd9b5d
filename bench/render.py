#!/usr/bin/env python3
"""Benchmarks of the live renderer, side by side with a naive Rich `Live(Markdown(whole_text))`.

    python bench/render.py          # about a minute; prints one table per measurement

All in one run, same console settings (100 x 40, truecolor, output discarded), medians.
"""

from __future__ import annotations

import io
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.live import Live  # noqa: E402
from rich.markdown import Markdown  # noqa: E402

from bench.common import table  # noqa: E402
from kbchat.render.live import LiveView  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer, sse  # noqa: E402

WIDTH, HEIGHT = 100, 40


class Null(io.TextIOBase):
    """A terminal that swallows everything (rendering cost, not terminal cost)."""

    def write(self, text: str) -> int:
        return len(text)

    def isatty(self) -> bool:
        return True


def console() -> Console:
    return Console(file=Null(), force_terminal=True, width=WIDTH, height=HEIGHT, color_system="truecolor")


def markdown_answer(size: int, seed: int = 1) -> str:
    """Realistic answer text: headings, paragraphs, lists, code fences, tables."""
    rng = random.Random(seed)
    vocabulary = ["plan", "team", "price", "support", "data", "pipeline", "alert", "dashboard", "refund", "annual",
                  "user", "secure", "export"]  # fmt: skip
    parts: list[str] = []
    total = 0
    while total < size:
        kind = rng.choice(["para", "para", "para", "list", "code", "table", "heading"])
        if kind == "para":
            part = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(20, 60))).capitalize() + "."
        elif kind == "list":
            part = "\n".join(
                f"- **{rng.choice(vocabulary)}**: {' '.join(rng.choices(vocabulary, k=8))}" for _ in range(5)
            )
        elif kind == "code":
            part = "```python\n" + "\n".join(f"x_{i} = {i} * {rng.random():.3f}" for i in range(8)) + "\n```"
        elif kind == "table":
            part = "| a | b |\n| --- | --- |\n" + "\n".join(f"| {rng.choice(vocabulary)} | {i} |" for i in range(4))
        else:
            part = f"## {rng.choice(vocabulary).title()}"
        parts.append(part)
        total += len(part) + 2
    return "\n\n".join(parts)[:size]


def tokens(text: str) -> list[str]:
    return [text[i : i + 4] for i in range(0, len(text), 4)]


class Synchronous(LiveView):
    """The live view drawn by the caller, so that one frame can be timed."""

    def start(self) -> None:
        self._started = self.clock()
        self.live.start()

    def stop(self, cancelled: bool = False) -> None:
        self._stopping = True
        self.draw()
        self.live.stop()


def ours_per_update(text: str, updates: int) -> float:
    view = Synchronous(console(), markdown=True)
    view.start()
    view.append(text)
    view.draw()
    samples = []
    for token in tokens(markdown_answer(updates * 4, seed=9))[:updates]:
        started = time.perf_counter()
        view.append(token)
        view.draw()
        samples.append(time.perf_counter() - started)
    view.stop()
    return statistics.median(samples)


def naive_per_update(text: str, updates: int) -> float:
    with Live(console=console(), auto_refresh=False, vertical_overflow="visible") as live:
        samples = []
        for token in tokens(markdown_answer(updates * 4, seed=9))[:updates]:
            text += token
            started = time.perf_counter()
            live.update(Markdown(text), refresh=True)
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def per_update() -> None:
    rows = []
    ours: dict[int, float] = {}
    for size in (1_000, 10_000, 100_000, 1_000_000):
        text = markdown_answer(size)
        ours[size] = ours_per_update(text, updates=60)
        naive = naive_per_update(text, updates=3 if size >= 100_000 else 10) if size <= 100_000 else None
        rows.append([f"{size // 1000} KB", f"{ours[size] * 1000:.2f}", f"{naive * 1000:.1f}" if naive else "(skipped)",
                     "ok" if ours[size] <= 0.002 else "MISSED"])  # fmt: skip
    code = "```python\n" + "\n".join(f"value_{i} = compute({i})" for i in range(20_000)) + "\n"
    tall = ours_per_update(code, updates=60)
    rows.append(["one open code block, 20,000 lines", f"{tall * 1000:.2f}", "", "ok" if tall <= 0.002 else "MISSED"])
    ratio = ours[1_000_000] / ours[1_000]
    rows.append(["1 MB cost / 1 KB cost", f"{ratio:.2f}x", "", "ok" if ratio <= 1.5 else "MISSED"])
    table("per-update render cost (append a token, draw a frame), median ms",
          ["answer so far", "kbchat", "naive Live(Markdown(text))", "target: <= 2 ms"], rows)  # fmt: skip


def whole_answer() -> None:
    """Stream an answer in 4-character tokens, one frame per 2 KB of text; total CPU."""
    big = markdown_answer(1_000_000)
    started = time.process_time()
    view = Synchronous(console(), markdown=True)
    view.start()
    for index, token in enumerate(tokens(big)):
        view.append(token)
        if index % 512 == 0:
            view.draw()
    view.stop()
    ours = time.process_time() - started
    small = markdown_answer(100_000)
    started = time.process_time()
    text = ""
    with Live(console=console(), auto_refresh=False, vertical_overflow="visible") as live:
        for index, token in enumerate(tokens(small)):
            text += token
            if index % 512 == 0:
                live.update(Markdown(text), refresh=True)
        live.update(Markdown(text), refresh=True)
    naive = time.process_time() - started
    table("a whole answer, one frame per 2 KB streamed, CPU seconds",
          ["renderer", "answer", "CPU s", "target"],
          [["kbchat", "1 MB", f"{ours:.2f}", "ok" if ours < naive else "MISSED"],
           ["naive Live(Markdown(text))", "100 KB", f"{naive:.2f}", "kbchat's 1 MB below this"]])  # fmt: skip


def blinking_cpu(seconds: float = 5.0) -> None:
    view = LiveView(console(), markdown=True)
    view.start()
    view.append(markdown_answer(5_000) + "\n\nA sentence that stalls")
    time.sleep(0.2)
    cpu, wall = time.process_time(), time.monotonic()
    frames = view.frames
    time.sleep(seconds)
    used = (time.process_time() - cpu) / (time.monotonic() - wall)
    drawn = view.frames - frames
    view.stop()
    table("cursor blinking over a stalled stream", ["measured for", "frames drawn", "CPU of one core", "target"],
          [[f"{seconds:.0f} s", str(drawn), f"{used * 100:.2f} %", "ok (< 2 %)" if used < 0.02 else "MISSED (< 2 %)"]])  # fmt: skip


NAIVE_CLIENT = """
import sys
from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from kbchat.client import HTTPKB
from kbchat.settings import Settings
from kbchat.events import Content
settings = Settings(base_url=sys.argv[1], api_key="k", tenant="t")
text = ""
with Live(console=Console(), vertical_overflow="visible") as live:  # Rich's defaults: 4 refreshes a second
    for event in HTTPKB(settings).stream_chat("q", {"tenant_id": "t"}):
        if type(event) is Content:
            text += event.text
            live.update(Markdown(text))
"""


def byte_to_screen(events: int = 20) -> None:
    """Server write to the token's appearance on a pty, for kbchat and a naive Rich Live client."""
    import pexpect

    markers = [f"tok{i:02d}" for i in range(events)]
    rows = []
    for name, command in {
        "kbchat": lambda url: [
            sys.executable,
            "-m",
            "kbchat",
            "ask",
            "--base-url",
            url,
            "--api-key",
            "k",
            "-t",
            "t",
            "q",
        ],
        "naive Live, default 4 Hz": lambda url: [sys.executable, "-c", NAIVE_CLIENT, url],
    }.items():
        lags = []
        for _ in range(2):
            steps: list = []
            for marker in markers:
                steps += [random.uniform(0.08, 0.16), sse(f"{marker} ", done=False)]
            steps.append(sse())
            with ScriptedServer() as server:
                server.queue(Reply(steps))
                env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
                argv = command(server.url)
                child = pexpect.spawn(argv[0], argv[1:], dimensions=(HEIGHT, WIDTH), env=env)
                seen: dict[int, float] = {}
                buffer = ""
                while child.isalive() or len(seen) < events:
                    try:
                        data = child.read_nonblocking(65536, timeout=0.005).decode(errors="replace")
                    except pexpect.TIMEOUT:
                        continue
                    except pexpect.EOF:
                        break
                    now = time.perf_counter()
                    buffer = (buffer + data)[-8192:]
                    for index, marker in enumerate(markers):
                        if index not in seen and marker in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer):
                            seen[index] = now
                child.close()
                lags += [seen[i] - server.write_times[i] for i in seen]
        median = statistics.median(lags) * 1000
        verdict = ("ok" if median < 50 else "MISSED") if name == "kbchat" else ""
        rows.append([name, f"{median:.1f}", f"{max(lags) * 1000:.1f}", str(len(lags)), verdict])
    table("a byte arriving -> drawn on the pty (tokens 80-160 ms apart)",
          ["client", "median ms", "max ms", "samples", "target: median < 50 ms"], rows)  # fmt: skip


def main() -> None:
    print(f"# kbchat render benchmarks: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")  # fmt: skip
    per_update()
    whole_answer()
    blinking_cpu()
    byte_to_screen()


if __name__ == "__main__":
    main()
