"""An MLP training step: 784-256-256-10, ReLU, batch 128, cross-entropy, SGD.

Two rows. The first is written from raw tensors and primitives in every framework (matmul,
relu, log_softmax, then picking each row's target with integer indexing), so all three do the
same work; the hand-written NumPy forward/backward is the limit: what the same matmuls cost with
no framework at all. The second is the same network as users write it: `nn.Sequential` of
`nn.Linear`/`nn.ReLU`, `F.cross_entropy` and `optim.SGD`, in retrograd and in PyTorch.
"""

import numpy as np
from _timing import Row, median_seconds

import retrograd as rg

SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.01


def problem(seed=0):
    """Inputs, integer targets and He-initialised float32 weights, shared by every framework."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params += [w.astype(np.float32), np.zeros(fan_out, np.float32)]
    return x, y, params


# ----------------------------------------------------------------- retrograd and torch
def mlp_loss(params, x, y, rows):
    w1, b1, w2, b2, w3, b3 = params
    h = (x @ w1 + b1).relu()
    h = (h @ w2 + b2).relu()
    logits = h @ w3 + b3
    return -logits.log_softmax(dim=1)[rows, y].mean()


def sgd_step(lib, params, x, y, rows):
    for p in params:
        p.grad = None
    loss = mlp_loss(params, x, y, rows)
    loss.backward()
    with lib.no_grad():
        for p in params:
            p -= LR * p.grad
    return loss


def make_retrograd(x, y, params):
    params = [rg.tensor(p, requires_grad=True) for p in params]
    x, y, rows = rg.tensor(x), rg.tensor(y), rg.arange(BATCH)
    return lambda: sgd_step(rg, params, x, y, rows).item()


def make_torch(torch, x, y, params):
    params = [torch.tensor(p, requires_grad=True) for p in params]
    x, y, rows = torch.tensor(x), torch.tensor(y), torch.arange(BATCH)
    return lambda: sgd_step(torch, params, x, y, rows).item()


# ----------------------------------------------------------------- NumPy by hand
def make_numpy(x, y, params):
    params = [p.copy() for p in params]
    onehot = np.zeros((BATCH, SIZES[-1]), np.float32)
    onehot[np.arange(BATCH), y] = 1.0

    def step():
        w1, b1, w2, b2, w3, b3 = params
        a1 = x @ w1 + b1
        h1 = np.maximum(a1, 0)
        a2 = h1 @ w2 + b2
        h2 = np.maximum(a2, 0)
        logits = h2 @ w3 + b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(BATCH), y].mean()
        g_logits = (np.exp(log_probs) - onehot) / BATCH
        g_h2 = (g_logits @ w3.T) * (a2 > 0)
        g_h1 = (g_h2 @ w2.T) * (a1 > 0)
        grads = [x.T @ g_h1, g_h1.sum(0), h1.T @ g_h2, g_h2.sum(0), h2.T @ g_logits,
                 g_logits.sum(0)]
        for p, g in zip(params, grads):
            p -= LR * g
        return float(loss)

    return step


# ----------------------------------------------------------------- nn + optim
def make_nn(lib, x, y, params):
    """The same MLP from lib.nn layers (weights copied from `params`) and lib.optim.SGD."""
    nn = lib.nn
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        linear = nn.Linear(fan_in, fan_out)
        with lib.no_grad():
            linear.weight.copy_(lib.tensor(params[2 * k].T.copy()))
            linear.bias.copy_(lib.tensor(params[2 * k + 1]))
        layers += [linear, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = lib.optim.SGD(model.parameters(), lr=LR)
    x, y = lib.tensor(x), lib.tensor(y)

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def run(torch, quick=False):
    repeats, warmup = (3, 1) if quick else (40, 5)
    x, y, params = problem()
    steps = {"retrograd": make_retrograd(x, y, params), "numpy": make_numpy(x, y, params)}
    if torch is not None:
        steps["torch"] = make_torch(torch, x, y, params)
    # The first step starts from the same weights everywhere: the losses must agree.
    first = {name: step() for name, step in steps.items()}
    note = ""
    if max(first.values()) - min(first.values()) > 1e-4 * max(1.0, abs(first["numpy"])):
        note = "losses differ: " + ", ".join(f"{k} {v:.6f}" for k, v in first.items())
    ms = {name: 1e3 * s for name, s in median_seconds(steps, repeats, warmup).items()}
    rows = [Row(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, CE + SGD step", "ms",
                ms["retrograd"], ms.get("torch"), ms["numpy"], note=note)]

    steps = {"retrograd": make_nn(rg, x, y, params)}
    if torch is not None:
        steps["torch"] = make_nn(torch, x, y, params)
    first = {name: step() for name, step in steps.items()}
    note = ""
    if max(first.values()) - min(first.values()) > 1e-4 * max(1.0, abs(first["retrograd"])):
        note = "losses differ: " + ", ".join(f"{k} {v:.6f}" for k, v in first.items())
    ms = {name: 1e3 * s for name, s in median_seconds(steps, repeats, warmup).items()}
    rows.append(Row("MLP as above from nn.Linear, F.cross_entropy, optim.SGD", "ms",
                    ms["retrograd"], ms.get("torch"), note=note))
    return rows
