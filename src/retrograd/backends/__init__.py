"""rg.backends: the switches PyTorch scripts set for GPU backends (`backends.cudnn.benchmark =
True`, `backends.cuda.matmul.allow_tf32 = True`, `backends.mps.is_available()`). They can be
read and set and change nothing: retrograd runs on NumPy on the CPU."""

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
