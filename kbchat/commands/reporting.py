"""The one place a command's end becomes a line on stderr and an exit code.

    0 answered · 1 failed · 2 usage or config · 130 cancelled · 141 the reader of stdout left

Lower layers raise (errors.py draws the tree); a renderer returns the Answer it showed,
and `settle` says what that answer's end means. Typer-free (it ends with SystemExit), so
the fast path of kbchat.cli uses it too.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from kbchat.errors import Cancelled, KBChatError
from kbchat.events import Answer
from kbchat.exchange import outcome
from kbchat.safe import one_line
from kbchat.terminal import ignore_ctrl_c_from_now_on, stdout_gone

BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a pipeline's reader going away


@contextlib.contextmanager
def reported(debug: bool = False) -> Iterator[None]:
    """Turn every way a command can end into one stderr line and an exit code."""
    try:
        yield
    except (KeyboardInterrupt, Cancelled) as err:
        ignore_ctrl_c_from_now_on()
        if not getattr(err, "shown_on_screen", False):
            say("kbchat: cancelled")
        raise SystemExit(Cancelled.exit_code) from None
    except BrokenPipeError:
        stdout_gone()
        raise SystemExit(BROKEN_PIPE) from None
    except KBChatError as err:
        error(str(err))
        raise SystemExit(err.exit_code) from None
    except Exception as err:
        if debug:
            raise
        error(f"unexpected {type(err).__name__}: {err} (run with --debug for a traceback)")
        raise SystemExit(1) from None


def settle(answer: Answer, mark_shown: bool) -> None:
    """An answer was shown: raise what its end means (cancelled, error events, no [DONE]), if anything.

    `mark_shown`: the renderer drew `[cancelled]` on the terminal, so no note is needed.
    """
    if answer.cancelled:
        raise Cancelled(shown_on_screen=mark_shown)
    problem = outcome(answer)
    if problem is not None:
        raise problem


def error(message: str) -> None:
    say(f"kbchat: error: {one_line(message)}")


def say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)
