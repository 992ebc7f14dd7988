"""CUDA matmul switches (accepted, without effect)."""


class _Switches:
    """Attributes that may be read and set."""

    def __init__(self, **values):
        self.__dict__.update(values)


matmul = _Switches(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                   allow_bf16_reduced_precision_reduction=True)


def is_built():
    return False
