"""The base of unary elementwise primitives, shared by math, trigonometric and activation ops."""

from ..autograd import dtypes
from ..autograd.graph import Op, not_a_tensor
from ..autograd.tensor import Tensor


class Elementwise(Op):
    """A unary elementwise primitive y = f(x) whose derivative is ``derivative(ns, x, out)``.

    Subclasses set `name`, `forward`, and what the derivative reads (``save = (0,)`` for x,
    ``save_out = True`` for y); the one derivative serves both rules, so the VJP (g * f') and
    the JVP (t * f') cannot drift apart.
    """

    @staticmethod
    def derivative(ns, x, out):
        raise NotImplementedError

    @classmethod
    def vjp(cls, ns, g, saved, params, needs):
        x = saved[0] if cls.save else None
        out = saved[-1] if cls.save_out else None
        return g * cls.derivative(ns, x, out)

    @classmethod
    def jvp(cls, ns, ts, xs, out, params):
        return ts[0] * cls.derivative(ns, xs[0], out)


def floating(input, op=None):
    """`input` itself when floating, else cast to the default float dtype (PyTorch's rule for
    functions of a real variable: rg.exp(int tensor) is float32). `op` names the error for an
    input that is no Tensor."""
    if not isinstance(input, Tensor):
        name = "floating" if op is None else op.name
        raise not_a_tensor(name, "input", 0, input)
    dtype = input.data.dtype
    if dtype.kind == "f" or dtypes.is_floating(dtype):
        return input
    return input.to(dtypes.get_default_dtype())
