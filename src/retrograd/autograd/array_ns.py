"""The NumPy array namespace that VJP/JVP rules run on in the plain first-order path.

Rules call `ns.<name>(...)` with PyTorch's names and keywords; the ops layer installs a twin
namespace of differentiable retrograd functions under the same names (`ops/tensor_ns.py`) for
`create_graph=True`. A test keeps the two name sets identical.
"""

import numpy as np

exp = np.exp
log = np.log
sqrt = np.sqrt
sin = np.sin
cos = np.cos
tanh = np.tanh
abs = np.abs  # noqa: A001 - the namespace mirrors NumPy/PyTorch names
sign = np.sign
maximum = np.maximum
minimum = np.minimum
matmul = np.matmul
pow = np.power  # noqa: A001
zeros_like = np.zeros_like
ones_like = np.ones_like


def sigmoid(x):
    # NOTE: split by sign so exp never overflows.
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    e = np.exp(x[~positive])
    out[~positive] = e / (1.0 + e)
    return out


def where(condition, x, y):
    return np.where(condition, x, y)


def sum(x, dim=None, keepdim=False):  # noqa: A001
    return np.sum(x, axis=dim, keepdims=keepdim)


def reshape(x, shape):
    return np.reshape(x, shape)


def expand(x, shape):
    return np.broadcast_to(x, shape)


def sum_to(x, shape):
    """Sum a broadcast array back down to `shape` (the inverse of broadcasting)."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    if lead or x.shape != shape:
        x = x.reshape(shape)
    return x


def cast(x, dtype):
    return x.astype(dtype)


def transpose(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1)


def permute(x, dims):
    return np.transpose(x, dims)


def unsqueeze(x, dim):
    return np.expand_dims(x, dim)


def squeeze(x, dim):
    return np.squeeze(x, axis=dim)


def mT(x):  # noqa: N802 - PyTorch's name for the matrix transpose
    return np.swapaxes(x, -1, -2)


# reductions (ops/reduction.py)
def prod(x, dim=None, keepdim=False):
    return np.prod(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim, reverse=False):
    """Cumulative sum; `reverse=True` sums from the end (jax.lax.cumsum's keyword): the VJP of
    a cumsum is a reversed cumsum."""
    if reverse:
        return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)
    return np.cumsum(x, axis=dim)


def cumprod(x, dim):
    return np.cumprod(x, axis=dim)


# linalg (ops/linalg.py)
def einsum(equation, *operands):
    # NOTE: optimize routes two-operand contractions through BLAS; pointless for one operand.
    return np.einsum(equation, *operands, optimize=len(operands) > 1)


def eye(n, m=None, dtype=None):
    return np.eye(n, m, dtype=dtype)
