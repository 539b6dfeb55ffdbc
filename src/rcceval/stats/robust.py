"""Cluster-robust variances in the conventions of R's `sandwich::vcovCL` and `coxph(cluster=)`,
one-way and two-way (Cameron, Gelbach & Miller 2011).

Why this module exists
----------------------
Robust standard errors differ between packages by their bread and their small-sample factor,
and a reviewer refitting in R should get ours. The convention chosen here is R's:

- GLMs (question 1): ``sandwich::vcovCL(glm_fit, cluster = ~child)`` with its defaults for glm
  objects, type "HC1" and cadjust = TRUE:
      V = G/(G-1) * (n-1)/(n-k) * I^-1 (sum_g s_g s_g') I^-1
  with I the *expected* (Fisher) information X' diag(mu'^2 / var(mu)) X, s_g the score summed
  over cluster g, n the rows and k the coefficients. statsmodels' GLM (and today's
  analyses/prediction/fit.py) uses the observed information as bread; for the logit link the
  two are equal, for the complementary log-log link they are not (up to 5% in SE on the
  default region). `binomial_vcov_cl` computes the R convention; tests/test_robust.py checks it
  against vcovCL to 1e-6.
- Cox models: ``coxph(..., cluster = id)``: V = D'D with D = (case-weighted score residuals
  summed by cluster) times the inverse Efron information, no small-sample factor.

Two-way clustering (child and provider): one closure ends several placements at once, so
placements sharing a provider are correlated as well as placements of one child. CGM's
estimator is V = V_a + V_b - V_ab, with V_ab clustered on the intersection (child, provider)
pairs; each term in the one-way convention of the model above. V can fail to be positive
semi-definite in small samples; CGM (section 2.3) then set the negative eigenvalues to zero,
and `cgm_combine` does so and says it did.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from rcceval.stats.cox import _as_matrix, efron_score_residuals

__all__ = [
    "cluster_codes",
    "cluster_sums",
    "vcov_cl",
    "binomial_vcov_cl",
    "binomial_vcov_two_way",
    "person_period_vcov_cl",
    "cgm_combine",
    "TwoWayVariance",
    "cox_vcov_cluster",
    "cox_vcov_two_way",
    "LINKS",
]

LINKS = ("logit", "cloglog")


def cluster_codes(*labels) -> np.ndarray:
    """Integer codes 0..G-1 of the clusters; with several label arrays, of their intersection."""
    if not labels:
        raise ValueError("at least one cluster label array is required")
    frame = pd.DataFrame({f"c{i}": np.asarray(lab) for i, lab in enumerate(labels)})
    if frame.isna().any().any():
        raise ValueError("cluster labels contain missing values")
    if len(labels) == 1:
        return pd.factorize(frame["c0"], sort=True)[0].astype(np.int64)
    return frame.groupby(list(frame.columns), sort=True).ngroup().to_numpy(dtype=np.int64)


def cluster_sums(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Score contributions (units x k) summed within cluster (G x k)."""
    G = int(codes.max()) + 1
    C = sparse.csr_matrix((np.ones(codes.size), (codes, np.arange(codes.size))), shape=(G, codes.size))
    return np.asarray(C @ scores)


def vcov_cl(information: np.ndarray, scores: np.ndarray, cluster, n_obs: int | None = None,
            hc1: bool = True, cadjust: bool = True) -> np.ndarray:
    """Sandwich I^-1 (sum_g s_g s_g') I^-1 as vcovCL computes it.

    `information` is the bread's inverse (summed over rows, not averaged); `scores` one row of
    score contributions per unit (rows, or rows already summed within a unit nested in the
    clusters); `n_obs` the number of observations for HC1's (n-1)/(n-k) (default: the units).
    cadjust multiplies by G/(G-1).
    """
    scores = np.asarray(scores, dtype=float)
    k = scores.shape[1]
    codes = cluster_codes(cluster)
    if codes.size != scores.shape[0]:
        raise ValueError("cluster must have one label per row of scores")
    S = cluster_sums(scores, codes)
    G = S.shape[0]
    bread = linalg.inv(np.asarray(information, dtype=float))
    V = bread @ (S.T @ S) @ bread
    n = scores.shape[0] if n_obs is None else int(n_obs)
    factor = 1.0
    if cadjust:
        if G < 2:
            raise ValueError("a cluster-robust variance needs at least 2 clusters")
        factor *= G / (G - 1.0)
    if hc1:
        if n <= k:
            raise ValueError(f"HC1 needs more observations ({n}) than coefficients ({k})")
        factor *= (n - 1.0) / (n - k)
    return (V + V.T) / 2 * factor


def _binomial_terms(eta: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray]:
    """mu and d mu / d eta for the binomial links."""
    if link == "logit":
        mu = 1.0 / (1.0 + np.exp(-eta))
        return mu, mu * (1.0 - mu)
    if link == "cloglog":
        a = np.exp(eta)
        return -np.expm1(-a), np.exp(eta - a)
    raise ValueError(f"link must be one of {LINKS}, not {link!r}")


def _binomial_score_info(X, y, coef, link: str, offset=None):
    mat, _ = _as_matrix(X)
    y = np.asarray(y, dtype=float)
    if y.shape[0] != mat.shape[0]:
        raise ValueError("y and X must have the same number of rows")
    if not np.isin(y, [0.0, 1.0]).all():
        raise ValueError("y must be 0/1")
    beta = np.asarray(coef, dtype=float)
    if beta.shape != (mat.shape[1],):
        raise ValueError(f"coef must have {mat.shape[1]} values, one per column of X")
    eta = mat @ beta + (0.0 if offset is None else np.asarray(offset, dtype=float))
    mu, dmu = _binomial_terms(eta, link)
    var = mu * (1.0 - mu)
    scores = mat * ((y - mu) * dmu / var)[:, None]
    info = (mat * (dmu * dmu / var)[:, None]).T @ mat   # expected (Fisher) information
    return scores, (info + info.T) / 2


def binomial_vcov_cl(X, y, coef, cluster, link: str = "logit", offset=None,
                     hc1: bool = True, cadjust: bool = True) -> np.ndarray:
    """vcovCL(glm(y ~ X - 1, binomial(link), offset), cluster, type = "HC1") at `coef`.

    X is the full design (intercepts included); rows are observations (person-periods).
    """
    scores, info = _binomial_score_info(X, y, coef, link, offset)
    return vcov_cl(info, scores, cluster, hc1=hc1, cadjust=cadjust)


def person_period_vcov_cl(X, placement, interval, y, params, cluster, link: str = "cloglog",
                          offset=None, n_intervals: int | None = None, free=None,
                          hc1: bool = True) -> np.ndarray:
    """vcovCL (HC1) of a discrete-time hazard GLM on person-period rows, without expanding them.

    Row r has covariates X[placement[r]] and its own intercept for interval[r]; `params` are the
    covariate coefficients then the interval intercepts (analyses/prediction/fit.py's layout,
    GLMResult.params). Equals ``vcovCL(glm(y ~ X + factor(interval) - 1, binomial(link)),
    cluster, type = "HC1")`` on the expanded rows: n is the number of rows, the information is
    the expected one aggregated by placement, and the scores are summed within placement
    (placements are nested in the clusters). `cluster` has one label per placement. `free`
    marks the parameters estimated (False: dropped as constant; their variance is NaN).
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    placement = np.asarray(placement, dtype=np.int64)
    interval = np.asarray(interval, dtype=np.int64)
    K = int(interval.max()) + 1 if n_intervals is None else int(n_intervals)
    params = np.asarray(params, dtype=float)
    if params.shape != (p + K,):
        raise ValueError(f"params must have {p + K} values (covariates then interval intercepts)")
    eta = X[placement] @ params[:p] + params[p:][interval]
    if offset is not None:
        eta = eta + np.asarray(offset, dtype=float)
    mu, dmu = _binomial_terms(eta, link)
    var = mu * (1.0 - mu)
    u = (np.asarray(y, dtype=float) - mu) * dmu / var
    w = dmu * dmu / var
    w_pl = np.bincount(placement, w, minlength=n)
    w_pk = np.bincount(placement * K + interval, w, minlength=n * K).reshape(n, K)
    info = np.block([[(X * w_pl[:, None]).T @ X, X.T @ w_pk],
                     [w_pk.T @ X, np.diag(w_pk.sum(axis=0))]])
    u_pl = np.bincount(placement, u, minlength=n)
    u_pk = np.bincount(placement * K + interval, u, minlength=n * K).reshape(n, K)
    scores = np.hstack([X * u_pl[:, None], u_pk])
    f = np.ones(p + K, bool) if free is None else np.asarray(free, bool)
    out = np.full((p + K, p + K), np.nan)
    out[np.ix_(f, f)] = vcov_cl(info[np.ix_(f, f)], scores[:, f], cluster, n_obs=interval.size,
                                hc1=hc1)
    return out


@dataclass(frozen=True)
class TwoWayVariance:
    """CGM two-way clustered variance and its parts."""

    var: np.ndarray          # V_a + V_b - V_ab (eigenvalues clipped at 0 if `clipped`)
    var_a: np.ndarray
    var_b: np.ndarray
    var_ab: np.ndarray
    n_a: int
    n_b: int
    n_ab: int
    clipped: bool            # True when V_a + V_b - V_ab had a negative eigenvalue

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.var))


def cgm_combine(var_a: np.ndarray, var_b: np.ndarray, var_ab: np.ndarray,
                clip: bool = True) -> tuple[np.ndarray, bool]:
    """V_a + V_b - V_ab; negative eigenvalues set to 0 (CGM 2011, 2.3) when `clip`."""
    V = var_a + var_b - var_ab
    V = (V + V.T) / 2
    vals, vecs = linalg.eigh(V)
    if not clip or vals.min() >= 0:
        return V, False
    return (vecs * np.maximum(vals, 0.0)) @ vecs.T, True


def binomial_vcov_two_way(X, y, coef, cluster_a, cluster_b, link: str = "logit", offset=None,
                          clip: bool = True) -> TwoWayVariance:
    """Two-way (CGM) version of `binomial_vcov_cl`: each part HC1 with its own G/(G-1)."""
    scores, info = _binomial_score_info(X, y, coef, link, offset)
    ca, cb, cab = cluster_codes(cluster_a), cluster_codes(cluster_b), cluster_codes(cluster_a, cluster_b)
    va, vb, vab = (vcov_cl(info, scores, c) for c in (ca, cb, cab))
    V, clipped = cgm_combine(va, vb, vab, clip)
    return TwoWayVariance(V, va, vb, vab, int(ca.max()) + 1, int(cb.max()) + 1, int(cab.max()) + 1, clipped)


def _cox_parts(durations, events, X, coef, strata, weights, entry):
    resid, info = efron_score_residuals(durations, events, X, coef, strata=strata,
                                        weights=weights, entry=entry)
    if weights is not None:
        resid = resid * np.asarray(weights, dtype=float)[:, None]
    return resid, linalg.inv(info)


def _cox_cluster_var(resid: np.ndarray, var_naive: np.ndarray, codes: np.ndarray) -> np.ndarray:
    D = cluster_sums(resid, codes) @ var_naive
    return D.T @ D


def cox_vcov_cluster(durations, events, X, coef, cluster, strata=None, weights=None,
                     entry=None) -> np.ndarray:
    """coxph(..., cluster = cluster)'s robust variance at `coef` (no small-sample factor)."""
    resid, var_naive = _cox_parts(durations, events, X, coef, strata, weights, entry)
    return _cox_cluster_var(resid, var_naive, cluster_codes(cluster))


def cox_vcov_two_way(durations, events, X, coef, cluster_a, cluster_b, strata=None,
                     weights=None, entry=None, clip: bool = True) -> TwoWayVariance:
    """CGM two-way clustered variance of a Cox model (e.g. child and provider) at `coef`.

    Each part is coxph's robust variance clustered on a, on b and on the (a, b) pairs; the
    score residuals and information are computed once. `coef` is the fitted model's
    coefficients (CoxResult.coef), the data those it was fitted to.
    """
    resid, var_naive = _cox_parts(durations, events, X, coef, strata, weights, entry)
    ca, cb, cab = cluster_codes(cluster_a), cluster_codes(cluster_b), cluster_codes(cluster_a, cluster_b)
    va, vb, vab = (_cox_cluster_var(resid, var_naive, c) for c in (ca, cb, cab))
    V, clipped = cgm_combine(va, vb, vab, clip)
    return TwoWayVariance(V, va, vb, vab, int(ca.max()) + 1, int(cb.max()) + 1, int(cab.max()) + 1, clipped)
