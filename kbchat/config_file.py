"""The config file: where it is, reading it, writing it safely, and the edits of `kbchat config`.

TOML at $KBCHAT_CONFIG, else the platform's user config dir. Written atomically with
mode 0600 (it may hold a key); a key in a file others can read is warned about.
"""

from __future__ import annotations

import contextlib
import copy
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbchat.errors import ConfigError, UsageError
from kbchat.private import BINARY
from kbchat.safe import display_url, one_line
from kbchat.settings import (
    PROFILE_KEYS,
    ConnectionOptions,
    Settings,
    check_api_key,
    check_ca_bundle,
    check_filter_key,
    check_url,
    mask_key,
    optional_path,
    resolve,
    to_retries,
    to_switch,
    to_timeout,
)
from kbchat.wire import LIST_FILTER_KEYS

if TYPE_CHECKING:
    from kbchat.terminal import Terminal

SETTABLE = (*PROFILE_KEYS, "default_profile", "filters.KEY")


def ready_settings(options: ConnectionOptions, term: Terminal) -> Settings:
    """A command's connection options resolved with the environment and this file, checked before anything is sent."""
    settings = load_settings(options, term)
    settings.check_ready()
    return settings


def load_settings(options: ConnectionOptions, term: Terminal) -> Settings:
    """Settings from the command line, the environment and this file; their secrets kept from output."""
    path = config_path(os.environ)
    config = load_config(path)
    warning = permission_warning(path, config)
    if warning:
        term.warn(warning)
    return resolve(options, os.environ, config)


def config_path(env: Mapping[str, str]) -> Path:
    """$KBCHAT_CONFIG, else the platform's user config dir."""
    if env.get("KBCHAT_CONFIG"):
        return Path(env["KBCHAT_CONFIG"]).expanduser()
    from kbchat.places import user_folder

    return user_folder("config", env) / "config.toml"


MAX_NESTING = 16  # tables within tables; kbchat's own go three deep ([profiles.NAME.filters])


def load_config(path: Path) -> dict[str, Any]:
    """The parsed file, or {} when there is none.

    A file nested deeper than MAX_NESTING is refused here, once: `a.a.a…a = 1` with 20,000
    parts parses (tomllib reads dotted keys in a loop) but every later copy or write of it
    recursed until Python gave up.
    """
    try:
        with path.open("rb") as file:
            import tomllib  # only when there is a file to read

            config = tomllib.load(file)
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not valid TOML: it is not UTF-8 text") from None
    except ValueError as err:  # tomllib.TOMLDecodeError
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from None
    except RecursionError:
        raise ConfigError(f"config file {path} is not valid TOML: it is nested too deeply") from None
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    if nesting(config) > MAX_NESTING:
        raise ConfigError(f"config file {path} is not valid TOML: it is nested too deeply")
    return config


def nesting(value: Any) -> int:
    """How deep tables and arrays go inside a parsed file, counted without recursion."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        here, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            break
        children = here.values() if isinstance(here, dict) else here if isinstance(here, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def permission_warning(path: Path, config: Mapping[str, Any]) -> str | None:
    """A warning when the file holds a key and others may read it. None on Windows, whose files have no
    group or other bits (it reports 0666 for every writable file) and whose user folders are private by ACL."""
    from kbchat.private import MODE_BITS

    if not MODE_BITS:
        return None
    profiles = config.get("profiles")
    tables = profiles.values() if isinstance(profiles, dict) else ()
    holds_key = any(isinstance(table, dict) and table.get("api_key") for table in tables)
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if holds_key and mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{path} holds an API key and is readable by others; run: chmod 600 {path}"
    return None


def save_config(path: Path, config: Mapping[str, Any]) -> None:
    """Write atomically with mode 0600: the file may hold a key."""
    import tomli_w

    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | BINARY, 0o600)
        with os.fdopen(fd, "wb") as file:
            tomli_w.dump(dict(config), file)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as err:
        raise ConfigError(f"cannot write config file {path}: {err.strerror or err}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def set_value(config: dict[str, Any], profile: str, key: str, value: str) -> dict[str, Any]:
    """A copy of `config` with KEY set, typed and checked like the option it stands for."""
    new = copy.deepcopy(config)
    if key == "default_profile":
        new["default_profile"] = _non_empty(key, value)
        return new
    table = _table(_table(new, "profiles", "[profiles]"), profile, f"[profiles.{profile}]")
    if key.startswith("filters."):
        name = key.removeprefix("filters.")
        check_filter_key(name)
        if name == "tenant_id":
            raise UsageError("set the tenant with `kbchat config set tenant ID`")
        filters = _table(table, "filters", f"[profiles.{profile}.filters]")
        if name in LIST_FILTER_KEYS:
            filters[name] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            filters[name] = _non_empty(key, value)
        return new
    table[key] = _typed(key, value)
    return new


def unset_value(config: dict[str, Any], profile: str, key: str) -> dict[str, Any]:
    """A copy of `config` without KEY; empty tables left behind are dropped."""
    new = copy.deepcopy(config)
    if key == "default_profile":
        if new.pop("default_profile", None) is None:
            raise UsageError("default_profile is not set")
        return new
    _check_key(key)
    profiles = _table(new, "profiles", "[profiles]", create=False)
    table = _table(profiles, profile, f"[profiles.{profile}]", create=False)
    path = key.split(".", 1)
    holder = _table(table, "filters", f"[profiles.{profile}.filters]", create=False) if len(path) == 2 else table
    if path[-1] not in holder:
        raise UsageError(f"{key} is not set in profile {profile}")
    del holder[path[-1]]
    if "filters" in table and not table["filters"]:
        del table["filters"]
    if profile in profiles and not profiles[profile]:
        del profiles[profile]
    if "profiles" in new and not new["profiles"]:
        del new["profiles"]
    return new


def _table(parent: dict[str, Any], name: str, shown: str, create: bool = True) -> dict[str, Any]:
    """A table inside the config; a value of another type where a table belongs is a config error."""
    value = parent.setdefault(name, {}) if create else parent.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"config: {shown} must be a table; fix or remove it in the file first")
    return value


def describe(settings: Settings) -> list[str]:
    """`key = value  (origin)` lines for `config show`; the key masked."""
    origins = settings.origins
    rows: list[tuple[str, str, str]] = [
        ("profile", settings.profile, ""),
        ("base_url", display_url(settings.base_url), origins.get("base_url", "default")),
        ("api_key", mask_key(settings.api_key), origins.get("api_key", "")),
        ("tenant", settings.tenant or "(not set)", origins.get("tenant", "")),
        ("timeout", f"{settings.timeout:g}", origins.get("timeout", "default")),
        ("retries", str(settings.retries), origins.get("retries", "default")),
        ("log", "on" if settings.log else "off", origins.get("log", "default")),
    ]
    if settings.ca_bundle:
        rows.append(("ca_bundle", settings.ca_bundle, origins["ca_bundle"]))
    for name in ("accessible", "cite"):  # said when set: most people never need them
        if name in origins:
            rows.append((name, "on" if getattr(settings, name) else "off", origins[name]))
    for name, value in settings.filters.items():
        shown = ",".join(value) if isinstance(value, list) else value
        rows.append((f"filters.{name}", shown, origins.get(f"filters.{name}", "")))
    rows = [(one_line(name), one_line(value), one_line(origin)) for name, value, origin in rows]  # values are anyone's
    width = max(len(name) for name, _, _ in rows)
    return [f"{name:<{width}} = {value}" + (f"  ({origin})" if origin else "") for name, value, origin in rows]


def _typed(key: str, value: str) -> Any:
    _check_key(key)
    if key == "timeout":
        return to_timeout(value)
    if key == "retries":
        return to_retries(value)
    if key in ("log", "accessible", "cite"):
        return to_switch(value)
    if key == "base_url":
        value = _non_empty(key, value).rstrip("/")
        check_url(value)  # refuse now what the client would refuse later
        return value
    if key == "api_key":
        check_api_key(value.strip())
    if key == "ca_bundle":
        check_ca_bundle(optional_path(_non_empty(key, value)))
    return _non_empty(key, value)


def _check_key(key: str) -> None:
    name = key.removeprefix("filters.")
    if key.startswith("filters."):
        check_filter_key(name)
    elif key not in PROFILE_KEYS:
        raise UsageError(f"unknown config key {key!r}; known keys: {', '.join(SETTABLE)}")


def _non_empty(key: str, value: str) -> str:
    if not value.strip():
        raise UsageError(f"{key} cannot be empty (use `kbchat config unset {key}`)")
    return value.strip()
