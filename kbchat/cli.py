"""The entry point: `kbchat` on the command line.

`--version` is answered before the command framework loads (it costs ~100 ms); all else
goes to the Typer app in kbchat.commands, whose own usage errors are said the way
kbchat says every error: `kbchat: error: …`, exit 2.
"""

from __future__ import annotations

import sys


def main(prog_name: str = "kbchat", argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from kbchat import __version__

        print(f"kbchat {__version__}")
        return
    import typer

    from kbchat.commands import app

    usage = sys.modules[typer.BadParameter.__module__]  # Typer's own copy of click's exceptions
    try:
        code = typer.main.get_command(app).main(args=args, prog_name=prog_name, standalone_mode=False)
    except usage.NoArgsIsHelpError as err:  # `kbchat config` alone: its help
        err.show()
        code = err.exit_code
    except usage.ClickException as err:
        from kbchat.commands.reporting import error

        context = getattr(err, "ctx", None)
        where = f"; see {context.command_path} --help" if context is not None else ""
        message = err.format_message()
        error((message[:1].lower() + message[1:]).rstrip(".") + where)
        code = err.exit_code
    except usage.Abort:  # Ctrl-C or end of input at one of click's own prompts
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
