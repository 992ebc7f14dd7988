"""Indexing: `t[index]`, index_put, masked_select, take, select, nonzero.

`t[index]` follows PyTorch: integers and slices (negative steps too, which PyTorch refuses)
select, and the result is a view of `t`; integer tensors, arrays and lists, and bool masks pick
elements into a new tensor. `normalize_index` turns a user index into the `(basic, advanced)`
pair every op here runs on: `x[basic]` is a view holding the integer/slice/None part, and
`advanced` (integer and bool arrays between full slices) then picks from it by NumPy's rules,
which equal PyTorch's once the integers are gone.

Three primitives carry everything: `index` (read), `index_backward` (scatter-add into zeros, the
adjoint of `index`, whose own VJP is `index` again, so gradients of any order exist) and
`index_put` (write, out of place). Everything else that reads or writes by index (masked_select
and take here; gather, scatter, index_select, index_add in scatter_gather.py) is a composite.
"""

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ..autograd.tensor import _tensors_to_arrays
from ._util import Tensor, apply, check_dim, new_tensor, operand

__all__ = [
    "index_put",
    "masked_select",
    "take",
    "select",
    "nonzero",
    "argwhere",
]

_FULL = slice(None)


class Index(Op):
    """x[indices] for a normalized index."""

    name = "index"

    @staticmethod
    def forward(x, indices, **_):
        return array_ns.index(x, indices)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.index_backward(g, params["indices"], params["shape"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return array_ns.index(ts[0], params["indices"])


class IndexBackward(Op):
    """Zeros of `shape` with g added at `indices`: the adjoint of `index` (and vice versa)."""

    name = "index_backward"

    @staticmethod
    def forward(g, indices, shape):
        return array_ns.index_backward(g, indices, shape)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.index(g, params["indices"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return array_ns.index_backward(ts[0], params["indices"], params["shape"])


class IndexPut(Op):
    """x with x[indices] = values (accumulate: += values, repeated indices adding up)."""

    name = "index_put"
    input_names = ("x", "values")

    @staticmethod
    def forward(x, values, indices, accumulate):
        return array_ns.index_put(x, indices, values, accumulate)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        indices = params["indices"]
        gx = None
        if needs[0]:
            gx = g if params["accumulate"] else ns.index_put(g, indices, 0.0)
        gv = ns.index(g, indices) if needs[1] else None  # the engine sums it to values' shape
        return gx, gv

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return array_ns.index_put(ts[0], params["indices"], ts[1], params["accumulate"])


# ----------------------------------------------------------------- index normalization
def normalize_index(index, shape):
    """A user index for a tensor of `shape` as the pair `(basic, advanced)` NumPy runs.

    `basic` (None when there is nothing to do) holds the ints, slices and None: `a[basic]` is
    always a view. `advanced` is None, or full slices and integer/bool arrays (Tensors become
    arrays) that pick from that view. Read with `a[basic][advanced]`, write with
    `a[basic][advanced] = v` (the view makes it land in `a`); `array_ns.index`/`index_put`
    do both. Integers select before the arrays are placed, as in PyTorch: `x[:, 0, :, i]` on
    shape (2, 3, 4, 5) has shape (2, 4, 2), where NumPy gives (2, 2, 4).
    """
    items = index if type(index) is tuple else (index,)
    ndim = len(shape)
    converted = []
    used = 0  # input dims the index consumes
    has_array = False
    simple = True  # only ints and slices
    for item in items:
        kind = type(item)
        if kind is int or kind is slice:
            used += 1
            converted.append(item)
            continue
        simple = False
        if item is not None and item is not Ellipsis:
            item = _index_item(item)
            kind = type(item)
            if kind is int:
                used += 1
            elif kind is not bool:
                used += item.ndim if item.dtype == bool else 1
                has_array = True
        converted.append(item)
    if used > ndim:
        raise IndexError(
            f"index: too many indices for a tensor of dimension {ndim} (shape {tuple(shape)}): "
            f"{_describe(index)}"
        )
    if simple:
        return (*items, Ellipsis), None
    basic, advanced = [], []
    plain = True  # basic is all full slices
    ellipsis = False
    for item in converted:
        kind = type(item)
        if kind is int:
            basic.append(item)
            plain = False
        elif kind is slice:
            basic.append(item)
            advanced.append(_FULL)
            plain = plain and item == _FULL
        elif item is None:
            basic.append(None)
            advanced.append(_FULL)
            plain = False
        elif item is Ellipsis:
            if ellipsis:
                raise IndexError(f"index: an index can only have one ellipsis: {_describe(index)}")
            ellipsis = True
            basic += [_FULL] * (ndim - used)
            advanced += [_FULL] * (ndim - used)
        elif kind is bool:
            # a bool adds a dim of size 1 (True) or 0 (False); with arrays around, it is an
            # advanced index of that size, as in PyTorch
            basic.append(None)
            plain = False
            if item and not has_array:
                advanced.append(_FULL)
            else:
                advanced.append(np.zeros(int(item), dtype=np.intp))
                has_array = True
        else:
            basic += [_FULL] * (item.ndim if item.dtype == bool else 1)
            advanced.append(item)
    if not has_array:
        basic.append(Ellipsis)  # so that a[basic] is a view even when it selects one element
        return tuple(basic), None
    while type(advanced[-1]) is slice:
        advanced.pop()
    return (None if plain else (*basic, Ellipsis)), tuple(advanced)


def _index_item(item):
    """One non-basic index entry as an int, a bool or an integer/bool array."""
    if isinstance(item, Tensor):
        item = item.data
    elif isinstance(item, (list, tuple)):
        item = np.asarray(_tensors_to_arrays(list(item)))
        if item.size == 0:
            item = item.astype(np.intp)
    elif isinstance(item, np.integer):
        return int(item)
    elif isinstance(item, (bool, np.bool_)):
        return bool(item)
    if not isinstance(item, np.ndarray):
        raise IndexError(
            "index: only integers, slices, None, ..., bools and integer or bool tensors, arrays "
            f"or lists are valid indices, got {type(item).__name__}"
        )
    kind = item.dtype.kind
    if kind == "u" and item.dtype.itemsize == 1:
        item = item.astype(bool)  # PyTorch reads uint8 tensors as masks
        kind = "b"
    if kind not in "iub":
        raise IndexError(
            f"index: tensors used as indices must be integer or bool, got dtype {item.dtype}"
        )
    if item.ndim == 0:
        return bool(item) if kind == "b" else int(item)  # a 0-d tensor selects like an int
    return item


def _describe(index):
    if isinstance(index, Tensor):
        return f"a tensor of shape {index.shape} ({index.dtype})"
    if isinstance(index, tuple):
        return "(" + ", ".join(_describe(item) for item in index) + ")"
    if isinstance(index, np.ndarray):
        return f"an array of shape {index.shape} ({index.dtype})"
    return repr(index)


# ----------------------------------------------------------------- reading
def _index(input, indices, op_name, index):
    """Run the `index` primitive with an error that names the op, the index and the shape."""
    shape = input.data.shape
    try:
        out = apply(Index, input, indices=indices, shape=shape)
    except IndexError as err:
        cause = err.__cause__ or err
        raise IndexError(
            f"{op_name}: invalid index {_describe(index)} for a tensor of shape {shape}: {cause}"
        ) from None
    if indices[1] is None:  # basic indexing: a view, sharing the version counter
        base = input if input._base is None else input._base
        out._base = base
        out._version = base._counter()
    return out


def getitem(self, index):
    """`t[index]` (see the module docstring)."""
    kind = type(index)
    if kind is int or kind is slice:  # fast path: x[t], x[a:b]
        indices = ((index, Ellipsis), None)
    else:
        indices = normalize_index(index, self.data.shape)
    return _index(self, indices, "index", index)


def index_normalized(input, indices):
    """`ns.index` on Tensors: `input[indices]` for a normalized index."""
    return apply(Index, input, indices=indices, shape=input.data.shape)


def index_backward(g, indices, shape):
    """`ns.index_backward` on Tensors: zeros of `shape` with g added at `indices`."""
    return apply(IndexBackward, g, indices=indices, shape=tuple(shape))


def index_put_normalized(input, indices, values, accumulate=False):
    """`ns.index_put` on Tensors: `index_put` for a normalized index."""
    values = operand(values, input, "index_put")
    if values.data.dtype != input.data.dtype:
        values = values.to(input.data.dtype)
    if values.data.ndim and values.data.shape[0] == 1:
        # NumPy drops extra leading 1s of values; the engine's gradient shapes would not
        target = array_ns.index(np.broadcast_to(np.empty((), bool), input.data.shape), indices)
        if values.data.ndim > target.ndim:
            values = values.reshape(values.data.shape[values.data.ndim - target.ndim :])
    return apply(IndexPut, input, values, indices=indices, accumulate=bool(accumulate))


def index_put(input, indices, values, accumulate=False):
    """`input` with `input[indices] = values` (or `+=`, repeated indices adding up)."""
    try:
        return index_put_normalized(
            input, normalize_index(indices, input.data.shape), values, accumulate
        )
    except IndexError as err:
        raise IndexError(f"index_put: {err}") from None


def _index_array(index, op_name, ndim=None):
    """An integer index argument (Tensor, array or list) as an integer array."""
    array = index.data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{op_name}: index must be an integer tensor, got dtype {array.dtype}")
    array = array.astype(np.intp, copy=False)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"{op_name}: index has {array.ndim} dimensions but the input has {ndim}; they must "
            "match"
        )
    return array


def take(input, index):
    """input viewed as 1-d, indexed by `index` (the result has index's shape)."""
    idx = _index_array(index, "take")
    return _index(input.reshape(-1), (None, (idx,)), "take", index)


def masked_select(input, mask):
    """The elements of input where the (broadcast) bool mask is True, as a 1-d tensor."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {m.dtype}")
    shape = np.broadcast_shapes(input.data.shape, m.shape)
    x = input.expand(shape) if input.data.shape != shape else input
    return _index(x, (None, (np.broadcast_to(m, shape),)), "masked_select", mask)


def select(input, dim, index):
    """input[..., index, ...] with the index at `dim`: a view without that dim."""
    d = check_dim(dim, input.data.ndim, "select")
    return getitem(input, (_FULL,) * d + (int(index),))


# ----------------------------------------------------------------- non-differentiable
def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements: shape (n, ndim), or a tuple of ndim 1-d tensors."""
    data = input.data
    if as_tuple:
        if data.ndim == 0:
            return (new_tensor(np.zeros(int(data != 0), dtype=np.int64)),)
        return tuple(new_tensor(a.astype(np.int64)) for a in np.nonzero(data))
    return new_tensor(np.argwhere(data).astype(np.int64))


def argwhere(input):
    return nonzero(input)


def _iter(self):
    if self.data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(self.data.shape[0]):
        yield getitem(self, i)


TENSOR_METHODS = {
    "__getitem__": getitem,
    "__iter__": _iter,
    "index_put": index_put,
    "masked_select": masked_select,
    "take": take,
    "select": select,
    "nonzero": nonzero,
    "argwhere": argwhere,
}
