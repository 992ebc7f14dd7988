import sys

import numpy as np
import pytest

from retrograd.utils.allocator import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_keep_freed_memory_takes_effect_and_allocation_still_works():
    assert keep_freed_memory() in (True, False)  # False on a non-glibc libc (musl)
    a = np.ones(1 << 22)  # 32 MiB: below the raised mmap threshold, served from the heap
    del a
    b = np.zeros(1 << 22)
    assert b.sum() == 0


def test_keep_freed_memory_is_a_noop_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert keep_freed_memory() is False
