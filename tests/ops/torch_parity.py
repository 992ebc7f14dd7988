"""Run one function on retrograd and on torch (float64, same inputs) and compare the results,
their dtypes and shapes, and the gradients of a random weighting of the outputs.

`fn(L, *tensors)` is written once against the shared API, `L` being `retrograd` or `torch`.
"""

import numpy as np

import retrograd as rg


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _array(value, torch):
    if isinstance(value, rg.Tensor):
        return value.data, str(value.dtype)
    if isinstance(value, torch.Tensor):
        return value.detach().numpy(), str(value.dtype).removeprefix("torch.")
    return np.asarray(value), type(value).__name__


def assert_same(ours, theirs, torch, name="", rtol=1e-7, atol=1e-10):
    ours, theirs = _flat(ours), _flat(theirs)
    assert len(ours) == len(theirs), f"{name}: {len(ours)} outputs, torch gives {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        (x, x_dtype), (y, y_dtype) = _array(a, torch), _array(b, torch)
        assert x_dtype == y_dtype, f"{name} output {k}: dtype {x_dtype}, torch {y_dtype}"
        assert x.shape == y.shape, f"{name} output {k}: shape {x.shape}, torch {y.shape}"
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{name} output {k}")
        else:
            np.testing.assert_array_equal(x, y, err_msg=f"{name} output {k}")


def check_against_torch(torch, fn, *arrays, grad=True, name="", rtol=1e-7, atol=1e-10, seed=0):
    """fn on both libraries; with `grad`, every floating input requires grad and the gradients
    of sum(w * out) over the floating outputs must match too (None where torch gives None)."""
    ours_in = [rg.tensor(np.array(a)) for a in arrays]
    theirs_in = [torch.tensor(np.array(a)) for a in arrays]
    if grad:
        for t in ours_in + theirs_in:
            if t.is_floating_point():
                t.requires_grad_(True)
    ours, theirs = fn(rg, *ours_in), fn(torch, *theirs_in)
    assert_same(ours, theirs, torch, name, rtol, atol)
    if not grad:
        return ours
    rng = np.random.default_rng(seed)
    total_r, total_t = None, None
    for a, b in zip(_flat(ours), _flat(theirs)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            w = rng.standard_normal(b.shape)
            term_r = (a * rg.tensor(w, dtype=a.dtype)).sum()
            term_t = (b * torch.tensor(w, dtype=b.dtype)).sum()
            total_r = term_r if total_r is None else total_r + term_r
            total_t = term_t if total_t is None else total_t + term_t
    assert (total_r is None) == (total_t is None), f"{name}: requires_grad differs from torch"
    if total_t is None:
        return ours
    total_r.backward()
    total_t.backward()
    for k, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if not b.is_floating_point():
            continue
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.data), f"{name}: input {k} gradient"
            continue
        assert a.grad is not None, f"{name}: input {k} got no gradient"
        assert_same(a.grad, b.grad, torch, f"{name} gradient {k}", rtol, atol)
    return ours
