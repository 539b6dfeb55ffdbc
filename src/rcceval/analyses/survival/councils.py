"""Council heterogeneity of question 2's needs associations: a two-stage random-effects meta-analysis.

The main model is stratified by council (each its own baseline hazard) but assumes one hazard ratio
everywhere. Before any statement about England, each needs term's log HR is estimated in each council
(the main model's covariates and rows, refitted within the council, pooled over the imputations of
unknown causes, two-way clustered variance) and the council estimates pooled with a random effect
(stats/meta.py, REML tau^2). The prediction interval is the range for a new council like these:
the interval an England-level sentence quotes.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from rcceval.analyses.survival.data import UNPLANNED, Design
from rcceval.analyses.survival.unknown import pooled_fit
from rcceval.stats.meta import random_effects

METHOD = ("two-stage random-effects meta-analysis: the main model refitted in each council, log HRs pooled with "
          "REML tau^2; prediction interval mu +/- t(k-2) sqrt(tau^2 + se^2) (Higgins, Thompson & Spiegelhalter 2009)")


def council_estimates(d: Design, draws: np.ndarray | None, covariates: list[str], min_events: int = 20) -> pd.DataFrame:
    """Log HR and variance of each covariate in each council with at least `min_events` unplanned endings
    (long: council, covariate, coef, var). Columns constant within a council, and levels with no unplanned
    ending there, are left out of its fit; a fit that fails to converge is left out."""
    rows = []
    for council in sorted(pd.unique(d.stratum)):
        keep = d.stratum == council
        sub = d.subset(keep)
        cd = None if draws is None else draws[:, keep]
        if int((sub.cause == UNPLANNED).sum()) < min_events:
            continue
        const = [c for c in sub.names if sub.X[c].nunique() < 2]
        sub = sub.subset(np.ones(len(sub.time), bool), const)
        cols, drop = sub.eventless_levels(UNPLANNED)
        if cols:
            sub = sub.subset(~drop, cols)
            cd = None if cd is None else cd[:, ~drop]
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            try:
                fit = pooled_fit(sub, UNPLANNED, cd)
            except (RuntimeWarning, np.linalg.LinAlgError, ValueError):
                continue
        for j, c in enumerate(sub.names):
            if c in covariates and np.isfinite(fit.se_two_way[j]) and fit.se_two_way[j] > 0:
                rows.append((str(council), c, float(fit.coef[j]), float(fit.se_two_way[j] ** 2)))
    return pd.DataFrame(rows, columns=["council", "covariate", "coef", "var"])


def council_heterogeneity(d: Design, draws: np.ndarray | None, covariates: list[str],
                          level: float = 0.95) -> pd.DataFrame:
    """Per covariate: councils (k), pooled HR and CI, tau^2, I^2, Q's p and the prediction interval
    (HR scale; NaN with fewer than 3 councils)."""
    est = council_estimates(d, draws, covariates)
    out = []
    for c in covariates:
        e = est.loc[est["covariate"] == c]
        if len(e) < 2:
            continue
        r = random_effects(e["coef"].to_numpy(), e["var"].to_numpy(), level=level).to_dict()
        out.append({"covariate": c, "councils": r["k"], "hr": np.exp(r["mu"]), "hr_lower": np.exp(r["lower"]),
                    "hr_upper": np.exp(r["upper"]), "tau2": r["tau2"], "i2": r["i2"], "q_p": r["q_p"],
                    "pi_lower": np.nan if r["pi_lower"] is None else np.exp(r["pi_lower"]),
                    "pi_upper": np.nan if r["pi_upper"] is None else np.exp(r["pi_upper"])})
    cols = ["covariate", "councils", "hr", "hr_lower", "hr_upper", "tau2", "i2", "q_p", "pi_lower", "pi_upper"]
    return pd.DataFrame(out, columns=cols).set_index("covariate")
