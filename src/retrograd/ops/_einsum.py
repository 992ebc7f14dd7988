"""Einsum bookkeeping for ops/linalg.py: parsing equations to an explicit form, the pairwise
contraction path, and the VJP rule.

The VJP of an operand is itself an einsum: the incoming gradient (with the output's letters)
times the other operands, with the operand's own letters as the output. Two cases need more:

- a letter repeated in the operand (`ii->i`, a diagonal) cannot be repeated in an einsum
  output, so each repeat gets a fresh letter tied to the first one by an identity matrix;
- a letter only this operand has (`ij->i`, summed away) appears in no other term, so the
  gradient is computed without it and expanded along it (the gradient is constant there).
"""

import functools

import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@functools.lru_cache(maxsize=512)
def parse_einsum(equation, ndims):
    """(input subscripts, output subscripts) with the ellipsis spelled out in letters and the
    output made explicit. `ndims` are the operands' numbers of dimensions."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->", 1)
        if "->" in out:
            raise ValueError(f"einsum: equation {equation!r} has more than one '->'")
    else:
        lhs, out = eq, None
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: equation {equation!r} has {len(terms)} operand terms but "
            f"{len(ndims)} operands were given"
        )
    for term in terms + ([out] if out is not None else []):
        rest = term.replace("...", "", 1)
        bad = [c for c in rest if c not in LETTERS]
        if bad:
            raise ValueError(
                f"einsum: invalid subscript {bad[0]!r} in equation {equation!r}; use letters "
                "a-z, A-Z and at most one '...' per term"
            )
    unused = [c for c in LETTERS if c not in eq]
    n_ellipsis = 0
    for term, ndim in zip(terms, ndims):
        letters = len(term.replace("...", ""))
        if "..." in term:
            if letters > ndim:
                raise ValueError(_dims_error(equation, term, ndim))
            n_ellipsis = max(n_ellipsis, ndim - letters)
        elif letters != ndim:
            raise ValueError(_dims_error(equation, term, ndim))
    if n_ellipsis > len(unused):
        raise ValueError(f"einsum: too many dimensions under '...' in {equation!r}")
    ellipsis = "".join(unused[:n_ellipsis])
    subs = []
    for term, ndim in zip(terms, ndims):
        if "..." in term:
            own = ndim - (len(term) - 3)
            term = term.replace("...", ellipsis[n_ellipsis - own :])
        subs.append(term)
    if out is None:
        counts = {}
        for c in "".join(terms):
            counts[c] = counts.get(c, 0) + 1
        out = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c != "."))
    else:
        # NOTE: like PyTorch, an output without '...' sums the ellipsis dimensions away.
        out = out.replace("...", ellipsis)
        present = set("".join(subs))
        for c in out:
            if c not in present:
                raise ValueError(
                    f"einsum: output subscript {c!r} of {equation!r} appears in no operand"
                )
        if len(set(out)) != len(out):
            raise ValueError(f"einsum: the output of {equation!r} repeats a subscript")
    return tuple(subs), out


def _dims_error(equation, term, ndim):
    return (
        f"einsum: term {term!r} of {equation!r} does not match an operand with {ndim} "
        "dimensions"
    )


def contraction_path(subs, out_sub, arrays):
    """NumPy's greedy pairwise contraction order: a list of position tuples, each contracted
    into one operand appended at the end."""
    equation = ",".join(subs) + "->" + out_sub
    path, _ = np.einsum_path(equation, *arrays, optimize="greedy")
    return path[1:]


def einsum_vjp(ns, g, xs, subs, out_sub, k):
    """Gradient of einsum(subs -> out_sub)(*xs) with respect to operand k."""
    target = subs[k]
    shape = xs[k].shape
    terms = [out_sub] + [s for j, s in enumerate(subs) if j != k]
    operands = [g] + [x for j, x in enumerate(xs) if j != k]
    fresh = iter(c for c in LETTERS if c not in "".join(subs) + out_sub)
    result, seen = [], set()
    for c, n in zip(target, shape):
        if c in seen:  # a repeated letter: a diagonal, tied by an identity matrix
            f = next(fresh)
            terms.append(c + f)
            operands.append(ns.eye(n, dtype=g.dtype))
            result.append(f)
        else:
            seen.add(c)
            result.append(c)
    available = set("".join(terms))
    kept = "".join(c for c in result if c in available)
    gx = ns.einsum(",".join(terms) + "->" + kept, *operands)
    if len(kept) == len(result):
        return gx
    # Letters only this operand has were summed away: the gradient is constant along them.
    sizes = dict(zip(kept, gx.shape))
    ones_shape = tuple(sizes.get(c, 1) for c in result)
    full_shape = tuple(sizes.get(c, n) for c, n in zip(result, shape))
    return ns.expand(ns.reshape(gx, ones_shape), full_shape)
