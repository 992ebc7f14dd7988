"""Tensor: a NumPy array plus what autograd needs to know about it.

The class here holds state and the methods that need no op; arithmetic, reductions and the
other methods are attached by the ops layer (`retrograd.ops`), which keeps this layer free of
upward imports.
"""

import numpy as np

from . import dtypes, printing
from .typeinfo import CPU, Size

_ndarray = np.ndarray
_DTYPES = dtypes._WRAPPED  # NumPy dtype -> rg.dtype


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    `data` is the NumPy array; `grad` is a Tensor after a backward pass reached this leaf.
    A tensor made by an op from inputs that require grad points at the graph `Node` that made it
    (`grad_fn`).
    """

    __slots__ = (
        "data",
        "_requires_grad",
        "_node",
        "_version",
        "__dict__",  # NOTE: only for the attributes below, so making a tensor stays cheap
        "__weakref__",
    )

    grad = None
    _base = None  # the tensor whose memory this view shares
    _hooks = None  # gradient hooks of a leaf
    _post_hooks = None  # post-accumulate-grad hooks of a leaf
    _post_hooks_used = False  # class-wide: set once any is registered (the engine then plans)
    _retains_grad = False
    _tangent = None  # forward-mode tangent (an ndarray) while a dual level is active

    # NumPy defers to our reflected operators (np.float32(2) * t -> Tensor.__rmul__).
    __array_priority__ = 1000
    __array_ufunc__ = None

    def __init__(self, *args, dtype=None, requires_grad=False):
        """PyTorch's `torch.Tensor(...)`: `Tensor(data)` holds the data in the default float
        dtype whatever its type (a Tensor keeps its dtype); `Tensor(2, 3)` (or a `Size`) is a
        tensor of that shape (zeros); `Tensor()` is empty. Subclasses (nn.Parameter) keep the
        data's dtype. Use `rg.tensor(data)` to infer the dtype from the data."""
        _init(self, _constructor_array(args, dtype, type(self) is Tensor))
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- basic attributes
    @property
    def shape(self):
        return Size(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        try:
            return _DTYPES[self.data.dtype]
        except KeyError:
            return dtypes.wrap(self.data.dtype)

    @property
    def device(self):
        return CPU

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    @property
    def is_floating_point_dtype(self):
        return dtypes.is_floating(self.data.dtype)

    def is_floating_point(self):
        return dtypes.is_floating(self.data.dtype)

    def size(self, dim=None):
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[_check_dim(dim, self.data.ndim, "size")]

    def dim(self):
        return self.data.ndim

    ndimension = dim

    def numel(self):
        return int(self.data.size)

    nelement = numel

    def element_size(self):
        return self.data.itemsize

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ----------------------------------------------------------------- conversion
    def item(self):
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can be converted to a Python scalar, "
                f"got shape {self.data.shape}"
            )
        return self.data.reshape(()).item()

    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError(
                "numpy(): can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy()"
            )
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        if copy:
            return self.data.copy()
        return self.data

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.data.reshape(()).item())

    def __complex__(self):
        return complex(self.item())

    __hash__ = object.__hash__  # __eq__ is elementwise, identity stays the hash

    def __deepcopy__(self, memo):
        """Copy a leaf tensor (data, requires_grad, grad), as PyTorch allows for leaves only."""
        if self._node is not None:
            raise RuntimeError(
                "deepcopy: only tensors created by the user (graph leaves) can be deep-copied; "
                "detach() it first"
            )
        import copy  # noqa: PLC0415 - rarely used

        copied = object.__new__(type(self))
        memo[id(self)] = copied
        _init(copied, self.data.copy())
        copied._requires_grad = self._requires_grad
        if self.grad is not None:
            copied.grad = copy.deepcopy(self.grad, memo)
        return copied

    def __reduce_ex__(self, protocol):
        if self._node is not None:
            raise RuntimeError("pickle: only leaf tensors can be pickled; detach() it first")
        return (_rebuild, (type(self), self.data, self._requires_grad))

    # ----------------------------------------------------------------- autograd state
    def requires_grad_(self, requires_grad=True):
        if not requires_grad:
            if self._node is not None:
                raise RuntimeError(
                    "requires_grad_(False): this tensor is not a leaf (it was made by op "
                    f"'{self._node.op.name}'); use detach() to get one that does not require grad"
                )
            self._requires_grad = False
            return self
        if not dtypes.is_floating(self.data.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        self._requires_grad = True
        return self

    def detach(self):
        """A tensor sharing this one's data and version counter, cut from the graph."""
        t = new_tensor(self.data)
        t._version = self._counter()
        t._base = self
        return t

    def detach_(self):
        if self._base is not None and self._node is None and self._base._requires_grad:
            raise RuntimeError("detach_(): can't detach a view in place")
        self._node = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward."""
        if self._node is None:
            if not self._requires_grad:
                raise RuntimeError("retain_grad(): the tensor does not require grad")
            return  # leaves keep their gradient anyway
        if self._retains_grad:
            return
        self._retains_grad = True
        from .hooks import retain_grad_hook  # noqa: PLC0415

        self._node_hooks().append(retain_grad_hook(self))

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a non-None return value
        replaces the gradient. Returns a handle whose `remove()` unregisters the hook."""
        from .hooks import RemovableHandle  # noqa: PLC0415

        if not self._requires_grad:
            raise RuntimeError("register_hook(): the tensor does not require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = self._node_hooks()
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(tensor)` on this leaf after backward has accumulated its gradient into
        `.grad`; the engine calls it as soon as no node left in the walk can add to it. Returns
        a handle whose `remove()` unregisters the hook."""
        from .hooks import RemovableHandle  # noqa: PLC0415

        if self._node is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
                "registered on non-leaf tensors"
            )
        if not self._requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: the tensor does not require grad"
            )
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        Tensor._post_hooks_used = True
        return RemovableHandle(self._post_hooks, hook)

    def _node_hooks(self):
        node = self._node
        if node.hooks is None:
            node.hooks = []
        return node.hooks

    def _counter(self):
        """The version counter `[version, name of the last in-place op]`, made on first need.

        Tensors nobody changes in place never get one, which keeps ops cheap. A node that saved
        this tensor as its output learns about the counter here, when it is created (at version
        0, before any in-place change), so backward can tell if the output was changed.
        """
        vc = self._version
        if vc is None:
            vc = self._version = [0, None]
            node = self._node
            if node is not None and node.op.save_out and node.out_data is self.data:
                node.out_version = vc
        return vc

    @property
    def version(self):
        """How many in-place changes this tensor's storage has seen (PyTorch's `_version`)."""
        return 0 if self._version is None else self._version[0]

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad."""
        from . import engine  # noqa: PLC0415

        engine.backward(
            [self],
            None if gradient is None else [gradient],
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=inputs,
        )

    # ----------------------------------------------------------------- display
    def __repr__(self):
        body = printing.array_to_string(self.data)
        extras = []
        dtype = self.data.dtype
        # As in PyTorch: the dtypes that Python numbers produce by default go unmentioned.
        if dtype != dtypes.get_default_dtype() and dtype != dtypes.int64 and dtype.kind != "b":
            extras.append(f"dtype={dtype}")
        elif self.data.size == 0:
            extras.append(f"size={self.data.shape}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.op.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __format__(self, spec):
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return format(repr(self), spec)


def _constructor_array(args, dtype, legacy):
    """The array of `Tensor(*args)` (see Tensor.__init__); `legacy`: PyTorch's float default."""
    if not args:
        return np.empty((0,), dtype=dtypes.as_dtype(dtype) or dtypes.default_float())
    sizes = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
    if all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))
           for n in sizes) and (legacy or len(args) > 1):
        if any(n < 0 for n in sizes):
            raise ValueError(f"Tensor: sizes must be non-negative, got {tuple(sizes)}")
        return np.zeros(tuple(int(n) for n in sizes),
                        dtype=dtypes.as_dtype(dtype) or dtypes.default_float())
    if len(args) > 1:
        raise TypeError(
            f"Tensor: expected data, or sizes as ints, got {len(args)} arguments of types "
            f"{[type(a).__name__ for a in args]}"
        )
    data = args[0]
    if isinstance(data, Tensor):
        return data.data if dtype is None else as_array(data.data, dtype)
    if legacy and dtype is None:
        dtype = dtypes.default_float()
    return as_array(data, dtype)


def _init(t, array):
    t.data = array
    t._requires_grad = False
    t._node = None
    t._version = None


def _rebuild(cls, data, requires_grad):
    t = object.__new__(cls)
    _init(t, data)
    t._requires_grad = requires_grad
    return t


def new_tensor(array):
    """The fast constructor used by ops: wraps an ndarray without checks or copies."""
    t = object.__new__(Tensor)
    t.data = array
    t._requires_grad = False
    t._node = None
    t._version = None
    return t


def as_array(data, dtype=None):
    """Convert user data to an ndarray with PyTorch's default dtypes.

    Python floats become the default float dtype (float32), Python ints int64 and bools bool;
    NumPy arrays keep their dtype unless `dtype` is given.
    """
    dtype = dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, _ndarray):
        if dtype is not None and data.dtype != dtype:
            return data.astype(dtype)
        return data
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (list, tuple)) and _contains_tensor(data):
        data = _tensors_to_arrays(data)
    array = np.asarray(data)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(dtypes.default_float(), copy=False)
    if kind in "iu":
        return array.astype(np.int64, copy=False)
    if kind == "b":
        return array
    if kind == "O":
        raise TypeError(f"tensor(): can't convert data of type {type(data).__name__}")
    raise TypeError(f"tensor(): unsupported data dtype {array.dtype}")


def _contains_tensor(data):
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            return True
        if isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def _tensors_to_arrays(data):
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)):
        return [_tensors_to_arrays(item) for item in data]  # nesting depth = ndim, not graph depth
    return data


def _check_dim(dim, ndim, op_name):
    """Normalise a possibly negative dimension index, with a clear error when out of range."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op_name}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op_name}: dimension {dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected to be in [{-n}, {n - 1}])"
        )
    return dim % n if ndim else 0


def is_tensor(obj):
    return isinstance(obj, Tensor)
