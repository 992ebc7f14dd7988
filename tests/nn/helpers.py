"""Helpers for the nn tests: torch parity comparisons and weight copying."""

import numpy as np

import retrograd as rg


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


def check_parity(torch, layer, tlayer, *inputs, grad_inputs=True, rtol=1e-10, atol=1e-12,
                 seed=0):
    """Run `layer` (retrograd) and `tlayer` (torch, float64) on the same NumPy inputs after
    copying torch's weights; compare the output, the input gradients and every parameter
    gradient for a random upstream gradient. Integer inputs get no gradient."""
    if tlayer.state_dict():
        copy_from_torch(layer, tlayer)
    rg_inputs, t_inputs = [], []
    for x in inputs:
        floating = np.asarray(x).dtype.kind == "f"
        needs = grad_inputs and floating
        rg_inputs.append(rg.tensor(x, requires_grad=needs))
        t_inputs.append(torch.tensor(x, requires_grad=needs))
    out = layer(*rg_inputs)
    t_out = tlayer(*t_inputs)
    assert_close(out, t_out, atol=atol, rtol=rtol)
    if not t_out.requires_grad:
        return out
    upstream = np.random.default_rng(seed).standard_normal(t_out.shape)
    (out * rg.tensor(upstream)).sum().backward()
    (t_out * torch.tensor(upstream)).sum().backward()
    for x, tx in zip(rg_inputs, t_inputs):
        if tx.requires_grad:
            assert_close(x.grad, tx.grad, atol=atol, rtol=rtol)
    t_params = dict(tlayer.named_parameters())
    for name, p in layer.named_parameters():
        tp = t_params[name]
        if tp.grad is None:
            assert p.grad is None or not p.grad.data.any(), name
        else:
            assert_close(p.grad, tp.grad, atol=atol, rtol=rtol)
    return out
