"""The entry point: `kbchat` on the command line.

Typer (and with it Click) takes ~100 ms to import, more than the rest of a question's
start-up. So `--version`, and an `ask`, `chat` or `log` whose options are all plain and
known, are answered before it loads: `fast_parse` reads such a command line itself and
hands it to the same code Typer would (kbchat.commands.asking, kbchat.commands.logbook).
Anything else, `--help` included, goes to the Typer app, whose own usage errors are said
the way kbchat says every error: `kbchat: error: …`, exit 2.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from kbchat.errors import ExitCode

if TYPE_CHECKING:
    import typer

    from kbchat.terminal import Terminal


def run() -> NoReturn:
    """The `kbchat` script and `python -m kbchat`: main(), then the process ends at once.

    Python's own shutdown tears every module down (~30 ms after a long answer) and does
    nothing kbchat needs: by then every file is closed, the terminal put back and the log
    written. So the output streams are flushed and the process leaves with os._exit.
    An exception other than SystemExit still ends the ordinary way, with its traceback.
    """
    try:
        main()
        code: object = 0
    except SystemExit as exit:
        code = exit.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader that left, or a stream closed: nothing to say
            stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def main(prog_name: str = "kbchat", argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from kbchat import __version__

        print(f"kbchat {__version__}")
        return
    from kbchat.terminal import Terminal

    term = Terminal.from_std()  # the one terminal of this run: every command writes through it
    command, rest = (args[0], args[1:]) if args else (_bare(term), [])
    completing = "_KBCHAT_COMPLETE" in os.environ  # Typer's dynamic shell completion: its own business
    if command in FAST and not completing and (parsed := fast_parse(command, rest)) is not None:
        import importlib

        module, function = FAST[command]
        getattr(importlib.import_module(f"kbchat.commands.{module}"), function)(term, **parsed)
        return
    sys.exit(run_typer(args, prog_name, term))


def _bare(term: Terminal) -> str:
    """What bare `kbchat` is: the chat on a terminal, else a question read from stdin."""
    return "chat" if term.stdin_is_tty else "ask -"


# --- the fast path -------------------------------------------------------------------------

FAST = {  # → kbchat.commands.<module>.<function>
    "ask": ("asking", "ask_command"), "ask -": ("asking", "ask_command"), "chat": ("asking", "chat_command"),
    "log": ("logbook", "list_command"),
}  # fmt: skip
WORDS = {"ask"}  # the commands that take a question's words


def fast_parse(command: str, args: list[str]) -> dict[str, Any] | None:
    """The arguments of `ask`, `chat` or `log` as their functions take them, or None to leave them to Typer.

    The options are those kbchat.command_options says the command takes, read from their
    declarations. Only what Typer would read the same way: known long and short options,
    `--opt=value`, repeated --filter, `--` and a question's words. A value that does not
    convert, an option the command does not take, a repeated single-valued one or --help:
    None, and Typer says what is wrong.
    """
    from kbchat.command_options import takes
    from kbchat.declared import build_all

    if command == "ask -":  # bare `kbchat` with stdin piped
        command, args = ("ask", ["-"]) if not args else ("", args)
    groups = takes(command) if command in FAST else ()
    if not groups:
        return None
    known = {flag: (name, declared) for group in groups for name, declared in group.items() for flag in declared.flags}
    words: list[str] = []
    given: dict[str, Any] = {}
    items = iter(args)
    for arg in items:
        if arg == "--" or arg == "-" or not arg.startswith("-"):
            if command not in WORDS:
                return None
            words.extend(items) if arg == "--" else words.append(arg)
            continue
        flag, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if flag not in known:
            return None
        name, declared = known[flag]
        if declared.kind is None:
            if eq:
                return None
            given[name] = True
            continue
        if not eq:
            following = next(items, None)
            if following is None:
                return None
            value = following
        try:
            converted = declared.kind(value)
        except ValueError:
            return None
        if declared.minimum is not None and converted < declared.minimum:
            return None
        if declared.repeat:
            given.setdefault(name, []).append(converted)
        elif name in given:
            return None  # Typer keeps the last; rare enough to leave to it
        else:
            given[name] = converted
    parsed = build_all(groups, given)
    return {**parsed, "words": words} if command in WORDS else parsed


# --- everything else: Typer ----------------------------------------------------------------


def run_typer(args: list[str], prog_name: str, term: Terminal) -> int:
    """The Typer app on these arguments (the terminal its commands write through); its exit code,
    usage errors said as kbchat says errors."""
    import typer

    usage = sys.modules[typer.BadParameter.__module__]  # Typer's own copy of click's exceptions
    try:
        command = typer.main.get_command(typer_app())
        code = command.main(args=args, prog_name=prog_name, standalone_mode=False, obj=term)
    except usage.NoArgsIsHelpError as err:  # `kbchat config` alone: its help
        err.show()
        return int(err.exit_code)
    except usage.ClickException as err:
        context = getattr(err, "ctx", None)
        where = f" (see {context.command_path} --help)" if context is not None else ""
        message = err.format_message()
        if isinstance(err, usage.NoSuchOption):
            message = f"no such option: {err.option_name}{closest(err.option_name, err.possibilities or [])}"
        term.error((message[:1].lower() + message[1:]).rstrip(".") + where)
        return int(err.exit_code)
    except typer.Abort:  # Ctrl-C or end of input at one of Click's own prompts
        return ExitCode.CANCELLED
    return code if isinstance(code, int) else 0


def closest(name: str, options: list[str]) -> str:
    """`; did you mean --sources?` for `--sorces`; nothing for `--bogus`, whose nearest (Click's
    `--verbose`) is no help."""
    import difflib

    near = difflib.get_close_matches(name, options, n=1, cutoff=0.8)
    return f"; did you mean {near[0]}?" if near else ""


def typer_app() -> typer.Typer:
    """The app with every command (imported only now)."""
    from kbchat.commands.typer_app import app

    return app
