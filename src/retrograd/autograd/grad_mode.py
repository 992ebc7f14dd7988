"""Grad-mode switches: `no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`, usable
as context managers and as decorators."""

import functools

from . import graph


class _GradMode:
    """Set the grad-mode flag on enter and restore the previous one on exit."""

    _flag = True

    def __enter__(self):
        self._previous = graph.set_grad_enabled_flag(self._flag)
        return self

    def __exit__(self, *exc_info):
        graph.set_grad_enabled_flag(self._previous)
        return False

    def __call__(self, fn):
        flag = self._flag

        @functools.wraps(fn)
        def with_grad_mode(*args, **kwargs):
            previous = graph.set_grad_enabled_flag(flag)
            try:
                return fn(*args, **kwargs)
            finally:
                graph.set_grad_enabled_flag(previous)

        return with_grad_mode


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Ops inside record no graph: their results do not require grad."""

    _flag = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a `no_grad` region."""

    _flag = True


class inference_mode(_GradMode):  # noqa: N801
    """The same as `no_grad` here: retrograd has no separate inference tensors."""

    def __init__(self, mode=True):
        self._flag = not mode


class set_grad_enabled(_GradMode):  # noqa: N801
    """`set_grad_enabled(flag)` as a context manager or decorator; called bare it sets the mode
    at once, as in PyTorch (`rg.set_grad_enabled(False)`)."""

    def __init__(self, mode):
        self._flag = bool(mode)
        self._previous = graph.set_grad_enabled_flag(self._flag)

    def __enter__(self):
        return self  # already switched by __init__

    def __call__(self, fn):
        graph.set_grad_enabled_flag(self._previous)  # decorating must not flip the mode now
        return super().__call__(fn)


def is_grad_enabled():
    return graph.is_grad_enabled()
