"""rg.nn.utils: gradient clipping, parameter/vector conversion, truncated BPTT and padding
for recurrent networks, weight and spectral normalisation."""

from .clip_grad import *  # noqa: F403
from .convert_parameters import *  # noqa: F403
from .rnn import *  # noqa: F403
from .weight_norm import *  # noqa: F403
