"""/copy's clipboard: OSC 52 on terminals that honour it, else a desktop's copy program, else a hint."""

from __future__ import annotations

import base64
import io
import os
import stat
from pathlib import Path

import pytest

from kbchat.clipboard import OSC52_LIMIT, clipboard_command, copy, takes_osc52
from kbchat.terminal import Terminal
from tests.conftest import posix


def terminal(tty: bool = True) -> Terminal:
    return Terminal(out=io.StringIO(), err=io.StringIO(), is_tty=tty)


def fake_program(folder: Path, name: str) -> Path:
    """A copy program that writes what it was given to <name>.got beside it."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\ncat > "{folder}/{name}.got"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder / f"{name}.got"


@posix("shell scripts stand in for the clipboard programs")
@pytest.mark.parametrize(
    "env",
    [
        {"TERM_PROGRAM": "WezTerm"},
        {"TERM": "xterm-kitty"},
        {"TMUX": "/tmp/tmux-0/default,1,0", "TMUX_SAYS": "on"},
        {"TERM": "xterm", "KBCHAT_CLIPBOARD": "osc52"},
    ],
)
def test_osc52_on_a_terminal_that_takes_it(env: dict[str, str], tmp_path: Path) -> None:
    if "TMUX_SAYS" in env:
        env["PATH"] = str(fake_tmux(tmp_path / "bin", env.pop("TMUX_SAYS")))
    term = terminal()
    said = copy(term, "héllo\nworld", "the last answer", env)
    payload = base64.b64encode("héllo\nworld".encode()).decode()
    assert term.out.getvalue() == f"\x1b]52;c;{payload}\x07"  # type: ignore[attr-defined]
    assert said == "copied the last answer, 11 characters (OSC 52)"


def fake_tmux(folder: Path, set_clipboard: str) -> Path:
    """A `tmux` whose `show-options -gv set-clipboard` says `set_clipboard`; its folder."""
    folder.mkdir(exist_ok=True)
    script = folder / "tmux"
    script.write_text(f"#!/bin/sh\necho {set_clipboard}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


@posix("shell scripts stand in for the clipboard programs")
def test_inside_tmux_that_drops_osc52_a_copy_program_or_how_to_enable_it(tmp_path: Path) -> None:
    """tmux's default (`set-clipboard external`) drops an application's OSC 52: "copied" would be a lie."""
    folder = fake_tmux(tmp_path / "bin", "external")
    env = {"TMUX": "/tmp/tmux-0/default,1,0", "TERM": "tmux-256color", "PATH": str(folder)}
    term = terminal()
    said = copy(term, "text", "the last answer", env)
    assert term.out.getvalue() == "" and "set -g set-clipboard on" in said  # type: ignore[attr-defined]
    got = fake_program(folder, "xclip")
    assert copy(term, "text", "the last answer", {**env, "DISPLAY": ":0"}).endswith("(xclip)")
    assert got.read_text() == "text" and term.out.getvalue() == ""  # type: ignore[attr-defined]


@posix("shell scripts stand in for the clipboard programs")
def test_a_desktop_copy_program_when_the_terminal_is_unknown(tmp_path: Path) -> None:
    got = fake_program(tmp_path / "bin", "wl-copy")
    env = {"TERM": "xterm-256color", "WAYLAND_DISPLAY": "wayland-0", "PATH": str(tmp_path / "bin")}
    term = terminal()
    assert copy(term, "text ✓", "its last code block", env) == "copied its last code block, 6 characters (wl-copy)"
    assert got.read_text() == "text ✓" and term.out.getvalue() == ""  # type: ignore[attr-defined]


@posix("shell scripts stand in for the clipboard programs")
def test_a_text_too_long_for_osc52_goes_to_the_program(tmp_path: Path) -> None:
    got = fake_program(tmp_path / "bin", "xclip")
    env = {"TERM_PROGRAM": "WezTerm", "DISPLAY": ":0", "PATH": str(tmp_path / "bin")}
    text = "x" * (OSC52_LIMIT + 1)
    assert copy(terminal(), text, "the last answer", env).endswith("(xclip)")
    assert got.read_text() == text


def test_nowhere_to_copy_says_where_the_answer_is(tmp_path: Path) -> None:
    for env in ({"TERM": "xterm", "PATH": str(tmp_path)}, {"TERM_PROGRAM": "WezTerm", "KBCHAT_CLIPBOARD": "none"}):
        said = copy(terminal(), "text", "the last answer", env)
        assert said.startswith("no clipboard here") and "kbchat log show last" in said


@posix("shell scripts stand in for the clipboard programs")
def test_a_failing_program_is_said(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    failing = tmp_path / "bin" / "wl-copy"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    said = copy(terminal(), "t", "the last answer", {"WAYLAND_DISPLAY": "w", "PATH": str(tmp_path / "bin")})
    assert said.startswith("could not copy: wl-copy failed") and "kbchat log show last" in said


def test_osc52_needs_a_terminal_on_stdout(tmp_path: Path) -> None:
    term = terminal(tty=False)
    assert copy(term, "t", "x", {"TERM_PROGRAM": "WezTerm", "PATH": str(tmp_path)}).startswith("no clipboard")
    assert term.out.getvalue() == ""  # type: ignore[attr-defined]


def test_which_terminals_and_programs() -> None:
    assert takes_osc52({"TERM": "alacritty"}) and not takes_osc52({"TERM": "xterm-256color"})
    assert clipboard_command({"PATH": os.defpath}) is None or os.uname().sysname == "Darwin"


HOSTILE = "safe text\x1b[201~rm -rf ~\n\x1b]0;title\x07\x9b31m \u202eevil\ttab"


@posix("shell scripts stand in for the clipboard programs")
@pytest.mark.parametrize("env", [{"TERM_PROGRAM": "WezTerm"}, {"TERM": "xterm"}])
def test_what_is_copied_is_the_sanitised_text(tmp_path: Path, env: dict[str, str]) -> None:
    """No ESC (`ESC[201~` ends a bracketed paste early: paste-jacking), no C1, no bidi controls."""
    got = fake_program(tmp_path / "bin", "xclip")
    term = terminal()
    copy(term, HOSTILE, "the last answer", {**env, "DISPLAY": ":0", "PATH": str(tmp_path / "bin")})
    written = term.out.getvalue()  # type: ignore[attr-defined]
    copied = base64.b64decode(written[len("\x1b]52;c;") : -1]).decode() if written else got.read_text()
    assert copied == "safe text␛[201~rm -rf ~\n␛]0;title␇\ufffd31m <U+202E>evil\ttab"
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 for c in copied)


@posix("shell scripts stand in for the clipboard programs")
def test_the_osc52_limit_counts_bytes_not_characters(tmp_path: Path) -> None:
    got = fake_program(tmp_path / "bin", "xclip")
    env = {"TERM_PROGRAM": "WezTerm", "DISPLAY": ":0", "PATH": str(tmp_path / "bin")}
    text = "✓" * (OSC52_LIMIT // 3)  # fewer characters than the limit, four times as many base64 bytes
    term = terminal()
    assert copy(term, text, "the last answer", env).endswith("(xclip)")
    assert got.read_text() == text and term.out.getvalue() == ""  # type: ignore[attr-defined]
