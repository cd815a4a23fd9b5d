"""`kbchat config` commands through Typer's CliRunner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kbchat.commands import app

runner = CliRunner()
KEY = "sk-config-0123456789-secret"


def config_file() -> Path:
    return Path(os.environ["KBCHAT_CONFIG"])


def test_path_prints_the_config_path() -> None:
    result = runner.invoke(app, ["config", "path"])
    assert result.exit_code == 0 and result.stdout.strip() == str(config_file())


def test_set_show_unset() -> None:
    assert runner.invoke(app, ["config", "set", "api_key", KEY]).exit_code == 0
    assert runner.invoke(app, ["config", "set", "tenant", "acme"]).exit_code == 0
    assert runner.invoke(app, ["config", "set", "filters.tag_names", "Plans,Pricing", "-p", "work"]).exit_code == 0
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    shown = runner.invoke(app, ["config", "show"])
    assert shown.exit_code == 0
    assert KEY not in shown.stdout + shown.stderr
    assert "****cret" in shown.stdout and "tenant   = acme  (profile default)" in shown.stdout
    work = runner.invoke(app, ["config", "show", "--profile", "work"])
    assert "filters.tag_names = Plans,Pricing" in work.stdout
    assert runner.invoke(app, ["config", "unset", "tenant"]).exit_code == 0
    assert "tenant   = (not set)" in runner.invoke(app, ["config", "show"]).stdout


def test_set_never_echoes_the_key() -> None:
    result = runner.invoke(app, ["config", "set", "api_key", KEY])
    assert KEY not in result.stdout + result.stderr


def test_bad_key_is_a_usage_error() -> None:
    result = runner.invoke(app, ["config", "set", "colour", "red"])
    assert result.exit_code == 2
    assert result.stderr.startswith("kbchat: error: unknown config key 'colour'")


def test_world_readable_config_with_a_key_warns() -> None:
    runner.invoke(app, ["config", "set", "api_key", KEY])
    os.chmod(config_file(), 0o644)
    result = runner.invoke(app, ["config", "show"])
    assert "readable by others" in result.stderr


def test_broken_config_is_reported_cleanly() -> None:
    config_file().write_text("[profiles\n")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


def test_env_var_wins_over_profile(monkeypatch) -> None:
    runner.invoke(app, ["config", "set", "tenant", "acme"])
    monkeypatch.setenv("KBCHAT_TENANT", "from-env")
    assert "tenant   = from-env  (env KBCHAT_TENANT)" in runner.invoke(app, ["config", "show"]).stdout


def test_version() -> None:
    from kbchat import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"kbchat {__version__}\n"


def test_set_api_key_without_a_value_reads_it_from_piped_stdin() -> None:
    result = runner.invoke(app, ["config", "set", "api_key"], input=KEY + "\n")
    assert result.exit_code == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    assert f'api_key = "{KEY}"' in config_file().read_text()


def test_set_without_a_value_is_only_for_the_key() -> None:
    result = runner.invoke(app, ["config", "set", "tenant"])
    assert result.exit_code == 2 and result.stderr == "kbchat: error: no value: kbchat config set tenant VALUE\n"
    empty = runner.invoke(app, ["config", "set", "api_key"], input="\n")
    assert empty.exit_code == 2 and "no API key given" in empty.stderr


def test_a_key_no_header_can_carry_is_refused_unseen() -> None:
    result = runner.invoke(app, ["config", "set", "api_key", "sk-abc def"])
    assert result.exit_code == 2 and "cannot carry" in result.stderr and "abc" not in result.stderr


def test_an_unwritable_config_dir_is_a_config_error() -> None:
    target = Path("/proc/kbchat-no-such-dir/config.toml")  # cannot be created, even by root
    if not Path("/proc/self").exists():
        pytest.skip("needs Linux's /proc")
    result = runner.invoke(app, ["config", "set", "tenant", "x"], env={"KBCHAT_CONFIG": str(target)})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"kbchat: error: cannot write config file {target}: ")
    assert result.stderr.count("\n") == 1


def test_a_file_in_place_of_the_config_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["config", "set", "tenant", "x"], env={"KBCHAT_CONFIG": str(blocker / "c.toml")})
    assert result.exit_code == 2
    assert result.stderr == f"kbchat: error: cannot read config file {blocker / 'c.toml'}: Not a directory\n"
