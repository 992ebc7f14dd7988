"""Build hook for the optional compiled walk; the project's metadata is in pyproject.toml.

`optional=True`: where no C compiler is found, the install goes on without the extension and
retrograd runs its pure-Python walk (the same results, slower backward passes).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "retrograd.autograd._accel",
            ["src/retrograd/autograd/_accel.c"],
            optional=True,
        )
    ]
)
