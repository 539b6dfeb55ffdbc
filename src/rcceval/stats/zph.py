"""The proportional-hazards test of R survival >= 3.0 `cox.zph`, exactly.

Why this module exists
----------------------
Question 2 needs a test of proportional hazards a reviewer can rerun in R. lifelines'
`proportional_hazard_test(time_transform="rank")` ranks the rows in their stored order, which for
a council-stratified model is council first and time second, so its "time" is mostly the
council: on the default region it gives a global p = 0.44 where R gives 0.04. R's test (Grambsch
& Therneau 1994, as rewritten in survival 3.0) is a score test, in the Cox model at beta-hat, of
an added term x * g(t) for every covariate: with

    U2 = sum over event times t of g(t) * (Efron score contribution at t)   (p values)
    I  = [[I0, I1], [I1, I2]],  Im = sum over t of g(t)^m * (Efron information at t)

the test for a term with columns J is u' I[K, K]^-1 u with K = (all p, J + p) and
u = (0, U2[J]) (the score for beta is taken as 0: beta is at its estimate); the global test
uses all 2p. g(t) is the transformed time minus its mean over the events. The default
transform "km" is 1 - S(t-) with S the Kaplan-Meier curve of all rows pooled across strata and
without case weights (R: `survfitKM(factor(rep(1, n)), y)`), read left-continuously; risk sets
and the Efron terms are within strata. This copies R's C routines zph1 (right-censored) and
zph2 (counting process) term by term; tests/test_zph.py checks every statistic against R to
1e-6.

Use: ``cox_zph(fit.coef, T, E, X, strata=council)`` with `fit` from `stats.cox.cox_efron` (or
lifelines' `params_`), on the rows and covariates the model was fitted to. Not copied: the
scaled Schoenfeld residuals cox.zph returns for plots, `singledf`, penalised terms.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

# The Cox engine's data layout (rows sorted by stratum and time, Efron expansion) is reused so
# the PH test sees exactly the risk sets, ties and centring of the fit it tests.
from rcceval.stats.cox import CoxResult, _as_matrix, _efron_terms, _group_cumulative, _prepare

__all__ = ["ZphResult", "cox_zph", "km_transform", "TRANSFORMS"]

TRANSFORMS = ("km", "rank", "identity", "log")


@dataclass(frozen=True)
class ZphResult:
    """cox.zph's table: one row per term and "GLOBAL"; columns chisq, df, p."""

    table: pd.DataFrame
    transform: str

    @property
    def global_test(self) -> tuple[float, int, float]:
        row = self.table.loc["GLOBAL"]
        return float(row["chisq"]), int(row["df"]), float(row["p"])

    def holm(self, alpha: float = 0.05) -> pd.DataFrame:
        """The table as question 2 reports it: statistic, df, p, Holm-adjusted p over the terms
        (R's p.adjust(method = "holm"); not for GLOBAL) and fails (adjusted p below alpha; for
        GLOBAL, p below alpha). Same columns as analyses/survival's lifelines-based ph_test."""
        out = self.table.rename(columns={"chisq": "statistic"})[["statistic", "df", "p"]].copy()
        terms = out.index != "GLOBAL"
        p = out.loc[terms, "p"].to_numpy()
        order = np.argsort(p, kind="stable")
        adj = np.empty_like(p)
        adj[order] = np.minimum(1.0, np.maximum.accumulate(p[order] * (p.size - np.arange(p.size))))
        out["p_holm"] = np.nan
        out.loc[terms, "p_holm"] = adj
        out["fails"] = np.where(terms, out["p_holm"] < alpha, out["p"] < alpha)
        out.index.name = "covariate"
        return out


def km_transform(durations, events, entry=None) -> np.ndarray:
    """1 - S(t-) per row, S the pooled, unweighted Kaplan-Meier curve (R's cox.zph "km")."""
    stop = np.asarray(durations, dtype=float)
    ev = np.asarray(events).astype(bool)
    times = np.unique(stop[ev])
    n_events = np.bincount(np.searchsorted(times, stop[ev]), minlength=times.size)
    # at risk at t: stop >= t (and start < t with delayed entry)
    sorted_stop = np.sort(stop)
    at_risk = stop.size - np.searchsorted(sorted_stop, times, side="left")
    if entry is not None:
        sorted_start = np.sort(np.asarray(entry, dtype=float))
        at_risk = at_risk - (sorted_start.size - np.searchsorted(sorted_start, times, side="left"))
    surv = np.cumprod(1.0 - n_events / at_risk)
    before = np.searchsorted(times, stop, side="left")  # event times strictly before each stop
    return 1.0 - np.r_[1.0, surv][before]


def _transform(name: str, durations, events, entry) -> np.ndarray:
    t = np.asarray(durations, dtype=float)
    if name == "km":
        return km_transform(durations, events, entry)
    if name == "rank":
        return stats.rankdata(t)  # R rank(): ties get the average rank
    if name == "identity":
        return t
    if name == "log":
        return np.log(t)
    raise ValueError(f"transform must be one of {TRANSFORMS}, not {name!r}")


def _score_and_information(data, beta: np.ndarray, gtime_sorted: np.ndarray):
    """U2 (p) and the 2p x 2p information of the added x * g(t) terms, as zph1/zph2."""
    terms = _efron_terms(data, beta, want_info=False)
    X, w, d_rows = data.X, data.w, data.deaths
    kg, kf = data.k_group, data.k_frac
    G = data.g_key.size
    h = gtime_sorted[d_rows][data.g_first_death]       # g(t) of each event-time group
    wr = w * terms.risk
    mw = terms.mw
    u2 = X[d_rows].T @ (w[d_rows] * h[data.death_group[d_rows]]) - terms.mean.T @ (mw * h[kg])
    powers = np.column_stack([np.ones(G), h, h * h])          # g(t)^m, m = 0, 1, 2
    hazard = np.bincount(kg, weights=mw / terms.den, minlength=G)[:, None] * powers
    hazard_k = np.bincount(kg, weights=mw * kf / terms.den, minlength=G)[:, None] * powers
    v = wr[:, None] * _group_cumulative(data, hazard)            # one pass for all three
    v[d_rows] -= wr[d_rows, None] * hazard_k[data.death_group[d_rows]]
    blocks = []
    for m in range(3):
        info = (X * v[:, m:m + 1]).T @ X - (terms.mean * (mw * powers[kg, m])[:, None]).T @ terms.mean
        blocks.append((info + info.T) / 2)
    imat = np.block([[blocks[0], blocks[1]], [blocks[1], blocks[2]]])
    return u2, imat


def cox_zph(coef: CoxResult | Sequence[float], durations, events, X, strata=None, weights=None,
            entry=None, transform: str = "km", terms: Mapping[str, Sequence[str]] | None = None,
            names: Sequence[str] | None = None) -> ZphResult:
    """R's ``cox.zph(coxph(...), transform)`` table for a Cox model fitted with Efron ties.

    `coef` is the fitted model (a `CoxResult`, whose names are used) or its coefficients; the
    other arguments are the data it was fitted to, as `cox_efron` takes them. `terms` groups
    columns into multi-column terms (e.g. the dummies of one factor: one test with as many
    degrees of freedom); by default every column is its own term, as in R when each covariate
    is a separate term of the formula.
    """
    mat, default_names = _as_matrix(X)
    if isinstance(coef, CoxResult):
        beta, col_names = np.asarray(coef.coef, dtype=float), list(coef.names)
    else:
        beta = np.asarray(coef, dtype=float)
        col_names = list(names) if names is not None else default_names
    p = mat.shape[1]
    if beta.shape != (p,) or not np.isfinite(beta).all():
        raise ValueError(f"coef must be {p} finite values, one per column of X")
    if len(col_names) != p:
        raise ValueError("names must name every column of X")
    if terms is None:
        terms = {name: [name] for name in col_names}
    index = {name: j for j, name in enumerate(col_names)}
    unknown = [c for cols in terms.values() for c in cols if c not in index]
    if unknown:
        raise ValueError(f"terms name columns not in the model: {unknown}")

    data = _prepare(durations, events, mat, strata=strata, weights=weights, entry=entry)
    ttimes = _transform(transform, durations, events, entry)
    ev = np.asarray(events).astype(bool)
    gtime = ttimes - ttimes[ev].mean()
    u2, imat = _score_and_information(data, beta, gtime[data.order])

    rows, labels = [], []
    u = np.r_[np.zeros(p), u2]
    for term, cols in terms.items():
        jj = np.array([index[c] for c in cols])
        kk = np.r_[np.arange(p), jj + p]
        stat = float(u[kk] @ linalg.solve(imat[np.ix_(kk, kk)], u[kk], assume_a="sym"))
        rows.append((stat, len(jj)))
        labels.append(term)
    stat = float(u @ linalg.solve(imat, u, assume_a="sym"))
    rows.append((stat, p))
    labels.append("GLOBAL")
    table = pd.DataFrame(rows, columns=["chisq", "df"], index=pd.Index(labels, name="term"))
    table["p"] = stats.chi2.sf(table["chisq"], table["df"])
    return ZphResult(table=table, transform=transform)
