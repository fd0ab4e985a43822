"""The zygote's memory is shared in 2 MiB pages, so a job's fork and exit stay cheap.

Mutations seen failing (one at a time):
- drop `huge_pages.collapse()` from worker.main: the zygote test;
- accept file mappings in huge_pages.regions (drop the `path` condition): the regions test.
"""
from __future__ import annotations

import ctypes
import mmap

import pytest

from bench.sandbox_bench import smaps_rollup
from webapp.sandbox import huge_pages
from webapp.sandbox.pool import WorkerPool

PRIVATE = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS  # as malloc's memory (mmap's default is shared)


def _collapse_works_here() -> bool:
    """Whether this kernel collapses anonymous memory into huge pages (Linux 6.1, THP on)."""
    try:
        buffer = mmap.mmap(-1, 4 * huge_pages.HUGE_PAGE, flags=PRIVATE)
    except OSError:
        return False
    buffer.write(b"x" * len(buffer))
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    start = -(-address // huge_pages.HUGE_PAGE) * huge_pages.HUGE_PAGE
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return libc.madvise(start, huge_pages.HUGE_PAGE, huge_pages.MADV_COLLAPSE) == 0


def test_regions_are_anonymous_and_aligned(tmp_path):
    buffer = mmap.mmap(-1, 6 * huge_pages.HUGE_PAGE, flags=PRIVATE)  # holds an aligned span
    buffer.write(b"x" * len(buffer))
    data = tmp_path / "data"
    data.write_bytes(bytes(6 * huge_pages.HUGE_PAGE))
    with open(data, "r+b") as handle:  # a writable private file mapping, as a library's data
        mapped = mmap.mmap(handle.fileno(), 0, flags=mmap.MAP_PRIVATE)
    mapped.write(b"y" * len(mapped))
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    spans = huge_pages.regions()
    assert any(start <= address + huge_pages.HUGE_PAGE and start + length >= address
               for start, length in spans)
    assert all(start % huge_pages.HUGE_PAGE == 0 and length % huge_pages.HUGE_PAGE == 0
               for start, length in spans)
    with open("/proc/self/maps") as maps:
        files = [tuple(int(end, 16) for end in line.split()[0].split("-"))
                 for line in maps if len(line.split()) > 5 and line.split()[5].startswith("/")]
    assert not any(low <= start < high for start, _ in spans for low, high in files)


@pytest.mark.skipif(not _collapse_works_here(), reason="no MADV_COLLAPSE here (Linux 6.1, THP)")
def test_the_zygote_memory_is_shared_in_huge_pages():
    pool = WorkerPool(size=1, deadline_seconds=5, wait_seconds=60)
    try:
        zygote = pool.idle_pids(wait_seconds=60)[0]
        fields = smaps_rollup(zygote)
        assert fields["AnonHugePages"] >= 0.5 * fields["Anonymous"], fields
        answer = pool.run({"kind": "trace", "source": "sin(x) * x", "inputs": {"x": 1.0}})
        assert answer["output"]["value"] == pytest.approx(0.8414709848)  # jobs run as before
    finally:
        pool.close()
