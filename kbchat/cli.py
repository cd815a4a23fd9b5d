"""The entry point: `kbchat` on the command line.

Typer (and with it Click) takes ~100 ms to import, more than the rest of a question's
start-up. So `--version`, and an `ask` whose options are all plain and known, are
answered before it loads: `fast_ask` parses such a command line itself and hands it to
the same code Typer would (kbchat.commands.asking). Anything else, `--help` included,
goes to the Typer app, whose own usage errors are said the way kbchat says every error:
`kbchat: error: …`, exit 2.
"""

from __future__ import annotations

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
    if args[:1] == ["ask"] and (parsed := fast_ask(args[1:])) is not None:
        from kbchat.commands.asking import run_ask

        run_ask(**parsed)
        return
    sys.exit(run_typer(args, prog_name))


# --- the fast path -------------------------------------------------------------------------

FLAGS = {
    "--rich": "rich", "--plain": "plain", "--json": "json", "--no-markdown": "no_markdown",
    "--no-color": "no_color", "--no-stream": "no_stream", "--sources": "sources",
    "--verbose": "verbose", "-v": "verbose", "--debug": "debug",
}  # fmt: skip
VALUES = {
    "--base-url": "base_url", "--api-key": "api_key", "--tenant": "tenant", "-t": "tenant",
    "--filter": "filter", "--profile": "profile", "-p": "profile", "--timeout": "timeout",
    "--retries": "retries", "--output": "output", "-o": "output",
}  # fmt: skip
CONVERT: dict[str, Any] = {"timeout": float, "retries": int, "output": Path}


def fast_ask(args: list[str]) -> dict[str, Any] | None:
    """`ask`'s arguments as run_ask takes them, or None to leave the command line to Typer.

    Only what Typer would read the same way: known long and short options, `--opt=value`,
    repeated --filter, `--` and the question's words. A value that does not convert, an
    unknown option, a repeated single-valued one or --help: None, and Typer says what is wrong.
    """
    from kbchat.settings import ConnectionOptions

    words: list[str] = []
    flags: dict[str, bool] = {}
    values: dict[str, Any] = {}
    filters: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--":
            words.extend(items)
            break
        if arg == "-" or not arg.startswith("-"):
            words.append(arg)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in FLAGS and not eq:
            flags[FLAGS[name]] = True
            continue
        if name not in VALUES:
            return None
        if not eq:
            following = next(items, None)
            if following is None:
                return None
            value = following
        key = VALUES[name]
        if key == "filter":
            filters.append(value)
            continue
        if key in values:
            return None  # Typer keeps the last; rare enough to leave to it
        try:
            values[key] = CONVERT.get(key, str)(value)
        except ValueError:
            return None
    output = values.pop("output", None)
    connection = ConnectionOptions(**values, filters=tuple(filters))
    return {"words": words, "connection": connection, "output": output, **flags}


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
        where = f"; see {context.command_path} --help" if context is not None else ""
        message = err.format_message()
        error((message[:1].lower() + message[1:]).rstrip(".") + where)
        return int(err.exit_code)
    except typer.Abort:  # Ctrl-C or end of input at one of Click's own prompts
        return 130
    return code if isinstance(code, int) else 0


def typer_app() -> typer.Typer:
    """The app with every command (imported only now)."""
    from kbchat.commands.app import app

    return app
