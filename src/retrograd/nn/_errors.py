"""Errors raised inside a module's forward name the layer they came from.

Module.__call__ catches any exception leaving `forward` and calls `annotate`, which keeps on the
exception the chain of modules it has passed through and rewrites its message as
``<path> (<Layer type>): <original message>``, the path being the dotted name of the innermost
module relative to the outermost one reached so far. Each enclosing module's __call__ extends the
path by one name, so when the exception leaves the model the path is complete:

    ValueError: encoder.2 (Linear): expected input with last dimension 784 (in_features), got
    shape (32, 100)

Nothing runs unless an exception is raised: the hot path pays only for a `try` block.

Layers raise their own input checks with `check_input`, which words them the same way.
"""

from . import _walk


def annotate(err, module, module_type):
    """Add `module` (the one whose __call__ the exception is leaving) to err's layer path.

    Never raises: a failure here (a RecursionError near the stack limit, an exception object
    without a __dict__) leaves the original error as it was.
    """
    try:
        _annotate(err, module, module_type)
    except Exception:  # noqa: BLE001, S110 - the user's error matters, not ours
        pass


def _annotate(err, module, module_type):
    info = err.__dict__.get("_rg_layer")
    if info is None:
        info = err._rg_layer = _LayerPath(err, module)
    else:
        name = _walk.child_name(module, info.outer, module_type)
        info.names.append(name if name is not None else f"<{type(info.outer).__name__}>")
        info.outer = module
    info.write(err)


class _LayerPath:
    __slots__ = ("inner", "outer", "names", "message", "note_index")

    def __init__(self, err, module):
        self.inner = module
        self.outer = module
        self.names = []  # innermost first
        args = err.args
        rewritable = (
            len(args) == 1
            and isinstance(args[0], str)
            and type(err).__str__ is BaseException.__str__
        )
        self.message = args[0] if rewritable else None
        self.note_index = None

    def label(self):
        kind = type(self.inner).__name__
        if not self.names:
            return kind
        return f"{'.'.join(reversed(self.names))} ({kind})"

    def write(self, err):
        if self.message is not None:
            err.args = (f"{self.label()}: {self.message}",)
            return
        # Exceptions that format their own message (KeyError, OSError...): a note instead.
        note = f"raised in layer {self.label()}"
        notes = err.__dict__.setdefault("__notes__", [])
        if self.note_index is None or self.note_index >= len(notes):
            self.note_index = len(notes)
            notes.append(note)
        else:
            notes[self.note_index] = note


def check_input(input, *, ndim=None, dim=None, size=None, what=None):
    """Check a layer's input and raise a ValueError worded as every layer words it.

    `ndim`: an int or a tuple of allowed numbers of dimensions; `dim`/`size`: the dimension
    that must have `size` elements, `what` naming the layer argument it comes from
    (`in_features`). The layer's path is added by Module.__call__ as the error propagates:

        check_input(x, dim=-1, size=self.in_features, what="in_features")
        # ValueError: fc1 (Linear): expected input with last dimension 784 (in_features),
        # got shape (32, 100)
    """
    shape = getattr(input, "shape", None)
    if shape is None:
        raise TypeError(f"expected a Tensor as input, got {type(input).__name__}")
    shape = tuple(shape)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(shape) not in allowed:
            dims = " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(f"expected a {dims} input, got shape {shape}") from None
    if dim is not None:
        if dim == -1:
            expected = f"last dimension {size}"
        else:
            expected = f"dimension {dim} of size {size}"
        reason = f" ({what})" if what else ""
        if not -len(shape) <= dim < len(shape) or shape[dim] != size:
            raise ValueError(f"expected input with {expected}{reason}, got shape {shape}") from None
