#!/usr/bin/env python3
"""The answer log: searching 100,000 logged answers, and what logging costs an answer.

    python bench/log.py            # about a minute (most of it filling the log once)
    python bench/log.py --quick    # fewer repetitions, for a smoke run

1. `kbchat log -q TEXT` over 100,000 answers: the search itself (in this process), and
   the whole command as a user runs it (a process, piped), several kinds of query.
2. Logging on vs off, side by side: process start to the first content on a pipe, and to
   the process's exit (the log is written after the answer ends, before the exit).
3. A log of 50 answers of 4 MiB each: `kbchat log`, `log -n 50`, `log --json -n 50` and
   `log export -o FILE`, each a process: its time and its peak memory.
Medians; runs interleaved, as these machines are shared.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import table  # noqa: E402
from bench.stream import kbchat_exe, run_watched  # noqa: E402
from kbchat.answer_log import AnswerLog, Entry, preview  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer, sse  # noqa: E402

ENTRIES = 100_000
TARGET_MS = 50.0
QUERIES = {
    "a common word": "plan",
    "two words (AND)": "invoice refresh",
    "a phrase": '"single sign"',
    "a prefix": "downgr*",
    "rare word": "zebracorn",
}


def vocabulary() -> tuple[list[str], list[float]]:
    """The words of the demo's documents, weighted as in natural text (Zipf: the n-th most common 1/n)."""
    from collections import Counter

    from kbchat.server.run import SAMPLE_DOCS

    counts = Counter(re.findall(r"[a-z]{2,}", " ".join(p.read_text().lower() for p in SAMPLE_DOCS.rglob("*.md"))))
    words = [word for word, _ in counts.most_common()]
    return words, [1 / rank for rank in range(1, len(words) + 1)]


def fill(path: Path, count: int, seed: int = 11) -> float:
    """A log of `count` answers of 150-400 words each, in one transaction; seconds taken."""
    rng = random.Random(seed)
    words, weights = vocabulary()
    started = time.perf_counter()
    with AnswerLog.open(path) as log:
        log.db.execute("BEGIN")
        for n in range(count):
            question = " ".join(rng.choices(words, weights, k=rng.randint(4, 12))) + "?"
            answer = " ".join(rng.choices(words, weights, k=rng.randint(150, 400)))
            if n == count // 2:
                answer += " zebracorn"
            log.db.execute(
                "INSERT INTO exchanges (time, profile, base_url, tenant, filters, question, answer, status, sources,"
                " query, first_content_ms, duration_ms, preview) VALUES (?, 'default', 'https://kb.example', ?,"
                " '{\"tenant_id\": \"acme\"}', ?, ?, 'ok', '[]', ?, 120.0, 900.0, ?)",
                ("2026-11-30T00:00:00.000Z", rng.choice(("acme", "globex")), question, answer, question,
                 preview(answer)),
            )  # fmt: skip
        log.db.execute("COMMIT")
        log.db.execute("INSERT INTO exchanges_fts (exchanges_fts) VALUES ('optimize')")
    return time.perf_counter() - started


def search(path: Path, reps: int) -> None:
    env = {**os.environ, "KBCHAT_LOG": str(path)}
    inproc: dict[str, list[float]] = {}
    process: dict[str, list[float]] = {}
    with AnswerLog.open(path) as log:
        for _ in range(reps):
            for label, text in QUERIES.items():
                started = time.perf_counter()
                log.entries(10, text=text)
                inproc.setdefault(label, []).append(time.perf_counter() - started)
                started = time.perf_counter()
                subprocess.run([*kbchat_exe(), "log", "-q", text], env=env, stdout=subprocess.DEVNULL, check=True)
                process.setdefault(label, []).append(time.perf_counter() - started)
    plain: dict[str, list[float]] = {}
    for _ in range(reps):
        for args in (["log"], ["--version"]):
            started = time.perf_counter()
            subprocess.run([*kbchat_exe(), *args], env=env, stdout=subprocess.DEVNULL, check=True)
            plain.setdefault(args[0], []).append(time.perf_counter() - started)
    rows = []
    for label, text in QUERIES.items():
        ms = statistics.median(inproc[label]) * 1000
        rows.append([label, text, f"{ms:.1f}", f"{statistics.median(process[label]) * 1000:.0f}",
                     "ok" if ms < TARGET_MS else "MISSED"])  # fmt: skip
    rows.append(["(no query)", "kbchat log", "", f"{statistics.median(plain['log']) * 1000:.0f}", ""])
    rows.append(
        ["(a process's floor)", "kbchat --version", "", f"{statistics.median(plain['--version']) * 1000:.0f}", ""]
    )
    table(f"1. kbchat log -q over {ENTRIES:,} answers (p50)",
          ["query", "TEXT", "search ms", "whole command ms", f"target: search < {TARGET_MS:.0f} ms"], rows)  # fmt: skip


def logging_cost(reps: int, folder: Path) -> None:
    """First content and exit, with the log on and off, alternated against one server."""
    results: dict[str, list[float]] = {}
    env = {**os.environ, "KBCHAT_LOG": str(folder / "cost.db")}
    with ScriptedServer() as server:
        server.default = Reply([sse("first|", done=False), sse(" and the rest of the answer.")])
        args = ["ask", "--base-url", server.url, "--api-key", "bench-key", "-t", "bench", "--plain", "q"]
        for _ in range(reps):
            for label, extra in (("log on", []), ("log off (--no-log)", ["--no-log"])):
                started = time.perf_counter()
                watch = run_watched([*kbchat_exe(), *args, *extra], [b"first|"], env)
                ended = time.perf_counter()
                if 0 in watch.seen:
                    results.setdefault(f"{label}: first content", []).append(watch.seen[0] - started)
                    results.setdefault(f"{label}: exit", []).append(ended - started)
    with AnswerLog.open(folder / "cost.db") as log:  # the runs with the log on did write to it
        logged = len(log.entries(None))
    assert logged == len(results["log on: exit"]), (logged, len(results["log on: exit"]))
    rows = []
    for what in ("first content", "exit"):
        on = statistics.median(results[f"log on: {what}"]) * 1000
        off = statistics.median(results[f"log off (--no-log): {what}"]) * 1000
        rows.append([what, f"{on:.1f}", f"{off:.1f}", f"{on - off:+.1f}", f"{on / off:.2f}x"])
    table("2. logging on vs off: process start -> (pipe)", ["until", "on ms", "off ms", "on - off", "ratio"], rows)


BIG_ANSWERS = 50
BIG_ANSWER = 4 << 20  # characters: the most an answer keeps
LIST_TARGET_MS = 100.0


def big_answers(reps: int, folder: Path) -> None:
    """The list reads previews and export goes an entry at a time: time and memory stay flat."""
    path = folder / "big.db"
    rng = random.Random(5)
    words, weights = vocabulary()
    with AnswerLog.open(path) as log:
        for n in range(BIG_ANSWERS):
            text = " ".join(rng.choices(words, weights, k=2000))
            log.add(Entry(question=f"big question {n}?", answer=(text * (BIG_ANSWER // len(text) + 1))[:BIG_ANSWER],
                          status="ok", tenant="acme", base_url="https://kb.example", profile="default"))  # fmt: skip
    env = {**os.environ, "KBCHAT_LOG": str(path)}
    runs = {
        "kbchat log": ["log"],
        "kbchat log -n 50": ["log", "-n", "50"],
        "kbchat log --json -n 50": ["log", "--json", "-n", "50"],
        "kbchat log export -o FILE": ["log", "export", "-o", str(folder / "export.md")],
    }
    launcher = (  # times the command from its start to its exit, and reads its peak memory (not the launcher's)
        "import os,subprocess,sys,time;t=time.perf_counter();"
        "p=subprocess.Popen(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
        "r=os.wait4(p.pid,0)[2].ru_maxrss;print(time.perf_counter()-t,r)"
    )
    seconds: dict[str, list[float]] = {}
    peaks: dict[str, list[float]] = {}
    labels = list(runs)
    for group in (
        labels[:2],
        labels[2:],
    ):  # the lists apart from the 200 MB writers, whose writeback slows what follows
        for _ in range(reps):
            for label in group:
                took, peak = subprocess.run([sys.executable, "-c", launcher, *kbchat_exe(), *runs[label]], env=env,
                                            capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
                seconds.setdefault(label, []).append(float(took))
                peaks.setdefault(label, []).append(int(peak) / 1024)
    rows = []
    for label in runs:
        ms = statistics.median(seconds[label]) * 1000
        target = (
            f"{'ok' if ms <= LIST_TARGET_MS else 'MISSED'} (< {LIST_TARGET_MS:.0f} ms)" if label == "kbchat log" else ""
        )
        rows.append([label, f"{ms:.0f}", f"{statistics.median(peaks[label]):.0f}", target])
    size = sum(f.stat().st_size for f in folder.iterdir() if f.name.startswith("big.db")) / 1e6
    table(f"3. {BIG_ANSWERS} answers of {BIG_ANSWER >> 20} MiB ({size:.0f} MB of log), each command a process (p50)",
          ["command", "ms", "peak RSS MB", "target"], rows)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    reps = 5 if parser.parse_args().quick else 21
    with tempfile.TemporaryDirectory(prefix="kbchat-bench-log-") as folder:
        path = Path(folder) / "log.db"
        seconds = fill(path, ENTRIES)
        size = sum(f.stat().st_size for f in Path(folder).iterdir()) / 1e6
        print(f"filled {ENTRIES:,} answers in {seconds:.1f} s; the log is {size:.0f} MB")
        search(path, reps)
        logging_cost(2 * reps + 1, Path(folder))  # cheap runs, and a small difference: more of them
        big_answers(max(5, reps // 2), Path(folder))


if __name__ == "__main__":
    main()
