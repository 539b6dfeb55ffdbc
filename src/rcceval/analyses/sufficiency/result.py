"""Question 5's result: where needs outrun provision, as one frozen, aggregate-only result.

`fit()` runs every step of the question once (needs audit, needs over time, provision, gap,
nearest suitable placement, forecast and back-test) and keeps only aggregates: tables by council,
profile, age, reach or year, and the model summaries. `tables()` and `headlines()` declare, once,
all the report publishes; the publisher protects every table, and the places able to meet a
group of children are hidden with that group's count (a `Follows` rule), never by the notebook.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rcceval.analyses.sufficiency import forecast as sf
from rcceval.analyses.sufficiency import gap as sg
from rcceval.analyses.sufficiency import needs as sn
from rcceval.analyses.sufficiency.profiles import (
    PROFILE_LABELS,
    prepare,
    require_inputs,
)
from rcceval.ingest.validate import CleanRegion
from rcceval.parallel import Workers
from rcceval.reporting.results import (
    Cell,
    Estimate,
    Follows,
    Result,
    Share,
    Table,
    Test,
)
from rcceval.spec import codes
from rcceval.spec.instruments import Instrument

PCT = ("mean", "se", "ci_low", "ci_high")
STABLE_MEANS = ("mean_baseline", "mean_follow_up", "mean_change", "ci_low", "ci_high", "median_days")


def labels(table: pd.DataFrame) -> pd.DataFrame:
    """Profile codes as the report's labels (crosstab columns)."""
    return table.rename(columns=PROFILE_LABELS)


@dataclass(frozen=True, eq=False)
class SufficiencyResult(Result):
    """Aggregates of question 5 (no child-level rows): see the report's sections 1-6."""

    now: pd.Timestamp
    years: list[int]
    councils: list[str]
    n_current: int                         # children looked after on `now`
    profile_by_council: pd.DataFrame       # crosstabs of children: profile codes as columns
    profile_by_age_band: pd.DataFrame
    profile_by_placement_type: pd.DataFrame
    domains_by_profile: pd.DataFrame
    profile_by_year: pd.DataFrame
    profile_by_council_year: pd.DataFrame
    need_level: sn.NeedsByAge
    need_change: pd.DataFrame
    stable: sn.StablePlacementResult       # groups and model: aggregates only
    provision_by_type: pd.DataFrame
    provision_by_capability: pd.DataFrame
    provision_points: pd.DataFrame
    council_centres: pd.DataFrame
    n_settings: int
    n_places: int
    settings_excluded: dict[str, int]
    gap: sg.GapResult
    nearest_left_out: pd.DataFrame
    local: sg.LocalResult
    entries_by_year: pd.DataFrame
    forecast: sf.Forecast
    backtest: sf.Backtest

    def tables(self) -> dict[str, Table]:
        means = [c for c in self.domains_by_profile.columns if c.startswith("mean_")]
        fc = self.forecast
        cells = self.gap.cells.drop(columns=["children", "placeable"])
        able = Follows("gap_children", row="AREA", column="PROFILE", hide=("places_able",),
                       labels={sg.REGION: "Total", sg.ALL: "Total", **PROFILE_LABELS})
        local = self.local
        return {
            "profile_by_council": Table(labels(self.profile_by_council), kind="crosstab"),
            "profile_by_age_band": Table(labels(self.profile_by_age_band), kind="crosstab"),
            "profile_by_placement_type": Table(labels(self.profile_by_placement_type), kind="crosstab"),
            "domains_by_profile": Table(self.domains_by_profile, counts=("children",),
                                        percent_of={c: "children" for c in means}),
            "profile_by_year": Table(labels(self.profile_by_year), kind="crosstab"),
            "profile_by_council_year": Table(self.profile_by_council_year, counts=("children",), by=("LA", "YEAR"),
                                             totals_shown=True),
            "need_level_by_age": Table(self.need_level.table.round(3), counts=("children",),
                                       percent_of={c: "children" for c in PCT}),
            "need_change_between_reviews": Table(self.need_change.round(4), counts=("children",),
                                                 percent_of={c: "children" for c in PCT} | {"median_gap_days": "children"}),
            "needs_after_stable_placement": Table(self.stable.groups.round(3), counts=("placements",),
                                                  percent_of={c: "placements" for c in STABLE_MEANS}),
            "needs_after_stable_placement_timing": Table(self.stable.timing.round(3) if self.stable.timing is not None
                                                         else pd.DataFrame(columns=["group", "window", "placements",
                                                                                    "mean_change"]),
                                                         counts=("placements",),
                                                         percent_of={"mean_change": "placements"}, by=("group",),
                                                         totals_shown=True),
            "needs_after_stable_placement_model": Table(self.stable.model.round(4), kind="model"),
            "provision_by_type": Table(self.provision_by_type, kind="model"),
            "provision_by_capability": Table(self.provision_by_capability, kind="model"),
            "provision_points": Table(self.provision_points, kind="model"),
            "council_centres": Table(self.council_centres, kind="model"),
            "gap_children_left_out": Table(self.gap.excluded, counts=("children",)),
            "gap_children": Table(labels(self.gap.children), kind="crosstab"),
            "gap_places_netted_out": Table(self.gap.occupancy, counts=("value",)),
            "gap_shortfall": Table(cells, counts=("shortfall", "shortfall_all_needs"), by=("REACH", "PROFILE"),
                                   totals_shown=True, follows=able),
            "gap_rules": Table(self.gap.rules.assign(label=self.gap.rules["rule"].map(sg.RULE_LABELS)),
                               counts=("children", "shortfall"), by=("REACH",), totals_shown=False),
            "nearest_children_left_out": Table(self.nearest_left_out, counts=("children",)),
            "nearest_suitable_categories": Table(local.categories, counts=("children",),
                                                 percent_of={"percent": "children"}, by=("market",), totals_shown=True),
            "placed_locally_by_profile": Table(local.by_profile, counts=("children", "in_nearest", "met_locally"),
                                               percent_of={"pct_in_nearest": "in_nearest",
                                                           "pct_met_locally": "met_locally"},
                                               by=("market",), totals_shown=True),
            "nearest_suitable_distance": Table(local.extra_miles,
                                               counts=("children_met_not_nearest", "children_unmet_with_suitable"),
                                               percent_of={"median_extra_miles": "children_met_not_nearest",
                                                           "median_nearest_miles_unmet": "children_unmet_with_suitable"}),
            "entries_by_year": Table(labels(self.entries_by_year), kind="crosstab"),
            "entry_trend": Table(fc.trend.round(4), kind="model"),
            "entry_cells": Table(fc.entries.round(2), counts=("entrants",), percent_of={"rate": "entrants"}),
            "exit_probabilities": Table(fc.exits.round(4), counts=("children",),
                                        percent_of={"p_leave_care": "children", "p_move": "children"}),
            "forecast": Table(fc.table.round(0).set_index(["PROFILE", "horizon"]), kind="model"),
            "forecast_detail": Table(fc.detail.round(0).set_index(["DIMENSION", "GROUP", "horizon"]), kind="model"),
            "forecast_spend": Table(fc.spend.round(-2).set_index(["GROUP", "horizon"]), kind="model"),
            "backtest": Table(self.backtest.table.round(2), counts=("observed",),
                              percent_of={c: "observed" for c in ["estimate", "low", "high", "ape"]}),
            "backtest_summary": Table(self.backtest.summary.round(3).set_index("horizon"), kind="model"),
        }

    def headlines(self) -> dict[str, object]:
        now = self.profile_by_council.sum()
        by_prof = self.local.by_profile
        alls = by_prof.loc[by_prof["profile"].eq(sg.ALL)].set_index("market")
        cells = self.gap.cells
        shortfall = {reach: {p: {a: Cell(int(v), "gap_shortfall", {"REACH": reach, "PROFILE": p, "AREA": a},
                                         "shortfall")
                                 for a, v in zip(g["AREA"], g["shortfall"])}
                             for p, g in cells.loc[cells["REACH"].eq(reach)].groupby("PROFILE", sort=False)}
                     for reach in sg.REACHES}
        rules = self.gap.rules
        at_least = {r: {rule: Cell(int(v), "gap_rules", {"REACH": r, "rule": rule}, "shortfall")
                        for rule, v in zip(g["rule"], g["shortfall"])}
                    for r, g in rules.groupby("REACH", sort=False)}
        effect = self.stable.difference
        return {
            "children_by_profile_now": {p: Cell(int(now.get(p, 0)), "profile_by_council", "Total", PROFILE_LABELS[p])
                                        for p in PROFILE_LABELS}
                                       | {"all": Cell(int(now.sum()), "profile_by_council", "Total", "Total")},
            "need_level_peak_ages": list(self.need_level.peaks),
            "stable_placement_difference": Estimate(round(float(effect["estimate"]), 4), round(float(effect["ci_low"]), 4),
                                                round(float(effect["ci_high"]), 4)),
            "stable_placement_test": Test(round(float(self.stable.statistic), 4), None,
                                          round(float(effect["p_value"]), 4), "Wald z, SE clustered by child"),
            # every shortfall is a lower bound: at least this many children (gap.py's module doc)
            "shortfall_bound": self.gap.bound,
            "shortfall_at_least_by_profile_area": shortfall,
            "region_shortfall_at_least_all_profiles": {r: shortfall[r][sg.ALL][sg.REGION] for r in sg.REACHES},
            "region_shortfall_at_least_by_rule": at_least,
            "pct_in_nearest_suitable": {m: Share(int(r.in_nearest), int(r.children)) for m, r in alls.iterrows()},
            "pct_placed_locally_needs_met": {m: Share(int(r.met_locally), int(r.children)) for m, r in alls.iterrows()},
            "forecast_demand": {p: {str(int(r.YEAR)): Estimate(r.estimate, r.low, r.high)
                                    for r in g.itertuples()}
                                for p, g in self.forecast.table.round(0).groupby("PROFILE", sort=False)},
            "forecast_entry_trend": _trend_test(self.forecast.trend),
            "backtest": self.backtest.to_dict(),
        }


def _trend_test(trend: pd.DataFrame) -> Test | None:
    if not len(trend) or pd.isna(trend["p_value"].iloc[0]):
        return None
    r = trend.iloc[0]
    return Test(round(float(r["statistic"]), 4), None, round(float(r["p_value"]), 4),
                f"trend in entries, {r['test']}: {'used' if r['trend_used'] else 'not supported, entries flat'}")


def forecast_inputs(region: CleanRegion, placements: pd.DataFrame, years: list[int],
                    profiles: pd.DataFrame | None = None) -> sf.ForecastData:
    """The forecast's states from the 903 alone: quarter ends from 30 June before the first census year
    (the first return's first quarter end) to the last 31 March; profiles (LA, CHILD, YEAR, PROFILE) optional."""
    return sf.forecast_data(placements, region.c903.header, pd.Timestamp(years[0] - 1, 6, 30),
                            pd.Timestamp(years[-1], 3, 31), profiles)


def fit(region: CleanRegion, placements: pd.DataFrame, instrument: Instrument, now: pd.Timestamp,
        lookback_days: int, start: pd.Timestamp, end: pd.Timestamp, seed: int,
        unit_costs: dict[str, float] | None = None, parallel: Workers = 2) -> SufficiencyResult:
    """Every step of question 5 on validated data; child-level frames stay inside this function.
    `parallel` runs the forecast's simulation chunks (the run's setting; results do not depend on it)."""
    require_inputs(region)  # needs assessments and provider register
    data = prepare(region, placements, instrument, now, lookback_days)
    current, yearly = data.current, data.yearly
    ages = [b[0] for b in codes.AGE_BANDS] + (["unknown"] if current["AGE_BAND"].eq("unknown").any() else [])
    long = (yearly.groupby(["LA", "YEAR", "PROFILE"]).size().unstack("PROFILE", fill_value=0)
            .reindex(columns=list(PROFILE_LABELS), fill_value=0).stack().rename("children").reset_index())
    stable = sn.needs_after_stable_placement(data.placements, data.wide, data.header, instrument, start, end,
                                             lookback_days)
    register, lookup = region.tables.get("provider_register"), region.tables.get("postcode_lookup")
    settings, settings_excluded = sg.register_settings(register, lookup, instrument)
    gap_kids, gap_excluded = sg.gap_children(current, settings, lookup, instrument)
    free, netted = sg.net_places(settings, current, gap_kids)
    markets, market_excluded = sg.local_children(current, settings, lookup, register,
                                                 region.tables.get("placement_agreements"), instrument)
    per_child = {m: (kids, sg.nearest_suitable(kids, cands, instrument)) for m, (kids, cands) in markets.items()}
    left = pd.DataFrame([{"market": m, "reason": r, "children": n}
                         for m, d in market_excluded.items() for r, n in d.items()])
    entries = data.entries
    opts = sf.ForecastOptions(seed=seed, jobs=parallel)
    fdata = forecast_inputs(region, placements, data.years, yearly[["LA", "CHILD", "YEAR", "PROFILE"]])
    return SufficiencyResult(
        now=data.now, years=list(data.years), councils=list(data.councils), n_current=len(current),
        profile_by_council=sn.profile_counts(current, "LA", data.councils),
        profile_by_age_band=sn.profile_counts(current, "AGE_BAND", ages),
        profile_by_placement_type=sn.placement_type_counts(current),
        domains_by_profile=sn.domains_by_profile(current, instrument),
        profile_by_year=sn.profile_counts(yearly, "YEAR", data.years),
        profile_by_council_year=long,
        need_level=sn.need_level_by_age(data.assessments),
        need_change=sn.change_between_reviews(data.assessments),
        stable=stable,
        provision_by_type=sg.provision_by_type(settings, data.councils),
        provision_by_capability=sg.provision_by_capability(settings, data.councils, instrument),
        provision_points=sg.provision_points(settings, data.councils),
        council_centres=sg.council_centres(settings, data.councils),
        n_settings=len(settings), n_places=int(settings["PLACES"].sum()), settings_excluded=dict(settings_excluded),
        gap=sg.gap_analysis(gap_kids, free, instrument, data.councils, excluded=gap_excluded, occupancy=netted),
        nearest_left_out=left, local=sg.local_summary(per_child),
        entries_by_year=sf.entry_counts(entries.loc[entries["YEAR"] >= data.years[0]], data.years),
        forecast=sf.forecast_demand(fdata, data.years[-1], opts, unit_costs),
        backtest=sf.backtest(fdata, sf.ForecastOptions(seed=seed, draws=500, jobs=parallel)),
    )
