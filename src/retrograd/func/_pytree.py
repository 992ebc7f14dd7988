"""Argument structures for rg.func: nested tuples, lists and dicts of tensors (pytrees)."""

from ..autograd.tensor import Tensor


def flatten(tree):
    """(leaves, spec): the leaves of nested tuples/lists/dicts in order, and how to rebuild."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            sub_leaves, sub_spec = flatten(item)  # nesting depth is the user's, not a graph's
            leaves.extend(sub_leaves)
            specs.append(sub_spec)
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key in tree:
            sub_leaves, sub_spec = flatten(tree[key])
            leaves.extend(sub_leaves)
            specs.append(sub_spec)
        return leaves, (dict, list(tree), specs)
    return [tree], None


def unflatten(spec, leaves):
    return _build(spec, iter(leaves))


def _build(spec, leaves):
    if spec is None:
        return next(leaves)
    kind, keys, specs = spec
    items = [_build(s, leaves) for s in specs]
    if kind is dict:
        return dict(zip(keys, items))
    return kind(items) if kind in (tuple, list) else kind(*items)  # namedtuples take *items


def tensor_leaves(tree, where, what):
    leaves, spec = flatten(tree)
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(f"{where}: expected {what} to hold only Tensors, got a "
                            f"{type(leaf).__name__}")
    return leaves, spec


def rebuild_args(specs, single, flat):
    """Per-input results (flat, in input order) in the structure of the argnums."""
    trees, start = [], 0
    for spec, n in specs:
        trees.append(unflatten(spec, flat[start : start + n]))
        start += n
    return trees[0] if single else tuple(trees)


def check_argnums(argnums, n_args, where):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError(f"{where}: argnums must not be empty")
    for a in nums:
        if not isinstance(a, int) or not -n_args <= a < n_args:
            raise ValueError(
                f"{where}: argnums {argnums!r} out of range for a function called with "
                f"{n_args} positional arguments"
            )
    nums = tuple(a % n_args for a in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{where}: argnums {argnums!r} repeats an argument")
    return nums, single


def split_aux(out, has_aux, where):
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{where}: with has_aux=True, f must return a pair (output, aux)")
    return out[0], out[1]
