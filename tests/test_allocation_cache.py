"""The allocation guard's size predictions, shared by the jobs of a worker process."""
from __future__ import annotations

import torch

from webapp.language.allocation import AllocationGuard
from webapp.limits import DEFAULT_LIMITS


def test_equal_numbers_of_other_types_are_predicted_apart():
    """`torch.zeros(3.0)` has no size (PyTorch refuses it); `torch.zeros(3)` has 3 elements,
    even after the first was predicted, in this job or an earlier one of the process.

    Mutation: drop the `(bool, int, float)` branch of allocation._signature: 3.0 and 3 share
    one key and the second prediction is the first's None.
    """
    first = AllocationGuard(DEFAULT_LIMITS)
    assert first.predict(torch.zeros, (3.0,), {}) is None
    later = AllocationGuard(DEFAULT_LIMITS)
    assert later.predict(torch.zeros, (3,), {}) == torch.zeros(3).numel()
