#!/usr/bin/env python3
"""Streaming benchmarks for kbchat, side by side with curl, requests and httpx-sse.

    python bench/stream.py            # about two minutes; prints one table per measurement
    python bench/stream.py --quick    # fewer repetitions, for a smoke run

Needs the bench extras (`pip install -e '.[bench]'`) and curl. Every comparison runs
interleaved in the same process, and reports medians: these machines are shared.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import table  # noqa: E402
from kbchat.events import iter_events  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer, sse  # noqa: E402

KEY = "bench-key"
REFERENCE = str(ROOT / "bench" / "reference_clients.py")
BODY = json.dumps({"query": "bench", "filters": {"tenant_id": "bench"}})

Command = Callable[[str], list[str]]


def kbchat_exe() -> list[str]:
    script = Path(sys.executable).parent / "kbchat"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kbchat"]


def kbchat(url: str) -> list[str]:
    return [*kbchat_exe(), "ask", "--base-url", url, "--api-key", KEY, "-t", "bench", "--plain", "bench"]


def curl(url: str) -> list[str]:
    return ["curl", "-sN", "-X", "POST", "-H", "Content-Type: application/json", "-H", "Accept: text/event-stream",
            "-H", f"x-api-key: {KEY}", "-d", BODY, url + "/v1/kb/chat/stream"]  # fmt: skip


def reference(name: str) -> Command:
    return lambda url: [sys.executable, REFERENCE, name, url + "/v1/kb/chat/stream"]


CLIENTS: dict[str, Command] = {"kbchat": kbchat, "curl -sN": curl}


# --- helpers ----------------------------------------------------------------------


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}" if values else "-"


class Watch:
    """Read a child's stdout in a thread; note when each marker first shows up."""

    def __init__(self, proc: subprocess.Popen[bytes], markers: list[bytes]) -> None:
        self.proc, self.markers = proc, markers
        self.seen: dict[int, float] = {}
        self.first_byte: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        assert self.proc.stdout is not None
        fd, buffer, next_marker = self.proc.stdout.fileno(), b"", 0
        while data := os.read(fd, 65536):
            now = time.perf_counter()
            self.first_byte = self.first_byte or now
            buffer = (buffer + data)[-4096:]
            while next_marker < len(self.markers) and self.markers[next_marker] in buffer:
                self.seen[next_marker] = now
                next_marker += 1


def run_watched(command: list[str], markers: list[bytes], env: dict[str, str] | None = None) -> Watch:
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env)  # fmt: skip
    watch = Watch(proc, markers)
    proc.wait(timeout=120)
    watch.thread.join(10)
    proc.stdout.close()  # type: ignore[union-attr]
    return watch


# --- 1. write → stdout latency ----------------------------------------------------------


def latency(reps: int, events: int = 8, gap: float = 0.2) -> None:
    markers = [f"m{i:02d}|".encode() for i in range(events)]
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(reps):
        for framing in ("chunked", "close"):
            for name, command in CLIENTS.items():
                steps: list = []
                for marker in markers:
                    steps += [gap, sse(marker.decode(), done=False)]
                steps.append(sse())
                with ScriptedServer() as server:
                    server.queue(Reply(steps, framing=framing))  # type: ignore[arg-type]
                    watch = run_watched(command(server.url), markers)
                    writes = server.write_times
                lags = [watch.seen[i] - writes[i] for i in range(1, events) if i in watch.seen]
                results.setdefault((name, framing), []).extend(lags)
    rows = []
    for framing in ("chunked", "close"):
        curl_ms = statistics.median(results[("curl -sN", framing)]) * 1000
        for name in CLIENTS:
            lags = results[(name, framing)]
            ms = statistics.median(lags) * 1000
            verdict = "" if name != "kbchat" else ("ok" if ms - curl_ms <= 2.0 else "MISSED")
            rows.append([framing, name, f"{ms:.2f}", f"{ms - curl_ms:+.2f}", str(len(lags)), verdict])
    table("1. server write -> content on stdout (pipe), events 200 ms apart",
          ["framing", "client", "median ms", "vs curl", "samples", "target: within 2 ms of curl"], rows)  # fmt: skip


# --- 2. launch → first content ---------------------------------------------------------


def first_content(reps: int) -> None:
    """Launch to the first piece of the answer, on a pipe and on a terminal, against httpx-sse.

    On a terminal the answer is drawn by Rich, ~100 ms of imports that overlap the
    server's time to its first token; so it is measured with an instant server and with
    one that thinks 300 ms first, as a model does.
    """
    pipe = {**CLIENTS, "requests (minimal)": reference("requests"), "httpx-sse": reference("httpx-sse")}
    results: dict[str, list[float]] = {}
    with ScriptedServer() as server:
        server.default = Reply([sse("first|", done=False), sse(" rest")])
        for _ in range(reps):
            for name, command in pipe.items():
                started = time.perf_counter()
                watch = run_watched(command(server.url), [b"first|"])
                if 0 in watch.seen:
                    results.setdefault(f"pipe: {name}", []).append(watch.seen[0] - started)
            for name in ("kbchat", "httpx-sse"):
                for think in (0.0, 0.3):
                    server.default = Reply([think, sse("first|", done=False), sse(" rest")])
                    label = f"terminal: {name}" + (", server thinks 300 ms" if think else "")
                    results.setdefault(label, []).append(on_a_terminal(pipe[name](server.url)))
                server.default = Reply([sse("first|", done=False), sse(" rest")])
    rows = []
    for label, values in results.items():
        base = label.replace("kbchat", "httpx-sse")
        ratio = statistics.median(values) / statistics.median(results[base]) if "kbchat" in label else None
        target = 1.0 if label.startswith("pipe") else 1.1
        verdict = "" if ratio is None else ("ok" if ratio <= target else "MISSED")
        rows.append([label, median_ms(values), f"{ratio:.2f}x" if ratio else "", f"<= {target}x" if ratio else "",
                     verdict])  # fmt: skip
    table("2. process start -> first content", ["client", "median ms", "vs httpx-sse", "target", ""], rows)


def on_a_terminal(command: list[str]) -> float:
    """Launch to `first|` on the screen of a pseudo-terminal (rich output for kbchat)."""
    import pexpect

    if command[0].endswith("kbchat") or "kbchat" in command[:3]:
        command = [c for c in command if c != "--plain"]
    started = time.perf_counter()
    child = pexpect.spawn(command[0], command[1:], env={**os.environ, "TERM": "xterm-256color"}, dimensions=(24, 80))
    child.expect(rb"first\|", timeout=10)
    shown = time.perf_counter() - started
    child.expect(pexpect.EOF, timeout=10)
    return shown


# --- 3. parser throughput -----------------------------------------------------------------


def small_stream(count: int) -> bytes:
    return sse(*(f"t{i % 1000:03d}" for i in range(count)))


def large_stream(count: int, size: int) -> bytes:
    return sse(*("x" * size for _ in range(count)))


def split(wire: bytes, size: int) -> list[bytes]:
    return [wire[i : i + size] for i in range(0, len(wire), size)]


def content(data: str) -> str | None:
    return None if data.strip() == "[DONE]" else json.loads(data)["data"]["content"]


def parse_kbchat(chunks: list[bytes]) -> int:
    return sum(1 for _ in iter_events(chunks)) - 1


def parse_httpx_sse(chunks: list[bytes]) -> int:
    import httpx
    from httpx_sse import EventSource

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(chunks))
    count = 0
    for event in EventSource(response).iter_sse():
        if content(event.data) is None:
            break
        count += 1
    return count


def parse_sseclient(chunks: list[bytes]) -> int:
    import sseclient

    count = 0
    for event in sseclient.SSEClient(iter(chunks)).events():
        if content(event.data) is None:
            break
        count += 1
    return count


def json_floor(payloads: list[str]) -> int:
    for data in payloads:
        json.loads(data)
    return len(payloads)


def parser_throughput(reps: int, small_count: int) -> None:
    workloads = {
        f"{small_count // 1000}k small events": small_stream(small_count),
        "200 x 64 KiB events": large_stream(200, 65536),
    }
    parsers = {"kbchat": parse_kbchat, "httpx-sse + json": parse_httpx_sse, "sseclient-py + json": parse_sseclient}
    rows = []
    for workload, wire in workloads.items():
        payloads = [line[6:] for line in wire.decode().split("\n") if line.startswith("data: {")]
        for chunk_size in (65536, 1536):
            chunks = split(wire, chunk_size)
            rates: dict[str, list[float]] = {name: [] for name in [*parsers, "json.loads floor"]}
            for _ in range(reps):
                for name, parse in parsers.items():
                    started = time.perf_counter()
                    count = parse(chunks)
                    rates[name].append(count / (time.perf_counter() - started))
                started = time.perf_counter()
                rates["json.loads floor"].append(json_floor(payloads) / (time.perf_counter() - started))
            best = {name: statistics.median(values) for name, values in rates.items()}
            for name, rate in best.items():
                vs_httpx = rate / best["httpx-sse + json"]
                vs_floor = best["json.loads floor"] / rate
                label = "64 KiB" if chunk_size == 65536 else "1.5 KiB"
                rows.append([workload, label, name, f"{rate:,.0f}", f"{vs_httpx:.2f}x", f"{vs_floor:.2f}x"])
    table("3. parser throughput, events/s (bytes -> decoded answer events)",
          ["workload", "chunks", "parser", "events/s", "vs httpx-sse", "floor time ratio"], rows)  # fmt: skip
    growth_rows = []
    for size in (4096, 65536, 1 << 20):
        wire = large_stream(max(4, (16 << 20) // size), size)
        chunks = split(wire, 1536)
        for name in ("kbchat", "httpx-sse + json"):
            times = []
            for _ in range(reps):
                started = time.perf_counter()
                parsers[name](chunks)
                times.append(time.perf_counter() - started)
            growth_rows.append([f"{size // 1024} KiB", name, f"{len(wire) / statistics.median(times) / 1e6:.0f}"])
    table("3b. throughput by event size (1.5 KiB chunks): flat means linear", ["event size", "parser", "MB/s"],
          growth_rows)  # fmt: skip


# --- 4. end to end ------------------------------------------------------------------------


def end_to_end(reps: int, small_count: int) -> None:
    """The whole answer through each client into a pipe read to its end: when the reader sees the end
    (kbchat lets stdout go before it logs the answer) and when the process has exited."""
    streams = {f"{small_count // 1000}k small events": small_stream(small_count),
               "200 x 64 KiB events": large_stream(200, 65536)}  # fmt: skip
    clients: dict[str, tuple[Command, dict[str, str]]] = {
        "kbchat": (kbchat, {}), "kbchat --no-log": (kbchat, {"KBCHAT_NO_LOG": "1"}),
        "httpx-sse": (reference("httpx-sse"), {}), "curl -sN": (curl, {}),
    }  # fmt: skip
    rows = []
    for label, wire in streams.items():
        ends: dict[str, list[float]] = {name: [] for name in clients}
        exits: dict[str, list[float]] = {name: [] for name in clients}
        with ScriptedServer() as server:
            server.default = Reply([wire])
            for _ in range(reps):
                for name, (command, env) in clients.items():
                    started = time.perf_counter()
                    with subprocess.Popen(command(server.url), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          stdin=subprocess.DEVNULL, env={**os.environ, **env}) as proc:  # fmt: skip
                        assert proc.stdout is not None
                        while proc.stdout.read1(1 << 20):
                            pass
                        ends[name].append(time.perf_counter() - started)
                    exits[name].append(time.perf_counter() - started)
        end_base, exit_base = statistics.median(ends["httpx-sse"]), statistics.median(exits["httpx-sse"])
        for name in clients:
            end, exit = statistics.median(ends[name]), statistics.median(exits[name])
            verdict = ("ok" if exit <= exit_base and end <= end_base else "MISSED") if name == "kbchat" else ""
            rows.append([label, name, f"{end * 1000:.0f}", f"{end / end_base:.2f}x", f"{exit * 1000:.0f}",
                         f"{exit / exit_base:.2f}x", verdict])  # fmt: skip
    table("4. end to end: the answer piped to a reader (kbchat logs it, as by default)",
          ["stream", "client", "reader sees the end, ms", "vs httpx-sse", "process exit, ms", "vs httpx-sse",
           "target: <= httpx-sse"], rows)  # fmt: skip


# --- 5. start-up -------------------------------------------------------------------------


def startup(reps: int) -> None:
    commands = {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        "kbchat --version": [*kbchat_exe(), "--version"],
        "kbchat ask --help": [*kbchat_exe(), "ask", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(reps):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - started)
    chat = [prompt_ready() for _ in range(reps)]
    times["kbchat chat: prompt shown"] = [shown for shown, _ in chat]
    times["kbchat chat: a key typed at launch echoed"] = [echoed for _, echoed in chat]
    base = statistics.median(times["python3 -c pass"])
    targets = {"kbchat --version": 0.060, "kbchat ask --help": 0.200}
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        target = targets.get(name)
        if name.startswith("kbchat chat"):
            rows.append([name, median_ms(values), "", "<= 300 from launch", "ok" if median <= 0.3 else "MISSED"])
            continue
        verdict = "" if target is None else ("ok" if median - base <= target else "MISSED")
        limit = f"<= +{target * 1000:.0f}" if target else ""
        rows.append([name, median_ms(values), f"{(median - base) * 1000:+.1f}", limit, verdict])
    table("5. start-up", ["command", "median ms", "vs bare python", "target", ""], rows)


def prompt_ready() -> tuple[float, float]:
    """Launch of `kbchat chat` in a pseudo-terminal: to its prompt on the screen, and to a key
    typed at launch showing in the line editor (which loads behind the prompt)."""
    import pexpect

    env = {**os.environ, "KBCHAT_API_KEY": KEY, "KBCHAT_TENANT": "bench", "KBCHAT_BASE_URL": "http://127.0.0.1:9",
           "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}  # fmt: skip
    started = time.perf_counter()
    child = pexpect.spawn(kbchat_exe()[0], [*kbchat_exe()[1:], "chat"], env=env, dimensions=(24, 80))
    child.send("z")
    child.expect(rb"bench(\x1b\[[0-9;]*m)*>", timeout=10)  # the label is styled
    shown = time.perf_counter() - started
    child.expect(rb"z", timeout=10)
    echoed = time.perf_counter() - started
    child.sendcontrol("c")
    child.sendcontrol("d")
    child.expect(pexpect.EOF, timeout=10)
    return shown, echoed


# --- 7. question after question ------------------------------------------------------------


def second_question(rounds: int) -> None:
    """Time to the first byte of each question over TLS to loopback: one session, or a new one each time.

    The chat keeps one connection (kbchat.client.HTTPKB); a new client per question, as
    the first version had, pays a TCP and TLS handshake every time.
    """
    import tempfile

    from kbchat.client import HTTPKB
    from kbchat.events import Content
    from kbchat.server.run import serve_in_background, start_server, stop
    from kbchat.server.serve_options import ServeOptions
    from kbchat.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        cert, key = self_signed(Path(folder))
        os.environ["REQUESTS_CA_BUNDLE"] = str(cert)
        server = start_server(ServeOptions(port=0, cache_dir=Path(folder) / "cache", pace=0.0))
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        serve_in_background(server)
        settings = Settings(
            base_url=server.url.replace("http://", "https://"), api_key="bench-0123456789", tenant="demo"
        )

        def first_byte(kb: HTTPKB) -> float:
            """To the first piece of content; the rest is read too, so the connection can be reused."""
            started = time.perf_counter()
            first = float("nan")
            for event in kb.stream_chat("what are the products?", {"tenant_id": "demo"}):
                if type(event) is Content and first != first:
                    first = time.perf_counter() - started
            return first

        times: dict[str, list[float]] = {"first question": [], "second question, same session": [],
                                         "second question, a new client": []}  # fmt: skip
        try:
            for _ in range(rounds):
                with HTTPKB(settings) as kb:
                    times["first question"].append(first_byte(kb))
                    times["second question, same session"].append(first_byte(kb))
                with HTTPKB(settings) as fresh:
                    times["second question, a new client"].append(first_byte(fresh))
        finally:
            del os.environ["REQUESTS_CA_BUNDLE"]
            stop(server)
    first = statistics.median(times["first question"])
    rows = [[name, median_ms(values), f"{statistics.median(values) / first:.2f}x"] for name, values in times.items()]
    table("7. time to first byte over TLS to loopback", ["question", "median ms", "vs the first"], rows)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (openssl), trusted by the client through REQUESTS_CA_BUNDLE."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    return cert, key


# --- 6. memory ---------------------------------------------------------------------------


def peak_rss() -> None:
    answers = {"50 KB answer": 50, "50 MB answer": 50_000}
    rows, peaks = [], {}
    for label, pieces in answers.items():
        with ScriptedServer() as server:
            server.default = Reply([sse(*(("y" * 1023 + "\n") for _ in range(pieces)))])
            # Measured through a small launcher: a child forked straight from this big
            # process would count this process's pages in its peak before it execs.
            launcher = "import os,subprocess,sys;p=subprocess.Popen(sys.argv[1:],stdout=subprocess.DEVNULL);print(os.wait4(p.pid,0)[2].ru_maxrss)"
            out = subprocess.run([sys.executable, "-c", launcher, *kbchat(server.url)], capture_output=True, text=True)
        peaks[label] = int(out.stdout) / 1024
        rows.append([label, f"{peaks[label]:.1f}"])
    difference = peaks["50 MB answer"] - peaks["50 KB answer"]
    rows = [[*row, ""] for row in rows]
    rows.append(["difference", f"{difference:+.1f}", "ok" if difference <= 10 else "MISSED"])
    table("6. peak RSS of kbchat, answer piped to /dev/null", ["answer", "MiB", "target: within 10 MiB"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    if not shutil.which("curl"):
        sys.exit("bench: curl is needed for the comparison")
    reps = 1 if args.quick else 3
    small = 50_000 if args.quick else 200_000
    print(f"# kbchat stream benchmarks: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")  # fmt: skip
    # As installed (pip compiles a package's modules), not as an editable checkout whose source is
    # compiled again on every run when PYTHONDONTWRITEBYTECODE is set: the clients compared are compiled.
    compileall.compile_dir(ROOT / "kbchat", quiet=1)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["KBCHAT_LOG"] = str(Path(folder) / "log.db")  # answers are logged, as by default, but not here
        run_all(args, reps, small)


def run_all(args: argparse.Namespace, reps: int, small: int) -> None:
    latency(reps=1 if args.quick else 3)
    first_content(reps=5 if args.quick else 15)
    parser_throughput(reps=reps, small_count=small)
    end_to_end(reps=reps, small_count=small)
    startup(reps=5 if args.quick else 15)
    peak_rss()
    second_question(rounds=5 if args.quick else 15)


if __name__ == "__main__":
    main()
