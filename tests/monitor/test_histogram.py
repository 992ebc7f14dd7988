"""Histogram records: binning against a by-hand reference, edge cases, bounded samples."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.monitor import bounded_sample, histogram
from retrograd.monitor.histogram import merge_range


def reference_counts(values, bins):
    """Bin index floor((v - lo) / width), the maximum in the last bin, counted by hand."""
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / width), bins - 1)] += 1
    return counts


@pytest.mark.parametrize("bins", [1, 7, 30])
def test_counts_match_binning_by_hand(bins):
    values = np.random.default_rng(bins).standard_normal(997)
    h = histogram(values, bins)
    assert h["counts"] == reference_counts(values.tolist(), bins)
    assert len(h["edges"]) == bins + 1 and sum(h["counts"]) == h["n"] == 997
    assert h["edges"][0] == values.min() and h["edges"][-1] == values.max()
    assert np.all(np.diff(h["edges"]) > 0)
    assert h["mean"] == pytest.approx(values.mean()) and h["std"] == pytest.approx(values.std())
    assert h["min"] == values.min() and h["max"] == values.max() and h["nonfinite"] == 0


def test_the_maximum_lands_in_the_last_bin_and_the_minimum_in_the_first():
    h = histogram([0.0, 1.0, 2.0, 3.0, 4.0], bins=4)
    assert h["edges"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert h["counts"] == [1, 1, 1, 2]


def test_nonfinite_values_are_counted_apart():
    h = histogram([1.0, np.nan, 2.0, np.inf, -np.inf, 3.0], bins=2)
    assert h["n"] == 3 and h["nonfinite"] == 3 and sum(h["counts"]) == 3
    assert h["min"] == 1.0 and h["max"] == 3.0 and h["mean"] == 2.0


def test_only_nonfinite_or_empty_gives_no_bins():
    h = histogram([np.nan, np.inf])
    assert h["counts"] == [] and h["edges"] == [] and h["n"] == 0 and h["nonfinite"] == 2
    assert h["mean"] is None and h["min"] is None
    empty = histogram(np.zeros((0, 3)))
    assert empty["counts"] == [] and empty["n"] == 0 and empty["zeros"] == 0.0


def test_a_constant_tensor_gets_one_bin_around_its_value():
    h = histogram(np.full((3, 4), 2.5))
    assert h["edges"] == [2.0, 3.0] and h["counts"] == [12] and h["std"] == 0.0


def test_zero_fraction_ints_bools_and_tensors():
    h = histogram(rg.tensor([[0.0, 1.0], [0.0, 3.0]]), bins=3)
    assert h["zeros"] == 0.5 and h["n"] == 4
    ints = histogram(np.array([1, 2, 2, 5]), bins=4)
    assert ints["counts"] == reference_counts([1, 2, 2, 5], 4) and ints["mean"] == 2.5
    assert histogram(np.array([True, False, True]), bins=2)["counts"] == [1, 2]


def test_float16_values_are_binned_in_float64():
    values = np.linspace(-1, 1, 101).astype(np.float16)
    h = histogram(values, bins=10)
    assert sum(h["counts"]) == 101 and isinstance(h["edges"][0], float)


def test_the_record_is_plain_json():
    import json

    h = histogram(np.random.default_rng(0).standard_normal(50), bins=5)
    assert json.loads(json.dumps(h)) == h


@pytest.mark.parametrize("bins", [0, -1, 2.5, True, "10"])
def test_bad_bins_are_rejected(bins):
    with pytest.raises(ValueError, match="bins must be a positive int"):
        histogram([1.0, 2.0], bins)


def test_complex_values_are_rejected():
    with pytest.raises(TypeError, match="complex"):
        histogram(np.array([1 + 1j]))


def test_bounded_sample_is_strided_deterministic_and_draws_no_random_numbers():
    values = np.arange(10_000.0).reshape(100, 100)
    np_state, rg_state = np.random.get_state(), rg.get_rng_state()
    sample = bounded_sample(values, 300)
    assert len(sample) <= 300 and len(sample) >= 250
    stride = math.ceil(10_000 / 300)
    assert np.array_equal(sample, np.arange(0, 10_000, stride, dtype=float))
    assert np.array_equal(bounded_sample(values, 300), sample)
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    assert repr(rg.get_rng_state()) == repr(rg_state)
    small = bounded_sample(values[:2, :3], 300)
    assert np.array_equal(small, values[:2, :3].ravel())


def test_merge_range_spans_every_record_with_bins():
    records = [histogram([0.0, 1.0]), histogram([-2.0, 0.5]), histogram([np.nan])]
    assert merge_range(records) == (-2.0, 1.0)
    assert merge_range([histogram([])]) is None
