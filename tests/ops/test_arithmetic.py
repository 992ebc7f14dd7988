import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, nonzero, parametrize, positive, real

SPECS = [
    OpSpec("add", lambda x, y: x + y, np.add, [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2, 3))]),
    OpSpec("add", lambda x: x + 2.5, lambda x: x + 2.5, [((3,),)], name="add_scalar"),
    OpSpec("sub", lambda x, y: x - y, np.subtract, [((3, 4), (3, 4)), ((2, 1, 3), (4, 1))]),
    OpSpec("sub", lambda x: 1.5 - x, lambda x: 1.5 - x, [((3,),)], name="rsub_scalar"),
    OpSpec(
        "mul", lambda x, y: x * y, np.multiply, [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((0, 3), (3,))]
    ),
    OpSpec("div", lambda x, y: x / y, np.divide, [((3, 4), (3, 4)), ((2, 3), (3,))],
           domain=(real, nonzero)),
    OpSpec("neg", lambda x: -x, np.negative, [((3, 4),), ((),)]),
    OpSpec("pow", lambda x, y: x**y, np.power, [((3, 4), (3, 4)), ((3,), ())], domain=positive),
    OpSpec("pow_scalar", lambda x: x**3, lambda x: x**3, [((3, 4),)]),
    OpSpec("pow_scalar", lambda x: x**0.5, np.sqrt, [((5,),)], domain=positive, name="pow_half"),
    OpSpec("pow", lambda x: 2.0**x, lambda x: 2.0**x, [((4,),)], name="rpow"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_python_scalars_keep_the_tensor_dtype():
    x = rg.ones(3)
    assert (x * 2.0).dtype == rg.float32
    assert (2 * x).dtype == rg.float32
    assert (rg.ones(3, dtype=rg.int64) * 2.5).dtype == rg.float32
    assert (rg.ones(3, dtype=rg.int64) / 2).dtype == rg.float32


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: .*\(3,\) and \(4,\)"):
        rg.ones(3) + rg.ones(4)
