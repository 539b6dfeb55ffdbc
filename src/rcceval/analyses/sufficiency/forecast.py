"""Question 5, forecast: children looked after by need profile 1 to 3 years ahead.

The model (entry rates x survival in care, a stock-flow cohort model) for the 31 March census of
year T0 + h, made at origin T0 (the last census used), by need profile P:

    N_P(T0 + h) = sum_Q stock_Q(T0) * r_h[Q -> P]  +  sum_{j=1..h} sum_Q lambda_Q(T0 + j) * s_{h-j}[Q -> P]

- stock_Q(T0): children looked after on 31 March T0 with profile Q;
- r_h[Q -> P]: of the children looked after on 31 March y with profile Q, the share still looked
  after in the same period of care on 31 March y + h with profile P (pooled over y + h <= T0);
- lambda_Q(y): entries (periods of care starting) in collection year y with entry profile Q: a
  log-linear Poisson trend log lambda = a_Q + b_Q (y - T0) fitted to the entry years up to T0, with
  over-dispersion (Pearson) when present; 100 (exp(b_Q) - 1) is the yearly growth;
- s_k[Q -> P]: of the children entering in year y with profile Q, the share looked after in the
  same period of care on 31 March y + k with profile P (k = 0: the 31 March ending the entry year).

Profiles are the need tiers plus not_assessed, so totals are all children looked after. Survival
in care (not of one placement) is what keeps a child needing a placement, so it is the duration
used; moves between placements do not change the count. Intervals: percentiles of simulated
counts that carry the uncertainty of the trend (parameters drawn from their estimated normal
distribution), of future entries (Poisson, or negative binomial when over-dispersed), of the
survival and transition shares (Dirichlet on the observed counts + 0.5) and of who stays
(multinomial). The estimate is the plug-in value. The back-test refits on the years up to each
earlier origin and compares with the census observed h years later (absolute percentage error,
interval coverage).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from rcceval.analyses.sufficiency.profiles import PROFILES

ALL = "all"
LINK = ["LA", "CHILD", "PERIOD_NO"]


@dataclass(frozen=True)
class ForecastOptions:
    horizons: tuple[int, ...] = (1, 2, 3)
    draws: int = 2000
    level: float = 0.95
    seed: int = 0
    min_entry_years: int = 3


def entry_counts(entries: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Entries (periods of care started) by collection year (rows) and entry profile (columns)."""
    t = entries.groupby(["YEAR", "PROFILE"]).size().unstack("PROFILE")
    t = t.reindex(index=years, columns=list(PROFILES)).fillna(0).astype(int)
    t.index, t.columns.name = t.index.astype(int), None
    t.index.name = "year"
    return t


def _codes(profile: pd.Series) -> np.ndarray:
    return pd.Categorical(profile, categories=list(PROFILES)).codes.astype(int)


def _transition_counts(start: pd.DataFrame, stock: pd.DataFrame, shift: int) -> np.ndarray:
    """(Q, P + 1) counts: rows of `start` (profile Q, YEAR y) found in `stock` at y + shift in the same
    period of care with profile P; the last column counts those not found (left care)."""
    k = len(PROFILES)
    later = stock[LINK + ["YEAR", "PROFILE"]].assign(YEAR=stock["YEAR"] - shift)
    m = start[LINK + ["YEAR", "PROFILE"]].merge(later, on=LINK + ["YEAR"], how="left", suffixes=("", "_LATER"))
    q = _codes(m["PROFILE"])
    p = np.where(m["PROFILE_LATER"].isna(), k, _codes(m["PROFILE_LATER"].fillna(PROFILES[0])))
    out = np.zeros((k, k + 1), dtype=np.int64)
    np.add.at(out, (q, p), 1)
    return out


@dataclass
class TrendFit:
    """Log-linear Poisson trend of entries of each profile: a (log entries at the origin), b (slope),
    cov (2x2), dispersion."""

    a: np.ndarray
    b: np.ndarray
    cov: np.ndarray
    dispersion: np.ndarray
    years: list[int]

    def rate(self, j: np.ndarray | int) -> np.ndarray:
        return np.exp(self.a[:, None] + self.b[:, None] * np.atleast_1d(j)[None, :])


def fit_entry_trend(counts: pd.DataFrame, origin: int) -> TrendFit:
    """Poisson GLM per profile: entries ~ exp(a + b (year - origin)); Pearson over-dispersion, at least 1."""
    x = sm.add_constant(counts.index.to_numpy(float) - origin)
    k = counts.shape[1]
    a, b = np.full(k, -np.inf), np.zeros(k)
    cov, disp = np.zeros((k, 2, 2)), np.ones(k)
    for i, col in enumerate(counts.columns):
        y = counts[col].to_numpy(float)
        if y.sum() == 0:
            continue
        with warnings.catch_warnings():  # an exact fit (e.g. constant entries) is not a problem here
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        phi = max(1.0, float(fit.pearson_chi2 / fit.df_resid)) if fit.df_resid > 0 else 1.0
        a[i], b[i] = fit.params
        cov[i], disp[i] = np.asarray(fit.cov_params()) * phi, phi
    return TrendFit(a, b, cov, disp, [int(v) for v in counts.index])


@dataclass
class Forecast:
    """Demand forecast made at `origin`.

    table: PROFILE (profiles and 'all'), horizon, YEAR, estimate, low, high;
    trend: PROFILE (profiles and 'all'), entries_origin (fitted entries in the origin year), growth_pct
    (yearly growth, %), growth_low, growth_high (95% interval), dispersion; survival: entry_profile, k (years
    since the entry year), entrants, share_looked_after.
    """

    origin: int
    table: pd.DataFrame
    trend: pd.DataFrame
    survival: pd.DataFrame

    def to_dict(self) -> dict:
        out = {}
        for profile, g in self.table.groupby("PROFILE", sort=False):
            out[profile] = {str(int(r.YEAR)): {"estimate": round(r.estimate, 1), "low": r.low, "high": r.high}
                            for r in g.itertuples()}
        return {"origin": self.origin, "children_looked_after_31_march": out,
                "entry_growth_pct_per_year": dict(zip(self.trend["PROFILE"], self.trend["growth_pct"].round(2)))}


def _dirichlet(rng: np.random.Generator, counts: np.ndarray, draws: int) -> np.ndarray:
    g = rng.gamma(np.broadcast_to(counts + 0.5, (draws, *counts.shape)))
    return g / g.sum(axis=-1, keepdims=True)


def _entries_draws(rng: np.random.Generator, trend: TrendFit, h: int, draws: int) -> np.ndarray:
    """(draws, Q, h) simulated entries in years origin + 1 .. origin + h."""
    k = len(trend.a)
    out = np.zeros((draws, k, h), dtype=np.int64)
    j = np.arange(1, h + 1)
    for q in range(k):
        if not np.isfinite(trend.a[q]):
            continue
        theta = rng.multivariate_normal([trend.a[q], trend.b[q]], trend.cov[q], size=draws, method="eigh")
        mu = np.exp(theta[:, :1] + theta[:, 1:] * j[None, :])
        if trend.dispersion[q] > 1:  # negative binomial: variance dispersion * mean
            shape = mu / (trend.dispersion[q] - 1)
            mu = rng.gamma(shape, mu / shape)
        out[:, q, :] = rng.poisson(mu)
    return out


def forecast_demand(stock: pd.DataFrame, entries: pd.DataFrame, origin: int,
                    options: ForecastOptions = ForecastOptions()) -> Forecast:
    """Children looked after on 31 March origin + h by profile (see the module doc).

    stock: one row per child looked after on 31 March of each year (LA, CHILD, PERIOD_NO, YEAR,
    PROFILE); entries: one row per period of care started (same columns, YEAR = collection year).
    Only rows with YEAR <= origin are used; entries from the first census year on (earlier
    entries are seen only if still looked after, so they are left out of the trend).
    """
    stock = stock.loc[stock["YEAR"] <= origin]
    first = int(stock["YEAR"].min())
    entries = entries.loc[(entries["YEAR"] >= first) & (entries["YEAR"] <= origin)]
    years = list(range(first, origin + 1))
    counts = entry_counts(entries, years)
    trend = fit_entry_trend(counts, origin) if len(years) >= options.min_entry_years else None
    now = np.bincount(_codes(stock.loc[stock["YEAR"] == origin, "PROFILE"]), minlength=len(PROFILES))
    rng = np.random.default_rng([options.seed, origin])
    tail = (1 - options.level) / 2 * 100
    rows, surv = [], []
    kmax = max(options.horizons)
    s_counts = {k: _transition_counts(entries.loc[entries["YEAR"] <= origin - k], stock, k) for k in range(kmax)}
    for k, c in s_counts.items():
        n = c.sum(axis=1)
        for q, profile in enumerate(PROFILES):
            surv.append({"entry_profile": profile, "k": k, "entrants": int(n[q]),
                         "share_looked_after": (n[q] - c[q, -1]) / n[q] if n[q] else np.nan})
    for h in options.horizons:
        r = _transition_counts(stock.loc[stock["YEAR"] <= origin - h], stock, h)
        usable = trend is not None and r.sum() > 0 and all(s_counts[k].sum() > 0 for k in range(h))
        if not usable:
            for profile in (*PROFILES, ALL):
                rows.append({"PROFILE": profile, "horizon": h, "YEAR": origin + h,
                             "estimate": np.nan, "low": np.nan, "high": np.nan})
            continue
        share = lambda c: c / np.maximum(c.sum(axis=1, keepdims=True), 1)
        lam = trend.rate(np.arange(1, h + 1))                                 # (Q, h)
        mean = now @ share(r)
        for j in range(1, h + 1):
            mean = mean + lam[:, j - 1] @ share(s_counts[h - j])
        mean = mean[:-1]
        sims = rng.multinomial(np.broadcast_to(now, (options.draws, len(now))), _dirichlet(rng, r, options.draws))
        new = _entries_draws(rng, trend, h, options.draws)
        for j in range(1, h + 1):
            sims = sims + rng.multinomial(new[:, :, j - 1], _dirichlet(rng, s_counts[h - j], options.draws))
        sims = sims[:, :, :-1].sum(axis=1)                                   # (draws, P)
        sims = np.column_stack([sims, sims.sum(axis=1)])
        est = np.r_[mean, mean.sum()]
        lo, hi = np.percentile(sims, [tail, 100 - tail], axis=0)
        for i, profile in enumerate((*PROFILES, ALL)):
            rows.append({"PROFILE": profile, "horizon": h, "YEAR": origin + h, "estimate": est[i],
                         "low": float(lo[i]), "high": float(hi[i])})
    trend_rows = []
    if trend is not None:
        # the trend of all entries is fitted the same way (described, not used by the forecast)
        total = fit_entry_trend(counts.sum(axis=1).to_frame(ALL), origin)
        se = np.sqrt(np.r_[trend.cov[:, 1, 1], total.cov[:, 1, 1]])
        a, b, disp = np.r_[trend.a, total.a], np.r_[trend.b, total.b], np.r_[trend.dispersion, total.dispersion]
        z = 1.959963984540054
        for q, profile in enumerate((*PROFILES, ALL)):
            trend_rows.append({"PROFILE": profile, "entries_origin": float(np.exp(a[q])),
                               "growth_pct": 100 * np.expm1(b[q]), "growth_low": 100 * np.expm1(b[q] - z * se[q]),
                               "growth_high": 100 * np.expm1(b[q] + z * se[q]), "dispersion": disp[q]})
    return Forecast(origin, pd.DataFrame(rows), pd.DataFrame(trend_rows), pd.DataFrame(surv))


def observed_stock(stock: pd.DataFrame) -> pd.DataFrame:
    """Children looked after on 31 March by year (rows) and profile (columns, with 'all')."""
    t = stock.groupby(["YEAR", "PROFILE"]).size().unstack("PROFILE").reindex(columns=list(PROFILES)).fillna(0)
    t[ALL] = t.sum(axis=1)
    t.index = t.index.astype(int)
    return t.astype(int)


@dataclass
class Backtest:
    """Forecasts from earlier origins against what was observed.

    table: origin, horizon, YEAR, PROFILE, observed, estimate, low, high, ape (absolute % error), covered;
    summary: horizon, origins (forecasts made), mape_profiles (mean APE over the need tiers), mape_total
    (APE of all children looked after), coverage (share of observed values inside the interval, every
    profile and the total).
    """

    table: pd.DataFrame
    summary: pd.DataFrame

    def to_dict(self) -> dict:
        s = self.summary.set_index("horizon")
        return {f"h{h}": {"origins": int(r.origins), "mape_profiles": round(r.mape_profiles, 2),
                          "mape_total": round(r.mape_total, 2), "coverage": round(r.coverage, 3)}
                for h, r in s.iterrows()}


def backtest(stock: pd.DataFrame, entries: pd.DataFrame, options: ForecastOptions = ForecastOptions()) -> Backtest:
    """Refit at every origin with enough history (entry years >= min_entry_years and a census h years
    before the origin) and compare each horizon with the census observed h years after the origin."""
    observed = observed_stock(stock)
    years = sorted(int(y) for y in stock["YEAR"].unique())
    first, last = years[0], years[-1]
    rows = []
    for origin in years:
        enough = origin - first + 1 >= options.min_entry_years
        horizons = tuple(h for h in options.horizons if enough and origin + h <= last and origin - first >= h)
        if not horizons:
            continue
        opts = ForecastOptions(horizons, options.draws, options.level, options.seed, options.min_entry_years)
        fc = forecast_demand(stock, entries, origin, opts).table
        fc = fc.assign(origin=origin, observed=[float(observed.loc[y, p]) if y in observed.index else np.nan
                                                for y, p in zip(fc["YEAR"], fc["PROFILE"])])
        rows.append(fc)
    if not rows:
        return Backtest(pd.DataFrame(columns=["origin", "horizon", "YEAR", "PROFILE", "observed", "estimate", "low",
                                              "high", "ape", "covered"]),
                        pd.DataFrame(columns=["horizon", "forecasts", "mape_profiles", "mape_total", "coverage"]))
    t = pd.concat(rows, ignore_index=True)
    t["ape"] = 100 * (t["estimate"] - t["observed"]).abs() / t["observed"].where(t["observed"] > 0)
    t["covered"] = (t["observed"] >= t["low"]) & (t["observed"] <= t["high"])
    t = t[["origin", "horizon", "YEAR", "PROFILE", "observed", "estimate", "low", "high", "ape", "covered"]]
    tiers = t["PROFILE"].isin(PROFILES[:-1])
    summary = pd.DataFrame({
        "origins": t.groupby("horizon")["origin"].nunique(),
        "mape_profiles": t.loc[tiers].groupby("horizon")["ape"].mean(),
        "mape_total": t.loc[t["PROFILE"].eq(ALL)].groupby("horizon")["ape"].mean(),
        "coverage": t.groupby("horizon")["covered"].mean()}).reset_index()
    return Backtest(t, summary)
