"""Settings from option > environment variable > config profile > default. Pure.

The profile comes from the config file (see config_file): top-level `default_profile`,
then `[profiles.NAME]` tables with `base_url`, `api_key`, `tenant`, `timeout`, `retries`
and a `filters` table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kbchat.declared import option
from kbchat.errors import ConfigError, UsageError
from kbchat.safe import display_url
from kbchat.wire import FILTER_KEYS, LIST_FILTER_KEYS

DEFAULT_BASE_URL = "https://api-integrations.snackprompt.com"
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 86400.0  # a day; beyond it a socket timeout overflows, and nobody waits that long
CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
DEFAULT_PROFILE = "default"

PROFILE_KEYS = ("base_url", "api_key", "tenant", "timeout", "retries", "ca_bundle", "log", "accessible", "cite")
TEXT_KEYS = frozenset({"base_url", "api_key", "tenant", "ca_bundle"})
ENV_VARS = {
    "base_url": "KBCHAT_BASE_URL",
    "api_key": "KBCHAT_API_KEY",
    "tenant": "KBCHAT_TENANT",
    "timeout": "KBCHAT_TIMEOUT",
    "ca_bundle": "KBCHAT_CA_BUNDLE",
    "accessible": "KBCHAT_ACCESSIBLE",
}

Filters = dict[str, "str | list[str]"]
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # what an x-api-key value can be: visible ASCII


CONN = "Connection"


@dataclass(frozen=True)
class ConnectionOptions:
    """What the command line said of the connection; None means "not given"."""

    base_url: str | None = option(
        None, "--base-url", kind=str, metavar="URL", help="API base URL [env KBCHAT_BASE_URL]", panel=CONN
    )
    api_key: str | None = option(
        None, "--api-key", kind=str, metavar="KEY", help="API key, sent only as x-api-key [env KBCHAT_API_KEY]",
        panel=CONN,
    )  # fmt: skip
    tenant: str | None = option(
        None, "--tenant", "-t", kind=str, metavar="ID", help="tenant id [env KBCHAT_TENANT]", panel=CONN
    )
    filters: tuple[str, ...] = option(
        (), "--filter", kind=str, repeat=True, metavar="KEY=VALUE",
        help="filter, repeatable; tag_ids/tag_names take lists", panel=CONN,
    )  # fmt: skip
    profile: str | None = option(
        None, "--profile", "-p", kind=str, metavar="NAME", help="config profile [env KBCHAT_PROFILE]", panel=CONN
    )
    timeout: float | None = option(
        None, "--timeout", kind=float, metavar="SECONDS", panel=CONN,
        help="seconds to wait for the server, and between the bytes of a stream; default 60 [env KBCHAT_TIMEOUT]",
    )  # fmt: skip
    retries: int | None = option(
        None, "--retries", kind=int, metavar="N", help="retries before any answer arrives, default 3", panel=CONN
    )
    ca_bundle: str | None = option(
        None, "--ca-bundle", kind=str, metavar="PATH", panel=CONN,
        help="CA certificates (PEM) to trust beside the system's, as behind a company TLS proxy [env KBCHAT_CA_BUNDLE]",
    )  # fmt: skip
    log: bool | None = option(
        None, "--no-log", sets=False, help="keep this out of the answer log [env KBCHAT_NO_LOG=1]"
    )


CONNECTING = frozenset(  # no --no-log
    {"base_url", "api_key", "tenant", "filters", "profile", "timeout", "retries", "ca_bundle"}
)


@dataclass(frozen=True)
class Settings:
    """Where to connect and how; `origins` says where each value came from."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    tenant: str | None = None
    filters: Filters = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    profile: str = DEFAULT_PROFILE
    ca_bundle: str | None = None  # a PEM file of CAs to trust beside the system's (a company proxy's)
    log: bool = True  # keep each answer in the answer log
    origins: Mapping[str, str] = field(default_factory=dict)
    logged_as: str = ""  # the knowledge base as the answer log names it, when not by its URL (the demo's port varies)
    accessible: bool = False  # for a screen reader: each block printed once, no spinner, cursor or redraw
    cite: bool = False  # `cite = true`: each answer's sentences matched to the passages (as --cite)

    @property
    def connect_timeout(self) -> float:
        return min(CONNECT_TIMEOUT, self.timeout)

    @property
    def logged_url(self) -> str:
        """The base URL as the answer log keeps it (never with user:password); follow-ups stay within it."""
        from kbchat.safe import without_userinfo

        return self.logged_as or without_userinfo(self.base_url)

    def request_filters(self) -> dict[str, Any]:
        """The API's `filters` object: the tenant first, then the others."""
        return {"tenant_id": self.tenant, **self.filters}

    def __post_init__(self) -> None:
        """The key and a password in the base URL are masked in every diagnostic from now on.

        Here, as settings are made, so no way of making them (resolved, the demo's) can forget it.
        """
        from urllib.parse import unquote, urlsplit

        from kbchat.safe import keep_secret

        keep_secret(self.api_key)
        try:
            password = urlsplit(self.base_url).password
        except ValueError:
            password = None
        keep_secret(password)
        keep_secret(unquote(password or ""))

    def check_ready(self) -> None:
        """Refuse, before any connection, what cannot work or would leak the key."""
        if not self.api_key:
            raise UsageError(
                "no API key: pass --api-key, set KBCHAT_API_KEY, or run `kbchat config set api_key` "
                "(to try kbchat without one: kbchat demo)"
            )
        check_api_key(self.api_key)
        if not self.tenant:
            raise UsageError("no tenant: pass --tenant ID, set KBCHAT_TENANT, or run `kbchat config set tenant ID`")
        check_url(self.base_url)
        check_ca_bundle(self.ca_bundle, self.origins.get("ca_bundle", ""))


def check_api_key(key: str) -> None:
    """A key that an HTTP header can carry; never echoed, it may be a real key with a typo."""
    if not _HEADER_SAFE.fullmatch(key):
        raise UsageError(
            "the API key holds characters an HTTP header cannot carry (spaces, control or non-ASCII "
            "characters): check it for a stray quote or line break"
        )


def check_ca_bundle(path: str | None, origin: str = "") -> None:
    """A CA bundle that is a file of PEM certificates, said now: requests would say only "invalid path"
    or NO_CERTIFICATE_OR_CRL_FOUND, at connect time."""
    if path is None:
        return
    import ssl

    from kbchat.trust import refuse_stream

    try:
        refuse_stream(path)
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)  # this file alone: ~1 ms
    except OSError as err:  # ssl.SSLError is one too
        raise bad_ca_bundle(path, origin, err) from None


def bad_ca_bundle(path: str, origin: str, err: OSError) -> UsageError:
    """What was wrong with a CA bundle, said as a usage error (exit 2)."""
    import ssl

    reason = "no PEM certificate in it" if isinstance(err, ssl.SSLError) else (err.strerror or str(err)).lower()
    return UsageError(f"bad CA bundle {path!r}{_from(origin)}: {reason}")


def check_url(url: str) -> None:
    """An http(s) URL with a host; plain http only to a loopback host (the key travels)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as err:
        raise UsageError(f"bad base URL {display_url(url)!r}: {err}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"bad base URL {display_url(url)!r}: expected http(s)://HOST[:PORT]{with_scheme(url)}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"refusing to send the API key over plain http to {parts.hostname}: "
            "use https:// (http is allowed only for loopback hosts such as 127.0.0.1)"
        )


def with_scheme(url: str) -> str:
    """`127.0.0.1:8765` was meant as `http://127.0.0.1:8765` (a loopback host), `kb.example` as https."""
    if "://" in url or not url.strip():
        return ""
    host = url.split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return f"; did you mean {'http' if is_loopback(host) else 'https'}://{display_url(url)}?"


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve(options: ConnectionOptions, env: Mapping[str, str], config: Mapping[str, Any]) -> Settings:
    """Combine the layers; pure, so every precedence rule is a table test."""
    profile_name, profile = select_profile(options.profile, env, config)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key in PROFILE_KEYS:
        given = getattr(options, key, None)  # `accessible` and `cite` are no connection options: env or profile
        env_var = ENV_VARS.get(key)
        if given is not None:
            values[key], origins[key] = given, "option"
        elif env_var and env.get(env_var):
            values[key], origins[key] = env[env_var], f"env {env_var}"
        elif key == "log" and (logging := env_log(env)) is not None:
            values[key], origins[key] = logging, "env KBCHAT_NO_LOG"
        elif key in profile:
            values[key], origins[key] = profile[key], f"profile {profile_name}"
            if key in TEXT_KEYS and not isinstance(profile[key], str):
                raise ConfigError(f"config: {key} in profile {profile_name} must be a string")
    filters = parse_filter_table(profile.get("filters", {}), profile_name)
    origins.update({f"filters.{key}": f"profile {profile_name}" for key in filters})
    given_filters = parse_filter_options(options.filters)
    filters.update(given_filters)
    origins.update({f"filters.{key}": "option --filter" for key in given_filters})
    tenant = filters.pop("tenant_id", None)
    if tenant is not None and options.tenant is None:
        values["tenant"], origins["tenant"] = tenant, "option --filter"
    return Settings(
        base_url=str(values.get("base_url", DEFAULT_BASE_URL)).rstrip("/"),
        api_key=_optional_str(values.get("api_key")),
        tenant=_optional_str(values.get("tenant")),
        filters=filters,
        timeout=to_timeout(values.get("timeout", DEFAULT_TIMEOUT), origins.get("timeout", "")),
        retries=to_retries(values.get("retries", DEFAULT_RETRIES), origins.get("retries", "")),
        profile=profile_name,
        ca_bundle=optional_path(values.get("ca_bundle")),
        log=to_switch(values.get("log", True), origins.get("log", "")),
        accessible=to_switch(values.get("accessible", False), origins.get("accessible", "")),
        cite=to_switch(values.get("cite", False), origins.get("cite", "")),
        origins=origins,
    )


def select_profile(
    option: str | None, env: Mapping[str, str], config: Mapping[str, Any]
) -> tuple[str, Mapping[str, Any]]:
    """The profile's name and table; naming a profile that does not exist is an error."""
    profiles = config.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError("config: [profiles] must be a table")
    named = option or env.get("KBCHAT_PROFILE") or None
    name = named or config.get("default_profile") or DEFAULT_PROFILE
    if not isinstance(name, str):
        raise ConfigError("config: default_profile must be a string")
    table = profiles.get(name)
    if table is None:
        if named or name != DEFAULT_PROFILE:
            known = ", ".join(sorted(profiles)) or "none yet"
            raise UsageError(f"no profile {name!r} in the config file (profiles: {known})")
        return name, {}
    if not isinstance(table, dict):
        raise ConfigError(f"config: [profiles.{name}] must be a table")
    return name, table


def parse_filter_options(items: tuple[str, ...] | list[str]) -> Filters:
    """`--filter KEY=VALUE` items; list keys accumulate and split on commas."""
    filters: Filters = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"bad filter {item!r}: expected KEY=VALUE, e.g. tag_names=Plans")
        add_filter(filters, key, value)
    return filters


def add_filter(filters: Filters, key: str, value: str) -> None:
    """Add one filter value, checking the key against the API's list."""
    check_filter_key(key)
    if key in LIST_FILTER_KEYS:
        existing = filters.setdefault(key, [])
        assert isinstance(existing, list)
        existing.extend(part.strip() for part in value.split(",") if part.strip())
    else:
        filters[key] = value.strip()


def check_filter_key(key: str) -> None:
    if key not in FILTER_KEYS:
        raise UsageError(f"unknown filter key {key!r}; known keys: {', '.join(FILTER_KEYS)}")


def parse_filter_table(table: Any, profile: str) -> Filters:
    """The `filters` table of a profile, checked like options."""
    if not isinstance(table, dict):
        raise ConfigError(f"config: [profiles.{profile}.filters] must be a table")
    filters: Filters = {}
    for key, value in table.items():
        check_filter_key(key)
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise ConfigError(f"config: filter {key} in profile {profile} must be a string or strings")
        for v in values:
            add_filter(filters, key, v)
    return filters


def to_timeout(value: Any, origin: str = "") -> float:
    try:
        seconds = -1.0 if isinstance(value, bool) else float(value)
    except (TypeError, ValueError, OverflowError):
        seconds = -1.0
    if not 0 < seconds <= MAX_TIMEOUT:
        raise UsageError(
            f"bad timeout {value!r}{_from(origin)}: expected a positive number of seconds, at most {MAX_TIMEOUT:g}"
        )
    return seconds


def to_retries(value: Any, origin: str = "") -> int:
    try:
        count = int(value)
    except (TypeError, ValueError, OverflowError):
        count = -1
    if not 0 <= count <= 100 or isinstance(value, bool | float):
        raise UsageError(f"bad retries {value!r}{_from(origin)}: expected a whole number from 0 to 100")
    return count


def env_log(env: Mapping[str, str]) -> bool | None:
    """Whether KBCHAT_NO_LOG says to log (it is a negative switch); None when it says nothing."""
    value = env.get("KBCHAT_NO_LOG")
    return None if not value else not to_switch(value, "env KBCHAT_NO_LOG")


SWITCHES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def to_switch(value: Any, origin: str = "") -> bool:
    """On or off: a TOML boolean, or 1/0, true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    switch = SWITCHES.get(str(value).strip().lower()) if isinstance(value, str | int) else None
    if switch is None:
        raise UsageError(f"bad switch {value!r}{_from(origin)}: expected true or false")
    return switch


def optional_path(value: Any) -> str | None:
    """A path as a config file or shell may spell it: `~/certs/ca.pem` too."""
    import os

    text = _optional_str(value)
    return os.path.expanduser(text) if text else None


def _from(origin: str) -> str:
    return f" (from {origin})" if origin else ""


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def mask_key(key: str | None) -> str:
    """Show at most the last 4 characters, and none of a short key."""
    if not key:
        return "(not set)"
    return f"****{key[-4:]}" if len(key) >= 16 else "****"
