"""The one place a command's end becomes a line on stderr and an exit code (errors.ExitCode).

Lower layers raise (errors.py draws the tree); the Asker returns a Turn, and `settle`
says what its end means. Typer-free (it ends with SystemExit), so the fast path of
kbchat.cli uses it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kbchat.errors import Cancelled, ExitCode, KBChatError, reader_left
from kbchat.terminal import Terminal, ignore_ctrl_c_from_now_on

if TYPE_CHECKING:
    from kbchat.asker import Turn


@contextlib.contextmanager
def reported(term: Terminal, debug: bool = False) -> Iterator[None]:
    """Turn every way a command can end into one stderr line and an exit code."""
    try:
        yield
    except (KeyboardInterrupt, Cancelled) as err:
        ignore_ctrl_c_from_now_on()
        if not getattr(err, "shown_on_screen", False):
            term.say("kbchat: cancelled")
        raise SystemExit(ExitCode.CANCELLED) from None
    except KBChatError as err:
        term.error(str(err))
        raise SystemExit(err.exit_code) from None
    except Exception as err:
        if reader_left(err):
            term.release_stdout()
            raise SystemExit(ExitCode.READER_LEFT) from None
        if debug:
            raise
        term.error(f"unexpected {type(err).__name__}: {err} (run with --debug for a traceback)")
        raise SystemExit(ExitCode.FAILED) from None


def settle(turn: Turn) -> None:
    """An answer was shown: raise what its end means (cancelled, error events, no [DONE]), if anything."""
    if turn.answer.cancelled:
        raise Cancelled(shown_on_screen=turn.cancel_shown)
    if turn.failure is not None:
        raise turn.failure
