"""The C allocator's settings for a serving process: request-sized buffers go back to the OS when freed.

glibc serves blocks of 128 KiB and more with their own mmap, returned to the OS on free, but it
raises that threshold to the size of every such block freed (up to 32 MiB). A gateway frees
request bodies of a third of a megabyte all the time, so after the first few requests every body
comes from the heap instead, whose free space is kept, fragmented by the small blocks between
the bodies, and stays resident. Pinning the threshold keeps bodies in their own mappings: the
peak resident set follows the bodies in flight, and drops back when they are answered. Measured
with `python -m bench.memory` (1,000 documents of 50 words, 64 connections): the README has the
figures.
"""

from __future__ import annotations

import ctypes
import os

#: mallopt(3) parameter numbers, from glibc's malloc.h.
M_MMAP_THRESHOLD = -3
#: Blocks this size and larger get their own mapping. glibc's starting value is 128 KiB; half that
#: also sends the socket reads and JSON buffers between 64 and 128 KiB there, which measured lower.
MMAP_THRESHOLD = 64 * 1024


def tune() -> bool:
    """Pin glibc's mmap threshold for this process, unless not on glibc or set by the environment."""
    if not _glibc() or _operator_set():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):  # musl and others: their allocators work differently
        return False


def _operator_set() -> bool:
    """Whether the environment already chooses the threshold: an operator's setting wins."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return "MALLOC_MMAP_THRESHOLD_" in os.environ or "glibc.malloc.mmap_threshold" in tunables
