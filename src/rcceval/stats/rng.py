"""Counter-based random numbers: splitmix64, the one hash behind every addressed draw.

The synthetic generator (synth.rng) and question 3's microsimulation (analyses.costing.microsim)
need uniforms that are a pure function of integers (child, placement, draw, stream), so that two
views of the same quantity, or two scenarios, see the same numbers however the work is split.
Both use splitmix64 (Steele, Lea & Flood 2014): its finaliser is a bijective, well-mixed map of
64-bit integers, and the top 53 bits of its output give a uniform double.
"""
from __future__ import annotations

import numpy as np

__all__ = ["GOLDEN", "splitmix64_mix", "splitmix64_uniform", "to_unit_interval"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)   # splitmix64's increment (2^64 / golden ratio)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64_mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of uint64 values (wrapping arithmetic, as in the reference C)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        x = x ^ (x >> np.uint64(31))
    return x


def to_unit_interval(h: np.ndarray) -> np.ndarray:
    """Top 53 bits of uint64 hashes as doubles in (0, 1), never exactly 0 or 1."""
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (2.0 ** -53)


def splitmix64_uniform(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """The counter-th output of the splitmix64 generator seeded with `key`, as a uniform in (0, 1).

    splitmix64's state after counter + 1 steps is key + GOLDEN * (counter + 1); its output is the
    finaliser of that state. A pure function of (key, counter): no state is carried.
    """
    with np.errstate(over="ignore"):
        z = key + (counter + np.uint64(1)) * GOLDEN
    return to_unit_interval(splitmix64_mix(z))
