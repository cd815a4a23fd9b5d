"""`kbchat doctor` with a good setup and with broken ones."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from tests.conftest import KEY, cli
from tests.scripted_server import ScriptedServer, json_reply


def healthy(server: ScriptedServer, search_status: int = 200) -> None:
    server.queue_for("/health", json_reply(200, {"status": "ok"}))
    server.queue_for("/health/detailed", json_reply(200, {"status": "ok", "db": "up"}))
    body = {"items": [], "total_found": 3} if search_status == 200 else {"detail": "Invalid or missing API key"}
    server.queue_for("/v1/kb/search", json_reply(search_status, body))


def lines(output: str) -> dict[str, str]:
    return {line[2:22].strip(): line for line in output.splitlines()}


def test_all_good(server: ScriptedServer) -> None:
    healthy(server)
    result = cli("doctor", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme")
    assert result.returncode == 0, result.stdout
    checks = lines(result.stdout)
    assert list(checks) == ["config file", "API key", "tenant", "base URL", "DNS", "connection", "GET /health",
                            "GET /health/detailed", "search"]  # fmt: skip
    assert all(line.startswith("✓") for line in checks.values())
    assert "****-key" not in result.stdout and KEY not in result.stdout + result.stderr
    assert "3 passages match" in checks["search"] and "ms)" in checks["GET /health"]
    assert server.requests[-1].headers["x-api-key"] == KEY


def test_missing_key_and_tenant_fail_and_skip_the_search(server: ScriptedServer) -> None:
    healthy(server)
    result = cli("doctor", "--base-url", server.url)
    checks = lines(result.stdout)
    assert result.returncode == 1
    assert checks["API key"].startswith("✗") and "KBCHAT_API_KEY" in checks["API key"]
    assert checks["tenant"].startswith("✗")
    assert checks["GET /health"].startswith("✓")
    assert checks["search"].startswith("-") and "skipped" in checks["search"]


def test_a_rejected_key_fails_the_search(server: ScriptedServer) -> None:
    healthy(server, search_status=401)
    result = cli("doctor", "--base-url", server.url, "--api-key", KEY, "--tenant", "acme")
    assert result.returncode == 1
    assert "✗ search" in result.stdout and "HTTP 401 Unauthorized: Invalid or missing API key" in result.stdout


def test_nothing_listening(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("doctor", "--base-url", f"http://127.0.0.1:{port}", "--api-key", KEY, "-t", "a")
    checks = lines(result.stdout)
    assert result.returncode == 1
    assert checks["connection"].startswith("✗") and "connection refused" in checks["connection"]
    assert all(checks[name].startswith("-") for name in ("GET /health", "GET /health/detailed", "search"))


def test_insecure_url_and_readable_config(server: ScriptedServer) -> None:
    config = Path(os.environ["KBCHAT_CONFIG"])
    config.write_text(f'[profiles.default]\napi_key = "{KEY}"\ntenant = "acme"\n')
    config.chmod(0o644)
    result = cli("doctor", "--base-url", "http://example.com")
    checks = lines(result.stdout)
    assert result.returncode == 1
    assert checks["config file"].startswith("✗") and "chmod 600" in checks["config file"]
    assert checks["API key"].startswith("✓") and "profile default" in checks["API key"]
    assert checks["base URL"].startswith("✗") and "refusing" in checks["base URL"]
    assert checks["DNS"].startswith("-")
    assert KEY not in result.stdout + result.stderr
