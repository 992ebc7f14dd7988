"""The repr of a module tree: PyTorch's layout, plus parameter counts.

    # MLP: 101,770 parameters (101,770 trainable)
    MLP(
      (fc1): Linear(in_features=784, out_features=128, bias=True)  # 100,480
      (act): ReLU()
      (fc2): Linear(in_features=128, out_features=10, bias=True)  # 1,290
    )

The header line appears for modules that have submodules; each submodule line that holds
parameters ends with the number of parameters under it. Built without recursion, so very deep
models print too.
"""

from ._walk import MODULE, PARAM

_INDENT = "  "


def module_repr(root):
    lines = []  # [text, count or None] per output line
    totals = {}  # id(module) -> parameters under it (in this tree walk)
    on_path = set()
    # Events: ("open", key, module, depth) and ("close", module, depth, line index of opening)
    stack = [("open", None, root, 0)]
    while stack:
        event = stack.pop()
        if event[0] == "close":
            _, module, depth, opened = event
            on_path.discard(id(module))
            if lines[opened][0].endswith("("):
                lines.append([_INDENT * depth + ")", None])
            _finish_count(module, totals, lines, opened)
            continue
        _, key, module, depth = event
        label = _INDENT * depth + ("" if key is None else f"({key}): ")
        name = type(module).__name__
        if id(module) in on_path:  # a module that contains itself: don't loop
            lines.append([f"{label}{name}(...)", None])
            continue
        on_path.add(id(module))
        extra = module.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        children = [(k, c) for kind, k, c in module._entries() if kind == MODULE]
        opened = len(lines)
        if not children and len(extra_lines) <= 1:
            lines.append([f"{label}{name}({extra})", None])
            stack.append(("close", module, depth, opened))
            continue
        lines.append([f"{label}{name}(", None])
        lines.extend([_INDENT * (depth + 1) + e, None] for e in extra_lines)
        stack.append(("close", module, depth, opened))
        for k, child in reversed(children):
            stack.append(("open", k, child, depth + 1))
    text = "\n".join(
        text if count is None or i == 0 else f"{text}  # {count:,}"
        for i, (text, count) in enumerate(lines)
    )
    if any(kind == MODULE for kind, _, _ in root._entries()):
        params = list(root.parameters())
        total = sum(p.numel() for p in params)
        trainable = sum(p.numel() for p in params if p.requires_grad)
        text = (
            f"# {type(root).__name__}: {total:,} parameters ({trainable:,} trainable)\n" + text
        )
    return text


def _finish_count(module, totals, lines, opened):
    own = sum(v.numel() for kind, _, v in module._entries() if kind == PARAM)
    below = sum(
        totals.get(id(c), 0) for kind, _, c in module._entries() if kind == MODULE
    )
    total = own + below
    totals[id(module)] = total
    if total:
        lines[opened][1] = total
