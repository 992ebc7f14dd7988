"""rg.testing.assert_close."""

import numpy as np
import pytest

import retrograd as rg


def test_close_values_pass_and_far_ones_fail():
    rg.testing.assert_close(rg.tensor([1.0, 2.0]), rg.tensor([1.0, 2.0 + 1e-7]))
    rg.testing.assert_close({"a": [rg.ones(2), 3]}, {"a": [rg.ones(2), 3]})
    with pytest.raises(AssertionError, match="1 of 2 elements"):
        rg.testing.assert_close(rg.tensor([1.0, 2.0]), rg.tensor([1.0, 2.1]))
    with pytest.raises(AssertionError, match="dtypes differ"):
        rg.testing.assert_close(rg.ones(2), rg.ones(2, dtype=rg.float64))
    rg.testing.assert_close(rg.ones(2), rg.ones(2, dtype=rg.float64), check_dtype=False)
    with pytest.raises(AssertionError, match="shapes differ"):
        rg.testing.assert_close(rg.ones(2), rg.ones(3))
    with pytest.raises(AssertionError, match="custom"):
        rg.testing.assert_close(rg.ones(1), rg.zeros(1), msg="custom")


def test_tolerances_and_nan():
    rg.testing.assert_close(rg.tensor([1.0]), rg.tensor([1.05]), rtol=0.1, atol=0.0)
    nan = rg.tensor([float("nan")])
    with pytest.raises(AssertionError):
        rg.testing.assert_close(nan, nan)
    rg.testing.assert_close(nan, nan, equal_nan=True)
    with pytest.raises(AssertionError):
        rg.testing.assert_close(rg.tensor([1]), rg.tensor([2]))  # integers: exact
    with pytest.raises(ValueError, match="both"):
        rg.testing.assert_close(rg.ones(1), rg.ones(1), rtol=0.1)
    rg.testing.assert_close(np.float64(1.0), 1.0 + 1e-9, check_dtype=False)
