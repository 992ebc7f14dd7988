"""Hook plumbing shared by tensors, modules and the engine."""

import weakref

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
