"""Which module is running: a stack of dotted module paths kept by forward hooks.

`rg.nn.record_module_paths` tags graph nodes; the diagnostics also need the current path at
moments when no node exists yet (an anomaly check runs before the node is made) and the order
in which modules first ran (the depth order of a gradient-flow report), so they keep their own
stack with the same hooks.
"""

from ..autograd import graph


class ModulePaths:
    """While attached: `current` is the dotted path of the innermost running submodule of
    `model` ('' for the model itself, None outside it), `order` lists paths in the order they
    first ran, and every graph node recorded inside the model gets `node.module_path`."""

    def __init__(self, model):
        self.model = model
        self.stack = []
        self.order = {}  # path -> rank of its first call (a dict keeps insertion order)
        self._handles = []
        self._attached = False

    @property
    def current(self):
        return self.stack[-1] if self.stack else None

    def attach(self):
        if self._attached:
            return self
        names = {id(module): name for name, module in self.model.named_modules()}
        stack, order = self.stack, self.order

        def enter(module, args):
            path = names.get(id(module))
            if path is None:  # a module added after attach: name it by its class
                path = type(module).__name__
            stack.append(path)
            if path not in order:
                order[path] = len(order)

        def leave(module, args, out):
            if stack:
                stack.pop()

        for module in self.model.modules():
            self._handles.append(module.register_forward_pre_hook(enter))
            self._handles.append(module.register_forward_hook(leave, always_call=True))
        graph.add_node_observer(self._tag)
        self._attached = True
        return self

    def _tag(self, node, xs, out):
        if self.stack:
            node.module_path = self.stack[-1]

    def detach(self):
        if not self._attached:
            return
        graph.remove_node_observer(self._tag)
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.stack.clear()
        self._attached = False

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc_info):
        self.detach()
        return False
