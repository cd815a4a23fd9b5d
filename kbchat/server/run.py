"""Start the local knowledge base: open (or build) the index, bind, watch for changes."""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import TextIO

from kbchat.config import is_loopback
from kbchat.errors import KBChatError, UsageError
from kbchat.server.app import DEFAULT_PACE, KBServer
from kbchat.server.index import Index, default_db_path

SAMPLE_DOCS = Path(__file__).parent / "sample"
DEFAULT_PORT = 8765


def open_index(docs: Path, cache_dir: Path | None = None) -> Index:
    """The index for `docs`, reused from the cache dir when nothing changed."""
    if not docs.is_dir():
        raise UsageError(f"no such folder: {docs} (--docs takes a folder of .md and .txt files)")
    if cache_dir is None:
        from platformdirs import user_cache_path

        cache_dir = user_cache_path("kbchat", appauthor=False)
    try:
        index = Index(docs, default_db_path(docs, cache_dir))
    except (OSError, sqlite3.Error):
        # An unwritable cache dir still gets a working server, just without reuse.
        index = Index(docs, default_db_path(docs, Path(tempfile.mkdtemp(prefix="kbchat-index-"))))
    index.refresh()
    return index


def start_server(
    docs: Path = SAMPLE_DOCS,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    api_key: str | None = None,
    pace: float = DEFAULT_PACE,
    cache_dir: Path | None = None,
    log: TextIO | None = None,
    watch_interval: float = 1.0,
) -> KBServer:
    """A bound server over `docs`, its index current and watched; call serve_forever()."""
    if not is_loopback(host) and not api_key:
        raise UsageError(
            f"refusing to serve on {host} without --api-key: anyone on the network could read the documents"
        )
    if pace < 0:
        raise UsageError("--pace cannot be negative")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port takes 0 to 65535 (0 picks a free port), not {port}")
    index = open_index(docs, cache_dir)
    try:
        server = KBServer((host, port), index, api_key=api_key, pace=pace, log=log)
    except OSError as err:  # the port is taken, or --host is not an address of this machine
        index.close()
        raise KBChatError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    index.watch(watch_interval)
    return server


def serve_in_background(server: KBServer) -> threading.Thread:
    """Serve from a daemon thread; a short poll interval makes stop() quick."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="kbchat-serve", daemon=True)
    thread.start()
    return thread


def stop(server: KBServer) -> None:
    server.shutdown()
    server.server_close()
    server.index.close()
