"""Exact, vectorised survival estimators that agree with R `survival` (the reference).

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
- `kaplan_meier`: KM as R's survfit: Greenwood or the robust infinitesimal-jackknife (IJ)
  variance (clustered, e.g. by child; R's default with a cluster or non-integer weights) and
  survfit's "log" (default), "log-log" and "plain" confidence intervals.
- `cumulative_incidence`: Aalen-Johansen cumulative incidence for competing risks (as
  cmprsk::cuminc and survfit's multi-state "pstate"), with survfit's IJ standard errors and
  confidence intervals (clustered if asked) and Gray's variance as cmprsk reports it.
- `concordance_index`: Harrell's C as coxph reports it.

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

Aalen-Johansen in lifelines: `AalenJohansenFitter` jitters event times (uniform +-1e-4 by
default, after `np.random.seed(seed)`, which reseeds numpy's global RNG) whenever events of
different causes share a time. That changes the estimate: about half the tied events are moved
after the rows censored at the same time, which then no longer count as at risk for them (R
counts a row censored at t as at risk at t); reordering the events of different causes alone
would not matter. It also makes the estimate irreproducible unless a seed is passed (3.8e-4
relative on the simulated placements of the tests). Where it
needs no jitter its estimate and variance (Collett's delta-method formula) equal
`cumulative_incidence`'s CIF and IJ variance, i.e. survfit's (tested); cmprsk's Gray variance is
a different estimator (a few percent apart). The Aalen-Johansen estimator is well defined
with ties; `cumulative_incidence` computes it on grouped times, as R does, and never jitters.

R itself, for the record: survival 3.5.3's multi-state survfit (the Aalen-Johansen curves)
accepts `cluster=` but returns the per-row infinitesimal-jackknife standard errors (its
influence matrix has one row per observation, not per cluster). `cumulative_incidence(...,
cluster=)` sums the influence within cluster, as R's coxph and single-state survfit do, and the
tests check it against R's own per-row influence summed by cluster (`rowsum`).

Scope and known gaps: Efron ties only (Breslow coincides when there are no ties; "exact" is
not implemented); no penalised terms, offsets or frailty; R's `timefix` (merging times equal to
~1e-8 relative) is not applied, so pass integer days or exactly equal floats for ties;
Kaplan-Meier and Aalen-Johansen take right-censored data only (no delayed entry);
concordance is for right-censored data.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, stats

__all__ = [
    "CoxResult",
    "cox_efron",
    "efron_score_residuals",
    "robust_variance_efron",
    "lifelines_with_r_variance",
    "concordance_index",
    "kaplan_meier",
    "cumulative_incidence",
    "R_EPS",
    "R_ITER_MAX",
]

R_EPS = 1e-9  # coxph.control(eps): relative change in the log-likelihood at convergence
R_ITER_MAX = 20  # coxph.control(iter.max)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

def _segmented_cumsum(values: np.ndarray, segment: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Cumulative sum along axis 0 restarting at each change of `segment` (sorted labels).

    Sums are accumulated within a segment only (as R accumulates within a stratum), so a small
    risk set at the end of one stratum carries no rounding error from the others' totals.
    """
    frame = pd.DataFrame(values[::-1] if reverse else values)
    seg = segment[::-1] if reverse else segment
    out = frame.groupby(seg, sort=False).cumsum().to_numpy().reshape(values.shape)
    return out[::-1] if reverse else out


def _codes(values, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..k-1 (in sorted order of the labels) and the labels."""
    if values is None:
        raise ValueError(f"{name} is required")
    arr = pd.Series(np.asarray(values))
    if arr.isna().any():
        raise ValueError(f"{name} has missing values")
    codes, labels = pd.factorize(arr, sort=True)
    return codes.astype(np.int64), np.asarray(labels)


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


# --------------------------------------------------------------------------------------------
# Concordance (Harrell's C as R's coxph reports it)
# --------------------------------------------------------------------------------------------

def concordance_index(durations, events, risk_score, strata=None, weights=None,
                      entry=None) -> float:
    """Harrell's C for a risk score (higher = earlier event), R's concordancefit convention.

    A pair is comparable when one row has an event at t and the other (same stratum) is still
    at risk after t, or is censored at t; pairs with tied event times are not comparable; tied
    scores count one half. Weighted by the product of the pair's case weights (R weights the
    pair by the event row's weight times the other row's); counting-process input is not
    supported here (R's time-dependent concordance differs).
    """
    if entry is not None:
        raise NotImplementedError("concordance for (start, stop] data is not implemented")
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events).astype(bool)
    s = np.asarray(risk_score, dtype=float)
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    st = np.zeros(t.size, dtype=np.int64) if strata is None else _codes(strata, "strata")[0]
    conc, disc, tied = _concordance_counts(t, e, s, w, st)
    total = conc + disc + tied
    return float((conc + tied / 2) / total) if total > 0 else float("nan")


def _concordance_counts(t, e, s, w, st) -> tuple[float, float, float]:
    """Weighted counts of concordant, discordant and score-tied comparable pairs.

    Order rows by (stratum, time, events before censorings); a death is compared with every
    row from the end of its tie-group of deaths to the end of its stratum, a contiguous range.
    Counting rows of lower / equal score in a range is a dominance count, answered for all
    deaths at once by `_range_rank_counts` (O(n log^2 n), no row loops).
    """
    # position key: stratum, time rank, then censored after deaths at the same time
    t_rank = np.unique(t, return_inverse=True)[1]
    order = np.lexsort((~e, t_rank, st))
    t_rank, e, s, w, st = t_rank[order], e[order], s[order], w[order], st[order]
    n = t.size
    s_rank = np.unique(s, return_inverse=True)[1].astype(np.int64)
    key = st * (n + 1) + t_rank  # (stratum, time) of every row
    death_idx = np.flatnonzero(e)
    # end of the death tie-group: first position with a different key or a censored row
    grp_end = np.searchsorted(key * 2 + (~e), key[death_idx] * 2 + 1, side="left")
    strat_end = np.searchsorted(st, st[death_idx], side="right")
    lower, le = _range_rank_counts(grp_end, strat_end, s_rank[death_idx], s_rank, w)
    total = _suffix_weight(w, grp_end) - _suffix_weight(w, strat_end)
    wd = w[death_idx]
    conc = float(np.dot(wd, lower))
    tied = float(np.dot(wd, le - lower))
    disc = float(np.dot(wd, total - le))
    return conc, disc, tied


def _suffix_weight(w: np.ndarray, pos: np.ndarray) -> np.ndarray:
    suffix = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])
    return suffix[pos]


def _range_rank_counts(lo: np.ndarray, hi: np.ndarray, r: np.ndarray, ranks: np.ndarray,
                       w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query q, the sums of w[j] over lo_q <= j < hi_q with ranks[j] < r_q and <= r_q.

    Each is a difference of prefix queries over [0, pos). A prefix is the union of at most
    log2(n) aligned dyadic blocks (one per set bit of pos); at each block size the rows are
    sorted by (block, rank) once, and a single searchsorted answers every query at that level.
    O(n log^2 n) work, all of it vectorised.
    """
    pos = np.concatenate([hi, lo]).astype(np.int64)
    rq = np.concatenate([r, r]).astype(np.int64)
    n = ranks.size
    below = np.zeros(pos.size)
    at_most = np.zeros(pos.size)
    big = np.int64(ranks.max() + 2)
    idx = np.arange(n, dtype=np.int64)
    size = 1
    while size <= n:
        comp = (idx // size) * big + ranks
        srt = np.argsort(comp, kind="stable")
        comp_sorted = comp[srt]
        csum = np.concatenate([[0.0], np.cumsum(w[srt])])
        use = (pos & size) != 0
        block = (pos[use] // (2 * size)) * 2   # the block of this size inside [0, pos)
        start = np.searchsorted(comp_sorted, block * big, side="left")
        key = block * big + rq[use]
        below[use] += csum[np.searchsorted(comp_sorted, key, side="left")] - csum[start]
        at_most[use] += csum[np.searchsorted(comp_sorted, key, side="right")] - csum[start]
        size *= 2
    m = hi.size
    return below[:m] - below[m:], at_most[:m] - at_most[m:]


# --------------------------------------------------------------------------------------------
# Kaplan-Meier and Aalen-Johansen: shared pieces
# --------------------------------------------------------------------------------------------

def _confint(p: np.ndarray, se: np.ndarray, conf_type: str, conf_int: float,
             logse: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """R's survfit_confint: `se` is of -log p (logse=True, Greenwood) or of p itself (IJ)."""
    z = stats.norm.ppf(1 - (1 - conf_int) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if not logse:
            se = np.where(se == 0, 0.0, se / p)
        if conf_type == "plain":
            se2 = se * p * z
            return np.maximum(p - se2, 0), np.minimum(p + se2, 1)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se
            return np.exp(np.log(xx) - se2), np.minimum(np.exp(np.log(xx) + se2), 1)
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            return (np.exp(-np.exp(np.log(-np.log(xx)) - se2)),
                    np.exp(-np.exp(np.log(-np.log(xx)) + se2)))
    raise ValueError("conf_type must be 'log' (R's default), 'log-log' or 'plain'")


@dataclass
class _Grid:
    """Distinct times with weighted counts, and each row's position on the grid."""

    times: np.ndarray
    row_pos: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    w: np.ndarray


def _grid(durations, events, weights) -> _Grid:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events)
    if not np.isfinite(t).all():
        raise ValueError("durations must be finite")
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    if (w <= 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be positive and finite")
    times, inv = np.unique(t, return_inverse=True)
    ev_w = np.bincount(inv, weights=w * (e != 0), minlength=times.size)
    cens_w = np.bincount(inv, weights=w * (e == 0), minlength=times.size)
    n_risk = np.cumsum((ev_w + cens_w)[::-1])[::-1]
    return _Grid(times, inv, n_risk, ev_w, cens_w, w)


def _use_ij(weights, cluster, variance: str | None) -> bool:
    """R's survfit default: the robust (IJ) variance with a cluster or non-integer weights."""
    if variance is None:
        has_rwt = weights is not None and np.any(np.asarray(weights) != np.floor(weights))
        return cluster is not None or bool(has_rwt)
    if variance not in ("greenwood", "ij"):
        raise ValueError("variance must be 'greenwood', 'ij' or None (R's default rule)")
    if variance == "greenwood" and cluster is not None:
        raise ValueError("a cluster needs the robust (ij) variance")
    return variance == "ij"


def _ij_variance(g: _Grid, cluster, A: np.ndarray, alpha: np.ndarray, gamma: np.ndarray,
                 F: np.ndarray) -> np.ndarray:
    """Infinitesimal-jackknife variance sum_c (sum_{i in c} w_i U_i(t))^2 at every grid time.

    Every influence here has the form U_i(t) = A(t) while row i is still at risk (t < T_i)
    and U_i(t) = alpha_i + gamma_i F(t) from its own time on. Per cluster the sum is
    A W_c + a_c + g_c F, with W_c the weight still at risk and a_c, g_c the sums of w alpha,
    w gamma of rows already out. Squaring and summing over clusters needs six running sums
    (W^2, a^2, g^2, W a, W g, a g); each changes only when a row of the cluster leaves, by
    (value after) - (value before), so all of them are cumulative sums over rows: no loop over
    clusters or times. R's default without a cluster is one cluster per row.
    """
    n = g.w.size
    codes = np.arange(n) if cluster is None else _codes(cluster, "cluster")[0]
    order = np.lexsort((g.row_pos, codes))
    c, pos, w = codes[order], g.row_pos[order], g.w[order]
    wa, wg = w * alpha[order], w * gamma[order]
    first = np.r_[True, c[1:] != c[:-1]]
    total = np.bincount(c, weights=w)[c]
    gone_after = _segmented_cumsum(w, c)
    a_after, g_after = _segmented_cumsum(wa, c), _segmented_cumsum(wg, c)
    W_after = total - gone_after
    W_before = np.where(first, total, np.r_[0.0, W_after[:-1]])
    a_before = np.where(first, 0.0, np.r_[0.0, a_after[:-1]])
    g_before = np.where(first, 0.0, np.r_[0.0, g_after[:-1]])
    pairs = [(W_after, W_after, W_before, W_before), (a_after, a_after, a_before, a_before),
             (g_after, g_after, g_before, g_before), (W_after, a_after, W_before, a_before),
             (W_after, g_after, W_before, g_before), (a_after, g_after, a_before, g_before)]
    m = g.times.size
    sums = []
    for x1, y1, x0, y0 in pairs:
        delta = np.bincount(pos, weights=x1 * y1 - x0 * y0, minlength=m)
        sums.append(np.cumsum(delta))
    SWW, Saa, Sgg, SWa, SWg, Sag = sums
    SWW = SWW + np.sum(np.bincount(codes, weights=g.w) ** 2)  # everyone at risk at the start
    with np.errstate(invalid="ignore"):
        var = A * A * SWW + Saa + F * F * Sgg + 2 * A * SWa + 2 * A * F * SWg + 2 * F * Sag
    return np.maximum(var, 0.0)


def _km_parts(g: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survival, Greenwood increments and the per-row jump 1/(n - d) at each row's own time."""
    n, d = g.n_risk, g.n_event
    surv = np.cumprod(1 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(d > 0, d / (n * (n - d)), 0.0)
        jump = np.where(n > d, 1 / (n - d), 0.0)  # where n == d nothing is left to influence
    return surv, inc, jump


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------

def kaplan_meier(durations, events, weights=None, cluster=None, variance: str | None = None,
                 conf_type: str = "log", conf_int: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier at every distinct time, exactly as R's survfit(Surv(t, e) ~ 1).

    Columns: time, n_risk, n_event, n_censor (weighted), surv, std_err (of S, as
    summary.survfit prints it), std_err_log (se of -log S), lower, upper.

    variance: "greenwood" or "ij" (infinitesimal jackknife, R's robust variance, clustered by
    `cluster`, e.g. child); None follows R: IJ when a cluster is given or the weights are not
    integers, else Greenwood. R's survfit$std.err is std_err_log for Greenwood and std_err for
    IJ. conf_type "log" is R's default; lifelines' KaplanMeierFitter uses "log-log".
    """
    g = _grid(durations, events, weights)
    surv, inc, jump = _km_parts(g)
    H = np.cumsum(inc)
    out = pd.DataFrame({"time": g.times, "n_risk": g.n_risk, "n_event": g.n_event,
                        "n_censor": g.n_censor, "surv": surv})
    with np.errstate(invalid="ignore"):
        if _use_ij(weights, cluster, variance):
            # influence on log S: H(t) while at risk, H(T_i) - event_i / (n - d) afterwards
            e = (np.asarray(events) != 0).astype(float)
            alpha = np.where(np.isfinite(H), H, 0.0)[g.row_pos] - e * jump[g.row_pos]
            var_log = _ij_variance(g, cluster, np.where(np.isfinite(H), H, 0.0), alpha,
                                   np.zeros_like(alpha), np.zeros_like(H))
            se = np.where(surv > 0, surv * np.sqrt(var_log), 0.0)
            lower, upper = _confint(surv, se, conf_type, conf_int, logse=False)
            se_log = np.where(se == 0, 0.0, se / surv)
        else:
            se_log = np.sqrt(H)
            se = se_log * surv
            lower, upper = _confint(surv, se_log, conf_type, conf_int, logse=True)
    out["std_err"] = se
    out["std_err_log"] = se_log
    out["lower"] = lower
    out["upper"] = upper
    return out


# --------------------------------------------------------------------------------------------
# Aalen-Johansen cumulative incidence (competing risks)
# --------------------------------------------------------------------------------------------

def cumulative_incidence(durations, event_codes, weights=None, cluster=None,
                         conf_type: str = "log", conf_int: float = 0.95) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of each cause (codes 1..k; 0 = censored).

    One row per distinct time, as R's survfit(Surv(t, factor(code)) ~ 1) multi-state fit:
    time, n_risk, n_censor, n_event_<c>, surv (all-cause KM, R's pstate "(s0)"),
    cif_<c> = sum over s <= t of S(s-) d_c(s) / n(s), std_err_<c> (R's infinitesimal-jackknife
    std.err, clustered by `cluster`, e.g. child), lower_<c>, upper_<c> (R's conf.type), and
    var_gray_<c>, the delta-method variance cmprsk::cuminc reports (unweighted, unclustered
    only; NaN otherwise). Ties, including ties between causes, are simultaneous events, as in R.
    """
    codes = np.asarray(event_codes)
    if not np.issubdtype(codes.dtype, np.integer):
        if not np.all(np.mod(codes, 1) == 0):
            raise ValueError("event codes must be integers (0 = censored)")
        codes = codes.astype(np.int64)
    if (codes < 0).any():
        raise ValueError("event codes must be >= 0 (0 = censored)")
    causes = np.unique(codes[codes > 0])
    g = _grid(durations, codes, weights)
    n, d_all = g.n_risk, g.n_event
    surv, inc, jump = _km_parts(g)
    surv_before = np.r_[1.0, surv[:-1]]
    H_before = np.r_[0.0, np.cumsum(inc)[:-1]]   # H(s-): finite, the last step is excluded
    H_own = np.cumsum(inc)
    died = (codes != 0).astype(float)
    # influence of row i on log S from its own time on (0 where nothing is left at risk)
    c_row = np.where(np.isfinite(H_own), H_own, 0.0)[g.row_pos] - died * jump[g.row_pos]
    c_row = np.where(jump[g.row_pos] == 0, 0.0, c_row)

    out = {"time": g.times, "n_risk": n, "n_censor": g.n_censor}
    d_by = {c: np.bincount(g.row_pos, weights=g.w * (codes == c), minlength=g.times.size)
            for c in causes}
    for c in causes:
        out[f"n_event_{c}"] = d_by[c]
    out["surv"] = surv
    for c in causes:
        lam = d_by[c] / n
        cif = np.cumsum(surv_before * lam)
        # influence on F_c(t) = sum_{s<=t} S(s-)[L_i(s-) lam(s) + (dN_ic(s) - Y_i(s) lam(s))/n(s)]
        A = np.cumsum(surv_before * lam * (H_before - 1 / n))
        own = (codes == c) * (surv_before / n)[g.row_pos]
        alpha = A[g.row_pos] + own - c_row * cif[g.row_pos]
        var = _ij_variance(g, cluster, A, alpha, c_row, cif)
        se = np.sqrt(var)
        lower, upper = _confint(cif, se, conf_type, conf_int, logse=False)
        out[f"cif_{c}"] = cif
        out[f"std_err_{c}"] = se
        out[f"lower_{c}"] = lower
        out[f"upper_{c}"] = upper
        if weights is None and cluster is None:
            out[f"var_gray_{c}"] = _gray_variance(n, d_by[c], d_all - d_by[c], surv_before,
                                                  surv, cif)
        else:
            out[f"var_gray_{c}"] = np.full(g.times.size, np.nan)
    return pd.DataFrame(out)


def _gray_variance(rs, nd1, nd2, fk, fkn, F) -> np.ndarray:
    """cmprsk's cinc variance (Gray), vectorised: running sums v1, v2, v3 over event times.

    v(t) = v1 + F(t)^2 v3 - 2 F(t) v2 is reported at times with an event of the cause and
    carried forward between them (cmprsk's step function), 0 before the first such event.
    """
    def t5(nd):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(nd > 1, 1 - (nd - 1) / (rs - 1), 1.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        inv_fkn = np.where(fkn > 0, 1 / fkn, 0.0)
        # other causes (skipped when the overall survival drops to 0)
        use2 = (nd2 > 0) & (fkn > 0)
        t6 = np.where(use2, fk * fk * t5(nd2) * nd2 / (rs * rs), 0.0)
        t4 = F * inv_fkn
        v1 = t4 * t4 * t6
        v2 = inv_fkn * t4 * t6
        v3 = inv_fkn * inv_fkn * t6
        # the cause of interest
        use1 = nd1 > 0
        t6 = np.where(use1, fk * fk * t5(nd1) * nd1 / (rs * rs), 0.0)
        t4 = 1 + inv_fkn * F
        v1 = v1 + t4 * t4 * t6
        v2 = v2 + inv_fkn * t4 * t6
        v3 = v3 + inv_fkn * inv_fkn * t6
    v1, v2, v3 = np.cumsum(v1), np.cumsum(v2), np.cumsum(v3)
    v_at = v1 + F * F * v3 - 2 * F * v2
    last = np.maximum.accumulate(np.where(use1, np.arange(F.size), -1))
    return np.where(last >= 0, v_at[np.maximum(last, 0)], 0.0)
