"""set_printoptions changes how tensors print, and restores."""

import pytest

import retrograd as rg


@pytest.fixture(autouse=True)
def _restore():
    yield
    rg.set_printoptions(profile="default")


def test_precision_threshold_and_profiles():
    x = rg.tensor([1.23456789, 2.0])
    assert repr(x) == "tensor([1.2346, 2.    ])"
    rg.set_printoptions(precision=2)
    assert repr(x) == "tensor([1.23, 2.  ])"
    rg.set_printoptions(threshold=5, edgeitems=1)
    assert repr(rg.arange(10)) == "tensor([0, ..., 9])"
    rg.set_printoptions(profile="full")
    assert "..." not in repr(rg.arange(1000))
    rg.set_printoptions(profile="default")
    assert rg.get_printoptions()["precision"] == 4 and "..." in repr(rg.arange(1000))


def test_scientific_mode():
    rg.set_printoptions(sci_mode=True, precision=2)
    assert repr(rg.tensor([1234.5])) == "tensor([1.23e+03])"
    rg.set_printoptions(sci_mode=False)
    assert repr(rg.tensor([1e-9, 1.0])) == "tensor([0., 1.])"  # not 1.e-09
    with pytest.raises(ValueError, match="profile"):
        rg.set_printoptions(profile="long")
