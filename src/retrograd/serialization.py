"""Saving and loading: state dicts and whole training checkpoints, in the safetensors format.

    rg.save(model.state_dict(), "model.safetensors")
    model.load_state_dict(rg.load("model.safetensors"))

    rg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
             "rng": rg.get_rng_state()}, "checkpoint.safetensors")

The file is a plain safetensors file, so PyTorch reads it with `safetensors.torch.load_file`:
every tensor is stored under the dotted path of its place in the saved object
(`fc.weight` for a state dict, `model.fc.weight` and `optimizer.state.0.exp_avg` in a
checkpoint). Everything else (numbers, strings, lists, tuples, dicts with any simple keys,
None) goes into the header's `__metadata__` as one JSON document, the *tree*, in which each
tensor is a reference to its stored name. `load` rebuilds the object exactly from the tree;
a safetensors file written elsewhere (for example by PyTorch) loads as a flat
`{name: Tensor}` dict.

Safety: loading parses JSON and copies bytes; it never unpickles or runs anything. A SHA-256
of the tree, the metadata and every tensor's name, dtype, shape and bytes is stored in the
header, so a truncated file or changed bytes give a ValueError rather than wrong weights.
Saving to a path is atomic: the bytes go to a temporary file in the same directory, which is
flushed to disk and then renamed over the target, so a crash mid-save leaves the previous file
intact.
"""

import contextlib
import hashlib
import json
import math
import os
import tempfile
import warnings

import numpy as np
import safetensors
import safetensors.numpy

from .autograd import dtypes
from .autograd.tensor import Tensor, new_tensor

__all__ = ["save", "load"]

FORMAT_VERSION = "1"
_TREE = "retrograd.tree"
_DIGEST = "retrograd.sha256"
_VERSION = "retrograd.format_version"

# safetensors dtype codes -> NumPy dtypes (stored little-endian)
_CODES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "U64": np.uint64,
    "I32": np.int32,
    "U32": np.uint32,
    "I16": np.int16,
    "U16": np.uint16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
if dtypes.bfloat16 is not None:  # pragma: no cover - needs ml_dtypes
    _CODES["BF16"] = dtypes.bfloat16


def save(obj, f):
    """Write `obj` to the path (or binary file object) `f` as safetensors.

    `obj` may nest dicts, lists and tuples of Tensors, NumPy arrays and scalars, Python numbers,
    strings, bools and None (a state dict, an optimizer state dict, a full checkpoint). Any
    other object raises TypeError, naming where it sits: nothing is ever pickled.
    """
    encoder = _Encoder()
    tree = encoder.encode(obj, ())
    metadata = {
        "format": "pt",  # the tensors are laid out as PyTorch's; tools such as HF check this
        _VERSION: FORMAT_VERSION,
        _TREE: json.dumps(tree, separators=(",", ":"), allow_nan=False),
    }
    metadata[_DIGEST] = _digest(metadata, encoder.arrays)
    payload = safetensors.numpy.save(encoder.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(payload)
    else:
        _atomic_write(f, payload)


def load(f, map_location=None, *, weights_only=True):
    """Read what `save` wrote (or any safetensors file) from a path or binary file object.

    Returns the saved object with Tensors in place of the stored arrays. A safetensors file
    without retrograd's tree (written by PyTorch, for example) loads as `{name: Tensor}`.
    `map_location` and `weights_only` are accepted for PyTorch compatibility; tensors always
    load on the CPU and no code is ever run. Raises ValueError for a truncated or corrupt file.
    """
    if hasattr(f, "read"):
        raw, name = f.read(), getattr(f, "name", "<file object>")
    else:
        with open(f, "rb") as file:
            raw, name = file.read(), os.fspath(f)
    try:
        entries = safetensors.deserialize(raw)
    except safetensors.SafetensorError as err:
        raise ValueError(
            f"load: {name} is not a valid safetensors file; it may be truncated or corrupt ({err})"
        ) from None
    metadata = _header(raw).get("__metadata__") or {}
    arrays = {key: _array(key, spec, name) for key, spec in entries}
    ours = [key for key in (_TREE, _DIGEST, _VERSION) if key in metadata]
    if not ours:  # a safetensors file from elsewhere: a flat state dict
        return {key: new_tensor(arrays[key]) for key in sorted(arrays)}
    if len(ours) < 3:
        raise ValueError(f"load: {name} is corrupt: its retrograd header entries are damaged")
    if metadata.get(_VERSION) != FORMAT_VERSION:
        raise ValueError(
            f"load: {name} was written in retrograd format version {metadata.get(_VERSION)!r}; "
            f"this version reads {FORMAT_VERSION!r}"
        )
    if metadata.get(_DIGEST) != _digest(metadata, arrays):
        raise ValueError(
            f"load: {name} is corrupt: its contents do not match the checksum written with it "
            "(bytes changed or lost after saving)"
        )
    tensors = {}  # stored name -> Tensor, so a tensor saved in two places loads as one
    try:
        return _decode(json.loads(metadata[_TREE]), arrays, tensors)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ValueError(f"load: {name} has a malformed retrograd tree ({err})") from None


# ---------------------------------------------------------------------------- encoding
# The tree is JSON: numbers, strings, bools, null and lists stand for themselves; a JSON object
# is a dict with string keys, none of which starts with "$"; an object with one "$" key is a
# tag: {"$tensor": name}, {"$array": name}, {"$scalar": name} (NumPy scalar), {"$float": "nan"},
# {"$tuple": [...]}, {"$dict": [[key, value], ...]} (any other dict).


class _Encoder:
    """Walks the object to save, collecting arrays under unique dotted names.

    NOTE: recursion follows the nesting of the saved object (a handful of levels for a
    checkpoint), not the size of any graph.
    """

    def __init__(self):
        self.arrays = {}
        self._names = {}  # id(tensor) -> stored name: one object saved twice is stored once
        self._alive = []  # keep encoded objects alive so their ids stay unique

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            tag = {"$tensor": self._store(obj, obj.data, path)}
            if obj.requires_grad:
                tag["requires_grad"] = True
            return tag
        if isinstance(obj, np.ndarray):
            return {"$array": self._store(obj, obj, path)}
        if isinstance(obj, np.generic):
            return {"$scalar": self._store(obj, np.asarray(obj), path)}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"$float": repr(float(obj))}
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, (*path, str(i))) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, (*path, str(i))) for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in obj):
                return {k: self.encode(v, (*path, k)) for k, v in obj.items()}
            items = []
            for k, v in obj.items():
                items.append([self._encode_key(k, path), self.encode(v, (*path, str(k)))])
            return {"$dict": items}
        raise TypeError(
            f"save: cannot store a {type(obj).__name__} at '{_dotted(path)}'; only tensors, "
            "arrays, numbers, strings, bools, None, lists, tuples and dicts can be saved "
            "(save a module's state_dict(), not the module)"
        )

    def _encode_key(self, key, path):
        if isinstance(key, (Tensor, np.ndarray)) or not _is_simple_key(key):
            raise TypeError(
                f"save: dict key {key!r} at '{_dotted(path)}' is not a str, number, bool, None "
                "or tuple of those"
            )
        return self.encode(key, path)

    def _store(self, owner, array, path):
        name = self._names.get(id(owner))
        if name is not None:
            return name
        if not (array.dtype.kind in "biu" or dtypes.is_floating(array.dtype)):
            raise TypeError(
                f"save: cannot store an array of dtype {array.dtype} at '{_dotted(path)}'"
            )
        if not array.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into 1-d)
            array = array.copy(order="C")
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        base = _dotted(path) or "tensor"
        name, n = base, 1
        while name in self.arrays:
            name, n = f"{base}#{n}", n + 1
        self.arrays[name] = array
        self._names[id(owner)] = name
        self._alive.append(owner)
        return name


def _is_simple_key(key):
    if isinstance(key, tuple):
        return all(_is_simple_key(k) for k in key)
    return key is None or isinstance(key, (str, int, float, np.integer, np.floating))


def _dotted(path):
    return ".".join(path)


# ---------------------------------------------------------------------------- decoding


def _decode(node, arrays, tensors):
    if isinstance(node, list):
        return [_decode(v, arrays, tensors) for v in node]
    if not isinstance(node, dict):
        return node
    if any(k.startswith("$") for k in node):
        return _decode_tag(node, arrays, tensors)
    return {k: _decode(v, arrays, tensors) for k, v in node.items()}


def _decode_tag(node, arrays, tensors):
    if "$tensor" in node:
        name = node["$tensor"]
        if name not in tensors:
            tensors[name] = new_tensor(arrays[name])
            if node.get("requires_grad"):
                tensors[name].requires_grad_(True)
        return tensors[name]
    if "$array" in node:
        return arrays[node["$array"]]
    if "$scalar" in node:
        return arrays[node["$scalar"]][()]
    if "$float" in node:
        return float(node["$float"])
    if "$tuple" in node:
        return tuple(_decode(v, arrays, tensors) for v in node["$tuple"])
    if "$dict" in node:
        items = node["$dict"]
        return {_decode(k, arrays, tensors): _decode(v, arrays, tensors) for k, v in items}
    raise ValueError(f"unknown tag {sorted(node)}")


def _array(key, spec, name):
    code = spec["dtype"]
    if code == "BF16" and code not in _CODES:
        # NOTE: without ml_dtypes there is no bfloat16 array; widening to float32 is exact.
        warnings.warn(
            f"load: {name}: tensor '{key}' is bfloat16, loaded as float32 (install ml_dtypes "
            "to keep bfloat16)",
            stacklevel=3,
        )
        bits = np.frombuffer(spec["data"], dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(tuple(spec["shape"]))
    if code not in _CODES:
        raise ValueError(f"load: {name}: tensor '{key}' has dtype {code}, which retrograd lacks")
    dtype = np.dtype(_CODES[code]).newbyteorder("<")
    # deserialize hands over a fresh bytearray per tensor, so the array is writable in place
    return np.frombuffer(spec["data"], dtype=dtype).reshape(tuple(spec["shape"]))


def _header(raw):
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + n])


def _digest(metadata, arrays):
    h = hashlib.sha256()
    for key in sorted(metadata):
        if key != _DIGEST:
            h.update(json.dumps([key, metadata[key]]).encode())
    for key in sorted(arrays):
        a = arrays[key]
        h.update(json.dumps([key, a.dtype.name, list(a.shape)]).encode())
        h.update(a.reshape(-1).view(np.uint8))
    return h.hexdigest()


# ---------------------------------------------------------------------------- atomic writes


def _atomic_write(path, payload):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            _write_payload(out, payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _write_payload(out, payload):
    out.write(payload)


def _file_mode(path):
    """Keep an existing file's permissions; a new file gets the usual 0o666 minus the umask
    (mkstemp would leave it at 0o600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)  # the only portable way to read the umask is to set it back
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
