"""The LSTM sequence kernels behind `lstm_sequence`: forward, VJP and JVP over a whole sequence.

Shapes: xproj (L, N, 4H), the input projections of every step with both biases added, gates in
PyTorch's order i, f, g, o; h0 (N, P) and c0 (N, H); w_hh (4H, P); w_hr (P, H) or None, the
projection of LSTM(proj_size=P) (without it P = H). Outputs: hs (L, N, P), h_n (N, P), c_n (N, H).
With `reverse`, the steps run from L - 1 down to 0 and hs stays in input order. With
`batch_sizes`, xproj and hs are packed (T, 4H) and (T, P) (see `_recurrent_rnn.Layout`).

`forward`, `backward` and `jvp` are the NumPy fast path: one loop over time each, a handful of
in-place whole-array calls and one matmul per step (all gates at once), the weight gradient of
all steps as one matmul at the end. `vjp_ns` is the same
gradient written against a rule namespace, for create_graph=True: it recomputes the forward from
the inputs so that everything it returns is differentiable again.
"""

import numpy as np

from ._recurrent_rnn import Layout, State, ns_advance, previous, steps, transposed


def _gate_affine(hidden, dtype):
    # NOTE: sigmoid(x) = (1 + tanh(x / 2)) / 2, so one scale, one tanh, one scale and one shift
    # over the whole (N, 4H) block activate all four gates (g gets plain tanh): four passes
    # instead of nine, with errors of a few ulps of 1 in the gates.
    scale = np.full(4 * hidden, 0.5, dtype)
    scale[2 * hidden:3 * hidden] = 1.0
    shift = np.full(4 * hidden, 0.5, dtype)
    shift[2 * hidden:3 * hidden] = 0.0
    return scale, shift


def forward(xproj, h0, c0, w_hh, w_hr=None, *, reverse, batch_sizes=None):
    """(hs, h_n, c_n) and the cache the backward and forward-mode rules read."""
    layout = Layout(xproj.shape, batch_sizes)
    x = layout.flat(xproj)
    total, four_h = x.shape
    hidden = four_h // 4
    dtype = x.dtype
    acts = np.empty((total, four_h), dtype)  # activated gates i, f, g, o
    cs = np.empty((total, hidden), dtype)
    tcs = np.empty((total, hidden), dtype)  # tanh(c)
    hs = np.empty((total, h0.shape[-1]), dtype)
    ms = hs if w_hr is None else np.empty((total, hidden), dtype)  # o * tanh(c)
    scale, shift = _gate_affine(hidden, dtype)
    w_t = transposed(w_hh)
    r_t = None if w_hr is None else transposed(w_hr)
    ig = np.empty((layout.batch, hidden), dtype)
    h, c = State(h0), State(c0)
    for t in steps(len(layout.sizes), reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        a = acts[rows]
        np.matmul(h.head(b), w_t, out=a)
        a += x[rows]
        a *= scale
        np.tanh(a, out=a)
        a *= scale
        a += shift
        c_t = cs[rows]
        np.multiply(a[:, hidden:2 * hidden], c.head(b), out=c_t)
        c_t += np.multiply(a[:, :hidden], a[:, 2 * hidden:3 * hidden], out=ig[:b])
        np.tanh(c_t, out=tcs[rows])
        np.multiply(a[:, 3 * hidden:], tcs[rows], out=ms[rows])
        if w_hr is not None:
            np.matmul(ms[rows], r_t, out=hs[rows])
        h.advance(hs[rows])
        c.advance(c_t)
    outputs = (layout.restore(hs), np.array(h.value, copy=True), np.array(c.value, copy=True))
    return outputs, (acts, cs, tcs, ms, hs)


def backward(cache, grads, xs, needs, *, reverse, batch_sizes=None):
    """Gradients for (xproj, h0, c0, w_hh[, w_hr]) from the output gradients (g_hs, g_hn, g_cn),
    any of which may be None."""
    acts, cs, tcs, ms, hs = cache
    g_hs, g_hn, g_cn = grads
    h0, c0, w_hh = xs[1], xs[2], xs[3]
    w_hr = xs[4] if len(xs) > 4 else None
    layout = Layout(xs[0].shape, batch_sizes)
    g_hs = None if g_hs is None else layout.flat(g_hs)
    total, four_h = acts.shape
    hidden = four_h // 4
    dtype = acts.dtype
    c_prev = previous(cs, c0, layout, reverse)
    gates = np.empty((total, 4, hidden), dtype)  # gradients of the pre-activations
    dms = np.empty((total, hidden), dtype) if w_hr is not None else None
    dhs = np.empty_like(hs) if w_hr is not None else None
    dh = np.zeros_like(h0) if g_hn is None else np.array(g_hn, dtype=dtype, copy=True)
    dc = np.zeros_like(c0) if g_cn is None else np.array(g_cn, dtype=dtype, copy=True)
    dc_buffer, tmp_buffer = np.empty_like(dc), np.empty_like(dc)
    # NOTE: the per-step factors (d pre-activation / d c or d m) are made inside the loop, on
    # data still in cache: measured 5% faster than making them for all steps at once.
    factor_buffer = np.empty((layout.batch, 4, hidden), dtype)
    for t in steps(len(layout.sizes), not reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        a, tc, factors = acts[rows], tcs[rows], factor_buffer[:b]
        i, f = a[:, :hidden], a[:, hidden:2 * hidden]
        g, o = a[:, 2 * hidden:3 * hidden], a[:, 3 * hidden:]
        flat = factors.reshape(b, four_h)
        np.multiply(a, a, out=flat)
        np.subtract(a, flat, out=flat)  # s (1 - s) for the sigmoid gates
        dg = factors[:, 2]
        np.multiply(g, g, out=dg)
        np.subtract(1.0, dg, out=dg)
        factors[:, 0] *= g
        factors[:, 1] *= c_prev[rows]
        dg *= i
        factors[:, 3] *= tc

        dh_b, dc_b, dc_t, tmp = dh[:b], dc[:b], dc_buffer[:b], tmp_buffer[:b]
        if g_hs is not None:
            dh_b += g_hs[rows]
        if w_hr is not None:
            dhs[rows] = dh_b
            dm = np.matmul(dh_b, w_hr, out=dms[rows])
        else:
            dm = dh_b
        np.multiply(tc, tc, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        np.multiply(dm, tmp, out=dc_t)
        dc_t += dc_b
        gt = gates[rows]
        np.multiply(factors[:, :3], dc_t[:, None, :], out=gt[:, :3])
        np.multiply(factors[:, 3], dm, out=gt[:, 3])
        np.multiply(dc_t, f, out=dc_b)
        np.matmul(gt.reshape(b, four_h), w_hh, out=dh_b)  # dm (= dh_b) is no longer needed

    gates = gates.reshape(total, four_h)
    g_w_hh = g_w_hr = None
    if needs[3]:
        g_w_hh = gates.T @ previous(hs, h0, layout, reverse)
    if w_hr is not None and needs[4]:
        g_w_hr = dhs.T @ ms
    result = (layout.restore(gates), dh, dc, g_w_hh)
    return result if w_hr is None else result + (g_w_hr,)


def vjp_ns(ns, xs, grads, needs, *, reverse, batch_sizes=None):
    """The same gradients as `backward`, written against `ns` and recomputing the forward from
    the inputs `xs`, so that with retrograd's namespace the result is differentiable again."""
    xproj, h0, c0, w_hh = xs[:4]
    w_hr = xs[4] if len(xs) > 4 else None
    g_hs, g_hn, g_cn = grads
    layout = Layout(xproj.shape, batch_sizes)
    x = xproj if xproj.ndim == 2 else ns.reshape(xproj, (-1, xproj.shape[-1]))
    if g_hs is not None and g_hs.ndim != 2:
        g_hs = ns.reshape(g_hs, (-1, g_hs.shape[-1]))
    hidden = c0.shape[-1]
    order = steps(len(layout.sizes), reverse)
    w_t = ns.mT(w_hh)
    h, c = h0, c0
    saved = {}
    for t in order:
        b = layout.sizes[t]
        h_prev, c_prev = (h, c) if b == layout.batch else (h[:b], c[:b])
        a = x[layout.rows(t)] + ns.matmul(h_prev, w_t)
        i = ns.sigmoid(a[:, :hidden])
        f = ns.sigmoid(a[:, hidden:2 * hidden])
        g = ns.tanh(a[:, 2 * hidden:3 * hidden])
        o = ns.sigmoid(a[:, 3 * hidden:])
        c_new = f * c_prev + i * g
        tc = ns.tanh(c_new)
        m = o * tc
        saved[t] = (h_prev, c_prev, i, f, g, o, tc, m)
        h = ns_advance(ns, h, m if w_hr is None else ns.matmul(m, ns.mT(w_hr)), b)
        c = ns_advance(ns, c, c_new, b)

    dh = ns.zeros_like(h0) if g_hn is None else g_hn
    dc = ns.zeros_like(c0) if g_cn is None else g_cn
    gates, g_w_hh, g_w_hr = {}, None, None
    for t in reversed(order):
        b = layout.sizes[t]
        h_prev, c_prev, i, f, g, o, tc, m = saved[t]
        dh_b, dc_b = (dh, dc) if b == layout.batch else (dh[:b], dc[:b])
        if g_hs is not None:
            dh_b = dh_b + g_hs[layout.rows(t)]
        dm = dh_b
        if w_hr is not None:
            dm = ns.matmul(dh_b, w_hr)
            step = ns.matmul(ns.mT(dh_b), m)
            g_w_hr = step if g_w_hr is None else g_w_hr + step
        dc_b = dc_b + dm * o * (1.0 - tc * tc)
        gate = ns.cat(
            [dc_b * g * i * (1.0 - i), dc_b * c_prev * f * (1.0 - f), dc_b * i * (1.0 - g * g),
             dm * tc * o * (1.0 - o)],
            dim=1,
        )
        gates[t] = gate
        step = ns.matmul(ns.mT(gate), h_prev)
        g_w_hh = step if g_w_hh is None else g_w_hh + step
        dc = ns_advance(ns, dc, dc_b * f, b)
        dh = ns_advance(ns, dh, ns.matmul(gate, w_hh), b)
    g_xproj = ns.reshape(ns.cat([gates[t] for t in range(len(layout.sizes))], 0), xproj.shape)
    result = (g_xproj, dh, dc, g_w_hh if needs[3] else None)
    return result if w_hr is None else result + (g_w_hr if needs[4] else None,)


def jvp(cache, xs, ts, *, reverse, batch_sizes=None):
    """Tangents of (hs, h_n, c_n) from the tangents `ts` of the inputs `xs` (NumPy)."""
    acts, cs, tcs, ms, hs = cache
    h0, c0, w_hh = xs[1], xs[2], xs[3]
    w_hr = xs[4] if len(xs) > 4 else None
    layout = Layout(xs[0].shape, batch_sizes)
    t_xproj, t_w_hh = layout.flat(ts[0]), ts[3]
    t_w_hr = ts[4] if w_hr is not None else None
    hidden = cs.shape[-1]
    h_prev, c_prev = previous(hs, h0, layout, reverse), previous(cs, c0, layout, reverse)
    t_hs = np.empty_like(hs)
    dh = np.array(ts[1], dtype=hs.dtype, copy=True)
    dc = np.array(ts[2], dtype=hs.dtype, copy=True)
    for t in steps(len(layout.sizes), reverse):
        rows, b = layout.rows(t), layout.sizes[t]
        i, f, g, o = (acts[rows][:, k * hidden:(k + 1) * hidden] for k in range(4))
        tc = tcs[rows]
        da = t_xproj[rows] + dh[:b] @ w_hh.T + h_prev[rows] @ t_w_hh.T
        di, df, dg, do = (da[:, k * hidden:(k + 1) * hidden] for k in range(4))
        dc[:b] = ((df * (f - f * f)) * c_prev[rows] + f * dc[:b] + (di * (i - i * i)) * g
                  + i * (dg * (1.0 - g * g)))
        dm = (do * (o - o * o)) * tc + o * (1.0 - tc * tc) * dc[:b]
        dh[:b] = dm if w_hr is None else dm @ w_hr.T + ms[rows] @ t_w_hr.T
        t_hs[rows] = dh[:b]
    return layout.restore(t_hs), dh, dc
