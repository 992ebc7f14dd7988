"""The backward walk's checks and messages: its arguments, the output gradients it starts from,
and tensors changed in place after a node saved them."""

import numpy as np

from .tensor import Tensor, new_tensor


def graph_key(t):
    """Where a tensor's gradient collects in the walk: its node, or the leaf itself."""
    return t if t._node is None else t._node


def as_tensor_list(tensors, where):
    if isinstance(tensors, Tensor):
        return [tensors]
    try:
        tensors = list(tensors)
    except TypeError:
        raise TypeError(f"{where}: expected a Tensor or a sequence of Tensors") from None
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: expected Tensors, got {type(t).__name__}")
    return tensors



def root_gradients(tensors, grad_tensors, create_graph, where):
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, (Tensor, np.ndarray)):
        grad_tensors = [grad_tensors]
    else:
        grad_tensors = list(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise ValueError(
            f"{where}: got {len(tensors)} outputs but {len(grad_tensors)} output gradients"
        )
    roots, grads = [], []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t._requires_grad:
            raise RuntimeError(
                f"{where}: output {i} does not require grad and has no grad_fn; did you compute "
                "it under no_grad(), or from tensors without requires_grad=True?"
            )
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    f"{where}: the output has shape {t.shape}; a gradient can be created "
                    "implicitly only for a scalar output. Pass gradient= a tensor of shape "
                    f"{t.shape} (for example rg.ones_like(out)), or reduce the output first "
                    "(out.sum())"
                )
            g = np.ones_like(t.data)
        else:
            g_data = g.data if isinstance(g, Tensor) else np.asarray(g)
            if g_data.shape != t.data.shape:
                raise RuntimeError(
                    f"{where}: the gradient has shape {g_data.shape} but output {i} has shape "
                    f"{t.shape}"
                )
            if create_graph and isinstance(g, Tensor):
                if g.dtype != t.dtype:
                    g = g.to(t.dtype)
                roots.append(graph_key(t))
                grads.append(g)
                continue
            g = g_data.astype(t.data.dtype, copy=False)
        roots.append(graph_key(t))
        grads.append(new_tensor(g) if create_graph else g)
    return roots, grads



def check_versions(node, saved):
    """Raise if a tensor the node saved was changed in place after it was saved."""
    versions = node.versions
    for i, x in enumerate(saved):
        counter = x._version
        if counter is not None:
            version = 0 if versions is None else versions[i]
            if counter[0] != version:
                raise RuntimeError(modified_message(node, counter, version))
    counter = node.out_version
    if counter is not None and counter[0] != 0:
        raise RuntimeError(modified_message(node, counter, 0))



def modified_message(node, counter, version):
    by = f" by in-place op '{counter[1]}'" if counter[1] else ""
    return (
        f"backward through '{node.op.name}': a tensor it saved for the gradient was modified"
        f"{by} after it was saved (version {version}, now {counter[0]}). Compute on a .clone() "
        "instead, or do the in-place change after backward.\n" + where(node, "the node is")
    )



def where(node, text):
    """Where the node came from, for error notes: the user's line when anomaly mode saw it."""
    if node.source is None:
        return (
            f"{text} '{node.op.name}' (run inside rg.autograd.detect_anomaly() to see the line "
            "that created it)"
        )
    return f"{text} '{node.op.name}', created at {node.source}"
