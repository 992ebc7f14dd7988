"""Parallel wrappers of modules (PyTorch's `torch.nn.parallel`): DistributedDataParallel.

This package sits in the `distributed` layer (it needs the process group and its collectives);
`rg.nn` re-exports it under PyTorch's name. Importing it does not import MPI.
"""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
