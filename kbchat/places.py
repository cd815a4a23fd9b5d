"""Where kbchat keeps its files: the platform's user folders, or XDG_*_HOME wherever it is set.

platformdirs reads XDG_CONFIG_HOME and its kin only on Linux. On macOS and Windows a user who
sets them (as many on a Mac do) meant them too, as git and gh take them; and a test suite that
sets them keeps every test's log, cache and history in its own folder on every platform.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

XDG = {"config": "XDG_CONFIG_HOME", "data": "XDG_DATA_HOME", "state": "XDG_STATE_HOME", "cache": "XDG_CACHE_HOME"}
# The XDG spec's defaults, under the home folder: all platformdirs does on Linux and the BSDs, whose
# import (~6 ms of a 200 ms `kbchat ask`) every start-up there is spared.
XDG_DEFAULTS = {"config": ".config", "data": ".local/share", "state": ".local/state", "cache": ".cache"}


def user_folder(kind: str, env: Mapping[str, str] = os.environ) -> Path:
    """kbchat's folder of `kind` (config, data, state or cache); not created here."""
    chosen = env.get(XDG[kind], "")
    if chosen and os.path.isabs(chosen):  # the XDG spec: a relative path is invalid, and ignored
        return Path(chosen) / "kbchat"
    if sys.platform not in ("darwin", "win32") and "ANDROID_DATA" not in env:
        return Path.home() / XDG_DEFAULTS[kind] / "kbchat"
    import platformdirs

    folder: Path = getattr(platformdirs, f"user_{kind}_path")("kbchat", appauthor=False)
    return folder
