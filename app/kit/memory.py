"""Memory the process freed, given back to the system.

glibc's malloc keeps the memory freed in the middle of its heap: after the place index of a
large gazetteer is rebuilt (the old and the new one side by side for a moment), a serving
process kept some 20 to 60 MB more each time, and grew with each rebuild. `malloc_trim(0)`
hands the free pages back. Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> bool:
    """Give the heap's free pages back to the system (a few ms: call it off the event loop,
    ctypes lets other threads run meanwhile); whether the C library can."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def freeze_what_started() -> None:
    """After a serving process has started: move every object alive then (modules, mappings,
    the place index) out of the cycle collector's reach, so that its full collections walk
    only what requests made since (with a large gazetteer, a pause of tens of ms each).
    Objects freed later are still freed by their reference counts. For a process that
    serves until it stops, not for one that makes and drops applications (tests)."""
    gc.collect()
    gc.freeze()
