"""The GRU sequence kernels behind `gru_sequence`: forward, VJP and JVP over a whole sequence.

Shapes: xproj (L, N, 3H), the input projections with b_ih added (gates r, z, n in PyTorch's
order); h0 (N, H); w_hh (3H, H); b_hh (3H,), kept apart because b_hn sits inside r * (...):

    r = sigmoid(x_r + W_hr h + b_hr)     z = sigmoid(x_z + W_hz h + b_hz)
    n = tanh(x_n + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h

Outputs: hs (L, N, H) and h_n (N, H). The structure follows `_recurrent_lstm.py`: NumPy forward,
backward and JVP loops for the fast path, `vjp_ns` for create_graph=True.
"""

import numpy as np

from ._recurrent_rnn import previous, steps, transposed


def _sigmoid_(a):
    """sigmoid in place as (1 + tanh(a / 2)) / 2 (see `_recurrent_lstm._gate_affine`)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5

def forward(xproj, h0, w_hh, b_hh, *, reverse):
    length, batch, three_h = xproj.shape
    hidden = three_h // 3
    dtype = xproj.dtype
    acts = np.empty((length, batch, three_h), dtype)  # r, z, n
    ghn = np.empty((length, batch, hidden), dtype)  # W_hn h + b_hn
    hs = np.empty((length, batch, hidden), dtype)
    gh = np.empty((batch, three_h), dtype)
    w_t = transposed(w_hh)
    h = h0
    for t in steps(length, reverse):
        np.matmul(h, w_t, out=gh)
        gh += b_hh
        a, x = acts[t], xproj[t]
        rz = a[:, :2 * hidden]
        np.add(x[:, :2 * hidden], gh[:, :2 * hidden], out=rz)
        _sigmoid_(rz)
        ghn[t] = gh[:, 2 * hidden:]
        n = a[:, 2 * hidden:]
        np.multiply(a[:, :hidden], ghn[t], out=n)
        n += x[:, 2 * hidden:]
        np.tanh(n, out=n)
        h_t = hs[t]
        np.subtract(h, n, out=h_t)
        h_t *= a[:, hidden:2 * hidden]
        h_t += n
        h = h_t
    return (hs, np.array(h, copy=True)), (acts, ghn, hs)


def backward(cache, grads, xs, needs, *, reverse):
    """Gradients for (xproj, h0, w_hh, b_hh) from (g_hs, g_hn)."""
    acts, ghn, hs = cache
    g_hs, g_hn = grads
    h0, w_hh = xs[1], xs[2]
    length, batch, three_h = acts.shape
    hidden = three_h // 3
    dtype = acts.dtype
    r, z, n = (acts[..., k * hidden:(k + 1) * hidden] for k in range(3))
    h_prev = previous(hs, h0, reverse)
    # d pre-activation / d h' for r, z, n (x side); the h side differs only in n: times r.
    x_factors = np.empty((length, batch, 3, hidden), dtype)
    c_n = x_factors[:, :, 2]
    np.multiply(1.0 - z, 1.0 - n * n, out=c_n)
    np.multiply(h_prev - n, z - z * z, out=x_factors[:, :, 1])
    np.multiply(c_n * ghn, r - r * r, out=x_factors[:, :, 0])
    h_factors = x_factors.copy()
    h_factors[:, :, 2] *= r

    gx = np.empty((length, batch, 3, hidden), dtype)
    gh = np.empty((length, batch, 3, hidden), dtype)
    dh = np.zeros_like(h0) if g_hn is None else np.array(g_hn, dtype=dtype, copy=True)
    dh_next = np.empty_like(dh)
    for t in steps(length, not reverse):
        if g_hs is not None:
            dh += g_hs[t]
        dh3 = dh[:, None, :]
        np.multiply(x_factors[t], dh3, out=gx[t])
        np.multiply(h_factors[t], dh3, out=gh[t])
        np.matmul(gh[t].reshape(batch, three_h), w_hh, out=dh_next)
        dh *= z[t]
        dh_next += dh
        dh, dh_next = dh_next, dh

    gh = gh.reshape(length * batch, three_h)
    g_w_hh = gh.T @ h_prev.reshape(-1, hidden) if needs[2] else None
    g_b_hh = gh.sum(0) if needs[3] else None
    return gx.reshape(length, batch, three_h), dh, g_w_hh, g_b_hh


def vjp_ns(ns, xs, grads, needs, *, reverse):
    xproj, h0, w_hh, b_hh = xs
    g_hs, g_hn = grads
    length = xproj.shape[0]
    hidden = h0.shape[-1]
    order = steps(length, reverse)
    w_t = ns.mT(w_hh)
    h = h0
    saved = {}
    for t in order:
        x = xproj[t]
        gh = ns.matmul(h, w_t) + b_hh
        r = ns.sigmoid(x[:, :hidden] + gh[:, :hidden])
        z = ns.sigmoid(x[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
        ghn = gh[:, 2 * hidden:]
        n = ns.tanh(x[:, 2 * hidden:] + r * ghn)
        saved[t] = (h, r, z, n, ghn)
        h = n + z * (h - n)

    dh = ns.zeros_like(h0) if g_hn is None else g_hn
    gxs, g_w_hh, g_b_hh = {}, None, None
    for t in reversed(order):
        h_prev, r, z, n, ghn = saved[t]
        if g_hs is not None:
            dh = dh + g_hs[t]
        dn = dh * (1.0 - z) * (1.0 - n * n)
        dr = dn * ghn * r * (1.0 - r)
        dz = dh * (h_prev - n) * z * (1.0 - z)
        gxs[t] = ns.cat([dr, dz, dn], dim=1)
        g_gh = ns.cat([dr, dz, dn * r], dim=1)
        step = ns.matmul(ns.mT(g_gh), h_prev)
        g_w_hh = step if g_w_hh is None else g_w_hh + step
        step = ns.sum(g_gh, 0)
        g_b_hh = step if g_b_hh is None else g_b_hh + step
        dh = dh * z + ns.matmul(g_gh, w_hh)
    g_xproj = ns.stack([gxs[t] for t in range(length)], 0)
    return (g_xproj, dh, g_w_hh if needs[2] else None, g_b_hh if needs[3] else None)


def jvp(cache, xs, ts, *, reverse):
    acts, ghn, hs = cache
    h0, w_hh = xs[1], xs[2]
    t_xproj, t_h0, t_w_hh, t_b_hh = ts
    length = acts.shape[0]
    hidden = h0.shape[-1]
    t_hs = np.empty_like(hs)
    dh, h = t_h0, h0
    for t in steps(length, reverse):
        r, z, n = (acts[t][:, k * hidden:(k + 1) * hidden] for k in range(3))
        dgh = dh @ w_hh.T + h @ t_w_hh.T + t_b_hh
        dx = t_xproj[t]
        dr = (dx[:, :hidden] + dgh[:, :hidden]) * (r - r * r)
        dz = (dx[:, hidden:2 * hidden] + dgh[:, hidden:2 * hidden]) * (z - z * z)
        dn = (dx[:, 2 * hidden:] + dr * ghn[t] + r * dgh[:, 2 * hidden:]) * (1.0 - n * n)
        dh = dn + dz * (h - n) + z * (dh - dn)
        t_hs[t] = dh
        h = hs[t]
    return t_hs, np.array(dh, copy=True)
