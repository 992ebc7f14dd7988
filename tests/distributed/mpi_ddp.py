"""Data-parallel checks, run on 2 ranks by test_ddp.py: `mpiexec -n 2 python mpi_ddp.py`.

Every check compares against a reference computed in this same process without any
communication (one process with the combined batch, or a simulation of both replicas), and
prints `PASS <name>` on rank 0. A failing check raises, which ends the whole job (the abort
handler of init_process_group), so the job never hangs on a half-run check.
"""

import contextlib
import io
import sys
import warnings
from pathlib import Path

import numpy as np

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from retrograd.nn.parallel import DistributedDataParallel as DDP
from retrograd.utils.data import DataLoader, DistributedSampler, TensorDataset

dist = rg.distributed
dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
assert WORLD == 2, "run with mpiexec -n 2"
B = 4  # samples per rank and step
STEPS = 5
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else None


def passed(name):
    dist.barrier()
    if RANK == 0:
        print(f"PASS {name}", flush=True)


def close(a, b, tol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= tol


def params_of(model):
    return {n: p.data.copy() for n, p in model.named_parameters()}


def assert_same(got, want, what, tol=1e-10):
    assert got.keys() == want.keys(), (what, sorted(got), sorted(want))
    for name in want:
        diff = float(np.max(np.abs(got[name] - want[name]), initial=0.0))
        assert diff <= tol, f"[rank {RANK}] {what}: {name} differs by {diff:.3g}"


# ------------------------------------------------------------------ collectives
def check_collectives():
    t = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64) * (RANK + 1)
    version = t.version
    dist.all_reduce(t)
    assert t.tolist() == [3.0, 6.0, 9.0] and t.version == version + 1
    for op, want in ((dist.ReduceOp.MAX, [2.0, 4.0]), (dist.ReduceOp.MIN, [1.0, 2.0]),
                     (dist.ReduceOp.PRODUCT, [2.0, 8.0]), (dist.ReduceOp.AVG, [1.5, 3.0])):
        t = rg.tensor([1.0, 2.0], dtype=rg.float32) * (RANK + 1)
        dist.all_reduce(t, op=op)
        assert t.tolist() == want and t.dtype == rg.float32, (op, t)
    ints = rg.tensor([RANK, 10])
    dist.all_reduce(ints)
    assert ints.tolist() == [1, 20]
    # a non-contiguous view: reduced through a copy, written back into the base's memory
    base = rg.tensor(np.arange(6.0).reshape(2, 3) + RANK)
    view = base.t()
    dist.all_reduce(view)
    assert close(base.numpy(), 2 * np.arange(6.0).reshape(2, 3) + 1)
    # asynchronous: the result is there after wait()
    t = rg.full((1000,), float(RANK), dtype=rg.float64)
    work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
    assert work.wait() and work.is_completed() and close(t.numpy(), np.full(1000, 0.5))
    # broadcast from rank 1
    t = rg.tensor([float(RANK)] * 4)
    dist.broadcast(t, src=1)
    assert t.tolist() == [1.0] * 4
    t = rg.zeros(3) + RANK
    dist.broadcast(t, src=0, async_op=True).wait()
    assert t.tolist() == [0.0] * 3
    # all_gather and reduce_scatter
    gathered = [rg.zeros(2, dtype=rg.float64) for _ in range(WORLD)]
    dist.all_gather(gathered, rg.tensor([RANK, RANK + 10.0], dtype=rg.float64))
    assert [g.tolist() for g in gathered] == [[0.0, 10.0], [1.0, 11.0]]
    gathered = [rg.zeros(1) for _ in range(WORLD)]
    dist.all_gather(gathered, rg.tensor([RANK + 5.0]), async_op=True).wait()
    assert [g.item() for g in gathered] == [5.0, 6.0]
    out = rg.zeros(2, dtype=rg.float64)
    inputs = [rg.tensor([r * 10.0 + RANK, 1.0], dtype=rg.float64) for r in range(WORLD)]
    dist.reduce_scatter(out, inputs)
    assert out.tolist() == [RANK * 20.0 + 1.0, 2.0]
    dist.reduce_scatter(out, inputs, op=dist.ReduceOp.AVG, async_op=True).wait()
    assert out.tolist() == [RANK * 10.0 + 0.5, 1.0]
    # point to point, blocking and not
    peer = 1 - RANK
    if RANK == 0:
        dist.send(rg.tensor([1.0, 2.0]), dst=1)
        got = rg.zeros(3, dtype=rg.float64)
        assert dist.recv(got) == 1 and got.tolist() == [7.0, 8.0, 9.0]  # from any source
    else:
        got = rg.zeros(2)
        assert dist.recv(got, src=0) == 0 and got.tolist() == [1.0, 2.0]
        dist.send(rg.tensor([7.0, 8.0, 9.0], dtype=rg.float64), dst=0)
    box = rg.zeros(2)
    works = [dist.isend(rg.tensor([RANK, RANK], dtype=rg.float32), dst=peer, tag=3),
             dist.irecv(box, src=peer, tag=3)]
    for w in works:
        w.wait()
    assert box.tolist() == [float(peer)] * 2
    dist.barrier()
    dist.barrier(async_op=True).wait()
    # errors name the call
    for call, pattern in ((lambda: dist.broadcast(rg.zeros(1), src=5), "broadcast: src=5"),
                          (lambda: dist.all_reduce(rg.zeros(1), op="nope"), "all_reduce: op"),
                          (lambda: dist.all_reduce(rg.zeros(1, dtype=rg.int64),
                                                   op=dist.ReduceOp.AVG), "AVG needs"),
                          (lambda: dist.all_gather([rg.zeros(1)], rg.zeros(1)), "all_gather")):
        try:
            call()
        except (ValueError, TypeError) as err:
            assert pattern in str(err), (pattern, err)
        else:
            raise AssertionError(f"no error: {pattern}")


# ------------------------------------------------------------------ DDP against one process
def mlp(seed):
    rg.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 12), nn.Tanh(), nn.Linear(12, 12), nn.Tanh(),
                         nn.Linear(12, 3)).double()


DATA = np.random.default_rng(1)
X = DATA.standard_normal((STEPS, WORLD * B, 5))
Y = DATA.standard_normal((STEPS, WORLD * B, 3))


def optimizer(name, params):
    if name == "sgd":
        return rg.optim.SGD(params, lr=0.1, momentum=0.9)
    return rg.optim.Adam(params, lr=0.01)


def one_process(name):
    """The reference: one process, batches of WORLD * B samples."""
    model = mlp(0)
    opt = optimizer(name, model.parameters())
    for t in range(STEPS):
        opt.zero_grad()
        F.mse_loss(model(rg.tensor(X[t])), rg.tensor(Y[t])).backward()
        opt.step()
    return params_of(model)


def data_parallel(name, bucket_cap_mb, accumulate):
    # each rank starts from different weights: the broadcast from rank 0 must fix that
    model = mlp(0 if RANK == 0 else 100 + RANK)
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb)
    opt = optimizer(name, ddp.parameters())
    mine = slice(RANK * B, (RANK + 1) * B)
    for t in range(STEPS):
        opt.zero_grad()
        x, y = rg.tensor(X[t, mine]), rg.tensor(Y[t, mine])
        if accumulate:  # two half batches: the first only accumulates locally
            with ddp.no_sync():
                (F.mse_loss(ddp(x[: B // 2]), y[: B // 2]) * 0.5).backward()
            (F.mse_loss(ddp(x[B // 2:]), y[B // 2:]) * 0.5).backward()
        else:
            F.mse_loss(ddp(x), y).backward()
        opt.step()
    assert dist.check_parameters_agree(model) == []
    return ddp, params_of(model)


def check_equivalence():
    for name in ("sgd", "adam"):
        want = one_process(name)
        for cap, accumulate in ((25, False), (0.0005, False), (0.0005, True), (25, True)):
            ddp, got = data_parallel(name, cap, accumulate)
            buckets = len(ddp.reducer.buckets)
            assert (buckets == 1) if cap == 25 else (buckets >= 4), buckets
            assert_same(got, want, f"{name}, bucket_cap_mb={cap}, no_sync={accumulate}")
            ddp.reducer.remove_hooks()


def check_bucket_layout_and_overlap():
    """Buckets hold the parameters in reverse order; the buckets of the last layers are
    all-reduced while backward still works on the first layer (their hooks fire during the
    walk, not after it)."""
    model = mlp(0)
    ddp = DDP(model, bucket_cap_mb=0.0005)
    names = [n for n, _ in model.named_parameters()]
    groups = [[names[i] for i in b.indices] for b in ddp.reducer.buckets]
    assert groups == [["4.bias", "4.weight", "2.bias"], ["2.weight"], ["0.bias"],
                      ["0.weight"]], groups
    launched = []

    def watch(module, args):  # the gradient of layer 0's output: layers 2 and 4 are done
        args[0].register_hook(lambda g: launched.append(ddp.reducer.next_bucket))

    handle = model[1].register_forward_pre_hook(watch)
    F.mse_loss(ddp(rg.tensor(X[0, :B])), rg.tensor(Y[0, :B])).backward()
    handle.remove()
    assert launched == [2], launched
    ddp.reducer.remove_hooks()


def check_no_sync_is_local():
    """Inside no_sync() gradients are each rank's own; the next synced backward averages the
    accumulated sums."""
    model = mlp(0)
    ddp = DDP(model)
    x, y = rg.tensor(X[0, RANK * B:(RANK + 1) * B]), rg.tensor(Y[0, RANK * B:(RANK + 1) * B])
    local = mlp(0)
    F.mse_loss(local(x), y).backward()
    with ddp.no_sync():
        F.mse_loss(ddp(x), y).backward()
    for p, q in zip(model.parameters(), local.parameters()):
        assert close(p.grad.data, q.grad.data), "no_sync() communicated"
    F.mse_loss(ddp(x), y).backward()
    for p, q in zip(model.parameters(), local.parameters()):
        total = rg.tensor(2 * q.grad.data)
        dist.all_reduce(total, op=dist.ReduceOp.AVG)
        assert close(p.grad.data, total.numpy()), "the sync after no_sync() is wrong"
    ddp.reducer.remove_hooks()


def check_gradient_layouts():
    """A Linear weight's gradient comes out of backward in C order and goes through its bucket
    that way; when the ranks lay one out differently, the bucket is reduced again."""
    local = [mlp(0) for _ in range(WORLD)]
    for r, m in enumerate(local):
        F.mse_loss(m(rg.tensor(X[0, r * B:(r + 1) * B])), rg.tensor(Y[0, r * B:(r + 1) * B])
                   ).backward()
    assert local[0][0].weight.grad.data.flags.c_contiguous  # the premise of the fast path
    want = {n: (p.grad.data + q.grad.data) / 2
            for (n, p), q in zip(local[0].named_parameters(), local[1].parameters())}
    for mixed in (False, True):
        model = mlp(0)
        ddp = DDP(model)
        if mixed and RANK == 1:  # rank 1 hands its weight gradients over in Fortran order
            for p in model.parameters():
                p.register_hook(lambda g: rg.tensor(np.asfortranarray(g.data)))
        for _ in range(2):  # the second pass writes into the existing .grad arrays
            model.zero_grad(set_to_none=False)
            x = rg.tensor(X[0, RANK * B:(RANK + 1) * B])
            F.mse_loss(ddp(x), rg.tensor(Y[0, RANK * B:(RANK + 1) * B])).backward()
            got = {n: p.grad.data for n, p in model.named_parameters()}
            assert_same(got, want, f"gradient layouts (mixed={mixed})", tol=1e-14)
        ddp.reducer.remove_hooks()


def check_unused_parameters():
    class Branches(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(5, 3)
            self.b = nn.Linear(5, 3)
            self.c = nn.Linear(5, 3)  # used by no rank

        def forward(self, x, use_b):
            out = self.a(x)
            return out + self.b(x) if use_b else out

    def local_grads(rank):
        model = Branches().double()
        model.load_state_dict(reference.state_dict())
        x, y = rg.tensor(X[0, rank * B:(rank + 1) * B]), rg.tensor(Y[0, rank * B:(rank + 1) * B])
        F.mse_loss(model(x, rank == 0), y).backward()
        return {n: (p.grad.data if p.grad is not None else 0.0)
                for n, p in model.named_parameters()}

    rg.manual_seed(3)
    reference = Branches().double()
    grads = [local_grads(r) for r in range(WORLD)]
    for find_unused in (False, True):
        model = Branches().double()
        model.load_state_dict(reference.state_dict())
        ddp = DDP(model, find_unused_parameters=find_unused, debug=True)
        x, y = rg.tensor(X[0, RANK * B:(RANK + 1) * B]), rg.tensor(Y[0, RANK * B:(RANK + 1) * B])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            F.mse_loss(ddp(x, RANK == 0), y).backward()
        for name, p in model.named_parameters():
            if name.startswith("c.") and find_unused:
                assert p.grad is None, name  # unused on every rank: left alone
                continue
            want = (np.asarray(grads[0][name]) + np.asarray(grads[1][name])) / 2
            assert close(p.grad.data, np.broadcast_to(want, p.shape)), name
        text = " ".join(str(w.message) for w in caught)
        unused_here = ["b.weight", "b.bias"] if RANK == 1 else []
        for name in [*unused_here, "c.weight", "c.bias"]:
            assert name in text, (name, text)
        if RANK == 0:
            assert "b.weight" not in text, text
        ddp.reducer.remove_hooks()


def check_debug_names_differing_parameters():
    model = mlp(0)
    ddp = DDP(model, debug=True)
    opt = rg.optim.SGD(ddp.parameters(), lr=0.1)
    x, y = rg.tensor(X[0, RANK * B:(RANK + 1) * B]), rg.tensor(Y[0, RANK * B:(RANK + 1) * B])
    F.mse_loss(ddp(x), y).backward()
    opt.step()
    if RANK == 1:
        with rg.no_grad():
            model[2].bias.add_(1e-9)  # a replica that drifted
    try:
        ddp(x)
    except RuntimeError as err:
        message = str(err)
        assert "2.bias: ranks [1] differ from rank 0" in message, message
        assert "2.weight" not in message, message
    else:
        raise AssertionError("the debug check missed a differing parameter")
    ddp.reducer.remove_hooks()


def check_structure_mismatch():
    model = mlp(0) if RANK == 0 else nn.Sequential(nn.Linear(5, 12)).double()
    try:
        DDP(model)
    except RuntimeError as err:
        assert "ranks [1] has different parameters" in str(err), str(err)
    else:
        raise AssertionError("DDP accepted different models on different ranks")


def check_state_dict_and_wrapping():
    model = mlp(0)
    ddp = DDP(model)
    keys = list(ddp.state_dict())
    assert keys == ["module." + k for k in model.state_dict()], keys
    assert ddp.module is model and len(list(ddp.parameters())) == 6
    ddp.reducer.remove_hooks()


# ------------------------------------------------------------------ BatchNorm buffers
def bn_net(seed):
    rg.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3)).double()


def simulate_bn(broadcast_buffers):
    """Both replicas in one process, exactly as DDP runs them: rank 0's parameters and buffers
    at the start; before each forward rank 1 takes rank 0's buffers (when broadcasting); each
    replica normalizes its own B samples; gradients averaged; the same SGD step."""
    replicas = [bn_net(0), bn_net(0)]
    opts = [rg.optim.SGD(m.parameters(), lr=0.1) for m in replicas]
    for t in range(STEPS):
        if broadcast_buffers:
            for name, buf in replicas[1].named_buffers():
                buf.data[...] = replicas[0].get_buffer(name).data
        grads = []
        for r, (m, opt) in enumerate(zip(replicas, opts)):
            opt.zero_grad()
            x = rg.tensor(X[t, r * B:(r + 1) * B])
            F.mse_loss(m(x), rg.tensor(Y[t, r * B:(r + 1) * B])).backward()
            grads.append([p.grad.data.copy() for p in m.parameters()])
        for m, opt in zip(replicas, opts):
            for p, g0, g1 in zip(m.parameters(), *grads):
                p.grad.data[...] = (g0 + g1) / 2
            opt.step()
    return replicas


def check_batchnorm_buffers():
    for broadcast_buffers in (True, False):
        want = simulate_bn(broadcast_buffers)[RANK]
        model = bn_net(0 if RANK == 0 else 7)
        ddp = DDP(model, broadcast_buffers=broadcast_buffers)
        opt = rg.optim.SGD(ddp.parameters(), lr=0.1)
        for t in range(STEPS):
            opt.zero_grad()
            x = rg.tensor(X[t, RANK * B:(RANK + 1) * B])
            F.mse_loss(ddp(x), rg.tensor(Y[t, RANK * B:(RANK + 1) * B])).backward()
            opt.step()
        got = {k: v.numpy() for k, v in model.state_dict().items()}
        assert_same(got, {k: v.numpy() for k, v in want.state_dict().items()},
                    f"BatchNorm, broadcast_buffers={broadcast_buffers}")
        ddp.reducer.remove_hooks()
    # evaluation under no_grad neither syncs buffers nor arms the reducer
    model = bn_net(0)
    ddp = DDP(model)
    model[1].running_mean.data += RANK
    with rg.no_grad():
        ddp.eval()(rg.tensor(X[0, :B]))
    assert close(model[1].running_mean.numpy(), np.full(8, float(RANK)))
    assert not ddp.reducer.armed
    ddp.reducer.remove_hooks()


# ------------------------------------------------------------------ sampler and fit
def check_distributed_sampler():
    n = 11
    sampler = DistributedSampler(range(n), seed=5)
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (2, RANK, 6)
    mine = np.array(list(sampler), dtype=np.int64)
    both = [rg.zeros(6, dtype=rg.int64) for _ in range(WORLD)]
    dist.all_gather(both, rg.tensor(mine))
    merged = np.stack([b.numpy() for b in both], axis=1).reshape(-1)  # interleaved back
    order = list(DistributedSampler(range(n), num_replicas=1, rank=0, seed=5))
    assert merged.tolist() == order + order[:1], (merged, order)
    sampler.set_epoch(1)
    assert list(sampler) != mine.tolist()


def check_fit():
    """rg.train's fit with DDP and DistributedSampler on 2 ranks (batches of b) equals fit in
    one process (batches of 2b over the same permutation); only rank 0 prints and saves."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((44, 5))
    y = rng.integers(0, 3, size=44)
    dataset = TensorDataset(rg.tensor(x), rg.tensor(y))

    def run(world, rank, model):
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, seed=3)
        loader = DataLoader(dataset, batch_size=(2 * B) // world, sampler=sampler)
        opt = rg.optim.SGD(model.parameters(), lr=0.2, momentum=0.5)
        directory = OUT / f"rank{RANK}-world{world}"
        callbacks = [rg.train.ModelCheckpoint(directory),
                     rg.train.MetricsLogger(directory / "metrics.jsonl")]
        trainer = rg.train.Trainer(model, F.cross_entropy, opt, callbacks=callbacks,
                                   progress=False, accumulation_steps=2)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            history = trainer.fit(loader, DataLoader(dataset, batch_size=16), epochs=3)
        return history, printed.getvalue(), directory

    ddp = DDP(mlp(0 if RANK == 0 else 9))
    history, printed, directory = run(WORLD, RANK, ddp)
    reference = mlp(0)
    ref_history, _, ref_directory = run(1, 0, reference) if RANK == 0 else (None, None, None)
    if RANK == 0:
        assert_same(params_of(ddp.module), params_of(reference), "fit")
        for got, want in zip(history.records, ref_history.records, strict=True):
            for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
                assert abs(got[key] - want[key]) < 1e-10, (key, got[key], want[key])
        assert printed.count("epoch ") == 3, printed
        assert sorted(p.name for p in directory.iterdir()) == [
            "best.safetensors", "last.safetensors", "metrics.jsonl"]
        checkpoint = rg.load(directory / "last.safetensors")
        assert sorted(checkpoint["model"]) == sorted(reference.state_dict())  # no "module."
    else:
        assert printed == "", printed
        assert not directory.exists()  # rank 1 neither logs nor saves
    ddp.reducer.remove_hooks()


CHECKS = [check_collectives, check_equivalence, check_bucket_layout_and_overlap,
          check_no_sync_is_local, check_gradient_layouts,
          check_unused_parameters, check_debug_names_differing_parameters,
          check_structure_mismatch, check_state_dict_and_wrapping, check_batchnorm_buffers,
          check_distributed_sampler, check_fit]

for check in CHECKS:
    if OUT is None and check is check_fit:
        continue
    check()
    passed(check.__name__.removeprefix("check_"))
dist.destroy_process_group()
