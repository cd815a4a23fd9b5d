"""`kbchat config show|set|unset|path`."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from kbchat.commands.common import Profile, load_settings, reported
from kbchat.config import ConnectionOptions, config_path, load_config

config_app = typer.Typer(help="Read and write the config file.", rich_markup_mode=None, no_args_is_help=True)


@config_app.command("show")
def config_show(profile: Profile = None) -> None:
    """Show the settings in effect and where each comes from (the key masked)."""
    from kbchat.config_edit import describe

    with reported():
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
    from kbchat.config import save_config
    from kbchat.config_edit import set_value

    with reported():
        path = config_path(os.environ)
        config = load_config(path)
        name = _profile_name(profile, config)
        save_config(path, set_value(config, name, key, value))
        shown = "****" if key == "api_key" else value
        print(f"{key} = {shown}  (profile {name}, {path})", file=sys.stderr)


@config_app.command("unset")
def config_unset(key: Annotated[str, typer.Argument(help="the key to remove")], profile: Profile = None) -> None:
    """Remove KEY from a profile of the config file."""
    from kbchat.config import save_config
    from kbchat.config_edit import unset_value

    with reported():
        path = config_path(os.environ)
        config = load_config(path)
        save_config(path, unset_value(config, _profile_name(profile, config), key))


@config_app.command("path")
def config_path_cmd() -> None:
    """Print the config file's path ($KBCHAT_CONFIG or the platform config dir)."""
    print(config_path(os.environ))


def _profile_name(option: str | None, config: dict[str, Any]) -> str:
    """The profile an edit goes to: -p, else KBCHAT_PROFILE, else default_profile, else default."""
    return option or os.environ.get("KBCHAT_PROFILE") or str(config.get("default_profile") or "default")
