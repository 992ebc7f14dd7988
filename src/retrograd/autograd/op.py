"""What a primitive is (`Op`, and `REGISTRY`, the list of them all) and what recording one
leaves in the graph (`Node`). `graph.apply` and the hot paths beside it make the nodes."""


REGISTRY = {}  # op name -> Op subclass; the inspectable list of every primitive



class Op:
    """A primitive operation.

    Subclasses set `name` and define, as static methods:

    - ``forward(*arrays, **params) -> out`` on NumPy arrays (``(out, aux)`` when ``has_aux``;
      ``aux`` is non-differentiable data for the rules, such as arg-max indices);
    - ``vjp(ns, g, saved, params, needs) -> gx`` (one input) or a tuple with one entry per input
      (``None`` where no gradient is needed); ``saved`` holds what the op declared it keeps:
      the inputs listed in ``save`` (by position), then the output if ``save_out``, then
      ``aux``; ``needs`` tells which inputs want a gradient;
    - ``jvp(ns, ts, xs, out, params) -> t_out`` with one tangent per input (zeros where the
      input has none) and all inputs.

    `params` (keyword arguments of `apply`) reach forward and both rules; values only the rules
    need (an input shape, say) travel there too, and forward takes them as ``**_``.

    The engine undoes broadcasting and casts gradients to the input dtype, so a rule may return
    a gradient in the broadcast output shape.
    """

    name = None
    input_names = ("x",)
    save = ()  # forward declares what backward may use: input positions ...
    save_out = False  # ... and whether the output is kept
    has_aux = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._record_flags = record_flags(cls)
        if cls.name is not None:
            if cls.name in REGISTRY and REGISTRY[cls.name].__qualname__ != cls.__qualname__:
                raise ValueError(f"op '{cls.name}' is registered twice")
            REGISTRY[cls.name] = cls

    @staticmethod
    def forward(*xs, **params):
        raise NotImplementedError

    vjp = None  # a missing rule is None, so the engine can name the op that lacks it
    jvp = None


def record_flags(op):
    """What the compiled recorder must keep for `op`, as its flags (1: input 0, 2: input 1,
    4: the output), or None when the op keeps something else (the Python path records it)."""
    if op.has_aux or op.save not in ((), (0,), (1,), (0, 1)):
        return None
    return (1 if 0 in op.save else 0) | (2 if 1 in op.save else 0) | (4 if op.save_out else 0)


class Node:
    """One recorded application of an Op: what backward needs and where gradients go next.

    ``edges`` has one entry per input: ``None`` (no gradient wanted), a leaf Tensor (its
    gradient is accumulated into ``.grad``) or the Node that produced the input. ``shape`` and
    ``dtype`` describe the node's output, which is what a gradient flowing into the node must
    match. ``saved`` holds the input tensors the op declared; ``versions`` their version counts
    when saved (None when none of them had ever been changed in place, the common case);
    ``out_version`` the output's version counter, linked when the output first gets one (see
    `Tensor._counter`). ``saved`` is None once
    backward has released the node.
    """

    __slots__ = (
        "op",
        "edges",
        "needs",
        "saved",
        "out_data",
        "params",
        "shape",
        "dtype",
        "seq",
        "hooks",  # tensor hooks on this node's output (register_hook, retain_grad), or None
        "versions",
        "out_version",
        "__dict__",  # NOTE: only for the rare attributes below, so creating a node stays cheap
        "__weakref__",
    )

    aux = None  # the op's non-differentiable forward by-products (has_aux ops)
    source = None  # the user's source line, recorded in anomaly mode
    module_path = None  # dotted name of the module that ran the op, when known

    def name(self):
        return self.op.name

    def __repr__(self):
        return f"<{self.op.name} node #{self.seq}>"

    @property
    def next_functions(self):
        """(edge, 0) pairs, like PyTorch's grad_fn.next_functions."""
        return tuple((e, 0) for e in self.edges)
