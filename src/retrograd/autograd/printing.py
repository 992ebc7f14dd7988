"""set_printoptions: how tensors print (PyTorch's torch.set_printoptions)."""

__all__ = ["set_printoptions", "get_printoptions"]

_DEFAULTS = {"precision": 4, "threshold": 200, "edgeitems": 3, "linewidth": 75,
             "sci_mode": None}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": 2**63 - 1, "edgeitems": 3, "linewidth": 80},
}
options = dict(_DEFAULTS)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set the digits after the point (`precision`), how many elements print in full before
    the middle is elided (`threshold`, `edgeitems`), the line width, and scientific notation
    (True, False, or None for automatic); `profile` ('default', 'short', 'full') first resets
    them all."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}")
        options.update(_DEFAULTS)
        options.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            options[key] = int(value)
    options["sci_mode"] = sci_mode


def get_printoptions():
    return dict(options)


def array_to_string(array):
    """The body of a tensor's repr under the current options."""
    import numpy as np  # noqa: PLC0415 - keeps this module's import light

    suppress = None if options["sci_mode"] is None else not options["sci_mode"]
    formatter = None
    if options["sci_mode"] and array.dtype.kind == "f":
        digits = options["precision"]
        formatter = {"float_kind": lambda v: np.format_float_scientific(v, precision=digits)}
    return np.array2string(
        array, separator=", ", precision=options["precision"], threshold=options["threshold"],
        edgeitems=options["edgeitems"], max_line_width=options["linewidth"],
        suppress_small=suppress, prefix="tensor(", formatter=formatter,
    )
