"""Binomial GLMs on person-period rows (complementary log-log: the discrete-time hazard model) and
on placements (logit: the fixed-horizon sensitivity model), with variance robust to clustering by child.

Why not statsmodels' GLM.fit: at region scale the person-period table has ~450,000 rows and ~100
columns, and statsmodels solves every IRLS step by a pseudo-inverse/QR of that whole matrix (about
40 s a fit on 2 cores); question 1 needs ~150 fits (cross-validation, drop-one, councils). The
covariates are constant within a placement, so the information matrix and the score aggregate to
placement level: X'diag(sum of row weights)X plus a placement-by-interval block. That is the same
estimator and the same log-likelihood as statsmodels' ``GLM(..., family=Binomial(CLogLog()))`` on the
expanded rows (tests/test_stability.py checks the agreement), about a hundred times faster.

Robust variance convention (stated because packages differ): R's
``sandwich::vcovCL(glm_fit, cluster = ~child, type = "HC1")`` with its default cadjust = TRUE, i.e.
    V = G/(G-1) * (n-1)/(n-k) * I^-1 (sum_g s_g s_g') I^-1,
with I the *expected* (Fisher) information, s_g the score summed over child g, n the person-period
rows and k the parameters estimated (covariates and interval intercepts). It is computed by
stats.robust.person_period_vcov_cl; tests/test_stability.py checks question 1's model against R to 1e-6.
statsmodels' ``cov_type="cluster"`` has the same factor but the observed information as bread: equal
for the logit link (canonical), up to ~5% apart in SE for the complementary log-log link.

Frequency weights (`freq_weights`, one per placement) multiply each placement's rows in the
log-likelihood, score and information: a bootstrap resample of children is a weight vector (how many
times each child was drawn), so no rows are copied (analyses/prediction/bootstrap.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats
from scipy.linalg import blas

from rcceval.stats.robust import person_period_vcov_cl

CLOGLOG, LOGIT = "cloglog", "logit"
_ETA_MAX = 30.0


def _mu_terms(eta: np.ndarray, y: np.ndarray, link: str):
    """Per row: log-likelihood, score d l/d eta, expected weight and observed -d2 l/d eta2."""
    eta = np.clip(eta, -_ETA_MAX, _ETA_MAX)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _terms(eta, y, link)


def _terms(eta: np.ndarray, y: np.ndarray, link: str):
    if link == LOGIT:
        mu = 1.0 / (1.0 + np.exp(-eta))
        ll = y * eta - np.logaddexp(0.0, eta)
        w = mu * (1.0 - mu)
        return ll, y - mu, w, w
    a = np.exp(eta)
    em = -np.expm1(-a)                       # mu = 1 - exp(-a)
    log_mu = np.log(np.maximum(em, 1e-300))
    ll = np.where(y > 0, log_mu, -a)
    ratio = a / np.where(a > 1e-12, np.expm1(a), a * (1 + a / 2))   # a / (e^a - 1)
    score = np.where(y > 0, ratio, -a)
    w_exp = a * a * np.exp(-a) / np.maximum(em, 1e-300)             # (dmu/deta)^2 / V(mu)
    # observed: y=0 gives a; y=1 gives -(d/d eta) a/(e^a-1) = ratio^2 * e^a - ratio (computed stably)
    small = a < 1e-3
    series = a / 2 - a * a / 6                                        # its expansion near a = 0
    w_obs1 = np.where(small, series, ratio * (ratio * np.exp(np.minimum(a, 700)) - 1.0))
    w_obs = np.where(y > 0, w_obs1, a)
    return ll, score, w_exp, w_obs


@dataclass
class Rows:
    """The rows a GLM is fitted to, addressed through placements: row r has covariates X[placement[r]]
    and its own intercept alpha[interval[r]] (an interval of time, or one intercept for placement rows)."""

    placement: np.ndarray
    interval: np.ndarray
    y: np.ndarray
    offset: np.ndarray
    n_intervals: int

    @staticmethod
    def of_placements(y: np.ndarray) -> "Rows":
        n = len(y)
        return Rows(np.arange(n), np.zeros(n, np.int64), np.asarray(y, float), np.zeros(n), 1)


@dataclass
class GLMResult:
    """A fitted binomial GLM: coefficients (covariates then interval intercepts), robust covariance, fit."""

    names: list[str]
    params: np.ndarray
    cov: np.ndarray              # CRV1 cluster-robust (NaN rows/columns for terms dropped as constant)
    loglik: float
    n_rows: int
    n_clusters: int
    n_params: int                # parameters estimated (terms dropped as constant not counted)
    converged: bool
    iterations: int
    link: str
    p: int                       # number of covariate columns (the rest are interval intercepts)

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.loglik

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient, robust SE, z, p and CI per term; exp() of them as hazard (cloglog) or odds (logit) ratios."""
        z = stats.norm.ppf(0.5 + level / 2)
        se = self.bse
        ratio = "hr" if self.link == CLOGLOG else "or"
        out = pd.DataFrame({"coef": self.params, "se": se}, index=pd.Index(self.names, name="term"))
        out["z"] = out["coef"] / out["se"]
        out["p"] = 2 * stats.norm.sf(np.abs(out["z"]))
        out[ratio] = np.exp(out["coef"])
        out["ci_low"] = np.exp(out["coef"] - z * se)
        out["ci_high"] = np.exp(out["coef"] + z * se)
        return out

    def linear_predictor(self, X: np.ndarray) -> np.ndarray:
        return X @ self.params[: self.p]

    @property
    def intercepts(self) -> np.ndarray:
        return self.params[self.p:]


def _info_and_score(X, rows: Rows, w, u, n):
    """Information (from row weights w) and score (row scores u) for [beta, alpha], aggregated by placement."""
    K = rows.n_intervals
    w_pl = np.bincount(rows.placement, w, minlength=n)
    u_pl = np.bincount(rows.placement, u, minlength=n)
    w_pk = np.bincount(rows.placement * K + rows.interval, w, minlength=n * K).reshape(n, K)
    upper = blas.dsyrk(1.0, X * np.sqrt(w_pl)[:, None], trans=1)   # X'diag(w)X, upper triangle
    i_bb = np.triu(upper) + np.triu(upper, 1).T
    i_ba = X.T @ w_pk
    i_aa = np.diag(w_pk.sum(axis=0))
    info = np.block([[i_bb, i_ba], [i_ba.T, i_aa]])
    score = np.r_[X.T @ u_pl, np.bincount(rows.interval, u, minlength=K)]
    return info, score


def _start(rows: Rows, link: str, row_w: np.ndarray | None = None) -> np.ndarray:
    K = rows.n_intervals
    n_k = np.bincount(rows.interval, row_w, minlength=K).astype(float)
    e_k = np.bincount(rows.interval, rows.y if row_w is None else rows.y * row_w, minlength=K)
    rate = np.clip((e_k + 0.5) / (n_k + 1.0), 1e-6, 1 - 1e-6)
    return np.log(-np.log1p(-rate)) if link == CLOGLOG else np.log(rate / (1 - rate))


def fit_glm(X: np.ndarray, names: list[str], rows: Rows, clusters: np.ndarray, link: str = CLOGLOG,
            interval_names: list[str] | None = None, start: np.ndarray | None = None, maxiter: int = 50,
            tol: float | None = None, robust: bool = True, freq_weights: np.ndarray | None = None) -> GLMResult:
    """Fit by Fisher scoring with step-halving; vcovCL (HC1) covariance clustered on `clusters` (one code per
    placement; see the module docstring for the convention).

    Columns constant over the rows (a level absent from a training fold) and intervals with no rows are
    dropped: their coefficient is 0 and its variance NaN. `start` (covariates then intercepts) speeds up
    refits of a similar model; `robust=False` skips the covariance (cross-validation needs predictions
    only). `freq_weights` (one per placement, e.g. bootstrap counts) weight each placement's rows; a
    placement of weight 0 is left out. Robust covariances are for unweighted fits only.
    """
    if tol is None:     # relative change in log-likelihood; robust fits converge further so that
        tol = 1e-13 if robust else 1e-10   # their SEs match R's vcovCL to 1e-6 (predictions need less)
    X = np.asfortranarray(X, dtype=float)     # column-major: the rank-k update (dsyrk) is fastest so
    n, p = X.shape
    K = rows.n_intervals
    fw = None if freq_weights is None else np.asarray(freq_weights, float)
    if fw is not None and robust:
        raise ValueError("fit_glm: the robust covariance is not defined here for frequency-weighted fits")
    row_w = None if fw is None else fw[rows.placement]
    used = np.bincount(rows.placement, row_w, minlength=n) > 0
    Xu = X[used]
    var_ok = (Xu.max(axis=0) - Xu.min(axis=0)) > 0 if len(Xu) else np.zeros(p, bool)
    k_ok = np.bincount(rows.interval, row_w, minlength=K) > 0
    free = np.r_[var_ok, k_ok]
    params = np.zeros(p + K)
    params[p:] = _start(rows, link, row_w)
    if start is not None:                       # a warm start (e.g. the full-data fit for a fold)
        params = np.where(np.isfinite(start), start, params)
    params[~free] = 0.0

    def loglik(par):
        eta = (X @ par[:p])[rows.placement] + par[p:][rows.interval] + rows.offset
        terms = _mu_terms(eta, rows.y, link)
        if row_w is not None:
            terms = tuple(t * row_w for t in terms)
        return eta, terms

    _, (ll, u, w, _) = loglik(params)
    current = ll.sum()
    converged, it = False, 0
    for it in range(1, maxiter + 1):  # noqa: B007  (it is reported after the loop)
        info, score = _info_and_score(X, rows, w, u, n)
        f = np.flatnonzero(free)
        try:
            step_f = linalg.solve(info[np.ix_(f, f)], score[f], assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            step_f = linalg.lstsq(info[np.ix_(f, f)], score[f])[0]
        step = np.zeros_like(params)
        step[f] = step_f
        halve = 1.0
        for _ in range(30):
            trial = params + halve * step
            eta_t, terms_t = loglik(trial)
            new = terms_t[0].sum()
            if np.isfinite(new) and new >= current - 1e-12 * abs(current):
                break
            halve /= 2
        params, (ll, u, w, _) = trial, terms_t
        change = abs(new - current) / (abs(current) + 0.1)
        current = new
        if change < tol:
            converged = True
            break
    names_all = list(names) + list(interval_names or [f"interval[{j}]" for j in range(K)])
    if not robust:
        return GLMResult(names_all, params, np.full((p + K, p + K), np.nan), float(current), len(rows.y), 0,
                         int(free.sum()), converged, it, link, p)
    # robust covariance at the estimate: R's vcovCL(HC1) convention (stats/robust.py)
    cov = person_period_vcov_cl(X, rows.placement, rows.interval, rows.y, params, clusters, link, rows.offset, K,
                                free)
    G = len(np.unique(clusters))
    return GLMResult(names_all, params, cov, float(current), len(rows.y), G, int(free.sum()), converged, it, link, p)


def lr_test(small: GLMResult, big: GLMResult) -> dict:
    """Likelihood-ratio test of nested models fitted to the same rows (model-based, not cluster-robust)."""
    stat = max(0.0, 2 * (big.loglik - small.loglik))
    df = big.n_params - small.n_params
    return {"statistic": stat, "df": int(df), "p": float(stats.chi2.sf(stat, df)) if df > 0 else float("nan")}


def wald_test(result: GLMResult, terms: list[str]) -> dict:
    """Joint Wald test of terms with the cluster-robust covariance (robust to placements of one child)."""
    ix = [result.names.index(t) for t in terms]
    ix = [i for i in ix if np.isfinite(result.cov[i, i])]
    b = result.params[ix]
    V = result.cov[np.ix_(ix, ix)]
    stat = float(b @ linalg.solve(V, b, assume_a="pos"))
    return {"statistic": stat, "df": len(ix), "p": float(stats.chi2.sf(stat, len(ix)))}


def interval_hazards(result: GLMResult, X: np.ndarray) -> np.ndarray:
    """Cumulative hazard over each whole interval, exp(x'beta + alpha_k): placements x intervals."""
    eta = result.linear_predictor(X)[:, None] + result.intercepts[None, :]
    return np.exp(np.clip(eta, -_ETA_MAX, _ETA_MAX))


def cif_from_interval_hazards(unplanned: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Risk of an unplanned ending by the horizon with other endings competing (placements,).

    From the two cause-specific interval hazards (cumulative hazards L1, L2 per interval), taking each
    constant within an interval: P(unplanned in k) = S(k-1) * L1/(L1+L2) * (1 - exp(-(L1+L2))).
    This is the model's cumulative incidence (Aalen-Johansen in continuous time), not 1 - S for one cause,
    which would overstate the risk wherever placements end for other reasons first. (The nonparametric
    Aalen-Johansen estimate from observed endings is stats.curves.cumulative_incidence.)
    """
    total = unplanned + other
    p_end = -np.expm1(-total)
    share = np.divide(unplanned, total, out=np.zeros_like(total), where=total > 0)
    survive_before = np.exp(-np.cumsum(np.c_[np.zeros(len(total)), total[:, :-1]], axis=1))
    return (survive_before * share * p_end).sum(axis=1)


def placement_risk(result: GLMResult, X: np.ndarray) -> np.ndarray:
    """Probability from a placement-level logit model."""
    eta = result.linear_predictor(X) + result.intercepts[0]
    return 1.0 / (1.0 + np.exp(-eta))
