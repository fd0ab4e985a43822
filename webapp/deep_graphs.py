"""Room on the stack for freeing a long graph whose grad_fns carry Python state.

PyTorch frees such a chain (grad_fns with metadata or hooks, as the tracer and
`recording()` leave them) by recursion, one C++ frame set per node: with torch 2.13 about
40,000 nodes overflow the default 8 MiB stack and the process dies (a worker after its
answer, a notebook's kernel). The main thread's stack may grow into the gap Linux leaves
below it, at least 128 MiB: about 600,000 nodes, more than a job can make in its deadline.
"""
from __future__ import annotations

import resource

STACK_BYTES = 128 * 2**20


def raise_stack_limit() -> None:
    """Let the main thread's stack grow to STACK_BYTES (never lowers a larger limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    wanted = STACK_BYTES if hard == resource.RLIM_INFINITY else min(STACK_BYTES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_STACK, (wanted, hard))
        except (ValueError, OSError):
            pass  # a platform that does not allow it: long chains stay the deadline's
