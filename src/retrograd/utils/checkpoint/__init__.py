"""rg.utils.checkpoint: trade compute for memory (torch.utils.checkpoint's API).

`checkpoint(fn, *args)` keeps only a segment's inputs for backward and recomputes its
activations when the gradient reaches it; `checkpoint_sequential` does it for chunks of a
Sequential; `plan_checkpoints` chooses the chunks that fit a memory budget with the least
recomputation.
"""

from ._checkpoint import checkpoint, checkpoint_sequential
from ._planner import CheckpointPlan, measure_modules, plan_checkpoints

__all__ = [
    "CheckpointPlan",
    "checkpoint",
    "checkpoint_sequential",
    "measure_modules",
    "plan_checkpoints",
]
