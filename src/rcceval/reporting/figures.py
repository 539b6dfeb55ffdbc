"""One figure style for every report; figures are drawn from published tables or model results only.

Published tables may hold "c" (suppressed) where a number was: such cells are left out of a figure,
never recomputed from child-level data.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

PALETTE = "colorblind"
sns.set_theme(style="whitegrid", palette=PALETTE, rc={"figure.dpi": 110, "axes.titleweight": "bold",
                                                        "svg.hashsalt": "rcceval"})
mpl.rcParams["svg.hashsalt"] = "rcceval"  # stable SVG ids: same figure, same file


def axes_or_new(ax: Axes | None, figsize: tuple[float, float], **subplots: Any) -> Axes:
    """The axes a plot function draws on: `ax` when given (lifelines' convention: every plot
    function takes ax=None and returns the axes), else those of a new figure of `figsize`."""
    return ax if ax is not None else plt.subplots(figsize=figsize, **subplots)[1]


def panels_or_new(ax: Sequence[Axes] | np.ndarray | None, n: int, figsize: tuple[float, float],
                  **subplots: Any) -> np.ndarray:
    """The axes of a figure of `n` panels in a row: `ax` (one axes a panel) when given, else a new
    figure's. Returned as a flat array, which the plot function returns."""
    if ax is None:
        return np.atleast_1d(plt.subplots(1, n, figsize=figsize, squeeze=False, **subplots)[1][0])
    axes = np.asarray(ax, dtype=object).ravel()
    if len(axes) != n:
        raise ValueError(f"this figure has {n} panels: give {n} axes (one a panel), not {len(axes)}")
    return axes


def figure_of(drawn: Any) -> Any:
    """The matplotlib figure of what a plot function returned: a figure, an axes or an array of axes."""
    if hasattr(drawn, "savefig"):
        return drawn
    if isinstance(drawn, Axes):
        return drawn.figure
    return np.asarray(drawn, dtype=object).ravel()[0].figure


def numeric(values: pd.Series) -> pd.Series:
    """Published values as numbers; suppressed cells ("c") become missing."""
    return pd.to_numeric(values.replace({"c": None}), errors="coerce")

