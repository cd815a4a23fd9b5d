"""Start the local knowledge base: open (or build) the index, bind, watch for changes."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import TextIO

from kbchat.errors import KBChatError, UsageError
from kbchat.safe import keep_secret, one_line
from kbchat.server.app import KBServer
from kbchat.server.folder import Warn
from kbchat.server.index import Index, default_db_path
from kbchat.server.serve_options import ServeOptions
from kbchat.settings import is_loopback

SAMPLE_DOCS = Path(__file__).parent / "sample"
SAMPLE_QUESTIONS = (  # the demo suggests them; tests check each is answered from the right document
    "how much does the Business plan cost?",
    "how fast does support respond for Enterprise?",
    "can I get my money back on an annual plan?",
)
MAX_PACE = 10.0  # seconds between streamed pieces; more is a typo, and would overflow a sleep


def open_index(
    docs: Path, cache_dir: Path | None = None, follow_symlinks: bool = False, warn: Warn | None = None
) -> Index:
    """The index for `docs`, reused from the cache dir when nothing changed."""
    if not docs.is_dir():
        raise UsageError(f"no such folder: {docs} (--docs takes a folder of .md and .txt files)")
    try:
        index = Index(docs, default_db_path(docs, cache_dir or default_cache_dir()), follow_symlinks, warn)
    except (OSError, sqlite3.Error):
        # An unwritable cache dir still gets a working server, just without reuse.
        temporary = Path(tempfile.mkdtemp(prefix="kbchat-index-"))
        index = Index(docs, default_db_path(docs, temporary), follow_symlinks, warn)
    index.refresh()
    return index


def default_cache_dir() -> Path:
    """kbchat's own cache dir, readable by its owner only: the index copies every tenant's text."""
    from kbchat.places import user_folder

    path = user_folder("cache")
    with contextlib.suppress(OSError):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)
    return path


def start_server(options: ServeOptions, log: TextIO | None = None, watch_interval: float = 1.0) -> KBServer:
    """A bound server over `options.docs` (None: the sample), its index current and watched; call serve_forever()."""
    host, port, api_key, max_connections = options.host, options.port, options.api_key, options.max_connections
    if not is_loopback(host) and not api_key:
        raise UsageError(
            f"refusing to serve on {host} without --api-key: anyone on the network could read the documents"
        )
    if not 0 <= options.pace <= MAX_PACE:
        raise UsageError(f"--pace takes 0 to {MAX_PACE:g} seconds")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port takes 0 to 65535 (0 picks a free port), not {port}")
    if not 1 <= max_connections <= 100_000:
        raise UsageError("--max-connections takes 1 to 100000")
    keep_secret(api_key)  # the server's own key: kept out of its log as a client's is out of kbchat's output

    def warn(message: str) -> None:
        if log is not None:
            print(f"kbchat serve: {one_line(message)}", file=log, flush=True)

    index = open_index(options.docs or SAMPLE_DOCS, options.cache_dir, options.follow_symlinks, warn)
    try:
        server = KBServer((host, port), index, api_key=api_key, pace=options.pace, log=log,
                          max_connections=max_connections)  # fmt: skip
    except OSError as err:  # the port is taken, or --host is not an address of this machine
        index.close()
        raise KBChatError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    index.watch(watch_interval)
    return server


def serve_in_background(server: KBServer) -> threading.Thread:
    """Serve from a daemon thread until stop()."""
    thread = threading.Thread(target=server.serve_forever, name="kbchat-serve", daemon=True)
    thread.start()
    return thread


def stop(server: KBServer) -> None:
    """Stop accepting, then close; with a log, the requests being answered write their lines first
    (at most a second: the loop ends at once, and an answer may still be going out)."""
    server.shutdown()
    if server.log is not None:
        server.in_flight.settle()
    server.server_close()
    server.index.close()
