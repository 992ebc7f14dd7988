"""Run a retrograd optimizer and its torch.optim twin on the same parameters and the same
synthetic gradients, and compare parameters and state after every step."""

import numpy as np

import retrograd as rg

SHAPES = [(3, 4), (5,), ()]


def initial_params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def gradient_sequence(steps, seed=1, dtype=np.float64):
    """Per step, one gradient per parameter; the last parameter has no gradient every third
    step, which the optimizers must skip (no update, no state change)."""
    rng = np.random.default_rng(seed)
    sequence = []
    for step in range(steps):
        grads = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
        if step % 3 == 2:
            grads[-1] = None
        sequence.append(grads)
    return sequence


def split_groups(params, group_options):
    """Params as one plain list, or as groups: group i gets params[i::n] and the options."""
    if group_options is None:
        return list(params)
    n = len(group_options)
    return [{"params": params[i::n], **options} for i, options in enumerate(group_options)]


def run_retrograd(cls, kwargs, steps, group_options=None, dtype=np.float64):
    params = [rg.tensor(a.copy(), requires_grad=True) for a in initial_params(dtype=dtype)]
    opt = cls(split_groups(params, group_options), **kwargs)
    history = []
    for grads in gradient_sequence(steps, dtype=dtype):
        for p, g in zip(params, grads):
            p.grad = None if g is None else rg.tensor(g.copy())
        opt.step()
        history.append([p.data.copy() for p in params])
    return params, opt, history


def run_torch(cls, kwargs, steps, group_options=None, dtype=np.float64):
    import torch  # noqa: PLC0415 - only where the caller has checked torch is installed

    params = [torch.tensor(a.copy(), requires_grad=True) for a in initial_params(dtype=dtype)]
    opt = cls(split_groups(params, group_options), **kwargs)
    history = []
    for grads in gradient_sequence(steps, dtype=dtype):
        for p, g in zip(params, grads):
            p.grad = None if g is None else torch.tensor(g.copy())
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return params, opt, history


def assert_matches_torch(
    rg_cls, torch_cls, kwargs, steps=10, group_options=None, rtol=1e-12, dtype=np.float64
):
    rg_params, rg_opt, rg_history = run_retrograd(rg_cls, kwargs, steps, group_options, dtype)
    torch_params, torch_opt, torch_history = run_torch(
        torch_cls, kwargs, steps, group_options, dtype
    )
    atol = rtol * 1e-2
    for step, (ours, theirs) in enumerate(zip(rg_history, torch_history)):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(
                a, b, rtol=rtol, atol=atol, err_msg=f"parameter {i} after step {step + 1}"
            )
    for i, (p, q) in enumerate(zip(rg_params, torch_params)):
        ours, theirs = rg_opt.state[p], torch_opt.state[q]
        assert set(ours) == set(theirs), f"state keys of parameter {i}"
        for key, value in theirs.items():
            if key == "step":
                assert ours[key] == value.item()
            else:
                np.testing.assert_allclose(
                    ours[key].data, value.numpy(), rtol=rtol, atol=atol, err_msg=f"{key} of {i}"
                )
