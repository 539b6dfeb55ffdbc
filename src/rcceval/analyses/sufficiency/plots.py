"""Question 5 figures, drawn only from published tables (suppressed "c" cells left out) or model results.

Kept apart from the analyses (which never plot) and from the notebook (which stays thin); the
style is plots.py's.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from rcceval.analyses.sufficiency.profiles import PROFILE_LABELS, PROFILES
from rcceval.reporting.figures import numeric, panels_or_new

TOTAL = "Total"
COLOURS = dict(zip(PROFILES, sns.color_palette("colorblind", len(PROFILES))))


def _label(profile: str) -> str:
    return PROFILE_LABELS.get(profile, profile)


def _numeric_frame(table: pd.DataFrame) -> pd.DataFrame:
    return table.apply(numeric)


def profile_shares(crosstab: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Axes:
    """Stacked horizontal bars: each row's % in each profile (a published crosstab; Total dropped)."""
    ax = ax if ax is not None else plt.subplots(figsize=(8, 4))[1]
    t = _numeric_frame(crosstab.drop(index=TOTAL, errors="ignore").drop(columns=TOTAL, errors="ignore"))
    share = 100 * t.div(t.sum(axis=1), axis=0)
    left = np.zeros(len(share))
    labels = [str(i) for i in share.index]
    for col in share.columns:
        key = next((p for p in PROFILES if _label(p) == col or p == col), col)
        values = share[col].fillna(0).to_numpy()
        ax.barh(labels, values, left=left, label=col, color=COLOURS.get(key))
        left += values
    ax.invert_yaxis()
    ax.set(xlabel="% of children (suppressed cells left out)", title=title, xlim=(0, 100))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 if len(share) > 8 else -0.25), ncol=2, fontsize=8,
              frameon=False)
    return ax


def profile_lines(crosstab: pd.DataFrame, ylabel: str = "Children", title: str = "", ax: Axes | None = None) -> Axes:
    """One line per profile column of a published crosstab (rows: years; Total dropped)."""
    ax = ax if ax is not None else plt.subplots(figsize=(8, 3.5))[1]
    t = _numeric_frame(crosstab.drop(index=TOTAL, errors="ignore").drop(columns=TOTAL, errors="ignore"))
    for col in t.columns:
        key = next((p for p in PROFILES if _label(p) == col or p == col), col)
        ax.plot([str(i) for i in t.index], t[col].to_numpy(), marker="o", label=col, color=COLOURS.get(key))
    ax.set(ylabel=ylabel, title=title)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False)
    return ax


def by_age(table: pd.DataFrame, ylabel: str, peaks: list[int] | None = None, zero_line: bool = False,
           title: str = "", ax: Axes | None = None) -> Axes:
    """Mean by age with its 95% interval (a published table: age, mean, ci_low, ci_high)."""
    ax = ax if ax is not None else plt.subplots(figsize=(6, 3.8))[1]
    age = numeric(table["age"])
    mean, lo, hi = numeric(table["mean"]), numeric(table["ci_low"]), numeric(table["ci_high"])
    ax.plot(age, mean, marker="o", color=COLOURS["extensive_enduring"])
    ax.fill_between(age, lo, hi, alpha=0.25, color=COLOURS["extensive_enduring"], linewidth=0)
    for p in peaks or []:
        ax.axvline(p, color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"peak at {p}", (p, float(mean[age == p].iloc[0])), textcoords="offset points",
                    xytext=(4, 6), fontsize=8)
    if zero_line:
        ax.axhline(0, color="black", linewidth=0.8)
    ax.set(xlabel="Age (nearest year)", ylabel=ylabel, title=title)
    ax.set_xticks(range(0, 18, 1))
    return ax


def provision_map(points: pd.DataFrame, centres: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Axes:
    """Register places by postcode sector (size: places; colour: setting type) with council labels."""
    ax = ax if ax is not None else plt.subplots(figsize=(9, 7))[1]
    palette = dict(zip(sorted(points["PLACE"].unique()), sns.color_palette("colorblind", points["PLACE"].nunique())))
    for place, g in points.groupby("PLACE"):
        ax.scatter(g["X"] / 1000, g["Y"] / 1000, s=6 + 2.5 * g["places"].astype(float), alpha=0.6,
                   color=palette[place], label=place, edgecolors="none")
    for r in centres.itertuples():
        ax.annotate(r.LA, (r.X / 1000, r.Y / 1000), fontsize=7, ha="center", weight="bold")
    ax.set(xlabel="Easting (km)", ylabel="Northing (km)", title=title, aspect="equal")
    ax.legend(title="Setting type", fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def shortfall_heatmaps(shortfall: pd.DataFrame, children: pd.DataFrame, reaches: dict[str, str],
                       ax=None) -> np.ndarray:
    """One heat map a reach: share of the children of each profile (columns) and area (rows) who
    could not be given a suitable place within the reach, annotated with the count.

    shortfall: the published long table (REACH, PROFILE, AREA, shortfall); children: the published
    crosstab of children in scope (councils by profile with Totals). Suppressed cells are blank.
    `ax`: one axes a reach (default: a new figure); returns the array of axes.
    """
    kids = _numeric_frame(children).rename(index={TOTAL: "Region"}, columns={TOTAL: "all"})
    kids.columns = [next((p for p in PROFILES if _label(p) == c or p == c), c) for c in kids.columns]
    profiles = [p for p in PROFILES if p in kids.columns] + ["all"]
    axes = panels_or_new(ax, len(reaches), (3.2 * len(reaches), 0.32 * len(kids) + 2.2),
                         sharey=True, constrained_layout=True)
    short_names = {"straightforward": "Straightf.", "complex_chronic": "Complex", "extensive_enduring": "Extensive",
                   "not_assessed": "Not assessed", "all": "All"}
    for ax, (reach, label) in zip(axes, reaches.items()):
        s = shortfall.loc[shortfall["REACH"].eq(reach)].pivot(index="AREA", columns="PROFILE", values="shortfall")
        s = s.reindex(index=kids.index, columns=profiles)
        counts = _numeric_frame(s)
        pct = 100 * counts / kids.reindex(columns=profiles).where(lambda k: k > 0)
        sns.heatmap(pct, ax=ax, vmin=0, vmax=100, cmap="Reds", cbar=ax is axes[-1],
                    cbar_kws={"label": "% of children without a suitable place"}, linewidths=0.5)
        ax.set_facecolor("#eeeeee")  # suppressed or no children: grey
        ax.grid(False)
        for i in range(s.shape[0]):
            for j in range(s.shape[1]):
                raw = s.iat[i, j]
                text = "c" if isinstance(raw, str) else "" if pd.isna(raw) else f"{float(raw):.0f}"
                dark = pd.notna(pct.iat[i, j]) and pct.iat[i, j] > 60
                ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
        ax.set_xticklabels([short_names.get(p, p) for p in profiles], rotation=45, ha="right")
        ax.set(title=label, xlabel="", ylabel="")
    return axes


def category_bars(categories: pd.DataFrame, labels: dict[str, str], title: str = "", ax: Axes | None = None) -> Axes:
    """Stacked bars: % of each market's children in each nearest-suitable category (published table)."""
    ax = ax if ax is not None else plt.subplots(figsize=(10, 3.2))[1]
    t = categories.assign(pct=numeric(categories["percent"]))
    markets = list(dict.fromkeys(t["market"]))
    colours = sns.color_palette("RdYlGn_r", len(labels))
    left = np.zeros(len(markets))
    for colour, (cat, label) in zip(colours, labels.items()):
        values = np.array([t.loc[t["market"].eq(m) & t["category"].eq(cat), "pct"].fillna(0).sum() for m in markets])
        ax.barh(markets, values, left=left, color=colour, label=label)
        left += values
    ax.invert_yaxis()
    ax.set(xlabel="% of children", title=title, xlim=(0, 100))
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.25), ncol=2)
    return ax


def forecast_fan(history: pd.DataFrame, forecast: pd.DataFrame, ax=None) -> np.ndarray:
    """Per profile: children looked after on 31 March (published crosstab, years by profile) and the
    forecast with its interval (model table: PROFILE, YEAR, estimate, low, high). `ax`: one axes a
    profile and one for all children (default: a new figure); returns the array of axes."""
    hist = _numeric_frame(history.drop(index=TOTAL, errors="ignore"))
    hist.columns = [next((p for p in PROFILES if _label(p) == c or p == c), "all" if c == TOTAL else c)
                    for c in hist.columns]
    keys = [p for p in (*PROFILES, "all") if p in hist.columns]
    axes = panels_or_new(ax, len(keys), (3.1 * len(keys), 3.2), constrained_layout=True)
    for ax, key in zip(axes, keys):
        colour = COLOURS.get(key, "black")
        years = hist.index.astype(int)
        ax.plot(years, hist[key], marker="o", color=colour)
        f = forecast.loc[forecast["PROFILE"].eq(key)].sort_values("YEAR")
        if len(f):
            x = np.r_[years[-1], f["YEAR"].astype(int)]
            y = np.r_[hist[key].iloc[-1], f["estimate"].astype(float)]
            ax.plot(x, y, linestyle="--", marker="o", color=colour, markerfacecolor="white")
            ax.fill_between(f["YEAR"].astype(int), f["low"].astype(float), f["high"].astype(float), alpha=0.25,
                            color=colour, linewidth=0)
        ax.set(title=_label(key) if key != "all" else "All children", xlabel="31 March")
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelrotation=45)
    axes[0].set_ylabel("Children looked after")
    return axes
