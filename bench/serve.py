#!/usr/bin/env python3
"""Benchmarks of the local knowledge base (`kbchat serve`) over a generated corpus.

    python bench/serve.py            # 10,000 documents (~50 MB); a minute or two
    python bench/serve.py --docs 1000

Prints one table: index build, reuse, search latency, concurrent streams, first byte.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import table  # noqa: E402
from kbchat.server.run import open_index, serve_in_background, start_server, stop  # noqa: E402
from kbchat.server.serve_options import ServeOptions  # noqa: E402

TENANTS = 10
STREAM = "/v1/kb/chat/stream"


def make_corpus(folder: Path, documents: int, seed: int = 7) -> int:
    """Markdown files of Zipf-distributed made-up words, in TENANTS subfolders; returns bytes."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnoprstuvwyz") for _ in range(rng.randint(3, 9))) for _ in range(20000)
    ]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    total = 0
    for tenant in range(TENANTS):
        (folder / f"tenant{tenant}").mkdir(parents=True, exist_ok=True)
    for number in range(documents):
        words = rng.choices(vocabulary, weights, k=800)
        sections = []
        for section in range(4):
            body = words[section * 200 : (section + 1) * 200]
            paragraphs = [" ".join(body[i : i + 50]) + "." for i in range(0, 200, 50)]
            sections.append(f"## Section {section} {body[0]}\n\n" + "\n\n".join(paragraphs))
        text = f"tags: tag{number % 20}\n# Document {number}\n\n" + "\n\n".join(sections) + "\n"
        path = folder / f"tenant{number % TENANTS}" / f"doc{number:05d}.md"
        path.write_text(text)
        total += len(text)
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def post_raw(address: tuple[str, int], body: dict) -> tuple[float, float, int, bool]:
    """One request on a fresh connection: (seconds to first body byte, total seconds, bytes, whether the
    stream ended with [DONE] and the last chunk)."""
    data = json.dumps(body).encode()
    started = time.perf_counter()
    with socket.create_connection(address, timeout=60) as sock:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (STREAM.encode(), len(data), data))  # fmt: skip
        received, first, head_done = b"", 0.0, False
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            if not head_done and b"\r\n\r\n" in received:
                head_done = True
                if received.split(b"\r\n\r\n", 1)[1]:
                    first = time.perf_counter() - started
            elif head_done and not first:
                first = time.perf_counter() - started
            if received.endswith(b"0\r\n\r\n"):
                break
    complete = received.endswith(b"0\r\n\r\n") and b"data: [DONE]" in received
    return first, time.perf_counter() - started, len(received), complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000, help="documents to generate")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--streams", type=int, default=100)
    args = parser.parse_args()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="kbchat-bench-") as tmp:
        docs, cache = Path(tmp) / "docs", Path(tmp) / "cache"
        size = make_corpus(docs, args.docs)
        started = time.perf_counter()
        index = open_index(docs, cache)
        build = time.perf_counter() - started
        stats = index.stats()
        index.close()
        rows.append([f"index build, {args.docs:,} documents ({size / 1e6:.0f} MB, {stats['passages']:,} passages)",
                     f"{build:.1f} s", "< 30 s", "ok" if build < 30 else "MISSED"])  # fmt: skip
        started = time.perf_counter()
        open_index(docs, cache).close()
        reuse = time.perf_counter() - started
        rows.append(
            [
                "index reuse, nothing changed (in process)",
                f"{reuse * 1000:.0f} ms",
                "< 1 s",
                "ok" if reuse < 1 else "MISSED",
            ]
        )
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "kbchat", "serve", "--docs", str(docs), "--port", "0", "--cache-dir",
                                 str(cache)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.readline()
        launch = time.perf_counter() - started
        proc.terminate()
        proc.wait()
        rows.append(["`kbchat serve` start to listening, index reused", f"{launch * 1000:.0f} ms", "< 1 s",
                     "ok" if launch < 1 else "MISSED"])  # fmt: skip

        server = start_server(ServeOptions(docs, port=0, cache_dir=cache, pace=0.0), log=io.StringIO())
        serve_in_background(server)
        address = server.server_address[:2]
        try:
            import requests

            rng = random.Random(3)
            session = requests.Session()
            text = next(iter(docs.glob("tenant0/*.md"))).read_text().split()[10:]
            # Content words: distinct words of a document, as people ask. Frequent words: drawn
            # with the corpus's Zipf weights, nearly all in every passage (a stress case).
            kinds = {"content words": sorted(set(text)), "frequent words (stress)": text}
            for kind, words in kinds.items():
                latencies = []
                for _ in range(args.queries):
                    body = {"query": " ".join(rng.sample(words, 3)),
                            "filters": {"tenant_id": f"tenant{rng.randrange(TENANTS)}"}, "limit": 10}  # fmt: skip
                    started = time.perf_counter()
                    response = session.post(server.url + "/v1/kb/search", json=body, timeout=30)
                    latencies.append(time.perf_counter() - started)
                    assert response.status_code == 200
                p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
                judged = kind == "content words"
                rows.append([f"search over HTTP, 3 {kind}, p50", f"{p50:.1f} ms", "< 10 ms" if judged else "",
                             ("ok" if p50 < 10 else "MISSED") if judged else ""])  # fmt: skip
                rows.append([f"search over HTTP, 3 {kind}, p99", f"{p99:.1f} ms", "< 50 ms" if judged else "",
                             ("ok" if p99 < 50 else "MISSED") if judged else ""])  # fmt: skip
            sample = kinds["content words"]

            firsts = []
            for _ in range(50):
                query = " ".join(rng.sample(sample, 3))
                first, _, _, _ = post_raw(address, {"query": query, "filters": {"tenant_id": "tenant0"}})
                firsts.append(first)
            first_p50 = statistics.median(firsts) * 1000
            rows.append(["first streamed byte (fresh connection, pace 0, content words), p50", f"{first_p50:.1f} ms", "< 20 ms",
                         "ok" if first_p50 < 20 else "MISSED"])  # fmt: skip

            results: list[tuple[float, float, int, bool]] = []
            barrier = threading.Barrier(args.streams)

            def client(n: int) -> None:
                barrier.wait()
                query = " ".join(sample[n : n + 3])
                results.append(post_raw(address, {"query": query, "filters": {"tenant_id": f"tenant{n % TENANTS}"}}))

            threads = [threading.Thread(target=client, args=(n,)) for n in range(args.streams)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            wall = time.perf_counter() - started
            complete = sum(r[3] for r in results)  # as the clients saw them: the server counts a stream
            # complete just after writing its last chunk, which a client may have read by then
            total_bytes = sum(r[2] for r in results)
            rows.append([f"{args.streams} concurrent streams, pace 0: completed", f"{complete}/{args.streams}",
                         "all", "ok" if complete == args.streams else "MISSED"])  # fmt: skip
            rows.append(["  aggregate throughput", f"{total_bytes / wall / 1e6:.1f} MB/s, {args.streams / wall:.0f} streams/s",
                         "", ""])  # fmt: skip
            rows.append(["  slowest stream", f"{max(r[1] for r in results) * 1000:.0f} ms", "", ""])
        finally:
            stop(server)

    print(f"# kbchat serve benchmarks: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}, {time.strftime('%Y-%m-%d')}")  # fmt: skip
    table(f"{args.docs:,} generated documents", ["measurement", "result", "target", ""], rows)


if __name__ == "__main__":
    main()
