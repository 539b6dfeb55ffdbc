"""Figures of the dataset-proposal report, drawn from published tables only (suppressed cells left out).

Each takes `ax=None` (a new figure when not given) and returns the axes it drew on."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rcceval.reporting.figures import numeric


def mdhr_by_years(summary: pd.DataFrame, title: str = "", ax=None):
    """Minimum detectable HR against years of data: smallest, median and largest council, region, England."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    labels = {"council_smallest": "Smallest council", "council_median": "Median council",
              "council_largest": "Largest council", "region": "Region (pooled)", "national": "England (scaled)"}
    styles = {"council_smallest": ":", "council_median": "-", "council_largest": "--", "region": "-", "national": "-"}
    for col, label in labels.items():
        if col in summary:
            ax.plot(summary.index.astype(int), numeric(summary[col]), styles[col], marker="o", label=label)
    ax.set_yscale("log")
    top = float(np.nanmax(summary.drop(columns=[c for c in summary if c.startswith("events")]).to_numpy(float)))
    ticks = [t for t in (1.05, 1.2, 1.5, 2, 3, 5, 10, 20, 50) if t <= top * 1.3]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set(xlabel="Years of data collected", ylabel="Minimum detectable HR (per point)", title=title)
    ax.set_xticks(summary.index.astype(int))
    ax.legend(fontsize=8)
    return ax


def power_curves(table: pd.DataFrame, hr_cols: list[str], units: dict[str, str], title: str = "", ax=None):
    """Analytic power against years for a few units, one panel per hazard ratio (`ax`: one axes each)."""
    if ax is None:
        _, ax = plt.subplots(1, len(hr_cols), figsize=(3.4 * len(hr_cols), 3.6), sharey=True, squeeze=False)
        ax = ax[0]
    axes, fig = ax, ax[0].figure
    for ax, col in zip(axes, hr_cols):
        for unit, label in units.items():
            t = table[table["unit"] == unit].sort_values("years")
            ax.plot(t["years"], numeric(t[col]), marker="o", label=label)
        ax.axhline(0.8, color="grey", lw=0.8, ls="--")
        ax.set(title=f"HR {col.rsplit('_', 1)[-1]} per point", xlabel="Years of data", ylim=(0, 1.02))
    axes[0].set_ylabel("Power")
    axes[-1].legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return axes


def simulated_vs_analytic(table: pd.DataFrame, curves: dict | None = None, title: str = "", ax=None):
    """Simulated power (95% interval) against mean events, with analytic curves {label: f(events) -> power}."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    t = table.sort_values("events_mean")
    for label, g in t.groupby("setting", sort=False):
        ax.errorbar(g["events_mean"], g["power"], yerr=[g["power"] - g["ci_low"], g["ci_high"] - g["power"]],
                    fmt="o", capsize=3, label=f"simulated: {label}")
    grid = np.geomspace(max(1.0, t["events_mean"].min() * 0.8), t["events_mean"].max() * 1.2, 200)
    for (label, f), style in zip((curves or {}).items(), ("-", "--", ":")):
        ax.plot(grid, f(grid), style, color="black", lw=1, label=label)
    ax.axhline(0.8, color="grey", lw=0.8, ls="--")
    ax.set(xscale="log", xlabel="Unplanned endings in the dataset (mean over replicates)", ylabel="Power", ylim=(0, 1.02),
           title=title)
    ax.legend(fontsize=8)
    return ax


def field_value(table: pd.DataFrame, title: str = "", ax=None):
    """Drop-one AUC gain of each field with its interval (horizontal bars)."""
    t = table.iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(t) + 1.2))
    est, lo, hi = numeric(t["delta_auc"]), numeric(t["ci_low"]), numeric(t["ci_high"])
    ax.barh(t["title"].astype(str), est, color="#4c72b0")
    ax.errorbar(est, np.arange(len(t)), xerr=[est - lo, hi - est], fmt="none", color="black", capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set(xlabel="Gain in cross-validated AUC from the field (95% CI)", title=title)
    return ax


def secured_shares(table: pd.DataFrame, group: str, title: str = "", ax=None):
    """Stacked shares of the secured type's suitability by the values of one group (suppressed left out)."""
    t = table[table["group"] == group].copy()
    t["share"] = numeric(t["share"])
    wide = t.pivot(index="value", columns="category", values="share").reindex(list(dict.fromkeys(t["value"])))
    order = [c for c in ("Preferred", "Suitable but not preferred", "Unsuitable", "Not specified") if c in wide]
    wide = wide[order].fillna(0)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(wide) + 1.5))
    left = np.zeros(len(wide))
    for col in order:
        ax.barh(wide.index.astype(str), wide[col], left=left, label=col)
        left += wide[col].to_numpy()
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="Share of placements with a request", title=title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax
