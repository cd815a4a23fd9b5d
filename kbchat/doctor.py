"""`kbchat doctor`: each thing a question needs, checked in order, one line each.

A failed step skips the steps that depend on it (no DNS, no connection, no health).
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kbchat.config import (
    ConnectionOptions,
    Settings,
    check_url,
    config_path,
    load_config,
    mask_key,
    permission_warning,
    resolve,
)
from kbchat.errors import KBChatError
from kbchat.safe import display_url, one_line


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: skipped, because an earlier step failed
    detail: str
    ms: float | None = None


class Failed(Exception):
    """A step failed; its message is the detail shown."""


def run(options: ConnectionOptions, env: Mapping[str, str]) -> Iterator[Check]:
    """The checks, in order, each as soon as it is done."""
    path = config_path(env)
    yield _timed("config file", lambda: config_detail(path))
    try:
        settings = resolve(options, env, load_config(path))
    except KBChatError as err:
        yield Check("settings", False, one_line(str(err)))
        return
    yield credential("API key", mask_key(settings.api_key) if settings.api_key else "", settings, "api_key")
    yield credential("tenant", settings.tenant or "", settings, "tenant")
    url = _timed("base URL", lambda: url_detail(settings))
    yield url
    parts = urlsplit(settings.base_url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    steps: list[tuple[str, Callable[[], str]]] = [
        ("DNS", lambda: resolve_host(host, port)),
        ("connection", lambda: connect(host, port, parts.scheme == "https", settings.connect_timeout)),
        ("GET /health", lambda: health(settings, "/health")),
        ("GET /health/detailed", lambda: health(settings, "/health/detailed")),
        ("search", lambda: search(settings)),
    ]
    blocked = "" if url.ok else "the base URL is unusable"
    for name, step in steps:
        if name == "search" and not (settings.api_key and settings.tenant):
            blocked = blocked or "needs a key and a tenant"
        if blocked:
            yield Check(name, None, f"skipped: {blocked}")
            continue
        check = _timed(name, step)
        yield check
        if not check.ok and name in ("DNS", "connection"):
            blocked = f"{name} failed"


def _timed(name: str, step: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail, ok = step(), True
    except (Failed, KBChatError) as err:
        detail, ok = one_line(str(err)), False
    return Check(name, ok, detail, (time.perf_counter() - started) * 1000)


def config_detail(path: Path) -> str:
    if not path.exists():
        return f"none at {path} (optional: options and KBCHAT_* variables work without one)"
    try:
        config = load_config(path)
    except KBChatError as err:
        raise Failed(str(err)) from None
    warning = permission_warning(path, config)
    if warning:
        raise Failed(warning.removeprefix("warning: "))
    return f"{path} (mode {oct(path.stat().st_mode & 0o777)[2:]})"


def credential(name: str, shown: str, settings: Settings, key: str) -> Check:
    if not shown:
        hint = "--api-key, KBCHAT_API_KEY or `kbchat config set api_key KEY`" if key == "api_key" else (
            "--tenant, KBCHAT_TENANT or `kbchat config set tenant ID`")  # fmt: skip
        return Check(name, False, f"not set: use {hint}")
    return Check(name, True, f"{shown} (from {settings.origins.get(key, 'default')})")


def url_detail(settings: Settings) -> str:
    try:
        check_url(settings.base_url)
    except KBChatError as err:
        raise Failed(str(err)) from None
    scheme = urlsplit(settings.base_url).scheme
    return f"{display_url(settings.base_url)} ({'https' if scheme == 'https' else 'plain http, loopback only'})"


def resolve_host(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise Failed(f"cannot resolve {host}: {err.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return f"{host} → {', '.join(addresses[:3])}"


def connect(host: str, port: int, tls: bool, timeout: float) -> str:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if not tls:
                return f"TCP to {host}:{port}"
            context = ssl.create_default_context()
            with context.wrap_socket(sock, server_hostname=host) as secure:
                return f"TLS to {host}:{port}, {secure.version()}, certificate valid"
    except ssl.SSLCertVerificationError as err:
        raise Failed(f"TLS certificate not trusted: {err.verify_message}") from None
    except ssl.SSLError as err:
        raise Failed(f"TLS failed: {err.reason or err}") from None
    except TimeoutError:
        raise Failed(f"{host}:{port} did not answer within {timeout:g} s") from None
    except OSError as err:
        raise Failed(f"cannot connect to {host}:{port}: {(err.strerror or str(err)).lower()}") from None


def health(settings: Settings, path: str) -> str:
    from kbchat.client import KBClient

    status, reason, text = KBClient(settings).get(path)
    body = shorten(one_line(text), 80)
    line = f"HTTP {status} {one_line(reason)}" + (f": {body}" if body else "")
    if not 200 <= status < 300:
        raise Failed(line)
    return line


def shorten(text: str, width: int) -> str:
    """At most `width` characters, cut at a space where one is near, with an ellipsis."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut).rstrip(" ,:;") + "…"


def search(settings: Settings) -> str:
    from dataclasses import replace

    from kbchat.client import KBClient

    body = KBClient(replace(settings, retries=0)).search("test", settings.request_filters(), 1)
    found = body.get("total_found")
    return f"key and tenant accepted; {found if isinstance(found, int) else '?'} passages match a test query"
