"""Settings precedence, filters, URL checks and the config file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kbchat.config_file import (
    config_path,
    describe,
    load_config,
    permission_warning,
    save_config,
    set_value,
    unset_value,
)
from kbchat.errors import ConfigError, UsageError
from kbchat.settings import ConnectionOptions, Settings, check_url, mask_key, parse_filter_options, resolve
from tests.conftest import posix

CONFIG = {
    "default_profile": "work",
    "profiles": {
        "work": {"base_url": "https://work.example", "api_key": "sk-work", "tenant": "w", "timeout": 30,
                 "filters": {"tag_names": ["Plans"], "source": "document"}},
        "home": {"tenant": "h", "retries": 5},
    },
}  # fmt: skip


@pytest.mark.parametrize(
    ("options", "env", "key", "value", "origin"),
    [
        (ConnectionOptions(tenant="opt"), {"KBCHAT_TENANT": "env"}, "tenant", "opt", "option"),
        (ConnectionOptions(), {"KBCHAT_TENANT": "env"}, "tenant", "env", "env KBCHAT_TENANT"),
        (ConnectionOptions(), {}, "tenant", "w", "profile work"),
        (ConnectionOptions(profile="home"), {}, "tenant", "h", "profile home"),
        (ConnectionOptions(), {"KBCHAT_PROFILE": "home"}, "tenant", "h", "profile home"),
        (ConnectionOptions(), {"KBCHAT_TENANT": ""}, "tenant", "w", "profile work"),  # empty env var = unset
        (ConnectionOptions(), {}, "timeout", 30.0, "profile work"),
        (ConnectionOptions(timeout=5), {"KBCHAT_TIMEOUT": "7"}, "timeout", 5.0, "option"),
        (ConnectionOptions(), {"KBCHAT_TIMEOUT": "7.5"}, "timeout", 7.5, "env KBCHAT_TIMEOUT"),
        (ConnectionOptions(profile="home"), {}, "retries", 5, "profile home"),
        (ConnectionOptions(retries=0, profile="home"), {}, "retries", 0, "option"),
        (ConnectionOptions(api_key="sk-opt"), {"KBCHAT_API_KEY": "sk-env"}, "api_key", "sk-opt", "option"),
        (ConnectionOptions(base_url="http://127.0.0.1:9/"), {}, "base_url", "http://127.0.0.1:9", "option"),
        (ConnectionOptions(filters=("tenant_id=f",)), {}, "tenant", "f", "option --filter"),
    ],
)
def test_precedence(options: ConnectionOptions, env: dict[str, str], key: str, value: object, origin: str) -> None:
    settings = resolve(options, env, CONFIG)
    assert getattr(settings, key) == value
    assert settings.origins[key] == origin


def test_defaults_without_any_config() -> None:
    settings = resolve(ConnectionOptions(), {}, {})
    assert settings == Settings(origins={})
    assert settings.connect_timeout == 10.0
    assert resolve(ConnectionOptions(timeout=2), {}, {}).connect_timeout == 2.0


def test_filters_merge_profile_then_options() -> None:
    settings = resolve(ConnectionOptions(filters=("tag_names=A,B", "tag_names=C", "source=file")), {}, CONFIG)
    assert settings.request_filters() == {"tenant_id": "w", "tag_names": ["A", "B", "C"], "source": "file"}


def test_profile_filters_alone() -> None:
    assert resolve(ConnectionOptions(), {}, CONFIG).request_filters() == {
        "tenant_id": "w", "tag_names": ["Plans"], "source": "document",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("items", "message"),
    [(["colour=red"], "unknown filter key 'colour'"), (["tag_names"], "expected KEY=VALUE"), (["=x"], "KEY=VALUE")],
)
def test_bad_filters(items: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_filter_options(items)


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        (ConnectionOptions(profile="nope"), {}, "no profile 'nope'"),
        (ConnectionOptions(), {"KBCHAT_TIMEOUT": "soon"}, "bad timeout 'soon' .from env KBCHAT_TIMEOUT"),
        (ConnectionOptions(timeout=0), {}, "bad timeout"),
        (ConnectionOptions(retries=-1), {}, "bad retries"),
    ],
)
def test_bad_settings(options: ConnectionOptions, env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve(options, env, CONFIG)


def test_bad_config_shapes() -> None:
    with pytest.raises(ConfigError):
        resolve(ConnectionOptions(), {}, {"profiles": []})
    with pytest.raises(ConfigError):
        resolve(ConnectionOptions(), {}, {"profiles": {"default": {"filters": {"tag_names": [1]}}}})
    with pytest.raises(UsageError, match="unknown filter key"):
        resolve(ConnectionOptions(), {}, {"profiles": {"default": {"filters": {"colour": "x"}}}})


@pytest.mark.parametrize(
    "url",
    ["https://api.example.com", "http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80", "http://127.9.9.9"],
)
def test_good_urls(url: str) -> None:
    check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.example.com", "refusing to send the API key over plain http to api.example.com"),
        ("http://10.0.0.1:8000", "refusing"),
        ("ftp://x", "bad base URL"),
        ("api.example.com", "bad base URL"),
        ("https://x:99999", "bad base URL"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        check_url(url)


def test_check_ready_names_what_is_missing() -> None:
    with pytest.raises(UsageError, match=r"no API key.*KBCHAT_API_KEY"):
        Settings(tenant="t").check_ready()
    with pytest.raises(UsageError, match="no tenant"):
        Settings(api_key="k").check_ready()
    Settings(api_key="k", tenant="t").check_ready()


@pytest.mark.parametrize(
    ("key", "shown"), [(None, "(not set)"), ("short", "****"), ("sk-0123456789abcdef", "****cdef")]
)
def test_mask_key(key: str | None, shown: str) -> None:
    assert mask_key(key) == shown


def test_config_path_prefers_env(tmp_path: Path) -> None:
    assert config_path({"KBCHAT_CONFIG": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"
    assert config_path({}).name == "config.toml"


@posix("file modes (0600)")
def test_save_is_0600_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    save_config(path, CONFIG)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path) == CONFIG
    assert permission_warning(path, CONFIG) is None
    os.chmod(path, 0o644)
    assert "readable by others" in (permission_warning(path, CONFIG) or "")


def test_load_missing_and_broken(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml") == {}
    broken = tmp_path / "broken.toml"
    broken.write_text("[profiles\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_set_and_unset_values() -> None:
    config = set_value({}, "default", "tenant", "acme")
    config = set_value(config, "default", "timeout", "12")
    config = set_value(config, "default", "filters.tag_names", "A, B")
    config = set_value(config, "default", "default_profile", "default")
    assert config == {
        "default_profile": "default",
        "profiles": {"default": {"tenant": "acme", "timeout": 12.0, "filters": {"tag_names": ["A", "B"]}}},
    }
    config = unset_value(config, "default", "filters.tag_names")
    config = unset_value(config, "default", "tenant")
    config = unset_value(config, "default", "timeout")
    assert config == {"default_profile": "default"}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("colour", "red", "unknown config key"),
        ("filters.colour", "red", "unknown filter key"),
        ("retries", "many", "bad retries"),
        ("base_url", "http://example.com", "refusing"),
        ("tenant", " ", "cannot be empty"),
        ("filters.tenant_id", "x", "config set tenant"),
    ],
)
def test_set_rejects_bad_values(key: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        set_value({}, "default", key, value)


def test_unset_missing_key() -> None:
    with pytest.raises(UsageError, match="not set"):
        unset_value({}, "default", "tenant")


def test_describe_masks_the_key() -> None:
    settings = resolve(ConnectionOptions(api_key="sk-0123456789abcdef"), {}, CONFIG)
    text = "\n".join(describe(settings))
    assert "sk-0123456789abcdef" not in text
    assert "api_key           = ****cdef  (option)" in text
    assert "filters.tag_names = Plans" in text
