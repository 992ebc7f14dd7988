"""Recurrent layers with PyTorch's API: RNN, LSTM, GRU and their one-step cells.

Parameter names, shapes, gate order (LSTM: i, f, g, o; GRU: r, z, n) and default init
(U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for everything) are PyTorch's, so state dicts move
between the two frameworks. Each layer and direction runs as: one matmul for the input
projections of all steps, then one sequence primitive (`ops/recurrent.py`) for the recurrence,
whose backward is one NumPy loop over time.
"""

import math
import warnings

import numpy as np

from ..autograd.tensor import Tensor
from ..ops import recurrent
from ..ops.creation import empty, zeros
from ..ops.joining import cat, stack
from ..ops.linalg import matmul
from ..ops.scatter_gather import index_select
from . import init
from ._rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase, _check_sizes, _factory_dtype
from .functional import _dropout
from .module import Module, check_input
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (`mode` is 'LSTM', 'GRU', 'RNN_TANH' or
    'RNN_RELU'). Parameters per layer k and direction: weight_ih_l{k} (G*H, input),
    weight_hh_l{k} (G*H, H_out), bias_ih_l{k} and bias_hh_l{k} (G*H), weight_hr_l{k} (proj_size,
    H) with LSTM's proj_size; the reverse direction's names end in '_reverse'."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        dtype = _factory_dtype(device, dtype)
        if mode not in _GATES:
            raise ValueError(f"unknown recurrent mode '{mode}'; expected one of {list(_GATES)}")
        _check_sizes(hidden_size, num_layers)
        if (not isinstance(dropout, (int, float)) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                f"element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections, got "
                f"{proj_size!r}"
            )
        if proj_size >= hidden_size:
            raise ValueError(
                f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                f"hidden_size={hidden_size}"
            )
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(2 if bidirectional else 1):
                layer_input = input_size if layer == 0 else real_hidden * self._directions
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op, for code written for PyTorch (cuDNN weight layout)."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction, as PyTorch's `all_weights`."""
        per = len(self._flat_weights_names) // (self.num_layers * self._directions)
        flat = self._flat_weights
        return [flat[k:k + per] for k in range(0, len(flat), per)]

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self.__dict__.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix), get("weight_hr" + suffix))

    # ----------------------------------------------------------------- forward
    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        batched = self._check_input(input, (2, 3))
        x = input
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        states = self._initial_states(hx, x.shape[1], x.dtype, batched)
        output, finals = self._run_layers(x, states, None)
        if self.batch_first and batched:
            output = output.transpose(0, 1)
        finals = [stack(f, 0) for f in finals]
        if not batched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _forward_packed(self, input, hx):
        """A PackedSequence in, a PackedSequence out; states in the batch's own order (the
        packed data is sorted by length: the states are permuted to match and back)."""
        data, batch_sizes, sorted_indices, unsorted_indices = input
        self._check_input(data, (2,))
        sizes = tuple(int(b) for b in np.asarray(batch_sizes.data).reshape(-1))
        batch = sizes[0] if sizes else 0
        if hx is not None and sorted_indices is not None:
            if self.mode == "LSTM" and isinstance(hx, (tuple, list)):
                hx = tuple(index_select(h, 1, sorted_indices) for h in hx)
            elif isinstance(hx, Tensor):
                hx = index_select(hx, 1, sorted_indices)
        states = self._initial_states(hx, batch, data.dtype, True)
        output, finals = self._run_layers(data, states, sizes)
        finals = [stack(f, 0) for f in finals]
        if unsorted_indices is not None:
            finals = [index_select(f, 1, unsorted_indices) for f in finals]
        output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _check_input(self, input, ndims):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in ndims:
            expected = ("a 2-D (unbatched) or 3-D (batched) input" if ndims == (2, 3)
                        else "packed data of 2 dimensions (steps' rows, input_size)")
            raise ValueError(f"{name}: expected {expected}, got shape {tuple(input.shape)}")
        check_input(input, dim=-1, size=self.input_size, what="input_size")
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"{name}: input dtype ({input.dtype}) does not match weight dtype "
                f"({weight_dtype}); convert the input (input.to({weight_dtype})) or the model "
                f"(model.to({input.dtype}))"
            )
        return input.ndim == 3

    def _state_shapes(self, batch):
        count = self.num_layers * self._directions
        shapes = [(count, batch, self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            shapes.append((count, batch, self.hidden_size))
        return shapes

    def _initial_states(self, hx, batch, dtype, batched):
        """Per state (h, and c for LSTM): one (N, size) tensor per layer and direction."""
        shapes = self._state_shapes(batch)
        names = ["h_0", "c_0"][:len(shapes)]
        if hx is None:
            return [[zeros(*shape[1:], dtype=dtype)] * shape[0] for shape in shapes]
        given = list(hx) if self.mode == "LSTM" else [hx]
        if self.mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(given) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        states = []
        for name, shape, state in zip(names, shapes, given):
            if not isinstance(state, Tensor):
                raise TypeError(f"{name} must be a Tensor, got {type(state).__name__}")
            if not batched:
                if state.ndim != 2:
                    raise ValueError(
                        f"for an unbatched 2-D input, {name} must be 2-D too, got shape "
                        f"{tuple(state.shape)}"
                    )
                state = state.unsqueeze(1)
            if tuple(state.shape) != shape:
                want = shape if batched else (shape[0], shape[2])
                raise ValueError(
                    f"expected {name} of shape {want} (num_layers * num_directions, "
                    f"{'batch, ' if batched else ''}{'hidden' if name == 'c_0' else 'output'} "
                    f"size), got {tuple(state.shape if batched else state.squeeze(1).shape)}"
                )
            if state.dtype != dtype:
                raise ValueError(f"{name} has dtype {state.dtype}; the input has {dtype}")
            states.append(state.unbind(0))
        return states

    def _run_layers(self, x, states, batch_sizes):
        """x: (L, N, F) padded, or (T, F) packed with `batch_sizes`."""
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                k = layer * self._directions + direction
                outs = self._run_direction(x, layer, direction, [s[k] for s in states],
                                           batch_sizes)
                outputs.append(outs[0])
                for final, value in zip(finals, outs[1:]):
                    final.append(value)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout.dropout(x, self.dropout, True)
        return x, finals

    def _run_direction(self, x, layer, direction, initial, batch_sizes):
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
        config = {"reverse": bool(direction), "batch_sizes": batch_sizes}
        # the input projections of every step: one matmul on (steps * batch, features)
        xproj = matmul(x if x.ndim == 2 else x.reshape(-1, x.shape[-1]), w_ih.T)
        if self.mode == "GRU":
            if b_ih is not None:
                xproj = xproj + b_ih
            if b_hh is None:
                b_hh = zeros(w_hh.shape[0], dtype=w_hh.dtype)
        elif b_ih is not None:
            xproj = xproj + (b_ih + b_hh)
        if x.ndim == 3:
            xproj = xproj.reshape(x.shape[0], x.shape[1], xproj.shape[1])
        if self.mode == "GRU":
            return recurrent.gru_sequence(xproj, initial[0], w_hh, b_hh, **config)
        if self.mode == "LSTM":
            return recurrent.lstm_sequence(xproj, initial[0], initial[1], w_hh, w_hr, **config)
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        return recurrent.rnn_sequence(xproj, initial[0], w_hh, nonlinearity, **config)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False). `forward(input, h_0=None)` returns
    (output, h_n): output (L, N, D * H) ((N, L, D * H) with batch_first), h_n
    (num_layers * D, N, H); an unbatched (L, input_size) input gives unbatched results.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 *, proj_size=0):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, proj_size, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o:

        i, f, o = sigmoid(...), g = tanh(...)    (each x_t W_i*^T + b_i* + h W_h*^T + b_h*)
        c_t = f * c_{t-1} + i * g                h_t = o * tanh(c_t)   [@ W_hr^T with proj_size]

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0). `forward(input, (h_0, c_0)=None)` returns
    (output, (h_n, c_n)); h has proj_size features when proj_size > 0.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n:

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)    z likewise
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))  h_t = (1 - z) * n + z * h_{t-1}

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). `forward(input, h_0=None)` returns (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, *, proj_size=0):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)
