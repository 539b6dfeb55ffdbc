"""Question 1's figures, drawn from the published tables only (suppressed cells are left out).

Each function takes `ax=None` (a new figure when not given) and returns the axes it drew on
(lifelines' convention); the notebook saves the figure through the publisher.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rcceval.analyses.prediction.text import term_label
from rcceval.reporting.figures import numeric


def _errorbar_h(ax, y, est, lo, hi, **kw) -> None:
    est, lo, hi = (numeric(pd.Series(v)).to_numpy(float) for v in (est, lo, hi))
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", capsize=3, **kw)


def auc_and_gains(comparison: pd.DataFrame, delta: pd.DataFrame, ax=None):
    """Left: cross-validated AUC of each model with its 95% CI; right: the AUC gains with theirs.
    `ax`: a pair of axes (default: a new figure of two)."""
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(11, 3), gridspec_kw={"width_ratios": [1.3, 1]})
    ax1, ax2 = ax
    models = list(comparison.index)
    y = np.arange(len(models))
    _errorbar_h(ax1, y, comparison["auc"], comparison["auc_ci_low"], comparison["auc_ci_high"])
    ax1.set_yticks(y, [f"{m}: {comparison.loc[m, 'label']}" for m in models])
    ax1.invert_yaxis()
    ax1.set(xlabel="Cross-validated AUC (95% CI)", title="Discrimination")
    y2 = np.arange(len(delta))
    _errorbar_h(ax2, y2, delta["estimate"], delta["ci_low"], delta["ci_high"], color="C1")
    ax2.axvline(0, color="grey", lw=1)
    ax2.set_yticks(y2, list(delta.index))
    ax2.invert_yaxis()
    ax2.set(xlabel="ΔAUC (95% bootstrap CI, children resampled)", title="Gain from adding")
    ax1.figure.tight_layout()
    return ax


def calibration(table: pd.DataFrame, ax=None):
    """Mean predicted against censoring-weighted observed risk, by tenth of predicted risk, per model."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    top = 0.0
    for i, (model, t) in enumerate(table.groupby("model", sort=True)):
        pred, obs = numeric(t["predicted"]), numeric(t["observed"])
        lo, hi = numeric(t["observed_ci_low"]), numeric(t["observed_ci_high"])
        ax.errorbar(pred, obs, yerr=[obs - lo, hi - obs], fmt="o-", ms=4, capsize=2, label=model, color=f"C{i}")
        top = max(top, float(np.nanmax([pred.max(), hi.max()])))
    ax.plot([0, top], [0, top], ls="--", color="grey", lw=1, label="perfect calibration")
    ax.set(xlabel="Predicted risk of an unplanned ending by the horizon",
           ylabel="Observed (censoring-weighted)", title="Calibration by tenth of predicted risk")
    ax.legend()
    return ax


def drop_one(table: pd.DataFrame, ax=None):
    """How much the AUC falls when one domain (its intensity and frequency) is left out of M1."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    t = table.sort_values("estimate", ascending=False)
    y = np.arange(len(t))
    est = numeric(t["estimate"]).to_numpy(float)
    ax.barh(y, est, color="C2", alpha=0.6)
    _errorbar_h(ax, y, t["estimate"], t["ci_low"], t["ci_high"], color="black")
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(y, [d.replace("_", " ") for d in t["domain"]])
    ax.invert_yaxis()
    ax.set(xlabel="AUC lost when the domain is left out (95% CI)", title="Contribution of each domain")
    return ax


def council_widths(table: pd.DataFrame, ax=None):
    """Forest plot: the needs effect (HR per point of total intensity) in each council alone and pooled."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * len(table) + 1.5))
    t = table.reset_index(drop=True)
    y = np.arange(len(t))
    pooled = t["LA"].eq("Region (pooled)").to_numpy()
    _errorbar_h(ax, y[~pooled], t.loc[~pooled, "hr_per_point"], t.loc[~pooled, "ci_low"], t.loc[~pooled, "ci_high"])
    _errorbar_h(ax, y[pooled], t.loc[pooled, "hr_per_point"], t.loc[pooled, "ci_low"], t.loc[pooled, "ci_high"],
                color="C3")
    ax.axvline(1, color="grey", lw=1)
    labels = [f"{la} ({p})" for la, p in zip(t["LA"], t["placements"])]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set(xlabel="Hazard ratio per point of total intensity of need (95% CI)",
           title="One council alone against the pooled region (placements)")
    return ax


def effects(table: pd.DataFrame, models: tuple[str, ...] = ("M1", "M2"), ax=None):
    """Hazard ratios of the needs terms (and mismatch) in M1 and M2, with 95% CIs."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 7))
    t = table.reset_index()
    terms = list(dict.fromkeys(t["term"]))
    base = np.arange(len(terms))
    for i, m in enumerate(models):
        tm = t[t["model"] == m].set_index("term").reindex(terms)
        _errorbar_h(ax, base + (i - (len(models) - 1) / 2) * 0.3, tm["hr"], tm["ci_low"], tm["ci_high"],
                    label=m, color=f"C{i}", ms=4)
    ax.axvline(1, color="grey", lw=1)
    ax.set_yticks(base, [term_label(x) for x in terms])
    ax.invert_yaxis()
    ax.set(xlabel="Hazard ratio of an unplanned ending per point (95% CI, robust by child)", title="Needs and mismatch")
    ax.legend()
    return ax
