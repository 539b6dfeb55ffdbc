"""One figure style for every report; figures are drawn from published tables or model results only.

Published tables may hold "c" (suppressed) where a number was: such cells are left out of a figure,
never recomputed from child-level data.
"""
from __future__ import annotations

import matplotlib as mpl
import pandas as pd
import seaborn as sns

PALETTE = "colorblind"
sns.set_theme(style="whitegrid", palette=PALETTE, rc={"figure.dpi": 110, "axes.titleweight": "bold",
                                                        "svg.hashsalt": "rcceval"})
mpl.rcParams["svg.hashsalt"] = "rcceval"  # stable SVG ids: same figure, same file


def numeric(values: pd.Series) -> pd.Series:
    """Published values as numbers; suppressed cells ("c") become missing."""
    return pd.to_numeric(values.replace({"c": None}), errors="coerce")

