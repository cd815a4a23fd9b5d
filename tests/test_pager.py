"""Long output through $PAGER on a terminal, as git and gh do; never when piped or short."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from kbchat.terminal import Terminal
from tests.conftest import posix


@pytest.fixture
def pager(tmp_path: Path) -> tuple[str, Path]:
    """A pager that keeps what it was given, and its LESS variable."""
    got = tmp_path / "paged"
    script = tmp_path / "pager"
    script.write_text(f'#!/bin/sh\necho "LESS=$LESS" > "{got}.env"\ncat > "{got}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), got


def terminal(tty: bool = True) -> Terminal:
    return Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=tty)


@pytest.fixture(autouse=True)
def screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kbchat.terminal._screen_height", lambda: 10)


@posix("a shell script stands in for the pager")
def test_taller_than_the_screen_goes_to_the_pager(pager: tuple[str, Path]) -> None:
    command, got = pager
    term = terminal()
    text = "".join(f"line {n} ✓\n" for n in range(30))
    term.page(text, env={"PAGER": command})
    assert got.read_text() == text and term.out.getvalue() == ""  # type: ignore[attr-defined]
    assert Path(f"{got}.env").read_text() == "LESS=FRX\n"


@posix("a shell script stands in for the pager")
@pytest.mark.parametrize(
    ("tty", "lines", "allowed", "env"),
    [
        (False, 30, True, {}),
        (True, 5, True, {}),
        (True, 30, False, {}),
        (True, 30, True, {"PAGER": "cat"}),
        (True, 30, True, {"PAGER": ""}),
        (True, 30, True, {"PAGER": "/no/such/pager"}),
    ],
)
def test_otherwise_printed_directly(pager: tuple[str, Path], tty: bool, lines: int, allowed: bool,
                                    env: dict[str, str]) -> None:  # fmt: skip
    command, got = pager
    term = terminal(tty)
    text = "x\n" * lines
    term.page(text, pager=allowed, env={"PAGER": command, **env})
    assert term.out.getvalue() == text and not got.exists()  # type: ignore[attr-defined]


@posix("a shell script stands in for the pager")
def test_kbchat_pager_wins_and_less_settings_are_kept(pager: tuple[str, Path]) -> None:
    command, got = pager
    terminal().page("x\n" * 30, env={"PAGER": "/no/such/pager", "KBCHAT_PAGER": command, "LESS": "-R"})
    assert got.read_text() == "x\n" * 30 and Path(f"{got}.env").read_text() == "LESS=-R\n"
