"""RNN, LSTM, GRU and their cells: torch parity in float64 over every option (outputs, final
states and every gradient: input, initial states, all parameters), gradcheck, state dicts both
ways, default init, dropout between layers, repr and errors naming the layer."""

import itertools
import math
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd.gradcheck import gradcheck
from tests.nn.helpers import torch_state

IN, H, L, N = 3, 4, 5, 2  # input size, hidden size, steps, batch


# ------------------------------------------------------------------------- parity helpers
def _pair(torch, cls, **kw):
    """(retrograd module, torch module) in float64 with torch's weights copied over."""
    t_module = getattr(torch.nn, cls)(**kw).double()
    module = getattr(nn, cls)(**kw, dtype=rg.float64)
    module.load_state_dict(torch_state(t_module))
    return module, t_module


def _leaves(torch, arrays):
    return ([rg.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _flatten(out):
    """Every tensor in a nested (output, state) result, in order."""
    flat, stack = [], [out]
    while stack:
        item = stack.pop(0)
        if isinstance(item, (tuple, list)):
            stack[:0] = list(item)
        else:
            flat.append(item)
    return flat


def _compare(torch, module, t_module, inputs, call, seed=0):
    """Run `call(module, tensors)` in both frameworks on leaves made from `inputs` (NumPy);
    compare every output, then every gradient for random upstream gradients."""
    ours, theirs = _leaves(torch, inputs)
    outs, t_outs = _flatten(call(module, ours)), _flatten(call(t_module, theirs))
    assert len(outs) == len(t_outs)
    rng = np.random.default_rng(seed)
    loss, t_loss = 0, 0
    for o, t in zip(outs, t_outs):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
        up = rng.standard_normal(tuple(t.shape))
        loss = loss + (o * rg.tensor(up)).sum()
        t_loss = t_loss + (t * torch.tensor(up)).sum()
    loss.backward()
    t_loss.backward()
    for x, tx in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    t_params = dict(t_module.named_parameters())
    names = [name for name, _ in module.named_parameters()]
    assert names == list(t_params)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def _inputs(kw, batched=True, with_state=True, seed=1):
    """The input and (when `with_state`) initial-state arrays for a layer built with `kw`."""
    rng = np.random.default_rng(seed)
    if not batched:
        x_shape = (L, kw["input_size"])
    elif kw.get("batch_first"):
        x_shape = (N, L, kw["input_size"])
    else:
        x_shape = (L, N, kw["input_size"])
    arrays = [rng.standard_normal(x_shape)]
    if with_state:
        count = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        batch = (N,) if batched else ()
        arrays.append(rng.standard_normal((count, *batch, kw.get("proj_size") or H)))
        if kw["cls"] == "LSTM":
            arrays.append(rng.standard_normal((count, *batch, H)))
    return arrays


def _call_layer(cls):
    def call(module, tensors):
        if len(tensors) == 1:
            return module(tensors[0])
        state = tuple(tensors[1:]) if cls == "LSTM" else tensors[1]
        return module(tensors[0], state)

    return call


# ------------------------------------------------------------------------- layers vs torch
GRID = list(itertools.product(["RNN", "LSTM", "GRU"], [1, 2], [False, True], [False, True],
                              [False, True]))


@pytest.mark.parametrize(("cls", "num_layers", "bidirectional", "batch_first", "with_state"),
                         GRID)
def test_layer_matches_torch(torch, cls, num_layers, bidirectional, batch_first, with_state):
    kw = dict(input_size=IN, hidden_size=H, num_layers=num_layers, bidirectional=bidirectional,
              batch_first=batch_first)
    module, t_module = _pair(torch, cls, **kw)
    arrays = _inputs({**kw, "cls": cls}, with_state=with_state)
    _compare(torch, module, t_module, arrays, _call_layer(cls))


@pytest.mark.parametrize(
    ("cls", "kw"),
    [
        ("RNN", dict(nonlinearity="relu", num_layers=2)),
        ("RNN", dict(nonlinearity="relu", bias=False, bidirectional=True)),
        ("LSTM", dict(bias=False, num_layers=2)),
        ("GRU", dict(bias=False, bidirectional=True)),
        ("LSTM", dict(proj_size=2)),
        ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True, batch_first=True)),
        ("GRU", dict(num_layers=3, dropout=0.5)),  # dropout is off in eval mode
        ("LSTM", dict(num_layers=2, dropout=0.3, bidirectional=True, proj_size=1)),
    ],
)
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_options_match_torch(torch, cls, kw, with_state):
    kw = dict(input_size=IN, hidden_size=H, **kw)
    module, t_module = _pair(torch, cls, **kw)
    module.eval()
    t_module.eval()
    _compare(torch, module, t_module, _inputs({**kw, "cls": cls}, with_state=with_state),
             _call_layer(cls))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_input_matches_torch(torch, cls, with_state):
    kw = dict(input_size=IN, hidden_size=H, num_layers=2, bidirectional=True, batch_first=True)
    module, t_module = _pair(torch, cls, **kw)
    arrays = _inputs({**kw, "cls": cls}, batched=False, with_state=with_state)
    _compare(torch, module, t_module, arrays, _call_layer(cls))


@pytest.mark.parametrize(
    ("cls", "kw"),
    [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu")), ("RNNCell", dict(bias=False)),
     ("LSTMCell", {}), ("LSTMCell", dict(bias=False)), ("GRUCell", {}),
     ("GRUCell", dict(bias=False))],
)
@pytest.mark.parametrize(("batched", "with_state"), [(True, True), (True, False), (False, True),
                                                     (False, False)])
def test_cell_matches_torch(torch, cls, kw, batched, with_state):
    module, t_module = _pair(torch, cls, input_size=IN, hidden_size=H, **kw)
    rng = np.random.default_rng(2)
    batch = (N,) if batched else ()
    arrays = [rng.standard_normal((*batch, IN))]
    if with_state:
        arrays += [rng.standard_normal((*batch, H)) for _ in range(2 if cls == "LSTMCell" else 1)]

    def call(m, tensors):
        if len(tensors) == 1:
            return m(tensors[0])
        return m(tensors[0], tuple(tensors[1:]) if cls == "LSTMCell" else tensors[1])

    _compare(torch, module, t_module, arrays, call)


def test_cell_unrolled_over_a_sequence_matches_torch(torch):
    """A user loop over time with LSTMCell: gradients through every step."""
    module, t_module = _pair(torch, "LSTMCell", input_size=IN, hidden_size=H)

    def call(m, tensors):
        x, h, c = tensors
        outs = []
        for t in range(L):
            h, c = m(x[t], (h, c))
            outs.append(h)
        return outs + [c]

    rng = np.random.default_rng(3)
    _compare(torch, module, t_module,
             [rng.standard_normal((L, N, IN)), rng.standard_normal((N, H)),
              rng.standard_normal((N, H))], call)


# ------------------------------------------------------------------------- packed sequences
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("bidirectional", "enforce_sorted"),
                         [(False, True), (True, True), (True, False)])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed_input_matches_torch(torch, cls, bidirectional, enforce_sorted, with_state):
    """A PackedSequence through two layers: the padded output, the final states (each
    sequence's own last step, in the batch's order) and every gradient agree with torch."""
    kw = dict(input_size=IN, hidden_size=H, num_layers=2, bidirectional=bidirectional)
    module, t_module = _pair(torch, cls, **kw)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((5, 4, IN))]
    if with_state:
        count = 2 * (2 if bidirectional else 1)
        arrays += [rng.standard_normal((count, 4, H)) for _ in range(2 if cls == "LSTM" else 1)]

    def call(m, tensors):
        lib = rg if isinstance(m, nn.Module) else torch
        utils = lib.nn.utils.rnn
        packed = utils.pack_padded_sequence(tensors[0], lengths, enforce_sorted=enforce_sorted)
        state = None
        if len(tensors) > 1:
            state = tuple(tensors[1:]) if cls == "LSTM" else tensors[1]
        out, state = m(packed, state)
        assert isinstance(out, utils.PackedSequence)
        padded, out_lengths = utils.pad_packed_sequence(out)
        assert out_lengths.tolist() == lengths
        return padded, state

    _compare(torch, module, t_module, arrays, call)


def test_packed_lstm_with_projection_batch_first_matches_torch(torch):
    kw = dict(input_size=IN, hidden_size=H, proj_size=2, bidirectional=True, batch_first=True)
    module, t_module = _pair(torch, "LSTM", **kw)
    lengths = [2, 4, 1]

    def call(m, tensors):
        utils = (rg if isinstance(m, nn.Module) else torch).nn.utils.rnn
        packed = utils.pack_padded_sequence(tensors[0], lengths, batch_first=True,
                                            enforce_sorted=False)
        out, state = m(packed)
        return utils.pad_packed_sequence(out, batch_first=True)[0], state

    _compare(torch, module, t_module, [np.random.default_rng(9).standard_normal((3, 4, IN))],
             call)


def test_packed_final_state_is_each_sequences_last_step():
    """Against the layer run on each sequence alone."""
    rg.manual_seed(0)
    model = nn.GRU(IN, H, dtype=rg.float64)
    seqs = [rg.randn(n, IN, dtype=rg.float64) for n in (2, 5, 3)]
    _, h_n = model(rg.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False))
    for k, seq in enumerate(seqs):
        _, h_alone = model(seq)
        np.testing.assert_allclose(h_n[0, k].data, h_alone[0].data, rtol=1e-12)


# ------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize(
    ("cls", "kw"),
    [("LSTM", dict(num_layers=2, bidirectional=True)), ("LSTM", dict(proj_size=2)),
     ("GRU", dict(num_layers=2, bidirectional=True)), ("RNN", dict(bidirectional=True))],
)
def test_gradcheck(cls, kw):
    rg.manual_seed(0)
    module = getattr(nn, cls)(IN, H, dtype=rg.float64, **kw)
    arrays = _inputs({"input_size": IN, **kw, "cls": cls}, seed=4)
    tensors = [rg.tensor(a[:3, :1] if k == 0 else a[:, :1], requires_grad=True)
               for k, a in enumerate(arrays)]
    call = _call_layer(cls)
    assert gradcheck(lambda *ts: tuple(_flatten(call(module, list(ts)))), tensors)


# ------------------------------------------------------------------------- state and init
@pytest.mark.parametrize(
    ("cls", "kw"),
    [("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
     ("GRU", dict(num_layers=2, bias=False)), ("RNN", dict(bidirectional=True)),
     ("LSTMCell", {}), ("GRUCell", dict(bias=False)), ("RNNCell", {})],
)
def test_state_dict_moves_both_ways(torch, cls, kw):
    t_module = getattr(torch.nn, cls)(IN, H, **kw)
    module = getattr(nn, cls)(IN, H, **kw)
    state = module.state_dict()
    assert list(state) == list(t_module.state_dict())
    for (name, value), t_value in zip(state.items(), t_module.state_dict().values()):
        assert tuple(value.shape) == tuple(t_value.shape), name
        assert value.dtype == rg.float32
    t_module.load_state_dict({k: torch.tensor(v.numpy()) for k, v in state.items()})
    for name, t_value in t_module.state_dict().items():
        np.testing.assert_array_equal(t_value.numpy(), state[name].numpy())
    module.load_state_dict(torch_state(t_module))


def test_all_weights_match_torch(torch):
    kw = dict(num_layers=2, bidirectional=True, proj_size=2)
    module, t_module = nn.LSTM(IN, H, **kw), torch.nn.LSTM(IN, H, **kw)
    shapes = [[tuple(p.shape) for p in group] for group in module.all_weights]
    assert shapes == [[tuple(p.shape) for p in group] for group in t_module.all_weights]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_default_init_is_uniform_in_one_over_sqrt_hidden(cls):
    rg.manual_seed(0)
    hidden = 64
    module = getattr(nn, cls)(8, hidden)
    bound = 1 / math.sqrt(hidden)
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    # a uniform draw fills the interval: std bound / sqrt(3), both ends reached
    assert abs(values.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound


def test_float32_by_default_and_after_double():
    model = nn.GRU(IN, H)
    out, h_n = model(rg.randn(L, N, IN))
    assert out.dtype == rg.float32 and h_n.dtype == rg.float32
    model.double()
    out, h_n = model(rg.randn(L, N, IN, dtype=rg.float64))
    assert out.dtype == rg.float64


def test_shapes_of_outputs():
    model = nn.LSTM(IN, H, num_layers=3, bidirectional=True, proj_size=2, batch_first=True)
    out, (h_n, c_n) = model(rg.randn(N, L, IN))
    assert out.shape == (N, L, 4) and h_n.shape == (6, N, 2) and c_n.shape == (6, N, H)
    out, (h_n, c_n) = model(rg.randn(L, IN))
    assert out.shape == (L, 4) and h_n.shape == (6, 2) and c_n.shape == (6, H)


# ------------------------------------------------------------------------- dropout
def test_dropout_between_layers_in_training_only(torch):
    """With p = 1 every value passed between layers is zeroed in training, so the top layer
    sees zeros; in eval mode nothing is dropped (the torch parity tests cover eval)."""
    rg.manual_seed(0)
    model = nn.LSTM(IN, H, num_layers=2, dropout=1.0, dtype=rg.float64)
    x = rg.randn(L, N, IN, dtype=rg.float64)
    out_train, (h_train, _) = model(x)
    top = nn.LSTM(H, H, dtype=rg.float64)
    top.load_state_dict({k[:-1] + "0": v for k, v in model.state_dict().items()
                         if k.endswith("l1")})
    expected, _ = top(rg.zeros(L, N, H, dtype=rg.float64))
    np.testing.assert_allclose(out_train.data, expected.data, rtol=1e-12)
    model.eval()
    out_eval, _ = model(x)
    assert not np.allclose(out_eval.data, out_train.data)


def test_dropout_with_one_layer_warns_as_torch_does():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(IN, H, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.GRU(IN, H, num_layers=2, dropout=0.2)


# ------------------------------------------------------------------------- repr and errors
@pytest.mark.parametrize(
    ("cls", "kw"),
    [("LSTM", dict(proj_size=2, num_layers=2, bidirectional=True)),
     ("RNN", dict(nonlinearity="relu", batch_first=True, dropout=0.5, num_layers=2)),
     ("GRU", dict(bias=False)), ("RNNCell", dict(nonlinearity="relu")),
     ("LSTMCell", dict(bias=False)), ("GRUCell", {})],
)
def test_repr_matches_torch(torch, cls, kw):
    assert repr(getattr(nn, cls)(IN, H, **kw)) == repr(getattr(torch.nn, cls)(IN, H, **kw))


def test_wrong_input_size_names_the_layer_and_shapes():
    model = nn.Sequential(nn.Linear(2, 2), nn.LSTM(IN, H))
    with pytest.raises(ValueError, match=r"^1 \(LSTM\): expected input with last dimension 3 "
                                         r"\(input_size\), got shape \(5, 2, 2\)"):
        model(rg.randn(L, N, 2))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: nn.LSTM(IN, H, num_layers=2)(rg.randn(L, N, IN), (rg.zeros(1, N, H),
                                                               rg.zeros(2, N, H))),
         ValueError, r"LSTM: expected h_0 of shape \(2, 2, 4\)"),
        (lambda: nn.LSTM(IN, H, proj_size=2)(rg.randn(L, N, IN), (rg.zeros(1, N, 2),
                                                              rg.zeros(1, N, 2))),
         ValueError, r"expected c_0 of shape \(1, 2, 4\).*got \(1, 2, 2\)"),
        (lambda: nn.LSTM(IN, H)(rg.randn(L, N, IN), rg.zeros(1, N, H)),
         TypeError, r"hx must be a tuple \(h_0, c_0\)"),
        (lambda: nn.GRU(IN, H)(rg.randn(L, IN), rg.zeros(1, N, H)),
         ValueError, "for an unbatched 2-D input, h_0 must be 2-D too"),
        (lambda: nn.RNN(IN, H)(rg.randn(N, L, IN, 1)),
         ValueError, r"expected a 2-D \(unbatched\) or 3-D \(batched\) input, got shape"),
        (lambda: nn.RNN(IN, H)(rg.randn(L, N, IN, dtype=rg.float64)),
         ValueError, "input dtype .*float64.* does not match weight dtype .*float32"),
        (lambda: nn.GRUCell(IN, H)(rg.randn(N, IN), rg.zeros(N + 1, H)),
         ValueError, r"GRUCell: expected hx of shape \(2, 4\), got \(3, 4\)"),
        (lambda: nn.LSTMCell(IN, H)(rg.randn(N, IN + 1)),
         ValueError, r"LSTMCell: expected input with last dimension 3 \(input_size\)"),
        (lambda: nn.GRU(IN, H)(rg.nn.utils.rnn.PackedSequence(rg.randn(4, 2, IN),
                                                               rg.tensor([2, 2]))),
         ValueError, "expected packed data of 2 dimensions"),
        (lambda: nn.RNNCell(IN, H)(rg.randn(1, N, IN)),
         ValueError, r"expected a 1-D \(unbatched\) or 2-D \(batched\) input"),
        (lambda: nn.GRU(IN, H, proj_size=2), ValueError, "proj_size argument is only supported"),
        (lambda: nn.LSTM(IN, H, proj_size=H), ValueError, "proj_size has to be smaller"),
        (lambda: nn.LSTM(IN, H, dropout=1.5), ValueError, "dropout should be a number in range"),
        (lambda: nn.RNN(IN, H, nonlinearity="gelu"), ValueError, "Unknown nonlinearity 'gelu'"),
        (lambda: nn.LSTM(IN, 0), ValueError, "hidden_size must be an integer greater than zero"),
        (lambda: nn.GRU(IN, H, num_layers=0), ValueError, "num_layers must be an integer"),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
