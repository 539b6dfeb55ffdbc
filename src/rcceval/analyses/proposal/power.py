"""Power and the minimum detectable hazard ratio of a need domain on placement disruption.

For data user groups proposing a dataset: "our numbers are too small to be significant" is a
question about events. The Wald test of one covariate's log hazard ratio beta in a Cox model with
d events has, approximately (Schoenfeld 1983 for a binary covariate; Hsieh & Lavori 2000 for a
continuous one),

    power = Phi(|beta| sigma sqrt(d (1 - rho^2)) - z_{1-alpha/2}) + Phi(-|beta| sigma sqrt(d (1 - rho^2)) - z_{1-alpha/2})

where sigma^2 is the covariate's variance (p(1-p) for a binary one) and rho^2 its squared multiple
correlation with the model's other covariates (variance inflation). The second term (the wrong
tail) makes the null rejection rate alpha; it is below alpha/2 and is dropped when the minimum
detectable log HR is solved in closed form: |beta| = (z_{1-alpha/2} + z_power) / (sigma sqrt(d (1 - rho^2))).

Two ways in:
- analytic: `covariate_spread` (sigma, rho^2 from the data), `events_by_years` (unplanned endings
  among placements with needs data that a dataset collecting the last k years would hold, per council
  and pooled), `national_scale` (England's looked-after count against the region's) and
  `PowerAnalysis` (the minimum detectable HR and power for council, region and England, 1-5 years);
- simulated: `SimulatedPower` draws datasets from a cause-specific Weibull model (`GeneratingModel`,
  the synthetic region's truth.json) with covariate rows resampled from observed design rows, staggered
  entry over the collection years (administrative censoring), competing endings, fits the Cox model with
  stats.cox.cox_efron (exact Efron ties, R's coxph) and counts Wald rejections; replicates run in
  parallel (joblib), each seeded from SeedSequence(seed) whatever n_jobs.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

from rcceval.analyses.proposal.requests import share_ci
from rcceval.analyses.survival.data import Design
from rcceval.spec.codes import DAYS_PER_YEAR
from rcceval.stats.cox import cox_efron
from rcceval.synth.recovery import truth_name  # moved from survival.cox (question 2/3 conversion)

# DfE, Children looked after in England 2024: looked after on 31 March 2024 (DESIGN.md).
ENGLAND_LOOKED_AFTER = 83_630
YEARS = (1, 2, 3, 4, 5)
# Newton iterations of a simulated fit: the target converges in 5-7; more only chase a rare indicator
# with no events (its log HR drifting to -inf), which leaves the target where it is (tests check power).
ITER_MAX = 10


# --------------------------------------------------------------------------------------------
# Analytic power (Schoenfeld; Hsieh-Lavori)
# --------------------------------------------------------------------------------------------

def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


def analytic_power(log_hr, sd, events, alpha: float = 0.05, r2=0.0) -> np.ndarray:
    """Power of the two-sided Wald test of a log HR with `events` events (both tails counted)."""
    delta = np.abs(np.asarray(log_hr, float)) * np.asarray(sd, float) * np.sqrt(
        np.asarray(events, float) * (1 - np.asarray(r2, float)))
    z = _z(alpha)
    return stats.norm.cdf(delta - z) + stats.norm.cdf(-delta - z)


def min_detectable_log_hr(sd, events, power: float = 0.8, alpha: float = 0.05, r2=0.0) -> np.ndarray:
    """Smallest |log HR| detected with `power` (closed form; the wrong tail is ignored). inf with no events."""
    info = np.asarray(sd, float) ** 2 * np.asarray(events, float) * (1 - np.asarray(r2, float))
    with np.errstate(divide="ignore"):
        return (_z(alpha) + stats.norm.ppf(power)) / np.sqrt(info)


def events_needed(log_hr, sd, power: float = 0.8, alpha: float = 0.05, r2=0.0) -> np.ndarray:
    """Events for the test to reach `power` at this log HR (Schoenfeld / Hsieh-Lavori, wrong tail ignored)."""
    b = np.asarray(log_hr, float) * np.asarray(sd, float)
    return (_z(alpha) + stats.norm.ppf(power)) ** 2 / (b ** 2 * (1 - np.asarray(r2, float)))


def observed_effective_sd(se: float, events: int) -> float:
    """sigma sqrt(1 - rho^2) implied by a fitted Cox model: 1 / (se sqrt(events)) (its information per event)."""
    return float(1.0 / (se * np.sqrt(events))) if se > 0 and events > 0 else float("nan")


def covariate_spread(X: pd.DataFrame, column: str, others: list[str] | None = None) -> tuple[float, float]:
    """(sd, rho^2) of a covariate: its standard deviation (population) and the R^2 of its linear
    regression on the other covariates (with intercept): the variance inflation of its Cox coefficient."""
    x = X[column].to_numpy(float)
    others = [c for c in (X.columns if others is None else others) if c != column]
    sd = float(np.std(x))
    if not others or sd == 0:
        return sd, 0.0
    Z = np.column_stack([np.ones(len(x)), X[others].to_numpy(float)])
    coef, *_ = np.linalg.lstsq(Z, x, rcond=None)
    resid = x - Z @ coef
    return sd, float(max(0.0, 1 - resid.var() / x.var()))


# --------------------------------------------------------------------------------------------
# Events a dataset of k years would hold
# --------------------------------------------------------------------------------------------

def events_by_years(start: pd.Series, event: np.ndarray, council: pd.Series, end: pd.Timestamp,
                    years: tuple[int, ...] = YEARS) -> pd.DataFrame:
    """Placements starting in the last k years before `end` and their unplanned endings by `end`,
    by council and pooled: what a dataset collecting k years would hold (placements followed to `end`)."""
    end = pd.Timestamp(end)
    rows = []
    la = council.astype(str).to_numpy()
    start = pd.to_datetime(start).to_numpy()
    event = np.asarray(event, bool)
    for k in years:
        keep = start > np.datetime64(end - pd.DateOffset(years=k))
        by = pd.DataFrame({"LA": la[keep], "e": event[keep]}).groupby("LA")["e"].agg(["size", "sum"])
        by = by.reindex(sorted(set(la)), fill_value=0)
        for unit, r in by.iterrows():
            rows.append({"unit": unit, "level": "council", "years": k, "placements": int(r["size"]),
                         "events": int(r["sum"])})
        rows.append({"unit": "Region (pooled)", "level": "region", "years": k, "placements": int(keep.sum()),
                     "events": int(event[keep].sum())})
    return pd.DataFrame(rows)


def national_scale(region_looked_after: int, england: int = ENGLAND_LOOKED_AFTER) -> float:
    """England's events are the region's times this: looked after nationally over looked after in the data."""
    if region_looked_after <= 0:
        raise ValueError("no child looked after on the extract date: cannot scale to England")
    return england / region_looked_after


@dataclass
class PowerAnalysis:
    """Minimum detectable HR (at `target` power) and power, by council, region and England, 1-5 years.

    fit(X, events, covariates, scale, observed) with X the model's design (complete cases: sigma and
    rho^2 of each covariate), events the output of events_by_years, covariates {label: column} (the
    columns powered, per point or 0/1), scale the national multiplier and observed {label: effective sd}
    from the Cox model fitted to the data (observed_effective_sd), when there is one.

    Two estimates of the effective sd sigma sqrt(1 - rho^2) in the power formula: "hsieh_lavori" from the
    covariate's spread over all placements (the closed form), and "observed" = 1 / (se sqrt(d)) from the
    fitted model's information, i.e. the covariate's conditional spread within the risk sets at the event
    times, which the closed form approximates. Where the risk sets differ from the whole sample (other
    endings compete and depend on the covariates) the two differ; simulation from a known model agrees with
    the observed one (the report shows it), so it is the one used (`method`), the closed form when no
    model could be fitted. Results: spread, table (unit x years x covariate: events, mdhr (the method's),
    mdhr_hsieh_lavori, mdhr_observed, mdhr_protective, power at each of `hrs`), headline (the covariate of
    median effective sd: "a typical need domain").
    """

    target: float = 0.8
    alpha: float = 0.05
    hrs: tuple[float, ...] = (1.1, 1.2, 1.3, 1.5)
    spread: pd.DataFrame = field(default=None, init=False, repr=False)
    table: pd.DataFrame = field(default=None, init=False, repr=False)
    headline: str = field(default=None, init=False)
    scale: float = field(default=None, init=False)
    method: str = field(default=None, init=False)

    def fit(self, X: pd.DataFrame, events: pd.DataFrame, covariates: dict[str, str], scale: float,
            observed: dict[str, float] | None = None) -> "PowerAnalysis":
        rows = []
        for label, col in covariates.items():
            sd, r2 = covariate_spread(X, col)
            kind = "binary" if set(np.unique(X[col])) <= {0.0, 1.0} else "continuous"
            rows.append({"covariate": label, "column": col, "kind": kind, "mean": float(X[col].mean()), "sd": sd,
                         "rho2": r2, "effective_sd_hsieh_lavori": sd * np.sqrt(1 - r2),
                         "effective_sd_observed": (observed or {}).get(label, np.nan)})
        spread = pd.DataFrame(rows).set_index("covariate")
        use_observed = bool(len(spread)) and bool(np.isfinite(spread["effective_sd_observed"]).all())
        self.method = "observed information" if use_observed else "Hsieh-Lavori"
        spread["effective_sd"] = spread["effective_sd_observed" if use_observed else "effective_sd_hsieh_lavori"]
        self.spread = spread
        self.scale = float(scale)
        region = events[events["level"] == "region"]
        national = region.assign(unit="England (scaled)", level="national",
                                 placements=np.round(region["placements"] * scale).astype(int),
                                 events=np.round(region["events"] * scale).astype(int))
        units = pd.concat([events, national], ignore_index=True)
        parts = []
        for label, s in self.spread.iterrows():
            d = units["events"]
            b = min_detectable_log_hr(s["effective_sd"], d, self.target, self.alpha)
            part = units.assign(covariate=label, mdhr=np.exp(b), mdhr_protective=np.exp(-b),
                                mdhr_hsieh_lavori=np.exp(min_detectable_log_hr(s["sd"], d, self.target, self.alpha, s["rho2"])),
                                mdhr_observed=np.exp(min_detectable_log_hr(s["effective_sd_observed"], d, self.target,
                                                                           self.alpha)))
            for hr in self.hrs:
                part[f"power_hr_{hr:g}"] = analytic_power(np.log(hr), s["effective_sd"], d, self.alpha)
            parts.append(part)
        self.table = pd.concat(parts, ignore_index=True)
        eff = self.spread["effective_sd"]
        self.headline = str((eff - eff.median()).abs().idxmin()) if len(eff) else None
        return self

    def summary(self, covariate: str | None = None, column: str = "mdhr") -> pd.DataFrame:
        """Minimum detectable HR by years: median, smallest and largest council (by events), region, England."""
        t = self.table[self.table["covariate"] == (covariate or self.headline)]
        out = {}
        for k, g in t.groupby("years"):
            c = g[g["level"] == "council"].sort_values(["events", "unit"])
            med = c[column].median() if len(c) else np.nan
            out[k] = {"council_median": med,
                      "council_smallest": c[column].iloc[0] if len(c) else np.nan,
                      "council_largest": c[column].iloc[-1] if len(c) else np.nan,
                      "region": g.loc[g["level"] == "region", column].iloc[0],
                      "national": g.loc[g["level"] == "national", column].iloc[0],
                      "events_council_median": c["events"].median() if len(c) else np.nan,
                      "events_region": int(g.loc[g["level"] == "region", "events"].iloc[0]),
                      "events_national": int(g.loc[g["level"] == "national", "events"].iloc[0])}
        out = pd.DataFrame(out).T
        out.index.name = "years"
        return out

    def to_dict(self) -> dict:
        units = ("council_median", "council_smallest", "council_largest", "region", "national")
        by = lambda frame, cols: {c: {str(k): v for k, v in frame[c].items()} for c in cols}   # noqa: E731
        s = self.summary()
        sp = self.spread.loc[self.headline]
        return {"covariate": self.headline, "per": "one point of intensity (0-3)", "method": self.method,
                "target_power": self.target, "alpha": self.alpha, "national_scale": self.scale,
                "sd": sp["sd"], "rho2": sp["rho2"], "effective_sd": sp["effective_sd"],
                "effective_sd_hsieh_lavori": sp["effective_sd_hsieh_lavori"],
                "effective_sd_observed": sp["effective_sd_observed"],
                **by(s, units),
                "hsieh_lavori": by(self.summary(column="mdhr_hsieh_lavori"), units),
                "events": by(s, ("events_region", "events_national")),
                "region_by_covariate": {c: {str(k): v for k, v in self.summary(c)["region"].items()}
                                        for c in self.spread.index}}


# --------------------------------------------------------------------------------------------
# Simulated power
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GeneratingModel:
    """Cause-specific Weibull proportional hazards, t in years: h_c(t|x) = lambda_c shape_c t^(shape_c-1) exp(x'beta_c).

    The synthetic region's hazard (truth.json, without the small council frailty); the first cause is
    the unplanned ending whose covariate effect is powered."""

    names: tuple[str, ...]
    baseline: dict              # cause -> (lambda, shape)
    log_hr: dict                # cause -> np.ndarray over names

    @property
    def powered(self) -> str:
        """The cause whose covariate effect is powered: the first (draw's cause 0)."""
        return next(iter(self.baseline))

    def with_effect(self, name: str, value: float, cause: str | None = None) -> "GeneratingModel":
        """The same model with one log HR changed (a power curve at a chosen effect)."""
        cause = cause or self.powered
        beta = self.log_hr[cause].copy()
        beta[self.names.index(name)] = value
        return replace(self, log_hr={**self.log_hr, cause: beta})

    def draw(self, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Latent years to the first ending and its cause index (0 = the first cause) for rows x."""
        times = []
        for cause, (lam, shape) in self.baseline.items():
            e = rng.exponential(size=len(x))
            times.append((e / (lam * np.exp(x @ self.log_hr[cause]))) ** (1.0 / shape))
        t = np.column_stack(times)
        cause = np.argmin(t, axis=1)
        return t[np.arange(len(t)), cause], cause


def generating_rows(d: Design, names: tuple[str, ...]) -> np.ndarray:
    """The design's rows as the generating model's covariate vector (truth.json names; absent ones 0)."""
    out = np.zeros((len(d.X), len(names)))
    index = {n: i for i, n in enumerate(names)}
    for col in d.names:
        name = truth_name(col)
        if name in index:
            out[:, index[name]] = d.X[col].to_numpy(float)
    return out


def simulate_dataset(model: GeneratingModel, rows: np.ndarray, n: int, years: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n placements resampled from `rows`, entering uniformly over `years` years, followed to the end
    of the collection (administrative censoring), the first ending of three competing causes:
    (duration in whole days >= 1 as the 903 gives it, unplanned ending 0/1, covariate rows)."""
    x = rows[rng.integers(0, len(rows), n)]
    t, cause = model.draw(x, rng)
    follow = years * rng.random(n)
    event = (cause == 0) & (t <= follow)
    days = np.maximum(1.0, np.ceil(DAYS_PER_YEAR * np.minimum(t, follow)))
    return days, event.astype(float), x


def _chunk(seeds: list, model: GeneratingModel, rows: np.ndarray, n: int, years: float,
           fit_cols: np.ndarray, z: float) -> np.ndarray:
    """Replicates of one setting: (rejected, z statistic, events, fitted) per seed.

    Newton-Raphson starts at the generating log HRs: the estimate (the maximum of the partial
    likelihood) does not depend on the start, only the number of iterations to reach it does."""
    out = np.full((len(seeds), 4), np.nan)
    start = model.log_hr[model.powered][fit_cols]
    for i, s in enumerate(seeds):
        days, event, x = simulate_dataset(model, rows, n, years, np.random.default_rng(s))
        X = x[:, fit_cols]
        keep = np.ptp(X, axis=0) > 0
        keep[0] = True                                   # the target (first column) is never dropped
        out[i, 2] = event.sum()
        if event.sum() == 0 or np.ptp(X[:, 0]) == 0:
            out[i, [0, 3]] = [0.0, 0.0]
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                fit = cox_efron(days, event, X[:, keep], init=start[keep], iter_max=ITER_MAX)
            zs = fit.coef[0] / fit.se[0]
            ok = np.isfinite(zs)
        except (ValueError, np.linalg.LinAlgError):
            zs, ok = np.nan, False
        out[i] = [float(ok and abs(zs) > z), zs, event.sum(), float(ok)]
    return out


@dataclass
class SimulatedPower:
    """Power of the Wald test of `target`'s log HR (unplanned ending) by simulation from `model`.

    rows: covariate rows (generating model's order) resampled for each dataset; adjust: the other
    covariates the fitted Cox model holds (default: every other covariate varying in rows). A replicate
    whose fit fails (singular information: too few events) counts as not rejecting, and is counted.
    fit(settings) with settings [(placements, years), ...]; table: one row per setting with replicates,
    mean events, power with its binomial Monte Carlo SE and Wilson 95% interval, the analytic power at the
    mean events (sd, rho^2 from rows, same adjusters; and with `effective_sd` if given) and the share of
    fits that failed.
    """

    model: GeneratingModel
    rows: np.ndarray
    target: str
    adjust: list[str] | None = None
    alpha: float = 0.05
    replicates: int = 200
    seed: int = 0
    n_jobs: int = 1
    chunk: int = 25
    effective_sd: float | None = None      # e.g. the data's observed information: analytic_power_observed
    table: pd.DataFrame = field(default=None, init=False, repr=False)
    draws: pd.DataFrame = field(default=None, init=False, repr=False)

    def _fit_cols(self) -> np.ndarray:
        names = list(self.model.names)
        t = names.index(self.target)
        if self.adjust is None:
            others = [i for i in range(len(names)) if i != t and np.ptp(self.rows[:, i]) > 0]
        else:
            others = [names.index(a) for a in self.adjust if a != self.target]
        return np.array([t] + others)

    def fit(self, settings: list[tuple[int, float]]) -> "SimulatedPower":
        cols = self._fit_cols()
        z = _z(self.alpha)
        seqs = np.random.SeedSequence(self.seed).spawn(len(settings))
        jobs = []
        for k, ((n, years), ss) in enumerate(zip(settings, seqs)):
            seeds = ss.spawn(self.replicates)
            for a in range(0, self.replicates, self.chunk):
                jobs.append((k, delayed(_chunk)(seeds[a:a + self.chunk], self.model, self.rows, int(n), float(years),
                                                cols, z)))
        results = Parallel(n_jobs=self.n_jobs)(j for _, j in jobs)
        draws = []
        for (k, _), res in zip(jobs, results):
            draws.append(pd.DataFrame(res, columns=["rejected", "z", "events", "fitted"]).assign(setting=k))
        self.draws = pd.concat(draws, ignore_index=True)
        X = pd.DataFrame(self.rows[:, cols])
        sd, r2 = covariate_spread(X, 0)
        beta = float(self.model.log_hr[self.model.powered][cols[0]])
        rows = []
        for k, (n, years) in enumerate(settings):
            g = self.draws[self.draws["setting"] == k]
            r, m = int(g["rejected"].sum()), len(g)
            lo, hi = share_ci(r, m)          # Wilson; replicates are independent (deff 1)
            p = r / m
            rows.append({"placements": int(n), "years": float(years), "replicates": m, "events_mean": g["events"].mean(),
                         "power": p, "mc_se": np.sqrt(p * (1 - p) / m), "ci_low": lo, "ci_high": hi,
                         "analytic_power": float(analytic_power(beta, sd, g["events"].mean(), self.alpha, r2)),
                         "analytic_power_observed": float(analytic_power(beta, self.effective_sd, g["events"].mean(),
                                                                         self.alpha)) if self.effective_sd else np.nan,
                         "failed_fits": 1 - g["fitted"].mean()})
        self.table = pd.DataFrame(rows)
        self.sd, self.rho2, self.log_hr = sd, r2, beta
        return self

    def to_dict(self) -> dict:
        return {"target": self.target, "log_hr": self.log_hr, "hr": float(np.exp(self.log_hr)), "sd": self.sd,
                "rho2": self.rho2, "replicates": self.replicates, "seed": self.seed,
                "settings": self.table.to_dict(orient="records")}


def placements_per_year(events: pd.DataFrame, unit: str = "Region (pooled)") -> float:
    """Placements a unit starts per year (the last year's count in events_by_years)."""
    e = events[(events["unit"] == unit) & (events["years"] == 1)]
    return float(e["placements"].iloc[0]) if len(e) else float("nan")
