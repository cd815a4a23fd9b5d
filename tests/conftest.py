"""Shared fixtures: a clean environment, the scripted loopback server, a kbchat runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_kb import FakeKB
from tests.scripted_server import ScriptedServer

KEY = "sk-test-5ecret-key-do-not-print"
HANG = 10.0  # a wait still going after this is stuck, not slow: a bound on a hang, never a timing claim


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On Windows, what needs POSIX is skipped, saying what: a pseudo-terminal (the `pty` tests), or
    what a `posix("...")` marker names (file modes, signals sent to a process, shell scripts)."""
    if sys.platform != "win32":
        return
    no_pty = pytest.mark.skip(reason="pty tests need a POSIX pseudo-terminal (pexpect.spawn); Windows has none")
    for item in items:
        if "pty" in item.keywords:
            item.add_marker(no_pty)
        elif (mark := item.get_closest_marker("posix")) is not None:
            item.add_marker(pytest.mark.skip(reason=f"POSIX only: {mark.args[0]}"))


posix = pytest.mark.posix  # posix("what it needs"): skipped on Windows, saying so
POSIX_MODES = os.name == "posix"  # files have mode bits (0600) only there; Windows keeps a profile private by ACL


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C heard, however the suite was started: a shell starts a script's background job with
    SIGINT ignored, and an ignored signal stays ignored in every process started from it (xdist's
    workers, each kbchat), so every Ctrl-C test would fail. A handled one is reset by exec."""
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_sessionstart(session: pytest.Session) -> None:
    """kbchat's modules compiled once, as an installed package's are: each of the suite's many kbchat
    processes would else compile them again (~25 ms) wherever PYTHONDONTWRITEBYTECODE is set."""
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parents[1] / "kbchat", quiet=1)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the developer's shell or config file leaks into a test."""
    for name in list(os.environ):
        if name.startswith("KBCHAT_") or name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TMUX"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KBCHAT_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # the index cache of serve/demo
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))  # REPL history
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # the answer log


@pytest.fixture(autouse=True)
def secrets_forgotten() -> Iterator[None]:
    """Every Settings keeps its secrets for the process (kbchat.safe): in one test process, a secret one
    test made up (Hypothesis once made an API key "https://") must not mask the next test's output."""
    from kbchat import safe

    kept = set(safe._secrets)
    yield
    safe._secrets.clear()
    safe._secrets.update(kept)


@pytest.fixture(autouse=True)
def sigint_restored() -> Iterator[None]:
    """An in-process command that was cancelled leaves Ctrl-C ignored; the next test gets it back."""
    import signal

    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


@pytest.fixture
def fake_kb(monkeypatch: pytest.MonkeyPatch) -> FakeKB:
    """Every knowledge base a command opens in this test is this fake."""
    kb = FakeKB()

    def connect(settings: object, trace: object = None) -> FakeKB:
        kb.opened += 1
        return kb

    monkeypatch.setattr("kbchat.kb.connect", connect)
    return kb


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


def kbchat_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KBCHAT_")}
    env.update(KBCHAT_CONFIG=os.environ["KBCHAT_CONFIG"], **extra)
    return env


def run_kbchat(
    *args: str, input: bytes | None = None, timeout: float = 20, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """kbchat as a real subprocess: stdin from `input` (else /dev/null), output captured."""
    result = subprocess.run(
        [sys.executable, "-m", "kbchat", *args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=env or kbchat_env(),
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    )


def ask_args(server: ScriptedServer, *extra: str) -> list[str]:
    return ["ask", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme", *extra]


def cli(
    *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """kbchat in this process: its real entry point, stdin from `input` (never a terminal).

    The same code paths as a process (usage errors included), in milliseconds instead of
    ~0.4 s; tests that need a real process (signals, pipes, terminals) use run_kbchat.
    """
    from typer.testing import CliRunner

    from kbchat.cli import main

    with CliRunner().isolation(input=input, env=env) as (out, err, _):
        try:
            main(argv=list(args))
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
        sys.stdout.flush()
        sys.stderr.flush()
        return subprocess.CompletedProcess(list(args), code, out.getvalue().decode(), err.getvalue().decode())
