"""The LSTM sequence kernels behind `lstm_sequence`: forward, VJP and JVP over a whole sequence.

Shapes: xproj (L, N, 4H), the input projections of every step with both biases added, gates in
PyTorch's order i, f, g, o; h0 (N, P) and c0 (N, H); w_hh (4H, P); w_hr (P, H) or None, the
projection of LSTM(proj_size=P) (without it P = H). Outputs: hs (L, N, P), h_n (N, P), c_n (N, H).
With `reverse`, the steps run from L - 1 down to 0 and hs stays in input order.

`forward`, `backward` and `jvp` are the NumPy fast path: one loop over time each, a handful of
in-place whole-array calls and one matmul per step (all gates at once), the weight gradient of
all steps as one matmul at the end. `vjp_ns` is the same
gradient written against a rule namespace, for create_graph=True: it recomputes the forward from
the inputs so that everything it returns is differentiable again.
"""

import numpy as np

from ._recurrent_rnn import previous, steps, transposed


def _gate_affine(hidden, dtype):
    # NOTE: sigmoid(x) = (1 + tanh(x / 2)) / 2, so one scale, one tanh, one scale and one shift
    # over the whole (N, 4H) block activate all four gates (g gets plain tanh): four passes
    # instead of nine, with errors of a few ulps of 1 in the gates.
    scale = np.full(4 * hidden, 0.5, dtype)
    scale[2 * hidden:3 * hidden] = 1.0
    shift = np.full(4 * hidden, 0.5, dtype)
    shift[2 * hidden:3 * hidden] = 0.0
    return scale, shift


def forward(xproj, h0, c0, w_hh, w_hr=None, *, reverse):
    """(hs, h_n, c_n) and the cache the backward and forward-mode rules read."""
    length, batch, four_h = xproj.shape
    hidden = four_h // 4
    dtype = xproj.dtype
    acts = np.empty((length, batch, four_h), dtype)  # activated gates i, f, g, o
    cs = np.empty((length, batch, hidden), dtype)
    tcs = np.empty((length, batch, hidden), dtype)  # tanh(c)
    hs = np.empty((length, batch, h0.shape[-1]), dtype)
    ms = hs if w_hr is None else np.empty((length, batch, hidden), dtype)  # o * tanh(c)
    scale, shift = _gate_affine(hidden, dtype)
    w_t = transposed(w_hh)
    r_t = None if w_hr is None else transposed(w_hr)
    ig = np.empty((batch, hidden), dtype)
    h, c = h0, c0
    for t in steps(length, reverse):
        a = acts[t]
        np.matmul(h, w_t, out=a)
        a += xproj[t]
        a *= scale
        np.tanh(a, out=a)
        a *= scale
        a += shift
        c_t = cs[t]
        np.multiply(a[:, hidden:2 * hidden], c, out=c_t)
        c_t += np.multiply(a[:, :hidden], a[:, 2 * hidden:3 * hidden], out=ig)
        np.tanh(c_t, out=tcs[t])
        np.multiply(a[:, 3 * hidden:], tcs[t], out=ms[t])
        if w_hr is not None:
            np.matmul(ms[t], r_t, out=hs[t])
        h, c = hs[t], c_t
    return (hs, np.array(h, copy=True), np.array(c, copy=True)), (acts, cs, tcs, ms, hs)


def backward(cache, grads, xs, needs, *, reverse):
    """Gradients for (xproj, h0, c0, w_hh[, w_hr]) from the output gradients (g_hs, g_hn, g_cn),
    any of which may be None."""
    acts, cs, tcs, ms, hs = cache
    g_hs, g_hn, g_cn = grads
    h0, c0, w_hh = xs[1], xs[2], xs[3]
    w_hr = xs[4] if len(xs) > 4 else None
    length, batch, four_h = acts.shape
    hidden = four_h // 4
    dtype = acts.dtype
    gates = np.empty((length, batch, 4, hidden), dtype)  # gradients of the pre-activations
    dms = np.empty((length, batch, hidden), dtype) if w_hr is not None else None
    dhs = np.empty_like(hs) if w_hr is not None else None
    dh = np.zeros_like(h0) if g_hn is None else np.array(g_hn, dtype=dtype, copy=True)
    dc = np.zeros_like(c0) if g_cn is None else np.array(g_cn, dtype=dtype, copy=True)
    dh_next, dc_t, tmp = np.empty_like(dh), np.empty_like(dc), np.empty_like(dc)
    # NOTE: the per-step factors (d pre-activation / d c or d m) are made inside the loop, on
    # data still in cache: measured 5% faster than making them for all steps at once.
    factors = np.empty((batch, 4, hidden), dtype)
    flat = factors.reshape(batch, four_h)
    first = length - 1 if reverse else 0
    for t in steps(length, not reverse):
        a = acts[t]
        i, f = a[:, :hidden], a[:, hidden:2 * hidden]
        g, o = a[:, 2 * hidden:3 * hidden], a[:, 3 * hidden:]
        tc = tcs[t]
        np.multiply(a, a, out=flat)
        np.subtract(a, flat, out=flat)  # s (1 - s) for the sigmoid gates
        dg = factors[:, 2]
        np.multiply(g, g, out=dg)
        np.subtract(1.0, dg, out=dg)
        factors[:, 0] *= g
        factors[:, 1] *= c0 if t == first else cs[t + 1 if reverse else t - 1]
        dg *= i
        factors[:, 3] *= tc

        if g_hs is not None:
            dh += g_hs[t]
        if w_hr is not None:
            dhs[t] = dh
            dm = np.matmul(dh, w_hr, out=dms[t])
        else:
            dm = dh
        np.multiply(tc, tc, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        np.multiply(dm, tmp, out=dc_t)
        dc_t += dc
        gt = gates[t]
        np.multiply(factors[:, :3], dc_t[:, None, :], out=gt[:, :3])
        np.multiply(factors[:, 3], dm, out=gt[:, 3])
        np.multiply(dc_t, f, out=dc)
        np.matmul(gt.reshape(batch, four_h), w_hh, out=dh_next)
        dh, dh_next = dh_next, dh

    gates = gates.reshape(length, batch, four_h)
    g_w_hh = g_w_hr = None
    if needs[3]:
        h_prev = previous(hs, h0, reverse)
        g_w_hh = gates.reshape(-1, four_h).T @ h_prev.reshape(-1, h_prev.shape[-1])
    if w_hr is not None and needs[4]:
        g_w_hr = dhs.reshape(-1, dhs.shape[-1]).T @ ms.reshape(-1, hidden)
    result = (gates, dh, dc, g_w_hh)
    return result if w_hr is None else result + (g_w_hr,)


def vjp_ns(ns, xs, grads, needs, *, reverse):
    """The same gradients as `backward`, written against `ns` and recomputing the forward from
    the inputs `xs`, so that with retrograd's namespace the result is differentiable again."""
    xproj, h0, c0, w_hh = xs[:4]
    w_hr = xs[4] if len(xs) > 4 else None
    g_hs, g_hn, g_cn = grads
    length = xproj.shape[0]
    hidden = c0.shape[-1]
    order = steps(length, reverse)
    w_t = ns.mT(w_hh)
    h, c = h0, c0
    saved = {}
    for t in order:
        a = xproj[t] + ns.matmul(h, w_t)
        i = ns.sigmoid(a[:, :hidden])
        f = ns.sigmoid(a[:, hidden:2 * hidden])
        g = ns.tanh(a[:, 2 * hidden:3 * hidden])
        o = ns.sigmoid(a[:, 3 * hidden:])
        c_new = f * c + i * g
        tc = ns.tanh(c_new)
        m = o * tc
        saved[t] = (h, c, i, f, g, o, tc, m)
        h, c = (m if w_hr is None else ns.matmul(m, ns.mT(w_hr))), c_new

    dh = ns.zeros_like(h0) if g_hn is None else g_hn
    dc = ns.zeros_like(c0) if g_cn is None else g_cn
    gates, g_w_hh, g_w_hr = {}, None, None
    for t in reversed(order):
        h_prev, c_prev, i, f, g, o, tc, m = saved[t]
        if g_hs is not None:
            dh = dh + g_hs[t]
        dm = dh
        if w_hr is not None:
            dm = ns.matmul(dh, w_hr)
            step = ns.matmul(ns.mT(dh), m)
            g_w_hr = step if g_w_hr is None else g_w_hr + step
        dc = dc + dm * o * (1.0 - tc * tc)
        gate = ns.cat(
            [dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g),
             dm * tc * o * (1.0 - o)],
            dim=1,
        )
        gates[t] = gate
        step = ns.matmul(ns.mT(gate), h_prev)
        g_w_hh = step if g_w_hh is None else g_w_hh + step
        dc = dc * f
        dh = ns.matmul(gate, w_hh)
    g_xproj = ns.stack([gates[t] for t in range(length)], 0)
    result = (g_xproj, dh, dc, g_w_hh if needs[3] else None)
    return result if w_hr is None else result + (g_w_hr if needs[4] else None,)


def jvp(cache, xs, ts, *, reverse):
    """Tangents of (hs, h_n, c_n) from the tangents `ts` of the inputs `xs` (NumPy)."""
    acts, cs, tcs, ms, hs = cache
    h0, c0, w_hh = xs[1], xs[2], xs[3]
    w_hr = xs[4] if len(xs) > 4 else None
    t_xproj, t_h0, t_c0, t_w_hh = ts[:4]
    t_w_hr = ts[4] if w_hr is not None else None
    length = acts.shape[0]
    hidden = cs.shape[-1]
    t_hs = np.empty_like(hs)
    dh, dc = t_h0, t_c0
    h, c = h0, c0
    for t in steps(length, reverse):
        i, f, g, o = (acts[t][:, k * hidden:(k + 1) * hidden] for k in range(4))
        da = t_xproj[t] + dh @ w_hh.T + h @ t_w_hh.T
        di, df, dg, do = (da[:, k * hidden:(k + 1) * hidden] for k in range(4))
        dc = (df * (f - f * f)) * c + f * dc + (di * (i - i * i)) * g + i * (dg * (1.0 - g * g))
        dm = (do * (o - o * o)) * tcs[t] + o * (1.0 - tcs[t] * tcs[t]) * dc
        dh = dm if w_hr is None else dm @ w_hr.T + ms[t] @ t_w_hr.T
        t_hs[t] = dh
        h, c = hs[t], cs[t]
    return t_hs, np.array(dh, copy=True), np.array(dc, copy=True)
