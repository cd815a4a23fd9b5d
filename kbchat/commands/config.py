"""`kbchat config show|set|unset|path`."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from kbchat.commands.options import with_options
from kbchat.settings import ConnectionOptions
from kbchat.terminal import Terminal

config_app = typer.Typer(help="Read and write the config file.", rich_markup_mode=None, no_args_is_help=True)


@config_app.command("show", short_help="The settings in effect, and where each comes from.")
@with_options("config")
def config_show(*, term: Terminal, connection: ConnectionOptions) -> None:
    """Show the settings in effect and where each comes from (the key masked)."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import config_path, describe, load_settings
    from kbchat.safe import one_line

    with reported(term):
        settings = load_settings(connection, term)
        print(f"# {one_line(str(config_path(os.environ)))}", file=term.out)
        print("\n".join(describe(settings)), file=term.out)


@config_app.command("set", short_help="Set KEY in a profile (the key asked for unseen).")
@with_options("config")
def config_set(
    key: Annotated[
        str, typer.Argument(help="base_url, api_key, tenant, timeout, retries, default_profile, filters.KEY")
    ],
    value: Annotated[
        str | None,
        typer.Argument(
            help="the value; lists (filters.tag_names) are comma-separated; "
            "leave it out for api_key to type the key unseen (or pipe it in)",
            show_default=False,
        ),
    ] = None,
    *,
    term: Terminal,
    connection: ConnectionOptions,
) -> None:
    """Set KEY in a profile of the config file (written with mode 0600).

    `kbchat config set api_key` asks for the key with echo off, so it stays out of
    your shell history; with stdin piped, it reads the key from its first line.
    """
    from kbchat.commands.reporting import reported
    from kbchat.config_file import config_path, load_config, save_config, set_value
    from kbchat.safe import display_url, one_line

    with reported(term):
        if value is None:
            value = _read_secret(key)
        path = config_path(os.environ)
        config = load_config(path)
        name = _profile_name(connection.profile, config)
        save_config(path, set_value(config, name, key, value))
        shown = "****" if key == "api_key" else display_url(value) if key == "base_url" else value
        term.say(one_line(f"{key} = {shown}  (profile {name}, {path})"))


@config_app.command("unset", short_help="Remove KEY from a profile.")
@with_options("config")
def config_unset(
    key: Annotated[str, typer.Argument(help="the key to remove")], *, term: Terminal, connection: ConnectionOptions
) -> None:
    """Remove KEY from a profile of the config file."""
    from kbchat.commands.reporting import reported
    from kbchat.config_file import config_path, load_config, save_config, unset_value

    with reported(term):
        path = config_path(os.environ)
        config = load_config(path)
        save_config(path, unset_value(config, _profile_name(connection.profile, config), key))


@config_app.command("path", short_help="Print the config file's path.")
def config_path_cmd() -> None:
    """Print the config file's path ($KBCHAT_CONFIG or the platform config dir)."""
    import sys

    from kbchat.config_file import config_path
    from kbchat.terminal import print_path

    print_path(config_path(os.environ), sys.stdout)


def _read_secret(key: str) -> str:
    """The API key typed with echo off on a terminal, else the first line of stdin."""
    from kbchat.errors import UsageError
    from kbchat.terminal import isatty

    if key != "api_key":
        raise UsageError(f"no value: kbchat config set {key} VALUE")
    if isatty(sys.stdin):
        import getpass

        value = getpass.getpass("API key (typing is not shown): ")
    else:
        value = sys.stdin.readline()
    if not value.strip():
        raise UsageError("no API key given: type or paste it at the prompt, or pipe it in")
    return value.strip()


def _profile_name(option: str | None, config: dict[str, Any]) -> str:
    """The profile an edit goes to: -p, else KBCHAT_PROFILE, else default_profile, else default."""
    return option or os.environ.get("KBCHAT_PROFILE") or str(config.get("default_profile") or "default")
