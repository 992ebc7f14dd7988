"""Checks that ranks agree: the same parameter names and shapes, the same parameter values."""

import hashlib

import numpy as np

from . import process_group

__all__ = ["check_parameters_agree", "check_same_structure"]


def check_parameters_agree(module, raise_error=True):
    """Compare every parameter of `module` across the ranks (bit for bit, through an 8-byte
    digest of each) and return the names of those that differ somewhere. With `raise_error`
    (the default) any difference is a RuntimeError, raised on every rank, naming them.

    Data-parallel replicas must stay identical; a difference means that something updated one
    rank's copy differently (a step skipped on one rank, a rank-dependent seed, ...).
    """
    names, params = zip(*module.named_parameters()) if _has_params(module) else ((), ())
    digests = np.array([_digest(p.data) for p in params], dtype=np.int64)
    table = _gather(digests)
    differing = [name for i, name in enumerate(names) if np.any(table[:, i] != table[0, i])]
    if differing and raise_error:
        rows = []
        for i, name in enumerate(names):
            if name in differing:
                ranks = [r for r in range(table.shape[0]) if table[r, i] != table[0, i]]
                rows.append(f"  {name}: ranks {ranks} differ from rank 0")
        raise RuntimeError(
            f"retrograd.distributed: {len(differing)} parameter(s) differ between ranks:\n"
            + "\n".join(rows)
        )
    return differing


def check_same_structure(module, where):
    """Raise (on every rank) unless all ranks hold parameters of the same names, shapes and
    dtypes, in the same order: replicas must be built alike before they can be kept alike."""
    signature = [f"{name}:{tuple(p.shape)}:{p.dtype}" for name, p in module.named_parameters()]
    digest = np.array([len(signature), _digest(np.frombuffer(
        "\n".join(signature).encode(), dtype=np.uint8))], dtype=np.int64)
    table = _gather(digest)
    ranks = [r for r in range(table.shape[0]) if np.any(table[r] != table[0])]
    if ranks:
        raise RuntimeError(
            f"{where}: the model on ranks {ranks} has different parameters (names, shapes or "
            f"dtypes) from rank 0's; build the same model on every rank (this rank has "
            f"{len(signature)} parameters)"
        )


def _gather(values):
    comm = process_group.comm()
    table = np.empty((comm.Get_size(), values.size), dtype=values.dtype)
    comm.Allgather(np.ascontiguousarray(values), table)
    return table


def _digest(array):
    data = np.ascontiguousarray(array)
    value = hashlib.blake2b(data.view(np.uint8).reshape(-1), digest_size=8).digest()
    return int(np.frombuffer(value, dtype=np.int64)[0])


def _has_params(module):
    return next(iter(module.named_parameters()), None) is not None
