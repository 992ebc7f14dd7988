"""record_module_paths: tag graph nodes with the dotted path of the module that made them."""

import contextlib

from ..autograd import graph


@contextlib.contextmanager
def record_module_paths(model):
    """Inside the block, every graph node recorded while a submodule of `model` runs gets that
    submodule's dotted path in `node.module_path` ('' for the model itself), for diagnostics
    such as gradient-flow reports. Outside it, nothing is recorded and calls cost nothing.

        with rg.nn.record_module_paths(model):
            loss = model(x).sum()
        loss.grad_fn.module_path
    """
    stack = []
    names = {id(module): name for name, module in model.named_modules()}

    def enter(module, args):
        stack.append(names[id(module)])

    def leave(module, args, out):
        stack.pop()  # returns None: the output is left alone

    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave, always_call=True))

    def observe(node, xs, out):
        if stack:
            node.module_path = stack[-1]

    graph.add_node_observer(observe)
    try:
        yield model
    finally:
        graph.remove_node_observer(observe)
        for handle in handles:
            handle.remove()
