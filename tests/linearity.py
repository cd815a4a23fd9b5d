"""One check for "every pass over text is linear": 4x the text costs about 4x the CPU; a quadratic pass costs 16x."""

from __future__ import annotations

import time
from collections.abc import Callable


def assert_linear(run: Callable[[str], object], make: Callable[[int], str], base: int, what: str = "") -> None:
    """`run` over `make(4 * base)` costs at most 8x `run` over `make(base)` (the floor keeps timer noise out)."""

    def cost(text: str) -> float:
        started = time.thread_time()
        run(text)
        return time.thread_time() - started

    small = min(cost(make(base)) for _ in range(3))
    large = min(cost(make(4 * base)) for _ in range(3))
    assert large <= 8 * max(small, 0.002), f"{what}: {small * 1000:.1f} ms at 1x, {large * 1000:.1f} ms at 4x"
