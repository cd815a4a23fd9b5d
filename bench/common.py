"""What the benchmark scripts share: one way to print a table of results."""

from __future__ import annotations

import sys


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A titled, column-aligned table on stdout, flushed (benchmarks print as they go)."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}\n")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    sys.stdout.flush()
