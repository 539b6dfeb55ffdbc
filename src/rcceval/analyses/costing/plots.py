"""Figures of question 3 (each takes `ax=None` and returns the axes it drew on), drawn only from published tables (by-profile summaries, intervals over
Monte Carlo draws, the tornado table): never from child-level rows. Suppressed cells ("c") are
left out of anything drawn."""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from rcceval.reporting.figures import axes_or_new, numeric
from rcceval.spec.codes import DAYS_PER_YEAR

POUNDS = FuncFormatter(lambda v, _: f"£{v:,.0f}")
SCENARIO_LABELS = {"unit_cost": "Unit-cost commissioning", "needs_led": "Needs-led commissioning"}


def _wrap(labels) -> list[str]:
    return ["\n".join(textwrap.wrap(str(x), 22)) for x in labels]


def static_gap(summary: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Axes:
    """Needs-led minus unit cost per placement-week by profile: the 10-90% range (line), the
    middle half (box) and the median (dot). Right of zero: unit costs under-fund the child's needs."""
    ax = axes_or_new(ax, (8.5, 0.9 + 0.7 * len(summary)))
    y = np.arange(len(summary))[::-1]
    q = {k: numeric(summary[f"diff_{k}"]).to_numpy(float) for k in ("p10", "p25", "median", "p75", "p90")}
    ax.hlines(y, q["p10"], q["p90"], color="C0", lw=1.5)
    ax.barh(y, q["p75"] - q["p25"], left=q["p25"], height=0.4, color="C0", alpha=0.35)
    ax.plot(q["median"], y, "o", color="C0", label="median")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, _wrap(summary["profile"]))
    ax.xaxis.set_major_formatter(POUNDS)
    ax.set(xlabel="Needs-led minus unit cost, £ a week (right of 0: unit costs under-fund)", title=title)
    return ax


def scenario_bars(summary: pd.DataFrame, value: str, ylabel: str, title: str = "", ax: Axes | None = None) -> Axes:
    """A value by profile under each scenario, with its Monte Carlo interval (columns value,
    value_lower, value_upper; rows scenario x profile)."""
    ax = axes_or_new(ax, (9, 4.5))
    profiles = list(dict.fromkeys(summary["profile"]))
    x = np.arange(len(profiles))
    width = 0.38
    for i, (sc, label) in enumerate(SCENARIO_LABELS.items()):
        part = summary.loc[summary["scenario"] == sc].set_index("profile").reindex(profiles)
        v = numeric(part[value]).to_numpy(float)
        lo, hi = numeric(part[f"{value}_lower"]).to_numpy(float), numeric(part[f"{value}_upper"]).to_numpy(float)
        ax.bar(x + (i - 0.5) * width, v, width, color=f"C{i}", label=label,
               yerr=np.vstack([v - lo, hi - v]), capsize=3, error_kw={"lw": 1})
    ax.set_xticks(x, _wrap(profiles))
    ax.set(ylabel=ylabel, title=title)
    if "cost" in value:
        ax.yaxis.set_major_formatter(POUNDS)
    ax.legend(frameon=False, fontsize=9)
    return ax


def tornado(table: pd.DataFrame, top: int = 12, title: str = "", ax: Axes | None = None) -> Axes:
    """One-at-a-time sensitivity: the cost difference per child-year with each figure at the low
    and high end of its range (bars from the base value)."""
    t = table.head(top).iloc[::-1]
    base = float(t["base"].iloc[0])
    ax = axes_or_new(ax, (9, 0.8 + 0.42 * len(t)))
    y = np.arange(len(t))
    lo, hi = t["at_low"].to_numpy(float), t["at_high"].to_numpy(float)
    ax.barh(y, lo - base, left=base, color="C0", label="figure at the low end of its range")
    ax.barh(y, hi - base, left=base, color="C1", label="figure at the high end of its range")
    ax.axvline(base, color="black", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    labels = [f"{p} ({_num(a)} to {_num(b)})" for p, a, b in zip(t["parameter"], t["low"], t["high"])]
    ax.set_yticks(y, labels, fontsize=8)
    ax.xaxis.set_major_formatter(POUNDS)
    ax.set(xlabel="Needs-led minus unit cost, £ per child-year", title=title)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return ax


def _num(v: float) -> str:
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.2f}"


def fee_ratios(fees: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Axes:
    """Unit cost / actual fee by cost group: the median (dot) and the 10-90% range (line); 1 = the
    unit cost equals the fee paid."""
    f = fees.loc[fees["by"] == "cost group"].copy()
    f = f.loc[numeric(f["ratio_median"]).notna()]
    ax = axes_or_new(ax, (8, 0.9 + 0.45 * max(len(f), 1)))
    y = np.arange(len(f))[::-1]
    ax.hlines(y, numeric(f["ratio_p10"]), numeric(f["ratio_p90"]), color="C2")
    ax.plot(numeric(f["ratio_median"]), y, "o", color="C2")
    ax.axvline(1, color="black", lw=0.8)
    ax.set_yticks(y, f["level"].astype(str))
    ax.set(xlabel="Unit cost / weekly fee paid (1 = the same)", title=title)
    return ax


def first_placement_check(check: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Axes:
    """Simulated share of first placements still running (all endings) against the model's survival
    and the data's Kaplan-Meier estimate, by profile (columns profile, day, simulated, model, observed_km)."""
    ax = axes_or_new(ax, (8, 4.2))
    for i, (prof, part) in enumerate(check.groupby("profile", sort=False)):
        years = part["day"] / DAYS_PER_YEAR
        ax.plot(years, numeric(part["model"]), color=f"C{i}", label=f"{prof}: model")
        ax.plot(years, numeric(part["simulated"]), "o", color=f"C{i}", ms=4, label=f"{prof}: simulated")
        if "observed_km" in part:
            ax.plot(years, numeric(part["observed_km"]), "x--", color=f"C{i}", ms=5, lw=0.8,
                    label=f"{prof}: data (Kaplan-Meier)")
    ax.set(xlabel="Years since the placement started", ylabel="First placement still running", title=title)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return ax


def acceptability(curves: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Axes:
    """The PSA's published curves against the value placed on one disruption averted: the probability that
    needs-led is worth it (CEAC, left axis) and the EVPI and EVPPI of the mismatch effect per child (right)."""
    ax = axes_or_new(ax, (8.5, 4.2))
    v = numeric(curves["value"]).to_numpy(float)
    ax.plot(v, numeric(curves["ceac"]).to_numpy(float), color="C0", lw=2, label="P(needs-led worth it)")
    ax.set(ylim=(0, 1), ylabel="Probability needs-led is worth it", xlabel="Value of one disruption averted (£)",
           title=title)
    ax.xaxis.set_major_formatter(POUNDS)
    ax2 = ax.twinx()
    ax2.plot(v, numeric(curves["evpi"]).to_numpy(float), color="C1", ls="--", label="EVPI per child")
    if curves["evppi_mismatch"].notna().any():
        ax2.plot(v, numeric(curves["evppi_mismatch"]).to_numpy(float), color="C2", ls=":",
                 label="EVPPI (mismatch effect) per child")
    ax2.yaxis.set_major_formatter(POUNDS)
    ax2.set_ylabel("Value of information per child (£)")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [h.get_label() for h in lines], loc="center right", fontsize=8)
    return ax
