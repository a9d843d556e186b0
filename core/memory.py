"""Keeping a long-running process's resident memory close to what it really uses (glibc malloc).

A request body of up to 20 MiB (and its inflated copy) is freed right after the answer, but glibc
raises its mmap threshold after the first such buffer is freed (up to 32 MiB), so later ones land in
the heap and in per-thread arenas, where the freed pages stay resident. Measured on the embedded web
process: 300 malformed and oversized requests left it at 160 MB instead of 78 MB, for good.
No-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h


@lru_cache(maxsize=1)
def _libc():
    try:
        # glibc's name first: find_library forks `ldconfig -p`, a copy of this process that a
        # memory sampler may count once more (a 66 MB blip in the benchmark's tree).
        try:
            libc = ctypes.CDLL("libc.so.6")
        except OSError:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 - glibc only
        return libc
    except (OSError, AttributeError):
        return None


def keep_large_buffers_out_of_the_heap(threshold: int = 128 * 1024) -> None:
    """Allocations above `threshold` get their own mapping, which free() hands straight back to the
    kernel. Setting it also stops glibc from raising it on its own. SDK envelopes (a few KB, tens of KB
    inflated) stay far below, so the hot path makes no extra system calls."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)


def return_freed_memory() -> None:
    """Give the free pages inside the heap and the arenas back to the kernel (malloc_trim)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
