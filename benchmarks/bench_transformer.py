"""A transformer encoder training step, and causal self-attention alone.

Rows:
- rg.nn.TransformerEncoder (2 post-LN layers, d_model 128, 4 heads, feed-forward 512, ReLU,
  dropout 0, causal mask) on a batch of 16 sequences of 64, MSE against a target, SGD step,
  against torch.nn.TransformerEncoder with the same float32 weights (the first step's losses
  must agree);
- scaled_dot_product_attention forward + backward on (16, 4, 64, 32) causal: the fused
  primitive (ops/attention.py) against torch, and the same attention composed of retrograd ops
  (matmul, scale, mask, softmax, matmul) against torch, which shows what the fused op saves.

    python benchmarks/bench_transformer.py [--quick] [--threads N]   # this benchmark alone
    python benchmarks/run.py                                         # with the others
"""

if __name__ == "__main__":  # the runner sets BLAS threads, which NumPy reads when first imported
    import sys

    import run

    sys.exit(run.main(["--only", "transformer", *sys.argv[1:]]))

import math  # noqa: E402

import numpy as np  # noqa: E402
from _timing import Row, median_seconds  # noqa: E402

import retrograd as rg  # noqa: E402

D_MODEL, HEADS, LAYERS, FF, SEQ, BATCH = 128, 4, 2, 512, 64, 16
LR = 0.01


def problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, SEQ, D_MODEL)).astype(np.float32)
    y = rng.standard_normal((BATCH, SEQ, D_MODEL)).astype(np.float32)
    return x, y


def _encoder(lib):
    layer = lib.nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)
    kwargs = {} if lib is rg else {"enable_nested_tensor": False}
    return lib.nn.TransformerEncoder(layer, LAYERS, **kwargs)


def _step(lib, model, params, x, y, mask):
    for p in params:
        p.grad = None
    out = model(x, mask=mask, is_causal=True)
    loss = ((out - y) ** 2).mean()
    loss.backward()
    with lib.no_grad():
        for p in params:
            p -= LR * p.grad
    return loss.item()


def make_encoders(torch, x, y):
    """(retrograd step, torch step or None), from the same float32 weights."""
    rg.manual_seed(0)
    model = _encoder(rg)
    steps = {}
    if torch is not None:
        torch.manual_seed(0)
        t_model = _encoder(torch)
        model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
        t_params = list(t_model.parameters())
        tx, ty = torch.tensor(x), torch.tensor(y)
        t_mask = torch.nn.Transformer.generate_square_subsequent_mask(SEQ)
        steps["torch"] = lambda: _step(torch, t_model, t_params, tx, ty, t_mask)
    params = list(model.parameters())
    rx, ry = rg.tensor(x), rg.tensor(y)
    mask = rg.nn.Transformer.generate_square_subsequent_mask(SEQ)
    steps["retrograd"] = lambda: _step(rg, model, params, rx, ry, mask)
    return steps


def _composite_attention(q, k, v):
    """Causal attention from retrograd ops: what the fused primitive replaces."""
    scores = (q @ k.mT) * (1.0 / math.sqrt(q.shape[-1]))
    scores = scores.masked_fill(_CAUSAL, float("-inf"))
    return scores.softmax(-1) @ v


_CAUSAL = np.triu(np.ones((SEQ, SEQ), dtype=bool), 1)


def make_attention(torch, fused):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((BATCH, HEADS, SEQ, D_MODEL // HEADS)).astype(np.float32)
              for _ in range(3)]
    g = rng.standard_normal((BATCH, HEADS, SEQ, D_MODEL // HEADS)).astype(np.float32)
    q, k, v = (rg.tensor(a, requires_grad=True) for a in arrays)
    grad = rg.tensor(g)
    sdpa = rg.nn.functional.scaled_dot_product_attention

    def rg_step():
        out = sdpa(q, k, v, is_causal=True) if fused else _composite_attention(q, k, v)
        out.backward(grad)
        value = float(q.grad.data[0, 0, 0, 0])
        q.grad = k.grad = v.grad = None
        return value

    steps = {"retrograd": rg_step}
    if torch is not None:
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in arrays)
        tg = torch.tensor(g)

        def torch_step():
            out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
            out.backward(tg)
            value = float(tq.grad[0, 0, 0, 0])
            tq.grad = tk.grad = tv.grad = None
            return value

        steps["torch"] = torch_step
    return steps


def _agreement(first, tolerance):
    if "torch" not in first:
        return ""
    a, b = first["retrograd"], first["torch"]
    if abs(a - b) > tolerance * max(1.0, abs(b)):
        return f"results differ: retrograd {a:.6f}, torch {b:.6f}"
    return ""


def run(torch, quick=False):
    repeats, warmup = (3, 1) if quick else (30, 3)
    rows = []
    x, y = problem()
    steps = make_encoders(torch, x, y)
    note = _agreement({name: step() for name, step in steps.items()}, 1e-4)
    ms = {name: 1e3 * s for name, s in median_seconds(steps, repeats, warmup).items()}
    rows.append(Row(f"Transformer encoder {LAYERS}x(d{D_MODEL}, {HEADS} heads, ff {FF}), "
                    f"seq {SEQ}, batch {BATCH}, causal, MSE + SGD step", "ms",
                    ms["retrograd"], ms.get("torch"), note=note))
    for fused in (True, False):
        steps = make_attention(torch, fused)
        note = _agreement({name: step() for name, step in steps.items()}, 1e-4)
        ms = {name: 1e3 * s for name, s in median_seconds(steps, repeats, warmup).items()}
        kind = "fused primitive" if fused else "composite of ops"
        rows.append(Row(f"causal attention ({BATCH}, {HEADS}, {SEQ}, {D_MODEL // HEADS}) fwd+bwd, "
                        f"{kind}", "ms", ms["retrograd"], ms.get("torch"), note=note))
    return rows
