"""rg.amp.autocast: op policy (low precision for products, float32 for reductions and losses),
float32 master gradients, cached parameter casts, memory halved, checkpoint recomputation under
autocast, and torch parity (bfloat16 on cpu)."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.amp import FLOAT32, LOWER_PRECISION, autocast
from retrograd.autograd.graph import REGISTRY
from retrograd.nn import functional as F

needs_bf16 = pytest.mark.skipif(rg.bfloat16 is None, reason="bfloat16 needs ml_dtypes")
LOW = [rg.float16, pytest.param(rg.bfloat16, marks=needs_bf16, id="bfloat16")]


def mlp(seed=0, width=16):
    rg.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, width), nn.ReLU(), nn.Linear(width, width), nn.GELU(),
                         nn.Linear(width, 3))


def batch():
    rng = np.random.default_rng(0)
    return rg.tensor(rng.normal(size=(32, 8)).astype(np.float32)), rg.tensor(
        rng.integers(0, 3, size=32))


def test_policy_names_are_registered_ops():
    assert set(LOWER_PRECISION) <= set(REGISTRY)
    assert set(FLOAT32) <= set(REGISTRY)
    assert not set(LOWER_PRECISION) & set(FLOAT32)


@pytest.mark.parametrize("dtype", LOW)
def test_op_dtypes_under_autocast(dtype):
    model = mlp()
    x, y = batch()
    with autocast(dtype=dtype):
        h = model[0](x)
        assert h.dtype == dtype  # matmul and the bias add in low precision
        assert model[1](h).dtype == dtype  # elementwise ops keep their input's dtype
        assert (x @ x.T).dtype == dtype
        assert F.softmax(h, dim=1).dtype == rg.float32
        assert F.log_softmax(h, dim=1).dtype == rg.float32
        assert h.sum().dtype == rg.float32 and h.mean().dtype == rg.float32
        assert h.exp().dtype == rg.float32
        assert F.cross_entropy(model(x), y).dtype == rg.float32
        assert F.layer_norm(h, (16,)).dtype == rg.float32
        d = x.double()
        assert (d @ d.T).dtype == rg.float64  # float64 is left alone
    assert model[0](x).dtype == rg.float32  # nothing is cast after the block


@pytest.mark.parametrize("dtype", LOW)
def test_gradients_arrive_in_float32_close_to_float32_training(dtype):
    x, y = batch()
    model = mlp()
    F.cross_entropy(model(x), y).backward()
    expected = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with autocast(dtype=dtype):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    for p, g in zip(model.parameters(), expected):
        assert p.grad.dtype == rg.float32 and p.dtype == rg.float32
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=0.1, atol=0.02)


def test_parameter_casts_are_cached_per_block():
    w = nn.Parameter(rg.randn(4, 4))
    x = rg.randn(3, 4)
    with autocast(dtype=rg.float16):
        a, b = x @ w, x @ w
    assert a.grad_fn.edges[1] is b.grad_fn.edges[1]  # one cast node for both products
    (a.sum() + b.sum()).backward()
    expected = 2 * np.repeat(x.numpy().sum(0)[:, None], 4, axis=1)  # d/dw of sum(x @ w), twice
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-2, atol=1e-2)
    with autocast(dtype=rg.float16, cache_enabled=False):
        a, b = x @ w, x @ w
    assert a.grad_fn.edges[1] is not b.grad_fn.edges[1]


def test_activation_memory_halves():
    model = nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(64, 64), nn.ReLU())])
    x = rg.randn(128, 64)
    full = rg.diagnostics.memory_ledger(model(x).sum())
    with autocast(dtype=rg.float16):
        half = rg.diagnostics.memory_ledger(model(x).sum())
    assert full.activation_bytes == 2 * half.activation_bytes
    assert full.parameter_copy_bytes == 0 and half.parameter_copy_bytes == 6 * 64 * 64 * 2


def test_enabled_false_nesting_and_decorator():
    w = rg.randn(4, 4)
    with autocast(dtype=rg.float16):
        with autocast(enabled=False):
            assert (w @ w).dtype == rg.float32
            assert not rg.amp.is_autocast_enabled()
        assert (w @ w).dtype == rg.float16
        assert rg.amp.get_autocast_dtype() == rg.float16

    @autocast(dtype=rg.float16)
    def f(t):
        return t @ t

    assert f(w).dtype == rg.float16
    assert (w @ w).dtype == rg.float32
    assert autocast("cpu", dtype=rg.float16).fast_dtype == rg.float16
    with pytest.raises(RuntimeError, match="cpu"):
        autocast("cuda")
    with pytest.raises(ValueError, match="float16 or bfloat16"):
        autocast(dtype=rg.float32)


@needs_bf16
def test_default_dtype_on_cpu_is_bfloat16():
    assert autocast().fast_dtype == rg.bfloat16


def test_checkpoint_recomputes_under_the_forward_autocast_state():
    from retrograd.utils.checkpoint import checkpoint

    x, y = batch()

    def run(use):
        model = mlp()
        with autocast(dtype=rg.float16):
            out = checkpoint(model, x) if use else model(x)
            loss = F.cross_entropy(out, y)
        loss.backward()  # outside the block: the recomputation must still run in float16
        return [p.grad.numpy() for p in model.parameters()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


@needs_bf16
def test_torch_parity_bfloat16_mlp():
    torch = pytest.importorskip("torch")
    model = mlp()
    tmodel = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 16), torch.nn.GELU(),
                                 torch.nn.Linear(16, 3))
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.from_numpy(p.detach().numpy()))
    x, y = batch()
    tx, ty = torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())
    with autocast(dtype=rg.bfloat16):
        out = model(x)
        loss = F.cross_entropy(out, y)
    loss.backward()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        tout = tmodel(tx)
        tloss = torch.nn.functional.cross_entropy(tout, ty)
    tloss.backward()
    assert str(tout.dtype) == "torch.bfloat16" and out.dtype == rg.bfloat16
    np.testing.assert_allclose(out.float().detach().numpy(), tout.float().detach().numpy(),
                               rtol=0.05, atol=0.02)
    assert abs(loss.item() - tloss.item()) < 0.02
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        assert p.grad.dtype == rg.float32
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=0.1, atol=0.01)
