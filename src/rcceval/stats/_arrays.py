"""Array helpers shared by the survival estimators (stats.cox, stats.curves, stats.concordance).

Within-group cumulative sums and integer codes of labels: the two operations every risk-set and
cluster sum is built from, kept in one place so all estimators accumulate the same way.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def segmented_cumsum(values: np.ndarray, segment: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Cumulative sum along axis 0 restarting at each change of `segment` (sorted labels).

    Sums are accumulated within a segment only (as R accumulates within a stratum), so a small
    risk set at the end of one stratum carries no rounding error from the others' totals.
    """
    frame = pd.DataFrame(values[::-1] if reverse else values)
    seg = segment[::-1] if reverse else segment
    out = frame.groupby(seg, sort=False).cumsum().to_numpy().reshape(values.shape)
    return out[::-1] if reverse else out


def codes(values, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..k-1 (in sorted order of the labels) and the labels."""
    if values is None:
        raise ValueError(f"{name} is required")
    arr = pd.Series(np.asarray(values))
    if arr.isna().any():
        raise ValueError(f"{name} has missing values")
    codes, labels = pd.factorize(arr, sort=True)
    return codes.astype(np.int64), np.asarray(labels)

