"""Giving freed memory back to the operating system between the main job's stages.

CPython and numpy allocate many small blocks on the C heap; glibc keeps the pages of freed blocks for reuse instead of
returning them, so a process that built a large training set keeps its resident size after the set is gone. Training
the argument filler on Seal-Tools dev (700 requests, the MiniLM scorer alone) left its process at 6.0 GB resident
after `train_filler` returned and `gc.collect()` ran; `malloc_trim(0)` brought it to 0.77 GB. The main job trains its
stages in one driver that later also starts a vLLM engine and proxy replicas beside it, so it trims after each stage.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> bool:
    """Collect garbage, then return the C heap's free pages to the OS (`malloc_trim(0)`, glibc only). Returns whether
    the heap was trimmed (False where the C library has no `malloc_trim`: macOS, musl)."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
