"""The plain (Elman) RNN sequence kernels behind `rnn_sequence`, and the layout helpers the LSTM
and GRU kernels share.

Shapes: xproj (L, N, H), the input projections with both biases added; h0 (N, H); w_hh (H, H);
h' = act(x + W h) with act tanh or relu. Outputs: hs (L, N, H) and h_n (N, H). NumPy forward,
backward and JVP loops for the fast path, `vjp_ns` for create_graph=True (see
`_recurrent_lstm.py`).

Every kernel works on the *packed* layout: the steps' rows one after the other in a 2-D array,
step t holding `sizes[t]` rows (PyTorch's PackedSequence: sequences sorted by decreasing length,
so the sequences still running at step t are the first sizes[t] of the batch). A padded
(L, N, F) input is the case where every step has N rows, and is only reshaped. At step t the
first sizes[t] rows of the state advance; the other rows keep their value, so h_n holds each
sequence's state after its own last step (its first step, running in reverse).
"""

import numpy as np


class Layout:
    """Where each step's rows are in the packed (T, F) arrays: `sizes[t]` rows from
    `starts[t]`; `batch` rows in the state; `shape` of the caller's xproj (3-D when padded)."""

    __slots__ = ("sizes", "starts", "batch", "shape", "uniform")

    def __init__(self, xproj_shape, batch_sizes):
        self.shape = tuple(xproj_shape)
        if batch_sizes is None:
            length, batch = xproj_shape[0], xproj_shape[1]
            self.sizes = [batch] * length
        else:
            self.sizes = [int(b) for b in batch_sizes]
        if self.sizes:
            self.batch = self.sizes[0]
        else:  # no steps at all
            self.batch = xproj_shape[1] if batch_sizes is None else 0
        self.starts = [0] * len(self.sizes)
        for t in range(1, len(self.sizes)):
            self.starts[t] = self.starts[t - 1] + self.sizes[t - 1]
        self.uniform = batch_sizes is None

    def rows(self, t):
        return slice(self.starts[t], self.starts[t] + self.sizes[t])

    def flat(self, x):
        """A (T, F) view (or copy) of an array in the caller's layout."""
        return x if x.ndim == 2 else x.reshape(-1, x.shape[-1])

    def restore(self, x2d):
        """A (T, F) array back in the caller's layout."""
        if not self.uniform:
            return x2d
        return x2d.reshape(self.shape[:-1] + (x2d.shape[-1],))


def steps(length, reverse):
    """The time indices in the order the recurrence visits them."""
    return range(length - 1, -1, -1) if reverse else range(length)


def transposed(w):
    """w.T as a contiguous copy, made once per sequence.

    NOTE: OpenBLAS multiplies (32, 128) @ (128, 512) in float32 in about half the time when the
    right operand is contiguous rather than a transposed view (measured 130 us against 220-250
    us, one thread): the copy pays for itself within a step.
    """
    return np.ascontiguousarray(w.T)


def previous(seq, first, layout, reverse):
    """The state each step's rows start from, packed like `seq`: rows of the step run before,
    or of `first` (the initial state) for sequences starting there."""
    out = np.empty_like(seq)
    sizes, n = layout.sizes, len(layout.sizes)
    if not n:
        return out
    if layout.uniform:
        batch = sizes[0]
        if reverse:
            out[:-batch] = seq[batch:]
            out[-batch:] = first
        else:
            out[batch:] = seq[:-batch]
            out[:batch] = first
        return out
    for t in range(n):
        rows, b = layout.rows(t), sizes[t]
        before = t + 1 if reverse else t - 1
        if not 0 <= before < n:
            out[rows] = first[:b]
            continue
        kept = min(b, sizes[before])
        start = layout.starts[t]
        out[start:start + kept] = seq[layout.starts[before]:layout.starts[before] + kept]
        out[start + kept:start + b] = first[kept:b]
    return out


class State:
    """A recurrent state of `batch` rows whose first b rows a step replaces: a view of the
    step's output while the whole batch runs (no copy), a private buffer once only some do."""

    __slots__ = ("value", "own")

    def __init__(self, initial):
        self.value = initial
        self.own = False

    def head(self, b):
        return self.value if b == self.value.shape[0] else self.value[:b]

    def advance(self, new_rows):
        b = new_rows.shape[0]
        if b == self.value.shape[0]:
            self.value, self.own = new_rows, False
            return
        if not self.own:
            self.value, self.own = np.array(self.value, copy=True), True
        self.value[:b] = new_rows


def ns_advance(ns, state, new_rows, b):
    """`State.advance` for the rule namespace: the new rows, then the rows left unchanged."""
    if b == state.shape[0]:
        return new_rows
    return ns.cat([new_rows, state[b:]], dim=0)


# ----------------------------------------------------------------- the Elman RNN
def forward(xproj, h0, w_hh, *, nonlinearity, reverse, batch_sizes=None):
    layout = Layout(xproj.shape, batch_sizes)
    x = layout.flat(xproj)
    hs = np.empty(x.shape, x.dtype)
    w_t = transposed(w_hh)
    h = State(h0)
    for t in steps(len(layout.sizes), reverse):
        rows = layout.rows(t)
        h_t = hs[rows]
        np.matmul(h.head(layout.sizes[t]), w_t, out=h_t)
        h_t += x[rows]
        if nonlinearity == "tanh":
            np.tanh(h_t, out=h_t)
        else:
            np.maximum(h_t, 0, out=h_t)
        h.advance(h_t)
    return (layout.restore(hs), np.array(h.value, copy=True)), (hs,)


def _activation_derivative(hs, nonlinearity):
    return 1.0 - hs * hs if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)


def backward(cache, grads, xs, needs, *, nonlinearity, reverse, batch_sizes=None):
    """Gradients for (xproj, h0, w_hh) from (g_hs, g_hn)."""
    (hs,) = cache
    g_hs, g_hn = grads
    h0, w_hh = xs[1], xs[2]
    layout = Layout(xs[0].shape, batch_sizes)
    g_hs = None if g_hs is None else layout.flat(g_hs)
    derivative = _activation_derivative(hs, nonlinearity)
    gpre = np.empty_like(hs)
    dh = np.zeros_like(h0) if g_hn is None else np.array(g_hn, dtype=hs.dtype, copy=True)
    for t in steps(len(layout.sizes), not reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        dh_b = dh[:b]
        if g_hs is not None:
            dh_b += g_hs[rows]
        np.multiply(dh_b, derivative[rows], out=gpre[rows])
        np.matmul(gpre[rows], w_hh, out=dh_b)
    g_w_hh = None
    if needs[2]:
        g_w_hh = gpre.T @ previous(hs, h0, layout, reverse)
    return layout.restore(gpre), dh, g_w_hh


def vjp_ns(ns, xs, grads, needs, *, nonlinearity, reverse, batch_sizes=None):
    xproj, h0, w_hh = xs
    g_hs, g_hn = grads
    layout = Layout(xproj.shape, batch_sizes)
    x = xproj if xproj.ndim == 2 else ns.reshape(xproj, (-1, xproj.shape[-1]))
    if g_hs is not None and g_hs.ndim != 2:
        g_hs = ns.reshape(g_hs, (-1, g_hs.shape[-1]))
    order = steps(len(layout.sizes), reverse)
    w_t = ns.mT(w_hh)
    h = h0
    saved = {}
    for t in order:
        b = layout.sizes[t]
        h_prev = h if b == layout.batch else h[:b]
        pre = x[layout.rows(t)] + ns.matmul(h_prev, w_t)
        h_new = ns.tanh(pre) if nonlinearity == "tanh" else ns.maximum(pre, ns.zeros_like(pre))
        saved[t] = (h_prev, h_new)
        h = ns_advance(ns, h, h_new, b)
    dh = ns.zeros_like(h0) if g_hn is None else g_hn
    gpres, g_w_hh = {}, None
    for t in reversed(order):
        b = layout.sizes[t]
        h_prev, h_t = saved[t]
        dh_b = dh if b == layout.batch else dh[:b]
        if g_hs is not None:
            dh_b = dh_b + g_hs[layout.rows(t)]
        gpre = dh_b * (1.0 - h_t * h_t) if nonlinearity == "tanh" else dh_b * (h_t > 0)
        gpres[t] = gpre
        step = ns.matmul(ns.mT(gpre), h_prev)
        g_w_hh = step if g_w_hh is None else g_w_hh + step
        dh = ns_advance(ns, dh, ns.matmul(gpre, w_hh), b)
    g_xproj = ns.reshape(ns.cat([gpres[t] for t in range(len(layout.sizes))], 0), xproj.shape)
    return g_xproj, dh, g_w_hh if needs[2] else None


def jvp(cache, xs, ts, *, nonlinearity, reverse, batch_sizes=None):
    (hs,) = cache
    h0, w_hh = xs[1], xs[2]
    layout = Layout(xs[0].shape, batch_sizes)
    t_xproj, t_h0, t_w_hh = layout.flat(ts[0]), ts[1], ts[2]
    derivative = _activation_derivative(hs, nonlinearity)
    h_prev = previous(hs, h0, layout, reverse)
    t_hs = np.empty_like(hs)
    dh = np.array(t_h0, dtype=hs.dtype, copy=True)
    for t in steps(len(layout.sizes), reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        dh[:b] = (t_xproj[rows] + dh[:b] @ w_hh.T + h_prev[rows] @ t_w_hh.T) * derivative[rows]
        t_hs[rows] = dh[:b]
    return layout.restore(t_hs), dh
