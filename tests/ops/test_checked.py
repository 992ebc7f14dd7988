"""Public functions called with something that is no Tensor raise PyTorch's TypeError."""

import pickle
import warnings

import pytest

import retrograd as rg
import retrograd.nn.functional as F


def _public_functions(namespace):
    for name in sorted(dir(namespace)):
        fn = getattr(namespace, name)
        if not name.startswith("_") and callable(fn) and not isinstance(fn, type):
            yield name, fn


@pytest.mark.parametrize("namespace", [rg, F], ids=["rg", "F"])
@pytest.mark.parametrize("bad", [None, "abc", [None]], ids=["None", "str", "list"])
def test_no_public_function_answers_a_non_tensor_with_an_attribute_error(namespace, bad):
    leaking = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in _public_functions(namespace):
            try:
                fn(bad)
            except AttributeError as err:
                leaking.append(f"{name}: {err}")
            except Exception:  # noqa: BLE001 - any other error (or none) is the function's own
                pass
    assert leaking == []


@pytest.mark.parametrize("fn", [rg.sum, rg.softmax, rg.cumsum, F.softmax, F.dropout])
def test_the_error_names_the_function(fn):
    with pytest.raises(TypeError, match=rf"^{fn.__name__}\(\)"):
        fn(None, 0) if fn is not F.dropout else fn(None)


def test_checked_functions_stay_one_object_and_pickle_by_name():
    assert F.conv2d is rg.conv2d  # one function exported twice keeps one wrapper
    for fn in (rg.sum, rg.cat, F.cross_entropy, rg.softmax):
        assert pickle.loads(pickle.dumps(fn)) is fn
    assert rg.sum(rg.ones(3)).item() == 3.0  # and still work
