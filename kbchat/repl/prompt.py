"""The interactive prompt: prompt_toolkit line editing, history, completion, multi-line input."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from kbchat.errors import UsageError
from kbchat.repl.session import COMMANDS, TOGGLES
from kbchat.wire import FILTER_KEYS


class KeylessHistory(FileHistory):
    """Persistent history that never writes down a line holding the API key."""

    def __init__(self, path: Path, secret: str | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        super().__init__(str(path))
        self.secret = secret

    def store_string(self, string: str) -> None:
        if self.secret and self.secret in string:
            return
        super().store_string(string)


class SlashCompleter(Completer):
    """Completes /commands, then filter keys after /filter and on|off after /markdown, /context and the like."""

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return
        name, space, arg = text[1:].partition(" ")
        if not space:
            for command in COMMANDS:
                if command.startswith(name.lower()):
                    yield Completion("/" + command, start_position=-len(text), display_meta=COMMANDS[command])
            return
        choices: list[str] = []
        if name == "filter":
            choices = [f"{key}=" for key in FILTER_KEYS] + [f"-{key}" for key in FILTER_KEYS]
        elif name in TOGGLES or name == "context":
            choices = ["on", "off"]
        for choice in choices:
            if choice.startswith(arg) and "=" not in arg:
                yield Completion(choice, start_position=-len(arg))


def key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        """Alt-Enter (or Esc then Enter) starts a new line."""
        event.current_buffer.insert_text("\n")

    @bindings.add("enter")
    def _submit(event: KeyPressEvent) -> None:
        """Enter sends, unless the line ends with a backslash: then it continues."""
        buffer = event.current_buffer
        if buffer.document.is_cursor_at_the_end and buffer.text.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    return bindings


def prompt_reader(
    label: Callable[[], str], history: Path, secret: str | None, warn: Callable[[str], None]
) -> Callable[[], str]:
    """A function that shows the prompt and returns the next input (raises EOFError on Ctrl-D)."""
    kept: History
    try:
        kept = KeylessHistory(history, secret)
    except OSError as err:
        warn(f"history is kept for this session only: cannot write {history}: {err.strerror or err}")
        kept = InMemoryHistory()
    session: PromptSession[str] = PromptSession(
        history=kept,
        enable_open_in_editor=True,  # Ctrl-X Ctrl-E: the line in $EDITOR
        completer=SlashCompleter(),
        complete_while_typing=False,
        key_bindings=key_bindings(),
        prompt_continuation=lambda width, line, wrapped: "." * (width - 1) + " ",
    )

    def read() -> str:
        return session.prompt([("bold", label()), ("", "> ")])

    return read


def history_path() -> Path:
    """The history file in the platform's user state dir."""
    from kbchat.places import user_folder

    return user_folder("state") / "history"


def edit_in_editor() -> str:
    """The text of a question written in $VISUAL or $EDITOR (else nano or vi); "" if none ran."""
    import shlex
    import shutil
    import subprocess
    import tempfile

    from kbchat.terminal import ordinary_keyboard

    variable = "VISUAL" if os.environ.get("VISUAL") else "EDITOR"
    command = os.environ.get(variable)
    try:
        editor = shlex.split(command) if command else [next((e for e in ("nano", "vi") if shutil.which(e)), "vi")]
    except ValueError as err:  # "No closing quotation"
        raise UsageError(f"${variable} is not a command line ({err}): {command}") from None
    if not editor:
        raise UsageError(f"${variable} names no editor")
    with tempfile.TemporaryDirectory(prefix="kbchat-") as folder:
        path = Path(folder) / "question.md"
        path.write_text("", encoding="utf-8")
        try:
            with ordinary_keyboard():
                subprocess.run([*editor, str(path)], check=False)
        except OSError as err:
            raise UsageError(f"cannot run the editor {editor[0]} (${variable}): {err.strerror or err}") from None
        return path.read_text(encoding="utf-8", errors="replace")
