"""rg.save / rg.load: safetensors files that PyTorch reads, exact checkpoints, atomic writes."""

import ast
import io
import json
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd import serialization


def assert_same(a, b, where="obj"):
    """Exact equality of saved and loaded objects: types, dtypes, shapes, values (NaN-aware)."""
    assert type(a) is type(b) or (isinstance(a, rg.Tensor) and type(b) is rg.Tensor), (
        f"{where}: {type(a).__name__} became {type(b).__name__}"
    )
    if isinstance(a, (rg.Tensor, np.ndarray, np.generic)):
        x, y = np.asarray(a), np.asarray(b)
        assert x.dtype == y.dtype and x.shape == y.shape, f"{where}: {x.dtype}{x.shape}"
        np.testing.assert_array_equal(x, y, err_msg=where)
        if isinstance(a, rg.Tensor):
            assert a.requires_grad == b.requires_grad, where
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            assert type(key) is type(next(k for k in b if k == key)), f"{where}: key {key!r}"
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def state_dict():
    rng = np.random.default_rng(0)
    return {
        "fc1.weight": rg.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
        "fc1.bias": rg.tensor(rng.standard_normal(4).astype(np.float32)),
        "bn.running_mean": rg.tensor(rng.standard_normal(4)),  # float64
        "bn.num_batches_tracked": rg.tensor(np.array(7, dtype=np.int64)),  # 0-d
        "half": rg.tensor(rng.standard_normal((2, 2)).astype(np.float16)),
        "mask": rg.tensor(np.array([True, False, True])),
        "codes": rg.tensor(np.arange(5, dtype=np.uint8)),
        "ids": rg.tensor(np.arange(3, dtype=np.int32)),
        "empty": rg.tensor(np.zeros((0, 3), dtype=np.float32)),
        "transposed": rg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3).T),  # not contiguous
    }


def checkpoint():
    model = state_dict()
    rng = np.random.default_rng(1)
    exp_avg = {
        i: rg.tensor(rng.standard_normal(t.shape).astype(np.float32))
        for i, t in enumerate([model["fc1.weight"], model["fc1.bias"]])
    }
    optimizer = {
        "state": {
            i: {
                "step": rg.tensor(np.array(3.0, dtype=np.float32)),
                "exp_avg": exp_avg[i],
                "exp_avg_sq": exp_avg[i] * exp_avg[i],
            }
            for i in exp_avg
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0.0,
                "amsgrad": False,
                "maximize": False,
                "foreach": None,
                "params": [0, 1],
            },
        ],
    }
    rg.manual_seed(42)
    rg.rand(3)
    return {
        "model": model,
        "optimizer": optimizer,
        "scheduler": {
            "last_epoch": 5,
            "base_lrs": [1e-3],
            "_last_lr": [0.0009045084971874737],
            "milestones": {3: 1, 6: 2},
        },
        "rng": {"retrograd": rg.get_rng_state(), "numpy_array": np.arange(3)},
        "epoch": 7,
        "best_loss": float("inf"),
        "nan_metric": float("nan"),
        "history": [0.5, 0.25, -0.0],
        "name": "run-1",
        "scalar": np.float32(0.1),
        "weird keys": {"$ref": 1, None: "none", (1, "a"): [2], 2.5: "float", "a.b": 3},
        "big": 2**100,
    }


# ----------------------------------------------------------------- round trips


def test_state_dict_round_trips_exactly(tmp_path):
    sd = state_dict()
    rg.save(sd, tmp_path / "model.safetensors")
    loaded = rg.load(tmp_path / "model.safetensors")
    assert_same(sd, loaded)
    loaded["fc1.weight"].data[0, 0] = 5.0  # writable: optimizers update loaded state in place


def test_full_training_checkpoint_round_trips_exactly(tmp_path):
    ckpt = checkpoint()
    path = tmp_path / "ckpt.safetensors"
    rg.save(ckpt, path)
    loaded = rg.load(path)
    assert_same(ckpt, loaded)
    assert isinstance(loaded["optimizer"]["param_groups"][0]["betas"], tuple)
    assert list(loaded["optimizer"]["state"]) == [0, 1]
    expected = rg.rand(4)
    rg.set_rng_state(loaded["rng"]["retrograd"])  # the RNG resumes where it was saved
    np.testing.assert_array_equal(rg.rand(4).numpy(), expected.numpy())


def test_file_objects_and_requires_grad(tmp_path):
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    buffer = io.BytesIO()
    rg.save({"w": w, "frozen": w.detach()}, buffer)
    buffer.seek(0)
    loaded = rg.load(buffer)
    assert loaded["w"].requires_grad and not loaded["frozen"].requires_grad
    assert loaded["w"].is_leaf


def test_a_tensor_saved_twice_is_stored_once_and_stays_shared(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    shared = rg.tensor(np.ones(3, dtype=np.float32))
    rg.save({"encoder.emb": shared, "decoder.emb": shared}, tmp_path / "tied.safetensors")
    assert list(safetensors_numpy.load_file(tmp_path / "tied.safetensors")) == ["encoder.emb"]
    loaded = rg.load(tmp_path / "tied.safetensors")
    assert loaded["encoder.emb"] is loaded["decoder.emb"]


def test_colliding_dotted_names_are_kept_apart(tmp_path):
    obj = {"a.b": rg.tensor([1.0]), "a": {"b": rg.tensor([2.0])}}
    rg.save(obj, tmp_path / "c.safetensors")
    assert_same(obj, rg.load(tmp_path / "c.safetensors"))


def test_unsupported_objects_name_where_they_are(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=r"cannot store a function at 'model\.hook'"):
        rg.save({"model": {"hook": lambda: None}}, path)
    with pytest.raises(TypeError, match="dtype <U1"):
        rg.save({"labels": np.array(["a"])}, path)
    with pytest.raises(TypeError, match="dict key"):
        rg.save({frozenset(): 1}, path)
    assert not path.exists()


def test_metadata_is_standard_json(tmp_path):
    rg.save(checkpoint(), tmp_path / "c.safetensors")
    raw = (tmp_path / "c.safetensors").read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    json.loads(header["__metadata__"]["retrograd.tree"], parse_constant=reject)
    assert header["__metadata__"]["format"] == "pt"


# ----------------------------------------------------------------- PyTorch interop


def test_pytorch_reads_what_retrograd_saves(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    sd = state_dict()
    rg.save(sd, tmp_path / "m.safetensors")
    theirs = st_torch.load_file(tmp_path / "m.safetensors")
    assert sorted(theirs) == sorted(sd)
    for name, t in sd.items():
        assert str(theirs[name].dtype) == "torch." + str(t.dtype)
        np.testing.assert_array_equal(theirs[name].numpy(), t.numpy())
    layer = torch.nn.Linear(3, 4)
    layer.load_state_dict({"weight": theirs["fc1.weight"], "bias": theirs["fc1.bias"]})
    x = np.ones((1, 3), dtype=np.float32)
    expected = x @ sd["fc1.weight"].numpy().T + sd["fc1.bias"].numpy()
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-6)


def test_pytorch_sees_a_checkpoint_as_dotted_names(tmp_path):
    st_torch = pytest.importorskip("safetensors.torch")
    ckpt = checkpoint()
    rg.save(ckpt, tmp_path / "c.safetensors")
    theirs = st_torch.load_file(tmp_path / "c.safetensors")
    assert "model.fc1.weight" in theirs and "optimizer.state.1.exp_avg_sq" in theirs
    np.testing.assert_array_equal(
        theirs["optimizer.state.0.exp_avg"].numpy(),
        ckpt["optimizer"]["state"][0]["exp_avg"].numpy(),
    )


def test_retrograd_reads_what_pytorch_saves(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    theirs = {k: v.contiguous() for k, v in model.state_dict().items()}
    st_torch.save_file(theirs, tmp_path / "t.safetensors", metadata={"format": "pt"})
    loaded = rg.load(tmp_path / "t.safetensors")
    assert list(loaded) == sorted(theirs)
    for name, t in theirs.items():
        assert isinstance(loaded[name], rg.Tensor)
        assert str(loaded[name].dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_array_equal(loaded[name].numpy(), t.numpy())


def test_bfloat16_from_pytorch_widens_exactly_without_ml_dtypes(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    if rg.bfloat16 is not None:
        pytest.skip("ml_dtypes is installed: bfloat16 loads as bfloat16")
    t = torch.tensor([1.0, -2.5, 3.140625, 1e30], dtype=torch.bfloat16)
    st_torch.save_file({"w": t}, tmp_path / "b.safetensors")
    with pytest.warns(UserWarning, match="bfloat16, loaded as float32"):
        loaded = rg.load(tmp_path / "b.safetensors")
    np.testing.assert_array_equal(loaded["w"].numpy(), t.float().numpy())


# ----------------------------------------------------------------- safety


def test_serialization_never_imports_pickle():
    tree = ast.parse(Path(serialization.__file__).read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {"pickle", "marshal", "dill", "cloudpickle"} & imported


def test_loading_a_pickle_is_refused_not_executed(tmp_path):
    target = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(target),))

    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"w": Payload()}))
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        rg.load(tmp_path / "evil.pt")
    assert not target.exists()


@pytest.mark.parametrize("keep", [0, 5, 8, 40, -1])
def test_truncated_files_give_a_clear_error(tmp_path, keep):
    path = tmp_path / "c.safetensors"
    rg.save(checkpoint(), path)
    raw = path.read_bytes()
    path.write_bytes(raw[:keep] if keep >= 0 else raw[:-1])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        rg.load(path)


def test_every_flipped_bit_is_detected(tmp_path):
    path = tmp_path / "small.safetensors"
    rg.save({"w": rg.tensor([[1.0, 2.0]]), "step": 3, "opt": {0: {"m": rg.tensor([0.5])}}}, path)
    raw = path.read_bytes()
    undetected = []
    for position in range(len(raw)):
        for bit in (0x01, 0x10, 0x80):
            damaged = bytearray(raw)
            damaged[position] ^= bit
            try:
                rg.load(io.BytesIO(bytes(damaged)))
            except ValueError:
                continue
            undetected.append((position, bit))
    assert not undetected, f"flips loaded without error at (byte, bit): {undetected[:10]}"


def test_flipped_data_bytes_name_the_checksum(tmp_path):
    path = tmp_path / "c.safetensors"
    rg.save(state_dict(), path)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt.*checksum"):
        rg.load(path)


# ----------------------------------------------------------------- atomic writes


def test_a_crash_mid_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    old = {"epoch": 1, "w": rg.tensor([1.0, 2.0])}
    rg.save(old, path)
    before = path.read_bytes()

    def crash_half_way(out, payload):
        out.write(payload[: len(payload) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization, "_write_payload", crash_half_way)
    with pytest.raises(OSError, match="No space left"):
        rg.save({"epoch": 2, "w": rg.tensor(np.ones(1000))}, path)
    assert path.read_bytes() == before
    assert_same(old, rg.load(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]  # no temp left


def test_a_failing_fsync_or_interrupt_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    rg.save({"epoch": 1}, path)
    before = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rg.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and len(list(tmp_path.iterdir())) == 1
    rg.save({"epoch": 3}, path)
    assert rg.load(path) == {"epoch": 3}


def test_new_files_get_normal_permissions_and_old_ones_keep_theirs(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    previous = os.umask(0o022)
    try:
        rg.save({"a": 1}, tmp_path / "new.safetensors")
        assert (tmp_path / "new.safetensors").stat().st_mode & 0o777 == 0o644
        (tmp_path / "new.safetensors").chmod(0o600)
        rg.save({"a": 2}, tmp_path / "new.safetensors")
        assert (tmp_path / "new.safetensors").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)
