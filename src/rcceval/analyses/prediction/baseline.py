"""Question 1 on the 903 alone: the baseline model M0, and the gain needs data would have to bring.

Every council has its 903 returns; few have needs assessments. Without them question 1's nested
comparison cannot be made, but its baseline can: M0 (age band, sex, category of need, legal status,
placement type, provider, previous placements, distance band, UASC, SDQ band, council) fitted to
every placement starting in the window with an age band, by the same discrete-time hazard model
(complementary log-log, person-period rows, cluster-robust variance by child), judged out of fold
(folds by child) by censoring-weighted AUC, Brier score and calibration, with a child bootstrap
interval for the AUC, exactly as NeedsStabilityAnalysis judges M0 when needs are there.

What needs data would have to bring to be detectable: question 4's analytic power (Hsieh–Lavori /
Schoenfeld) gives, from the 903's own number of unplanned endings, the smallest hazard ratio per
standard deviation of a needs score that a Wald test would detect at the target power, for the
pooled data and each council, with 1 to 5 years of placements. It is per standard deviation and
assumes the score is uncorrelated with M0's covariates (a squared multiple correlation ρ² multiplies
the minimum detectable log HR by 1/√(1−ρ²)); a needs assessment's real spread is only known once
collected.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcceval.analyses.prediction import data as sd
from rcceval.analyses.prediction import metrics as smx
from rcceval.analyses.prediction.analysis import _fit, _fold_job, _rows_for, _start_for
from rcceval.analyses.proposal import power as pw
from rcceval.parallel import Workers
from rcceval.reporting.results import Count, Result, Table, estimate


@dataclass(frozen=True, eq=False)
class BaselineResult(Result):
    """Aggregates of the 903-only baseline (no child-level rows)."""

    coverage: pd.DataFrame          # reason, placements
    hazard_ratios: pd.DataFrame     # M0's terms (interval terms left out)
    performance: pd.DataFrame       # one row: AUC and its interval, Brier, null Brier
    calibration: pd.DataFrame       # tenths of predicted risk
    detectable: pd.DataFrame        # unit, level, years, placements, events, mdhr_per_sd
    n_placements: int
    n_unplanned: int
    target: float

    def tables(self) -> dict[str, Table]:
        return {
            "baseline_coverage": Table(self.coverage, counts=("placements",)),
            "baseline_hazard_ratios": Table(self.hazard_ratios.round(4), kind="model"),
            "baseline_performance": Table(self.performance.round(4), kind="model"),
            "baseline_calibration": Table(self.calibration.round(4), counts=("placements",),
                                          percent_of={c: "placements" for c in
                                                      ("predicted", "observed", "observed_ci_low", "observed_ci_high")}),
            "detectable_gain": Table(self.detectable.round(3), counts=("placements", "events"),
                                     percent_of={"mdhr_per_sd": "events"}),
        }

    def headlines(self) -> dict[str, object]:
        perf = self.performance.iloc[0]
        pooled = self.detectable.query("level == 'region'").set_index("years")["mdhr_per_sd"]
        return {
            "baseline_auc": estimate(round(float(perf["auc"]), 4),
                                     (round(float(perf["auc_ci_low"]), 4), round(float(perf["auc_ci_high"]), 4))),
            "baseline_placements": Count(self.n_placements),
            "baseline_unplanned_within_horizon": Count(self.n_unplanned),
            f"mdhr_per_sd_needs_score_{self.target:.0%}_power": {f"{k} years": round(float(v), 3)
                                                                  for k, v in pooled.items()},
        }


@dataclass
class BaselineAnalysis:
    """Configure, then `fit(frame, extract_date)`: M0 alone on the placements with an age band."""

    horizon_days: int = 365
    interval_days: int = 30
    folds: int = 5
    bootstrap: int = 200
    seed: int = 0
    n_jobs: Workers = 1
    min_level_events: int = 10
    level: float = 0.95
    target: float = 0.8           # power at which the minimum detectable HR is read
    alpha: float = 0.05

    def fit(self, frame: pd.DataFrame, extract_date: pd.Timestamp) -> BaselineResult:
        no_age = frame["AGE_BAND"].isna().to_numpy()
        coverage = pd.DataFrame({"reason": ["no age band (age unknown or 18+)", "analysed"],
                                 "placements": [int(no_age.sum()), int((~no_age).sum())]})
        fr = frame.loc[~no_age].reset_index(drop=True)
        if fr.empty:
            raise ValueError("no placement in the analysis window has an age band: the baseline cannot be fitted")
        outcome = sd.horizon_outcome(fr, self.horizon_days)
        prepared = sd.prepare(fr)
        levels = sd.choose_levels(prepared, outcome.y, self.min_level_events)
        X = sd.m0_design(sd.apply_levels(prepared, levels), levels)
        X = X.drop(columns=sd.aliased_columns(X))
        terms = list(X.columns)
        edges = sd.interval_edges(self.horizon_days, self.interval_days)
        pp = sd.person_period(outcome.time, outcome.cause, edges)
        rows = {c: _rows_for(pp, c) for c in (sd.UNPLANNED, sd.OTHER_ENDING)}
        clusters = pd.factorize(fr["LA"].astype(str) + "\x1f" + fr["CHILD"].astype(str))[0]
        names = [f"interval[{int(a)}-{int(b)}]" for a, b in zip(edges[:-1], edges[1:])]
        un = _fit(X, terms, rows[sd.UNPLANNED], clusters, names)
        ot = _fit(X, terms, rows[sd.OTHER_ENDING], clusters, names, robust=False)
        summary = un.summary(self.level)
        summary = summary.loc[[t for t in summary.index if t in terms]]

        folds = smx.grouped_folds(clusters, self.folds, self.seed)
        specs = {"M0": (terms, None)}
        starts = {("M0", sd.UNPLANNED): _start_for(un, terms), ("M0", sd.OTHER_ENDING): _start_for(ot, terms)}
        risk = np.full(len(fr), np.nan)
        for f in range(self.folds):
            idx, preds = _fold_job(f, folds, X, rows, clusters, specs, starts, names)
            risk[idx] = preds["M0"]
        full_time = np.maximum(fr["DURATION_DAYS"].to_numpy(float), 1.0)
        w = smx.censoring_weights(full_time, fr["CENSORED"].to_numpy(bool), self.horizon_days)
        y = outcome.y
        auc = smx.weighted_auc(risk, y, w)
        boot = smx.bootstrap_aucs({"M0": risk}, y, w, clusters, self.bootstrap, self.seed + 1, self.n_jobs)["all"]
        lo, hi = smx.percentile_ci(boot["M0"], self.level)
        prevalence = float(np.sum(w * y) / np.sum(w))
        performance = pd.DataFrame([{"model": "M0 (903 only)", "placements": len(fr), "auc": auc, "auc_ci_low": lo,
                                     "auc_ci_high": hi, "brier": smx.brier(risk, y, w),
                                     "brier_null": prevalence * (1 - prevalence)}]).set_index("model")
        calibration = smx.calibration_table(risk, y, w)[["group", "placements", "predicted", "observed",
                                                         "observed_ci_low", "observed_ci_high"]]
        events = pw.events_by_years(frame["START"], frame["EVENT_UNPLANNED"].to_numpy(bool), frame["LA"],
                                    extract_date)
        events["mdhr_per_sd"] = detectable_hr(events["events"].to_numpy(), self.target, self.alpha)
        return BaselineResult(coverage=coverage, hazard_ratios=summary[["hr", "ci_low", "ci_high", "p"]],
                              performance=performance, calibration=calibration, detectable=events,
                              n_placements=len(fr), n_unplanned=int(y.sum()), target=self.target)


def detectable_hr(events: np.ndarray, target: float = 0.8, alpha: float = 0.05, r2: float = 0.0) -> np.ndarray:
    """Smallest HR per standard deviation of a score detected with `target` power by a Wald test, given
    the number of events (question 4's closed form with σ = 1); inf with no events."""
    return np.exp(pw.min_detectable_log_hr(1.0, np.asarray(events, float), target, alpha, r2))
