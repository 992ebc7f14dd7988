"""The autocast op policy, as data: which primitives run in the low-precision dtype and which
in float32. Names are `Op.name`s from the registry (tests check that each one exists).

Like PyTorch's autocast lists: matrix products and convolutions gain from low precision and
tolerate it; reductions, softmax, normalization, losses, exp/log/pow and linear algebra need
float32's range or precision. Ops in neither list run in whatever dtype their inputs have
(elementwise ops on low-precision activations stay low precision).
"""

LOWER_PRECISION = (
    "linear",
    "matmul",
    "einsum",
    "conv2d",
    "conv_transpose2d",
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_masked",
)

FLOAT32 = (
    # reductions
    "sum",
    "mean",
    "prod",
    "cumsum",
    "cumprod",
    "norm",
    "logsumexp",
    "softmax",
    "log_softmax",
    # normalization
    "standardize",
    "standardize_affine",
    # losses
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    # functions that overflow or lose precision in 16 bits
    "exp",
    "expm1",
    "log",
    "log10",
    "log2",
    "log1p",
    "pow",
    "pow_scalar",
    "reciprocal",
    "rsqrt",
    "acos",
    "asin",
    "cosh",
    "sinh",
    "tan",
    "erfinv",
    "softplus",
    # linear algebra (factorizations need float32 at least)
    "cholesky",
    "det",
    "eigh",
    "inverse",
    "logabsdet",
    "pinv",
    "qr",
    "solve",
    "svd",
)

LOWER = "lower"
TO_FLOAT32 = "float32"

POLICY = {**{name: LOWER for name in LOWER_PRECISION}, **{name: TO_FLOAT32 for name in FLOAT32}}
