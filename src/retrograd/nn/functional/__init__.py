"""rg.nn.functional: the functional form of every layer, activation and loss (torch's F).

Each private module holds one category; this package re-exports their public names."""

from ...ops._checked import check_tensor_inputs  # noqa: E402 - wraps what the lines above bound
from ._activation import *  # noqa: F403
from ._attention import *  # noqa: F403
from ._conv import *  # noqa: F403
from ._dropout import *  # noqa: F403
from ._linear import *  # noqa: F403
from ._loss import *  # noqa: F403
from ._loss_more import *  # noqa: F403
from ._misc import *  # noqa: F403
from ._normalization import *  # noqa: F403
from ._pooling import *  # noqa: F403
from ._shape import *  # noqa: F403
from ._sparse import *  # noqa: F403

check_tensor_inputs(globals(), [name for name in dir() if not name.startswith("_")], __name__)
