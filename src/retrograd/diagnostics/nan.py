"""NaN/Inf provenance: the first op, forward or backward, whose output became non-finite, with
its module path, the user's source line, statistics of its inputs and the usual cause.

    report = rg.diagnostics.find_nonfinite(model, loss_fn, (x, y))   # None if all is finite
    print(report)          # op, module, line, input statistics, cause and hint
    report.to_dict()

    with rg.diagnostics.detect_nonfinite(model):      # raises NonfiniteError (.report)
        loss_fn(model(x), y).backward()

Built on `rg.autograd.detect_anomaly` (the same hook in `apply` and in the engine), with one
difference in forward: an op is reported when it *creates* NaN (no input had NaN) or Inf (every
input was finite). Infinities that enter from constants, such as a -inf attention mask fed to
softmax, are not reported while the result stays finite; a fully masked softmax row, which
makes NaN, is. Ops that create infinities on purpose are allowed with `allow=('log', ...)` (op
names, or module paths) or inside `with rg.diagnostics.allow_nonfinite('log'):`. NaN is never
allowed unless `allow_nan=True`. Every non-finite gradient is reported.
"""

import contextlib

import numpy as np

from ..autograd import graph
from ..autograd.anomaly import AnomalyError, AnomalyMode
from ..autograd.engine import grad as _grad
from ..autograd.tensor import Tensor
from ._nan_causes import HINTS, TensorStats, backward_cause, forward_cause
from ._paths import ModulePaths

__all__ = ["NonfiniteError", "NonfiniteReport", "allow_nonfinite", "detect_nonfinite",
           "find_nonfinite"]

_ALIASES = {"masked_fill": "where"}  # user-facing names of ops registered under another name
_ALLOWED = []  # (names, allow_nan) pushed by allow_nonfinite blocks


class NonfiniteReport:
    """Where a NaN/Inf first appeared.

    `phase` ('forward', 'backward', 'input' or 'parameters'), `op`, `module` (dotted path or
    None), `source` (the user's line), `kind` ('nan', 'inf' or 'nan+inf'), `cause` (a code such
    as 'log_nonpositive', 'division_by_zero', 'where_trap'), `hint`, `inputs` (TensorStats of
    the op's inputs; in backward those it saved), `output` (the op's output; in backward the
    non-finite gradient), `grad_output` (backward: the gradient that flowed into the op),
    `input_index` (backward: whose gradient), `names` (input/parameters phases)."""

    def __init__(self, phase, kind, cause, op=None, module=None, source=None, inputs=(),
                 output=None, grad_output=None, input_index=None, names=()):
        self.phase = phase
        self.kind = kind
        self.cause = cause
        self.hint = HINTS[cause]
        self.op = op
        self.module = module
        self.source = source
        self.inputs = list(inputs)
        self.output = output
        self.grad_output = grad_output
        self.input_index = input_index
        self.names = tuple(names)

    @property
    def message(self):
        what = {"nan": "NaN", "inf": "Inf", "nan+inf": "NaN and Inf"}[self.kind]
        where = f" in module '{self.module}'" if self.module else ""
        if self.phase == "forward":
            return f"forward: op '{self.op}'{where} produced {what} from inputs without it"
        if self.phase == "backward":
            return (f"backward: the gradient of op '{self.op}'{where} for its input "
                    f"{self.input_index} contains {what}")
        if self.phase == "input":
            return f"the batch contains {what} (in {', '.join(self.names)})"
        return f"parameters contain {what}: {', '.join(self.names)}"

    def to_dict(self):
        def stats(s):
            return None if s is None else s.to_dict()

        return {
            "phase": self.phase, "kind": self.kind, "cause": self.cause, "hint": self.hint,
            "op": self.op, "module": self.module, "source": self.source,
            "inputs": [stats(s) for s in self.inputs], "output": stats(self.output),
            "grad_output": stats(self.grad_output), "input_index": self.input_index,
            "names": list(self.names), "message": self.message,
        }

    def __repr__(self):
        return f"<NonfiniteReport {self.phase} {self.op} {self.cause}>"

    def __str__(self):
        lines = [self.message]
        if self.source:
            lines.append(f"  created at {self.source}")
        for s in self.inputs:
            lines.append(f"  input  {s}")
        if self.grad_output is not None:
            lines.append(f"  incoming gradient {self.grad_output}")
        if self.output is not None:
            label = "gradient" if self.phase == "backward" else "output"
            lines.append(f"  {label} {self.output}")
        lines.append(f"  cause: {self.cause}: {self.hint}")
        return "\n".join(lines)


class NonfiniteError(AnomalyError):
    """An AnomalyError whose `report` is a NonfiniteReport."""

    def __init__(self, report):
        super().__init__(str(report), op_name=report.op, source=report.source,
                         phase=report.phase)
        self.report = report


class _ProvenanceMode(AnomalyMode):
    """The anomaly mode of detect_nonfinite: structured reports, creation-only forward checks,
    an allow-list, and which ops read each node's output (to recognise the `where` trap)."""

    def __init__(self, paths, allow, allow_nan):
        super().__init__(check_nan=True)
        self.paths = paths
        self.allow = frozenset(_ALIASES.get(name, name) for name in allow)
        self.allow_nan = allow_nan
        self.consumers = {}  # node -> names of the ops that read its output

    def observe(self, node, xs, out):
        for x in xs:
            if x._node is not None:
                self.consumers.setdefault(x._node, set()).add(node.op.name)

    def _allowed(self, op_name, module, nan):
        entries = [(self.allow, self.allow_nan), *_ALLOWED]
        for names, allow_nan in entries:
            if nan and not allow_nan:
                continue
            if names is None or op_name in names:
                return True
            if module is not None and any(module == n or module.startswith(n + ".")
                                          for n in names):
                return True
        return False

    def check_forward(self, op, xs, out):
        data = out.data
        if data.dtype.kind not in "fc" or np.isfinite(data).all():
            return
        arrays = [x.data for x in xs]
        out_nan = bool(np.isnan(data).any())
        out_inf = bool(np.isinf(data).any())
        in_nan = any(_has(np.isnan, a) for a in arrays)
        in_inf = any(_has(np.isinf, a) for a in arrays)
        made_nan = out_nan and not in_nan
        made_inf = out_inf and not (in_inf or in_nan)
        if not (made_nan or made_inf):
            return  # it came in: reported where it was made, or allowed there
        module = None if self.paths is None else self.paths.current
        if self._allowed(op.name, module, nan=made_nan):
            return
        names = op.input_names if len(op.input_names) == len(arrays) else ()
        report = NonfiniteReport(
            "forward", _kind(made_nan, made_inf), forward_cause(op.name, arrays, data),
            op=op.name, module=module, source=self.source_line(),
            inputs=[TensorStats.of(a, names[i] if names else f"input {i}")
                    for i, a in enumerate(arrays)],
            output=TensorStats.of(data, "out"),
        )
        raise NonfiniteError(report)

    def check_backward(self, node, index, gx, g=None):
        data = _array(gx)
        if data.dtype.kind not in "fc" or np.isfinite(data).all():
            return
        g_data = None if g is None else _array(g)
        op = node.op
        inputs = _saved_inputs(node)
        out = node.out_data
        names = op.input_names if len(op.input_names) == len(node.edges) else ()
        report = NonfiniteReport(
            "backward", _kind(bool(np.isnan(data).any()), bool(np.isinf(data).any())),
            backward_cause(op.name, inputs, out, g_data, data, self.consumers.get(node, set())),
            op=op.name, module=node.module_path, source=node.source,
            inputs=[TensorStats.of(a, names[i] if names else f"input {i}")
                    for i, a in inputs.items()]
            + ([] if out is None else [TensorStats.of(out, "out (forward value)")]),
            output=TensorStats.of(data, "gx"),
            grad_output=None if g_data is None else TensorStats.of(g_data, "g"),
            input_index=index,
        )
        raise NonfiniteError(report)


class detect_nonfinite:  # noqa: N801 - a context manager, like detect_anomaly
    """Inside the block, raise `NonfiniteError` (an `AnomalyError` with a `.report`) at the
    first op that creates NaN/Inf in forward, or at the first non-finite gradient in backward.
    With `model`, reports name the module that ran the op. NumPy's floating-point warnings are
    silenced inside (the report says more)."""

    def __init__(self, model=None, allow=(), allow_nan=False):
        self.model = model
        self.mode = None
        self._allow = _names(allow, "detect_nonfinite")
        self._allow_nan = allow_nan

    def __enter__(self):
        paths = None if self.model is None else ModulePaths(self.model).attach()
        self.mode = _ProvenanceMode(paths, self._allow, self._allow_nan)
        graph.add_node_observer(self.mode.observe)
        self._previous = graph.set_anomaly(self.mode)
        # NumPy's "invalid value" warnings would only repeat, less precisely, what the report says
        self._errstate = np.errstate(all="ignore")
        self._errstate.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._errstate.__exit__(*exc_info)
        graph.set_anomaly(self._previous)
        graph.remove_node_observer(self.mode.observe)
        if self.mode.paths is not None:
            self.mode.paths.detach()
        self.mode.consumers = {}
        return False


@contextlib.contextmanager
def allow_nonfinite(*ops, nan=False):
    """Inside the block, ops named in `ops` (op names such as 'log', 'masked_fill', or module
    paths; none: every op) may create Inf (and NaN with `nan=True`) without a report."""
    names = None if not ops else frozenset(_ALIASES.get(n, n) for n in _names(ops, "allow"))
    entry = (names, nan)
    _ALLOWED.append(entry)
    try:
        yield
    finally:
        _ALLOWED.remove(entry)


def find_nonfinite(model, loss_fn=None, batch=None, *, allow=(), allow_nan=False):
    """Run one forward and backward pass of `model` on `batch` and return a NonfiniteReport of
    the first NaN/Inf (None if everything stays finite). `.grad` is left untouched.

    `batch` is `(inputs..., target)` with `loss_fn(output, target)`, as in `rg.train.fit`, or a
    Tensor (then `loss_fn(output)`, or the output itself without a loss_fn). Non-finite
    parameters or batch values are reported before anything runs."""
    bad = [name for name, p in model.named_parameters() if not _all_finite(p.data)]
    if bad:
        return _plain_report("parameters", "nonfinite_parameter", bad,
                             [p.data for name, p in model.named_parameters() if name in bad])
    inputs, target = _split(batch, loss_fn)
    tensors = [("input " + str(i), x) for i, x in enumerate(inputs)]
    if target is not None:
        tensors.append(("target", target))
    bad = [(name, t) for name, t in tensors
           if isinstance(t, Tensor) and not _all_finite(t.data)]
    if bad:
        return _plain_report("input", "nonfinite_input", [n for n, _ in bad],
                             [t.data for _, t in bad])
    params = [p for p in model.parameters() if p.requires_grad]
    try:
        with detect_nonfinite(model, allow=allow, allow_nan=allow_nan):
            out = model(*inputs)
            loss = out if loss_fn is None else (
                loss_fn(out) if target is None else loss_fn(out, target))
            if loss.numel() != 1:
                loss = loss.sum()
            if params and loss.requires_grad:
                _grad([loss], params, allow_unused=True)
    except NonfiniteError as err:
        return err.report
    return None


# ---------------------------------------------------------------------------------- helpers
def _split(batch, loss_fn):
    if isinstance(batch, Tensor):
        return (batch,), None
    if isinstance(batch, (tuple, list)):
        if loss_fn is not None and len(batch) >= 2:
            return tuple(batch[:-1]), batch[-1]
        return tuple(batch), None
    raise TypeError(
        f"find_nonfinite: batch must be a Tensor or a tuple (inputs..., target), got "
        f"{type(batch).__name__}"
    )


def _plain_report(phase, cause, names, arrays):
    nan = any(_has(np.isnan, a) for a in arrays)
    inf = any(_has(np.isinf, a) for a in arrays)
    return NonfiniteReport(phase, _kind(nan, inf), cause, names=names,
                           inputs=[TensorStats.of(a, n) for n, a in zip(names, arrays)])


def _saved_inputs(node):
    """{input position: array} for the inputs the op saved (empty once the graph is freed)."""
    if not node.saved:
        return {}
    positions = node.op.save
    if len(positions) != len(node.saved):  # custom Functions save what they like
        positions = range(len(node.saved))
    return {i: t.data for i, t in zip(positions, node.saved) if isinstance(t, Tensor)}


def _names(value, where):
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise TypeError(f"{where}: allow must be op names, got {value!r}") from None
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{where}: allow must be op names, got {value!r}")
    return names


def _array(value):
    """A gradient as an array: rules may hand back Tensors (create_graph) or NumPy scalars."""
    if isinstance(value, Tensor):
        return value.data
    return np.asarray(value)


def _kind(nan, inf):
    return "nan+inf" if nan and inf else "nan" if nan else "inf"


def _has(test, a):
    return a.dtype.kind in "fc" and bool(test(a).any())


def _all_finite(a):
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())
