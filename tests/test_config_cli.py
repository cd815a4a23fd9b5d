"""`kbchat config` commands through Typer's CliRunner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import POSIX_MODES, cli, posix
from tests.test_doctor import certificate  # noqa: F401 (a fixture)

KEY = "sk-config-0123456789-secret"


def config_file() -> Path:
    return Path(os.environ["KBCHAT_CONFIG"])


def test_path_prints_the_config_path() -> None:
    result = cli("config", "path")
    assert result.returncode == 0 and result.stdout.strip() == str(config_file())


def test_set_show_unset() -> None:
    assert cli("config", "set", "api_key", KEY).returncode == 0
    assert cli("config", "set", "tenant", "acme").returncode == 0
    assert cli("config", "set", "filters.tag_names", "Plans,Pricing", "-p", "work").returncode == 0
    assert not POSIX_MODES or stat.S_IMODE(config_file().stat().st_mode) == 0o600
    shown = cli("config", "show")
    assert shown.returncode == 0
    assert KEY not in shown.stdout + shown.stderr
    assert "****cret" in shown.stdout and "tenant   = acme  (profile default)" in shown.stdout
    work = cli("config", "show", "--profile", "work")
    assert "filters.tag_names = Plans,Pricing  (profile work)" in work.stdout
    assert cli("config", "unset", "tenant").returncode == 0
    assert "tenant   = (not set)" in cli("config", "show").stdout


def test_set_never_echoes_the_key() -> None:
    result = cli("config", "set", "api_key", KEY)
    assert KEY not in result.stdout + result.stderr


def test_bad_key_is_a_usage_error() -> None:
    result = cli("config", "set", "colour", "red")
    assert result.returncode == 2
    assert result.stderr.startswith("kbchat: error: unknown config key 'colour'")


@posix("file modes (0600)")
def test_world_readable_config_with_a_key_warns() -> None:
    cli("config", "set", "api_key", KEY)
    os.chmod(config_file(), 0o644)
    result = cli("config", "show")
    assert "readable by others" in result.stderr


def test_windows_mode_bits_are_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows reports 0666 for every writable file: no `chmod 600` advice there, and doctor passes."""
    cli("config", "set", "api_key", KEY)
    os.chmod(config_file(), 0o644)
    monkeypatch.setattr("kbchat.private.MODE_BITS", False)
    assert cli("config", "show").stderr == ""
    doctor = cli("doctor", "--base-url", "http://127.0.0.1:9").stdout
    assert doctor.startswith("✓ config file") and f"{config_file()}  (" in doctor.splitlines()[0]


def test_broken_config_is_reported_cleanly() -> None:
    config_file().write_text("[profiles\n")
    result = cli("config", "show")
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_env_var_wins_over_profile(monkeypatch) -> None:
    cli("config", "set", "tenant", "acme")
    monkeypatch.setenv("KBCHAT_TENANT", "from-env")
    assert "tenant   = from-env  (env KBCHAT_TENANT)" in cli("config", "show").stdout


def test_version() -> None:
    from kbchat import __version__

    result = cli("--version")
    assert result.returncode == 0 and result.stdout == f"kbchat {__version__}\n"


def test_set_api_key_without_a_value_reads_it_from_piped_stdin() -> None:
    result = cli("config", "set", "api_key", input=KEY + "\n")
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    assert f'api_key = "{KEY}"' in config_file().read_text()


def test_set_without_a_value_is_only_for_the_key() -> None:
    result = cli("config", "set", "tenant")
    assert result.returncode == 2 and result.stderr == "kbchat: error: no value: kbchat config set tenant VALUE\n"
    empty = cli("config", "set", "api_key", input="\n")
    assert empty.returncode == 2 and "no API key given" in empty.stderr


def test_a_key_no_header_can_carry_is_refused_unseen() -> None:
    result = cli("config", "set", "api_key", "sk-abc def")
    assert result.returncode == 2 and "cannot carry" in result.stderr and "abc" not in result.stderr


def test_an_unwritable_config_dir_is_a_config_error() -> None:
    target = Path("/proc/kbchat-no-such-dir/config.toml")  # cannot be created, even by root
    if not Path("/proc/self").exists():
        pytest.skip("needs Linux's /proc")
    result = cli("config", "set", "tenant", "x", env={"KBCHAT_CONFIG": str(target)})
    assert result.returncode == 2
    assert result.stderr.startswith(f"kbchat: error: cannot write config file {target}: ")
    assert result.stderr.count("\n") == 1


def test_a_file_in_place_of_the_config_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli("config", "set", "tenant", "x", env={"KBCHAT_CONFIG": str(blocker / "c.toml")})
    assert result.returncode == 2
    assert result.stderr == f"kbchat: error: cannot read config file {blocker / 'c.toml'}: Not a directory\n"


@pytest.mark.parametrize("command", [["config", "set", "tenant", "x"], ["config", "show"], ["config", "unset", "tenant"],
                                     ["ask", "--api-key", KEY, "--tenant", "t", "q"]])  # fmt: skip
def test_a_file_nested_thousands_deep_is_one_clear_error(command: list[str]) -> None:
    config_file().write_text("a." * 2_000 + "b = 1\n")  # deeper than Python recurses
    result = cli(*command)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "is not valid TOML: it is nested too deeply" in result.stderr and "Recursion" not in result.stderr


def test_config_show_and_set_print_escapes_harmlessly() -> None:
    escape = "t\x1b]0;owned\x07"
    config_file().write_text(
        '[profiles."t\\u001b]0;owned\\u0007"]\ntenant = "x"\n'
        '[profiles."t\\u001b]0;owned\\u0007".filters]\ncategory_name = "\\u001b[2J"\n'
    )
    shown = cli("config", "show", "-p", escape, env={"KBCHAT_BASE_URL": "http://127.0.0.1/\x1b[31m"})
    said = cli("config", "set", "tenant", escape)
    output = shown.stdout + shown.stderr + said.stdout + said.stderr
    assert shown.returncode == 0 and said.returncode == 0 and "\x1b" not in output and "\x07" not in output
    assert "filters.category_name = ␛[2J" in shown.stdout and "= t␛]0;owned␇\n" in shown.stdout


def test_ca_bundle_is_checked_when_set_and_shown_with_its_origin(
    tmp_path: Path,
    certificate: tuple[Path, Path],  # noqa: F811
) -> None:
    missing = cli("config", "set", "ca_bundle", str(tmp_path / "nowhere.pem"))
    assert missing.returncode == 2 and missing.stderr.endswith(": no such file or directory\n")
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\n")
    refused = cli("config", "set", "ca_bundle", str(junk))
    assert refused.returncode == 2 and refused.stderr.endswith(": no PEM certificate in it\n")
    bundle, _ = certificate
    assert cli("config", "set", "ca_bundle", str(bundle)).returncode == 0
    assert f"ca_bundle = {bundle}  (profile default)" in cli("config", "show").stdout
    shown = cli("config", "show", env={"KBCHAT_CA_BUNDLE": str(bundle)}).stdout
    assert f"ca_bundle = {bundle}  (env KBCHAT_CA_BUNDLE)" in shown
