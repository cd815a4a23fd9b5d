"""Copying to the clipboard, the way that works where kbchat runs.

OSC 52 on a terminal known to honour it (it reaches the machine at the keyboard, even
over ssh); else wl-copy, xclip or xsel in a desktop session, or pbcopy on a Mac; else
nothing, and the user is told where the text is. KBCHAT_CLIPBOARD=osc52|command|none
chooses instead.

What is copied is what the screen showed: the sanitised text. A raw ESC or `ESC[201~`
on the clipboard would end a shell's bracketed paste early and run the rest as typed
commands (paste-jacking), and bidi controls would reorder what the paste looks like.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping

from kbchat.safe import terminal_safe
from kbchat.terminal import Terminal

OSC52_LIMIT = 100_000  # bytes of base64; some terminals drop longer OSC 52 payloads without a word
OSC52_TERMINALS = ("xterm-kitty", "alacritty", "foot", "wezterm", "xterm-ghostty", "contour")
OSC52_PROGRAMS = ("iTerm.app", "WezTerm", "ghostty", "tmux")


def copy(term: Terminal, text: str, what: str, env: Mapping[str, str] = os.environ) -> str:
    """Put `text` on the clipboard; a sentence saying how (or why not), for the user."""
    text = terminal_safe(text)
    choice = env.get("KBCHAT_CLIPBOARD", "").lower()
    size = f"{what}, {len(text):,} characters"
    tmux_drops = choice == "" and bool(env.get("TMUX")) and tmux_clipboard(env) != "on"
    if tmux_drops and (command := clipboard_command(env)) is not None:
        return run_copy(command, text, size)
    if tmux_drops:
        return ("no clipboard here: tmux passes OSC 52 on only with `set -g set-clipboard on` in ~/.tmux.conf "
                "(kbchat log show last prints the answer)")  # fmt: skip
    if choice in ("", "osc52") and term.is_tty and (choice == "osc52" or takes_osc52(env)):
        payload = base64.b64encode(text.encode()).decode()
        if len(payload) <= OSC52_LIMIT:
            term.set_clipboard(payload)
            return f"copied {size} (OSC 52)"
    command = clipboard_command(env) if choice in ("", "command") else None
    if command is not None:
        return run_copy(command, text, size)
    return "no clipboard here (kbchat log show last prints the answer, /save FILE writes the chat)"


def run_copy(command: list[str], text: str, size: str) -> str:
    name = os.path.basename(command[0])
    try:
        subprocess.run(command, input=text.encode(), check=True, timeout=5, capture_output=True)
    except (OSError, subprocess.SubprocessError) as err:
        return f"could not copy: {name} failed ({err}); kbchat log show last has the answer"
    return f"copied {size} ({name})"


def tmux_clipboard(env: Mapping[str, str]) -> str:
    """tmux's `set-clipboard`: `on` passes an application's OSC 52 on; its default, `external`,
    drops it (the copy said "copied" and nothing arrived). "" when tmux cannot be asked."""
    tmux = shutil.which("tmux", path=env.get("PATH", os.defpath))
    if tmux is None:
        return ""
    try:
        done = subprocess.run([tmux, "show-options", "-gv", "set-clipboard"], capture_output=True, text=True,
                              timeout=2, env={**os.environ, **env})  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def takes_osc52(env: Mapping[str, str]) -> bool:
    """Whether the terminal is one known to honour OSC 52 clipboard writes."""
    term = env.get("TERM", "")
    return (
        term.startswith(OSC52_TERMINALS)
        or env.get("TERM_PROGRAM", "") in OSC52_PROGRAMS
        or bool(env.get("KITTY_WINDOW_ID") or env.get("WT_SESSION") or env.get("TMUX"))
    )


def clipboard_command(env: Mapping[str, str]) -> list[str] | None:
    """The clipboard program of this desktop session, if there is one."""
    candidates: list[list[str]] = []
    if sys.platform == "darwin":
        candidates.append(["pbcopy"])
    if env.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if env.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    path = env.get("PATH", os.defpath)
    for name, *args in candidates:
        found = shutil.which(name, path=path)
        if found:
            return [found, *args]
    return None
