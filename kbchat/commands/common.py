"""What the commands share: option types, settings loading, and turning errors into exits."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from kbchat.config import ConnectionOptions, Settings, config_path, load_config, permission_warning, resolve
from kbchat.errors import Cancelled, KBChatError, UsageError
from kbchat.safe import one_line

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
Question = Annotated[
    list[str] | None,
    typer.Argument(metavar="QUESTION...", help="the question; - reads it from stdin", show_default=False),
]
Rich = Annotated[
    bool, typer.Option("--rich", help="render for a terminal (default when stdout is one)", rich_help_panel=OUT)
]
Plain = Annotated[
    bool, typer.Option("--plain", help="the text as it arrives (default when piped)", rich_help_panel=OUT)
]
JSON = Annotated[bool, typer.Option("--json", help="one JSON object per stream event", rich_help_panel=OUT)]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="FILE", help="also write the plain answer to FILE", rich_help_panel=OUT),
]
NoMarkdown = Annotated[bool, typer.Option("--no-markdown", help="show the text literally", rich_help_panel=OUT)]
NoColor = Annotated[bool, typer.Option("--no-color", help="no colours (also NO_COLOR)", rich_help_panel=OUT)]
NoStream = Annotated[
    bool,
    typer.Option(
        "--no-stream", help="ask /v1/kb/chat: the whole answer at once, with its sources", rich_help_panel=OUT
    ),
]
Sources = Annotated[
    bool,
    typer.Option("--sources", help="also list the closest passages (a search beside the answer)", rich_help_panel=OUT),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="trace requests and skipped events on stderr")]
Debug = Annotated[bool, typer.Option("--debug", help="show a traceback for unexpected errors", hidden=True)]


def ready_settings(
    err: TextIO,
    base_url: str | None,
    api_key: str | None,
    tenant: str | None,
    filters: list[str] | None,
    profile: str | None,
    timeout: float | None,
    retries: int | None,
) -> Settings:
    """The connection options of a command, resolved and checked before anything is sent."""
    options = ConnectionOptions(base_url, api_key, tenant, tuple(filters or ()), profile, timeout, retries)
    settings = load_settings(options, err)
    settings.check_ready()
    return settings


def load_settings(options: ConnectionOptions, err: TextIO) -> Settings:
    """Settings from the command line, the environment and the config file."""
    path = config_path(os.environ)
    config = load_config(path)
    warning = permission_warning(path, config)
    if warning:
        print(f"kbchat: {warning}", file=err)
    settings = resolve(options, os.environ, config)
    keep_secrets(settings)
    return settings


def keep_secrets(settings: Settings) -> None:
    """The key and a password in the base URL are masked in every diagnostic from now on."""
    from urllib.parse import unquote, urlsplit

    from kbchat.safe import keep_secret

    keep_secret(settings.api_key)
    password = urlsplit(settings.base_url).password
    keep_secret(password)
    keep_secret(unquote(password or ""))


def choose_mode(rich: bool, plain: bool, json: bool) -> str:
    chosen = [name for name, flag in (("rich", rich), ("plain", plain), ("json", json)) if flag]
    if len(chosen) > 1:
        raise UsageError(f"choose one output mode, not {' and '.join('--' + c for c in chosen)}")
    return chosen[0] if chosen else "auto"


@contextlib.contextmanager
def reported(debug: bool = False) -> Iterator[None]:
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
        error(str(err))
        raise typer.Exit(err.exit_code) from None
    except typer.Exit:
        raise
    except Exception as err:
        if debug:
            raise
        error(f"unexpected {type(err).__name__}: {err} (run with --debug for a traceback)")
        raise typer.Exit(1) from None


def error(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"kbchat: error: {one_line(message)}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """The reader went away: point stdout at /dev/null so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
