"""Build hook for the optional compiled hot paths; the project's metadata is in pyproject.toml.

`optional=True`: where no C compiler is found, the install goes on without the extension and
retrograd runs its pure-Python paths (the same results, slower).
"""

import sys

from setuptools import Extension, setup

ACCEL = "csrc/accel/"

setup(
    ext_modules=[
        Extension(
            "retrograd.autograd._accel",
            [ACCEL + "module.c", ACCEL + "walk.c", ACCEL + "record.c"],
            depends=[ACCEL + "accel.h"],
            # NOTE: the files share plain C names (walk, record, ...): keep them private
            extra_compile_args=[] if sys.platform == "win32" else ["-fvisibility=hidden"],
            optional=True,
        )
    ]
)
