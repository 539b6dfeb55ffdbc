"""Figures of question 2 (each takes `ax=None` and returns the axes it drew on), drawn only from published tables (curves read on a grid, numbers at
risk after disclosure control, model tables): never from child-level rows.

Suppressed cells ("c") are shown as "c" in the at-risk rows and left out of anything drawn.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from rcceval.reporting.figures import axes_or_new, numeric, panels_or_new
from rcceval.spec.codes import DAYS_PER_YEAR


def _years(days) -> np.ndarray:
    return np.asarray(days, dtype=float) / DAYS_PER_YEAR


def survival_curves(curves: pd.DataFrame, at_risk: pd.DataFrame | None = None, value: str = "surv",
                    ylabel: str = "", title: str = "", ax: Axes | None = None) -> Axes:
    """Step curves with confidence bands by profile (columns profile, day, value, lower, upper);
    with `at_risk` (published: profile, day, at_risk), the numbers at risk under the axis."""
    ax = axes_or_new(ax, (9, 4.8))
    profiles = list(dict.fromkeys(curves["profile"]))
    for i, prof in enumerate(profiles):
        c = curves.loc[curves["profile"] == prof]
        colour = f"C{i}"
        ax.step(_years(c["day"]), c[value], where="post", color=colour, label=prof)
        ax.fill_between(_years(c["day"]), c["lower"], c["upper"], step="post", color=colour, alpha=0.15, lw=0)
    ax.set(xlabel="Years since the placement started", ylabel=ylabel, title=title)
    ax.set_ylim(0, 1)
    ax.set_xlim(left=0)
    ax.legend(loc="best", fontsize=8, frameon=False)
    if at_risk is not None and len(at_risk):
        # whole years only under the axis (the published table has every tabulated day)
        days = [d for d in sorted(at_risk["day"].unique()) if d == 0 or abs(d / DAYS_PER_YEAR - round(d / DAYS_PER_YEAR)) < 0.02]
        xmax = ax.get_xlim()[1]
        ax.text(-0.01, -0.2, "At risk", transform=ax.transAxes, ha="right", va="top", fontsize=8, weight="bold")
        for i, prof in enumerate(profiles):
            rows = at_risk.loc[at_risk["profile"] == prof].set_index("day")
            for d in days:
                x = _years(d)
                if x > xmax or d not in rows.index:
                    continue
                ax.text(x, -0.2 - 0.07 * (i + 1), str(rows.loc[d, "at_risk"]), color=f"C{i}",
                        transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=7)
        ax.figure.subplots_adjust(bottom=0.2 + 0.07 * len(profiles))
    return ax


def incidence_panels(curves: pd.DataFrame, title: str = "", ax=None) -> np.ndarray:
    """One panel per ending: cumulative incidence by profile (columns profile, cause, day, cif, lower, upper).
    `ax`: one axes per ending (default: a new figure); returns the array of axes."""
    causes = list(dict.fromkeys(curves["cause"]))
    axes = panels_or_new(ax, len(causes), (4 * len(causes), 4), sharey=True)
    fig = axes[0].figure
    profiles = list(dict.fromkeys(curves["profile"]))
    for ax, cause in zip(axes, causes):
        for i, prof in enumerate(profiles):
            c = curves.loc[(curves["cause"] == cause) & (curves["profile"] == prof)]
            ax.step(_years(c["day"]), c["cif"], where="post", color=f"C{i}", label=prof)
            ax.fill_between(_years(c["day"]), c["lower"], c["upper"], step="post", color=f"C{i}", alpha=0.15, lw=0)
        ax.set(title=cause, xlabel="Years since the placement started")
        ax.set_ylim(0, 1)
        ax.set_xlim(left=0)
    axes[0].set_ylabel("Cumulative incidence")
    axes[0].legend(loc="upper left", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, weight="bold")
    fig.tight_layout()
    return axes


def _log_hr_axis(ax) -> None:
    """Log-scale x axis with plain tick labels (0.5, 1, 2), not powers of ten."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def forest(table: pd.DataFrame, truth: pd.Series | None = None, title: str = "", groups: dict | None = None,
           ax: Axes | None = None) -> Axes:
    """Hazard ratios with CIs (columns hr, hr_lower, hr_upper; index covariate), log scale; with
    `truth` (covariate -> generating HR), the generating values as open diamonds."""
    t = table.iloc[::-1]
    ax = axes_or_new(ax, (7.5, 0.28 * len(t) + 1.2))
    y = np.arange(len(t))
    hr, lo, hi = (numeric(t[c]).to_numpy() for c in ("hr", "hr_lower", "hr_upper"))
    ax.errorbar(hr, y, xerr=[hr - lo, hi - hr], fmt="o", color="C0", ms=4, capsize=2, label="estimate (95% CI)")
    if truth is not None:
        tv = truth.reindex(t.index).to_numpy(dtype=float)
        ax.plot(tv, y, "D", mfc="none", color="C3", ms=5, label="generating value")
    return _finish_forest(ax, list(t.index), "Hazard ratio of an unplanned ending (log scale)", title)


def _finish_forest(ax: Axes, labels: list[str], xlabel: str, title: str) -> Axes:
    """The common frame of every forest plot: the line at HR 1, log axis, labels, legend outside."""
    ax.axvline(1, color="grey", lw=0.8)
    _log_hr_axis(ax)
    ax.set_yticks(np.arange(len(labels)), labels, fontsize=8)
    ax.set(xlabel=xlabel, title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.figure.tight_layout()
    return ax


def compare_forest(table: pd.DataFrame, models: list[str], title: str = "", ax: Axes | None = None) -> Axes:
    """Several models' HRs per covariate (columns '<model>: hr', '<model>: hr_lower', '<model>: hr_upper')."""
    t = table.iloc[::-1]
    ax = axes_or_new(ax, (7.5, 0.32 * len(t) + 1.2))
    y = np.arange(len(t))
    width = 0.35
    for k, m in enumerate(models):
        hr = t[f"{m}: hr"].to_numpy(dtype=float)
        lo, hi = t[f"{m}: hr_lower"].to_numpy(dtype=float), t[f"{m}: hr_upper"].to_numpy(dtype=float)
        off = (k - (len(models) - 1) / 2) * width
        ok = np.isfinite(hr)
        ax.errorbar(hr[ok], (y + off)[ok], xerr=[(hr - lo)[ok], (hi - hr)[ok]], fmt="o", ms=3.5, capsize=2,
                    color=f"C{k}", label=m)
    return _finish_forest(ax, list(t.index), "Hazard ratio (log scale)", title)


def grid_heatmap(table: pd.DataFrame, value: str, rows: str = "peak_intensity", cols: str = "peak_frequency",
                 title: str = "", fmt: str = "{:.0%}", ax: Axes | None = None) -> Axes:
    """A heatmap of `value` over the intensity x frequency grid (long published table)."""
    wide = table.pivot(index=rows, columns=cols, values=value)
    row_order = list(dict.fromkeys(table[rows]))
    col_order = list(dict.fromkeys(table[cols]))
    wide = wide.reindex(index=row_order[::-1], columns=col_order)
    values = wide.apply(numeric).to_numpy(dtype=float)
    ax = axes_or_new(ax, (6.5, 4))
    im = ax.imshow(values, cmap="Reds", vmin=0, vmax=np.nanmax(values) if np.isfinite(values).any() else 1)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            text = "c" if wide.iloc[i, j] == "c" else ("" if np.isnan(values[i, j]) else fmt.format(values[i, j]))
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="white" if np.isfinite(values[i, j]) and values[i, j] > 0.6 * np.nanmax(values) else "black")
    ax.set_xticks(range(len(col_order)), [textwrap.fill(c, 16) for c in col_order], fontsize=8)
    ax.set_yticks(range(len(row_order)), row_order[::-1], fontsize=8)
    ax.set(xlabel="Frequency of the most intense need", ylabel="Highest intensity of need", title=title)
    ax.grid(False)
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    ax.figure.tight_layout()
    return ax


def hr_text(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Side-by-side model table ('<model>: hr', ': hr_lower', ': hr_upper') as 'HR (lower-upper)' per model."""
    models = list(dict.fromkeys(c.rsplit(": ", 1)[0] for c in table.columns))
    out = pd.DataFrame(index=table.index)
    for m in models:
        hr, lo, hi = (table[f"{m}: {k}"] for k in ("hr", "hr_lower", "hr_upper"))
        out[m] = [f"{h:.{digits}f} ({a:.{digits}f}–{b:.{digits}f})" if np.isfinite(h) else "–"
                  for h, a, b in zip(hr, lo, hi)]
    return out
