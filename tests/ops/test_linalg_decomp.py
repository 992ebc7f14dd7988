import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize, real


def well_conditioned(rng, shape):
    """Square matrices near 2 I: far from singular."""
    return 0.5 * rng.standard_normal(shape) + 2.0 * np.eye(shape[-1])


def _spd(m):
    """A symmetric positive-definite matrix made from any square m (the spec's input)."""
    n = m.shape[-1]
    return m @ m.mT + rg.tensor(n * np.eye(n))


def _np_spd(m):
    n = m.shape[-1]
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _cross(a, b):
    return np.cross(a, b, axis=-1)


SPECS = [
    OpSpec("inverse", rg.linalg.inv, np.linalg.inv, [((3, 3),), ((2, 4, 4),), ((1, 1),)],
           domain=well_conditioned),
    OpSpec("det", rg.linalg.det, np.linalg.det, [((3, 3),), ((2, 2, 2),)],
           domain=well_conditioned),
    OpSpec("det", lambda x: x.det(), np.linalg.det, [((3, 3),)], domain=real, name="det_real"),
    OpSpec("logabsdet", lambda x: rg.linalg.slogdet(x).logabsdet,
           lambda x: np.linalg.slogdet(x)[1], [((3, 3),), ((2, 4, 4),)],
           domain=well_conditioned),
    OpSpec("logabsdet", lambda x: rg.logdet(_spd(x)), lambda x: np.linalg.slogdet(_np_spd(x))[1],
           [((3, 3),)], name="logdet"),
    OpSpec("solve", rg.linalg.solve, np.linalg.solve,
           [((3, 3), (3, 2)), ((2, 3, 3), (3, 1)), ((3, 3), (2, 3, 4))],
           domain=(well_conditioned, real)),
    OpSpec("solve", rg.linalg.solve, lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
           [((3, 3), (3,)), ((2, 3, 3), (2, 3))], domain=(well_conditioned, real),
           name="solve_vector"),
    OpSpec("solve", lambda a, b: rg.linalg.solve(a, b, left=False),
           lambda a, b: np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2),
                                                    np.swapaxes(b, -1, -2)), -1, -2),
           [((3, 3), (2, 3))], domain=(well_conditioned, real), name="solve_right"),
    OpSpec("solve", lambda a, b: rg.linalg.solve_triangular(a, b, upper=True),
           lambda a, b: np.linalg.solve(np.triu(a), b), [((3, 3), (3, 2))],
           domain=(well_conditioned, real), name="solve_triangular"),
    OpSpec("solve", lambda a, b: rg.linalg.solve_triangular(a, b, upper=False,
                                                            unitriangular=True),
           lambda a, b: np.linalg.solve(np.tril(a, -1) + np.eye(3), b), [((3, 3), (3, 2))],
           domain=(well_conditioned, real), name="solve_triangular_unit"),
    OpSpec("cholesky", lambda m: rg.linalg.cholesky(_spd(m)),
           lambda m: np.linalg.cholesky(_np_spd(m)), [((3, 3),), ((2, 4, 4),)]),
    OpSpec("cholesky", lambda m: rg.linalg.cholesky(_spd(m), upper=True),
           lambda m: np.swapaxes(np.linalg.cholesky(_np_spd(m)), -1, -2), [((3, 3),)],
           name="cholesky_upper"),
    OpSpec("pinv", rg.linalg.pinv, np.linalg.pinv, [((4, 3),), ((3, 5),), ((2, 3, 3),)]),
    OpSpec("pinv", lambda x: x.pinverse(), np.linalg.pinv, [((2, 4),)], name="pinverse"),
    OpSpec("matmul", lambda x: rg.linalg.matrix_power(x, 5),
           lambda x: np.linalg.matrix_power(x, 5), [((3, 3),), ((2, 2, 2),)],
           name="matrix_power"),
    OpSpec("inverse", lambda x: x.matrix_power(-2), lambda x: np.linalg.matrix_power(x, -2),
           [((3, 3),)], domain=well_conditioned, name="matrix_power_negative"),
    OpSpec("roll", rg.linalg.cross, _cross, [((3,), (3,)), ((2, 3), (3,))], name="cross"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_singular_and_indefinite_matrices_raise_linalg_error():
    singular = rg.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(rg.linalg.LinAlgError, match="linalg.inv: .*singular"):
        rg.linalg.inv(singular)
    with pytest.raises(RuntimeError, match="linalg.solve: .*singular"):
        rg.linalg.solve(singular, rg.ones(2))
    with pytest.raises(rg.linalg.LinAlgError, match="linalg.cholesky: .*positive-definite"):
        rg.linalg.cholesky(rg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    sign, logabs = rg.linalg.slogdet(singular)
    assert sign.item() == 0.0 and logabs.item() == -np.inf


def test_shape_errors_name_the_op():
    with pytest.raises(RuntimeError, match=r"linalg.det: A must be batches of square .*2 by 3"):
        rg.linalg.det(rg.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.inv: the input must have at least 2 dim"):
        rg.linalg.inv(rg.ones(3))
    with pytest.raises(TypeError, match="linalg.inv: expected a floating-point input"):
        rg.linalg.inv(rg.ones(2, 2, dtype=rg.int64))
    with pytest.raises(RuntimeError, match=r"linalg.solve: incompatible shapes .*\(3, 3\).*\(4,\)"):
        rg.linalg.solve(rg.eye(3), rg.ones(4))
    with pytest.raises(RuntimeError, match="cross: .*must have size 3"):
        rg.cross(rg.ones(2, 3), rg.ones(2, 3), dim=0)


def test_logdet_of_a_negative_determinant_is_nan():
    out = rg.logdet(rg.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert np.isnan(out.item())


def test_matrix_power_zero_is_the_identity():
    x = rg.tensor(np.ones((2, 3, 3)), requires_grad=True)
    out = rg.matrix_power(x, 0)
    np.testing.assert_array_equal(out.data, np.broadcast_to(np.eye(3), (2, 3, 3)))
