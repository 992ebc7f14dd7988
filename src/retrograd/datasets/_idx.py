"""The IDX file format of MNIST and Fashion-MNIST (raw or gzipped)."""

import gzip
import struct
import zlib

import numpy as np

__all__ = ["read_idx"]

# type code (third byte of the magic number) -> big-endian element type
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read an IDX file (a `.gz` name is decompressed) into a NumPy array of native byte order.

    Raises ValueError, naming the file, when the magic number is wrong or the data does not
    match the shape in the header (a truncated or corrupt file).
    """
    path = str(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"read_idx: {path} is not a valid gzip file (truncated?): {err}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: {path} is not an IDX file (magic number {raw[:4].hex() or 'missing'})"
        )
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"read_idx: {path} is truncated inside its header")
    shape = struct.unpack(f">{ndim}I", raw[4:start])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - start != expected:
        raise ValueError(
            f"read_idx: {path} is truncated or corrupt: its header gives shape {shape} "
            f"({expected} bytes of data) but the file holds {len(raw) - start} bytes"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=start).reshape(shape)
    return array.astype(dtype.newbyteorder("="))
