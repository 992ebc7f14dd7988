"""The plain (Elman) RNN sequence kernels behind `rnn_sequence`, and the helpers the LSTM and
GRU kernels share.

Shapes: xproj (L, N, H), the input projections with both biases added; h0 (N, H); w_hh (H, H);
h' = act(x + W h) with act tanh or relu. Outputs: hs (L, N, H) and h_n (N, H). NumPy forward,
backward and JVP loops for the fast path, `vjp_ns` for create_graph=True (see
`_recurrent_lstm.py`).
"""

import numpy as np


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


def previous(seq, first, reverse):
    """The state each step starts from, in input order: `first` at the first step run."""
    out = np.empty_like(seq)
    if reverse:
        out[:-1] = seq[1:]
        out[-1] = first
    else:
        out[1:] = seq[:-1]
        out[0] = first
    return out


def forward(xproj, h0, w_hh, *, nonlinearity, reverse):
    length = xproj.shape[0]
    hs = np.empty(xproj.shape, xproj.dtype)
    w_t = transposed(w_hh)
    h = h0
    for t in steps(length, reverse):
        h_t = hs[t]
        np.matmul(h, w_t, out=h_t)
        h_t += xproj[t]
        if nonlinearity == "tanh":
            np.tanh(h_t, out=h_t)
        else:
            np.maximum(h_t, 0, out=h_t)
        h = h_t
    return (hs, np.array(h, copy=True)), (hs,)


def _activation_derivative(hs, nonlinearity):
    return 1.0 - hs * hs if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)


def backward(cache, grads, xs, needs, *, nonlinearity, reverse):
    """Gradients for (xproj, h0, w_hh) from (g_hs, g_hn)."""
    (hs,) = cache
    g_hs, g_hn = grads
    h0, w_hh = xs[1], xs[2]
    length, batch, hidden = hs.shape
    derivative = _activation_derivative(hs, nonlinearity)
    gpre = np.empty_like(hs)
    dh = np.zeros_like(h0) if g_hn is None else np.array(g_hn, dtype=hs.dtype, copy=True)
    for t in steps(length, not reverse):
        if g_hs is not None:
            dh += g_hs[t]
        np.multiply(dh, derivative[t], out=gpre[t])
        np.matmul(gpre[t], w_hh, out=dh)
    g_w_hh = None
    if needs[2]:
        g_w_hh = gpre.reshape(-1, hidden).T @ previous(hs, h0, reverse).reshape(-1, hidden)
    return gpre, dh, g_w_hh


def vjp_ns(ns, xs, grads, needs, *, nonlinearity, reverse):
    xproj, h0, w_hh = xs
    g_hs, g_hn = grads
    length = xproj.shape[0]
    order = steps(length, reverse)
    w_t = ns.mT(w_hh)
    h = h0
    saved = {}
    for t in order:
        pre = xproj[t] + ns.matmul(h, w_t)
        h_new = ns.tanh(pre) if nonlinearity == "tanh" else ns.maximum(pre, ns.zeros_like(pre))
        saved[t] = (h, h_new)
        h = h_new
    dh = ns.zeros_like(h0) if g_hn is None else g_hn
    gpres, g_w_hh = {}, None
    for t in reversed(order):
        h_prev, h_t = saved[t]
        if g_hs is not None:
            dh = dh + g_hs[t]
        gpre = dh * (1.0 - h_t * h_t) if nonlinearity == "tanh" else dh * (h_t > 0)
        gpres[t] = gpre
        step = ns.matmul(ns.mT(gpre), h_prev)
        g_w_hh = step if g_w_hh is None else g_w_hh + step
        dh = ns.matmul(gpre, w_hh)
    g_xproj = ns.stack([gpres[t] for t in range(length)], 0)
    return g_xproj, dh, g_w_hh if needs[2] else None


def jvp(cache, xs, ts, *, nonlinearity, reverse):
    (hs,) = cache
    h0, w_hh = xs[1], xs[2]
    t_xproj, t_h0, t_w_hh = ts
    derivative = _activation_derivative(hs, nonlinearity)
    t_hs = np.empty_like(hs)
    dh, h = t_h0, h0
    for t in steps(hs.shape[0], reverse):
        dh = (t_xproj[t] + dh @ w_hh.T + h @ t_w_hh.T) * derivative[t]
        t_hs[t] = dh
        h = hs[t]
    return t_hs, np.array(dh, copy=True)
