"""Start-up objects kept out of the cyclic garbage collector's way.

A running bot holds a hundred thousand or more objects made at start-up (modules, models,
plugins, texts, the platform's caches) that live as long as the process. Python's full
collection walks all of them, and a burst of updates (many in flight at once) triggers one
every few hundred updates: measured at ≈ 0.1 s each, a quarter of what an answered
``/help`` costs on average (docs/performance.md). Frozen once the App is ready, they are
never walked again; what dies later is collected as usual. Leaving thaws them, so an App
started again in the same process (the console's ``:restart``, tests) frees the old one.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["start_up_frozen"]

_depth = 0


@contextmanager
def start_up_frozen() -> Iterator[None]:
    """Collect once, then freeze every object alive now for the block's duration."""
    global _depth
    if _depth == 0:
        gc.collect()
        gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()
