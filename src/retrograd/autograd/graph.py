"""Recording the graph: `apply`, its hot paths, and the modes every op consults.

Every differentiable operation in retrograd is an `Op` subclass (op.py) that sits in `REGISTRY`:
its NumPy forward, its VJP rule and its JVP rule are a few lines apart. `apply` is the one
entry point that runs a primitive and decides whether to record a `Node`; `apply1`,
`binary_primitive` and `fast_primitive` send the plain calls of hot ops to the compiled recorder
(csrc/accel/), which must equal `apply`, and everything else to `apply`.

Rules are written against an *array namespace* `ns` (see `array_ns.py`). On the plain first-order
path the engine hands them NumPy arrays and the NumPy namespace, so backward costs about what
NumPy costs; with `create_graph=True` it hands them Tensors and retrograd's own functions, so the
very same rule is recorded and can be differentiated again.
"""

import numpy as np

from . import dtypes
from .op import REGISTRY, Node, Op, record_flags  # noqa: F401 - the ops import them from here
from .tensor import Tensor

ndarray = np.ndarray
asarray = np.asarray
_new = object.__new__

# Global modes, read on every op: plain module globals are the cheapest thing Python can read.
_grad_enabled = True
_anomaly = None  # an `anomaly.AnomalyMode` while detect_anomaly() is active
_forward_ad_depth = 0  # > 0 while rg.func.jvp traces tangents
_seq = 0  # creation counter: a node's seq is larger than every node it depends on
_node_observers = []  # hook point: callables told about every new Node (diagnostics, ledgers)
_autocast = None  # while rg.amp.autocast is active: (op, xs) -> (op, xs) that applies its policy
# True while none of the four modes above is active: then the compiled recorder may run.
_plain = True
# The compiled recorder (_accel.record) when the accelerator is on: the plain path of apply1 and
# binary_primitive in C (engine.use_accelerator installs it).
_record = None

TENSOR_NS = None  # the differentiable namespace, installed by the ops layer (see ops/__init__)


def apply(op, *xs, **params):
    """Run primitive `op` on Tensors `xs`; record a node when grad mode is on and any input
    requires grad. This is the hot path of every op: keep it lean."""
    global _seq
    if _autocast is not None:
        op, xs = _autocast(op, xs)
    n_inputs = len(xs)
    try:
        if params:
            out = op.forward(*[x.data for x in xs], **params)
        elif n_inputs == 1:  # NOTE: unpacking even an empty **params costs ~100 ns
            out = op.forward(xs[0].data)
        elif n_inputs == 2:
            out = op.forward(xs[0].data, xs[1].data)
        else:
            out = op.forward(*[x.data for x in xs])
    except (ValueError, TypeError, IndexError, AttributeError) as err:
        _raise_if_not_tensors(op, xs)
        if isinstance(err, AttributeError) or str(err).startswith(op.name + ":"):
            raise  # the op already wrote a full message
        raise _forward_error(op, xs, err) from err
    aux = None
    if op.has_aux:
        out, aux = out
    if type(out) is not ndarray:
        out = asarray(out)
    t = _new(Tensor)  # new_tensor(out), inlined: this runs once per op
    t.data = out
    t._requires_grad = False
    t._node = None
    t._version = None
    if _forward_ad_depth:
        _trace_tangent(op, xs, t, params)
    if _anomaly is not None:
        _anomaly.check_forward(op, xs, t)
    if not _grad_enabled:
        return t
    # Edges and needs, without comprehensions for the usual one or two inputs (each
    # comprehension is a function call in Python 3.11).
    if n_inputs == 1:
        x = xs[0]
        if not x._requires_grad:
            return t
        edges = (x if x._node is None else x._node,)
        needs = _ONE
    elif n_inputs == 2:
        x, y = xs
        if x._requires_grad:
            if y._requires_grad:
                edges = (x if x._node is None else x._node, y if y._node is None else y._node)
                needs = _BOTH
            else:
                edges = (x if x._node is None else x._node, None)
                needs = _FIRST
        elif y._requires_grad:
            edges = (None, y if y._node is None else y._node)
            needs = _SECOND
        else:
            return t
    else:
        needs = tuple([x._requires_grad for x in xs])
        if True not in needs:
            return t
        edges = tuple([(x if x._node is None else x._node) if x._requires_grad else None
                       for x in xs])
    node = _new(Node)
    node.op = op
    node.edges = edges
    node.needs = needs
    node.params = params
    node.shape = out.shape
    node.dtype = out.dtype
    _seq += 1
    node.seq = _seq
    node.hooks = node.versions = node.out_version = None
    if aux is not None:
        node.aux = aux
    save = op.save
    if not save:
        node.saved = ()
    else:
        if n_inputs < 4 and save == _SAVE_ALL[n_inputs]:
            saved = xs  # the usual case: the rule reads every input
        else:
            saved = tuple([xs[i] for i in save])
        node.saved = saved
        for x in saved:
            if x._version is not None:
                node.versions = tuple([0 if x._version is None else x._version[0] for x in saved])
                break
    node.out_data = out if op.save_out else None
    if _anomaly is not None:
        node.source = _anomaly.source_line()
    t._requires_grad = True
    t._node = node
    if _node_observers:
        for observer in _node_observers:
            observer(node, xs, t)
    return t


_ONE = (True,)
_BOTH = (True, True)
_FIRST = (True, False)
_SECOND = (False, True)
_SAVE_ALL = ((), (0,), (0, 1), (0, 1, 2))  # `save` declaring every input, by input count


def apply1(op, x):
    """`apply(op, x)` for one input and no params, through the compiled recorder when it is on
    and no mode is active (the hot path of unary ops)."""
    if _record is not None and _plain and op._record_flags is not None:
        t = _record(op, op.forward, x, None, op._record_flags)
        if t is not NotImplemented:
            return t
    return apply(op, x)


def binary_primitive(op, prepare):
    """The function ``f(input, other)`` that applies two-input primitive `op` (no params, no
    aux): the Python operators and rg.add/sub/mul, the hottest calls there are.

    Two Tensors of one dtype go straight in; anything else goes through
    ``prepare(op, x, y) -> (x, y)`` first (Python numbers, arrays, type promotion: the ops
    layer's rules). Then the compiled recorder runs it when it is on and no mode is active,
    `apply` otherwise.
    """
    flags = record_flags(op)
    if flags is None:
        raise ValueError(f"binary_primitive: op '{op.name}' has aux or an unusual `save`")
    forward = op.forward

    def record(input, other):  # noqa: A002 - PyTorch's argument names
        if (type(input) is not Tensor or type(other) is not Tensor
                or input.data.dtype is not other.data.dtype):
            input, other = prepare(op, input, other)
        if _record is not None and _plain:
            t = _record(op, forward, input, other, flags)
            if t is not NotImplemented:
                return t
        return apply(op, input, other)

    record.__name__ = record.__qualname__ = op.name
    record.__module__ = op.__module__  # where the ops layer binds it: pickled by that name
    return record


_NO_PARAMS = {}  # shared by the nodes the compiled recorder makes; rules only read it


def fast_primitive(op, fallback, arity, floating=False):
    """`fallback`, the Python function of a hot one- or two-input op (operators, tanh, relu...),
    wrapped where the accelerator is built: the wrapper records plain calls in C and hands every
    other call (keywords, Python numbers, mixed or integer dtypes, active modes) to `fallback`,
    so both behave the same. `floating`: the op converts non-float inputs first (tanh), so only
    float inputs take the compiled path."""
    if _record is None or op._record_flags is None:
        return fallback
    from . import _accel  # noqa: PLC0415 - present whenever _record is set

    fast = _accel.Primitive(op, op.forward, fallback, op._record_flags, arity, floating)
    fast.__name__, fast.__qualname__ = fallback.__name__, fallback.__qualname__
    fast.__module__, fast.__doc__ = op.__module__, fallback.__doc__  # pickled by this name
    return fast


def _raise_if_not_tensors(op, xs):
    """PyTorch's TypeError for an input that is not a Tensor (None, a list...)."""
    for i, x in enumerate(xs):
        if not isinstance(x, Tensor):
            name = op.input_names[i] if i < len(op.input_names) else str(i)
            raise not_a_tensor(op.name, _TORCH_ARGUMENT_NAMES.get(name, name), i, x)


_TORCH_ARGUMENT_NAMES = {"x": "input", "y": "other"}  # the rules' names -> PyTorch's


def not_a_tensor(name, argument, position, value):
    return TypeError(
        f"{name}(): argument '{argument}' (position {position + 1}) must be Tensor, not "
        f"{type(value).__name__}"
    )


def _forward_error(op, xs, err):
    """Re-raise NumPy's error with the op's name and the input shapes in front of it."""
    message = str(err)
    shapes = " and ".join(str(tuple(x.data.shape)) for x in xs)
    return type(err)(f"{op.name}: inputs of shape {shapes}: {message}")


def _trace_tangent(op, xs, t, params):
    """Forward mode: push the inputs' tangents through the op's JVP rule."""
    tangents = [x._tangent for x in xs]
    if all(tan is None for tan in tangents):
        return
    if op.jvp is None:
        raise NotImplementedError(f"forward-mode AD: op '{op.name}' has no JVP rule")
    from . import array_ns  # noqa: PLC0415 - cheap after the first import

    arrays = [x.data for x in xs]
    ts = [
        np.zeros_like(a) if tan is None and dtypes.is_floating(a.dtype) else tan
        for tan, a in zip(tangents, arrays)
    ]
    t_out = op.jvp(array_ns, ts, arrays, t.data, params)
    t_out = np.asarray(t_out, dtype=t.data.dtype)
    if t_out.shape != t.data.shape:
        t_out = np.broadcast_to(t_out, t.data.shape).copy()
    t._tangent = t_out


def set_grad_enabled_flag(flag):
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = bool(flag)
    return previous


def is_grad_enabled():
    return _grad_enabled


def _update_plain():
    global _plain
    _plain = (_autocast is None and _anomaly is None and not _forward_ad_depth
              and not _node_observers)


def add_node_observer(observer):
    """Have `observer(node, inputs, output)` called for every node recorded from now on."""
    _node_observers.append(observer)
    _update_plain()


def remove_node_observer(observer):
    """Stop calling `observer`; a no-op when it is not registered."""
    if observer in _node_observers:
        _node_observers.remove(observer)
    _update_plain()


def set_anomaly(mode):
    global _anomaly
    previous = _anomaly
    _anomaly = mode
    _update_plain()
    return previous


def get_anomaly():
    return _anomaly


def set_autocast(hook):
    """Install `hook(op, xs) -> (op, xs)`, consulted by every `apply` (None: off); returns the
    previous one. Used by rg.amp.autocast to cast inputs by op before they run."""
    global _autocast
    previous = _autocast
    _autocast = hook
    _update_plain()
    return previous


def get_autocast():
    return _autocast


def change_forward_ad_depth(delta):
    global _forward_ad_depth
    _forward_ad_depth += delta
    _update_plain()


def current_seq():
    return _seq


def install_tensor_namespace(ns):
    global TENSOR_NS
    TENSOR_NS = ns


def save_tensors(node, tensors):
    """Make `node` keep `tensors` for backward (version-checked and released like the inputs an
    op declares in `save`): for custom Functions, whose saved tensors are known only after their
    forward has run. Keep in step with how `apply` fills `saved` and `versions`."""
    saved = tuple(tensors)
    node.saved = saved
    node.versions = None
    for x in saved:
        if x._version is not None:
            node.versions = tuple([0 if t._version is None else t._version[0] for t in saved])
            break
