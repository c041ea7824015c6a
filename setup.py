"""Build of the optional compiled scoring kernel; everything else is in pyproject.toml.

``model/_kernel.pyx`` is compiled by Cython and the system's C compiler when
the package is installed. It is optional: without a compiler the install
still succeeds and scoring takes the vectorised numpy path (model/kernel.py).
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(ext_modules=cythonize(
    [Extension("model._kernel", ["model/_kernel.pyx"], optional=True,
               extra_compile_args=["-O3"])],
    compiler_directives={"language_level": "3"}, quiet=True))
