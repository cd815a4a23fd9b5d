"""Command-line options declared once, on the fields of the dataclasses commands receive.

    @dataclass(frozen=True)
    class AskOptions:
        sources: bool = option(False, "--sources", help="also list the closest passages")

Every reader takes the option from that one declaration: kbchat.cli's fast path (which
parses `ask`, `chat` and `log` before Typer loads), the Typer declarations
(commands/options.with_options builds the signature Typer reads), and the chat's
`/NAME on|off` toggles. A command names the groups it takes in kbchat.command_options.
Pure, and cheap to import: the fast path reads it on every question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import field, fields
from typing import Any, NamedTuple

_KEY = "kbchat.option"  # where a field's metadata holds its Declared


class Declared(NamedTuple):
    """One option: its flags, its help, and what it makes of the field it sets.

    (Tuples, not dataclasses: the fast path builds these on every question, and a tuple
    class costs a fifth as much to make.)
    """

    flags: tuple[str, ...]  # "--tenant", "-t"
    help: str
    kind: Callable[[str], Any] | None = None  # None: a flag; str, int, float, Path: takes a value
    sets: Any = True  # what a flag makes the field: False for --no-markdown
    repeat: bool = False  # --filter: given again, adds to a tuple
    metavar: str = ""
    panel: str = ""  # its section of --help
    hidden: bool = False
    minimum: int | None = None
    envvar: str = ""  # Typer reads the value from it when the option is not given
    toggle: str = ""  # also the chat's `/NAME on|off`: what "on" does

    @property
    def is_flag(self) -> bool:
        return self.kind is None


def option(default: Any, *flags: str, help: str, **more: Any) -> Any:
    """A dataclass field that is also a command-line option."""
    return field(default=default, metadata={_KEY: Declared(tuple(flags), help, **more)})


def declarations(options: type) -> dict[str, Declared]:
    """A dataclass's declared fields, in order: name → Declared."""
    return {f.name: f.metadata[_KEY] for f in fields(options) if _KEY in f.metadata}


def default_of(options: type, name: str) -> Any:
    return next(f.default for f in fields(options) if f.name == name)


class Group(NamedTuple):
    """Options a command receives as one object: `keyword=options(...)`; `only` some of its fields."""

    keyword: str
    options: type
    only: frozenset[str] | None = None

    def items(self) -> list[tuple[str, Declared]]:
        return [(name, d) for name, d in declarations(self.options).items() if self.only is None or name in self.only]

    def build(self, given: dict[str, Any]) -> Any:
        """The options object from what was given (field name → the value as typed, or True for a flag)."""
        values = {}
        for name, declared in self.items():
            value = given.get(name)
            if value is None or value is False or value == []:
                continue
            if declared.is_flag:
                values[name] = declared.sets
            elif declared.repeat:
                values[name] = tuple(value)
            else:
                values[name] = value
        return self.options(**values)


def build_all(groups: Iterable[Group], given: dict[str, Any]) -> dict[str, Any]:
    """keyword → options object, for each group a command takes."""
    return {group.keyword: group.build(given) for group in groups}
