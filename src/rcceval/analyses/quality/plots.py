"""Figures of the data-quality report, drawn from its published (protected) tables only."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from rcceval.reporting.figures import numeric


def cla_over_time(cla: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Children looked after on 31 March by year: the published crosstab's Total row (hidden cells left out)."""
    ax = ax if ax is not None else plt.subplots(figsize=(7, 3.5))[1]
    values = numeric(cla.loc["Total"].drop("Total"))
    ax.plot([str(i) for i in values.index], values.to_numpy(), marker="o")
    ax.set(xlabel="Year ending 31 March", ylabel="Children looked after")
    ax.set_ylim(bottom=0)
    return ax


def placement_mix(mix: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The published placement mix as horizontal bars of the percentage (hidden cells as 0)."""
    ax = ax if ax is not None else plt.subplots(figsize=(7, 3.5))[1]
    ax.barh(mix["placement_type"].astype(str), numeric(mix["percent"]).fillna(0).to_numpy())
    ax.invert_yaxis()
    ax.set(xlabel="% of children looked after")
    return ax
