"""Gradient checking against central finite differences, for any function of tensors.

`gradcheck` compares the reverse-mode gradient of s(x) = <v, f(x)> (v a random cotangent) with
central differences of s, element by element, in float64. `gradgradcheck` does the same for
the gradient function itself (second order). On failure the error names the input, the element
and both values of the worst mismatch.
"""

import numpy as np

from . import engine
from .grad_mode import no_grad
from .tensor import Tensor, new_tensor


class GradcheckError(AssertionError):
    """Raised by gradcheck when analytic and numeric gradients disagree."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.data.dtype.kind == "f"]


def _check_inputs(inputs, where):
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError(f"{where}: no input requires grad")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"{where}: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 inputs (use .double())"
            )
    return inputs, diff


def gradcheck(
    fn,
    inputs,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    seed=0,
    check_forward_ad=False,
):
    """Check reverse-mode gradients of `fn` at `inputs`; True when they match."""
    inputs, diff = _check_inputs(inputs, "gradcheck")
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point tensor")
    cotangents = [rng.standard_normal(o.shape) for o in outs]

    def scalar(*xs):
        # NOTE: grad mode stays on: fn may itself differentiate (gradgradcheck's fn does).
        return sum(float(np.sum(c * o.data)) for c, o in zip(cotangents, _outputs(fn, xs)))

    connected = [o for o in outs if o.requires_grad]
    if connected:
        grads = engine.grad(
            connected,
            [inputs[i] for i in diff],
            grad_outputs=[new_tensor(c) for c, o in zip(cotangents, outs) if o.requires_grad],
            allow_unused=True,
        )
    else:
        grads = [None] * len(diff)
    worst = None
    for i, g in zip(diff, grads):
        analytic = np.zeros_like(inputs[i].data) if g is None else g.data
        numeric = _numeric_gradient(scalar, inputs, i, eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and (worst is None or error.max() > worst[0]):
            j = np.unravel_index(int(np.argmax(error)), error.shape)
            worst = (float(error.max()), i, j, analytic[j], numeric[j])
    if check_forward_ad:
        _check_forward_ad(fn, inputs, diff, rng, eps, atol, rtol, raise_exception)
    if worst is not None and worst[0] > 0:
        _, i, j, a, n = worst
        message = (
            f"gradcheck: the gradient for input {i} at element {tuple(int(k) for k in j)} is "
            f"{a:.10g} (backward) but {n:.10g} (finite differences); atol={atol}, rtol={rtol}"
        )
        if raise_exception:
            raise GradcheckError(message)
        return False
    return True


def _numeric_gradient(scalar, inputs, i, eps):
    x = inputs[i]
    flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
    original = x.data
    if not x.data.flags.writeable or flat.base is None and x.data.size > 1:
        x.data = original.copy()
        flat = x.data.reshape(-1)
    grad = np.zeros(flat.size)
    for j in range(flat.size):  # loop over elements of one small input
        v = flat[j]
        flat[j] = v + eps
        plus = scalar(*inputs)
        flat[j] = v - eps
        minus = scalar(*inputs)
        flat[j] = v
        grad[j] = (plus - minus) / (2 * eps)
    x.data = original
    return grad.reshape(original.shape)


def _check_forward_ad(fn, inputs, diff, rng, eps, atol, rtol, raise_exception):
    from .forward_ad import dual_level, make_dual  # noqa: PLC0415

    tangents = {i: rng.standard_normal(inputs[i].shape) for i in diff}
    with dual_level():
        duals = [
            make_dual(x, new_tensor(tangents[i])) if i in tangents else x
            for i, x in enumerate(inputs)
        ]
        outs = _outputs(fn, duals)
    for k, o in enumerate(outs):
        t_out = o._tangent if o._tangent is not None else np.zeros_like(o.data)
        plus = [new_tensor(x.data + eps * tangents[i]) if i in tangents else x
                for i, x in enumerate(inputs)]
        minus = [new_tensor(x.data - eps * tangents[i]) if i in tangents else x
                 for i, x in enumerate(inputs)]
        with no_grad():
            numeric = (_outputs(fn, plus)[k].data - _outputs(fn, minus)[k].data) / (2 * eps)
        if not np.allclose(t_out, numeric, atol=atol, rtol=rtol):
            j = np.unravel_index(int(np.argmax(np.abs(t_out - numeric))), numeric.shape)
            message = (
                f"gradcheck (forward mode): output {k} element {tuple(int(a) for a in j)} has "
                f"tangent {t_out[j]:.10g} but finite differences give {numeric[j]:.10g}"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of x -> d<v, fn(x)>/dx with a fixed random v."""
    inputs, diff = _check_inputs(inputs, "gradgradcheck")
    rng = np.random.default_rng(seed + 1)
    outs = _outputs(fn, inputs)
    cotangents = [new_tensor(rng.standard_normal(o.shape)) for o in outs]

    def first_derivative(*xs):
        outs = [o for o in _outputs(fn, xs)]
        pairs = [(o, c) for o, c in zip(outs, cotangents) if o.requires_grad]
        if not pairs:
            return ()
        grads = engine.grad(
            [o for o, _ in pairs],
            [xs[i] for i in diff],
            grad_outputs=[c for _, c in pairs],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs, eps, atol, rtol, raise_exception, seed)
