"""The GRU sequence kernels behind `gru_sequence`: forward, VJP and JVP over a whole sequence.

Shapes: xproj (L, N, 3H), the input projections with b_ih added (gates r, z, n in PyTorch's
order); h0 (N, H); w_hh (3H, H); b_hh (3H,), kept apart because b_hn sits inside r * (...):

    r = sigmoid(x_r + W_hr h + b_hr)     z = sigmoid(x_z + W_hz h + b_hz)
    n = tanh(x_n + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h

Outputs: hs (L, N, H) and h_n (N, H); with `batch_sizes`, xproj and hs are packed (T, 3H) and
(T, H) (see `_recurrent_rnn.Layout`). The structure follows `_recurrent_lstm.py`: NumPy forward,
backward and JVP loops for the fast path, `vjp_ns` for create_graph=True.
"""

import numpy as np

from ._recurrent_rnn import Layout, State, ns_advance, previous, steps, transposed


def _sigmoid_(a):
    """sigmoid in place as (1 + tanh(a / 2)) / 2 (see `_recurrent_lstm._gate_affine`)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5

def forward(xproj, h0, w_hh, b_hh, *, reverse, batch_sizes=None):
    layout = Layout(xproj.shape, batch_sizes)
    x = layout.flat(xproj)
    total, three_h = x.shape
    hidden = three_h // 3
    dtype = x.dtype
    acts = np.empty((total, three_h), dtype)  # r, z, n
    ghn = np.empty((total, hidden), dtype)  # W_hn h + b_hn
    hs = np.empty((total, hidden), dtype)
    gh_buffer = np.empty((layout.batch, three_h), dtype)
    w_t = transposed(w_hh)
    h = State(h0)
    for t in steps(len(layout.sizes), reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        h_prev, gh = h.head(b), gh_buffer[:b]
        np.matmul(h_prev, w_t, out=gh)
        gh += b_hh
        a, x_t = acts[rows], x[rows]
        rz = a[:, :2 * hidden]
        np.add(x_t[:, :2 * hidden], gh[:, :2 * hidden], out=rz)
        _sigmoid_(rz)
        ghn[rows] = gh[:, 2 * hidden:]
        n = a[:, 2 * hidden:]
        np.multiply(a[:, :hidden], ghn[rows], out=n)
        n += x_t[:, 2 * hidden:]
        np.tanh(n, out=n)
        h_t = hs[rows]
        np.subtract(h_prev, n, out=h_t)
        h_t *= a[:, hidden:2 * hidden]
        h_t += n
        h.advance(h_t)
    return (layout.restore(hs), np.array(h.value, copy=True)), (acts, ghn, hs)


def backward(cache, grads, xs, needs, *, reverse, batch_sizes=None):
    """Gradients for (xproj, h0, w_hh, b_hh) from (g_hs, g_hn)."""
    acts, ghn, hs = cache
    g_hs, g_hn = grads
    h0, w_hh = xs[1], xs[2]
    layout = Layout(xs[0].shape, batch_sizes)
    g_hs = None if g_hs is None else layout.flat(g_hs)
    total, three_h = acts.shape
    hidden = three_h // 3
    dtype = acts.dtype
    r, z, n = (acts[:, k * hidden:(k + 1) * hidden] for k in range(3))
    h_prev = previous(hs, h0, layout, reverse)
    # d pre-activation / d h' for r, z, n (x side), for all steps at once; the h side differs
    # only in n: times r.
    x_factors = np.empty((total, 3, hidden), dtype)
    c_n = x_factors[:, 2]
    np.multiply(1.0 - z, 1.0 - n * n, out=c_n)
    np.multiply(h_prev - n, z - z * z, out=x_factors[:, 1])
    np.multiply(c_n * ghn, r - r * r, out=x_factors[:, 0])
    h_factors = x_factors.copy()
    h_factors[:, 2] *= r

    gx = np.empty((total, 3, hidden), dtype)
    gh = np.empty((total, 3, hidden), dtype)
    dh = np.zeros_like(h0) if g_hn is None else np.array(g_hn, dtype=dtype, copy=True)
    next_buffer = np.empty_like(dh)
    for t in steps(len(layout.sizes), not reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        dh_b, dh_next = dh[:b], next_buffer[:b]
        if g_hs is not None:
            dh_b += g_hs[rows]
        dh3 = dh_b[:, None, :]
        np.multiply(x_factors[rows], dh3, out=gx[rows])
        np.multiply(h_factors[rows], dh3, out=gh[rows])
        np.matmul(gh[rows].reshape(b, three_h), w_hh, out=dh_next)
        dh_b *= z[rows]
        dh_b += dh_next

    gh = gh.reshape(total, three_h)
    g_w_hh = gh.T @ h_prev if needs[2] else None
    g_b_hh = gh.sum(0) if needs[3] else None
    return layout.restore(gx.reshape(total, three_h)), dh, g_w_hh, g_b_hh


def vjp_ns(ns, xs, grads, needs, *, reverse, batch_sizes=None):
    xproj, h0, w_hh, b_hh = xs
    g_hs, g_hn = grads
    layout = Layout(xproj.shape, batch_sizes)
    x = xproj if xproj.ndim == 2 else ns.reshape(xproj, (-1, xproj.shape[-1]))
    if g_hs is not None and g_hs.ndim != 2:
        g_hs = ns.reshape(g_hs, (-1, g_hs.shape[-1]))
    hidden = h0.shape[-1]
    order = steps(len(layout.sizes), reverse)
    w_t = ns.mT(w_hh)
    h = h0
    saved = {}
    for t in order:
        b = layout.sizes[t]
        h_prev = h if b == layout.batch else h[:b]
        x_t = x[layout.rows(t)]
        gh = ns.matmul(h_prev, w_t) + b_hh
        r = ns.sigmoid(x_t[:, :hidden] + gh[:, :hidden])
        z = ns.sigmoid(x_t[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
        ghn = gh[:, 2 * hidden:]
        n = ns.tanh(x_t[:, 2 * hidden:] + r * ghn)
        saved[t] = (h_prev, r, z, n, ghn)
        h = ns_advance(ns, h, n + z * (h_prev - n), b)

    dh = ns.zeros_like(h0) if g_hn is None else g_hn
    gxs, g_w_hh, g_b_hh = {}, None, None
    for t in reversed(order):
        b = layout.sizes[t]
        h_prev, r, z, n, ghn = saved[t]
        dh_b = dh if b == layout.batch else dh[:b]
        if g_hs is not None:
            dh_b = dh_b + g_hs[layout.rows(t)]
        dn = dh_b * (1.0 - z) * (1.0 - n * n)
        dr = dn * ghn * r * (1.0 - r)
        dz = dh_b * (h_prev - n) * z * (1.0 - z)
        gxs[t] = ns.cat([dr, dz, dn], dim=1)
        g_gh = ns.cat([dr, dz, dn * r], dim=1)
        step = ns.matmul(ns.mT(g_gh), h_prev)
        g_w_hh = step if g_w_hh is None else g_w_hh + step
        step = ns.sum(g_gh, 0)
        g_b_hh = step if g_b_hh is None else g_b_hh + step
        dh = ns_advance(ns, dh, dh_b * z + ns.matmul(g_gh, w_hh), b)
    g_xproj = ns.reshape(ns.cat([gxs[t] for t in range(len(layout.sizes))], 0), xproj.shape)
    return (g_xproj, dh, g_w_hh if needs[2] else None, g_b_hh if needs[3] else None)


def jvp(cache, xs, ts, *, reverse, batch_sizes=None):
    acts, ghn, hs = cache
    h0, w_hh = xs[1], xs[2]
    layout = Layout(xs[0].shape, batch_sizes)
    t_xproj, t_w_hh, t_b_hh = layout.flat(ts[0]), ts[2], ts[3]
    hidden = h0.shape[-1]
    h_prev = previous(hs, h0, layout, reverse)
    t_hs = np.empty_like(hs)
    dh = np.array(ts[1], dtype=hs.dtype, copy=True)
    for t in steps(len(layout.sizes), reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        r, z, n = (acts[rows][:, k * hidden:(k + 1) * hidden] for k in range(3))
        h = h_prev[rows]
        dgh = dh[:b] @ w_hh.T + h @ t_w_hh.T + t_b_hh
        dx = t_xproj[rows]
        dr = (dx[:, :hidden] + dgh[:, :hidden]) * (r - r * r)
        dz = (dx[:, hidden:2 * hidden] + dgh[:, hidden:2 * hidden]) * (z - z * z)
        dn = (dx[:, 2 * hidden:] + dr * ghn[rows] + r * dgh[:, 2 * hidden:]) * (1.0 - n * n)
        dh[:b] = dn + dz * (h - n) + z * (dh[:b] - dn)
        t_hs[rows] = dh[:b]
    return layout.restore(t_hs), dh
