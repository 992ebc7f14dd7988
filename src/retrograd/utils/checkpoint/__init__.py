"""rg.utils.checkpoint: trade compute for memory (torch.utils.checkpoint's API).

`checkpoint(fn, *args)` keeps only a segment's inputs for backward and recomputes its
activations when the gradient reaches it; `checkpoint_sequential` does it for chunks of a
Sequential.
"""

from ._checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential"]
