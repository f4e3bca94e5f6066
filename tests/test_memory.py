"""`release_memory`: freed heap pages go back to the OS (glibc's `malloc_trim`), so a stage's resident size does not
outlive its data."""

from __future__ import annotations

import os

from raytool.memory import release_memory


def _resident_mb() -> float:
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_freed_heap_blocks_are_returned_to_the_os() -> None:
    """300 MB of 1 KB blocks (C heap, not Python's small-object arenas) with every 64th kept alive: freeing the rest
    leaves the pages resident (the kept blocks pin the heap's top); `release_memory` gives at least 200 MB back."""
    blocks = [bytes(1024) + bytes([i % 256]) for i in range(300_000)]
    kept = blocks[::64]
    del blocks
    before = _resident_mb()
    assert release_memory() is True
    after = _resident_mb()
    assert before - after > 200, (before, after)
    assert len(kept) == 4_688
