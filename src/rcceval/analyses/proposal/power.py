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
from joblib import delayed
from scipy import stats

from rcceval import parallel
from rcceval.analyses.proposal.requests import share_ci
from rcceval.analyses.survival.data import Design
from rcceval.parallel import Workers
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


def analytic_power(log_hr, sd, events, alpha: float = 0.05, r2=0.0, deff=1.0) -> np.ndarray:
    """Power of the two-sided Wald test of a log HR with `events` events (both tails counted).

    deff: the design effect of clustering (robust over naive variance of the coefficient): the
    information of d clustered events is that of d / deff independent ones."""
    delta = np.abs(np.asarray(log_hr, float)) * np.asarray(sd, float) * np.sqrt(
        np.asarray(events, float) * (1 - np.asarray(r2, float)) / np.asarray(deff, float))
    z = _z(alpha)
    return stats.norm.cdf(delta - z) + stats.norm.cdf(-delta - z)


def min_detectable_log_hr(sd, events, power: float = 0.8, alpha: float = 0.05, r2=0.0, deff=1.0) -> np.ndarray:
    """Smallest |log HR| detected with `power` (closed form; the wrong tail is ignored). inf with no events.

    The variance of the estimate is multiplied by the design effect `deff`, so the log HR by sqrt(deff)."""
    info = np.asarray(sd, float) ** 2 * np.asarray(events, float) * (1 - np.asarray(r2, float)) / np.asarray(deff, float)
    with np.errstate(divide="ignore"):
        return (_z(alpha) + stats.norm.ppf(power)) / np.sqrt(info)


def events_needed(log_hr, sd, power: float = 0.8, alpha: float = 0.05, r2=0.0, deff=1.0) -> np.ndarray:
    """Events for the test to reach `power` at this log HR (Schoenfeld / Hsieh-Lavori, wrong tail ignored),
    times the design effect `deff`."""
    b = np.asarray(log_hr, float) * np.asarray(sd, float)
    return np.asarray(deff, float) * (_z(alpha) + stats.norm.ppf(power)) ** 2 / (b ** 2 * (1 - np.asarray(r2, float)))


def design_effect(var_robust: np.ndarray, var_naive: np.ndarray) -> np.ndarray:
    """Design effect of each coefficient: robust (clustered) over naive (model) variance, the diagonals'
    ratio. The observed-information route reads the naive variance; multiplying it by this gives the
    clustered one (several placements of a child, or of a provider, are not independent)."""
    rob, nai = np.diag(np.asarray(var_robust, float)), np.diag(np.asarray(var_naive, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(nai > 0, rob / nai, np.nan)


MULTIPLICITY = ("holm", "none")


def per_term_alpha(alpha: float, family_size: int, multiplicity: str = "holm") -> float:
    """The level at which one of `family_size` terms is powered.

    "holm": the family-wise error rate is held at `alpha` by Holm's step-down test, whose first step
    compares the smallest p-value with alpha / m; powering a term at alpha / m is the conservative power
    of Holm (a term tested later in the sequence is tested at a larger level). "none": each term at alpha."""
    if multiplicity not in MULTIPLICITY:
        raise ValueError(f"multiplicity {multiplicity!r}: expected one of {', '.join(MULTIPLICITY)}")
    if family_size < 1:
        raise ValueError(f"family_size {family_size}: at least one term is tested")
    return float(alpha / family_size) if multiplicity == "holm" else float(alpha)


def holm_reject(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down rejections of the p-values `p` at family-wise level alpha (statsmodels' multipletests)."""
    from statsmodels.stats.multitest import multipletests

    return multipletests(np.asarray(p, float), alpha=alpha, method="holm")[0]


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

    fit(X, events, covariates, scale, observed, design_effect) with X the model's design (complete cases:
    sigma and rho^2 of each covariate), events the output of events_by_years, covariates {label: column}
    (the columns powered, per point or 0/1), scale the national multiplier, observed {label: effective sd}
    from the Cox model fitted to the data (observed_effective_sd), when there is one, and design_effect
    {label: robust / naive variance} of the same fit (clustered by child), when there is one.

    Two estimates of the effective sd sigma sqrt(1 - rho^2) in the power formula: "hsieh_lavori" from the
    covariate's spread over all placements (the closed form), and "observed" = 1 / (se sqrt(d)) from the
    fitted model's information, i.e. the covariate's conditional spread within the risk sets at the event
    times, which the closed form approximates. Where the risk sets differ from the whole sample (other
    endings compete and depend on the covariates) the two differ; simulation from a known model agrees with
    the observed one (the report shows it), so it is the one used (`method`), the closed form when no
    model could be fitted. Both are naive (model) variances: each is multiplied by the term's design
    effect (1 when none is given), so the minimum detectable log HR grows by sqrt(deff).

    Multiplicity: `family_size` terms (default: the covariates powered) are tested; with multiplicity
    "holm" (default) each is powered at alpha / family_size (`alpha_term`), Holm's first step, which holds
    the family-wise error at alpha; "none" powers each at alpha. Results: spread, table (unit x years x
    covariate: events, mdhr (the method's, with deff and alpha_term), mdhr_hsieh_lavori, mdhr_observed,
    mdhr_protective, mdhr_independent (deff 1), mdhr_single_test (at alpha), power at each of `hrs`),
    headline (the covariate of median effective sd: "a typical need domain").
    """

    target: float = 0.8
    alpha: float = 0.05
    hrs: tuple[float, ...] = (1.1, 1.2, 1.3, 1.5)
    multiplicity: str = "holm"
    family_size: int | None = None
    spread: pd.DataFrame = field(default=None, init=False, repr=False)
    table: pd.DataFrame = field(default=None, init=False, repr=False)
    headline: str = field(default=None, init=False)
    scale: float = field(default=None, init=False)
    method: str = field(default=None, init=False)
    alpha_term: float = field(default=None, init=False)

    def fit(self, X: pd.DataFrame, events: pd.DataFrame, covariates: dict[str, str], scale: float,
            observed: dict[str, float] | None = None,
            design_effect: dict[str, float] | None = None) -> "PowerAnalysis":
        m = int(self.family_size or len(covariates))
        self.family_size = m
        self.alpha_term = per_term_alpha(self.alpha, m, self.multiplicity) if covariates else self.alpha
        rows = []
        for label, col in covariates.items():
            sd, r2 = covariate_spread(X, col)
            kind = "binary" if set(np.unique(X[col])) <= {0.0, 1.0} else "continuous"
            deff = (design_effect or {}).get(label, np.nan)
            rows.append({"covariate": label, "column": col, "kind": kind, "mean": float(X[col].mean()), "sd": sd,
                         "rho2": r2, "effective_sd_hsieh_lavori": sd * np.sqrt(1 - r2),
                         "effective_sd_observed": (observed or {}).get(label, np.nan),
                         "design_effect": float(deff) if np.isfinite(deff) else 1.0,
                         "design_effect_estimated": bool(np.isfinite(deff))})
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
        at, tp = self.alpha_term, self.target
        for label, s in self.spread.iterrows():
            d, deff = units["events"], s["design_effect"]
            b = min_detectable_log_hr(s["effective_sd"], d, tp, at, deff=deff)
            part = units.assign(covariate=label, mdhr=np.exp(b), mdhr_protective=np.exp(-b),
                                mdhr_hsieh_lavori=np.exp(min_detectable_log_hr(s["sd"], d, tp, at, s["rho2"], deff)),
                                mdhr_observed=np.exp(min_detectable_log_hr(s["effective_sd_observed"], d, tp, at,
                                                                           deff=deff)),
                                mdhr_independent=np.exp(min_detectable_log_hr(s["effective_sd"], d, tp, at)),
                                mdhr_single_test=np.exp(min_detectable_log_hr(s["effective_sd"], d, tp, self.alpha,
                                                                              deff=deff)))
            for hr in self.hrs:
                part[f"power_hr_{hr:g}"] = analytic_power(np.log(hr), s["effective_sd"], d, at, deff=deff)
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

    def multiplicity_note(self) -> dict:
        """How the need terms' multiplicity is handled (stated in the results)."""
        return {"method": self.multiplicity, "family_size": self.family_size, "family_wise_alpha": self.alpha,
                "alpha_per_term": self.alpha_term,
                "rule": ("Holm step-down over the need terms; each term powered at alpha / m (Holm's first step, "
                         "the conservative power)") if self.multiplicity == "holm" else
                        "each term at alpha (no multiplicity adjustment)"}

    def to_dict(self) -> dict:
        units = ("council_median", "council_smallest", "council_largest", "region", "national")
        by = lambda frame, cols: {c: {str(k): v for k, v in frame[c].items()} for c in cols}   # noqa: E731
        s = self.summary()
        sp = self.spread.loc[self.headline]
        return {"covariate": self.headline, "per": "one point of intensity (0-3)", "method": self.method,
                "target_power": self.target, "alpha": self.alpha, "alpha_per_term": self.alpha_term,
                "multiplicity": self.multiplicity_note(), "national_scale": self.scale,
                "sd": sp["sd"], "rho2": sp["rho2"], "effective_sd": sp["effective_sd"],
                "effective_sd_hsieh_lavori": sp["effective_sd_hsieh_lavori"],
                "effective_sd_observed": sp["effective_sd_observed"], "design_effect": sp["design_effect"],
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

    def draw(self, x: np.ndarray, rng: np.random.Generator,
             log_frailty: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Latent years to the first ending and its cause index (0 = the first cause) for rows x.

        log_frailty: (rows x causes) log multipliers of each cause's hazard (a council's or a child's
        frailty); None is no frailty. The random draws are the same with or without it."""
        times = []
        for k, (cause, (lam, shape)) in enumerate(self.baseline.items()):
            e = rng.exponential(size=len(x))
            lp = x @ self.log_hr[cause] + (0.0 if log_frailty is None else log_frailty[:, k])
            times.append((e / (lam * np.exp(lp))) ** (1.0 / shape))
        t = np.column_stack(times)
        cause = np.argmin(t, axis=1)
        return t[np.arange(len(t)), cause], cause


@dataclass(frozen=True)
class Clustering:
    """How simulated placements cluster: children with several placements sharing a frailty (and, by
    default, their covariate row: a child's needs are the child's), and councils with a frailty on the
    baseline hazard.

    placements_per_child m: placements 1..m belong to child 1, and so on; child_frailty_var: the variance
    of a gamma frailty of mean 1 shared by a child's placements (0: none); council_frailty_sd: the sd of a
    log-normal council frailty (0: none); councils: children are spread over this many councils at random
    (the fitted model then has a baseline hazard per council, as question 2's); frailty_causes: the causes
    (names) a frailty multiplies, None for all. With the defaults nothing is clustered: the simulation is
    the independent one."""

    placements_per_child: int = 1
    child_frailty_var: float = 0.0
    council_frailty_sd: float = 0.0
    councils: int = 1
    shared_rows: bool = True
    frailty_causes: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.placements_per_child < 1 or self.councils < 1:
            raise ValueError(f"clustering: placements_per_child ({self.placements_per_child}) and councils "
                             f"({self.councils}) must be at least 1")
        if self.child_frailty_var < 0 or self.council_frailty_sd < 0:
            raise ValueError(f"clustering: frailty variance ({self.child_frailty_var}) and sd "
                             f"({self.council_frailty_sd}) must be at least 0")

    @property
    def active(self) -> bool:
        """Whether anything is clustered (else the draws and the fit are the independent simulation's)."""
        return (self.placements_per_child > 1 or self.child_frailty_var > 0 or self.council_frailty_sd > 0
                or self.councils > 1)

    def describe(self) -> dict:
        return {"placements_per_child": self.placements_per_child, "child_frailty": "gamma, mean 1",
                "child_frailty_var": self.child_frailty_var, "council_frailty": "log-normal",
                "council_frailty_sd": self.council_frailty_sd, "councils": self.councils,
                "shared_rows": self.shared_rows,
                "frailty_causes": "all" if self.frailty_causes is None else list(self.frailty_causes)}


def _groups(n: int, c: Clustering, causes: list[str], rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(child, council, log frailty rows x causes) of n simulated placements."""
    m = c.placements_per_child
    child = np.arange(n) // m
    n_children = int(child[-1]) + 1 if n else 0
    council = rng.integers(0, c.councils, n_children)[child]
    lf = np.zeros(n)
    if c.child_frailty_var > 0:
        theta = c.child_frailty_var
        lf = lf + np.log(rng.gamma(1.0 / theta, theta, n_children))[child]
    if c.council_frailty_sd > 0:
        lf = lf + rng.normal(0.0, c.council_frailty_sd, c.councils)[council]
    applies = np.array([c.frailty_causes is None or k in c.frailty_causes for k in causes], float)
    return child, council, lf[:, None] * applies[None, :]


def generating_rows(d: Design, names: tuple[str, ...]) -> np.ndarray:
    """The design's rows as the generating model's covariate vector (truth.json names; absent ones 0)."""
    out = np.zeros((len(d.X), len(names)))
    index = {n: i for i, n in enumerate(names)}
    for col in d.names:
        name = truth_name(col)
        if name in index:
            out[:, index[name]] = d.X[col].to_numpy(float)
    return out


def simulate_clustered(model: GeneratingModel, rows: np.ndarray, n: int, years: float, rng: np.random.Generator,
                       clustering: Clustering | None = None, frailty_rng: np.random.Generator | None = None) -> dict:
    """n placements resampled from `rows`, entering uniformly over `years` years, followed to the end
    of the collection (administrative censoring), the first ending of the competing causes, clustered
    as `clustering` says (its draws from `frailty_rng`, so `rng`'s are the independent simulation's):
    days (whole days >= 1 as the 903 gives it), event (unplanned ending 0/1), x, child, council."""
    x = rows[rng.integers(0, len(rows), n)]
    child = np.arange(n)
    council = np.zeros(n, int)
    lf = None
    if clustering is not None and clustering.active:
        child, council, lf = _groups(n, clustering, list(model.baseline), frailty_rng)
        if clustering.shared_rows and clustering.placements_per_child > 1:
            x = x[child * clustering.placements_per_child]        # the child's first placement's row
    t, cause = model.draw(x, rng, lf)
    follow = years * rng.random(n)
    event = (cause == 0) & (t <= follow)
    days = np.maximum(1.0, np.ceil(DAYS_PER_YEAR * np.minimum(t, follow)))
    return {"days": days, "event": event.astype(float), "x": x, "child": child, "council": council}


def simulate_dataset(model: GeneratingModel, rows: np.ndarray, n: int, years: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The independent simulation (no clustering): (days, unplanned ending 0/1, covariate rows)."""
    d = simulate_clustered(model, rows, n, years, rng)
    return d["days"], d["event"], d["x"]


def _frailty_rng(seed: np.random.SeedSequence) -> np.random.Generator:
    """The clustering's own stream of a replicate: a child key of its seed (the seed itself is not spawned)."""
    return np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 0xC1)))


COLUMNS = ["rejected", "z", "events", "fitted", "z_naive", "rejected_naive"]


def _chunk(seeds: list, model: GeneratingModel, rows: np.ndarray, n: int, years: float,
           fit_cols: np.ndarray, z: float, clustering: Clustering | None = None) -> np.ndarray:
    """Replicates of one setting: (rejected, z, events, fitted, z_naive, rejected_naive) per seed.

    Unclustered: the model's (naive) SE. Clustered: the robust variance clustered by child (R's
    coxph(cluster = child)) decides, with a baseline hazard per council when there are several; the
    naive z is kept beside it (what ignoring the clustering would conclude).

    Newton-Raphson starts at the generating log HRs: the estimate (the maximum of the partial
    likelihood) does not depend on the start, only the number of iterations to reach it does."""
    out = np.full((len(seeds), len(COLUMNS)), np.nan)
    start = model.log_hr[model.powered][fit_cols]
    clustered = clustering is not None and clustering.active
    for i, s in enumerate(seeds):
        d = simulate_clustered(model, rows, n, years, np.random.default_rng(s), clustering,
                               _frailty_rng(s) if clustered else None)
        days, event = d["days"], d["event"]
        X = d["x"][:, fit_cols]
        keep = np.ptp(X, axis=0) > 0
        keep[0] = True                                   # the target (first column) is never dropped
        out[i, 2] = event.sum()
        if event.sum() == 0 or np.ptp(X[:, 0]) == 0:
            out[i, [0, 3, 5]] = [0.0, 0.0, 0.0]
            continue
        strata = d["council"] if clustered and clustering.councils > 1 else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                fit = cox_efron(days, event, X[:, keep], strata=strata, cluster=d["child"] if clustered else None,
                                init=start[keep], iter_max=ITER_MAX)
            zn = fit.coef[0] / fit.se[0]
            zs = fit.coef[0] / fit.robust_se[0] if clustered else zn
            ok = bool(np.isfinite(zs) and np.isfinite(zn))
        except (ValueError, np.linalg.LinAlgError):
            zs = zn = np.nan
            ok = False
        out[i] = [float(ok and abs(zs) > z), zs, event.sum(), float(ok), zn, float(ok and abs(zn) > z)]
    return out


@dataclass
class SimulatedPower:
    """Power of the Wald test of `target`'s log HR (unplanned ending) by simulation from `model`.

    rows: covariate rows (generating model's order) resampled for each dataset; adjust: the other
    covariates the fitted Cox model holds (default: every other covariate varying in rows). A replicate
    whose fit fails (singular information: too few events) counts as not rejecting, and is counted.
    clustering: children with several placements and council / child frailties (Clustering); then each
    replicate's test uses the robust variance clustered by child, and the naive test is counted beside it.
    fit(settings) with settings [(placements, years), ...] or [(placements, years, councils), ...] (the
    councils of a setting override clustering.councils); table: one row per setting with replicates, mean
    events, power with its binomial Monte Carlo SE and Wilson 95% interval, power_naive (model SE), the
    simulated design effect (median of (robust / naive SE)^2), the analytic power at the mean events (sd,
    rho^2 from rows, same adjusters; and with `effective_sd` if given; both times `design_effect`) and the
    share of fits that failed.
    """

    model: GeneratingModel
    rows: np.ndarray
    target: str
    adjust: list[str] | None = None
    alpha: float = 0.05
    replicates: int = 200
    seed: int = 0
    n_jobs: Workers = 1                    # workers, or the run's ParallelSetting (rcceval.parallel)
    chunk: int = 25
    effective_sd: float | None = None      # e.g. the data's observed information: analytic_power_observed
    clustering: Clustering | None = None
    design_effect: float = 1.0             # applied to the analytic power columns (e.g. the data's)
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

    def _clustering(self, setting: tuple) -> Clustering | None:
        if len(setting) > 2 and self.clustering is not None:
            return replace(self.clustering, councils=int(setting[2]))
        return self.clustering

    def fit(self, settings: list[tuple]) -> "SimulatedPower":
        cols = self._fit_cols()
        z = _z(self.alpha)
        seqs = np.random.SeedSequence(self.seed).spawn(len(settings))
        jobs = []
        for k, (setting, ss) in enumerate(zip(settings, seqs)):
            n, years = setting[0], setting[1]
            seeds = ss.spawn(self.replicates)
            cl = self._clustering(setting)
            for a in range(0, self.replicates, self.chunk):
                jobs.append((k, delayed(_chunk)(seeds[a:a + self.chunk], self.model, self.rows, int(n), float(years),
                                                cols, z, cl)))
        results = parallel.run([j for _, j in jobs], self.n_jobs)
        draws = []
        for (k, _), res in zip(jobs, results):
            draws.append(pd.DataFrame(res, columns=COLUMNS).assign(setting=k))
        self.draws = pd.concat(draws, ignore_index=True)
        X = pd.DataFrame(self.rows[:, cols])
        sd, r2 = covariate_spread(X, 0)
        beta = float(self.model.log_hr[self.model.powered][cols[0]])
        deff = float(self.design_effect)
        rows = []
        for k, setting in enumerate(settings):
            n, years = setting[0], setting[1]
            g = self.draws[self.draws["setting"] == k]
            r, m = int(g["rejected"].sum()), len(g)
            lo, hi = share_ci(r, m)          # Wilson; replicates are independent (deff 1)
            p = r / m
            ratio = (g["z_naive"] / g["z"]) ** 2
            cl = self._clustering(setting)
            rows.append({"placements": int(n), "years": float(years), "replicates": m, "events_mean": g["events"].mean(),
                         "power": p, "mc_se": np.sqrt(p * (1 - p) / m), "ci_low": lo, "ci_high": hi,
                         "power_naive": g["rejected_naive"].mean(),
                         "design_effect_simulated": float(ratio[np.isfinite(ratio)].median())
                         if np.isfinite(ratio).any() else np.nan,
                         "councils": cl.councils if cl is not None else 1,
                         "analytic_power": float(analytic_power(beta, sd, g["events"].mean(), self.alpha, r2, deff)),
                         "analytic_power_observed": float(analytic_power(beta, self.effective_sd, g["events"].mean(),
                                                                         self.alpha, deff=deff))
                         if self.effective_sd else np.nan,
                         "failed_fits": 1 - g["fitted"].mean()})
        self.table = pd.DataFrame(rows)
        self.sd, self.rho2, self.log_hr = sd, r2, beta
        return self

    def to_dict(self) -> dict:
        return {"target": self.target, "log_hr": self.log_hr, "hr": float(np.exp(self.log_hr)), "sd": self.sd,
                "rho2": self.rho2, "replicates": self.replicates, "seed": self.seed,
                "clustering": None if self.clustering is None else self.clustering.describe(),
                "settings": self.table.to_dict(orient="records")}


def binomial_bound(alpha: float, replicates: int, z: float = 3.0) -> tuple[float, float]:
    """The interval alpha +- z sqrt(alpha (1 - alpha) / replicates): where a calibrated test's simulated
    rejection rate falls (z = 3: all but about 0.3% of the time)."""
    half = z * np.sqrt(alpha * (1 - alpha) / replicates)
    return float(max(0.0, alpha - half)), float(alpha + half)


def placements_per_year(events: pd.DataFrame, unit: str = "Region (pooled)") -> float:
    """Placements a unit starts per year (the last year's count in events_by_years)."""
    e = events[(events["unit"] == unit) & (events["years"] == 1)]
    return float(e["placements"].iloc[0]) if len(e) else float("nan")
