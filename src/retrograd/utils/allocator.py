"""Keep freed memory in the process instead of handing it back to the OS at every step.

glibc serves large allocations (above a threshold that starts at 128 KiB) with fresh `mmap`
pages and returns them to the OS when they are freed. A training step allocates and frees the
same large activation and gradient arrays every time, so each step pays one page fault per
4 KiB page it touches again; for an LSTM or a CNN step that is a third of the step's time.
Raising the mmap and trim thresholds makes glibc reuse those blocks from its heap, as PyTorch's
caching allocator does for its tensors. The cost is that the process keeps its peak memory.

This is a process-wide setting, so importing retrograd never changes it: the `retrograd` command
line and the benchmarks turn it on; library users call `keep_freed_memory()` themselves.
"""

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(mmap_threshold=64 << 20, trim_threshold=256 << 20):
    """Ask glibc to serve blocks below `mmap_threshold` bytes from its heap and to keep up to
    `trim_threshold` free bytes instead of returning them. Returns True when the setting took
    effect (on Linux with glibc), False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok_mmap = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    ok_trim = mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1
    return ok_mmap and ok_trim
