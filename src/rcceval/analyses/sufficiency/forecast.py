"""Question 5, forecast: children looked after 1 to 3 years ahead by age, placement type and need tier.

An age-structured, multi-state stock-and-flow model that needs only the 903 returns:

- **States** (forecast_states): every child looked after at a quarter end by exact age in quarters
  (from the DOB), placement type group (fostering; residential: children's homes, secure, other
  residential; supported accommodation; other: with parents, placed for adoption, temporary) and
  quarters in the current placement. Short breaks (LS V3/V4) are excluded as the DfE excludes them
  from children looked after: they are neither stock, entries nor moves.
- **Flows** (forecast_rates): entrants per quarter by age band and sex, with a common trend only when
  a test supports it (otherwise flat), negative binomial when over-dispersed; each quarter's
  probabilities of leaving care and of moving to each placement type group by age (in years) and
  time in placement, from the episodes of the window (`window_years` before the origin).
- **Simulation** (forecast_sim): `draws` simulations at once, each with its own draw of the entry
  parameters (normal) and of the transition probabilities (Dirichlet, times a lognormal factor on
  leaving and on moving as wide as the rates' year-to-year variation beyond chance), quarter by quarter; children
  leave at 18. The estimate is the mean of the simulations, the interval their percentiles.
- **Need tier**, where assessed: the simulated children of each age band and group are shared out by
  the tiers of the children of that age band and group looked after at the origin (an allocation:
  the tiers have no transitions of their own). **Spend**: children of each group x the weekly unit
  cost of the group's mix of cost groups (costing.yaml) at the origin, by age band.

The back-test (`backtest`) refits at every 31 March with at least `min_history_quarters` quarters of
moves before it and compares each horizon with the 31 March observed then: by total, age band,
placement type group (and need tier), absolute % error and whether the interval covered it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from rcceval.analyses.costing.static import cost_group
from rcceval.analyses.sufficiency.forecast_rates import BAND_OF_Q, BANDS, fit_entries, fit_transitions
from rcceval.analyses.sufficiency.forecast_sim import simulate_chunks
from rcceval.analyses.sufficiency.forecast_states import AGES, DUR, GROUPS, ForecastData, forecast_data
from rcceval.analyses.sufficiency.profiles import PROFILES
from rcceval.parallel import Workers

ALL = "all"
__all__ = ["ALL", "Backtest", "entry_counts", "Forecast", "ForecastData", "ForecastOptions", "backtest", "forecast_data",
           "forecast_demand"]


@dataclass(frozen=True)
class ForecastOptions:
    horizons: tuple[int, ...] = (1, 2, 3)
    draws: int = 2000
    level: float = 0.95
    seed: int = 0
    window_years: int = 3
    trend_alpha: float = 0.05
    prior: float = 10.0
    min_history_quarters: int = 4
    chunks: int = 2          # simulations are run in this many independent chunks (fixed: results do not depend on jobs)
    jobs: Workers = 2        # threads running the chunks, or the run's ParallelSetting (rcceval.parallel)
    extra_bands: tuple[tuple[str, int, int], ...] = ()   # more age bands (label, first, last year) for `detail`


def entry_counts(entries: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Entries (periods of care started) by collection year (rows) and entry need profile (columns)."""
    t = entries.groupby(["YEAR", "PROFILE"]).size().unstack("PROFILE")
    t = t.reindex(index=years, columns=list(PROFILES)).fillna(0).astype(int)
    t.index, t.columns.name = t.index.astype(int), None
    t.index.name = "year"
    return t


def _summary(sims: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(sims, [tail, 100 - tail], axis=0)
    return sims.mean(axis=0), lo, hi


def _rows(dimension: str, names: list[str], sims: np.ndarray, h: int, year: int, level: float) -> list[dict]:
    est, lo, hi = _summary(sims, level)
    return [{"DIMENSION": dimension, "GROUP": n, "horizon": h, "YEAR": year, "estimate": float(e),
             "low": float(a), "high": float(b)} for n, e, a, b in zip(names, est, lo, hi)]


def _band_group(counts: np.ndarray) -> np.ndarray:
    """(S, AGES, G) -> (S, B, G)."""
    out = np.zeros((counts.shape[0], len(BANDS), counts.shape[2]), dtype=counts.dtype)
    for b in range(len(BANDS)):
        out[:, b] = counts[:, BAND_OF_Q == b].sum(axis=1)
    return out


def observed_cells(snap: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """(B, G) children looked after on `day` by age band and group."""
    s = snap.loc[snap["DATE"].eq(day)]
    out = np.zeros((len(BANDS), len(GROUPS)), dtype=np.int64)
    np.add.at(out, (BAND_OF_Q[s["AGE_Q"].to_numpy(np.int64)], s["GROUP"].to_numpy(np.int64)), 1)
    return out


def _profile_shares(data: ForecastData, day: pd.Timestamp) -> np.ndarray | None:
    """(B, G, P) shares of the need profiles among children of each age band and group on `day`."""
    if data.profiles is None or not len(data.profiles):
        return None
    s = data.snap.loc[data.snap["DATE"].eq(day), ["LA", "CHILD", "AGE_Q", "GROUP"]]
    s = s.merge(data.profiles.loc[data.profiles["YEAR"].eq(day.year), ["LA", "CHILD", "PROFILE"]],
                on=["LA", "CHILD"], how="left")
    p = pd.Categorical(s["PROFILE"].fillna(PROFILES[-1]), categories=list(PROFILES)).codes
    n = np.zeros((len(BANDS), len(GROUPS), len(PROFILES)))
    np.add.at(n, (BAND_OF_Q[s["AGE_Q"].to_numpy(np.int64)], s["GROUP"].to_numpy(np.int64), p), 1)
    tot = n.sum(axis=-1, keepdims=True)
    fallback = n.sum(axis=(0, 1)) / max(n.sum(), 1)
    return np.where(tot > 0, n / np.maximum(tot, 1), fallback)


def _weekly_costs(data: ForecastData, day: pd.Timestamp, unit_costs: dict[str, float]) -> np.ndarray:
    """(B, G) mean weekly unit cost of the children of each age band and group on `day` (their cost
    groups' unit costs), falling back to the group's mean over all ages, then over all the data."""
    s = data.snap.loc[data.snap["DATE"].eq(day)]
    if not len(s):
        s = data.snap
    cost = cost_group(s["PLACE"].astype(str), s["PLACE_PROVIDER"].astype(str)).map(unit_costs).fillna(0).to_numpy()
    b, g = BAND_OF_Q[s["AGE_Q"].to_numpy(np.int64)], s["GROUP"].to_numpy(np.int64)
    tot, n = np.zeros((len(BANDS), len(GROUPS))), np.zeros((len(BANDS), len(GROUPS)))
    np.add.at(tot, (b, g), cost)
    np.add.at(n, (b, g), 1)
    by_group = tot.sum(axis=0) / np.maximum(n.sum(axis=0), 1)
    by_group = np.where(n.sum(axis=0) > 0, by_group, cost.mean() if len(cost) else 0.0)
    return np.where(n > 0, tot / np.maximum(n, 1), by_group[None, :])


@dataclass
class Forecast:
    """Demand forecast made at 31 March `origin`.

    table: PROFILE (need profiles and 'all'), horizon, YEAR, estimate, low, high (children looked after);
    detail: DIMENSION (total, age_band, placement_type, need_profile), GROUP, horizon, YEAR, estimate, low, high;
    spend: GROUP (placement type groups and 'all'), horizon, YEAR, estimate, low, high (weekly spend, GBP);
    entries: the entry model's cells (AGE_BAND, SEX, quarters, entrants, rate a quarter at the origin);
    trend: the test of a trend in entries (one row); exits: quarterly probability of leaving care and of
    a move by age band, group and quarters in placement (the pooled posterior means, weighted by children).
    """

    origin: int
    table: pd.DataFrame
    detail: pd.DataFrame
    spend: pd.DataFrame
    entries: pd.DataFrame
    trend: pd.DataFrame
    exits: pd.DataFrame

    def to_dict(self) -> dict:
        out = {}
        for profile, g in self.table.groupby("PROFILE", sort=False):
            out[profile] = {str(int(r.YEAR)): {"estimate": round(r.estimate, 1), "low": r.low, "high": r.high}
                            for r in g.itertuples()}
        return {"origin": self.origin, "children_looked_after_31_march": out}


def _window(data: ForecastData, origin_day: pd.Timestamp, years: int) -> list[pd.Timestamp]:
    """Quarter ends whose following quarter ends by the origin, within `years` before it."""
    start = origin_day - pd.DateOffset(years=years)
    dates = data.dates
    return [a for a, b in zip(dates[:-1], dates[1:]) if b <= origin_day and a >= start]


def forecast_demand(data: ForecastData, origin: int, options: ForecastOptions = ForecastOptions(),
                    unit_costs: dict[str, float] | None = None) -> Forecast:
    """Children looked after on 31 March origin + h (see the module doc). unit_costs: weekly cost by
    cost group (costing.yaml unit_costs), for the spend table (empty without)."""
    day = pd.Timestamp(origin, 3, 31)
    window = _window(data, day, options.window_years)
    entries = fit_entries(data.entrants, window, day, options.trend_alpha)
    trans = fit_transitions(data.transitions, window, options.prior)
    s = data.snap.loc[data.snap["DATE"].eq(day)]
    stock = np.zeros((AGES, len(GROUPS), DUR), dtype=np.int64)
    np.add.at(stock, (s["AGE_Q"].to_numpy(np.int64), s["GROUP"].to_numpy(np.int64), s["DUR_Q"].to_numpy(np.int64)), 1)
    record = [4 * h for h in options.horizons]
    sims = simulate_chunks(stock, trans, entries, max(record), record, options.draws,
                           np.random.SeedSequence([options.seed, origin]), options.chunks, options.jobs)
    shares = _profile_shares(data, day)
    costs = _weekly_costs(data, day, unit_costs) if unit_costs else None
    rows, table, spend = [], [], []
    for h in options.horizons:
        bg = _band_group(sims[4 * h]).astype(float)                         # (S, B, G)
        year = origin + h
        total = bg.sum(axis=(1, 2))
        rows += _rows("total", [ALL], total[:, None], h, year, options.level)
        rows += _rows("age_band", list(BANDS), bg.sum(axis=2), h, year, options.level)
        rows += _rows("placement_type", list(GROUPS), bg.sum(axis=1), h, year, options.level)
        if options.extra_bands:
            age_years = np.arange(AGES) // 4
            extra = np.column_stack([sims[4 * h][:, (age_years >= lo) & (age_years <= hi)].sum(axis=(1, 2))
                                     for _, lo, hi in options.extra_bands]).astype(float)
            rows += _rows("extra_band", [b[0] for b in options.extra_bands], extra, h, year, options.level)
        if shares is not None:
            prof = np.einsum("sbg,bgp->sp", bg, shares)
            rows += _rows("need_profile", list(PROFILES), prof, h, year, options.level)
            est = _rows("need_profile", [*PROFILES, ALL], np.column_stack([prof, total]), h, year, options.level)
        else:
            est = _rows("need_profile", [ALL], total[:, None], h, year, options.level)
        table += est
        if costs is not None:
            weekly = bg * costs[None]
            spend += _rows("spend", [*GROUPS, ALL], np.column_stack([weekly.sum(axis=1), weekly.sum(axis=(1, 2))]),
                           h, year, options.level)
    detail = pd.DataFrame(rows)
    table = pd.DataFrame(table).rename(columns={"GROUP": "PROFILE"}).drop(columns="DIMENSION")
    spend = pd.DataFrame(spend, columns=["DIMENSION", "GROUP", "horizon", "YEAR", "estimate", "low", "high"])
    t = entries.test
    trend = pd.DataFrame([{"window_quarters": len(window), "test": t.method, "statistic": t.statistic,
                           "p_value": t.p_value, "trend_used": t.used, "growth_pct": t.growth_pct,
                           "growth_low": t.growth_low, "growth_high": t.growth_high,
                           "dispersion": entries.dispersion, "sd_leave_rate_between_years": trans.tau[0],
                           "sd_move_rate_between_years": trans.tau[1]}])
    return Forecast(origin, table, detail, spend.drop(columns="DIMENSION"), entries.cells, trend, _exits(trans))


def _exits(trans) -> pd.DataFrame:
    """Quarterly probabilities of leaving care and of moving, by age band, group and quarters in placement."""
    mean = trans.mean                                                   # (YEARS, G, D, O)
    n = trans.counts.sum(axis=-1)
    rows = []
    band_of_year = BAND_OF_Q[::4]
    for b, band in enumerate(BANDS):
        sel = band_of_year == b
        for g, group in enumerate(GROUPS):
            for d in range(DUR):
                w = n[sel, g, d]
                p = mean[sel, g, d].mean(axis=0) if w.sum() == 0 else (mean[sel, g, d] * w[:, None]).sum(axis=0) / w.sum()
                rows.append({"AGE_BAND": band, "GROUP": group, "quarters_in_placement": d, "children": int(w.sum()),
                             "p_leave_care": float(p[-1]), "p_move": float(p[1:-1].sum())})
    return pd.DataFrame(rows)


@dataclass
class Backtest:
    """Forecasts from earlier origins against what was observed.

    table: origin, horizon, YEAR, DIMENSION, GROUP, observed, estimate, low, high, ape (absolute % error), covered;
    summary: horizon, origins, mape_total, mape_age_bands (mean APE over age bands), mape_placement_types,
    mape_profiles (over the need tiers; missing without needs data), coverage (share of observed values
    inside the interval, every row).
    """

    table: pd.DataFrame
    summary: pd.DataFrame

    def to_dict(self) -> dict:
        s = self.summary.set_index("horizon")
        r2 = lambda v: None if pd.isna(v) else round(float(v), 2)  # noqa: E731
        return {f"h{h}": {"origins": int(r.origins), "mape_total": r2(r.mape_total),
                          "mape_age_bands": r2(r.mape_age_bands), "mape_placement_types": r2(r.mape_placement_types),
                          "mape_profiles": r2(r.mape_profiles), "coverage": round(float(r.coverage), 3)}
                for h, r in s.iterrows()}


def origins(data: ForecastData, options: ForecastOptions) -> list[int]:
    """31 March origins with at least min_history_quarters quarters of moves and a later census."""
    last = max(data.census_years)
    return [y for y in data.census_years
            if len(_window(data, pd.Timestamp(y, 3, 31), options.window_years)) >= options.min_history_quarters
            and y < last]


def observed(data: ForecastData, year: int) -> pd.DataFrame:
    """DIMENSION, GROUP, observed: children looked after on 31 March `year`."""
    day = pd.Timestamp(year, 3, 31)
    bg = observed_cells(data.snap, day)
    rows = [("total", ALL, bg.sum())] + [("age_band", b, v) for b, v in zip(BANDS, bg.sum(axis=1))] + \
           [("placement_type", g, v) for g, v in zip(GROUPS, bg.sum(axis=0))]
    if data.profiles is not None and len(data.profiles):
        p = data.profiles.loc[data.profiles["YEAR"].eq(year)]
        p = p.merge(data.snap.loc[data.snap["DATE"].eq(day), ["LA", "CHILD"]], on=["LA", "CHILD"])
        counts = p["PROFILE"].value_counts()
        rows += [("need_profile", q, int(counts.get(q, 0))) for q in PROFILES]
    return pd.DataFrame(rows, columns=["DIMENSION", "GROUP", "observed"]).assign(observed=lambda d: d["observed"].astype(float))


def backtest(data: ForecastData, options: ForecastOptions = ForecastOptions()) -> Backtest:
    """Refit at every origin the data allow and compare each horizon with the census observed then."""
    last = max(data.census_years)
    frames = []
    for origin in origins(data, options):
        horizons = tuple(h for h in options.horizons if origin + h <= last)
        fc = forecast_demand(data, origin, replace(options, horizons=horizons))
        obs = pd.concat([observed(data, origin + h).assign(YEAR=origin + h) for h in horizons])
        frames.append(fc.detail.merge(obs, on=["DIMENSION", "GROUP", "YEAR"], how="left").assign(origin=origin))
    cols = ["origin", "horizon", "YEAR", "DIMENSION", "GROUP", "observed", "estimate", "low", "high", "ape", "covered"]
    if not frames:
        return Backtest(pd.DataFrame(columns=cols),
                        pd.DataFrame(columns=["horizon", "origins", "mape_total", "mape_age_bands",
                                              "mape_placement_types", "mape_profiles", "coverage"]))
    t = pd.concat(frames, ignore_index=True)
    t["ape"] = 100 * (t["estimate"] - t["observed"]).abs() / t["observed"].where(t["observed"] > 0)
    t["covered"] = (t["observed"] >= t["low"]) & (t["observed"] <= t["high"])
    t = t[cols]

    def mape(dim: str, groups=None) -> pd.Series:
        sel = t["DIMENSION"].eq(dim) & (t["GROUP"].isin(groups) if groups is not None else True)
        return t.loc[sel].groupby("horizon")["ape"].mean()

    summary = pd.DataFrame({"origins": t.groupby("horizon")["origin"].nunique(),
                            "mape_total": mape("total"), "mape_age_bands": mape("age_band"),
                            "mape_placement_types": mape("placement_type"),
                            "mape_profiles": mape("need_profile", list(PROFILES[:-1])),
                            "coverage": t.groupby("horizon")["covered"].mean()}).reset_index()
    return Backtest(t, summary)
