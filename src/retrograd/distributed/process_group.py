"""The default process group: every rank of the MPI job (`mpiexec -n N python train.py`).

`init_process_group("mpi")` takes the rank and world size from MPI itself and works on a
private duplicate of MPI_COMM_WORLD, so retrograd's messages never meet the user's own MPI
traffic. It also makes an uncaught exception on any rank end the whole job: the traceback is
printed with the rank in front of every line and `MPI_Abort` stops every other rank, which
would otherwise wait forever in its next collective.
"""

import os
import sys
import traceback

from ._mpi import mpi

__all__ = [
    "init_process_group",
    "destroy_process_group",
    "is_initialized",
    "get_rank",
    "get_world_size",
    "get_backend",
    "barrier",
    "abort",
    "debug_enabled",
]

DEBUG_VARIABLE = "RETROGRAD_DISTRIBUTED_DEBUG"


class _Group:
    """The world: a communicator, this process's rank and the number of ranks."""

    __slots__ = ("comm", "rank", "size", "backend", "debug", "previous_excepthook")

    def __init__(self, comm, backend, debug):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.backend = backend
        self.debug = debug
        self.previous_excepthook = None


_WORLD = None


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1,
                       *, abort_on_exception=True, debug=None):
    """Join the job's process group. Under `mpiexec -n N` every rank calls this once; a plain
    `python script.py` is a job of world size 1.

    `world_size` and `rank`, when given, must agree with MPI's (they are checked, not used to
    rendezvous: MPI already knows the job); `timeout` is accepted for PyTorch's signature and
    not used (MPI calls wait as long as it takes). `abort_on_exception` installs the handler
    that ends the whole job when one rank raises. `debug` (default: the environment variable
    RETROGRAD_DISTRIBUTED_DEBUG=1) turns on DistributedDataParallel's checks.
    """
    global _WORLD
    if _WORLD is not None:
        raise RuntimeError("init_process_group: trying to initialize the default process group "
                           "twice")
    if backend not in ("mpi", None):
        raise ValueError(f"init_process_group: backend {backend!r} is not available; retrograd "
                         "communicates over MPI (backend='mpi')")
    if init_method not in (None, "env://"):
        raise ValueError("init_process_group: init_method is not used by the MPI backend (the "
                         "ranks find each other through mpiexec)")
    MPI = mpi()
    group = _Group(MPI.COMM_WORLD.Dup(), "mpi", _debug_default(debug))
    for name, given, actual in (("world_size", world_size, group.size),
                                ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            group.comm.Free()
            raise ValueError(f"init_process_group: {name}={given} but MPI started this process "
                             f"with {name} {actual} (mpiexec -n sets the world size)")
    _WORLD = group
    if abort_on_exception:
        group.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception


def destroy_process_group(group=None):
    """Leave the process group (MPI itself stays up until the process exits)."""
    global _WORLD
    _check_group(group, "destroy_process_group")
    world = _world("destroy_process_group")
    if world.previous_excepthook is not None and sys.excepthook is _abort_on_exception:
        sys.excepthook = world.previous_excepthook
    world.comm.Free()
    _WORLD = None


def is_initialized():
    return _WORLD is not None


def get_rank(group=None):
    """This process's rank, 0 .. world size - 1."""
    _check_group(group, "get_rank")
    return _world("get_rank").rank


def get_world_size(group=None):
    _check_group(group, "get_world_size")
    return _world("get_world_size").size


def get_backend(group=None):
    _check_group(group, "get_backend")
    return _world("get_backend").backend


def barrier(group=None, async_op=False):
    """Wait until every rank has reached its barrier."""
    _check_group(group, "barrier")
    comm = _world("barrier").comm
    if async_op:
        from .collectives import Work  # noqa: PLC0415 - a sibling module that imports this one

        return Work([comm.Ibarrier()])
    comm.Barrier()
    return None


def abort(message=None, code=1):
    """End the whole job now: print `message` (with this rank) and call MPI_Abort."""
    rank = _WORLD.rank if _WORLD is not None else 0
    if message:
        sys.stderr.write(f"[rank {rank}] {message}\n")
    _flush()
    mpi().COMM_WORLD.Abort(code)


def debug_enabled():
    """The process group's debug flag (RETROGRAD_DISTRIBUTED_DEBUG=1, or debug=True)."""
    return _WORLD is not None and _WORLD.debug


def comm():
    """The group's communicator (for the collectives and the parallel wrappers)."""
    return _world("retrograd.distributed").comm


def _world(where):
    if _WORLD is None:
        raise RuntimeError(
            f"{where}: the default process group has not been initialized; call "
            "rg.distributed.init_process_group() first (and start the job with mpiexec -n N)"
        )
    return _WORLD


def _check_peer(rank, where, name):
    """A valid rank other than this one, for point-to-point messages."""
    world = _world(where)
    if not isinstance(rank, int) or not 0 <= rank < world.size or rank == world.rank:
        raise ValueError(f"{where}: {name}={rank!r} must be another rank of this world of size "
                         f"{world.size} (this is rank {world.rank})")


def _check_group(group, where):
    if group is not None and group is not _WORLD:
        raise ValueError(f"{where}: only the default process group (group=None) is supported")


def _debug_default(debug):
    if debug is not None:
        return bool(debug)
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "off")


def _abort_on_exception(exc_type, exc, tb):
    """sys.excepthook while the group lives: the rank's traceback, then MPI_Abort, so the other
    ranks end within moments instead of waiting forever for this one."""
    rank = _WORLD.rank if _WORLD is not None else "?"
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    lines = text.splitlines(keepends=True)
    _flush()
    sys.stderr.write("".join(f"[rank {rank}] {line}" for line in lines))
    sys.stderr.write(f"[rank {rank}] retrograd.distributed: rank {rank} raised "
                     f"{exc_type.__name__}; aborting the whole job (MPI_Abort)\n")
    _flush()
    mpi().COMM_WORLD.Abort(1)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
