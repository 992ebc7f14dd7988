"""Training on several processes over MPI: `mpiexec -n 2 python train.py`.

    import retrograd as rg
    rg.distributed.init_process_group("mpi")
    model = rg.nn.parallel.DistributedDataParallel(build_model())
    sampler = rg.utils.data.DistributedSampler(dataset)
    ...

The names follow `torch.distributed`: a process group (`init_process_group`, `get_rank`,
`get_world_size`, `barrier`, `destroy_process_group`), collectives on tensors in place
(`all_reduce`, `broadcast`, `all_gather`, `reduce_scatter`; `async_op=True` returns a `Work`
to `wait()` on) and point-to-point messages (`send`, `recv`, `isend`, `irecv`). Data
parallelism is `rg.nn.parallel.DistributedDataParallel`; pipeline (model) parallelism is
`rg.distributed.pipeline.Pipeline`, built on the differentiable messages of
`rg.distributed.functional`.

Importing this package does not import MPI: mpi4py is imported (and MPI initialised) by
the first call that needs it. `is_available()` says whether it can be.
"""

from . import debug, functional, pipeline
from ._mpi import is_available
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_reduce,
    broadcast,
    irecv,
    isend,
    recv,
    reduce_scatter,
    send,
)
from .debug import check_parameters_agree
from .process_group import (
    abort,
    barrier,
    debug_enabled,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_initialized,
)

__all__ = [
    "is_available",
    "init_process_group",
    "destroy_process_group",
    "is_initialized",
    "get_rank",
    "get_world_size",
    "get_backend",
    "barrier",
    "abort",
    "debug_enabled",
    "ReduceOp",
    "Work",
    "all_reduce",
    "broadcast",
    "all_gather",
    "reduce_scatter",
    "send",
    "recv",
    "isend",
    "irecv",
    "check_parameters_agree",
    "debug",
    "functional",
    "pipeline",
]
