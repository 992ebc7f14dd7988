"""Pipeline-parallel checks, run by test_pipeline.py on 2 ranks (two stages of the 4-stage
MLP per rank) and on 4 ranks (one stage each; mpich lets 4 ranks share 2 cores).

A 4-stage MLP split across the ranks gives the same loss, gradients and, after 5 SGD and 5
Adam steps, the same parameters as the whole model in one process (float64, 1e-10), with one
micro-batch and with several (one of them shorter than the others).
"""

import numpy as np

import retrograd as rg
from retrograd import nn
from retrograd.distributed.pipeline import Pipeline
from retrograd.nn import functional as F

dist = rg.distributed
dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
N = 10  # samples per batch: 4 micro-batches of 3, 3, 3 and 1
STEPS = 5


def passed(name):
    dist.barrier()
    if RANK == 0:
        print(f"PASS {name}", flush=True)


def four_stage_mlp():
    """4 stages (each a Linear and an activation) of an MLP, as one flat Sequential."""
    rg.manual_seed(0)
    widths = [6, 16, 12, 8, 3]
    layers = []
    for i in range(4):
        layers += [nn.Linear(widths[i], widths[i + 1]), nn.Tanh() if i < 3 else nn.Identity()]
    return nn.Sequential(*layers).double()


DATA = np.random.default_rng(0)
X = DATA.standard_normal((STEPS, N, 6))
Y = DATA.integers(0, 3, size=(STEPS, N))
BALANCE = [8 // WORLD] * WORLD  # 2 ranks: 2 stages (4 layers) each; 4 ranks: 1 stage each


def check_gradients():
    whole = four_stage_mlp()
    loss = F.cross_entropy(whole(rg.tensor(X[0])), rg.tensor(Y[0]))
    loss.backward()
    for chunks in (1, 4):
        pipe = Pipeline(four_stage_mlp(), balance=BALANCE, chunks=chunks)
        value = pipe.train_step(rg.tensor(X[0]) if pipe.is_first_stage else None,
                                rg.tensor(Y[0]) if pipe.is_last_stage else None,
                                F.cross_entropy)
        assert abs(value - loss.item()) < 1e-12, (value, loss.item())
        for name, p in pipe.stage.named_parameters():
            want = whole.get_parameter(name).grad.data
            diff = float(np.max(np.abs(p.grad.data - want)))
            assert diff < 1e-12, f"[rank {RANK}] chunks={chunks}: {name} differs by {diff}"


def check_training():
    for name in ("sgd", "adam"):
        make = (lambda ps: rg.optim.SGD(ps, lr=0.2, momentum=0.9)) if name == "sgd" else (
            lambda ps: rg.optim.Adam(ps, lr=0.02))
        whole = four_stage_mlp()
        opt = make(whole.parameters())
        for t in range(STEPS):
            opt.zero_grad()
            F.cross_entropy(whole(rg.tensor(X[t])), rg.tensor(Y[t])).backward()
            opt.step()
        pipe = Pipeline(four_stage_mlp(), balance=BALANCE, chunks=4)
        opt = make(pipe.parameters())
        for t in range(STEPS):
            opt.zero_grad()
            pipe.train_step(rg.tensor(X[t]), rg.tensor(Y[t]), F.cross_entropy)
            opt.step()
        for pname, p in pipe.stage.named_parameters():
            diff = float(np.max(np.abs(p.data - whole.get_parameter(pname).data)))
            assert diff < 1e-10, f"[rank {RANK}] {name}: {pname} differs by {diff}"


def check_forward_and_layout():
    pipe = Pipeline(four_stage_mlp(), balance=BALANCE, chunks=3)
    per_rank = 8 // WORLD
    assert pipe.layers == range(RANK * per_rank, (RANK + 1) * per_rank)
    names = [n for n, _ in pipe.stage.named_parameters()]
    assert names[0] == f"{RANK * per_rank}.weight", names  # the layers keep their names
    out = pipe.predict(rg.tensor(X[1]))
    whole = four_stage_mlp()
    if pipe.is_last_stage:
        with rg.no_grad():
            want = whole(rg.tensor(X[1])).numpy()
        assert np.max(np.abs(out.numpy() - want)) < 1e-12 and not out.requires_grad
    else:
        assert out is None
    split = Pipeline(four_stage_mlp(), split_points=[8 // WORLD * r for r in range(1, WORLD)])
    assert split.layers == pipe.layers
    default = Pipeline(four_stage_mlp())
    assert default.layers == pipe.layers
    for kwargs, pattern in (({"balance": [8]}, "one entry per rank"),
                            ({"balance": [1] * WORLD}, "sums to"),
                            ({"chunks": 0}, "chunks")):
        try:
            Pipeline(four_stage_mlp(), **kwargs)
        except ValueError as err:
            assert pattern in str(err), (pattern, err)
        else:
            raise AssertionError(pattern)


def check_differentiable_messages():
    """send/recv by hand around a ring: the gradient of each rank's input comes back from the
    rank that used it."""
    from retrograd.distributed.functional import recv, send

    w = rg.tensor([float(RANK + 1)] * 3, dtype=rg.float64, requires_grad=True)
    nxt, prev = (RANK + 1) % WORLD, (RANK - 1) % WORLD
    if RANK % 2 == 0:
        token = send(w * 2, nxt)
        got = recv(prev)
    else:
        got = recv(prev)
        token = send(w * 2, nxt)
    (token + (got * got).sum()).backward()
    # rank r's w*2 was squared by rank r+1: d/dw of (2w)^2 = 8w
    assert np.allclose(w.grad.numpy(), 8 * w.data), w.grad
    with rg.no_grad():
        if RANK == 0:
            send(rg.tensor([1, 2, 3]), 1)
        elif RANK == 1:
            plain = recv(0)
            assert plain.tolist() == [1, 2, 3] and plain.dtype == rg.int64
            assert not plain.requires_grad


for check in (check_gradients, check_training, check_forward_and_layout,
              check_differentiable_messages):
    check()
    passed(check.__name__.removeprefix("check_"))
dist.destroy_process_group()
