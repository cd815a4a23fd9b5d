"""The static completion scripts: in sync with the CLI, and completing in real shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kbchat.completions import generate
from tests.conftest import posix

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "completions"


def test_checked_in_scripts_match_the_cli() -> None:
    for name, text in generate().items():
        assert (SCRIPTS / name).read_text() == text, f"completions/{name} is stale: run python -m kbchat.completions"


def write_config(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text('default_profile = "work"\n[profiles.work]\ntenant = "a"\n[profiles.home-lab]\ntenant = "b"\n')
    return {**os.environ, "KBCHAT_CONFIG": str(config)}


def bash_complete(line: str, env: dict[str, str]) -> list[str]:
    script = f"""
source {SCRIPTS / "kbchat.bash"}
read -ra COMP_WORDS <<< "{line}"
[[ "{line}" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
_kbchat
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=True)
    return [word for word in result.stdout.split("\n") if word]


@posix("bash sourcing a completion script by its POSIX path")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("kbchat ", ["ask", "chat", "search", "doctor", "demo", "serve", "mcp", "config", "log"]),
        ("kbchat log ", ["show", "export", "rm", "path"]),
        ("kbchat log --", ["--count", "--query", "--tenant", "--json", "--no-pager", "--no-color", "--help"]),
        ("kbchat se", ["search", "serve"]),
        ("kbchat ask --no", ["--no-markdown", "--no-color", "--no-stream", "--no-log"]),
        ("kbchat ask --filter tag", ["tag_ids=", "tag_names="]),
        ("kbchat ask -p ", ["work", "home-lab"]),
        ("kbchat chat --profile h", ["home-lab"]),
        ("kbchat config ", ["show", "set", "unset", "path"]),
        ("kbchat config set ti", ["timeout"]),
        ("kbchat config unset filters.tag", ["filters.tag_ids", "filters.tag_names"]),
        ("kbchat serve --p", ["--port", "--pace"]),
        ("kbchat ask --timeout ", []),
    ],
)
def test_bash_completes(line: str, expected: list[str], tmp_path: Path) -> None:
    got = bash_complete(line, write_config(tmp_path))
    if line.endswith(" ") and expected:  # a new word: the choices, then the options (checked apart)
        assert [word for word in got if not word.startswith("-")] == expected
    else:
        assert sorted(got) == sorted(expected)


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_completes(tmp_path: Path) -> None:
    env = write_config(tmp_path)
    script = f"source {SCRIPTS / 'kbchat.fish'}; complete -C 'kbchat as'; complete -C 'kbchat ask -p '; complete -C 'kbchat config set filters.s'"
    out = subprocess.run(["fish", "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    words = [line.split("\t")[0] for line in out.splitlines()]
    assert words[0] == "ask" and sorted(words[1:3]) == ["home-lab", "work"] and words[3:] == ["filters.source"]


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_script_parses() -> None:
    subprocess.run(["zsh", "-n", str(SCRIPTS / "_kbchat")], check=True)


def test_typer_dynamic_completion_still_works() -> None:
    env = {**os.environ, "_KBCHAT_COMPLETE": "complete_bash", "COMP_WORDS": "kbchat as", "COMP_CWORD": "1"}
    result = subprocess.run([sys.executable, "-m", "kbchat"], capture_output=True, text=True, env=env)
    assert result.stdout.split() == ["ask"]
