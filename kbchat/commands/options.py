"""The options commands share, each declared once; the connection options added by a decorator.

`@with_connection` gives a command `--base-url`, `--api-key`, `--tenant`, `--filter`,
`--profile`, `--timeout` and `--retries`, and hands it one ConnectionOptions; Typer sees
them in the command's signature as if written there.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_type_hints

import typer
from typer.models import ArgumentInfo

from kbchat.settings import ConnectionOptions

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
        help="seconds to wait for the server, and between the bytes of a stream; default 60 [env KBCHAT_TIMEOUT]",
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
NoLog = Annotated[bool, typer.Option("--no-log", help="keep this out of the answer log [env KBCHAT_NO_LOG=1]")]
Code = Annotated[
    bool, typer.Option("--code", help="only the code blocks of the answer (exit 1 if none)", rich_help_panel=OUT)
]
Follow = Annotated[
    bool, typer.Option("--continue", "-c", help="a follow-up of the last logged exchange: its question goes along")
]
FollowID = Annotated[
    str | None, typer.Option("--cid", metavar="ID", help="a follow-up of logged exchange ID (kbchat log lists them)")
]
Debug = Annotated[bool, typer.Option("--debug", help="show a traceback for unexpected errors", hidden=True)]

CONNECTION_OPTIONS: dict[str, Any] = {
    "base_url": BaseURL,
    "api_key": APIKey,
    "tenant": Tenant,
    "filter": FilterOpt,
    "profile": Profile,
    "timeout": Timeout,
    "retries": Retries,
}

F = TypeVar("F", bound=Callable[..., Any])


def with_connection(command: F) -> F:
    """Give a command the connection options; it receives them as `connection: ConnectionOptions`.

    The options follow the command's own arguments in its signature (and so in --help).
    """
    hints = get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints[p.name]) for p in inspect.signature(command).parameters.values()]
    own = [p for p in own if p.name != "connection"]
    arguments = [p for p in own if _is_argument(p)]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
             for name, kind in CONNECTION_OPTIONS.items()]  # fmt: skip
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p not in arguments]
    positional = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in arguments]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name, None) for name in CONNECTION_OPTIONS}
        connection = ConnectionOptions(
            base_url=given["base_url"],
            api_key=given["api_key"],
            tenant=given["tenant"],
            filters=tuple(given["filter"] or ()),
            profile=given["profile"],
            timeout=given["timeout"],
            retries=given["retries"],
        )
        return command(*args, connection=connection, **kwargs)

    parameters = [*positional, *added, *rest]
    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__  # Typer reads __signature__, not the command's own
    return wrapper  # type: ignore[return-value]


def _is_argument(parameter: inspect.Parameter) -> bool:
    metadata = getattr(parameter.annotation, "__metadata__", ())
    return parameter.default is inspect.Parameter.empty or any(isinstance(m, ArgumentInfo) for m in metadata)
