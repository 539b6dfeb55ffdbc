"""The placement-ending hazards the journey microsimulation draws from, in one form for both sources.

- "fitted": question 2's cause-specific Cox models (unplanned, planned change, left care), each with
  its coefficients, their robust covariance (clustered by child, R coxph's, from survival_engine)
  and a Breslow baseline cumulative hazard per council (stratum), covariates centred at their means
  as lifelines centres them. Beyond the last baseline time the hazard is extrapolated as constant:
  the average hazard of the last `extrapolation_days` (the report says so).
- "generating": the synthetic region's Weibull proportional hazards (truth.json), with its council
  frailty: the clean check that the engine reproduces a known model (built by
  synth.recovery.generating_hazards; analyses do not read truth.json).

A CauseHazard turns a target cumulative hazard into a time (days): the inverse transform the
engine uses for each cause's latent time (the placement ends at the first of the three: proper
competing risks).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rcceval.spec import codes
from rcceval.spec.codes import DAYS_PER_YEAR

if TYPE_CHECKING:  # the engine's workers unpickle hazards without importing the model fitting
    from rcceval.analyses.survival.cox import CoxModel

CAUSES = (codes.UNPLANNED, codes.PLANNED, codes.LEFT_CARE)   # engine order
NO_HAZARD_LOG_HR = -50.0     # a level with no ending of a cause: the fitted limit is a hazard of 0


@dataclass
class CauseHazard:
    """One cause's hazard: h(t | x) = h0_s(t) exp((x - centre)' coef) for a placement in stratum s.

    Baseline either a step cumulative hazard per stratum (times: days, cumhaz: strata x times,
    tail_rate: hazard per day beyond the last time) or Weibull (lam, shape; t in years) with a
    log offset per stratum (council frailty)."""

    cause: str
    names: list[str]
    coef: np.ndarray
    cov: np.ndarray | None
    centre: np.ndarray
    strata: list[str]
    kind: str                                   # "step" | "weibull"
    times: np.ndarray | None = None
    cumhaz: np.ndarray | None = None
    tail_rate: np.ndarray | None = None
    weibull: tuple[float, float] | None = None
    stratum_offset: np.ndarray | None = None
    eventless: list[str] = field(default_factory=list)
    tail: object | None = None                  # stats.tails.TailFit: the shape beyond the last time (None: constant)

    def _beyond_H(self, stratum: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Baseline cumulative hazard beyond the last time T: H(T) + rate * integral_T^t h(u) / h(T) du.

        rate is the stratum's tail rate (its hazard at T); h the fitted tail's shape (proportional
        hazards keep it), constant when there is no fitted tail."""
        T, rate = self.times[-1], self.tail_rate[stratum]
        if self.tail is None:
            return self.cumhaz[stratum, -1] + rate * (t - T)
        f = self.tail
        h_T, H_T = float(f.hazard(np.array([T]))[0]), float(f.cumulative_hazard(np.array([T]))[0])
        return self.cumhaz[stratum, -1] + rate * (f.cumulative_hazard(np.asarray(t, float)) - H_T) / h_T

    def draw_coefs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n coefficient vectors: MVN(coef, robust covariance), or the coefficients n times."""
        if self.cov is None:
            return np.tile(self.coef, (n, 1))
        return rng.multivariate_normal(self.coef, self.cov, size=n, method="cholesky")

    def inverse(self, stratum: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Time (days) at which the baseline cumulative hazard of each row's stratum reaches target."""
        if self.kind == "weibull":
            lam, shape = self.weibull
            years = (target / lam) ** (1.0 / shape)
            return np.maximum(1.0, np.ceil(years * DAYS_PER_YEAR))
        H, T = self.cumhaz, self.times
        n_s, n_t = H.shape
        last = H[:, -1][stratum]
        width = float(H[:, -1].max()) + 1.0
        flat = (H + np.arange(n_s)[:, None] * width).ravel()
        q = np.minimum(target, last) + stratum * width
        pos = np.searchsorted(flat, q, side="left") - stratum * n_t
        within = T[np.clip(pos, 0, n_t - 1)]
        rate = self.tail_rate[stratum]
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = np.where(rate > 0, (target - last) / rate, np.inf)     # in days of the hazard at T
            if self.tail is None:
                beyond = T[-1] + extra
            else:                                                          # solve H_f(t) = H_f(T) + extra h_f(T)
                f = self.tail
                h_T = float(f.hazard(np.array([T[-1]]))[0])
                H_T = float(f.cumulative_hazard(np.array([T[-1]]))[0])
                beyond = np.maximum(f.inverse_cumulative_hazard(H_T + np.maximum(extra, 0.0) * h_T), T[-1])
        return np.where(target <= last, within, beyond)

    def cumulative(self, t_days: float, stratum: np.ndarray) -> np.ndarray:
        """Baseline cumulative hazard at t (days) for each row's stratum (offsets not included)."""
        stratum = np.asarray(stratum)
        if self.kind == "weibull":
            lam, shape = self.weibull
            return np.full(stratum.shape, lam * (t_days / DAYS_PER_YEAR) ** shape)
        if t_days > self.times[-1]:
            return self._beyond_H(stratum, np.full(stratum.shape, float(t_days)))
        i = np.searchsorted(self.times, t_days, side="right") - 1
        return self.cumhaz[stratum, i] if i >= 0 else np.zeros(stratum.shape)

    def survival(self, t_days: np.ndarray, lp: float = 0.0, stratum: int = 0) -> np.ndarray:
        """Cause-specific survival exp(-H0(t) e^lp) of one stratum (for checks and plots)."""
        t = np.asarray(t_days, dtype=float)
        if self.kind == "weibull":
            lam, shape = self.weibull
            off = 0.0 if self.stratum_offset is None else self.stratum_offset[stratum]
            return np.exp(-lam * (t / DAYS_PER_YEAR) ** shape * np.exp(lp + off))
        H = self.cumhaz[stratum]
        idx = np.searchsorted(self.times, t, side="right") - 1
        h = np.where(idx >= 0, H[np.clip(idx, 0, None)], 0.0)
        h = np.where(t > self.times[-1], self._beyond_H(np.full(t.shape, stratum), np.maximum(t, self.times[-1])), h)
        return np.exp(-h * np.exp(lp))


@dataclass
class HazardModel:
    """The three cause-specific hazards (CAUSES order) and where they came from."""

    source: str
    causes: dict[str, CauseHazard]
    notes: list[str] = field(default_factory=list)

    @property
    def strata(self) -> list[str]:
        return next(iter(self.causes.values())).strata


def breslow(time: np.ndarray, event: np.ndarray, X: np.ndarray, beta: np.ndarray, stratum: np.ndarray,
            centre: np.ndarray, strata: list[str], weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Breslow baseline cumulative hazard per stratum at the covariate means (lifelines' convention):
    H0_s(t) = sum over event times u <= t of d_s(u) / sum_{j in s, T_j >= u} exp((x_j - centre)' beta).
    weights: frequency weights (a bootstrap's counts), in both sums. Returns (times: every distinct
    time, cumhaz: strata x times)."""
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype=float)
    risk = np.exp((X - centre) @ beta) * w
    times = np.unique(time)
    s_idx = pd.Index(strata).get_indexer(stratum)
    t_idx = np.searchsorted(times, time)
    n_s, n_t = len(strata), len(times)
    at = np.zeros((n_s, n_t))
    np.add.at(at, (s_idx, t_idx), risk)
    d = np.zeros((n_s, n_t))
    np.add.at(d, (s_idx, t_idx), event.astype(float) * w)
    at_risk = np.cumsum(at[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(d > 0, d / at_risk, 0.0)
    return times.astype(float), np.cumsum(inc, axis=1)


def _tail_rate(times: np.ndarray, cumhaz: np.ndarray, window: float) -> np.ndarray:
    """Hazard per day beyond the last time: the average over the last `window` days, else overall."""
    t_end = times[-1]
    i0 = np.searchsorted(times, t_end - window, side="right") - 1
    h_start = cumhaz[:, i0] if i0 >= 0 else np.zeros(len(cumhaz))
    span = t_end - (times[i0] if i0 >= 0 else 0.0)
    rate = (cumhaz[:, -1] - h_start) / max(span, 1.0)
    overall = cumhaz[:, -1] / max(t_end, 1.0)
    return np.where(rate > 0, rate, overall)


@dataclass(frozen=True)
class FittedHazards:
    """Question 3's fitted cause-specific hazards as aggregates only (no child rows): per cause its
    covariate names, coefficients, robust covariance, centre (covariate means) and Breslow baseline
    cumulative hazard per stratum (council), plus the Cox covariates and notes on the fit. Question 2
    saves it for question 3 (Report.save_artifact), which fits it itself when run alone."""

    spec: object                        # survival.data.CoxSpec
    strata: tuple[str, ...]
    causes: dict[str, dict]             # cause -> names, coef, cov, centre, times, cumhaz, eventless
    notes: tuple[str, ...] = ()


def cox_aggregates(models: dict[str, CoxModel], spec: object, notes: tuple[str, ...] = ()) -> FittedHazards:
    """The aggregates of question 3's cause-specific Cox models (keys: codes.UNPLANNED, PLANNED, LEFT_CARE)."""
    from rcceval.analyses.survival.data import CAUSE_CODE
    from rcceval.stats.cox import robust_variance_efron
    strata = sorted({str(s) for m in models.values() for s in pd.unique(m.design.stratum)})
    out = {}
    for cause in CAUSES:
        m = models[cause]
        d = m.design
        coef = m.summary["coef"].to_numpy(dtype=float)
        names = list(m.summary.index)
        X = d.X[names].to_numpy(dtype=float)
        event = (d.cause == CAUSE_CODE[cause])
        cov, _ = robust_variance_efron(d.time, event.astype(np.int64), X, coef, cluster=d.cluster, strata=d.stratum)
        centre = X.mean(axis=0)
        times, H = breslow(d.time, event, X, coef, np.asarray(d.stratum).astype(str), centre, strata)
        out[cause] = {"names": names, "coef": coef, "cov": cov, "centre": centre, "times": times, "cumhaz": H,
                      "eventless": sorted(set(m.dropped) - set(d.dropped))}
    return FittedHazards(spec=spec, strata=tuple(strata), causes=out, notes=tuple(notes))


def from_fitted(fitted: FittedHazards, extrapolation_days: int = 365, tails: dict | None = None) -> HazardModel:
    """HazardModel from the fitted aggregates, the hazard extrapolated as constant beyond the last time
    (or, for a cause in `tails`, with the shape of its fitted parametric tail, stats.tails.TailFit)."""
    tails = tails or {}
    out, notes = {}, []
    strata = list(fitted.strata)
    for cause in CAUSES:
        c = fitted.causes[cause]
        out[cause] = CauseHazard(cause=cause, names=list(c["names"]), coef=c["coef"], cov=c["cov"], centre=c["centre"],
                                 strata=strata, kind="step", times=c["times"], cumhaz=c["cumhaz"],
                                 tail_rate=_tail_rate(c["times"], c["cumhaz"], extrapolation_days),
                                 eventless=list(c["eventless"]), tail=tails.get(cause))
        if c["eventless"]:
            notes.append(f"{cause}: no such ending among placements of {', '.join(c['eventless'])}: hazard 0 for them")
    shapes = {c: t.family for c, t in tails.items() if t is not None and t.family != "constant_tail"}
    last = int(max(h.times[-1] for h in out.values()))
    notes.append(f"baseline hazards observed to day {last}; beyond it, the constant hazard of the last "
                 f"{extrapolation_days} days (extrapolation)" if not shapes else
                 f"baseline hazards observed to day {last}; beyond it, the hazard of the last {extrapolation_days} "
                 "days continued with the shape of the fitted " + ", ".join(f"{f} tail ({c})" for c, f in shapes.items()))
    return HazardModel("fitted", out, notes)


def from_cox(models: dict[str, CoxModel], extrapolation_days: int = 365) -> HazardModel:
    """HazardModel from cause-specific Cox models (keys: codes.UNPLANNED, PLANNED, LEFT_CARE)."""
    return from_fitted(cox_aggregates(models, None), extrapolation_days)
