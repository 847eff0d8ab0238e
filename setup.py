"""The compiled hot path (gateway/fix/_speedups.c), built at install where a C compiler exists.

Everything else is in pyproject.toml. The extension is optional: where it cannot be compiled
(no compiler, no Python headers) the install goes on and the pure-Python twins run.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "gateway.fix._speedups",
            ["gateway/fix/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
