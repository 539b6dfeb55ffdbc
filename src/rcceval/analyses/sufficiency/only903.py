"""Question 5 on the 903 alone: the forecast of children looked after, without needs or a register.

Every council has its 903 returns; the forecast needs nothing else. Without needs assessments every
child is "not assessed", so the forecast is of all children looked after (one profile), by the same
model and back-test as with needs (forecast.py). The needs audit, provision map, gap and
nearest-suitable placement need the needs assessments and the provider register and are left out.
This module is the one place the report calls the forecast through on the 903 alone, so a new
forecast model (issue 18, item 3) changes it here only.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rcceval.analyses.sufficiency import forecast as sf
from rcceval.analyses.sufficiency import needs as sn
from rcceval.analyses.sufficiency.profiles import PROFILE_LABELS, prepare
from rcceval.analyses.sufficiency.result import _trend_test, forecast_inputs
from rcceval.ingest.validate import CleanRegion
from rcceval.parallel import Workers
from rcceval.reporting.results import Estimate, Result, Table
from rcceval.spec.instruments import Instrument


def _labels(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns=PROFILE_LABELS)


@dataclass(frozen=True, eq=False)
class Forecast903Result(Result):
    """The forecast's aggregates (tables named as SufficiencyResult names them)."""

    years: list[int]
    profile_by_year: pd.DataFrame      # children looked after on 31 March by year (one profile: not assessed)
    entries_by_year: pd.DataFrame
    forecast: sf.Forecast
    backtest: sf.Backtest

    def tables(self) -> dict[str, Table]:
        fc = self.forecast
        return {
            "profile_by_year": Table(_labels(self.profile_by_year), kind="crosstab"),
            "entries_by_year": Table(_labels(self.entries_by_year), kind="crosstab"),
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
        return {"forecast_demand": {p: {str(int(r.YEAR)): Estimate(r.estimate, r.low, r.high)
                                        for r in g.itertuples()}
                                    for p, g in self.forecast.table.round(0).groupby("PROFILE", sort=False)},
                "forecast_entry_trend": _trend_test(self.forecast.trend),
                "backtest": self.backtest.to_dict()}


def fit_forecast(region: CleanRegion, placements: pd.DataFrame, instrument: Instrument, now: pd.Timestamp,
                 lookback_days: int, seed: int, unit_costs: dict[str, float] | None = None,
                 parallel: Workers = 2) -> Forecast903Result:
    """The forecast and its back-test from the 903 (needs, where a file holds them, are not required);
    `parallel` runs the simulation chunks (results do not depend on it)."""
    data = prepare(region, placements, instrument, now, lookback_days)
    entries, yearly = data.entries, data.yearly
    fdata = forecast_inputs(region, placements, data.years)
    return Forecast903Result(
        years=list(data.years),
        profile_by_year=sn.profile_counts(yearly, "YEAR", data.years),
        entries_by_year=sf.entry_counts(entries.loc[entries["YEAR"] >= data.years[0]], data.years),
        forecast=sf.forecast_demand(fdata, data.years[-1], sf.ForecastOptions(seed=seed, jobs=parallel), unit_costs),
        backtest=sf.backtest(fdata, sf.ForecastOptions(seed=seed, draws=500, jobs=parallel)),
    )
