"""Cox proportional hazards with Efron ties, exactly as R's `coxph` (the reference).

Why this module exists
----------------------
rcceval's survival analyses use lifelines as the engine users see. The statistical standards
(DESIGN.md) require that results agree with R `survival` where both can run, that placements of
one child are clustered (robust variance) and that tied times (durations in days) use Efron's
method. lifelines gets the Efron point estimates and the naive (model-based) variance right, but
its robust variance is wrong whenever event times are tied, and its Cox fit is too slow at
national scale. This module re-implements, in numpy, exactly what R computes:

- `cox_efron`: Cox PH by Newton-Raphson on the Efron partial likelihood, stratified, with case
  weights, counting-process (start, stop] input, and the robust sandwich variance clustered as
  `coxph(..., cluster = id)` computes it. The iteration copies R's coxfit6/agfit4: start at 0,
  Newton steps, stop when |1 - loglik_old / loglik_new| <= eps (1e-9), halve the step when the
  log-likelihood falls. The final coefficients are therefore R's to rounding error, not merely
  "both converged".
- `lifelines_with_r_variance`: R-correct robust (clustered) standard errors for a fitted lifelines
  `CoxPHFitter`, so analyses keep lifelines and report the right variance.

Kaplan-Meier and Aalen-Johansen curves are in `rcceval.stats.curves`, Harrell's C in
`rcceval.stats.concordance`.

Algorithm (why it is fast)
--------------------------
Rows are sorted once by (stratum, time). Every risk-set sum at an event time is a within-stratum
reverse cumulative sum read at that time (minus the rows whose start is not before it, for
(start, stop] data). Efron's method replaces the d tied deaths at a time by d denominators
S0 - (k/d) S0_deaths, k = 0..d-1: these are laid out as one row per death, so the whole
likelihood, score and information are array expressions. The information's sum over event
times of (weighted second moments of the risk set) / denominator is rearranged as X' diag(v) X,
where v_i = w_i r_i times the sum of meanwt / denominator over the event times at which row i is
at risk (a cumulative sum), so no n x p x p array is ever formed. Score residuals (for the
robust variance) are built the same way. Each Newton iteration is O(n p^2) after one sort; at
1M rows, 10 covariates, 300k clusters and 152 strata a clustered fit takes about 4 s where R's
coxph takes about 45 s (benchmarks/bench_cox.py).

Where lifelines' robust variance differs from R's (lifelines 0.30.3)
-------------------------------------------------------------------
The sandwich is V B V with V the naive variance and B the sum over clusters of the outer product
of the summed score residuals. lifelines' V is right (it is the inverse Efron information); the
score residuals are not. `CoxPHFitter._compute_score_within_strata` (marked "TODO: doesn't handle
ties") computes, for the i-th row after sorting by (duration, event):

    r_i = w_i [E_i (x_i - xbar_i) - phi_i sum_{j <= i} E_j w_j (x_i - xbar_j) / S0_j]

where S0_j, xbar_j are sums over rows j..n-1 *in sorted position*, not over the risk set at
time T_j. With tied times this differs from R (coxscore2.c, Efron) in three ways:

1. The risk set is positional. A death at T sees only the rows sorted after it, so the rows
   tied at T that sort before it are missing from its denominator and mean: every censored
   row at T (E=0 sorts first, yet R counts a row censored at T as at risk at T) and the tied
   deaths sorted earlier. The result depends on the order of rows within a tie.
2. The compensator is positional too: row i collects -phi_i (x_i - xbar_j) / S0_j only from
   deaths j sorted at or before it, so a censored row tied with deaths gets nothing for them
   and a tied death gets nothing for the tied deaths sorted after it.
3. No Efron weighting: R gives each of the d tied deaths the average of the d Efron means,
   1/d sum_k (x - xbar_k), with Efron denominators S0 - (k/d) S0_deaths, and weights a tied
   death's own compensator by (1 - k/d); lifelines has single (Breslow-like) terms.

So lifelines' residuals do not sum to the Efron score at the estimate, and its robust SEs are
off whenever ties are common: on the Rossi data (weeks) clustered in threes by up to 5.6%
(the issue saw about 4% with its cluster), on simulated placements by 1.4% with durations in
months and 0.06% in days (tests/test_survival_engine.py). Without ties all three points vanish
and lifelines' robust SE equals R's (tested to 1e-6). `lifelines_with_r_variance` recomputes
the residuals the R way at lifelines' coefficients and forms V B V with the Efron information
at those coefficients. (lifelines' clustered variance also loops over rows with a growing
slice, O(n^2): about 4 s at 20k rows, so minutes at 100k; here it is O(n) after the sort.)


Scope and known gaps: Efron ties only (Breslow coincides when there are no ties; "exact" is
not implemented); no penalised terms, offsets or frailty; R's `timefix` (merging times equal to
~1e-8 relative) is not applied, so pass integer days or exactly equal floats for ties.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, stats

from rcceval.stats._arrays import codes as _codes
from rcceval.stats._arrays import segmented_cumsum as _segmented_cumsum
from rcceval.stats.concordance import concordance_index

__all__ = [
    "CoxResult",
    "cox_efron",
    "newton_refit",
    "efron_score_residuals",
    "robust_variance_efron",
    "lifelines_with_r_variance",
    "R_EPS",
    "R_ITER_MAX",
]

R_EPS = 1e-9  # coxph.control(eps): relative change in the log-likelihood at convergence
R_ITER_MAX = 20  # coxph.control(iter.max)


def _as_matrix(X) -> tuple[np.ndarray, list[str]]:
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        mat = X.to_numpy(dtype=float)
    else:
        mat = np.asarray(X, dtype=float)
        if mat.ndim == 1:
            mat = mat[:, None]
        names = [f"x{j + 1}" for j in range(mat.shape[1])]
    if not np.isfinite(mat).all():
        raise ValueError("covariates contain missing or infinite values")
    return mat, names



# --------------------------------------------------------------------------------------------
# Cox model: data layout (sorted once) and the Efron terms at one beta
# --------------------------------------------------------------------------------------------

@dataclass
class _CoxData:
    """Rows sorted by (stratum, stop); event-time groups; index maps used every iteration.

    Times of all strata are put on one integer key axis, key = stratum * M + rank(time), with
    rank 0 reserved for "before any time" (the start of right-censored rows), so risk sets of
    different strata never mix and lookups are single `searchsorted` calls.
    """

    X: np.ndarray            # n x p, sorted, centred within stratum
    w: np.ndarray            # case weights
    event: np.ndarray        # bool
    stratum: np.ndarray      # stratum code of each (sorted) row
    order: np.ndarray        # sorted position -> original row
    stop_key: np.ndarray
    start_key: np.ndarray | None   # None for right-censored data
    start_order: np.ndarray | None  # rows sorted by start_key
    start_pos: np.ndarray | None    # per group: first row (start-sorted) with start_key >= key
    g_key: np.ndarray        # unique (stratum, time) keys of event times, ascending
    g_stratum: np.ndarray
    g_d: np.ndarray          # deaths per group
    g_dw: np.ndarray         # summed weights of deaths per group
    g_stop_pos: np.ndarray   # per group: first sorted row with stop_key >= key
    death_group: np.ndarray  # per row: group index of its event time (-1 if censored)
    row_g_stop: np.ndarray   # per row: last group with key <= stop_key (same stratum) or -1
    row_g_start: np.ndarray  # per row: last group with key <= start_key (same stratum) or -1
    g_first_death: np.ndarray  # per group: its first entry in `deaths` (deaths are grouped)
    k_group: np.ndarray      # Efron expansion: one entry per death, its group
    k_frac: np.ndarray       # k / d for k = 0..d-1
    deaths: np.ndarray       # indices of event rows (sorted order)
    means: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _prepare(durations, events, X: np.ndarray, strata=None, weights=None,
             entry=None) -> _CoxData:
    """Validate input, sort once and build the index maps the iterations reuse."""
    stop = np.asarray(durations, dtype=float)
    n = stop.shape[0]
    ev = np.asarray(events)
    if ev.shape[0] != n or X.shape[0] != n:
        raise ValueError("durations, events and X must have the same number of rows")
    if not np.isin(ev, [0, 1, True, False]).all():
        raise ValueError("events must be 0/1 (or boolean)")
    ev = ev.astype(bool)
    if not np.isfinite(stop).all():
        raise ValueError("durations must be finite")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if (w <= 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be positive and finite (as R requires)")
    s_codes = np.zeros(n, dtype=np.int64) if strata is None else _codes(strata, "strata")[0]
    start = None if entry is None else np.asarray(entry, dtype=float)
    if start is not None and not (start < stop).all():
        raise ValueError("every start (entry) time must be before its stop time")
    if not ev.any():
        raise ValueError("no events: a Cox model needs at least one")

    times = np.unique(stop if start is None else np.concatenate([stop, start]))
    M = np.int64(times.size + 2)
    stop_key = s_codes * M + 1 + np.searchsorted(times, stop)
    start_key_raw = s_codes * M + (0 if start is None else 1 + np.searchsorted(times, start))

    order = np.argsort(stop_key, kind="stable")
    stop_key = stop_key[order]
    ev, w, s_sorted = ev[order], w[order], s_codes[order]
    Xs = X[order]
    start_key = None if start is None else start_key_raw[order]

    # Centre each covariate within stratum (weighted): the partial likelihood is unchanged and
    # the information's "second moment minus squared mean" loses no digits.
    n_strata = int(s_codes.max()) + 1
    wsum = np.bincount(s_sorted, weights=w, minlength=n_strata)
    means = np.column_stack([np.bincount(s_sorted, weights=Xs[:, j] * w, minlength=n_strata)
                             for j in range(X.shape[1])]) / wsum[:, None]
    Xs = Xs - means[s_sorted]

    deaths = np.flatnonzero(ev)
    g_key, inv, g_d = np.unique(stop_key[deaths], return_inverse=True, return_counts=True)
    g_dw = np.bincount(inv, weights=w[deaths], minlength=g_key.size)
    g_stratum = g_key // M
    death_group = np.full(n, -1, dtype=np.int64)
    death_group[deaths] = inv
    g_stop_pos = np.searchsorted(stop_key, g_key, side="left")

    def last_group_at_or_before(keys: np.ndarray, strat: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(g_key, keys, side="right") - 1
        ok = idx >= 0
        ok[ok] = g_stratum[idx[ok]] == strat[ok]
        return np.where(ok, idx, -1)

    row_g_stop = last_group_at_or_before(stop_key, s_sorted)
    if start_key is None:
        row_g_start = np.full(n, -1, dtype=np.int64)
        start_order = start_pos = None
    else:
        row_g_start = last_group_at_or_before(start_key, s_sorted)
        start_order = np.argsort(start_key, kind="stable")
        start_pos = np.searchsorted(start_key[start_order], g_key, side="left")

    k_group = np.repeat(np.arange(g_key.size), g_d)
    first = np.cumsum(g_d) - g_d
    k_frac = (np.arange(k_group.size) - first[k_group]) / g_d[k_group]
    return _CoxData(Xs, w, ev, s_sorted, order, stop_key, start_key, start_order, start_pos,
                    g_key, g_stratum, g_d, g_dw, g_stop_pos, death_group, row_g_stop,
                    row_g_start, first, k_group, k_frac, deaths, means)


@dataclass
class _EfronTerms:
    loglik: float
    score: np.ndarray        # U
    info: np.ndarray         # observed information
    risk: np.ndarray         # exp(eta), sorted rows
    den: np.ndarray          # Efron denominators, one per death
    mean: np.ndarray         # Efron means, one row per death
    mw: np.ndarray           # mean death weight of each death's group


def _risk_sums(data: _CoxData, values: np.ndarray) -> np.ndarray:
    """Sum of `values` (rows, sorted) over the risk set of every event-time group."""
    at_or_after = _segmented_cumsum(values, data.stratum, reverse=True)[data.g_stop_pos]
    if data.start_key is None:
        return at_or_after
    # rows whose start is at or after the event time are not yet at risk
    vals_by_start = values[data.start_order]
    strat_by_start = data.stratum[data.start_order]
    csum = _segmented_cumsum(vals_by_start, strat_by_start, reverse=True)
    n = values.shape[0]
    pos = data.start_pos
    valid = pos < n
    valid[valid] = strat_by_start[pos[valid]] == data.g_stratum[valid]
    late = np.zeros_like(at_or_after)
    late[valid] = csum[pos[valid]]
    return at_or_after - late


def _group_cumulative(data: _CoxData, per_group: np.ndarray) -> np.ndarray:
    """For each row, the sum of `per_group` over the event times at which the row is at risk.

    At risk at t means start < t <= stop (start = -inf for right-censored rows), so this is the
    within-stratum cumulative sum at stop minus the one at start.
    """
    cum = _segmented_cumsum(per_group, data.g_stratum)
    zero = np.zeros((1,) + per_group.shape[1:])
    cum = np.concatenate([cum, zero])  # index -1 -> 0
    out = cum[data.row_g_stop]
    if data.start_key is not None:
        out = out - cum[data.row_g_start]
    return out


def _efron_terms(data: _CoxData, beta: np.ndarray, want_info: bool = True) -> _EfronTerms:
    """Log partial likelihood, score and information at beta, Efron ties (R coxfit6/agfit4)."""
    X, w = data.X, data.w
    n, p = X.shape
    eta = X @ beta
    # exp() overflows past ~709: scale every risk score by exp(-shift) when needed. Means,
    # information and residuals are unchanged; the log-likelihood gets shift * sum(w deaths).
    shift = float(eta.max()) if eta.max() > 300 else 0.0
    risk = np.exp(eta - shift)
    wr = w * risk
    wrx = np.empty((n, 1 + p))       # [w r, w r x]: the risk-set sums S0, S1 in one pass
    wrx[:, 0] = wr
    np.multiply(X, wr[:, None], out=wrx[:, 1:])
    S = _risk_sums(data, wrx)                                      # G x (1+p)
    d_rows = data.deaths
    Sd = np.add.reduceat(wrx[d_rows], data.g_first_death, axis=0)  # deaths are grouped

    kg, kf = data.k_group, data.k_frac
    den = S[kg, 0] - kf * Sd[kg, 0]
    mean = (S[kg, 1:] - kf[:, None] * Sd[kg, 1:]) / den[:, None]
    mw = (data.g_dw / data.g_d)[kg]

    loglik = float(np.dot(w[d_rows], eta[d_rows]) - np.dot(mw, np.log(den) + shift))
    score = X[d_rows].T @ w[d_rows] - mean.T @ mw
    info = np.empty((X.shape[1], X.shape[1]))
    if want_info:
        G = data.g_key.size
        hazard = np.bincount(kg, weights=mw / den, minlength=G)
        hazard_k = np.bincount(kg, weights=mw * kf / den, minlength=G)
        v = wr * _group_cumulative(data, hazard)
        v[d_rows] -= wr[d_rows] * hazard_k[data.death_group[d_rows]]
        info = (X * v[:, None]).T @ X - (mean * mw[:, None]).T @ mean
        info = (info + info.T) / 2
    return _EfronTerms(loglik, score, info, risk, den, mean, mw)


def _score_residuals(data: _CoxData, terms: _EfronTerms) -> np.ndarray:
    """Unweighted Efron score residuals of the sorted rows, as R's coxscore2 / agscore3.

    A row at risk at an event time with Efron means m_k and hazards h_k = meanwt / den_k gets
    -r (x - m_k) h_k for each k; a death at that time gets (x - m_k)/d for each k and its own
    compensator weighted by (1 - k/d). Summed with the case weights they give the score U.
    """
    X = data.X
    G = data.g_key.size
    kg, kf = data.k_group, data.k_frac
    h = terms.mw / terms.den
    hazard = np.bincount(kg, weights=h, minlength=G)
    hazard_k = np.bincount(kg, weights=h * kf, minlength=G)
    starts = np.cumsum(data.g_d) - data.g_d
    hm = np.add.reduceat(terms.mean * h[:, None], starts, axis=0)
    hm_k = np.add.reduceat(terms.mean * (h * kf)[:, None], starts, axis=0)
    mbar = np.add.reduceat(terms.mean, starts, axis=0) / data.g_d[:, None]

    cum = _group_cumulative(data, np.column_stack([hazard, hm]))
    r = terms.risk[:, None]
    resid = -r * (X * cum[:, :1] - cum[:, 1:])
    d_rows = data.deaths
    g = data.death_group[d_rows]
    resid[d_rows] += (X[d_rows] - mbar[g]) + r[d_rows] * (X[d_rows] * hazard_k[g, None] - hm_k[g])
    return resid


# --------------------------------------------------------------------------------------------
# Cox model: public API
# --------------------------------------------------------------------------------------------

@dataclass
class CoxResult:
    """A Cox fit as R's coxph reports it (coef, naive and robust variance, log-likelihoods)."""

    names: list[str]
    coef: np.ndarray
    var_naive: np.ndarray
    var_robust: np.ndarray | None
    loglik_null: float        # at the initial values, beta = 0 by default (R: loglik[1])
    loglik: float             # at the estimate (R: loglik[2])
    score_test: float
    iterations: int
    converged: bool
    n: int
    n_events: int
    n_clusters: int | None
    concordance: float | None = None
    score_residuals: np.ndarray | None = field(default=None, repr=False)  # weighted, input order

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.var_naive))

    @property
    def robust_se(self) -> np.ndarray | None:
        return None if self.var_robust is None else np.sqrt(np.diag(self.var_robust))

    @property
    def var(self) -> np.ndarray:
        """The variance R reports as fit$var: robust when computed, else naive."""
        return self.var_naive if self.var_robust is None else self.var_robust

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """coef, exp(coef), se(coef), robust se, z, p and CI as R's summary.coxph."""
        return _summary_frame(self.names, self.coef, self.se, self.robust_se, alpha)

    def likelihood_ratio_test(self) -> tuple[float, int, float]:
        """(statistic, df, p) of the likelihood ratio test against beta = 0."""
        stat = 2 * (self.loglik - self.loglik_null)
        df = len(self.coef)
        return stat, df, float(stats.chi2.sf(stat, df))

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * len(self.coef)


def _summary_frame(names, coef, se, robust_se, alpha) -> pd.DataFrame:
    z_crit = stats.norm.ppf(1 - alpha / 2)
    use = se if robust_se is None else robust_se
    z = coef / use
    out = pd.DataFrame({"coef": coef, "exp(coef)": np.exp(coef), "se(coef)": se}, index=names)
    if robust_se is not None:
        out["robust se"] = robust_se
    out["z"] = z
    out["p"] = 2 * stats.norm.sf(np.abs(z))
    lo, hi = coef - z_crit * use, coef + z_crit * use
    pct = f"{100 * (1 - alpha):g}%"
    out[f"coef lower {pct}"] = lo
    out[f"coef upper {pct}"] = hi
    out[f"exp(coef) lower {pct}"] = np.exp(lo)
    out[f"exp(coef) upper {pct}"] = np.exp(hi)
    out.index.name = "covariate"
    return out


def _cholesky(info: np.ndarray):
    try:
        return linalg.cho_factor(info, lower=True)
    except linalg.LinAlgError as exc:
        raise ValueError("the information matrix is singular: a covariate is collinear with "
                         "others or constant within every risk set (R would report NA)") from exc


def _solve(info: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return linalg.cho_solve(_cholesky(info), rhs)


def _invert(info: np.ndarray) -> np.ndarray:
    inv = linalg.cho_solve(_cholesky(info), np.eye(info.shape[0]))
    return (inv + inv.T) / 2


def _newton_raphson(data: _CoxData, init: np.ndarray, eps: float, iter_max: int,
                    counting: bool) -> tuple[np.ndarray, _EfronTerms, float, float, int, bool]:
    """R's iteration: coxfit6 (right-censored) or agfit4 (counting process).

    Start at init; each Newton step is accepted if the log-likelihood did not fall, otherwise
    the step is shrunk towards the last good beta (step halving). Converged when
    |1 - best_loglik / new_loglik| <= eps (agfit4 also requires that it was not halving).
    """
    beta = init.astype(float).copy()
    t0 = _efron_terms(data, beta)
    loglik0 = t0.loglik
    step0 = _solve(t0.info, t0.score)
    score_test = float(t0.score @ step0)
    if iter_max == 0:
        return beta, t0, loglik0, score_test, 0, True
    best = loglik0
    new = beta + step0
    halving = 0
    for it in range(1, iter_max + 1):
        t = _efron_terms(data, new)
        finite = np.isfinite(t.loglik) and np.isfinite(t.score).all() and np.isfinite(t.info).all()
        if finite and abs(1 - best / t.loglik) <= eps and (halving == 0 or not counting):
            return new, t, loglik0, score_test, it, True
        if it == iter_max:
            break
        if not finite or t.loglik < best:
            halving += 1
            new = (new + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = t.loglik
            step = _solve(t.info, t.score)
            beta, new = new, new + step
    return beta, _efron_terms(data, beta), loglik0, score_test, iter_max, False


def _cluster_sum(resid: np.ndarray, cluster_codes: np.ndarray, n_clusters: int) -> np.ndarray:
    out = np.empty((n_clusters, resid.shape[1]))
    for j in range(resid.shape[1]):  # p columns, each one vectorised bincount
        out[:, j] = np.bincount(cluster_codes, weights=resid[:, j], minlength=n_clusters)
    return out


def _robust_var(data: _CoxData, terms: _EfronTerms, var_naive: np.ndarray,
                cluster) -> tuple[np.ndarray, int, np.ndarray]:
    """R's robust variance: t(D) D with D = (weighted score residuals summed by cluster) V."""
    resid = _score_residuals(data, terms) * data.w[:, None]
    if cluster is None:
        collapsed, n_cl = resid, resid.shape[0]
    else:
        codes, labels = _codes(cluster, "cluster")
        n_cl = labels.size
        collapsed = _cluster_sum(resid, codes[data.order], n_cl)
    D = collapsed @ var_naive
    return D.T @ D, n_cl, resid


def cox_efron(durations, events, X, strata=None, cluster=None, weights=None, entry=None,
              robust: bool | None = None, init: Sequence[float] | None = None,
              eps: float = R_EPS, iter_max: int = R_ITER_MAX,
              names: Sequence[str] | None = None, concordance: bool = False,
              keep_residuals: bool = False) -> CoxResult:
    """Fit a Cox model with Efron ties exactly as R's coxph does.

    R equivalent: ``coxph(Surv(durations, events) ~ X + strata(strata), weights = weights,
    cluster = cluster, ties = "efron")``, or ``Surv(entry, durations, events)`` when `entry`
    is given (counting-process rows: at risk on (entry, duration]; time-varying covariates).

    `robust` defaults to True when a cluster is given. Without a cluster, robust=True gives
    the per-row sandwich (R's robust=TRUE). `init`, `eps` and `iter_max` are coxph's init and
    coxph.control(eps, iter.max); iter_max=0 evaluates the model at `init`. `concordance` adds
    Harrell's C as R's coxph reports it (pairs within strata; tied risk scores count one half;
    tied event times not comparable; right-censored data only). `keep_residuals` keeps the
    weighted score residuals (input row order) behind the robust variance.
    """
    mat, default_names = _as_matrix(X)
    names = list(names) if names is not None else default_names
    data = _prepare(durations, events, mat, strata=strata, weights=weights, entry=entry)
    p = mat.shape[1]
    init_arr = np.zeros(p) if init is None else np.asarray(init, dtype=float)
    beta, terms, ll0, sctest, iters, converged = _newton_raphson(
        data, init_arr, eps, iter_max, counting=entry is not None)
    if not converged:
        warnings.warn(f"Cox fit did not converge in {iter_max} iterations (R: 'Ran out of "
                      "iterations and did not converge'); results are at the last good beta",
                      RuntimeWarning, stacklevel=2)
    var_naive = _invert(terms.info)
    robust = (cluster is not None) if robust is None else robust
    var_robust = n_cl = resid = None
    if robust:
        var_robust, n_cl, resid = _robust_var(data, terms, var_naive, cluster)
    c_index = None
    if concordance:
        c_index = concordance_index(durations, events, mat @ beta, strata=strata, weights=weights,
                                    entry=entry)
    if keep_residuals and resid is not None:
        unsorted = np.empty_like(resid)
        unsorted[data.order] = resid
        resid = unsorted
    return CoxResult(names=names, coef=beta, var_naive=var_naive, var_robust=var_robust,
                     loglik_null=ll0, loglik=terms.loglik, score_test=sctest, iterations=iters,
                     converged=converged, n=mat.shape[0], n_events=int(data.event.sum()),
                     n_clusters=n_cl, concordance=c_index,
                     score_residuals=resid if keep_residuals else None)


def efron_score_residuals(durations, events, X, beta, strata=None, weights=None,
                          entry=None) -> tuple[np.ndarray, np.ndarray]:
    """Efron score residuals (unweighted, R's resid(fit, "score")) and the information at beta.

    Rows are returned in the input order.
    """
    mat, _ = _as_matrix(X)
    data = _prepare(durations, events, mat, strata=strata, weights=weights, entry=entry)
    terms = _efron_terms(data, np.asarray(beta, dtype=float))
    resid = np.empty_like(mat)
    resid[data.order] = _score_residuals(data, terms)
    return resid, terms.info


def robust_variance_efron(durations, events, X, beta, cluster=None, strata=None, weights=None,
                          entry=None) -> tuple[np.ndarray, np.ndarray]:
    """(robust, naive) variance at a given beta, as coxph(..., cluster=) computes them.

    The naive variance is the inverse Efron information at beta; the robust one is
    t(D) D with D = rowsum(weights * score residuals, cluster) %*% naive.
    """
    mat, _ = _as_matrix(X)
    data = _prepare(durations, events, mat, strata=strata, weights=weights, entry=entry)
    terms = _efron_terms(data, np.asarray(beta, dtype=float))
    var_naive = _invert(terms.info)
    var_robust, _, _ = _robust_var(data, terms, var_naive, cluster)
    return var_robust, var_naive


def lifelines_with_r_variance(cph, df: pd.DataFrame, duration_col: str, event_col: str,
                              cluster_col: str | None, strata=None, weights_col: str | None = None,
                              alpha: float | None = None) -> pd.DataFrame:
    """Summary of a fitted lifelines CoxPHFitter with R-correct (robust, clustered) SEs.

    Keeps lifelines' coefficients; recomputes, on `df` (the data the model was fitted on), the
    naive variance (inverse Efron information) and the robust variance R's coxph reports at
    those coefficients: clustered by `cluster_col`, or per row when it is None (R's
    robust=TRUE). Strata, weights and delayed entry default to those of the fit.
    Columns: coef, exp(coef), se(coef) (naive), robust se, z, p and confidence limits on both
    scales (z, p and the limits use the robust se).
    """
    if getattr(cph, "penalizer", 0) not in (0, 0.0):
        raise ValueError("a penalised lifelines fit has no R coxph equivalent")
    if getattr(cph, "baseline_estimation_method", "breslow") != "breslow":
        raise ValueError("only the semi-parametric (Cox partial likelihood) lifelines fit applies")
    strata = strata if strata is not None else getattr(cph, "strata", None)
    if isinstance(strata, str):
        strata = [strata]
    weights_col = weights_col if weights_col is not None else getattr(cph, "weights_col", None)
    entry_col = getattr(cph, "entry_col", None)
    names = list(cph.params_.index)
    if all(name in df.columns for name in names):
        X = df[names].to_numpy(dtype=float)
    else:  # a formula fit: let lifelines build the same design matrix
        X = cph.regressors.transform_df(df)["beta_"][names].to_numpy(dtype=float)
    strata_key = None
    if strata:
        strata_key = pd.MultiIndex.from_frame(df[list(strata)]).factorize(sort=True)[0] \
            if len(strata) > 1 else df[strata[0]].to_numpy()
    var_robust, var_naive = robust_variance_efron(
        df[duration_col].to_numpy(dtype=float), df[event_col].to_numpy(), X,
        cph.params_.to_numpy(dtype=float),
        cluster=None if cluster_col is None else df[cluster_col].to_numpy(),
        strata=strata_key,
        weights=None if weights_col is None else df[weights_col].to_numpy(dtype=float),
        entry=None if entry_col is None else df[entry_col].to_numpy(dtype=float))
    alpha = cph.alpha if alpha is None else alpha
    return _summary_frame(names, cph.params_.to_numpy(dtype=float), np.sqrt(np.diag(var_naive)),
                          np.sqrt(np.diag(var_robust)), alpha)


def newton_refit(durations, events, X, init: Sequence[float], steps: int = 2, strata=None, weights=None,
                 entry=None) -> tuple[np.ndarray, bool]:
    """A cheap refit: `steps` Newton steps on the Efron partial likelihood from `init` (no convergence test).

    For a bootstrap of a fitted model: started at the full-data estimate, whose distance to the
    bootstrap estimate is O(n^-1/2), Newton converges quadratically, so one or two steps give the
    bootstrap estimate to O(n^-1) or better (the one-step bootstrap, Davison, Hinkley & Schechtman
    1986). Frequency weights (a bootstrap's counts) are R's case weights; rows of weight 0 are dropped.
    With tied times Efron's correction for a row of weight k is not that of k tied copies of it, so
    this is the weighted-likelihood bootstrap of R's `coxph(weights = )`, not a refit on duplicated rows.
    A step is halved (up to 10 times) when the log-likelihood falls, and a singular information (a
    covariate constant in the resample) is solved by least squares. Returns (beta, every step accepted).
    """
    mat, _ = _as_matrix(X)
    w = np.ones(mat.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    keep = w > 0
    sub = lambda a: None if a is None else np.asarray(a)[keep]  # noqa: E731
    data = _prepare(np.asarray(durations)[keep], np.asarray(events)[keep], mat[keep], strata=sub(strata),
                    weights=w[keep], entry=sub(entry))
    beta = np.asarray(init, dtype=float).copy()
    terms = _efron_terms(data, beta)
    ok = True
    for _ in range(steps):
        try:
            step = _solve(terms.info, terms.score)
        except ValueError:
            step = np.linalg.lstsq(terms.info, terms.score, rcond=None)[0]
        for _halve in range(11):
            new = _efron_terms(data, beta + step)
            if np.isfinite(new.loglik) and new.loglik >= terms.loglik - 1e-12 * abs(terms.loglik):
                break
            step = step / 2
        else:
            ok = False
            break
        beta, terms = beta + step, new
    return beta, ok
