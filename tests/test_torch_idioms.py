"""A broad smoke test of the PyTorch idioms real model code uses, run on retrograd and compared
with torch's result: values, dtypes and shapes, and gradients for the differentiable ones.

Each idiom is a function of (lib, *tensors) written once, for `lib` = retrograd or torch, as
model code written against `import torch` would be run on `import retrograd as torch`.
"""

import math

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(0)
DATA = {
    "X": _RNG.standard_normal((4, 5)).astype(np.float32),
    "Y": _RNG.standard_normal((4, 5)).astype(np.float32),
    "W": _RNG.standard_normal((3, 5)).astype(np.float32),  # a Linear weight (out, in)
    "b": _RNG.standard_normal(3).astype(np.float32),
    "V": _RNG.standard_normal(5).astype(np.float32),
    "S": _RNG.standard_normal((2, 3, 4)).astype(np.float32),  # (batch, seq, features)
    "Q": _RNG.standard_normal((2, 2, 3, 4)).astype(np.float32),  # (batch, heads, seq, dim)
    "IMG": _RNG.standard_normal((2, 3, 4, 4)).astype(np.float32),
    "POS": _RNG.uniform(0.5, 2.0, (4, 5)).astype(np.float32),
    "PROB": _RNG.uniform(0.05, 0.95, (4, 5)).astype(np.float32),
    "L": np.array([1, 0, 4, 2]),  # class labels for X's 5 classes
    "A": np.array([0, 2, 1, 1]),  # RL actions
    "I": np.array([2, 0, 3]),
    "M": _RNG.random((4, 5)) > 0.5,
    "T": np.array([1.0, 0.0, 1.0, 1.0, 0.0], dtype=np.float32),  # binary targets
    # for the model-code idioms below
    "K": (_RNG.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32),  # conv (out, in, kh, kw)
    "K1": (_RNG.standard_normal((4, 3, 1, 1)) * 0.3).astype(np.float32),  # 1x1 shortcut conv
    "KT": (_RNG.standard_normal((4, 3, 4, 4)) * 0.3).astype(np.float32),  # conv-transpose (in,out)
    "Z": _RNG.standard_normal((2, 4, 1, 1)).astype(np.float32),  # DCGAN latent
    "G": _RNG.uniform(0.5, 1.5, 3).astype(np.float32),  # norm gains
    "ENC": _RNG.standard_normal((2, 5, 4)).astype(np.float32),  # encoder outputs (B, S, H)
    "H": _RNG.standard_normal((2, 4)).astype(np.float32),  # decoder hidden (B, H)
    "WA": (_RNG.standard_normal((4, 8)) * 0.5).astype(np.float32),  # attention (H, 2H)
    "EPS": _RNG.standard_normal((4, 5)).astype(np.float32),  # reparameterisation noise
    "R": np.array([1.0, 0.0, 0.5, 2.0], dtype=np.float32),  # rewards
    "BOX": np.array([[0, 0, 2, 2], [1, 1, 3, 4], [0.5, 0, 1.5, 3]], dtype=np.float32),
    "SRC_LEN": np.array([5, 3]),
    "TOK": np.array([[3, 1, 4, 1], [5, 0, 2, 0]]),  # token ids (B, T), 0 = padding
}


def _idioms():
    """(id, function of (lib, *tensors), input names, differentiable)"""
    return [
        # ------------------------------------------------------------ creation and dtypes
        ("zeros_ones_full", lambda L: L.zeros(2, 3) + L.ones(2, 3) * 2 + L.full((2, 3), 0.5), "",
         False),
        ("arange_float", lambda L: L.arange(0, 1, 0.25), "", False),
        ("arange_long_dtype", lambda L: L.arange(5, dtype=L.long), "", False),
        ("linspace_eye", lambda L: L.linspace(0, 1, 4) * L.eye(4), "", False),
        ("tensor_dtype", lambda L: L.tensor([1, 2, 3], dtype=L.float32), "", False),
        ("tensor_bool", lambda L: L.tensor([True, False]), "", False),
        ("zeros_bool", lambda L: L.zeros(3, dtype=L.bool), "", False),
        ("full_long", lambda L: L.full((3,), -100, dtype=L.long), "", False),
        ("new_zeros", lambda L, x: x.new_zeros(2, 3), "X", False),
        ("new_zeros_shape", lambda L, x: x.new_zeros(x.shape), "X", False),
        ("new_ones_dtype", lambda L, x: x.new_ones((2,), dtype=L.long), "X", False),
        ("new_full", lambda L, x: x.new_full((2, 2), 3.0), "X", False),
        ("new_tensor", lambda L, x: x.new_tensor([1, 2]), "X", False),
        ("zeros_like_dtype", lambda L, x: L.zeros_like(x, dtype=L.long), "X", False),
        ("ones_like", lambda L, x: L.ones_like(x) * x, "X", True),
        ("full_like", lambda L, x: L.full_like(x, 7.0), "X", False),
        ("float_long_int_bool", lambda L, x: (x > 0).long() + (x > 0).int().long()
         + x.long() + x.bool().long(), "X", False),
        ("double_half_float", lambda L, x: x.double().float() + x.half().float(), "X", True),
        ("to_dtype", lambda L, x: x.to(L.float64), "X", True),
        ("to_device_dtype", lambda L, x: x.to(L.device("cpu"), L.float64), "X", True),
        ("to_other", lambda L, x, y: x.to(y), "X,L", False),
        ("type_as", lambda L, x, y: y.type_as(x) * x[:, 0], "X,L", True),
        ("type_dtype", lambda L, x: x.type(L.float64), "X", True),
        ("legacy_Tensor", lambda L: L.Tensor([1, 2]) * 2, "", False),
        ("as_tensor", lambda L: L.as_tensor(np.arange(3)), "", False),
        ("from_numpy", lambda L: L.from_numpy(np.ones(3, np.float32)), "", False),
        ("Size", lambda L, x: L.tensor(list(x.shape)) * x.shape.numel(), "X", False),
        ("finfo_mask", lambda L, x: x.masked_fill(x > 0, L.finfo(x.dtype).min), "X", True),
        ("eye_bool", lambda L: ~L.eye(3).bool(), "", False),
        # ------------------------------------------------------------ shapes
        ("view_flat", lambda L, x: x.view(-1), "X", True),
        ("view_infer", lambda L, x: x.view(2, -1), "X", True),
        ("reshape", lambda L, s: s.reshape(2, 12), "S", True),
        ("permute_contiguous_view", lambda L, s: s.permute(0, 2, 1).contiguous().view(2, -1), "S",
         True),
        ("transpose", lambda L, s: s.transpose(1, 2), "S", True),
        ("t_T_mT", lambda L, x, s: x.t() * 2 + x.T + s.mT.sum(0)[:, :4].T.sum(0).sum(), "X,S",
         True),
        ("heads_split", lambda L, s: s.view(2, 3, 2, 2).transpose(1, 2), "S", True),
        ("heads_merge", lambda L, q: q.transpose(1, 2).contiguous().view(2, 3, 8), "Q", True),
        ("unsqueeze_squeeze", lambda L, x: x.unsqueeze(1).squeeze(1).unsqueeze(-1).squeeze(),
         "X", True),
        ("none_index", lambda L, x: x[None] + x[:, None], "X", True),
        ("squeeze_noop", lambda L, x: x.squeeze(0), "X", True),
        ("expand", lambda L, v: v.expand(3, -1), "V", True),
        ("expand_as", lambda L, v, x: v.expand_as(x) * x, "V,X", True),
        ("repeat", lambda L, x: x.repeat(2, 1), "X", True),
        ("repeat_interleave", lambda L, x: x.repeat_interleave(2, dim=0), "X", True),
        ("tile", lambda L, x: x.tile((1, 2)), "X", True),
        ("flatten_start", lambda L, im: im.flatten(1), "IMG", True),
        ("torch_flatten", lambda L, im: L.flatten(im, start_dim=2), "IMG", True),
        ("unflatten", lambda L, x: x.unflatten(0, (2, 2)), "X", True),
        ("view_as_reshape_as", lambda L, x, y: x.view_as(y) + x.reshape_as(y), "X,Y", True),
        ("cat", lambda L, x, y: L.cat([x, y], dim=1), "X,Y", True),
        ("cat_neg_dim", lambda L, x, y: L.cat((x, y), -1), "X,Y", True),
        ("stack", lambda L, x, y: L.stack([x, y]), "X,Y", True),
        ("stack_dim", lambda L, x, y: L.stack([x, y], dim=2), "X,Y", True),
        ("chunk_qkv", lambda L, s: s.chunk(2, dim=-1)[1], "S", True),
        ("split_size", lambda L, x: x.split(2, dim=1)[-1], "X", True),
        ("split_sections", lambda L, x: L.split(x, [1, 4], dim=1)[1], "X", True),
        ("unbind", lambda L, x: x.unbind(0)[2], "X", True),
        ("flip", lambda L, x: L.flip(x, dims=[1]), "X", True),
        ("roll", lambda L, x: L.roll(x, 1, dims=0), "X", True),
        ("narrow_select", lambda L, x: x.narrow(1, 1, 2) + x.select(1, 0).unsqueeze(1), "X",
         True),
        ("movedim", lambda L, s: s.movedim(1, 0), "S", True),
        ("swapaxes", lambda L, s: s.swapaxes(0, 2), "S", True),
        ("broadcast_to", lambda L, v: L.broadcast_to(v, (2, 5)), "V", True),
        ("hstack_vstack", lambda L, x, y: L.hstack([x, y]).sum() + L.vstack([x, y]), "X,Y",
         True),
        ("positions", lambda L, s: L.arange(s.shape[1]).unsqueeze(0).expand(s.shape[0], -1), "S",
         False),
        ("shape_ops", lambda L, x: L.tensor([x.shape[0], x.size(-1), x.dim(), x.numel(),
                                             len(x), x.ndim]), "X", False),
        # ------------------------------------------------------------ indexing
        ("index_int", lambda L, x: x[0] + x[-1], "X", True),
        ("index_col", lambda L, x: x[:, 1], "X", True),
        ("index_ellipsis", lambda L, s: s[..., -1], "S", True),
        ("index_slices", lambda L, x: x[1:3, ::2], "X", True),
        ("index_tensor", lambda L, x, i: x[i], "X,I", True),
        ("index_list", lambda L, x: x[[0, 2, 2]], "X", True),
        ("index_cols_list", lambda L, x: x[:, [0, 3]], "X", True),
        ("index_pairs", lambda L, x, i: x[i, i], "X,I", True),
        ("index_mask", lambda L, x, m: x[m], "X,M", True),
        ("index_row_mask", lambda L, x: x[x[:, 0] > 0], "X", True),
        ("arange_gather", lambda L, x, y: x[L.arange(4), y], "X,L", True),
        ("setitem_mask", lambda L, x: _set(x, x > 0, 0.0), "X", True),
        ("setitem_col", lambda L, x, v: _set(x, (slice(None), 0), v[:4]), "X,V", True),
        ("setitem_row_tensor", lambda L, x, v: _set(x, 1, v * 2), "X,V", True),
        ("masked_fill_inf_softmax",
         lambda L, s: s.masked_fill(L.triu(L.ones(4, 4), 1).bool()[:3], float("-inf"))
         .softmax(-1), "S", True),
        ("causal_mask", lambda L, q: (q @ q.transpose(-2, -1) / math.sqrt(4)).masked_fill(
            L.tril(L.ones(3, 3)) == 0, float("-inf")).softmax(dim=-1), "Q", True),
        ("where", lambda L, x, y: L.where(x > 0, x, y), "X,Y", True),
        ("where_scalar", lambda L, x: L.where(x > 0, x, 0.0), "X", True),
        ("tensor_where", lambda L, x, y: x.where(x > y, y), "X,Y", True),
        ("where_single", lambda L, m: L.where(m)[1], "M", False),
        ("index_select", lambda L, x, i: x.index_select(0, i), "X,I", True),
        ("rl_gather", lambda L, x, a: x[:, :3].gather(1, a.unsqueeze(1)).squeeze(1), "X,A", True),
        ("one_hot_scatter", lambda L, y: L.zeros(4, 5).scatter(1, y.unsqueeze(1), 1.0), "L",
         False),
        ("one_hot_scatter_", lambda L, y: L.zeros(4, 5).scatter_(1, y.unsqueeze(1), 1.0), "L",
         False),
        ("scatter_add", lambda L, x, a: L.zeros(3, 5).scatter_add(0, a.unsqueeze(1).expand(-1, 5),
                                                                    x), "X,A", True),
        ("index_add", lambda L, x, a: L.zeros(3, 5).index_add(0, a, x), "X,A", True),
        ("take_along_dim", lambda L, x: L.take_along_dim(x, x.argsort(dim=1), dim=1), "X", True),
        ("nonzero", lambda L, m: m.nonzero(), "M", False),
        ("nonzero_tuple", lambda L, m: L.nonzero(m, as_tuple=True)[0], "M", False),
        ("masked_select", lambda L, x, m: x.masked_select(m), "X,M", True),
        ("count_masked_mean", lambda L, x, m: (x * m).sum() / m.sum(), "X,M", True),
        # ------------------------------------------------------------ arithmetic and math
        ("broadcast_arith", lambda L, x, v: (x + v) * 2 - 1 / (v.abs() + 1) + x / 3, "X,V",
         True),
        ("rsub_rdiv", lambda L, x: 2 - x + 1 / (x.abs() + 1), "X", True),
        ("pow_square", lambda L, x: x**2 + x.pow(3) + L.square(x) + x.square(), "X", True),
        ("pow_sqrt", lambda L, p: p.pow(0.5) + L.sqrt(p) + p.rsqrt() + L.rsqrt(p), "POS", True),
        ("neg", lambda L, x: -x + x.neg(), "X", True),
        ("matmul_linear", lambda L, x, w, b: x @ w.t() + b, "X,W,b", True),
        ("F_linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b), "X,W,b", True),
        ("mm_bmm", lambda L, x, s: x.mm(x.t()).sum() + L.bmm(s, s.transpose(1, 2)), "X,S",
         True),
        ("einsum_attention", lambda L, q: L.einsum("bhqd,bhkd->bhqk", q, q), "Q", True),
        ("einsum_outer", lambda L, v: L.einsum("i,j->ij", v, v), "V", True),
        ("outer", lambda L, v: L.outer(v, v), "V", True),
        ("matmul_vector", lambda L, x, v: L.matmul(x, v), "X,V", True),
        ("exp_log", lambda L, p: p.exp() + p.log() + L.log1p(p) + L.expm1(p) + p.log2()
         + p.log10(), "POS", True),
        ("trig", lambda L, x: x.sin() + x.cos() + L.tanh(x) + x.sigmoid() + L.atan2(x, x + 3),
         "X", True),
        ("clamp_min_kw", lambda L, x: x.clamp(min=0), "X", True),
        ("clamp_both", lambda L, x: L.clamp(x, -0.5, 0.5), "X", True),
        ("clamp_min_method", lambda L, p: p.clamp_min(1.0).log(), "POS", True),
        ("clamp_eps_log", lambda L, p: L.log(p.clamp(min=1e-6)), "PROB", True),
        ("clip", lambda L, x: L.clip(x, max=0.3), "X", True),
        ("clamp_tensor_bounds", lambda L, x, y: L.clamp(x, min=y), "X,Y", True),
        ("rounding", lambda L, x: L.stack([x.floor(), x.ceil(), x.round(), x.trunc(),
                                           x.frac()]), "X", False),
        ("sign_abs", lambda L, x: L.sign(x) * L.sqrt(x.abs()), "X", True),
        ("reciprocal", lambda L, p: p.reciprocal(), "POS", True),
        ("maximum_minimum", lambda L, x, y: L.maximum(x, y) - L.minimum(x, y), "X,Y", True),
        ("max_of_two", lambda L, x, y: L.max(x, y), "X,Y", True),
        ("remainder_floordiv", lambda L, p: L.stack([p % 0.7, p // 0.7, L.remainder(p, 0.3),
                                                     L.fmod(p, 0.3)]), "POS", False),
        ("integer_ops", lambda L, y: L.stack([y // 2, y % 3, y * 2, y + 1, -y]), "L", False),
        ("int_true_div", lambda L, y: y / 2, "L", False),
        ("lerp", lambda L, x, y: L.lerp(x, y, 0.3), "X,Y", True),
        ("erf_gelu_manual", lambda L, x: 0.5 * x * (1 + L.erf(x / math.sqrt(2))), "X", True),
        ("sinusoidal", lambda L: L.exp(L.arange(0, 8, 2).float() * (-math.log(10000.0) / 8)), "",
         False),
        ("hypot", lambda L, x, y: L.hypot(x, y), "X,Y", True),
        # ------------------------------------------------------------ comparisons and logic
        ("comparisons", lambda L, x, y: L.stack([x > y, x >= 0, x < y, x <= 0, x == y,
                                                 x != y]), "X,Y", False),
        ("compare_methods", lambda L, x, y: L.stack([x.eq(y), x.ne(y), x.gt(y), x.ge(y),
                                                     x.lt(y), x.le(y)]), "X,Y", False),
        ("logical", lambda L, m, x: L.stack([m & (x > 0), m | (x > 0), ~m, m ^ (x > 0),
                                            L.logical_and(m, x > 0), m.logical_not()]), "M,X",
         False),
        ("any_all", lambda L, m: L.stack([m.any(), m.all(), L.any(m), m.any(dim=1).all()]), "M",
         False),
        ("isclose", lambda L, x: L.isclose(x, x + 1e-9), "X", False),
        ("allclose_equal", lambda L, x, y: L.tensor([L.allclose(x, x), L.allclose(x, y),
                                                     L.equal(x, x.clone()), x.allclose(x)]),
         "X,Y", False),
        ("isnan_isinf", lambda L, x: L.stack([L.isnan(x / 0 * 0), L.isinf(x / 0), x.isfinite()]),
         "X", False),
        ("mask_float_mean", lambda L, x: (x > 0).float().mean(), "X", False),
        # ------------------------------------------------------------ reductions
        ("sum_variants", lambda L, x: x.sum() + x.sum(dim=1).sum() + x.sum(0, keepdim=True).sum()
         + x.sum((0, 1)), "X", True),
        ("mean_variants", lambda L, s: s.mean() + s.mean(-1).sum() + s.mean(dim=[1, 2]).sum(), "S",
         True),
        ("mean_keepdim", lambda L, x: x - x.mean(-1, keepdim=True), "X", True),
        ("std_var", lambda L, x: x.std() + x.var(0).sum() + x.std(1, keepdim=True).sum(), "X",
         True),
        ("std_unbiased_false", lambda L, x: x.std(0, unbiased=False), "X", True),
        ("var_correction", lambda L, x: x.var(dim=1, correction=0), "X", True),
        ("standardize", lambda L, x: (x - x.mean(0)) / (x.std(0) + 1e-5), "X", True),
        ("max_all", lambda L, x: x.max() + x.min(), "X", True),
        ("max_dim", lambda L, x: x.max(dim=1).values + x.max(1)[0] + x.min(dim=0)[0].sum(), "X",
         True),
        ("max_dim_indices", lambda L, x: x.max(dim=1).indices + x.min(1)[1], "X", False),
        ("max_keepdim_stable_softmax", lambda L, x: (x - x.max(dim=-1, keepdim=True).values)
         .exp(), "X", True),
        ("argmax_accuracy", lambda L, x, y: (x.argmax(dim=1) == y).float().mean(), "X,L", False),
        ("argmax_keepdim", lambda L, x: x.argmax(-1, keepdim=True) + x.argmin(), "X", False),
        ("amax_amin", lambda L, s: s.amax(dim=(1, 2)) + L.amin(s, -1).sum(), "S", True),
        ("prod", lambda L, x: x.prod() + x.prod(1).sum(), "X", True),
        ("norm", lambda L, x: x.norm() + x.norm(dim=1).sum() + L.norm(x, p=1), "X", True),
        ("norm_keepdim_normalize", lambda L, x: x / x.norm(p=2, dim=-1, keepdim=True), "X",
         True),
        ("linalg_norm", lambda L, x: L.linalg.norm(x, dim=-1), "X", True),
        ("logsumexp", lambda L, x: L.logsumexp(x, dim=1) + x.logsumexp(0).sum(), "X", True),
        ("cumsum_cumprod", lambda L, x: x.cumsum(0) + L.cumprod(x, dim=1), "X", True),
        ("position_ids", lambda L, m: L.cumsum(m.long(), dim=1) - 1, "M", False),
        ("softmax_variants", lambda L, x: L.softmax(x, dim=-1) + x.softmax(0)
         + L.nn.functional.softmax(x, dim=1), "X", True),
        ("log_softmax_nll", lambda L, x, y: -x.log_softmax(-1).gather(-1, y.unsqueeze(-1))
         .squeeze(-1).mean(), "X,L", True),
        ("median", lambda L, x: x.median(), "X", True),
        ("median_dim", lambda L, x: x.median(dim=1).values, "X", True),
        ("topk", lambda L, x: x.topk(2).values + x.topk(2, dim=1).indices, "X", True),
        ("topk_indices", lambda L, x: L.topk(x, 3, dim=0, largest=False).indices, "X", False),
        ("sort_desc", lambda L, x: x.sort(descending=True)[0], "X", True),
        ("argsort", lambda L, x: L.argsort(x, dim=0), "X", False),
        ("unique_counts", lambda L, y: L.unique(y, return_counts=True)[1], "A", False),
        ("count_nonzero", lambda L, m: L.count_nonzero(m, dim=0), "M", False),
        ("sum_int", lambda L, m: m.sum() + m.int().sum(), "M", False),
        ("item_and_tolist", lambda L, x: L.tensor([x.sum().item(), x.max().item()]
                                                  + x[0].tolist()), "X", False),
        # ------------------------------------------------------------ nn.functional
        ("activations", lambda L, x: _act(L, x), "X", True),
        ("leaky_relu_gelu_tanh", lambda L, x: L.nn.functional.leaky_relu(x, 0.2)
         + L.nn.functional.gelu(x, approximate="tanh"), "X", True),
        ("softplus_beta", lambda L, x: L.nn.functional.softplus(x, beta=2), "X", True),
        ("dropout_eval", lambda L, x: L.nn.functional.dropout(x, p=0.5, training=False), "X",
         True),
        ("one_hot", lambda L, y: L.nn.functional.one_hot(y, num_classes=6), "L", False),
        ("one_hot_float", lambda L, y: L.nn.functional.one_hot(y).float(), "L", False),
        ("cross_entropy", lambda L, x, y: L.nn.functional.cross_entropy(x, y), "X,L", True),
        ("cross_entropy_smoothing", lambda L, x, y: L.nn.functional.cross_entropy(
            x, y, label_smoothing=0.1, reduction="sum"), "X,L", True),
        ("cross_entropy_ignore", lambda L, x, y: L.nn.functional.cross_entropy(
            x, L.where(y == 0, L.full_like(y, -100), y)), "X,L", True),
        ("nll_loss", lambda L, x, y: L.nn.functional.nll_loss(
            L.nn.functional.log_softmax(x, dim=1), y), "X,L", True),
        ("mse_l1_smooth", lambda L, x, y: L.nn.functional.mse_loss(x, y)
         + L.nn.functional.l1_loss(x, y) + L.nn.functional.smooth_l1_loss(x, y), "X,Y", True),
        ("bce_logits", lambda L, v, t: L.nn.functional.binary_cross_entropy_with_logits(v, t),
         "V,T", True),
        ("bce", lambda L, p, x: L.nn.functional.binary_cross_entropy(p, (x > 0).float()),
         "PROB,X", True),
        ("kl_div_batchmean", lambda L, x, y: L.nn.functional.kl_div(
            x.log_softmax(-1), y.softmax(-1), reduction="batchmean"), "X,Y", True),
        ("normalize", lambda L, x: L.nn.functional.normalize(x, dim=-1), "X", True),
        ("layer_norm", lambda L, x: L.nn.functional.layer_norm(x, (5,)), "X", True),
        ("embedding", lambda L, w, y: L.nn.functional.embedding(y[:3] % 3, w), "W,L", True),
        ("pad", lambda L, x: L.nn.functional.pad(x, (1, 2), value=-1.0), "X", True),
        ("interpolate", lambda L, im: L.nn.functional.interpolate(im, scale_factor=2,
                                                                  mode="nearest"), "IMG", True),
        ("cosine_similarity", lambda L, x, y: L.nn.functional.cosine_similarity(x, y, dim=-1),
         "X,Y", True),
        ("glu_hardtanh", lambda L, x: L.nn.functional.glu(x[:, :4]).sum()
         + L.nn.functional.hardtanh(x), "X", True),
        ("sdpa", lambda L, q: L.nn.functional.scaled_dot_product_attention(q, q, q,
                                                                           is_causal=True), "Q",
         True),
        ("avg_max_pool", lambda L, im: L.nn.functional.max_pool2d(im, 2)
         + L.nn.functional.avg_pool2d(im, 2), "IMG", True),
        ("adaptive_avg_pool", lambda L, im: L.nn.functional.adaptive_avg_pool2d(im, 1)
         .flatten(1), "IMG", True),
        ("conv2d", lambda L, im: L.nn.functional.conv2d(im, im[:2, :, :3, :3], padding=1), "IMG",
         True),
        # ------------------------------------------------------------ in place
        ("inplace_arith", lambda L, x, y: x.clone().add_(y).mul_(2).sub_(1).div_(4), "X,Y", True),
        ("inplace_alpha", lambda L, x, y: x.clone().add_(y, alpha=-0.5), "X,Y", True),
        ("augmented", lambda L, x, y: _augmented(x.clone(), y), "X,Y", True),
        ("inplace_clamp_fill", lambda L, x: x.clone().clamp_(-0.5, 0.5), "X", True),
        ("zero_fill", lambda L, x: x.clone().zero_() + x.clone().fill_(2.0), "X", False),
        ("copy_", lambda L, x, y: x.clone().copy_(y), "X,Y", True),
        ("masked_fill_", lambda L, x, m: x.clone().masked_fill_(m, 0.0), "X,M", True),
        ("unary_inplace", lambda L, x: x.clone().sigmoid_() + x.clone().tanh_()
         + x.clone().exp_(), "X", True),
        ("scatter_inplace", lambda L, x, a: x.clone().index_add_(0, a[:2], x[:2]), "X,A", True),
        ("setitem_scalar", lambda L, x: _set(x, (0, 0), 5.0), "X", True),
        # ------------------------------------------------------------ misc
        ("triu_tril", lambda L, x: x.triu(1) + L.tril(x, -1), "X", True),
        ("diag_trace_like", lambda L, x: L.diag(x[:, :4]).sum() + L.diagonal(x[:, :4]), "X", True),
        ("diag_embed", lambda L, v: L.diag(v) + L.diag_embed(v).sum(0), "V", True),
        ("tril_indices", lambda L: L.tril_indices(3, 3, -1), "", False),
        ("cdist_topk", lambda L, x, y: L.cdist(x, y).topk(2, largest=False).indices, "X,Y",
         False),
        ("cdist", lambda L, x, y: L.cdist(x, y), "X,Y", True),
        ("bucketize", lambda L, x: L.bucketize(x, L.tensor([-1.0, 0.0, 1.0])), "X", False),
        ("searchsorted", lambda L, v: L.searchsorted(L.tensor([-1.0, 0.0, 1.0]), v), "V", False),
        ("meshgrid", lambda L, v: L.meshgrid(v, v[:3], indexing="xy")[0], "V", True),
        ("ensemble_mean", lambda L, x, y: L.stack([x, y, x * y]).mean(0), "X,Y", True),
        ("python_sum", lambda L, x, y: sum([x, y, x]), "X,Y", True),
        ("scalar_tensor_item", lambda L: L.tensor([L.tensor(3.5).item()]), "", False),
        ("detach_clone", lambda L, x: x.detach().clone() * x, "X", True),
        ("linalg_inv_det", lambda L, x: L.linalg.inv(x[:, :4] @ x[:, :4].T + L.eye(4)).sum()
         + L.det(x[:, :4]), "X", True),
        # ------------------------------------------------------------ dtype promotion
        ("int_times_float", lambda L, y: y * 1.5, "L", False),
        ("bool_plus_int", lambda L, m: m + 1, "M", False),
        ("float32_plus_float64", lambda L, x: x + x.double(), "X", True),
        ("uint8_plus_int", lambda L, y: y.to(L.uint8) + 1, "L", False),
        ("int64_plus_int32", lambda L, y: y + y.int(), "L", False),
        ("float_plus_0d_double", lambda L, x: x + L.tensor(2.0, dtype=L.float64), "X", True),
        ("int_plus_0d_float", lambda L, y: y + L.tensor(0.5), "L", False),
        ("half_math", lambda L, x: (x.half() * 2 + 1).float(), "X", True),
        ("bool_sum_mean", lambda L, m: m.float().mean() + m.sum(), "M", False),
        # ------------------------------------------------------------ sorting, counting
        ("kthvalue", lambda L, x: x.kthvalue(2, dim=1).values, "X", True),
        ("msort", lambda L, x: L.msort(x), "X", True),
        ("sort_stable", lambda L, y: y.sort(stable=True).indices, "A", False),
        ("mode", lambda L, a: L.mode(a).values + a.mode().indices, "A", False),
        ("unique_dim", lambda L, y: L.unique(L.stack([y, y, y % 2]), dim=0), "L", False),
        ("unique_inverse", lambda L, y: y.unique(return_inverse=True)[1], "A", False),
        ("searchsorted_right", lambda L, x: L.searchsorted(x.sort().values, x, right=True), "X",
         False),
        ("bincount", lambda L, y: y.bincount(minlength=6), "L", False),
        ("histc", lambda L, x: L.histc(x, bins=4, min=-2, max=2), "X", False),
        # ------------------------------------------------------------ more in place
        ("scatter_reduce_add", lambda L, x, a: x.clone().scatter_(
            0, a[:2].unsqueeze(1).expand(-1, 5), x[:2], reduce="add"), "X,A", False),
        ("index_copy_fill", lambda L, x, a: x.clone().index_copy_(0, a[:2] + 1, x[:2])
         .index_fill_(1, a[:2], -1.0), "X,A", True),
        ("masked_scatter", lambda L, x, m, y: x.masked_scatter(m, y), "X,M,Y", True),
        ("put_", lambda L, x, y: x.clone().put_(L.tensor([0, 7, 19]), y[0, :3]), "X,Y", True),
        ("fill_diagonal_", lambda L, x: x.clone().fill_diagonal_(0.0), "X", True),
        ("unsqueeze_", lambda L, x: (x * 2).unsqueeze_(0).transpose_(0, 1), "X", True),
        # ------------------------------------------------------------ legacy and info
        ("legacy_types", lambda L, x: L.LongTensor([1, 2]) + x.new(2).zero_().long()
         + L.FloatTensor(2).zero_().type(L.LongTensor), "X", False),
        ("type_string", lambda L, x: x.type("torch.DoubleTensor"), "X", True),
        ("finfo_iinfo", lambda L: L.tensor([L.finfo(L.float32).eps, L.finfo().tiny,
                                            float(L.iinfo(L.int32).max)]), "", False),
        ("device_type", lambda L, x: x.to(x.device) * (x.device.type == "cpu"), "X", True),
        ("numel_is_fp", lambda L, x: L.tensor([L.numel(x), L.is_floating_point(x)]), "X", False),
        ("trace", lambda L, x: L.trace(x) + x.trace(), "X", True),
        # ------------------------------------------------------------ linalg
        ("solve", lambda L, x, v: L.linalg.solve(x[:, :4] + 3 * L.eye(4), v[:4]), "X,V", True),
        ("cholesky", lambda L, x: L.linalg.cholesky(x @ x.T + L.eye(4)), "X", True),
        ("eigh", lambda L, x: L.linalg.eigh(x @ x.T).eigenvalues, "X", True),
        ("svdvals", lambda L, x: L.linalg.svdvals(x), "X", True),
        ("qr", lambda L, x: L.linalg.qr(x.T).R.abs(), "X", True),
        ("pinv", lambda L, x: L.linalg.pinv(x), "X", True),
        ("matrix_power", lambda L, x: L.linalg.matrix_power(x[:, :4], 3), "X", True),
        ("slogdet", lambda L, x: L.linalg.slogdet(x[:, :4]).logabsdet, "X", True),
        # ------------------------------------------------------------ resampling, distances
        ("interpolate_bilinear", lambda L, im: L.nn.functional.interpolate(
            im, size=(5, 7), mode="bilinear", align_corners=True), "IMG", True),
        ("interpolate_linear", lambda L, s: L.nn.functional.interpolate(s, scale_factor=1.5,
                                                                        mode="linear"), "S",
         True),
        ("pixel_shuffle", lambda L, im: L.nn.functional.pixel_shuffle(im[:, :1].repeat(
            1, 4, 1, 1), 2), "IMG", True),
        ("pad_reflect", lambda L, im: L.nn.functional.pad(im, (1, 1, 2, 0), mode="reflect"),
         "IMG", True),
        ("pairwise_distance", lambda L, x, y: L.nn.functional.pairwise_distance(x, y), "X,Y",
         True),
        ("pdist", lambda L, x: L.pdist(x), "X", True),
        ("cartesian_prod", lambda L, v: L.cartesian_prod(v[:2], v[2:]), "V", True),
        ("dist", lambda L, x, y: L.dist(x, y) + x.dist(y, 1) + L.dist(x, y, float("inf")),
         "X,Y", True),
        ("diagflat_triu_indices", lambda L, v: L.diagflat(v[:3])[L.triu_indices(3, 3)[0]], "V",
         True),
        # ------------------------------------------------------------ layout, NumPy names
        ("is_contiguous_stride", lambda L, x: L.tensor([x.t().is_contiguous(), *x.stride()]),
         "X", False),
        ("nbytes_itemsize", lambda L, x: L.tensor([x.nbytes, x.itemsize]), "X", False),
        ("sum_axis_keepdims", lambda L, x: x.sum(axis=0, keepdims=True), "X", True),
        ("dtype_attributes", lambda L, x, y: L.tensor([
            x.dtype.is_floating_point, y.dtype.is_floating_point, x.dtype.itemsize,
            y.dtype.is_signed, L.float16.is_floating_point, x.dtype is L.float32,
            x.dtype == L.float32, y.dtype in (L.int64, L.long), L.bool.is_signed]), "X,L", False),
        ("nansum_nanmean", lambda L, x: L.nansum(x / (x > 0)) + x.nanmean(), "X", False),
        ("aminmax", lambda L, x: L.aminmax(x, dim=1).max, "X", False),
        ("nan_to_num", lambda L, x: L.nan_to_num(x / 0, posinf=1.0), "X", False),
        ("addcmul_addcdiv", lambda L, x, y: L.addcmul(x, x, y, value=0.5)
         + L.addcdiv(x, x, y.abs() + 1), "X,Y", True),
        ("broadcast_tensors", lambda L, x, v: L.broadcast_tensors(x, v)[1], "X,V", True),
        ("swapdims_t", lambda L, s: L.swapdims(s, 0, 1) + L.t(s[0]).sum(), "S", True),
        ("ravel", lambda L, x: x.ravel(), "X", True),
        ("tensor_unfold", lambda L, v: v.unfold(0, 2, 1), "V", True),
        ("column_stack_dstack", lambda L, v: L.column_stack([v, v]) + L.dstack([v, v])[0], "V",
         True),
        ("scatter_reduce", lambda L, x, a: L.zeros(3, 5).scatter_reduce(
            0, a.unsqueeze(1).expand(-1, 5), x, reduce="amax", include_self=False), "X,A", True),
        ("scatter_multiply", lambda L, x, a: x[:3].scatter(0, a.unsqueeze(1).expand(-1, 5), x,
                                                          reduce="multiply"), "X,A", False),
    ]


def _model_idioms():
    """Idioms as they appear in real model code: DCGAN, ResNet, VAE, seq2seq attention, policy
    gradients, transformers, detection, contrastive learning, GNN message passing."""
    return [
        # ------------------------------------------------------------ DCGAN
        ("dcgan_generator", _dcgan_generator, "Z,KT,G", True),
        ("dcgan_discriminator_loss", _dcgan_discriminator_loss, "IMG,K", True),
        ("wgan_gradient_penalty", _gradient_penalty, "IMG,K", True),
        # ------------------------------------------------------------ ResNet
        ("resnet_basic_block", _resnet_block, "IMG,K,K1,G", True),
        ("resnet_stem_and_head", lambda L, x, k: L.flatten(L.nn.functional.adaptive_avg_pool2d(
            L.nn.functional.max_pool2d(L.relu(L.nn.functional.conv2d(x, k, padding=1)), 3, 2, 1),
            (1, 1)), 1), "IMG,K", True),
        ("batch_norm_running_stats", _batch_norm_running, "IMG,G", True),
        ("group_instance_layer_norm", lambda L, x, g: L.nn.functional.group_norm(x, 3, g)
         + L.nn.functional.instance_norm(x) + L.nn.functional.layer_norm(x, x.shape[1:]),
         "IMG,G", True),
        ("avg_pool_ceil_no_pad", lambda L, x: L.nn.functional.avg_pool2d(
            x, 3, 2, 1, ceil_mode=True, count_include_pad=False), "IMG", True),
        ("unet_up_concat", lambda L, x: L.cat([L.nn.functional.interpolate(
            x[:, :, ::2, ::2], scale_factor=2, mode="nearest"), x], dim=1), "IMG", True),
        ("upsample_pixelshuffle_pad_modules", lambda L, x: L.nn.ReflectionPad2d(1)(
            L.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)(x)).sum()
         + L.nn.PixelShuffle(2)(L.nn.ZeroPad2d((1, 0, 1, 0))(x).repeat(1, 4, 1, 1)[:, :8]),
         "IMG", True),
        # ------------------------------------------------------------ VAE
        ("vae_reparameterize_loss", _vae_loss, "X,Y,EPS,PROB", True),
        ("vae_kl_distributions", lambda L, mu, logvar: L.distributions.kl_divergence(
            L.distributions.Normal(mu, (0.5 * logvar).exp()),
            L.distributions.Normal(L.zeros_like(mu), L.ones_like(mu))).sum(1).mean(), "X,Y",
         True),
        # ------------------------------------------------------------ seq2seq attention
        ("bahdanau_attention", _bahdanau, "H,ENC,WA,V,SRC_LEN", True),
        ("luong_dot_attention", lambda L, h, enc: L.bmm(
            L.softmax(L.bmm(enc, h.unsqueeze(2)).squeeze(2), dim=1).unsqueeze(1), enc)
         .squeeze(1), "H,ENC", True),
        ("teacher_forcing_ce", lambda L, s, t: L.nn.functional.cross_entropy(
            s.view(-1, 4), (t[:, :3] % 4).reshape(-1), ignore_index=0), "S,TOK", True),
        ("ce_class_dim_1", lambda L, s, t: L.nn.functional.cross_entropy(
            s.transpose(1, 2), t[:, :3] % 4, reduction="none"), "S,TOK", True),
        # ------------------------------------------------------------ reinforcement learning
        ("reinforce_categorical", _reinforce, "X,A,R", True),
        ("actor_critic_normal", lambda L, x, p, y: -(L.distributions.Normal(x[:, 0], p[:, 0])
                                                     .log_prob(y[:, 0]) * y[:, 1]).mean()
         + 0.5 * (x[:, 1] - y[:, 2]).pow(2).mean(), "X,POS,Y", True),
        ("bernoulli_policy", lambda L, x, t: L.distributions.Bernoulli(logits=x[0])
         .log_prob(t).sum() + L.distributions.Bernoulli(logits=x[0]).entropy().sum(), "X,T",
         True),
        ("ppo_clipped_objective", _ppo, "X,Y,R", True),
        ("dqn_td_target", lambda L, q, q2, a, r: L.nn.functional.smooth_l1_loss(
            q[:, :3].gather(1, a.unsqueeze(1)).squeeze(1),
            r + 0.99 * q2[:, :3].max(1)[0].detach()), "X,Y,A,R", True),
        # ------------------------------------------------------------ transformers
        ("nanogpt_causal_attention", _causal_attention, "Q", True),
        ("rms_norm_manual", lambda L, x, g: x * L.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
         * g, "X,V", True),
        ("rotary_embedding", _rotary, "S", True),
        ("top_k_filter_sampling_probs", _top_k_probs, "X", True),
        ("token_embedding_positions", lambda L, w, t: L.nn.functional.embedding(t % 3, w)
         + L.arange(4).unsqueeze(-1).float() * 0.1, "W,TOK", True),
        ("padding_mask", lambda L, t: (t != 0).unsqueeze(1).unsqueeze(2).expand(-1, 1, 4, -1),
         "TOK", False),
        ("masked_mean_pool", lambda L, s, t: (s * (t[:, :3] != 0).float().unsqueeze(-1)).sum(1)
         / (t[:, :3] != 0).sum(1, keepdim=True).clamp(min=1), "S,TOK", True),
        ("beam_search_step", lambda L, x: L.stack([x.view(-1).topk(3)[1] // 5,
                                                   x.view(-1).topk(3)[1] % 5,
                                                   L.div(x.view(-1).topk(3)[1], 5,
                                                         rounding_mode="floor")]), "X", False),
        ("beam_scores", lambda L, x: x.log_softmax(-1).view(-1).topk(3).values, "X", True),
        ("vit_patchify_unfold", lambda L, x: x.unfold(2, 2, 2).unfold(3, 2, 2)
         .permute(0, 2, 3, 1, 4, 5).reshape(2, 4, 12), "IMG", True),
        ("vit_conv_patch_cls_token", lambda L, x, k, v: L.cat([
            v[:4].view(1, 1, 4).expand(2, -1, -1),
            L.nn.functional.conv2d(x, k[:, :, :2, :2], stride=2).flatten(2).transpose(1, 2)],
            dim=1), "IMG,K,V", True),
        ("gelu_tanh_manual", lambda L, x: 0.5 * x * (1 + L.tanh(math.sqrt(2 / math.pi)
                                                                * (x + 0.044715 * x.pow(3)))),
         "X", True),
        ("swiglu", lambda L, x, y: L.nn.functional.silu(x) * y, "X,Y", True),
        ("temperature_gumbel_free_sample_probs", lambda L, x: L.softmax(x / 0.7, dim=-1)
         .cumsum(-1), "X", True),
        # ------------------------------------------------------------ recurrent cells by hand
        ("gru_cell_manual", _gru_cell, "ENC,H,WA", True),
        ("lstm_cell_manual", lambda L, s, h: _lstm_cell(L, s, h), "S,H", True),
        ("conv1d_causal_dilated", lambda L, s, q: L.nn.functional.conv1d(
            L.nn.functional.pad(s.transpose(1, 2), (4, 0)), q[0].transpose(1, 2), dilation=2),
         "S,Q", True),
        # ------------------------------------------------------------ losses in the wild
        ("label_smoothing_manual", lambda L, x, y: -((L.nn.functional.one_hot(y, 5) * 0.9
                                                      + 0.02) * L.nn.functional.log_softmax(
            x, -1)).sum(-1).mean(), "X,L", True),
        ("focal_loss", lambda L, x, y: ((1 - L.exp(-L.nn.functional.cross_entropy(
            x, y, reduction="none"))) ** 2 * L.nn.functional.cross_entropy(
            x, y, reduction="none")).mean(), "X,L", True),
        ("info_nce", lambda L, x, y: L.nn.functional.cross_entropy(
            L.nn.functional.normalize(x, dim=1) @ L.nn.functional.normalize(y, dim=1).T / 0.1,
            L.arange(4)), "X,Y", True),
        ("triplet_manual_and_builtin", lambda L, x, y, e: L.relu(
            (x - y).pow(2).sum(1) - (x - e).pow(2).sum(1) + 1.0).mean()
         + L.nn.functional.triplet_margin_loss(x, y, e), "X,Y,EPS", True),
        ("dice_loss", lambda L, x, y: 1 - (2 * (L.sigmoid(x) * (y > 0).float()).sum() + 1)
         / (L.sigmoid(x).sum() + (y > 0).float().sum() + 1), "X,Y", True),
        ("kl_log_target_huber_gaussian_nll", lambda L, x, y, p: L.nn.functional.kl_div(
            x.log_softmax(-1), y.log_softmax(-1), reduction="batchmean", log_target=True)
         + L.nn.functional.huber_loss(x, y, delta=0.5)
         + L.nn.functional.gaussian_nll_loss(x, y, p), "X,Y,POS", True),
        ("bce_pos_weight", lambda L, x, t: L.nn.functional.binary_cross_entropy_with_logits(
            x, t.expand(4, 5), pos_weight=L.full((5,), 2.0)), "X,T", True),
        ("nll_class_weights", lambda L, x, y: L.nn.functional.nll_loss(
            x.log_softmax(1), y, weight=L.tensor([1.0, 2.0, 0.5, 1.0, 3.0])), "X,L", True),
        ("cross_entropy_soft_targets", lambda L, x, y: L.nn.functional.cross_entropy(
            x, y.softmax(-1)), "X,Y", True),
        # ------------------------------------------------------------ detection, geometry
        ("box_iou", _box_iou, "BOX", True),
        ("rbf_kernel", lambda L, x, y: L.exp(-L.cdist(x, y).pow(2) / 2), "X,Y", True),
        ("grad_norm_clip_coef", lambda L, x, y: (1.0 / (L.norm(L.stack([x.norm(2), y.norm(2)]),
                                                              2) + 1e-6)).clamp(max=1.0) * x,
         "X,Y", True),
        # ------------------------------------------------------------ graphs, sets, augmentations
        ("gnn_message_passing", lambda L, x: L.zeros(3, 5).index_add(
            0, L.tensor([0, 1, 2, 0]), x[L.tensor([1, 2, 3, 3])]) / L.bincount(
            L.tensor([0, 1, 2, 0]), minlength=3).clamp(min=1).unsqueeze(1), "X", True),
        ("gnn_scatter_mean_max", lambda L, x: L.zeros(2, 5).scatter_reduce(
            0, L.tensor([0, 1, 1, 0]).unsqueeze(1).expand(-1, 5), x, reduce="mean",
            include_self=False) + L.zeros(2, 5).scatter_reduce(
            0, L.tensor([1, 1, 0, 0]).unsqueeze(1).expand(-1, 5), x, reduce="amax",
            include_self=False), "X", True),
        ("embedding_bag_sum_offsets", lambda L, w, t: L.nn.functional.embedding_bag(
            t.view(-1) % 3, w, L.tensor([0, 3, 5]), mode="sum"), "W,TOK", True),
        ("mixup", lambda L, x: 0.3 * x + 0.7 * x[L.tensor([2, 0, 3, 1])], "X", True),
        ("ema_update_no_grad", _ema, "X,Y", False),
        ("cutout_mask", lambda L, x: x * (1 - L.nn.functional.pad(
            L.ones(1, 1, 2, 2), (1, 1, 0, 2))), "IMG", True),
        ("nan_safe_log", lambda L, p: L.log(p.clamp(min=1e-8)).nan_to_num(neginf=-20.0), "PROB",
         True),
        ("running_quantile_clip", lambda L, x: x.clamp(max=L.quantile(x, 0.9).item()), "X",
         True),
        ("logcumsumexp_cummax", lambda L, x: x.logcumsumexp(1) + x.cummax(1).values, "X", True),
        ("entropy_xlogy", lambda L, p: -L.xlogy(p, p).sum(-1), "PROB", True),
        ("similarity_modules", lambda L, x, y: L.nn.CosineSimilarity(dim=1)(x, y)
         + L.nn.PairwiseDistance(p=1.0)(x, y), "X,Y", True),
        ("fold_unfold_modules", lambda L, x: L.nn.Fold((4, 4), 2, stride=2)(
            L.nn.Unfold(2, stride=2)(x) * 2), "IMG", True),
        ("channel_shuffle_softmax2d", lambda L, x: L.nn.Softmax2d()(
            L.nn.ChannelShuffle(3)(x.repeat(1, 2, 1, 1))), "IMG", True),
    ]


def _dcgan_generator(L, z, w, g):
    F = L.nn.functional
    h = F.conv_transpose2d(z, w, stride=1, padding=0)  # (2, 3, 4, 4)
    h = F.relu(F.batch_norm(h, None, None, g, None, training=True))
    return L.tanh(F.conv_transpose2d(h, w[:3, :2], stride=2, padding=1))  # (2, 2, 8, 8)


def _critic(L, img, k, smooth=False):
    F = L.nn.functional
    h = F.conv2d(img, k, stride=2, padding=1)  # (2, 4, 2, 2)
    # A smooth activation for the gradient penalty, whose own gradient then depends on img
    # (through leaky_relu it would be zero: torch returns zeros there, retrograd None).
    h = F.silu(h) if smooth else F.leaky_relu(h, 0.2)
    return h.mean((1, 2, 3))


def _dcgan_discriminator_loss(L, img, k):
    F = L.nn.functional
    real = _critic(L, img, k).view(-1)
    fake = _critic(L, L.tanh(img.flip(3)).detach(), k).view(-1)
    return (F.binary_cross_entropy_with_logits(real, L.full((2,), 1.0))
            + F.binary_cross_entropy_with_logits(fake, L.zeros_like(fake)))


def _gradient_penalty(L, img, k):
    d = _critic(L, img, k, smooth=True)
    (grads,) = L.autograd.grad(d, img, grad_outputs=L.ones_like(d), create_graph=True)
    return ((grads.view(2, -1).norm(2, dim=1) - 1) ** 2).mean()


def _resnet_block(L, x, k, k1, g):
    F = L.nn.functional
    out = F.relu(F.batch_norm(F.conv2d(x, k, padding=1), None, None, g.repeat(2)[:4], None,
                              training=True))
    shortcut = F.conv2d(x, k1, stride=1)
    return F.relu(out + shortcut)


def _batch_norm_running(L, x, g):
    running_mean, running_var = L.zeros(3), L.ones(3)
    out = L.nn.functional.batch_norm(x, running_mean, running_var, g, None, training=True,
                                     momentum=0.1)
    return out.mean((0, 2, 3)) + running_mean + running_var


def _vae_loss(L, mu, logvar, eps, target):
    F = L.nn.functional
    std = L.exp(0.5 * logvar)
    z = mu + eps * std
    recon = F.binary_cross_entropy(L.sigmoid(z), target, reduction="sum")
    kld = -0.5 * L.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return recon + kld


def _bahdanau(L, hidden, enc, w, v, src_len):
    F = L.nn.functional
    h = hidden.unsqueeze(1).repeat(1, enc.shape[1], 1)
    energy = L.tanh(L.cat((h, enc), dim=2) @ w.t())
    scores = L.sum(v[:4] * energy, dim=2)
    mask = L.arange(enc.shape[1])[None, :] < src_len[:, None]
    weights = F.softmax(scores.masked_fill(mask == 0, -1e10), dim=1)
    return L.bmm(weights.unsqueeze(1), enc).squeeze(1)


def _reinforce(L, x, actions, rewards):
    discounted, g = [], 0.0
    for r in reversed(rewards.tolist()):
        g = r + 0.99 * g
        discounted.insert(0, g)
    returns = L.tensor(discounted)
    returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    dist = L.distributions.Categorical(logits=x[:, :3])
    return -(dist.log_prob(actions) * returns).sum() - 0.01 * dist.entropy().mean()


def _ppo(L, new, old, advantages):
    dist_new = L.distributions.Categorical(logits=new[:, :3])
    dist_old = L.distributions.Categorical(logits=old[:, :3].detach())
    actions = L.tensor([0, 2, 1, 1])
    ratio = L.exp(dist_new.log_prob(actions) - dist_old.log_prob(actions))
    clipped = L.clamp(ratio, 0.8, 1.2)
    return -L.min(ratio * advantages, clipped * advantages).mean()


def _causal_attention(L, q):
    b, h, t, d = q.shape
    k, v = q.flip(2), q * 0.5
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
    mask = L.tril(L.ones(t, t)).view(1, 1, t, t)
    att = L.nn.functional.softmax(att.masked_fill(mask[:, :, :t, :t] == 0, float("-inf")), -1)
    return (att @ v).transpose(1, 2).contiguous().view(b, t, h * d)


def _rotary(L, x):
    inv_freq = 1.0 / (10000 ** (L.arange(0, 4, 2).float() / 4))
    freqs = L.outer(L.arange(x.shape[1]).float(), inv_freq)
    cos, sin = freqs.cos(), freqs.sin()
    x1, x2 = x[..., ::2], x[..., 1::2]
    return L.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


def _top_k_probs(L, logits):
    v, _ = L.topk(logits, 2)
    out = logits.clone()
    out[out < v[:, [-1]]] = -float("inf")
    return L.nn.functional.softmax(out / 0.8, dim=-1)


def _gru_cell(L, enc, h, w):
    x = enc[:, 0]
    xh = L.cat([x, h], dim=1)
    z = L.sigmoid(xh @ w.t())
    n = L.tanh(xh @ w.flip(0).t())
    return (1 - z) * n + z * h


def _lstm_cell(L, s, h):
    gates = s.reshape(2, 12)
    i, f, g, o = gates.chunk(4, 1)
    c = L.sigmoid(f) * h[:, :3] + L.sigmoid(i) * L.tanh(g)
    return L.sigmoid(o) * L.tanh(c)


def _box_iou(L, b):
    lt = L.max(b[:, None, :2], b[None, :, :2])
    rb = L.min(b[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area[:, None] + area[None, :] - inter)


def _ema(L, x, y):
    ema = x.clone()
    with L.no_grad():
        ema.mul_(0.99).add_(y.detach(), alpha=0.01)
    return ema


def _act(L, x):
    F = L.nn.functional
    return (F.relu(x) + F.gelu(x) + F.silu(x) + F.elu(x) + F.sigmoid(x) + F.tanh(x)
            + F.softplus(x) + F.relu6(x) + F.hardswish(x) + F.mish(x) + F.selu(x) + F.celu(x)
            + F.logsigmoid(x) + F.softsign(x) + L.relu(x) + x.relu())


def _set(x, index, value):
    y = x.clone()
    y[index] = value
    return y


def _augmented(x, y):
    x += y
    x *= 2
    x -= y
    x /= 3
    return x


# Idioms retrograd does not support yet; each names the module that would hold it. They run as
# non-strict expected failures, so they start passing (XPASS) as the gaps are filled.
GAPS = [
    ("data_is_a_tensor", lambda L, x: x.clone().data.mul_(2), "X", False,
     "Tensor.data is the NumPy array (autograd/tensor.py), not a Tensor"),
]

IDIOMS = _idioms() + _model_idioms()
PARAMS = [pytest.param(*case, id=case[0]) for case in IDIOMS] + [
    pytest.param(*case[:4], id=case[0], marks=pytest.mark.xfail(reason=case[4]))
    for case in GAPS
]


def _convert(lib, name):
    array = DATA[name]
    if lib is rg:
        return rg.tensor(array.copy())
    return torch.tensor(array.copy())


def _as_numpy(value):
    if isinstance(value, rg.Tensor):
        return value.data, str(value.dtype)
    if isinstance(value, torch.Tensor):
        return value.detach().numpy(), str(value.dtype).removeprefix("torch.")
    raise AssertionError(f"unexpected output type {type(value).__name__}")


def _assert_same(ours, theirs, name):
    a, a_dtype = _as_numpy(ours)
    b, b_dtype = _as_numpy(theirs)
    assert a_dtype == b_dtype, f"{name}: dtype {a_dtype}, torch gives {b_dtype}"
    assert a.shape == b.shape, f"{name}: shape {a.shape}, torch gives {b.shape}"
    if a.dtype.kind == "f":
        tol = 2e-3 if a.dtype == np.float16 else 1e-5
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)
    else:
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # idioms that divide by zero on purpose
@pytest.mark.parametrize("name,fn,inputs,differentiable", PARAMS)
def test_idiom_matches_torch(name, fn, inputs, differentiable):
    names = [n for n in inputs.split(",") if n]
    ours_in = [_convert(rg, n) for n in names]
    theirs_in = [_convert(torch, n) for n in names]
    if differentiable:
        for t in ours_in + theirs_in:
            if t.is_floating_point():
                t.requires_grad_(True)
    ours, theirs = fn(rg, *ours_in), fn(torch, *theirs_in)
    _assert_same(ours, theirs, name)
    if not differentiable:
        return
    assert ours.requires_grad == theirs.requires_grad, name
    weights = np.random.default_rng(1).standard_normal(ours.shape)
    (ours * rg.tensor(weights, dtype=ours.dtype)).sum().backward()
    (theirs * torch.tensor(weights, dtype=theirs.dtype)).sum().backward()
    for k, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b.grad is None:
            assert a.grad is None, f"{name}: input {k} got a gradient, torch gives none"
            continue
        assert a.grad is not None, f"{name}: input {k} got no gradient"
        _assert_same(a.grad, b.grad, f"{name} gradient {k}")
