"""NumPy kernels for convolution and max pooling, in (N, C, H, W) layout.

These are the array-namespace versions of `conv2d`, `conv_transpose2d`, `conv2d_weight` and
`max_pool2d_with_indices_backward` (re-exported by `array_ns`), and the forwards of the ops in
`ops/conv.py` and `ops/pooling.py`. Arguments are PyTorch's; sizes may be ints or pairs.

Convolution is im2col plus one batched matrix product, per chunk of the batch. The column
matrix of n samples has shape (n, C*kh*kw, L): row (c, i, j) holds the input element under
kernel tap (i, j) of channel c for each of the L output positions; it is one copy from a
strided view of the input. The transposed convolution (the input gradient) multiplies the
other way and adds the columns back into the image (col2im), looping over the kh*kw kernel
taps, each iteration one add over the whole chunk: never over pixels.

With stride 1 the columns use *wide rows*: output position (h, w) sits at column h*Wp + w,
where Wp is the padded input width, so that tap (i, j) of every output position is one flat
slice of the padded input starting at i*dh*Wp + j*dw. The copies (and the adds of col2im) then
run over long contiguous blocks instead of rows of ow elements, which is 2-3x faster for small
images; the Wp - ow columns past each row's end are computed and dropped (zeros in col2im).
"""

import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pair(value, name="size"):
    """An int or a sequence of two ints as a pair of ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * 2
    if len(value) != 2:
        raise ValueError(f"expected an int or a pair of ints for {name}, got {value}")
    return value


def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution along one dim (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


# --------------------------------------------------------------------------- scratch memory
# NOTE: the kernels' temporaries (padded inputs, column matrices, products) are the same large
# arrays on every call. Fresh ones come from the OS page by page (glibc maps big blocks and
# hands them back when freed): in a LeNet training step those page faults took as long as the
# arithmetic. Temporaries therefore live in per-thread buffers that are reused; only arrays
# up to SCRATCH_LIMIT bytes are kept, so a huge input does not pin its memory.
SCRATCH_LIMIT = 8 << 20
_scratch = threading.local()


def _temporary(slot, shape, dtype, zero=False):
    """An array of `shape` for use inside one kernel call only: never returned or kept."""
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if size > SCRATCH_LIMIT:
        return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)
    buffers = _scratch.__dict__.setdefault("buffers", {})
    buffer = buffers.get(slot)
    if buffer is None or buffer.size < size:
        buffer = buffers[slot] = np.empty(max(size, 4096), dtype=np.uint8)
    out = buffer[:size].view(dtype).reshape(shape)
    if zero:
        out.fill(0)
    return out


# --------------------------------------------------------------------------- im2col / col2im
def _wide(stride, padded_width, out_width):
    # NOTE: wide rows compute Wp - ow dropped columns per row; past 2x that costs more than the
    # strided copies it saves.
    return stride == (1, 1) and padded_width <= 2 * out_width


def _columns(x, kernel, stride, padding, dilation, out_size):
    """The (N, C*kh*kw, L) column matrix of `x` (a temporary) and the width of one output row
    in it."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = out_size
    hp, wp = h + 2 * ph, w + 2 * pw
    if kernel == (1, 1) and stride == (1, 1) and padding == (0, 0) and (oh, ow) == (h, w):
        return x.reshape(n, c, h * w), w  # 1x1 convolution: the columns are the input
    if ph or pw:
        xp = _temporary("padded", (n, c, hp, wp), x.dtype, zero=True)
        xp[:, :, ph : ph + h, pw : pw + w] = x
    else:
        xp = x
    # NOTE: one copy from a strided view of every tap's window, rather than one per tap:
    # NumPy runs the same inner loops, without kh*kw Python round trips.
    if _wide(stride, wp, ow):
        flat = xp.reshape(n, c, hp * wp)
        length = (oh - 1) * wp + ow  # the last row needs no dropped columns
        cols = _temporary("columns", (n, c, kh, kw, oh * wp), x.dtype)
        s0, s1, s2 = flat.strides
        taps = as_strided(flat, (n, c, kh, kw, length), (s0, s1, dh * wp * s2, dw * s2, s2),
                          writeable=False)
        np.copyto(cols[:, :, :, :, :length], taps)
        cols[:, :, :, :, length:] = 0
        return cols.reshape(n, c * kh * kw, oh * wp), wp
    cols = _temporary("columns", (n, c, kh, kw, oh, ow), x.dtype)
    s0, s1, s2, s3 = xp.strides
    taps = as_strided(xp, (n, c, kh, kw, oh, ow),
                      (s0, s1, dh * s2, dw * s3, sh * s2, sw * s3), writeable=False)
    np.copyto(cols, taps)
    return cols.reshape(n, c * kh * kw, oh * ow), ow


def _add_columns(cols, channels, kernel, stride, padding, dilation, in_size, row_width):
    """col2im: the (N, C, H, W) image (a temporary) whose columns (as `_columns` lays them out,
    rows of `row_width`) are `cols`, adding up the taps that land on the same pixel."""
    n = cols.shape[0]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    h, w = in_size
    hp, wp = h + 2 * ph, w + 2 * pw
    oh = cols.shape[-1] // row_width
    if row_width == wp and stride == (1, 1):  # wide rows: each tap one flat contiguous add
        cols = cols.reshape(n, channels, kh, kw, oh * wp)
        total = oh * wp
        # the dropped columns of the last tap run past the padded image: give them room
        flat = _temporary("image", (n, channels, hp * wp + (kw - 1) * dw), cols.dtype, True)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * wp + j * dw
                flat[:, :, start : start + total] += cols[:, :, i, j]
        image = flat[:, :, : hp * wp].reshape(n, channels, hp, wp)
    else:
        ow = row_width
        cols = cols.reshape(n, channels, kh, kw, oh, ow)
        image = _temporary("image", (n, channels, hp, wp), cols.dtype, zero=True)
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
                image[:, :, rows, columns] += cols[:, :, i, j]
    if ph or pw:
        image = image[:, :, ph : ph + h, pw : pw + w]
    return image


def _wide_rows(g, row_width):
    """(N, C, oh, ow) -> (N, C, oh * row_width), each row zero-padded to `row_width` (a
    temporary)."""
    n, c, oh, ow = g.shape
    if row_width == ow:
        return g.reshape(n, c, oh * ow)
    out = _temporary("wide rows", (n, c, oh, row_width), g.dtype)
    out[:, :, :, ow:] = 0
    out[:, :, :, :ow] = g
    return out.reshape(n, c, oh * row_width)


# --------------------------------------------------------------------------- convolution
# NOTE: the kernels work through the batch in chunks whose column matrix takes about this many
# bytes: the columns of a large batch would take kh*kw times the input's memory (gigabytes for
# ImageNet-sized inputs), and a chunk's columns are still in cache when the matrix product
# reads them. The columns are built again for the weight gradient rather than kept from the
# forward: keeping them made a LeNet training step 1.3-1.5x slower (more memory traffic).
CHUNK_BYTES = 1 << 20


def _batch_chunks(n, bytes_per_sample):
    step = max(1, min(n, CHUNK_BYTES // max(bytes_per_sample, 1)))
    return [slice(start, start + step) for start in range(0, n, step)]


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of (N, C, H, W) `input` with (O, C/groups, kh, kw) `weight`."""
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    n, c, h, w = input.shape
    o, cg, kh, kw = weight.shape
    oh = conv_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv_output_size(w, kw, stride[1], padding[1], dilation[1])
    k = cg * kh * kw
    weights = weight.reshape(o, k) if groups == 1 else weight.reshape(groups, o // groups, k)
    out = np.empty((n, o, oh, ow), dtype=input.dtype)
    per_sample = c * kh * kw * oh * (w + 2 * padding[1]) * input.itemsize
    for chunk in _batch_chunks(n, per_sample):
        cols, row_width = _columns(input[chunk], (kh, kw), stride, padding, dilation, (oh, ow))
        m, length = cols.shape[0], cols.shape[-1]
        if groups == 1:
            y = np.matmul(weights, cols, out=_temporary("product", (m, o, length), out.dtype))
        else:
            y = np.matmul(weights, cols.reshape(m, groups, k, length),
                          out=_temporary("product", (m, groups, o // groups, length), out.dtype))
        out[chunk] = y.reshape(m, o, oh, row_width)[:, :, :, :ow]
    if bias is not None:
        out += bias.reshape(o, 1, 1)
    return out


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its weight (torch.nn.grad.conv2d_weight)."""
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    n, c, _, w = input.shape
    o, cg, kh, kw = weight_size
    oh, ow = grad_output.shape[2:]
    k, og = cg * kh * kw, o // groups
    gw = np.zeros((groups, k, og), dtype=grad_output.dtype)
    per_sample = c * kh * kw * oh * (w + 2 * padding[1]) * input.itemsize
    for chunk in _batch_chunks(n, per_sample):
        cols, row_width = _columns(input[chunk], (kh, kw), stride, padding, dilation, (oh, ow))
        g = _wide_rows(grad_output[chunk], row_width)
        m, length = cols.shape[0], cols.shape[-1]
        # NOTE: one (K, L) x (L, O) product per sample, then a sum over the batch: 2-6x faster
        # than one product over the whole batch, which needs both operands transposed into
        # copies, and about 2x faster than the (O, L) x (L, K) orientation with OpenBLAS.
        products = np.matmul(cols.reshape(m, groups, k, length),
                             g.reshape(m, groups, og, length).mT,
                             out=_temporary("product", (m, groups, k, og), gw.dtype))
        gw += products.sum(axis=0)
    return gw.mT.reshape(o, cg, kh, kw)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution of (N, C_in, H, W) `input` with (C_in, C_out/groups, kh, kw)
    `weight`: the adjoint of conv2d with the same weight and settings."""
    stride, padding = pair(stride), pair(padding)
    output_padding, dilation = pair(output_padding), pair(dilation)
    n, c_in, h, w = input.shape
    _, og, kh, kw = weight.shape
    c_out = og * groups
    size = [
        (s - 1) * st - 2 * p + d * (k - 1) + op + 1
        for s, st, p, d, k, op in zip((h, w), stride, padding, dilation, (kh, kw), output_padding)
    ]
    wp = size[1] + 2 * padding[1]
    row_width = wp if _wide(stride, wp, w) else w
    k, ig = og * kh * kw, c_in // groups
    weights = weight.reshape(groups, ig, k).mT
    out = np.empty((n, c_out, size[0], size[1]), dtype=input.dtype)
    for chunk in _batch_chunks(n, c_out * kh * kw * h * row_width * input.itemsize):
        x = _wide_rows(input[chunk], row_width)
        m, length = x.shape[0], x.shape[-1]
        cols = np.matmul(weights, x.reshape(m, groups, ig, length),
                         out=_temporary("product", (m, groups, k, length), out.dtype))
        out[chunk] = _add_columns(cols.reshape(m, c_out * kh * kw, length), c_out, (kh, kw),
                                  stride, padding, dilation, size, row_width)
    if bias is not None:
        out += bias.reshape(c_out, 1, 1)
    return out


# --------------------------------------------------------------------------- max pooling
def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """Output length of a pooling window along one dim; with ceil_mode the last window may
    run past the end but must start inside the input or its left padding (PyTorch's rule)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode,
                            indices=True):
    """(values, indices) of 2-D max pooling; indices (int64) are positions in each flattened
    H*W plane of the input, the first maximum of each window in row-major order (the last
    NaN, when a window has NaNs), as PyTorch's. With indices=False, (values, None)."""
    (kh, kw), (sh, sw) = kernel_size, stride
    (ph, pw), (dh, dw) = padding, dilation
    n, c, h, w = input.shape
    oh = pool_output_size(h, kh, sh, ph, dh, ceil_mode)
    ow = pool_output_size(w, kw, sw, pw, dw, ceil_mode)
    # pad with -inf: on the right as far as the last (ceil-mode) window reaches
    hp = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1)
    wp = max(w + pw, (ow - 1) * sw + (kw - 1) * dw + 1)
    x = input
    if (hp, wp) != (h, w):
        x = _temporary("pool padded", (n, c, hp, wp), input.dtype)
        x.fill(-np.inf)
        x[:, :, ph : ph + h, pw : pw + w] = input
    nan = _has_nan(input)
    # NOTE: max is separable: the max over each row segment (along W), then over those (along
    # H). Taking the first maximum (or last NaN) at both stages gives the row-major first
    # maximum (or last NaN) of the window, PyTorch's choice.
    rows_max, col_pick = _running_max(_strided_taps(x, 3, sw, dw, ow), kw, nan, indices,
                                      "pool rows")
    out, row_pick = _running_max(_strided_taps(rows_max, 2, sh, dh, oh), kh, nan, indices,
                                 "pool columns", keep=True)
    if not indices:
        return out, None
    col_taps = _strided_taps(col_pick, 2, sh, dh, oh)
    col_pick = _pick(col_taps, row_pick, kh)
    row_start = (np.arange(oh) * sh - ph).reshape(oh, 1)
    col_start = np.arange(ow) * sw - pw
    if (out == -np.inf).any() if nan else out.min(initial=np.inf) == -np.inf:
        # PyTorch never looks at padding: a window of -inf points at its first real element
        empty = out == -np.inf
        row_pick = np.where(empty, -(np.minimum(row_start, 0) // dh), row_pick)
        col_pick = np.where(empty, -(np.minimum(col_start, 0) // dw), col_pick)
    # flat positions (row_start + row_pick*dh) * w + col_start + col_pick*dw, in place: NumPy's
    # casting multiplies (np.multiply(..., dtype=)) are 5x slower on these small dtypes
    positions = row_pick.astype(np.int64)
    if dh * w != 1:
        positions *= dh * w
    if dw == 1:
        positions += col_pick
    else:
        columns = col_pick.astype(np.int64)
        columns *= dw
        positions += columns
    positions += row_start * w + col_start
    return out, positions


def adaptive_windows(size, out):
    """PyTorch's adaptive pooling windows along one dim: [start, end) of each output."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_max_pool2d(input, output_size):
    """(values, int64 indices into each H*W plane) of adaptive 2-D max pooling."""
    n, c, h, w = input.shape
    nan = _has_nan(input)
    row_index, col_index = _window_index(h, output_size[0]), _window_index(w, output_size[1])
    # NOTE: windows differ in length: each is padded to the longest by repeating its last
    # element, which changes neither the maximum nor which element is picked first (or last).
    by_col = input[:, :, :, col_index]  # (N, C, H, ow, taps)
    rows_max, col_pick = _running_max(_last_axis_taps(by_col), col_index.shape[1], nan, True,
                                      "adaptive rows")
    by_row = rows_max[:, :, row_index].swapaxes(3, 4)  # (N, C, oh, ow, taps)
    out, row_pick = _running_max(_last_axis_taps(by_row), row_index.shape[1], nan, True,
                                 "adaptive columns", keep=True)
    rows = row_index[np.arange(output_size[0]).reshape(-1, 1), row_pick.astype(np.intp)]
    cols = col_index[np.arange(output_size[1]), col_pick.astype(np.intp)]  # per input row
    cols = np.take_along_axis(cols, rows, axis=2)
    return out, rows * w + cols


def _window_index(size, out):
    """(out, taps) input positions of each adaptive window, the last one repeated."""
    start, end = adaptive_windows(size, out)
    taps = int((end - start).max())
    return np.minimum(start.reshape(-1, 1) + np.arange(taps), (end - 1).reshape(-1, 1))


def _has_nan(x):
    # one fast pass; inf - inf in the sum only sends a NaN-free input down the exact path
    return x.dtype.kind == "f" and bool(np.isnan(x.sum()))


def _strided_taps(x, axis, s, d, size):
    """tap(t): the elements under window tap t of every window along `axis`, as a view."""
    def tap(t):
        index = [slice(None)] * x.ndim
        index[axis] = slice(t * d, t * d + s * (size - 1) + 1, s)
        return x[tuple(index)]

    return tap


def _last_axis_taps(x):
    def tap(t):
        return x[..., t]

    return tap


def _running_max(tap, k, nan, indices, slot, keep=False):
    """The max over taps 0..k-1 and the tap each maximum came from (a bool for two taps,
    else int8 or intp): the first maximum, or the last NaN. Temporaries are named after
    `slot`; the maxima are one too unless `keep`."""
    first = tap(0)
    shape, dtype = first.shape, first.dtype
    if k == 1:
        return first.copy(), (np.zeros(shape, dtype=np.int8) if indices else None)
    best = np.empty(shape, dtype) if keep else _temporary(slot + " max", shape, dtype)
    pick = None
    if indices:
        better = _temporary(slot + " better", shape, bool)
        if k > 2:
            pick = _temporary(slot + " pick", shape, np.int8 if k < 128 else np.intp)
            pick.fill(0)
    for t in range(1, k):
        v = tap(t)
        previous = first if t == 1 else best
        if indices:
            np.greater(v, previous, out=better)
            if nan:
                better |= np.isnan(v)
            if k == 2:
                pick = better
            else:
                np.copyto(pick, t, where=better)
        np.maximum(previous, v, out=best)  # maximum propagates NaN, as the picks do
    return best, pick


def _pick(tap, which, k):
    """Element-wise tap(which) for an array `which` of taps (bool when k == 2)."""
    if k == 1:
        return tap(0)
    first = tap(0)
    if k == 2 and first.dtype == bool:  # xor and and: 3x faster than np.where here
        out = np.bitwise_xor(first, tap(1), out=_temporary("pool pick", first.shape, bool))
        np.bitwise_and(which, out, out=out)
        return np.bitwise_xor(first, out, out=out)
    if k == 2:
        return np.where(which, tap(1), first)
    out = first.copy()
    for t in range(1, k):
        np.copyto(out, tap(t), where=which == t)
    return out


def max_pool2d_with_indices_backward(grad_output, input, kernel_size, stride, padding, dilation,
                                     ceil_mode, indices):
    """The gradient of max pooling: each output's gradient added at its arg-max."""
    (kh, kw), (sh, sw), (dh, dw) = pair(kernel_size), pair(stride), pair(dilation)
    overlap = sh < (kh - 1) * dh + 1 or sw < (kw - 1) * dw + 1
    return _scatter(grad_output, input.shape, indices, overlap)


def adaptive_max_pool2d_backward(grad_output, input, indices):
    """The gradient of adaptive max pooling: each output's gradient added at its arg-max."""
    h, w = input.shape[2:]
    oh, ow = grad_output.shape[2:]
    return _scatter(grad_output, input.shape, indices, h % oh != 0 or w % ow != 0)


def _scatter(g, shape, indices, overlap):
    """Zeros of (N, C, H, W) `shape` with g added at `indices` (positions in each H*W plane)."""
    n, c, h, w = shape
    planes = n * c
    gx = np.zeros((planes, h * w), dtype=g.dtype)
    outputs = g.shape[2] * g.shape[3]
    positions = np.add(indices.reshape(planes, outputs),
                       (np.arange(planes) * (h * w)).reshape(-1, 1),
                       out=_temporary("positions", (planes, outputs), np.int64))
    if overlap:
        np.add.at(gx.reshape(-1), positions.reshape(-1), g.reshape(-1))
    else:
        gx.put(positions, g)  # windows do not overlap: no position repeats
    return gx.reshape(n, c, h, w)
