"""The entry point: `kbchat` on the command line.

Typer (and with it Click) takes ~100 ms to import, more than the rest of a question's
start-up. So `--version`, and an `ask`, `chat` or `log` whose options are all plain and
known, are answered before it loads: `fast_parse` reads such a command line itself and
hands it to the same code Typer would (kbchat.commands.asking, kbchat.commands.logbook).
Anything else, `--help` included, goes to the Typer app, whose own usage errors are said
the way kbchat says every error: `kbchat: error: …`, exit 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


def main(prog_name: str = "kbchat", argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from kbchat import __version__

        print(f"kbchat {__version__}")
        return
    command, rest = (args[0], args[1:]) if args else (_bare(), [])
    completing = "_KBCHAT_COMPLETE" in os.environ  # Typer's dynamic shell completion: its own business
    if command in FAST and not completing and (parsed := fast_parse(command, rest)) is not None:
        import importlib

        module, function = FAST[command]
        getattr(importlib.import_module(f"kbchat.commands.{module}"), function)(**parsed)
        return
    sys.exit(run_typer(args, prog_name))


def _bare() -> str:
    """What bare `kbchat` is: the chat on a terminal, else a question read from stdin."""
    from kbchat.terminal import isatty

    return "chat" if isatty(sys.stdin) else "ask -"


# --- the fast path -------------------------------------------------------------------------

FAST = {  # → kbchat.commands.<module>.<function>
    "ask": ("asking", "ask_command"), "ask -": ("asking", "ask_command"), "chat": ("asking", "chat_command"),
    "log": ("logbook", "list_command"),
}  # fmt: skip
FLAGS = {
    "--rich": "rich", "--plain": "plain", "--json": "json", "--no-markdown": "no_markdown",
    "--no-color": "no_color", "--no-stream": "no_stream", "--sources": "sources",
    "--verbose": "verbose", "-v": "verbose", "--debug": "debug", "--no-log": "no_log", "--code": "code",
    "--continue": "follow", "-c": "follow", "--no-pager": "no_pager",
}  # fmt: skip
VALUES = {
    "--base-url": "base_url", "--api-key": "api_key", "--tenant": "tenant", "-t": "tenant",
    "--filter": "filter", "--profile": "profile", "-p": "profile", "--timeout": "timeout",
    "--retries": "retries", "--output": "output", "-o": "output", "--cid": "cid",
    "--count": "count", "-n": "count", "--query": "query", "-q": "query",
}  # fmt: skip
CONVERT: dict[str, Any] = {"timeout": float, "retries": int, "output": Path, "count": int}
CONNECTION = {"base_url", "api_key", "tenant", "filter", "profile", "timeout", "retries"}
ALLOWED = {  # what each fast command takes; anything else goes to Typer
    "ask": {*FLAGS.values(), *VALUES.values(), "words"} - {"no_pager", "count", "query"},
    "chat": {"no_markdown", "no_color", "verbose", "debug", "no_log", *CONNECTION},
    "log": {"count", "query", "tenant", "json", "no_pager", "no_color"},  # the list; its subcommands go to Typer
}


def fast_parse(command: str, args: list[str]) -> dict[str, Any] | None:
    """The arguments of `ask`, `chat` or `log` as their functions take them, or None to leave them to Typer.

    Only what Typer would read the same way: known long and short options, `--opt=value`,
    repeated --filter, `--` and a question's words. A value that does not convert, an option
    the command does not take, a repeated single-valued one or --help: None, and Typer says
    what is wrong.
    """
    if command == "ask -":  # bare `kbchat` with stdin piped
        command, args = ("ask", ["-"]) if not args else ("", args)
    allowed = ALLOWED.get(command, set())
    words: list[str] = []
    flags: dict[str, bool] = {}
    values: dict[str, Any] = {}
    filters: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--" or arg == "-" or not arg.startswith("-"):
            if "words" not in allowed:
                return None
            words.extend(items) if arg == "--" else words.append(arg)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        key = FLAGS.get(name) if not eq else None
        if key is not None:
            if key not in allowed:
                return None
            flags[key] = True
            continue
        key = VALUES.get(name)
        if key is None or key not in allowed:
            return None
        if not eq:
            following = next(items, None)
            if following is None:
                return None
            value = following
        if key == "filter":
            filters.append(value)
            continue
        if key in values:
            return None  # Typer keeps the last; rare enough to leave to it
        try:
            values[key] = CONVERT.get(key, str)(value)
        except ValueError:
            return None
    if command == "log":
        return None if values.get("count", 0) < 0 else {**flags, **values}
    from kbchat.settings import ConnectionOptions

    output, cid = values.pop("output", None), values.pop("cid", None)
    parsed: dict[str, Any] = {"connection": ConnectionOptions(**values, filters=tuple(filters)), **flags}
    if command == "ask":
        parsed.update(words=words, output=output, cid=cid)
    return parsed


# --- everything else: Typer ----------------------------------------------------------------


def run_typer(args: list[str], prog_name: str) -> int:
    """The Typer app on these arguments; its exit code, usage errors said as kbchat says errors."""
    import typer

    usage = sys.modules[typer.BadParameter.__module__]  # Typer's own copy of click's exceptions
    try:
        code = typer.main.get_command(typer_app()).main(args=args, prog_name=prog_name, standalone_mode=False)
    except usage.NoArgsIsHelpError as err:  # `kbchat config` alone: its help
        err.show()
        return int(err.exit_code)
    except usage.ClickException as err:
        from kbchat.commands.reporting import error

        context = getattr(err, "ctx", None)
        where = f" (see {context.command_path} --help)" if context is not None else ""
        message = err.format_message()
        error((message[:1].lower() + message[1:]).rstrip(".") + where)
        return int(err.exit_code)
    except typer.Abort:  # Ctrl-C or end of input at one of Click's own prompts
        return 130
    return code if isinstance(code, int) else 0


def typer_app() -> typer.Typer:
    """The app with every command (imported only now)."""
    from kbchat.commands.typer_app import app

    return app
