"""retrograd.utils.data: datasets, samplers, collation and the DataLoader (PyTorch as oracle)."""

import ast
import collections
import warnings
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)

DATA_SRC = Path(rg.__file__).parent / "utils" / "data"


def make_dataset(n=10, features=3):
    x = rg.tensor(np.arange(n * features, dtype=np.float32).reshape(n, features))
    y = rg.tensor(np.arange(n) % 4)
    return TensorDataset(x, y)


def labels_of(loader):
    return [yb.tolist() for _, yb in loader]


class ListDataset(Dataset):
    """A map-style dataset with no batch fast path: every sample goes through __getitem__."""

    def __init__(self, samples):
        self.samples = samples

    def __getitem__(self, index):
        return self.samples[index]

    def __len__(self):
        return len(self.samples)


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n = n
        self.with_len = with_len

    def __iter__(self):
        return iter(np.arange(self.n, dtype=np.float32))

    def __len__(self):
        if not self.with_len:
            raise TypeError("Stream has no length")
        return self.n


# ----------------------------------------------------------------- datasets


def test_tensor_dataset_rows_and_length():
    ds = make_dataset(5)
    x, y = ds[3]
    assert len(ds) == 5
    np.testing.assert_array_equal(x.numpy(), [9.0, 10.0, 11.0])
    assert y.item() == 3 and y.shape == () and y.dtype == rg.int64
    xs, ys = ds[[0, 2]]
    assert xs.shape == (2, 3) and ys.tolist() == [0, 2]


def test_tensor_dataset_accepts_arrays_and_checks_sizes():
    ds = TensorDataset(np.zeros((4, 2)), rg.tensor([1, 2, 3, 4]))
    assert isinstance(ds.tensors[0], rg.Tensor) and len(ds) == 4
    with pytest.raises(ValueError, match=r"size mismatch.*\(4, 3\)"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(TypeError, match="TensorDataset"):
        TensorDataset([1, 2, 3])


def test_tensor_dataset_index_out_of_range_ends_iteration():
    ds = make_dataset(3)
    with pytest.raises(IndexError):
        ds[3]
    assert len(list(iter(ds))) == 3  # the __getitem__ iteration protocol stops at IndexError


def test_subset_and_concat():
    ds = make_dataset(6)
    sub = Subset(ds, [5, 1, 3])
    assert len(sub) == 3 and sub[0][1].item() == 5 % 4 and sub[2][0].tolist()[0] == 9.0
    both = ConcatDataset([Subset(ds, [0, 1]), ds])
    assert len(both) == 8
    assert both[1][0].tolist()[0] == 3.0
    assert both[2][0].tolist()[0] == 0.0  # first sample of the second part
    assert both[-1][0].tolist()[0] == 15.0
    with pytest.raises(IndexError):
        both[8]
    with pytest.raises(IndexError):
        both[-9]
    assert len(ds + ds) == 12
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_chain_dataset_streams_one_after_another():
    chain = Stream(2) + Stream(3)
    assert isinstance(chain, ChainDataset)
    assert [float(v) for v in chain] == [0.0, 1.0, 0.0, 1.0, 2.0]
    assert len(chain) == 5


@pytest.mark.parametrize(
    "n,lengths",
    [(10, [0.33, 0.33, 0.34]), (10, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (11, [0.3, 0.7])],
)
def test_random_split_fraction_lengths_match_pytorch(n, lengths):
    torch = pytest.importorskip("torch")
    expected = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
    got = [len(s) for s in random_split(range(n), lengths, generator=rg.Generator(seed=0))]
    assert got == expected


def test_random_split_is_a_seeded_partition():
    parts = random_split(range(20), [5, 7, 8], generator=rg.Generator(seed=3))
    indices = [i for part in parts for i in part.indices]
    assert sorted(indices) == list(range(20)) and indices != list(range(20))
    again = random_split(range(20), [5, 7, 8], generator=rg.Generator(seed=3))
    assert [p.indices for p in again] == [p.indices for p in parts]
    other = random_split(range(20), [5, 7, 8], generator=rg.Generator(seed=4))
    assert [p.indices for p in other] != [p.indices for p in parts]
    assert parts[1][0] == parts[1].indices[0]


def test_random_split_rejects_bad_lengths():
    with pytest.raises(ValueError, match="does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="empty"):
        parts = random_split(range(2), [0.9, 0.05, 0.05], generator=rg.Generator(seed=0))
    assert [len(p) for p in parts] == [2, 0, 0]


# ----------------------------------------------------------------- samplers


def test_sequential_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(range(4))) == 4


def test_random_sampler_is_a_permutation_seeded_and_new_each_epoch():
    gen = rg.Generator(seed=7)
    sampler = RandomSampler(range(50), generator=gen)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != second  # a fresh order every pass
    replay = RandomSampler(range(50), generator=rg.Generator(seed=7))
    assert [list(replay), list(replay)] == [first, second]
    assert all(isinstance(i, int) for i in first)


def test_random_sampler_without_generator_follows_manual_seed():
    sampler = RandomSampler(range(30))
    rg.manual_seed(123)
    first = [list(sampler), list(sampler)]
    rg.manual_seed(123)
    assert [list(sampler), list(sampler)] == first
    assert first[0] != first[1]


def test_random_sampler_num_samples_and_replacement():
    sampler = RandomSampler(range(4), num_samples=10, generator=rg.Generator(seed=0))
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 10
    assert sorted(drawn[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]  # two full permutations, then a part
    with_replacement = list(
        RandomSampler(range(3), replacement=True, num_samples=200, generator=rg.Generator(seed=0))
    )
    assert len(with_replacement) == 200 and set(with_replacement) == {0, 1, 2}
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(0))
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(TypeError, match="rg.Generator"):
        RandomSampler(range(3), generator=np.random.default_rng(0))


def test_subset_and_weighted_samplers():
    sub = list(SubsetRandomSampler([10, 20, 30], generator=rg.Generator(seed=0)))
    assert sorted(sub) == [10, 20, 30]
    weights = [0.0, 1.0, 0.0, 3.0]
    drawn = list(WeightedRandomSampler(weights, 400, generator=rg.Generator(seed=0)))
    counts = collections.Counter(drawn)
    assert set(counts) == {1, 3} and 0.15 < counts[1] / 400 < 0.35
    no_repeat = list(WeightedRandomSampler(weights, 2, replacement=False))
    assert sorted(no_repeat) == [1, 3]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler(weights, 3, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)


@pytest.mark.parametrize(
    "n,batch_size,drop_last",
    [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True), (7, 1, False)],
)
def test_batch_sampler_matches_pytorch(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    ours = BatchSampler(range(n), batch_size, drop_last)
    theirs = torch.utils.data.BatchSampler(range(n), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


def test_batch_sampler_validates():
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), True, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, 1)


# ----------------------------------------------------------------- collation


def _same_as_torch(ours, theirs):
    """Structure, types, dtypes and values agree."""
    torch = pytest.importorskip("torch")
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, rg.Tensor), type(ours)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            _same_as_torch(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same_as_torch(a, b)
    else:
        assert ours == theirs


Point = collections.namedtuple("Point", ["x", "label"])

COLLATE_CASES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0],
    "bools": [True, False],
    "numpy_float32_scalars": [np.float32(1.0), np.float32(2.5)],
    "numpy_int_scalars": [np.int32(1), np.int32(7)],
    "arrays_float64": [np.ones((2, 3)), np.zeros((2, 3))],
    "arrays_uint8": [np.ones(4, dtype=np.uint8), np.arange(4, dtype=np.uint8)],
    "strings": ["a", "bc"],
    "tuples": [(np.ones(2, dtype=np.float32), 1), (np.zeros(2, dtype=np.float32), 0)],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"x": np.ones(2), "y": 1, "name": "a"}, {"x": np.zeros(2), "y": 0, "name": "b"}],
    "nested": [{"pair": (1, [2.0, 3.0])}, {"pair": (4, [5.0, 6.0])}],
    "namedtuples": [
        Point(np.ones(2, dtype=np.float32), 1),
        Point(np.zeros(2, dtype=np.float32), 2),
    ],
}


@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    batch = COLLATE_CASES[case]
    _same_as_torch(default_collate(batch), torch.utils.data.default_collate(batch))


def test_default_collate_stacks_tensors_keeping_dtype():
    batch = [rg.tensor([1, 2], dtype=rg.int32), rg.tensor([3, 4], dtype=rg.int32)]
    out = default_collate(batch)
    assert out.dtype == rg.int32 and out.tolist() == [[1, 2], [3, 4]]
    pair = default_collate([(rg.tensor([1.0]), 0), (rg.tensor([2.0]), 1)])
    assert isinstance(pair, list) and pair[0].shape == (2, 1) and pair[1].dtype == rg.int64


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"equal size.*\(2,\) at entry 0 and \(3,\) at entry 1"):
        default_collate([rg.tensor([1.0, 2.0]), rg.tensor([1.0, 2.0, 3.0])])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="dtype"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_default_convert_turns_arrays_into_tensors():
    out = default_convert({"x": np.ones(3, dtype=np.float32), "y": (np.int64(2), "s")})
    assert isinstance(out["x"], rg.Tensor) and out["x"].dtype == rg.float32
    assert isinstance(out["y"], list) and out["y"][0].item() == 2 and out["y"][1] == "s"
    assert default_convert(5) == 5


# ----------------------------------------------------------------- DataLoader


def test_full_batch_mini_batch_and_online_are_settings():
    ds = make_dataset(10)
    (full,) = list(DataLoader(ds, batch_size=len(ds)))
    np.testing.assert_array_equal(full[0].numpy(), ds.tensors[0].numpy())
    np.testing.assert_array_equal(full[1].numpy(), ds.tensors[1].numpy())
    shapes = [xb.shape for xb, _ in DataLoader(ds, batch_size=4)]
    assert shapes == [(4, 3), (4, 3), (2, 3)]
    online = list(DataLoader(ds))  # batch_size=1 is PyTorch's default
    assert len(online) == 10 and online[0][0].shape == (1, 3) and online[0][1].shape == (1,)
    unbatched = list(DataLoader(ds, batch_size=None))
    assert unbatched[0][0].shape == (3,) and unbatched[0][1].shape == ()


@pytest.mark.parametrize(
    "n,batch_size,drop_last",
    [(10, 3, False), (10, 3, True), (10, 10, False), (10, 20, True), (10, 20, False), (1, 1, True)],
)
def test_len_matches_pytorch_and_iteration(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    ours = DataLoader(make_dataset(n), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs) == len(list(ours))
    assert labels_of(ours) == [[i % 4 for i in b.tolist()] for b in theirs]


def test_shuffle_is_reproducible_covers_everything_and_changes_per_epoch():
    ds = make_dataset(23)
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=rg.Generator(seed=0))
    epochs = []
    for _ in range(3):
        rows = [row for xb, _ in loader for row in (xb.numpy()[:, 0] / 3).astype(int).tolist()]
        assert sorted(rows) == list(range(23))
        epochs.append(rows)
    assert epochs[0] != epochs[1] != epochs[2]
    replay = DataLoader(ds, batch_size=5, shuffle=True, generator=rg.Generator(seed=0))
    again = [
        [r for xb, _ in replay for r in (xb.numpy()[:, 0] / 3).astype(int).tolist()]
        for _ in range(3)
    ]
    assert again == epochs
    unshuffled = [
        r
        for xb, _ in DataLoader(ds, batch_size=5)
        for r in (xb.numpy()[:, 0] / 3).astype(int).tolist()
    ]
    assert unshuffled == list(range(23))


def test_shuffle_resumes_from_a_saved_generator_state():
    gen = rg.Generator(seed=5)
    loader = DataLoader(make_dataset(12), batch_size=4, shuffle=True, generator=gen)
    labels_of(loader)  # epoch 1
    state = gen.get_state()
    epoch2 = labels_of(loader)
    gen.set_state(state)
    assert labels_of(loader) == epoch2


def test_shuffle_without_generator_follows_manual_seed():
    loader = DataLoader(make_dataset(16), batch_size=4, shuffle=True)
    rg.manual_seed(0)
    first = labels_of(loader)
    rg.manual_seed(0)
    assert labels_of(loader) == first


def test_fast_tensor_path_equals_per_sample_collation():
    ds = make_dataset(11)

    class Slow(TensorDataset):
        def __getitem__(self, index):  # overriding __getitem__ turns the fast path off
            return super().__getitem__(index)

    slow = Slow(*ds.tensors)
    assert slow._batch_fetcher() is None and ds._batch_fetcher() is not None
    assert (
        Subset(ds, [1])._batch_fetcher() is not None and Subset(slow, [1])._batch_fetcher() is None
    )
    for data in (ds, Subset(ds, [10, 2, 5, 7, 0])):
        fast = list(DataLoader(data, batch_size=3, shuffle=True, generator=rg.Generator(seed=1)))
        same = data if data is not ds else slow
        reference = [
            default_collate([same[i] for i in idx])
            for idx in BatchSampler(RandomSampler(same, generator=rg.Generator(seed=1)), 3, False)
        ]
        assert len(fast) == len(reference)
        for (xa, ya), (xb, yb) in zip(fast, reference):
            assert isinstance(xa, rg.Tensor) and xa.dtype == xb.dtype and ya.dtype == yb.dtype
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_custom_dataset_of_dicts_and_custom_collate():
    samples = [{"x": np.full(2, i, dtype=np.float32), "y": i} for i in range(5)]
    batches = list(DataLoader(ListDataset(samples), batch_size=2))
    assert [b["y"].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0]["x"].shape == (2, 2) and batches[0]["x"].dtype == rg.float32
    sizes = list(DataLoader(ListDataset(samples), batch_size=2, collate_fn=len))
    assert sizes == [2, 2, 1]


def test_batch_sampler_and_sampler_options():
    ds = make_dataset(6)
    loader = DataLoader(ds, batch_sampler=[[5, 0], [1, 2, 3]])
    assert labels_of(loader) == [[1, 0], [1, 2, 3]] and len(loader) == 2
    loader = DataLoader(ds, batch_size=2, sampler=[4, 3, 2])
    assert labels_of(loader) == [[0, 3], [2]]


def test_iterable_dataset_batches():
    loader = DataLoader(Stream(7), batch_size=3)
    batches = [b.tolist() for b in loader]
    assert batches == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0]] and len(loader) == 3
    assert len(list(DataLoader(Stream(7), batch_size=3, drop_last=True))) == 2
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    with pytest.raises(TypeError):
        len(DataLoader(Stream(7, with_len=False), batch_size=3))
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="sampler"):
        DataLoader(Stream(3), sampler=[0, 1])


def test_option_conflicts_raise_like_pytorch():
    ds = make_dataset(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="rg.Generator"):
        DataLoader(ds, shuffle=True, generator=np.random.default_rng(0))


def test_num_workers_is_ignored_with_a_warning():
    ds = make_dataset(5)
    with pytest.warns(RuntimeWarning, match="num_workers=2 is ignored"):
        loader = DataLoader(ds, batch_size=2, num_workers=2)
    assert labels_of(loader) == labels_of(DataLoader(ds, batch_size=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(ds, num_workers=0)


# ----------------------------------------------------------------- layering


def test_data_imports_nothing_above_tensor_and_generator():
    """data -> numpy, the standard library, the Tensor and the random Generator only."""
    # + DistributedSampler's default rank and world size, asked of the process group lazily
    allowed_internal = {"autograd.tensor", "ops.random", "distributed.process_group"}
    for path in DATA_SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 3:
                assert node.module in allowed_internal, f"{path.name} imports {node.module}"
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module.split(".")[0] != "retrograd", f"{path.name}: {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in {
                        "numpy",
                        "bisect",
                        "itertools",
                        "math",
                        "warnings",
                        "collections",
                        "copy",
                    }, f"{path.name} imports {alias.name}"
