"""Parametric tails beyond follow-up for cause-specific hazards (NICE DSU TSD 14, Latimer 2011/2013).

Question 3 follows journeys past the last observed placement duration. Its default holds each hazard
at its average over the last `window` days of follow-up (the constant-hazard tail). This module fits
the standard parametric alternatives to each cause's event times (the other causes censored: a
cause-specific hazard), and compares them:
  - by fit to all the data: log-likelihood, AIC and BIC of exponential, Weibull, log-normal, Gompertz;
  - by fit where the tail starts: the log-likelihood of the data in the last window (exposure from the
    window's start, left-truncated there), on which the constant-hazard tail is also defined;
  - by plausibility: the hazard each model projects at the horizon against the hazard observed in the
    last window, and whether it rises beyond follow-up (placement disruption hazards fall with duration).
Exponential, Weibull and log-normal are fitted with lifelines' univariate fitters; Gompertz (not in
lifelines) by maximum likelihood with scipy. Every log-likelihood is recomputed here from the fitted
hazard h and cumulative hazard H, sum(d log h(T)) - sum(H(T) - H(entry)), so models are compared on one
footing. Times are in days.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["FAMILIES", "TailFit", "fit_family", "fit_parametric", "constant_tail", "compare_tails",
           "compare_tails_by_cause", "choose_tail", "times_beyond"]

FAMILIES = ("exponential", "weibull", "lognormal", "gompertz")


@dataclass(frozen=True)
class TailFit:
    """A fitted hazard: family, parameters (days), and its fit to the data it was fitted on."""

    family: str
    params: dict[str, float]
    n_params: int
    log_likelihood: float
    n_obs: int
    n_events: int
    start: float = 0.0          # constant_tail: the hazard is defined from here on
    extra: dict = field(default_factory=dict)

    @property
    def aic(self) -> float:
        return -2.0 * self.log_likelihood + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """BIC with the number of events as the sample size (Volinsky & Raftery 2000 for censored data)."""
        return -2.0 * self.log_likelihood + self.n_params * np.log(max(self.n_events, 1))

    def hazard(self, t: np.ndarray | float) -> np.ndarray:
        return _hazard(self.family, self.params, np.asarray(t, dtype=float))

    def cumulative_hazard(self, t: np.ndarray | float) -> np.ndarray:
        return _cumhaz(self.family, self.params, np.asarray(t, dtype=float))

    def survival(self, t: np.ndarray | float) -> np.ndarray:
        return np.exp(-self.cumulative_hazard(t))

    def inverse_cumulative_hazard(self, H: np.ndarray | float) -> np.ndarray:
        """The time t with H(t) = H (inf where the hazard never accumulates that much: Gompertz a < 0)."""
        return _inverse_cumhaz(self.family, self.params, np.asarray(H, dtype=float))


# ---- hazard and cumulative hazard of each family -------------------------------------------------------
def _hazard(family: str, p: dict[str, float], t: np.ndarray) -> np.ndarray:
    if family in ("exponential", "constant_tail"):
        return np.full_like(t, p["rate"])
    if family == "weibull":
        lam, rho = p["lambda"], p["rho"]
        return rho / lam * (np.maximum(t, 1e-300) / lam) ** (rho - 1.0)
    if family == "lognormal":
        z = (np.log(np.maximum(t, 1e-300)) - p["mu"]) / p["sigma"]
        return np.exp(stats.norm.logpdf(z) - stats.norm.logsf(z)) / (p["sigma"] * np.maximum(t, 1e-300))
    if family == "gompertz":
        return p["b"] * np.exp(p["a"] * t)
    raise ValueError(f"unknown family {family!r}; one of {FAMILIES + ('constant_tail',)}")


def _cumhaz(family: str, p: dict[str, float], t: np.ndarray) -> np.ndarray:
    if family == "exponential":
        return p["rate"] * t
    if family == "constant_tail":
        return p["rate"] * np.maximum(t - p.get("start", 0.0), 0.0)
    if family == "weibull":
        return (t / p["lambda"]) ** p["rho"]
    if family == "lognormal":
        z = (np.log(np.maximum(t, 1e-300)) - p["mu"]) / p["sigma"]
        return np.where(t > 0, -stats.norm.logsf(z), 0.0)
    if family == "gompertz":
        return _gompertz_cumhaz(p["b"], p["a"], t)
    raise ValueError(f"unknown family {family!r}; one of {FAMILIES + ('constant_tail',)}")


def _gompertz_cumhaz(b: float, a: float, t: np.ndarray) -> np.ndarray:
    """b (e^{at} - 1) / a, with its limit b t as a -> 0 (expm1 keeps small a accurate)."""
    if abs(a) < 1e-12:
        return b * t
    return b * np.expm1(a * t) / a


def _inverse_cumhaz(family: str, p: dict[str, float], H: np.ndarray) -> np.ndarray:
    if family == "exponential":
        return H / p["rate"]
    if family == "constant_tail":
        return p.get("start", 0.0) + H / p["rate"]
    if family == "weibull":
        return p["lambda"] * H ** (1.0 / p["rho"])
    if family == "lognormal":
        # z = Phi^-1(1 - e^-H): from the event side for small H, the survival side for large H (precision)
        z = np.where(H < 1.0, stats.norm.ppf(-np.expm1(-np.minimum(H, 1.0))), stats.norm.isf(np.exp(-H)))
        return np.exp(p["mu"] + p["sigma"] * z)
    if family == "gompertz":
        b, a = p["b"], p["a"]
        if abs(a) < 1e-12:
            return H / b
        arg = 1.0 + a * H / b
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(arg > 0, np.log1p(a * H / b) / a, np.inf)
    raise ValueError(f"unknown family {family!r}; one of {FAMILIES + ('constant_tail',)}")


def _loglik(family: str, p: dict[str, float], t: np.ndarray, d: np.ndarray, entry: np.ndarray) -> float:
    h = _hazard(family, p, t[d])
    return float(np.sum(np.log(h)) - np.sum(_cumhaz(family, p, t) - _cumhaz(family, p, entry)))


# ---- fitting --------------------------------------------------------------------------------------------
def _check(durations, events, entry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float)
    d = np.asarray(events).astype(bool)
    e = np.zeros_like(t) if entry is None else np.asarray(entry, dtype=float)
    if t.ndim != 1 or d.shape != t.shape or e.shape != t.shape:
        raise ValueError("durations, events and entry must be one-dimensional and of one length")
    bad = ~np.isfinite(t) | (t <= 0) | ~np.isfinite(e) | (e < 0) | (e >= t)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {i}: duration {t[i]!r} with entry {e[i]!r} breaks 0 <= entry < duration")
    if not d.any():
        raise ValueError("no events: a hazard cannot be fitted")
    return t, d, e


def _fit_gompertz(t: np.ndarray, d: np.ndarray, e: np.ndarray) -> dict[str, float]:
    """Gompertz MLE, h(t) = b e^{at}: scipy on (log b, a * scale), times scaled by their mean."""
    scale = float(np.mean(t))
    ts, es = t / scale, e / scale

    def nll(x: np.ndarray) -> float:
        b, a = np.exp(x[0]), x[1]
        val = -(np.sum(np.log(b) + a * ts[d]) - np.sum(_gompertz_cumhaz(b, a, ts) - _gompertz_cumhaz(b, a, es)))
        return float(val) if np.isfinite(val) else 1e300

    rate0 = d.sum() / np.sum(ts - es)
    best = None
    for a0 in (0.0, -0.5, 0.5):
        r = optimize.minimize(nll, np.array([np.log(rate0), a0]), method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        r = optimize.minimize(nll, r.x, method="BFGS", options={"gtol": 1e-9})
        if best is None or r.fun < best.fun:
            best = r
    b, a = np.exp(best.x[0]) / scale, best.x[1] / scale
    return {"b": float(b), "a": float(a)}


def fit_family(family: str, durations, events, entry=None) -> TailFit:
    """Fit one family by maximum likelihood to (possibly left-truncated) right-censored times."""
    from lifelines import ExponentialFitter, LogNormalFitter, WeibullFitter

    t, d, e = _check(durations, events, entry)
    kw = {"entry": e} if entry is not None else {}
    if family == "exponential":
        f = ExponentialFitter().fit(t, d, **kw)
        params, k = {"rate": 1.0 / float(f.lambda_)}, 1
    elif family == "weibull":
        f = WeibullFitter().fit(t, d, **kw)
        params, k = {"lambda": float(f.lambda_), "rho": float(f.rho_)}, 2
    elif family == "lognormal":
        f = LogNormalFitter().fit(t, d, **kw)
        params, k = {"mu": float(f.mu_), "sigma": float(f.sigma_)}, 2
    elif family == "gompertz":
        params, k = _fit_gompertz(t, d, e), 2
    else:
        raise ValueError(f"unknown family {family!r}; one of {FAMILIES}")
    return TailFit(family, params, k, _loglik(family, params, t, d, e), len(t), int(d.sum()))


def fit_parametric(durations, events, entry=None, families: tuple[str, ...] = FAMILIES) -> dict[str, TailFit]:
    """All the families fitted to one cause's event times (other causes and censoring as censored)."""
    return {f: fit_family(f, durations, events, entry) for f in families}


def constant_tail(durations, events, window_days: float, end: float | None = None, entry=None) -> TailFit:
    """The constant-hazard tail: events / exposure in [end - window_days, end].

    end defaults to the last event time (where a Breslow baseline stops, as in costing.hazard's
    _tail_rate); with no event in the window the rate falls back to events / exposure over [0, end]
    (as costing.hazard does), and extra["fallback"] says so.
    """
    t, d, e = _check(durations, events, entry)
    end = float(t[d].max()) if end is None else float(end)
    start = max(end - float(window_days), 0.0)
    exposure = np.clip(np.minimum(t, end) - np.maximum(e, start), 0.0, None)
    n_ev = int(np.sum(d & (t > start) & (t <= end)))
    fallback = n_ev == 0 or exposure.sum() <= 0
    if fallback:
        start = 0.0
        exposure = np.clip(np.minimum(t, end) - e, 0.0, None)
        n_ev = int(np.sum(d & (t <= end)))
    rate = n_ev / exposure.sum()
    ll = n_ev * np.log(rate) - rate * exposure.sum()
    return TailFit("constant_tail", {"rate": float(rate), "start": start}, 1, float(ll),
                   int(np.sum(exposure > 0)), n_ev, start=start, extra={"end": end, "fallback": fallback})


def _window_loglik(fit: TailFit, t, d, e, start: float, end: float) -> float:
    """Log-likelihood of the data inside [start, end): exposure from max(entry, start), events in it."""
    at_risk = (t > start) & (e < end)
    lo = np.maximum(e[at_risk], start)
    hi = np.minimum(t[at_risk], end)
    ev = d[at_risk] & (t[at_risk] <= end)
    if fit.family == "constant_tail":
        r = fit.params["rate"]
        return float(ev.sum() * np.log(r) - r * np.sum(hi - lo))
    h = fit.hazard(hi[ev])
    return float(np.sum(np.log(h)) - np.sum(fit.cumulative_hazard(hi) - fit.cumulative_hazard(lo)))


def compare_tails(durations, events, window_days: float, horizon_days: float, entry=None,
                  rise_tolerance: float = 1.0, ratio_bound: float = 2.0) -> tuple[pd.DataFrame, dict[str, TailFit]]:
    """Every family and the constant tail, side by side: fit overall, fit in the last window, plausibility.

    Columns: n_params, log_lik, aic, bic (all data; NaN for the constant tail, which is not a model of the
    early durations), window_log_lik and window_aic (the last window), hazard_end and hazard_horizon
    (per day), ratio_to_observed (hazard at the horizon / the constant-tail rate), rising (the hazard
    at the horizon is above rise_tolerance times the hazard at the end of follow-up), surv_beyond (chance of no event from the end of follow-up to the horizon)
    and plausible (ratio_to_observed within [1 / ratio_bound, ratio_bound] and not rising). The plausibility
    rule is a screen, stated so it can be argued with, not a substitute for the judgement TSD 14 asks for.
    """
    t, d, e = _check(durations, events, entry)
    fits = fit_parametric(t, d, e if entry is not None else None)
    tail = constant_tail(t, d, window_days, entry=e if entry is not None else None)
    start, end = tail.start, tail.extra["end"]
    horizon = max(float(horizon_days), end)
    rows = []
    for name, fit in {**fits, "constant_tail": tail}.items():
        w_ll = _window_loglik(fit, t, d, e, start, end)
        h_end = float(fit.hazard(np.array([end]))[0])
        h_hor = float(fit.hazard(np.array([horizon]))[0])
        cum = fit.cumulative_hazard(np.array([end, horizon]))
        ratio = h_hor / tail.params["rate"]
        rising = h_hor > h_end * rise_tolerance * (1 + 1e-9)
        rows.append({
            "family": name, "n_params": fit.n_params,
            "log_lik": fit.log_likelihood if name != "constant_tail" else np.nan,
            "aic": fit.aic if name != "constant_tail" else np.nan,
            "bic": fit.bic if name != "constant_tail" else np.nan,
            "window_log_lik": w_ll, "window_aic": -2 * w_ll + 2 * fit.n_params,
            "hazard_end": h_end, "hazard_horizon": h_hor, "ratio_to_observed": ratio,
            "rising": bool(rising), "surv_beyond": float(np.exp(-(cum[1] - cum[0]))),
            "plausible": bool((1 / ratio_bound) <= ratio <= ratio_bound and not rising),
        })
    table = pd.DataFrame(rows).set_index("family")
    table.attrs.update({"window_start": start, "end": end, "horizon": horizon,
                        "window_fallback": tail.extra["fallback"]})
    return table, {**fits, "constant_tail": tail}


def compare_tails_by_cause(durations, causes, window_days: float, horizon_days: float, entry=None,
                           cause_labels=None, **kw) -> dict[object, pd.DataFrame]:
    """compare_tails for each cause: events of that cause are events, everything else is censored.

    `causes` holds a label per placement for ended ones and NaN / None for censored placements.
    """
    c = pd.Series(np.asarray(causes, dtype=object))
    labels = cause_labels if cause_labels is not None else sorted(c.dropna().unique().tolist())
    return {lab: compare_tails(durations, (c == lab).to_numpy(), window_days, horizon_days, entry, **kw)[0]
            for lab in labels}


def times_beyond(fit: TailFit, end: float, rate_at_end, u) -> np.ndarray:
    """Event times beyond follow-up for hazards that continue with the shape of a fitted tail.

    Each child's hazard at `end` is rate_at_end (e.g. its council's last-window average times its Cox
    relative hazard); beyond it the hazard is rate_at_end * h(t) / h(end), h the fitted tail's hazard
    (proportional hazards keep the shape). u are uniforms in (0, 1) (common random numbers across
    scenarios); the time solves rate_at_end / h(end) * (H(t) - H(end)) = -log u. inf: no event.
    """
    r = np.asarray(rate_at_end, dtype=float)
    u = np.asarray(u, dtype=float)
    if np.any(r <= 0) or np.any((u <= 0) | (u >= 1)):
        raise ValueError("rate_at_end must be positive and u strictly inside (0, 1)")
    h_end = float(fit.hazard(np.array([end]))[0])
    H_end = float(fit.cumulative_hazard(np.array([end]))[0]) if fit.family != "constant_tail" \
        else float(fit.params["rate"] * max(end - fit.params["start"], 0.0))
    t = fit.inverse_cumulative_hazard(H_end + (-np.log(u)) * h_end / r)
    return np.maximum(t, end)


def choose_tail(table: pd.DataFrame, criterion: str = "window_aic") -> str:
    """The plausible tail with the lowest criterion (the constant tail if none is plausible)."""
    if criterion not in ("aic", "bic", "window_aic"):
        raise ValueError(f"criterion {criterion!r}: one of aic, bic, window_aic")
    ok = table[table["plausible"]]
    if criterion in ("aic", "bic"):
        ok = ok.drop(index="constant_tail", errors="ignore")
    if ok.empty:
        return "constant_tail"
    return str(ok[criterion].idxmin())

