"""Random numbers: seeded generators and the random creation functions.

`rg.manual_seed(s)` seeds the default generator; every function that draws random numbers also
takes an explicit `generator=` so a run can own its streams. A generator's state can be saved
and restored (`get_state`/`set_state`) for checkpoints that resume exactly.
"""

import numpy as np

from ..autograd import dtypes
from ._util import Tensor, as_array, new_tensor

__all__ = [
    "Generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "default_generator",
    "rand",
    "randn",
    "randint",
    "randperm",
    "rand_like",
    "randn_like",
    "randint_like",
    "normal",
    "bernoulli",
    "multinomial",
]


class Generator:
    """A random stream (NumPy's PCG64 underneath)."""

    def __init__(self, device="cpu", seed=None):
        self._seed = 0 if seed is None else int(seed)
        self.np = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        new_seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """A plain dict (JSON-serialisable) describing the stream's position."""
        return {"seed": self._seed, "bit_generator": self.np.bit_generator.state}

    def set_state(self, state):
        self._seed = int(state["seed"])
        bit_generator = np.random.PCG64()
        bit_generator.state = state["bit_generator"]
        self.np = np.random.Generator(bit_generator)
        return self


default_generator = Generator(seed=0)


def manual_seed(seed):
    """Seed the default generator (and NumPy's legacy global one, for code that uses it)."""
    np.random.seed(int(seed) % (2**32))
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _gen(generator):
    if generator is None:
        return default_generator.np
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an rg.Generator, got {type(generator).__name__}")
    return generator.np


def _shape(size, where):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{where}: sizes must be non-negative ints, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _float_dtype(dtype, where):
    dtype = dtypes.as_dtype(dtype) or dtypes.default_float()
    if not dtypes.is_floating(dtype):
        raise TypeError(f"{where}: expected a floating dtype, got {dtype}")
    return dtype


def _finish(array, dtype, requires_grad):
    t = new_tensor(array.astype(dtype, copy=False))
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1)."""
    dtype = _float_dtype(dtype, "rand")
    sample_dtype = dtype if dtype in (dtypes.float32, dtypes.float64) else np.float32
    array = _gen(generator).random(_shape(size, "rand"), dtype=sample_dtype)
    return _finish(array, dtype, requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal samples."""
    dtype = _float_dtype(dtype, "randn")
    sample_dtype = dtype if dtype in (dtypes.float32, dtypes.float64) else np.float32
    array = _gen(generator).standard_normal(_shape(size, "randn"), dtype=sample_dtype)
    return _finish(array, dtype, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None):
    """Integers in [low, high), or in [0, high) as `randint(high, size)`, as in PyTorch."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing required argument 'size'")
    if high <= low:
        raise ValueError(f"randint: need low < high, got low={low}, high={high}")
    dtype = dtypes.as_dtype(dtype) or dtypes.int64
    array = _gen(generator).integers(low, high, size=_shape((size,), "randint"))
    return new_tensor(array.astype(dtype))


def randperm(n, *, generator=None, dtype=None, device=None):
    dtype = dtypes.as_dtype(dtype) or dtypes.int64
    return new_tensor(_gen(generator).permutation(int(n)).astype(dtype))


def rand_like(input, *, dtype=None, generator=None, requires_grad=False):
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, generator=None, requires_grad=False):
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 requires_grad=requires_grad)


def randint_like(input, low, high=None, *, dtype=None, generator=None):
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None):
    """Normal samples; `mean`/`std` may be tensors (shapes broadcast) or numbers with `size`."""
    m = mean.data if isinstance(mean, Tensor) else mean
    s = std.data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError("normal: std must be non-negative")
    shape = size if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    if isinstance(shape, int):
        shape = (shape,)
    dtype = dtypes.as_dtype(dtype) or (
        mean.dtype if isinstance(mean, Tensor) else dtypes.get_default_dtype()
    )
    array = m + s * _gen(generator).standard_normal(tuple(shape))
    return new_tensor(np.asarray(array).astype(dtype))


def bernoulli(input, p=None, *, generator=None):
    """Draw 0/1 with probabilities `input` (or the constant `p`), as the input's dtype."""
    probs = input.data if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    draws = _gen(generator).random(input.shape) < probs
    return new_tensor(draws.astype(input.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices from (unnormalised) non-negative weights, per row."""
    weights = as_array(input).astype(np.float64)
    squeeze = weights.ndim == 1
    weights = np.atleast_2d(weights)
    if weights.ndim != 2:
        raise ValueError(f"multinomial: expected a 1-D or 2-D input, got shape {input.shape}")
    if np.any(weights < 0) or np.any(~np.isfinite(weights)):
        raise ValueError("multinomial: weights must be finite and non-negative")
    if not replacement and num_samples > weights.shape[1]:
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{weights.shape[1]} categories"
        )
    rng = _gen(generator)
    rows = []
    for row in weights:  # loop over rows (the batch), never over graph depth
        total = row.sum()
        if total <= 0:
            raise ValueError("multinomial: each row needs a positive total weight")
        rows.append(rng.choice(row.size, size=num_samples, replace=replacement, p=row / total))
    out = np.asarray(rows, dtype=np.int64)
    return new_tensor(out[0] if squeeze else out)


TENSOR_METHODS = {}


class fork_rng:  # noqa: N801 - PyTorch's name
    """Context manager (torch.random.fork_rng): the default generator's state is restored on
    exit, so draws inside leave the draws after unchanged. `devices` is accepted and ignored
    (there is only the CPU generator)."""

    def __init__(self, devices=None, enabled=True, **kwargs):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self._state = get_rng_state()
        return self

    def __exit__(self, *exc_info):
        if self.enabled:
            set_rng_state(self._state)
        return False
