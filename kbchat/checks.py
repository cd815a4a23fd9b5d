"""`kbchat doctor`'s checks: each thing a question needs, in order, each as soon as it is done.

A failed step skips the steps that depend on it (no DNS, no connection, no health).
The network steps go where requests would go: through HTTPS_PROXY/HTTP_PROXY unless
NO_PROXY says otherwise, trusting the system's store and --ca-bundle (else REQUESTS_CA_BUNDLE,
else certifi's), so that doctor and `ask` never disagree about what works.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kbchat.config_file import config_path, load_config, permission_warning
from kbchat.errors import KBChatError
from kbchat.safe import display_url, one_line
from kbchat.settings import ConnectionOptions, Settings, check_url, mask_key, resolve

if TYPE_CHECKING:
    from kbchat.client import HTTPKB

BODY_SHOWN = 80  # characters of a health body shown on its line


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: skipped, because an earlier step failed
    detail: str
    ms: float | None = None


class Failed(Exception):
    """A step failed; its message is the detail shown."""


@dataclass(frozen=True)
class Route:
    """Where requests would open the TCP connection: the host itself, or a proxy."""

    host: str
    port: int
    tls: bool
    proxy: str = ""  # the proxy's URL, when one is in the way
    verify: str = ""  # the CA bundle requests would trust


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
    if not url.ok:
        for name in ("DNS", "connection", "GET /health", "GET /health/detailed", "search"):
            yield Check(name, None, "skipped: the base URL is unusable")
        return
    yield from network_checks(settings)


def network_checks(settings: Settings) -> Iterator[Check]:
    from dataclasses import replace

    from kbchat.client import HTTPKB

    with HTTPKB(replace(settings, retries=0)) as kb:
        route = route_of(kb, settings.base_url)
        via = f" (proxy {display_url(route.proxy)})" if route.proxy else ""
        steps: list[tuple[str, Callable[[], str]]] = [
            ("DNS", lambda: resolve_host(route.host, route.port) + via),
            ("connection", lambda: connect(route, urlsplit(kb.base_url), settings.connect_timeout)),
            ("GET /health", lambda: health(kb, "/health")),
            ("GET /health/detailed", lambda: health(kb, "/health/detailed")),
            ("search", lambda: search(kb, settings)),
        ]
        blocked = ""
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
        raise Failed(warning)
    from kbchat.private import MODE_BITS

    return f"{path} (mode {oct(path.stat().st_mode & 0o777)[2:]})" if MODE_BITS else str(path)


def credential(name: str, shown: str, settings: Settings, key: str) -> Check:
    if not shown:
        hint = "--api-key, KBCHAT_API_KEY or `kbchat config set api_key`" if key == "api_key" else (
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


def route_of(kb: HTTPKB, url: str) -> Route:
    """Where requests would connect for `url`, with the proxy and CA bundle it would use."""
    parts = urlsplit(kb.base_url)
    tls = parts.scheme == "https"
    proxy, verify = kb.route()
    if proxy:
        proxy_parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        return Route(proxy_parts.hostname or "", proxy_parts.port or 80, tls, proxy, verify)
    return Route(parts.hostname or "", parts.port or (443 if tls else 80), tls, "", verify)


def trusted(cafile: str) -> ssl.SSLContext:
    """What `ask` trusts (kbchat.trust): the system's store and the CA bundle requests would load."""
    from kbchat.trust import trust_context

    try:
        return trust_context(cafile or None)
    except (OSError, ssl.SSLError) as err:
        raise Failed(f"cannot load the CA bundle {cafile}: {getattr(err, 'strerror', None) or err}") from None


def resolve_host(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise Failed(f"cannot resolve {host}: {err.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return f"{host} → {', '.join(addresses[:3])}"


def connect(route: Route, target: Any, timeout: float) -> str:
    """TCP to where requests would connect; TLS to the server, through the proxy's tunnel if one is in the way."""
    host, port = target.hostname or "", target.port or (443 if route.tls else 80)
    try:
        with socket.create_connection((route.host, route.port), timeout=timeout) as sock:
            if not route.tls:
                return f"TCP to {route.host}:{route.port}" + (" (the proxy)" if route.proxy else "")
            if route.proxy:
                tunnel(sock, host, port)
            context = trusted(route.verify)
            with context.wrap_socket(sock, server_hostname=host) as secure:
                through = f" through {display_url(route.proxy)}" if route.proxy else ""
                return f"TLS to {host}:{port}{through}, {secure.version()}, certificate valid"
    except ssl.SSLCertVerificationError as err:
        raise Failed(f"TLS certificate not trusted: {err.verify_message}") from None
    except ssl.SSLError as err:
        raise Failed(f"TLS failed: {err.reason or err}") from None
    except TimeoutError:
        raise Failed(f"{route.host}:{route.port} did not answer within {timeout:g} s") from None
    except OSError as err:
        raise Failed(f"cannot connect to {route.host}:{route.port}: {(err.strerror or str(err)).lower()}") from None


def tunnel(sock: socket.socket, host: str, port: int) -> None:
    """HTTP CONNECT through a proxy, as requests does for https."""
    sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply and len(reply) < 65536:
        part = sock.recv(4096)
        if not part:
            break
        reply += part
    status = reply.split(b"\r\n", 1)[0].decode("latin-1")
    if status.split(" ", 2)[1:2] != ["200"]:
        raise Failed(f"the proxy refused the tunnel to {host}:{port}: {one_line(status) or 'no answer'}")


def health(kb: HTTPKB, path: str) -> str:
    status, reason, text = kb.get(path)
    body = shorten(one_line(text), BODY_SHOWN)
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


def search(kb: HTTPKB, settings: Settings) -> str:
    body = kb.search("test", settings.request_filters(), 1)
    found = body.get("total_found")
    return f"key and tenant accepted; {found if isinstance(found, int) else '?'} passages match a test query"
