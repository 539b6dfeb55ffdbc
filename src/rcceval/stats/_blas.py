"""One BLAS thread for a block of code, without a dependency: OpenBLAS's own set_num_threads via ctypes.

Why: a matrix product's rounding depends on how many threads share it, and joblib's workers run with
fewer BLAS threads than the main process, so work that must be byte-identical whatever n_jobs (question
3's PSA refits) runs with one thread in every process. threadpoolctl does this in general; rcceval does
not depend on it, so this finds the OpenBLAS that numpy loaded (/proc/self/maps) and calls it directly.
Where no OpenBLAS is found (another BLAS, another OS) it does nothing, and results may then differ in
their last bits between n_jobs values.
"""
from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

_NAMES = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
          ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
          ("openblas_get_num_threads", "openblas_set_num_threads"))


@lru_cache(maxsize=1)
def _openblas() -> list[tuple[object, object]]:
    import numpy  # noqa: F401  (loads its BLAS)

    try:
        maps = open("/proc/self/maps", encoding="utf-8").read()
    except OSError:
        return []
    out = []
    for path in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, set_ in _NAMES:
            if hasattr(lib, get) and hasattr(lib, set_):
                out.append((getattr(lib, get), getattr(lib, set_)))
                break
    return out


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with OpenBLAS limited to one thread, restoring the count after."""
    libs = _openblas()
    before = [int(get()) for get, _ in libs]
    try:
        for _, set_ in libs:
            set_(1)
        yield
    finally:
        for (_, set_), n in zip(libs, before):
            set_(n)
