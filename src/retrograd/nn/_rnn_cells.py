"""The one-step recurrent cells with PyTorch's API: RNNCell, LSTMCell, GRUCell (re-exported by
`nn/rnn.py`). Each step is the torch-named cell function of `ops/recurrent.py`: one matmul for the
input, one sequence primitive run for a single step."""

import math

from ..autograd import dtypes
from ..autograd.tensor import Tensor
from ..ops import recurrent
from ..ops.creation import empty, zeros
from . import init
from .module import Module, check_input
from .parameter import Parameter


def _factory_dtype(device, dtype):
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device '{device}' is not available; retrograd runs on cpu")
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


def _check_sizes(hidden_size, num_layers=1):
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool) or hidden_size <= 0:
        raise ValueError(f"hidden_size must be an integer greater than zero, got {hidden_size!r}")
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers <= 0:
        raise ValueError(f"num_layers must be an integer greater than zero, got {num_layers!r}")


class RNNCellBase(Module):
    """One recurrent step with parameters weight_ih (G*H, input_size), weight_hh (G*H, H),
    bias_ih and bias_hh (G*H); inputs (N, input_size) or unbatched (input_size,)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        dtype = _factory_dtype(device, dtype)
        _check_sizes(hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.bias_ih = self.bias_hh = None
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, states):
        """(batched input, batched states, batched?) after the checks PyTorch makes."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(
                f"{name}: expected a 1-D (unbatched) or 2-D (batched) input, got shape "
                f"{tuple(input.shape)}"
            )
        check_input(input, dim=-1, size=self.input_size, what="input_size")
        if input.dtype != self.weight_ih.dtype:
            raise ValueError(
                f"{name}: input dtype ({input.dtype}) does not match weight dtype "
                f"({self.weight_ih.dtype})"
            )
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        out = []
        for what, state in states:
            if state is None:
                state = zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
            else:
                expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
                if tuple(state.shape) != expected:
                    raise ValueError(
                        f"{name}: expected {what} of shape {expected}, got {tuple(state.shape)}"
                    )
                if not batched:
                    state = state.unsqueeze(0)
            out.append(state)
        return x, out, batched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = act(input W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu; forward(input,
    hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [("hx", hx)])
        cell = recurrent.rnn_tanh_cell if self.nonlinearity == "tanh" else recurrent.rnn_relu_cell
        out = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; forward(input, (h, c)=None) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        x, (h, c), batched = self._prepare(input, [("h", h), ("c", c)])
        h, c = recurrent.lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                                   self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step; forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [("hx", hx)])
        out = recurrent.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih,
                                 self.bias_hh)
        return out if batched else out.squeeze(0)
