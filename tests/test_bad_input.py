"""No input reaches the "unexpected" branch: bad options, environment and config give a clear
one-line error and exit 2 (usage, config) or 1 (runtime), never a crash."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kbchat.config_file import describe, load_config, permission_warning, set_value, unset_value
from kbchat.errors import KBChatError
from kbchat.safe import one_line
from kbchat.settings import ConnectionOptions, resolve
from tests.conftest import cli

CLOSED = "http://127.0.0.1:1"  # loopback, nothing listens: a connection is refused at once

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([1e300, -0.0, 0, 86400, 86400.5, 10**5000 // 10**4990]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False), text, st.datetimes()),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
profile_keys = st.sampled_from(["base_url", "api_key", "tenant", "timeout", "retries", "filters", "log", "colour"])
filter_tables = st.dictionaries(
    st.sampled_from(["tenant_id", "tag_names", "tag_ids", "source", "bogus"]), toml_values, max_size=3
)
profiles = st.dictionaries(profile_keys, toml_values | filter_tables, max_size=5)
configs = st.fixed_dictionaries(
    {},
    optional={
        "default_profile": toml_values,
        "profiles": st.one_of(
            toml_values, st.dictionaries(st.sampled_from(["default", "work", "x"]), profiles | toml_values, max_size=3)
        ),
        "extra": toml_values,
    },
)
environments = st.dictionaries(
    st.sampled_from(["KBCHAT_BASE_URL", "KBCHAT_API_KEY", "KBCHAT_TENANT", "KBCHAT_TIMEOUT", "KBCHAT_PROFILE"]),
    text,
    max_size=5,
)
options = st.builds(
    ConnectionOptions,
    base_url=st.none() | text | st.sampled_from([CLOSED, "https://u:p@h", "http://[::1", "http://h:99999"]),
    api_key=st.none() | text,
    tenant=st.none() | text,
    filters=st.lists(text | st.sampled_from(["tag_names=a,b", "tenant_id=x", "=", "source="]), max_size=3).map(tuple),
    profile=st.none() | text,
    timeout=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    retries=st.none() | st.integers(),
)


@settings(max_examples=200, deadline=None)
@given(options, environments, configs)
def test_settings_from_any_input_are_ready_or_a_clear_error(
    given_options: ConnectionOptions, env: dict[str, str], config: dict[str, Any]
) -> None:
    try:
        resolved = resolve(given_options, env, config)
        describe(resolved)
        resolved.check_ready()
    except KBChatError as err:
        assert one_line(str(err))  # what the user sees: one line, never empty
        assert err.exit_code == 2
    else:
        assert 0 < resolved.timeout <= 86400 and not math.isnan(resolved.timeout)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(configs)
def test_any_config_file_is_read_or_refused_clearly(tmp_path: Path, config: dict[str, Any]) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(tomli_w.dumps(config).encode())
    path.chmod(0o644)
    loaded = load_config(path)
    permission_warning(path, loaded)
    for edit in (lambda c: set_value(c, "work", "tenant", "t"), lambda c: unset_value(c, "work", "tenant")):
        try:
            edit(loaded)
        except KBChatError as err:
            assert err.exit_code == 2


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe not utf-8", b"a = " + b"[" * 5000 + b"]" * 5000, b"profiles = 'x'", b"[profiles]\ndefault = 3",
     b"[profiles.default]\ntimeout = 1e300", b"[profiles.default]\nretries = 99999999999999999999",
     b"[profiles.default]\ntenant = [1, 2]", b"[profiles.default.filters]\ntag_names = [{a = 1}]"],
)  # fmt: skip
def test_odd_config_files_are_config_errors(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(raw)
    result = cli("config", "show", env={"KBCHAT_CONFIG": str(path)})
    assert result.returncode == 2, result
    assert result.stderr.startswith("kbchat: error: ") and result.stderr.count("\n") == 1
    assert "unexpected" not in result.stderr


cli_values = st.one_of(text, st.sampled_from(["1e300", "-1", "nan", "inf", "0", "1" + "0" * 400, "0x10", " 3 ", "1_0"]))


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={"--timeout": cli_values, "--filter": cli_values, "--tenant": cli_values, "--api-key": cli_values,
                  "--profile": cli_values, "--base-url": cli_values | st.just(CLOSED)},
    ),
    st.dictionaries(st.sampled_from(["KBCHAT_TIMEOUT", "KBCHAT_BASE_URL", "KBCHAT_TENANT"]), cli_values, max_size=2),
)  # fmt: skip
def test_any_option_values_exit_cleanly(values: dict[str, str], env: dict[str, str]) -> None:
    assume(not any(v.strip().lower().startswith("https:") for v in [*values.values(), *env.values()]))  # no network
    args = ["ask", "--retries", "0", *(f"{name}={value}" for name, value in values.items())]
    if "--base-url" not in values and "KBCHAT_BASE_URL" not in env:
        args.append("--base-url=" + CLOSED)
    result = cli(*args, "q", env=env)
    assert result.returncode in (1, 2), result
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
