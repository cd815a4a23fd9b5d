"""Typer's view of the declared options: `@with_options("ask")` writes them into a command's signature.

The command keeps its own arguments (a question's words); the decorator adds each option
of the groups kbchat.command_options names for it, as Typer would read it from a hand-written
signature, and hands the command one object per group (`connection=`, `options=`, …) and
the terminal kbchat.cli made (`term=`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from typer.models import ArgumentInfo

from kbchat.command_options import takes
from kbchat.declared import Declared, build_all, default_of

F = TypeVar("F", bound=Callable[..., Any])
INJECTED = frozenset({"term"})


def with_options(command_name: str) -> Callable[[F], F]:
    """Give a command the options `command_name` takes; it receives them grouped, and `term`."""
    groups = takes(command_name)

    def decorate(command: F) -> F:
        keywords = {group.keyword for group in groups} | INJECTED
        own = [p.replace(annotation=evaluated(command, p.annotation))
               for p in inspect.signature(command).parameters.values() if p.name not in keywords]  # fmt: skip
        added, common = ([inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=typer_annotation(d),
                                            default=False if d.is_flag else None if d.repeat
                                            else default_of(group.options, name))
                          for group in groups if (group.keyword == "common") is last for name, d in group.items()]
                         for last in (False, True))  # fmt: skip
        wants_context = any(p.name == "ctx" for p in own)
        context = [] if wants_context else [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY,
                                                              annotation=typer.Context)]  # fmt: skip

        @functools.wraps(command)
        def wrapper(*args: Any, ctx: typer.Context, **given: Any) -> Any:
            own_values = {p.name: given.pop(p.name) for p in own if p.name in given}
            if wants_context:
                own_values["ctx"] = ctx
            return command(*args, term=terminal_of(ctx), **build_all(groups, given), **own_values)

        arguments = [p for p in own if _is_argument(p)]  # --help: these, the groups' options, its own, the common
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p not in arguments]
        positional = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in arguments]
        parameters = [*positional, *added, *rest, *common, *context]
        wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        del wrapper.__wrapped__  # Typer reads __signature__, not the command's own
        return wrapper  # type: ignore[return-value]

    return decorate


def _is_argument(parameter: inspect.Parameter) -> bool:
    metadata = getattr(parameter.annotation, "__metadata__", ())
    return parameter.default is inspect.Parameter.empty or any(isinstance(m, ArgumentInfo) for m in metadata)


def evaluated(command: Callable[..., Any], annotation: Any) -> Any:
    """A parameter's annotation as Typer must see it (a string under `from __future__ import annotations`).

    Only the command's own parameters: what it is handed (`term`, the groups) may be imported
    for type checking only.
    """
    return eval(annotation, command.__globals__) if isinstance(annotation, str) else annotation


def typer_annotation(declared: Declared) -> Any:
    """The `Annotated[type, typer.Option(...)]` a hand-written signature would hold."""
    more: dict[str, Any] = {"help": declared.help, "hidden": declared.hidden}
    if declared.panel:
        more["rich_help_panel"] = declared.panel
    if declared.is_flag:
        return Annotated[bool, typer.Option(*declared.flags, **more)]
    if declared.minimum is not None:
        more["min"] = declared.minimum
    if declared.envvar:
        more["envvar"] = declared.envvar
    kind: Any = list[str] if declared.repeat else declared.kind
    return Annotated[kind | None, typer.Option(*declared.flags, metavar=declared.metavar, **more)]


def terminal_of(ctx: typer.Context) -> Any:
    """The Terminal kbchat.cli made for this run (one of its own when Typer was run directly)."""
    root = ctx.find_root()
    if root.obj is None:
        from kbchat.terminal import Terminal

        root.obj = Terminal.from_std()
    return root.obj


QuestionWords = Annotated[
    list[str] | None,
    typer.Argument(metavar="QUESTION...", help="the question; - reads it from stdin", show_default=False),
]
