"""Helpers for the nn tests: torch parity comparisons and weight copying."""

import numpy as np


def torch_state(module):
    """A torch module's state dict as NumPy arrays."""
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def copy_from_torch(rg_module, torch_module):
    """Load a torch module's weights into a retrograd module (keys must match)."""
    rg_module.load_state_dict(torch_state(torch_module))
    return rg_module


def assert_close(actual, expected, atol=1e-10, rtol=1e-8):
    """Compare a retrograd tensor (or array) with a torch tensor (or array)."""
    a = actual.data if hasattr(actual, "data") and isinstance(actual.data, np.ndarray) else actual
    e = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(np.asarray(a), np.asarray(e), atol=atol, rtol=rtol)
