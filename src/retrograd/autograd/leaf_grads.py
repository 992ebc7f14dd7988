"""What the backward walk does at the leaves: collect each leaf's gradient, run its hooks, and
store the total in `.grad` (adopting the array when nothing else holds it)."""

import sys

import numpy as np

from . import hooks
from .tensor import Tensor, new_tensor

# A leaf reached many times (a weight shared along a chain or through time) gets many small
# gradients. Summing each into the running total costs a NumPy call apiece; for small arrays the
# walk collects them and sums them in one call. The cap bounds the memory this holds.
DEFER_MAX_SIZE = 256  # elements: above this, one addition per gradient costs little extra
DEFER_MAX_COUNT = 256  # so a collected list holds at most 256 x 256 elements


def finish_leaf_early(leaf, g, create_graph):
    # NOTE: our `g` stands in for _walk's in accumulate_leaf's reference count
    if leaf._hooks:
        g = run_hooks(leaf._hooks, g, create_graph)
    accumulate_leaf(leaf, g, create_graph)
    hooks.run_post_hooks(leaf)



def add_to_leaf(table, leaf, gx, defer):
    """Add `gx` to the leaf's entry (the accelerator inlines the common cases)."""
    previous = table.get(leaf)
    if previous is None:
        table[leaf] = gx
    elif type(previous) is list:
        if len(previous) < DEFER_MAX_COUNT:
            previous.append(gx)
        else:  # full: sum what it holds, then keep collecting
            table[leaf] = [leaf_total(previous), gx]
    elif defer and gx.size <= DEFER_MAX_SIZE:
        table[leaf] = [previous, gx]
    else:
        table[leaf] = previous + gx



def leaf_total(value):
    """A leaf's table entry as one gradient (the sum of a collected list)."""
    if type(value) is list:
        # NOTE: stacking then reducing over the first axis adds in list order, as the
        # one-by-one sums would
        return np.add.reduce(np.stack(value), axis=0)
    return value



def run_hooks(hooks, g, create_graph):
    """Tensor hooks see and may replace the gradient (as a Tensor)."""
    g_tensor = g if create_graph else new_tensor(g)
    for hook in list(hooks):
        result = hook(g_tensor)
        if result is not None:
            if not isinstance(result, Tensor):
                raise TypeError(f"a gradient hook must return a Tensor or None, got {result!r}")
            if result.shape != g_tensor.shape:
                raise RuntimeError(
                    f"a gradient hook returned shape {result.shape}; expected {g_tensor.shape}"
                )
            g_tensor = result
    return g_tensor if create_graph else g_tensor.data



def accumulate_leaf(leaf, g, create_graph):
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
    if leaf.grad is None:
        leaf.grad = new_tensor(g if exclusively_ours(g) else np.array(g, copy=True))
    elif leaf.grad._node is not None or leaf.grad.data.shape != g.shape:
        leaf.grad = new_tensor(leaf.grad.data + g)
    else:
        leaf.grad.data += g  # PyTorch accumulates into the existing .grad in place



def exclusively_ours(g):
    """True when `g` owns its memory, is writable and nobody else refers to it, so it can become
    a leaf's `.grad` without a copy (as PyTorch steals a gradient whose use count is one).

    The references counted are: the caller's variable, this function's argument, and
    getrefcount's own. A rule may hand one array to several inputs (add) or keep it elsewhere;
    then the count is higher and the caller copies.
    """
    return (
        type(g) is np.ndarray
        and g.base is None
        and g.flags.writeable
        and sys.getrefcount(g) <= REFS_WHEN_EXCLUSIVE
    )



REFS_WHEN_EXCLUSIVE = 4  # _walk()'s `g`, accumulate_leaf's `g`, our argument, getrefcount's



def store_nonleaf_grad(t, g):
    t.grad = as_grad_tensor(g, copy=True)



def as_grad_tensor(g, copy):
    if isinstance(g, Tensor):
        return g
    return new_tensor(np.array(g, copy=True) if copy else np.asarray(g))
