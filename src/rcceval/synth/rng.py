"""Random streams for the generator.

Two kinds, both derived from the one user seed so that a run is reproducible:

* ``stream(seed, name)``: a numpy Generator per named step.  The sub-seed is keyed on the step's
  name (not on its position), so adding a step never shifts the numbers another step draws.
* ``hash_normal(key, *ints)``: counter-based draws addressed by integers (child, period,
  assessment, domain...).  Needs must be evaluated at arbitrary dates long before the files that
  list every assessment are written; addressing draws by integers keeps both views identical
  without storing a trajectory per child.
"""
from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

from rcceval.stats.rng import GOLDEN, splitmix64_mix, to_unit_interval


def stream(seed: int, name: str) -> np.random.Generator:
    """Generator for one named step: independent of every other step's name."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode("utf-8")),))
    return np.random.Generator(np.random.PCG64(ss))


def hash_key(seed: int, name: str) -> np.uint64:
    """A 64-bit key for counter-based draws of one named quantity."""
    state = np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode("utf-8")),))
    return np.uint64(state.generate_state(1, dtype=np.uint64)[0])


def hash_uniform(key: np.uint64, *ints: np.ndarray | int) -> np.ndarray:
    """Uniform(0,1) draws addressed by integer arrays (broadcast together)."""
    arrays = np.broadcast_arrays(*[np.asarray(i, dtype=np.int64) for i in ints])
    h = np.full(arrays[0].shape, key, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for a in arrays:
            h = splitmix64_mix(h + GOLDEN + a.astype(np.uint64))
    return to_unit_interval(h)   # 53 random bits -> (0, 1), never exactly 0 or 1


def hash_normal(key: np.uint64, *ints: np.ndarray | int) -> np.ndarray:
    """Standard normal draws addressed by integer arrays."""
    return ndtri(hash_uniform(key, *ints))


def lookup(values: np.ndarray, mapping: dict, dtype=object) -> np.ndarray:
    """mapping[v] for every element, vectorised through the distinct values (no per-row loop)."""
    uniq, inv = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    table = np.array([mapping[u] for u in uniq], dtype=dtype) if len(uniq) else np.array([], dtype=dtype)
    return table[inv.reshape(-1)] if len(uniq) else np.array([], dtype=dtype)
