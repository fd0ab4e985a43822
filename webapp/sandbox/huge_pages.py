"""The zygote's memory in 2 MiB pages, so that forking a job and its exit stay cheap.

`fork` copies one page-table entry per 4 KiB page of the zygote's private memory (about
64,000 for the 250 MiB that torch and chainrule's warm-up leave), and the child's exit
takes them down again: 7-15 ms of kernel time per job, more than a small job itself
(bench/sandbox_bench.py). A 2 MiB page is one entry. Linux 6.1's `MADV_COLLAPSE` turns
memory that already exists into such pages, at once. Sharing is unchanged: a child that
writes gets a private copy of the 4 KiB it wrote (the kernel splits the huge page's
mapping in the writer only), so no job sees another's writes. Where the kernel has no
`MADV_COLLAPSE` or no transparent huge pages, the call fails and nothing changes.
"""
from __future__ import annotations

import ctypes
import sys

MADV_COLLAPSE = 25
HUGE_PAGE = 2 << 20


def regions() -> list[tuple[int, int]]:
    """The 2 MiB-aligned spans of this process's anonymous writable memory (heap included):
    file mappings (a library's relocated data) and stacks cannot be collapsed."""
    spans = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            path = fields[5] if len(fields) > 5 else ""
            if "w" not in fields[1] or "p" not in fields[1] or path not in ("", "[heap]"):
                continue
            low, high = (int(end, 16) for end in fields[0].split("-"))
            start, stop = -(-low // HUGE_PAGE) * HUGE_PAGE, high // HUGE_PAGE * HUGE_PAGE
            if stop > start:
                spans.append((start, stop - start))
    return spans


def collapse() -> int:
    """Make this process's anonymous memory huge pages where the kernel can; the bytes done."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    done = 0
    for start, length in regions():
        if libc.madvise(start, length, MADV_COLLAPSE) == 0:
            done += length
    return done
