"""Kaplan-Meier and Aalen-Johansen curves, exactly as R's survfit (and cmprsk::cuminc).

- `kaplan_meier`: KM as R's survfit: Greenwood or the robust infinitesimal-jackknife (IJ)
  variance (clustered, e.g. by child; R's default with a cluster or non-integer weights) and
  survfit's "log" (default), "log-log" and "plain" confidence intervals.
- `cumulative_incidence`: Aalen-Johansen cumulative incidence for competing risks (as
  cmprsk::cuminc and survfit's multi-state "pstate"), with survfit's IJ standard errors and
  confidence intervals (clustered if asked) and Gray's variance as cmprsk reports it. (The
  model-based risk from discrete-time interval hazards of question 1 is a different estimator,
  `analyses.prediction.fit.cif_from_interval_hazards`.)

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


Scope: right-censored data only (no delayed entry); ties, including ties between causes, are
simultaneous events, as in R.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from rcceval.stats._arrays import codes as _codes
from rcceval.stats._arrays import segmented_cumsum as _segmented_cumsum

__all__ = ["kaplan_meier", "cumulative_incidence"]


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
