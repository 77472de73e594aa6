"""Memory management for bulk work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk import.

    An import of thousands of tools holds millions of small objects, and each full
    collection walks them all: about a third of a 10,000-tool import's time
    (benchmarks/catalog_bench.py). Use it in commands and tasks, not in a threaded web
    worker, where it would pause collection for every thread.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
