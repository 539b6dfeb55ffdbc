"""Question 2's endings of unknown cause, and the variance clustered by child and provider.

An ending the data cannot classify is an ending (the placement stopped on its END date); only its
cause is missing. The Cox models therefore never censor it: its cause is multiply imputed from the
endings of known cause given the model's covariates, the council and the time of the ending
(Lu & Tsiatis 2001; stats/impute_cause.py), each completed data set is fitted, and the fits are
combined by Rubin's rules. Two bounds, every unknown ending unplanned and none, are the sensitivity
analysis for the case imputation cannot see: a blank that depends on the cause beyond the covariates.

Within each completed data set the variance is clustered two ways (Cameron, Gelbach & Miller 2011):
by child (a child's placements are related) and by provider (one closure or one carer's request
ends several placements at once): V = V_child + V_provider - V_child-and-provider, each in R coxph's
convention (stats/robust.py). Without a provider column the variance is clustered by child alone.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from rcceval.analyses.survival.data import CAUSES, UNKNOWN_CAUSE, Design
from rcceval.stats.cox import cox_efron
from rcceval.stats.impute_cause import impute_causes, rubin
from rcceval.stats.robust import cgm_combine, cluster_codes, cluster_sums

IMPUTATION_METHOD = ("multiple imputation of the cause (Lu & Tsiatis 2001): multinomial logit of the cause on the "
                     "model's covariates, the council and log days to the ending, fitted on endings of known cause, "
                     "coefficients drawn from their approximate posterior in each imputation; Rubin's rules")
VARIANCE_TWO_WAY = "clustered by child and by provider (Cameron, Gelbach & Miller 2011; R coxph's convention)"
VARIANCE_CHILD = "clustered by child (R coxph's cluster = child)"
BOUNDS = ("all unplanned", "none unplanned")


def cause_features(d: Design) -> pd.DataFrame:
    """The cause model's covariates: the Cox design's columns, the council (indicators against the
    first) and log days to the ending (Lu & Tsiatis condition on the failure time)."""
    X = d.X.reset_index(drop=True).astype(float)
    council = pd.get_dummies(pd.Series(d.stratum, dtype=str), prefix="_LA", drop_first=True, dtype=float)
    return pd.concat([X, council, pd.DataFrame({"_log_days": np.log(np.maximum(d.time, 1.0))})], axis=1)


def draw_causes(d: Design, m: int, seed: int) -> np.ndarray | None:
    """M completed cause vectors (m, rows) for the design's rows, or None when no row ended with an
    unknown cause (nothing to impute). Known causes and open placements are kept."""
    unknown = d.cause == UNKNOWN_CAUSE
    if not unknown.any():
        return None
    known = np.isin(d.cause, list(CAUSES))
    X = cause_features(d)
    return impute_causes(X[separable_free(X, d.cause, known)], d.cause.astype(object), unknown, m=m, seed=seed,
                         fit_rows=known).astype(np.int64)


def separable_free(X: pd.DataFrame, cause: np.ndarray, known: np.ndarray, min_rows: int = 5) -> list[str]:
    """The cause model's columns without the indicators that would separate it: an indicator whose
    known endings hold fewer than `min_rows` of some cause (its coefficient for that cause runs off to
    infinity and its drawn probabilities are 0 or 1). Those placements join their reference level."""
    keep = []
    classes = np.unique(cause[known])
    for c in X.columns:
        x = X[c].to_numpy()
        if set(np.unique(x)) <= {0.0, 1.0} and c != "_log_days":
            on = known & (x == 1)
            if min((cause[on] == k).sum() for k in classes) < min_rows:
                continue
        keep.append(c)
    return keep


def bound_causes(d: Design, which: str, other: int) -> np.ndarray:
    """The design's causes with every unknown ending taken as unplanned ("all unplanned") or as
    `other` ("none unplanned")."""
    from rcceval.analyses.survival.data import UNPLANNED
    if which not in BOUNDS:
        raise ValueError(f"bound must be one of {BOUNDS}, not {which!r}")
    cause = d.cause.copy()
    cause[cause == UNKNOWN_CAUSE] = UNPLANNED if which == "all unplanned" else other
    return cause


@dataclass(frozen=True)
class PooledFit:
    """A Cox model fitted on each completed data set and combined (or one fit, m = 1)."""

    coef: np.ndarray
    se_naive: np.ndarray
    se_child: np.ndarray         # Rubin's total with the child-clustered within-imputation variance
    se_two_way: np.ndarray       # the same with the two-way variance (the one the intervals use)
    df: np.ndarray               # Rubin's degrees of freedom (inf: one fit, normal quantiles)
    between: np.ndarray          # between-imputation variance of each coefficient (0 with one fit)
    m: int
    clipped: bool                # a two-way variance had a negative eigenvalue set to 0 (CGM 2.3)
    variance: str


def _two_way(resid: np.ndarray, var_naive: np.ndarray, child, provider) -> tuple[np.ndarray, bool]:
    parts = []
    for codes in (cluster_codes(child), cluster_codes(provider), cluster_codes(child, provider)):
        D = cluster_sums(resid, codes) @ var_naive
        parts.append(D.T @ D)
    return cgm_combine(*parts)


def pooled_fit(d: Design, cause_code: int, causes: np.ndarray | None = None) -> PooledFit:
    """Fit the cause-specific model of `cause_code` on d (R's coxph exactly: Efron ties, strata) for
    each row of `causes` (completed cause vectors; None: d's own causes, one fit) and pool."""
    sets = d.cause[None, :] if causes is None else np.asarray(causes)
    two_way = d.provider is not None
    est, v_naive, v_child, v_two = [], [], [], []
    clipped = False
    for cause in sets:
        res = cox_efron(d.time, cause == cause_code, d.X.to_numpy(dtype=float), strata=d.stratum,
                        cluster=d.cluster, entry=d.entry, keep_residuals=True)
        est.append(res.coef)
        v_naive.append(np.diag(res.var_naive))
        v_child.append(np.diag(res.var_robust))
        if two_way:
            V, c = _two_way(res.score_residuals, res.var_naive, d.cluster, d.provider)
            clipped |= c
            v_two.append(np.diag(V))
    est, v_naive, v_child = np.array(est), np.array(v_naive), np.array(v_child)
    v_two = np.array(v_two) if two_way else v_child
    m, p = est.shape
    if m == 1:
        inf = np.full(p, np.inf)
        return PooledFit(est[0], np.sqrt(v_naive[0]), np.sqrt(v_child[0]), np.sqrt(v_two[0]), inf, np.zeros(p),
                         1, clipped, VARIANCE_TWO_WAY if two_way else VARIANCE_CHILD)
    pools = {name: [rubin(est[:, j], v[:, j]) for j in range(p)]
             for name, v in (("naive", v_naive), ("child", v_child), ("two", v_two))}
    return PooledFit(np.array([r.estimate for r in pools["two"]]),
                     np.array([r.se for r in pools["naive"]]), np.array([r.se for r in pools["child"]]),
                     np.array([r.se for r in pools["two"]]), np.array([r.df for r in pools["two"]]),
                     np.array([r.between for r in pools["two"]]), m, clipped,
                     VARIANCE_TWO_WAY if two_way else VARIANCE_CHILD)


def pooled_summary(fit: PooledFit, names: list[str], alpha: float) -> pd.DataFrame:
    """The survival models' summary columns from a pooled fit: coef, hr and its interval, se
    (model-based), robust_se (clustered by child), robust_se_two_way (child and provider: the
    intervals', z's and p's), df (Rubin's; inf without imputation), z, p. Quantiles are t(df)."""
    q = np.where(np.isfinite(fit.df), stats.t.ppf(1 - alpha / 2, np.where(np.isfinite(fit.df), fit.df, 1.0)),
                 stats.norm.ppf(1 - alpha / 2))
    b, se = fit.coef, fit.se_two_way
    z = b / se
    p = np.where(np.isfinite(fit.df), 2 * stats.t.sf(np.abs(z), np.where(np.isfinite(fit.df), fit.df, 1.0)),
                 2 * stats.norm.sf(np.abs(z)))
    out = pd.DataFrame({"coef": b, "hr": np.exp(b), "hr_lower": np.exp(b - q * se), "hr_upper": np.exp(b + q * se),
                        "se": fit.se_naive, "robust_se": fit.se_child, "robust_se_two_way": se, "df": fit.df,
                        "z": z, "p": p}, index=pd.Index(names, name="covariate"))
    return out


def bounds_summaries(d: Design, alpha: float, other: int) -> dict[str, pd.DataFrame]:
    """The unplanned-ending model under each bound (BOUNDS), one fit each."""
    from rcceval.analyses.survival.data import UNPLANNED
    return {b: pooled_summary(pooled_fit(replace(d, cause=bound_causes(d, b, other)), UNPLANNED), d.names, alpha)
            for b in BOUNDS}


def cif_at(d: Design, cause: np.ndarray, day: float, cause_code: int) -> tuple[float, float]:
    """Aalen-Johansen cumulative incidence of `cause_code` by `day` on d's rows with these causes
    (clustered-by-child infinitesimal-jackknife standard error, as R's survfit)."""
    from rcceval.stats.curves import cumulative_incidence
    ci = cumulative_incidence(d.time, cause, cluster=d.cluster)
    pos = int(np.searchsorted(ci["time"].to_numpy(), day, side="right")) - 1
    if pos < 0 or f"cif_{cause_code}" not in ci:
        return 0.0, 0.0
    return float(ci[f"cif_{cause_code}"].iloc[pos]), float(ci[f"std_err_{cause_code}"].iloc[pos])


@dataclass(frozen=True)
class UnknownCauses:
    """How question 2 treats its endings of unknown cause, with the sensitivity analysis.

    followed: endings of unknown cause among the placements followed; in_model: among the main
    model's placements; m, seed: the imputations; bounds: the main model's summary with every
    unknown ending unplanned / none; cif: cumulative incidence of an unplanned ending by one year
    among the main model's placements (imputed: Rubin's rules over the completed data sets; the two
    bounds; censored: the unknown endings wrongly taken as still open, shown for comparison) with
    se and interval.
    """

    followed: int
    in_model: int
    m: int
    seed: int
    method: str
    bounds: dict
    cif: pd.DataFrame


def unknown_causes(d: Design, draws: np.ndarray | None, followed: int, m: int, seed: int, alpha: float,
                   other: int, day: float = 365.0) -> UnknownCauses:
    """The sensitivity analysis of the unplanned-ending model and its one-year incidence (UnknownCauses)."""
    from rcceval.analyses.survival.data import CENSORED, UNPLANNED
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    if draws is not None:
        per = [cif_at(d, c, day, UNPLANNED) for c in draws]
        r = rubin(np.array([e for e, _ in per]), np.array([s ** 2 for _, s in per]))
        lo, hi = r.interval(1 - alpha)
        rows.append(("imputed", r.estimate, r.se, lo, hi))
    for name in BOUNDS:
        e, s = cif_at(d, bound_causes(d, name, other), day, UNPLANNED)
        rows.append((name, e, s, e - z * s, e + z * s))
    cens = np.where(d.cause == UNKNOWN_CAUSE, CENSORED, d.cause)
    e, s = cif_at(d, cens, day, UNPLANNED)
    rows.append(("censored (not used: overstates survival)", e, s, e - z * s, e + z * s))
    cif = pd.DataFrame(rows, columns=["treatment", "cif", "se", "lower", "upper"])
    in_model = int((d.cause == UNKNOWN_CAUSE).sum())
    bounds = bounds_summaries(d, alpha, other) if in_model else {}
    return UnknownCauses(followed, in_model, m if draws is not None else 0, seed, IMPUTATION_METHOD, bounds, cif)
