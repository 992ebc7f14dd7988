"""Hook plumbing shared by tensors, modules and the engine."""

import weakref

from .graph import Node
from .tensor import new_tensor


class RemovableHandle:
    """Returned by `register_hook`; `remove()` takes the hook out again."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def retain_grad_hook(tensor):
    """A node hook that stores the gradient into a non-leaf tensor's `.grad`.

    It holds the tensor weakly: the tensor points at the node, which holds the hook.
    """
    ref = weakref.ref(tensor)

    def retain_grad(grad):
        t = ref()
        if t is not None:
            if t.grad is None:
                # copy: on the fast path the array may be shared with other gradients
                t.grad = grad if grad._node is not None else new_tensor(grad.data.copy())
            else:
                t.grad = t.grad + grad
        return None

    return retain_grad


# ---------------------------------------------------------------------------- end of backward
CALLBACKS = []  # one list per running walk (engine.run; a hook may start a nested one)


def queue_callback(callback):
    """Call `callback()` once the running backward pass has finished (PyTorch's
    `Variable._execution_engine.queue_callback`): the hook point after the last leaf. A pass
    started inside another (reentrant checkpointing) belongs to it: the callback waits for the
    outermost pass, whose end is when every gradient is complete."""
    if not CALLBACKS:
        raise RuntimeError("queue_callback: no backward pass is running")
    CALLBACKS[0].append(callback)


# ---------------------------------------------------------------------------- post-accumulate
def finish_plan(nodes):
    """{node: [leaves]}: the leaves with post-accumulate hooks whose gradient is complete once
    that node has run (the last, in walk order, of the nodes feeding them), so their hooks fire
    while the walk goes on (data parallelism starts reducing those gradients early)."""
    last = {}
    for node in nodes:  # walk order: the last writer wins
        for edge in node.edges:
            if edge is not None and type(edge) is not Node and edge._post_hooks:
                last[edge] = node
    plan = {}
    for leaf, node in last.items():
        plan.setdefault(node, []).append(leaf)
    return plan


def run_post_hooks(leaf):
    """Post-accumulate hooks see the leaf itself, its `.grad` complete for this pass."""
    for hook in list(leaf._post_hooks):
        hook(leaf)
