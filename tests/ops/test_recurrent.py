"""Recurrent sequence primitives and cells: specs (forward against step-by-step NumPy
references, VJP against finite differences, JVP against VJP, second order through the
create_graph rule), the create_graph rule against the NumPy rule, the multi-output plumbing,
errors, and torch parity of the cell functions. Layer-level parity is in tests/nn/test_rnn.py."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import array_ns
from retrograd.ops import _recurrent_gru, _recurrent_lstm, _recurrent_rnn
from retrograd.ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence

from .harness import OpSpec, away_from_zero, parametrize

L, N, H, P = 3, 2, 2, 3  # steps, batch, hidden, projection


# ------------------------------------------------------------------------- NumPy references
def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _order(length, reverse):
    return range(length - 1, -1, -1) if reverse else range(length)


def ref_lstm(xp, h0, c0, w_hh, w_hr=None, reverse=False):
    h, c, hs = h0, c0, [None] * len(xp)
    hidden = c0.shape[-1]
    for t in _order(len(xp), reverse):
        a = xp[t] + h @ w_hh.T
        i, f = _sig(a[:, :hidden]), _sig(a[:, hidden:2 * hidden])
        g, o = np.tanh(a[:, 2 * hidden:3 * hidden]), _sig(a[:, 3 * hidden:])
        c = f * c + i * g
        h = o * np.tanh(c)
        if w_hr is not None:
            h = h @ w_hr.T
        hs[t] = h
    return np.concatenate([np.stack(hs).ravel(), h.ravel(), c.ravel()])


def ref_gru(xp, h0, w_hh, b_hh, reverse=False):
    h, hs = h0, [None] * len(xp)
    hidden = h0.shape[-1]
    for t in _order(len(xp), reverse):
        gh = h @ w_hh.T + b_hh
        r = _sig(xp[t][:, :hidden] + gh[:, :hidden])
        z = _sig(xp[t][:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
        n = np.tanh(xp[t][:, 2 * hidden:] + r * gh[:, 2 * hidden:])
        h = (1 - z) * n + z * h
        hs[t] = h
    return np.concatenate([np.stack(hs).ravel(), h.ravel()])


def ref_rnn(nonlinearity, reverse=False):
    act = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0))

    def ref(xp, h0, w_hh, reverse=reverse):
        h, hs = h0, [None] * len(xp)
        for t in _order(len(xp), reverse):
            h = act(xp[t] + h @ w_hh.T)
            hs[t] = h
        return np.concatenate([np.stack(hs).ravel(), h.ravel()])

    return ref


def ref_packed(ref, sizes, n_states, reverse=False):
    """A NumPy reference on packed data: each sequence run alone (batch of one) by the padded
    reference `ref`, its outputs put back in the packed rows."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def packed_ref(xp, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        out_rows = np.zeros((xp.shape[0], states[0].shape[-1]))
        finals = [[] for _ in states]
        for b in range(sizes[0]):
            steps = [t for t in range(len(sizes)) if sizes[t] > b]
            x_b = np.stack([xp[starts[t] + b][None] for t in steps])
            flat = ref(x_b, *[s[b:b + 1] for s in states], *weights, reverse=reverse)
            width = states[0].shape[-1]
            hs_b = flat[:len(steps) * width].reshape(len(steps), width)
            for k, t in enumerate(steps):
                out_rows[starts[t] + b] = hs_b[k]
            rest_flat = flat[len(steps) * width:]
            offset = 0
            for j, s in enumerate(states):
                size = width if j == 0 else s.shape[-1]
                finals[j].append(rest_flat[offset:offset + size])
                offset += size
        return np.concatenate([out_rows.ravel()] + [np.stack(f).ravel() for f in finals])

    return packed_ref


def _flat(*outs):
    return rg.cat([o.reshape(-1) for o in outs])


def small(rng, shape):
    """Recurrent weights small enough that the inputs decide the sign of each pre-activation
    (relu's kink stays away from the finite-difference steps)."""
    return rng.uniform(-0.2, 0.2, shape)


# ------------------------------------------------------------------------- specs
def _lstm_fn(reverse):
    return lambda xp, h0, c0, w: _flat(*lstm_sequence(xp, h0, c0, w, reverse=reverse))


def _lstm_proj_fn(reverse):
    return lambda xp, h0, c0, w, w_hr: _flat(*lstm_sequence(xp, h0, c0, w, w_hr, reverse))


def _gru_fn(reverse):
    return lambda xp, h0, w, b: _flat(*gru_sequence(xp, h0, w, b, reverse=reverse))


def _rnn_fn(nonlinearity, reverse):
    return lambda xp, h0, w: _flat(*rnn_sequence(xp, h0, w, nonlinearity, reverse))


def _cell_fn(xp, h0, c0, w):
    # lstm_cell: the one-step primitive with only the final states as output nodes
    x = xp[0]
    h, c = rg.lstm_cell(x, (h0, c0), rg.eye(4 * H, dtype=x.dtype), w)
    return _flat(h, c)


SIZES = (3, 2, 2, 1)  # a packed batch: 3 sequences of lengths 4, 3 and 1
_PACKED = sum(SIZES)


def _packed_lstm_fn(reverse, proj=False):
    def fn(xp, h0, c0, w, *w_hr):
        return _flat(*lstm_sequence(xp, h0, c0, w, *w_hr, reverse=reverse, batch_sizes=SIZES))

    return fn


def _packed_gru_fn(reverse):
    return lambda xp, h0, w, b: _flat(*gru_sequence(xp, h0, w, b, reverse, batch_sizes=SIZES))


def _packed_rnn_fn(nonlinearity, reverse):
    return lambda xp, h0, w: _flat(*rnn_sequence(xp, h0, w, nonlinearity, reverse,
                                                 batch_sizes=SIZES))


_LSTM = [(L, N, 4 * H), (N, H), (N, H), (4 * H, H)]
_GRU = [(L, N, 3 * H), (N, H), (3 * H, H), (3 * H,)]
_RNN = [(L, N, H), (N, H), (H, H)]

SPECS = [
    OpSpec("lstm_sequence", _lstm_fn(False), ref_lstm, [_LSTM, [(1, 1, 8), (1, 2), (1, 2),
                                                                (8, 2)]]),
    OpSpec("lstm_sequence", _lstm_fn(True), lambda *a: ref_lstm(*a, reverse=True), [_LSTM],
           name="lstm_sequence_reverse"),
    OpSpec("lstm_proj_sequence", _lstm_proj_fn(False), ref_lstm,
           [[(L, N, 4 * H), (N, P), (N, H), (4 * H, P), (P, H)]]),
    OpSpec("lstm_proj_sequence", _lstm_proj_fn(True),
           lambda *a: ref_lstm(*a, reverse=True),
           [[(L, N, 4 * H), (N, P - 2), (N, H), (4 * H, P - 2), (P - 2, H)]],
           name="lstm_proj_sequence_reverse"),
    OpSpec("gru_sequence", _gru_fn(False), ref_gru, [_GRU]),
    OpSpec("gru_sequence", _gru_fn(True), lambda *a: ref_gru(*a, reverse=True), [_GRU],
           name="gru_sequence_reverse"),
    OpSpec("rnn_sequence", _rnn_fn("tanh", False), ref_rnn("tanh"), [_RNN]),
    OpSpec("rnn_sequence", _rnn_fn("relu", True), ref_rnn("relu", True), [_RNN],
           domain=(away_from_zero, small, small), name="rnn_sequence_relu_reverse"),
    OpSpec("lstm_sequence", _packed_lstm_fn(False), ref_packed(ref_lstm, SIZES, 2),
           [[(_PACKED, 4 * H), (3, H), (3, H), (4 * H, H)]], name="lstm_sequence_packed"),
    OpSpec("lstm_sequence", _packed_lstm_fn(True), ref_packed(ref_lstm, SIZES, 2, True),
           [[(_PACKED, 4 * H), (3, H), (3, H), (4 * H, H)]],
           name="lstm_sequence_packed_reverse"),
    OpSpec("lstm_proj_sequence", _packed_lstm_fn(True), ref_packed(ref_lstm, SIZES, 2, True),
           [[(_PACKED, 4 * H), (3, 1), (3, H), (4 * H, 1), (1, H)]],
           name="lstm_proj_sequence_packed_reverse"),
    OpSpec("gru_sequence", _packed_gru_fn(False), ref_packed(ref_gru, SIZES, 1),
           [[(_PACKED, 3 * H), (3, H), (3 * H, H), (3 * H,)]], name="gru_sequence_packed"),
    OpSpec("gru_sequence", _packed_gru_fn(True), ref_packed(ref_gru, SIZES, 1, True),
           [[(_PACKED, 3 * H), (3, H), (3 * H, H), (3 * H,)]],
           name="gru_sequence_packed_reverse"),
    OpSpec("rnn_sequence", _packed_rnn_fn("tanh", True), ref_packed(ref_rnn("tanh"), SIZES, 1,
                                                                     True),
           [[(_PACKED, H), (3, H), (H, H)]], name="rnn_sequence_packed_reverse"),
    OpSpec("rnn_sequence", _packed_rnn_fn("relu", False), ref_packed(ref_rnn("relu"), SIZES, 1),
           [[(_PACKED, H), (3, H), (H, H)]], domain=(away_from_zero, small, small),
           name="rnn_sequence_packed_relu"),
    OpSpec("recurrent_output", _cell_fn, None, [[(1, N, 4 * H), (N, H), (N, H), (4 * H, H)]],
           name="lstm_cell_outputs"),
]


PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize(("spec", "shapes", "check"), PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------------- the two rules
def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "lstm_proj", "gru", "tanh", "relu"])
def test_create_graph_rule_matches_numpy_rule(kind, reverse, packed):
    """vjp_ns (run here on NumPy arrays) gives the fast rule's gradients, with and without
    each output's gradient, padded and packed."""
    steps, batch = (_PACKED, 3) if packed else ((L, N), N)
    width = {"lstm": 4 * H, "lstm_proj": 4 * H, "gru": 3 * H}.get(kind, H)
    shapes = {
        "lstm": [(batch, H), (batch, H), (4 * H, H)],
        "lstm_proj": [(batch, P), (batch, H), (4 * H, P), (P, H)],
        "gru": [(batch, H), (3 * H, H), (3 * H,)],
        "tanh": [(batch, H), (H, H)],
        "relu": [(batch, H), (H, H)],
    }[kind]
    xs = _inputs([(*np.atleast_1d(steps), width), *shapes])
    config = {"reverse": reverse, "batch_sizes": SIZES if packed else None}
    if kind == "lstm" or kind == "lstm_proj":
        module = _recurrent_lstm
    elif kind == "gru":
        module = _recurrent_gru
    else:
        module, config["nonlinearity"] = _recurrent_rnn, kind
    outputs, cache = module.forward(*xs, **config)
    needs = (True,) * len(xs)
    rng = np.random.default_rng(1)
    for drop in [None, *range(len(outputs))]:
        grads = [None if k == drop else rng.standard_normal(o.shape)
                 for k, o in enumerate(outputs)]
        fast = module.backward(cache, grads, xs, needs, **config)
        generic = module.vjp_ns(array_ns, xs, grads, needs, **config)
        for a, b in zip(fast, generic):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_create_graph_gradient_is_differentiable():
    """grad(create_graph=True) through lstm_sequence records the backward: the gradient of a
    gradient matches finite differences of the first-order gradient."""
    xs = [rg.tensor(a, requires_grad=True) for a in _inputs(_LSTM, seed=3)]

    def first_order(xp, h0, c0, w):
        hs, h_n, c_n = lstm_sequence(xp, h0, c0, w)
        (g,) = rg.autograd.grad((hs * hs).sum() + c_n.sum(), [w], create_graph=True)
        return (g * g).sum()

    out = first_order(*xs)
    (gw,) = rg.autograd.grad(out, [xs[3]])
    eps, numeric = 1e-6, np.zeros(xs[3].shape)
    for idx in np.ndindex(*xs[3].shape):
        for sign in (1, -1):
            bumped = [rg.tensor(x.data.copy(), requires_grad=True) for x in xs]
            bumped[3].data[idx] += sign * eps
            numeric[idx] += sign * first_order(*bumped).item() / (2 * eps)
    np.testing.assert_allclose(gw.data, numeric, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------------- plumbing
def test_outputs_without_gradient_count_as_zero():
    xs = [rg.tensor(a, requires_grad=True) for a in _inputs(_LSTM)]
    hs, h_n, c_n = lstm_sequence(*xs)
    (gx,) = rg.autograd.grad(c_n.sum(), [xs[0]])
    outputs, cache = _recurrent_lstm.forward(*[x.data for x in xs], reverse=False)
    expected = _recurrent_lstm.backward(
        cache, [None, None, np.ones((N, H))], [x.data for x in xs], (True,) * 4, reverse=False
    )[0]
    np.testing.assert_array_equal(gx.data, expected)


def test_no_grad_returns_plain_tensors():
    xs = [rg.tensor(a, requires_grad=True) for a in _inputs(_GRU)]
    with rg.no_grad():
        hs, h_n = gru_sequence(*xs)
    assert not hs.requires_grad and not h_n.requires_grad
    np.testing.assert_allclose(np.concatenate([hs.data.ravel(), h_n.data.ravel()]),
                               ref_gru(*[x.data for x in xs]), rtol=1e-12)


def test_changing_the_output_in_place_before_backward_is_an_error():
    xs = [rg.tensor(a, requires_grad=True) for a in _inputs(_RNN)]
    hs, h_n = rnn_sequence(*xs)
    loss = h_n.sum()
    with rg.no_grad():
        hs.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_float32_matches_float64():
    xs = _inputs(_LSTM)
    out64 = _flat(*lstm_sequence(*[rg.tensor(a) for a in xs]))
    out32 = _flat(*lstm_sequence(*[rg.tensor(a.astype(np.float32)) for a in xs]))
    assert out32.dtype == rg.float32
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-5, atol=1e-6)


def test_empty_sequence_returns_the_initial_state():
    xs = [rg.tensor(a) for a in _inputs([(0, N, 4 * H), (N, H), (N, H), (4 * H, H)])]
    hs, h_n, c_n = lstm_sequence(*xs)
    assert hs.shape == (0, N, H)
    np.testing.assert_array_equal(h_n.data, xs[1].data)
    np.testing.assert_array_equal(c_n.data, xs[2].data)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lstm_sequence(*_t([(L, N, 7), (N, H), (N, H), (4 * H, H)])),
         "xproj has 7 features per step; expected 8"),
        (lambda: lstm_sequence(*_t([(L, N, 8), (N + 1, H), (N, H), (4 * H, H)])),
         r"expected xproj \(L, N, 8\) and h0 \(N, H\)"),
        (lambda: lstm_sequence(*_t([(L, N, 8), (N, H), (N, H), (4 * H, H + 1)])),
         r"expected w_hh of shape \(8, 2\), got \(8, 3\)"),
        (lambda: gru_sequence(*_t([(L, N, 6), (N, H), (3 * H, H), (4,)])),
         r"expected b_hh of shape \(6,\)"),
        (lambda: rnn_sequence(*_t(_RNN), "sigmoid"), "unknown nonlinearity 'sigmoid'"),
        (lambda: rnn_sequence(*_t([(4, H), (2, H), (H, H)]), batch_sizes=(1, 2, 1)),
         r"batch_sizes must be positive and non-increasing, got \(1, 2, 1\)"),
        (lambda: rnn_sequence(*_t([(5, H), (2, H), (H, H)]), batch_sizes=(2, 1, 1)),
         r"expected packed xproj \(4, 2\) and h0 \(2, H\)"),
        (lambda: rg.gru_cell(*_t([(N, 4), (N, H), (3 * H, 5), (3 * H, H)])),
         r"input of shape \(2, 4\) does not match w_ih of shape \(6, 5\)"),
        (lambda: rg.rnn_tanh_cell(*_t([(N, 4), (N + 1, H), (H, 4), (H, H)])),
         r"expected hx of shape \(2, 2\), got \(3, 2\)"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dtype_mismatch_is_an_error():
    xs = _t(_RNN)
    with pytest.raises(TypeError, match="w_hh has dtype float32"):
        rnn_sequence(xs[0], xs[1], xs[2].float())


def _t(shapes):
    return [rg.tensor(a) for a in _inputs(shapes)]


# ------------------------------------------------------------------------- torch parity
@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(name, bias):
    torch = pytest.importorskip("torch")
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(name, 1)
    i, hidden = 3, 4
    shapes = [(N, i), (N, hidden), (gates * hidden, i), (gates * hidden, hidden)]
    if bias:
        shapes += [(gates * hidden,), (gates * hidden,)]
    arrays = _inputs(shapes, seed=5)
    if name == "lstm_cell":
        arrays.insert(2, np.random.default_rng(6).standard_normal((N, hidden)))

    def call(lib, tensors):
        args = list(tensors)
        if name == "lstm_cell":
            args[1:3] = [(args[1], args[2])]
        out = getattr(lib, name)(*args)
        return list(out) if isinstance(out, tuple) else [out]

    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, t_outs = call(rg, ours), call(torch, theirs)
    rng = np.random.default_rng(7)
    ups = [rng.standard_normal(o.shape) for o in outs]
    sum((o * rg.tensor(u)).sum() for o, u in zip(outs, ups)).backward()
    sum((o * torch.tensor(u)).sum() for o, u in zip(t_outs, ups)).backward()
    for o, t in zip(outs, t_outs):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for x, tx in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)

