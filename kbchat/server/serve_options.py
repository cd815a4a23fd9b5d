"""What `kbchat serve` is told: its folder, address, key and limits, declared once (kbchat.declared).

Cheap to import: the command line's declarations read it before the server's code loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kbchat.declared import option

DEFAULT_PORT = 8765
DEFAULT_PACE = 0.02  # seconds per word-sized piece: brisk, but visibly typed (the demo's, on a terminal)
MAX_CONNECTIONS = 256


@dataclass(frozen=True)
class ServeOptions:
    """The local knowledge base's options; None for the folder means the bundled sample."""

    docs: Path | None = option(
        None, "--docs", kind=Path, metavar="DIR",
        help="folder of .md/.txt files; subfolders are tenants [default: the sample]",
    )  # fmt: skip
    host: str = option(
        "127.0.0.1", "--host", kind=str, metavar="HOST", help="address to bind; non-loopback needs --api-key"
    )
    port: int = option(DEFAULT_PORT, "--port", kind=int, metavar="PORT", help="port; 0 picks a free one")
    api_key: str | None = option(
        None, "--api-key", kind=str, metavar="KEY", help="require this x-api-key", envvar="KBCHAT_SERVE_API_KEY"
    )
    pace: float = option(
        0.0, "--pace", kind=float, metavar="SECONDS",
        help=f"pause between streamed pieces, to watch an answer typed (the demo's: {DEFAULT_PACE:g})",
    )  # fmt: skip
    cache_dir: Path | None = option(None, "--cache-dir", kind=Path, metavar="DIR", help="where the index is kept")
    follow_symlinks: bool = option(
        False, "--follow-symlinks", help="also serve links to files outside their tenant's folder"
    )
    max_connections: int = option(
        MAX_CONNECTIONS, "--max-connections", kind=int, metavar="N", help="open connections at most; more get 503"
    )
