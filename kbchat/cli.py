"""The command line: options, the renderer choice, and the one place errors become exits.

Heavy modules (requests, rich) are imported inside the commands that use them:
shell completion runs this program on every TAB.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from kbchat import __version__
from kbchat.config import ConnectionOptions, Settings, config_path, load_config, permission_warning, resolve
from kbchat.errors import Cancelled, KBChatError, UsageError, one_line
from kbchat.question import build_question, read_stdin, stdin_is_tty

app = typer.Typer(
    name="kbchat",
    help="Talk to your knowledge base from the terminal.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
config_app = typer.Typer(help="Read and write the config file.", rich_markup_mode=None, no_args_is_help=True)
app.add_typer(config_app, name="config")

CONN = "Connection"
OUT = "Output"

BaseURL = Annotated[
    str | None,
    typer.Option("--base-url", metavar="URL", help="API base URL [env KBCHAT_BASE_URL]", rich_help_panel=CONN),
]
APIKey = Annotated[
    str | None,
    typer.Option(
        "--api-key", metavar="KEY", help="API key, sent only as x-api-key [env KBCHAT_API_KEY]", rich_help_panel=CONN
    ),
]
Tenant = Annotated[
    str | None, typer.Option("--tenant", "-t", metavar="ID", help="tenant id [env KBCHAT_TENANT]", rich_help_panel=CONN)
]
FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter", metavar="KEY=VALUE", help="filter, repeatable; tag_ids/tag_names take lists", rich_help_panel=CONN
    ),
]
Profile = Annotated[
    str | None,
    typer.Option("--profile", "-p", metavar="NAME", help="config profile [env KBCHAT_PROFILE]", rich_help_panel=CONN),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="idle timeout of the stream, default 60 [env KBCHAT_TIMEOUT]",
        rich_help_panel=CONN,
    ),
]
Retries = Annotated[
    int | None,
    typer.Option("--retries", metavar="N", help="retries before any answer arrives, default 3", rich_help_panel=CONN),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="trace requests and skipped events on stderr")]
Debug = Annotated[bool, typer.Option("--debug", help="show a traceback for unexpected errors", hidden=True)]


def _version(value: bool) -> None:
    if value:
        print(f"kbchat {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool | None, typer.Option("--version", "-V", callback=_version, is_eager=True, help="show the version and exit")
    ] = None,
) -> None:
    """Talk to your knowledge base from the terminal.

    With no command and stdin not a terminal, the question is read from stdin
    (as `kbchat ask -`).
    """
    if ctx.invoked_subcommand is not None:
        return
    if not stdin_is_tty():
        ctx.invoke(ask, question=["-"])
        return
    print(ctx.get_help())


@app.command()
def ask(
    question: Annotated[
        list[str] | None,
        typer.Argument(metavar="QUESTION...", help="the question; - reads it from stdin", show_default=False),
    ] = None,
    base_url: BaseURL = None,
    api_key: APIKey = None,
    tenant: Tenant = None,
    filter: FilterOpt = None,
    profile: Profile = None,
    timeout: Timeout = None,
    retries: Retries = None,
    rich: Annotated[
        bool, typer.Option("--rich", help="render for a terminal (default when stdout is one)", rich_help_panel=OUT)
    ] = False,
    plain: Annotated[
        bool, typer.Option("--plain", help="the text as it arrives (default when piped)", rich_help_panel=OUT)
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="one JSON object per stream event", rich_help_panel=OUT)] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="also write the plain answer to FILE", rich_help_panel=OUT),
    ] = None,
    no_markdown: Annotated[
        bool, typer.Option("--no-markdown", help="show the text literally", rich_help_panel=OUT)
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="no colours (also NO_COLOR)", rich_help_panel=OUT)
    ] = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Ask one question; the answer streams in as it is written.

    Words are joined with spaces; with stdin piped in, its text follows the words
    after a blank line. Exit codes: 0 answered, 1 failed, 2 usage, 130 cancelled.
    """
    from kbchat.render import Mode, Terminal

    term = Terminal.from_std(no_color=no_color)
    with reported(debug):
        mode = _choose_mode(rich=rich, plain=plain, json=json)
        text = build_question(question or [], read_stdin(question or []))
        options = ConnectionOptions(base_url, api_key, tenant, tuple(filter or ()), profile, timeout, retries)
        settings = load_settings(options, term.err)
        settings.check_ready()
        from kbchat.ask import run_ask

        run_ask(text, settings, term, Mode(mode), output=output, verbose=verbose)


@config_app.command("show")
def config_show(profile: Profile = None) -> None:
    """Show the settings in effect and where each comes from (the key masked)."""
    from kbchat.config_edit import describe

    with reported(debug=False):
        settings = load_settings(ConnectionOptions(profile=profile), sys.stderr)
        print(f"# {config_path(os.environ)}")
        print("\n".join(describe(settings)))


@config_app.command("set")
def config_set(
    key: Annotated[
        str, typer.Argument(help="base_url, api_key, tenant, timeout, retries, default_profile, filters.KEY")
    ],
    value: Annotated[str, typer.Argument(help="the value; lists (filters.tag_names) are comma-separated")],
    profile: Profile = None,
) -> None:
    """Set KEY in a profile of the config file (written with mode 0600)."""
    from kbchat.config import save_config, select_profile
    from kbchat.config_edit import set_value

    with reported(debug=False):
        path = config_path(os.environ)
        config = load_config(path)
        name = profile or os.environ.get("KBCHAT_PROFILE") or str(config.get("default_profile") or "default")
        save_config(path, set_value(config, name, key, value))
        select_profile(name, {}, load_config(path))  # the file we wrote reads back
        shown = "****" if key == "api_key" else value
        print(f"{key} = {shown}  (profile {name}, {path})", file=sys.stderr)


@config_app.command("unset")
def config_unset(key: Annotated[str, typer.Argument(help="the key to remove")], profile: Profile = None) -> None:
    """Remove KEY from a profile of the config file."""
    from kbchat.config import save_config
    from kbchat.config_edit import unset_value

    with reported(debug=False):
        path = config_path(os.environ)
        config = load_config(path)
        name = profile or os.environ.get("KBCHAT_PROFILE") or str(config.get("default_profile") or "default")
        save_config(path, unset_value(config, name, key))


@config_app.command("path")
def config_path_cmd() -> None:
    """Print the config file's path ($KBCHAT_CONFIG or the platform config dir)."""
    print(config_path(os.environ))


def load_settings(options: ConnectionOptions, err: object) -> Settings:
    """Settings from the command line, the environment and the config file."""
    path = config_path(os.environ)
    config = load_config(path)
    warning = permission_warning(path, config)
    if warning:
        print(f"kbchat: {warning}", file=err)  # type: ignore[call-overload]
    return resolve(options, os.environ, config)


def _choose_mode(rich: bool, plain: bool, json: bool) -> str:
    chosen = [name for name, flag in (("rich", rich), ("plain", plain), ("json", json)) if flag]
    if len(chosen) > 1:
        raise UsageError(f"choose one output mode, not {' and '.join('--' + c for c in chosen)}")
    return chosen[0] if chosen else "auto"


@contextlib.contextmanager
def reported(debug: bool) -> Iterator[None]:
    """Turn every way a command can end into one stderr line and an exit code."""
    try:
        yield
    except (KeyboardInterrupt, Cancelled) as err:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave a traceback
        if not getattr(err, "shown_on_screen", False):
            with contextlib.suppress(OSError, ValueError):
                print("kbchat: cancelled", file=sys.stderr, flush=True)
        raise typer.Exit(Cancelled.exit_code) from None
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(141) from None
    except KBChatError as err:
        _error(str(err))
        raise typer.Exit(err.exit_code) from None
    except typer.Exit:
        raise
    except Exception as err:
        if debug:
            raise
        _error(f"unexpected {type(err).__name__}: {err} (run with --debug for a traceback)")
        raise typer.Exit(1) from None


def _error(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"kbchat: error: {one_line(message)}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """The reader went away: point stdout at /dev/null so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(prog_name: str | None = "kbchat") -> None:
    """Console-script entry point."""
    app(prog_name=prog_name)
