"""Neural-network building blocks: Module, Parameter, layers, losses, initialisers.

Each submodule holds one category and lists its public names in `__all__`; this package
re-exports them (`rg.nn.Linear`, `rg.nn.functional`, `rg.nn.init`, `rg.nn.utils`,
`rg.nn.parallel`)."""

from . import functional, init, parallel, utils
from .activation import *  # noqa: F403
from .activation_extra import *  # noqa: F403
from .attention import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .embedding_bag import *  # noqa: F403
from .flatten import *  # noqa: F403
from .fold import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .loss_more import *  # noqa: F403
from .module import *  # noqa: F403
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .parameter import Parameter
from .pixelshuffle import *  # noqa: F403
from .pooling import *  # noqa: F403
from .positional import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .transformer import *  # noqa: F403
from .upsampling import *  # noqa: F403
