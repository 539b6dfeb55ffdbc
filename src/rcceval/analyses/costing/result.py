"""Question 3's result: unit-cost versus needs-led costing as one frozen, aggregate-only result.

`analyse(...)` fits CareCosting once (on question 2's saved FittedHazards when given) and keeps only
aggregates: tables by need profile and scenario, the cost figures, the tornado and break-even.
`tables()` and `headlines()` declare, once, all the report publishes. By-profile headlines are
cells of the published tables (`Cell`), so a profile the publisher hides there is hidden in
results.json too; the notebook never looks at suppressed cells.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rcceval.analyses.costing.analysis import CareCosting, choose_spec
from rcceval.analyses.costing.hazard import FittedHazards, HazardModel
from rcceval.analyses.costing.microsim import SCENARIOS
from rcceval.analyses.costing.params import CostingParameters
from rcceval.analyses.survival.data import follow_up
from rcceval.parallel import Workers
from rcceval.reporting.results import Cell, Count, Estimate, Result, Table
from rcceval.spec.instruments import Instrument

SUMMARY_COLUMNS = ("weeks_in_care", "placements", "moves", "unplanned_moves", "share_3plus_moves",
                   "share_weeks_matched", "cost_per_child", "cost_per_child_year")
STATIC_COUNTS = ("placements", "under_funded", "over_funded")
FEE_COLUMNS = ("mean_fee", "unit_cost", "ratio_mean", "ratio_p10", "ratio_median", "ratio_p90")


def _numbers(t: pd.DataFrame, count: str) -> dict[str, str]:
    """Every numeric column of a by-profile table as a rate of its count column."""
    return {c: count for c in t.columns if c not in (count, "profile", "scenario", "by", "level")
            and pd.api.types.is_numeric_dtype(t[c])}


@dataclass(frozen=True, eq=False)
class Simulation:
    """The simulation settings the report states."""

    hazard_source: str
    draws: int
    horizon_years: float
    capacity: float


@dataclass(frozen=True, eq=False)
class CostingResult(Result):
    """Aggregates of question 3 (no child-level rows)."""

    level: float
    price_year: int
    process_cost: float
    sources: pd.DataFrame                # every cost figure: value, range, price year, source, assumption
    staffing_hours: pd.DataFrame         # intensity x frequency -> extra hours a week
    staffing_source: str
    setting_rules: pd.DataFrame
    n_prices: int
    simulation: Simulation
    static: pd.DataFrame                 # a week of care both ways, by profile
    setting_needed: pd.DataFrame         # crosstab: placements by profile and setting needed
    fees: pd.DataFrame | None            # unit cost against fees paid, by group
    first_check: pd.DataFrame            # first placements still running: simulated, model, data
    summary: pd.DataFrame                # each scenario by profile, with intervals over draws
    difference: pd.DataFrame             # needs-led minus unit cost by profile
    per_child: pd.DataFrame              # quantiles over children of the per-child difference
    tornado: pd.DataFrame
    break_even: Mapping[str, Any]
    children_simulated: int
    truncated_journeys: float
    notes: tuple[str, ...]               # on the hazards and the fit
    # ---- the stated model (costing.sensitivity, costing.psa): additions, the figures above unchanged ----
    evalue: Mapping[str, Any] | None = None          # E-value of the mismatch HR (point and CI limit)
    shrinkage: pd.DataFrame | None = None            # the headline at shares of the mismatch effect
    uprating: pd.DataFrame | None = None             # every figure in the target price year, factor beside it
    deflator: Mapping[str, str] | None = None        # the deflator series, source and STATUS
    discounting: pd.DataFrame | None = None          # cost per child undiscounted and at each rate
    time_and_money: Mapping[str, Any] | None = None  # discount rate, sensitivity rates, target price year
    tail_comparison: pd.DataFrame | None = None      # each cause: the four families and the constant tail
    tail_choice: Mapping[str, str] | None = None
    tail_sensitivity: pd.DataFrame | None = None     # the headline under every tail
    psa: Mapping[str, Any] | None = None             # PSA summary (no curves)
    psa_curves: pd.DataFrame | None = None           # CEAC, EVPI, EVPPI by value of a disruption averted

    def summary_table(self) -> pd.DataFrame:
        cols = ["scenario", "profile", "children"] + [c + s for c in SUMMARY_COLUMNS for s in ("", "_lower", "_upper")]
        out = self.summary[cols].copy()
        out.iloc[:, 3:] = out.iloc[:, 3:].astype(float).round(3)
        return out

    def per_child_table(self) -> pd.DataFrame:
        pc = self.per_child.copy()
        pc.iloc[:, 2:-1] = pc.iloc[:, 2:-1].astype(float).round(0)
        return pc

    def fees_table(self) -> pd.DataFrame:
        fees = self.fees.copy()
        fees[list(FEE_COLUMNS)] = fees[list(FEE_COLUMNS)].round(3)
        return fees

    def tables(self) -> dict[str, Table]:
        static = self.static
        rates = [c for c in static.columns if c not in ("profile",) + STATIC_COUNTS]
        diff = self.difference
        summary, pc = self.summary_table(), self.per_child_table()
        out = {
            # full precision: the by-profile headlines are these tables' (protected) cells
            "static_by_profile": Table(static, counts=STATIC_COUNTS, percent_of={c: "placements" for c in rates}),
            "difference_by_profile": Table(diff, counts=("children",), percent_of=_numbers(diff, "children")),
            "cost_figures": Table(self.sources.set_index("figure"), kind="model"),
            "staffing_hours": Table(self.staffing_hours, kind="model"),
            "setting_rules": Table(self.setting_rules, kind="model"),
            "setting_needed_by_profile": Table(self.setting_needed, kind="crosstab"),
        }
        if self.fees is not None:
            fees = self.fees_table()
            out["unit_cost_vs_fees"] = Table(fees, counts=("placements", "fee_zero"),
                                             percent_of={c: "placements" for c in FEE_COLUMNS})
        out["first_placement_check"] = Table(self.first_check.round(4), counts=("children",),
                                             percent_of={"simulated": "children", "model": "children",
                                                         "observed_km": "children"})
        out["journeys_by_profile"] = Table(summary, counts=("children",), percent_of=_numbers(summary, "children"),
                                           by=("scenario",), totals_shown=True)
        out["per_child_difference"] = Table(pc, counts=("children", "cheaper_under_needs_led"),
                                            percent_of={c: "children" for c in pc.columns
                                                        if c.startswith("p") and c != "profile" or c == "mean"})
        out["tornado"] = Table(self.tornado.round(4).set_index("parameter"), kind="model")
        # model outputs over the whole simulated cohort (no counts of children): kind "model"
        for name, frame in (("mismatch_shrinkage", self.shrinkage), ("uprating", self.uprating),
                            ("discounting", self.discounting), ("tail_comparison", self.tail_comparison),
                            ("tail_sensitivity", self.tail_sensitivity), ("psa_curves", self.psa_curves)):
            if frame is not None:
                out[name] = Table(frame.reset_index(drop=True), kind="model")
        return out

    def _iv(self, frame: pd.DataFrame, key: Any, col: str) -> Estimate:
        return Estimate(frame.loc[key, col], frame.loc[key, f"{col}_lower"], frame.loc[key, f"{col}_upper"], self.level)

    def check_gaps(self) -> dict[str, float]:
        """Largest gap of the simulated share of first placements still running from the model and the data."""
        fc = self.first_check
        return {"model": float((fc["simulated"] - fc["model"]).abs().max()),
                "data_km": float((fc["simulated"] - fc["observed_km"]).abs().max())}

    def headlines(self) -> dict[str, Any]:
        s = self.summary.set_index(["scenario", "profile"])
        d = self.difference.set_index("profile")
        sim, be = self.simulation, self.break_even
        cell = lambda table, p, col: Cell(self._value(table, p, col), table, {"profile": p}, col)  # noqa: E731
        out: dict[str, Any] = {
            "price_year": self.price_year,
            "assumptions": int(self.sources["assumption"].sum()),
            "figures": self.n_prices,
            "static_per_child_week": {p: {c: cell("static_by_profile", p, c) for c in ("unit_per_week",
                                                                                       "needs_led_per_week")}
                                      for p in self.static["profile"]},
            "first_placement_check_max_gap": self.check_gaps(),
            "cost_per_child_year": {sc: self._iv(s, (sc, "All"), "cost_per_child_year") for sc in SCENARIOS},
            "cost_per_child_horizon": {sc: self._iv(s, (sc, "All"), "cost_per_child") for sc in SCENARIOS},
            "share_3plus_moves": {sc: self._iv(s, (sc, "All"), "share_3plus_moves") for sc in SCENARIOS},
            "children_simulated": Count(self.children_simulated),
            "simulation": {"hazard_source": sim.hazard_source, "draws": sim.draws, "horizon_years": sim.horizon_years,
                           "capacity": sim.capacity, "truncated_journeys": self.truncated_journeys},
            "difference_per_child_year": self._iv(d, "All", "cost_per_child_year"),
            "difference_per_child_year_by_profile": {
                p: {k: cell("difference_by_profile", p, f"cost_per_child_year{s_}")
                    for k, s_ in (("value", ""), ("lower", "_lower"), ("upper", "_upper"))} for p in d.index},
            "moves_averted_per_100_children": self._iv(d, "All", "moves_averted_per_100"),
            "unplanned_moves_averted_per_100_children": self._iv(d, "All", "unplanned_moves_averted_per_100"),
            "break_even_disruption_reduction": be["reduction"],
            "break_even": dict(be),
            "tornado_top": self.tornado.round(4).head(5)[["parameter", "at_low", "at_high"]].set_index("parameter")
                               .to_dict(orient="index"),
        }
        if self.fees is not None:
            g = self.fees.loc[self.fees["by"] == "cost group"].set_index("level")
            out["unit_cost_to_fee_median_ratio"] = g["ratio_median"].round(4).to_dict()
        out.update(self._stated_headlines())
        return out

    def _stated_headlines(self) -> dict[str, Any]:
        """The stated model's headlines (present only when it was run)."""
        out: dict[str, Any] = {}
        if self.evalue is not None:
            out["mismatch_evalue"] = dict(self.evalue)
        if self.shrinkage is not None:
            out["mismatch_shrinkage"] = {f"{100 * r.share:g}%": {"moves_averted_per_100": r.moves_averted_per_100,
                                                               "difference_per_child_year": r.difference_per_child_year}
                                         for r in self.shrinkage.itertuples()}
        if self.discounting is not None:
            out["time_and_money"] = {**dict(self.time_and_money or {}), "deflator_status": (self.deflator or {}).get(
                "status"), "difference_per_child": {
                    r.discounting: Estimate(r.difference_per_child, r.difference_per_child_lower,
                                            r.difference_per_child_upper, self.level)
                    for r in self.discounting.itertuples()}}
        if self.tail_choice:
            out["tail_choice"] = dict(self.tail_choice)
        if self.psa is not None:
            out["psa"] = dict(self.psa)
        return out

    def _value(self, table: str, profile: str, col: str) -> float:
        frame = self.static if table == "static_by_profile" else self.difference
        return frame.loc[frame["profile"].eq(profile), col].iloc[0]


def summarise(q3: CareCosting) -> CostingResult:
    """The aggregates of a fitted CareCosting."""
    cp, sim = q3.costing, q3.sim
    setting = pd.crosstab(q3.static_rows["PROFILE"], q3.static_rows["setting"])
    setting.index.name, setting.columns.name = "profile", "setting needed"
    hours = pd.DataFrame(cp.staffing_hours, index=[f"intensity {i}" for i in range(4)],
                         columns=[f"frequency {j}" for j in range(4)])
    j = q3.journeys
    stated = _stated(q3)
    return CostingResult(
        level=1 - q3.alpha, price_year=cp.price_year, process_cost=float(cp.process_cost.value),
        sources=cp.sources_table(), staffing_hours=hours, staffing_source=cp.staffing_source,
        setting_rules=pd.DataFrame([r.__dict__ for r in cp.setting_rules]), n_prices=len(cp.prices),
        simulation=Simulation(sim.hazard_source, sim.draws, sim.horizon_years, sim.capacity),
        static=q3.static.copy(), setting_needed=setting, fees=None if q3.fees is None else q3.fees.copy(),
        first_check=q3.first_check.copy(), summary=q3.summary.copy(), difference=q3.difference.copy(),
        per_child=q3.per_child.copy(), tornado=q3.tornado.copy(), break_even=dict(q3.break_even),
        children_simulated=int(q3.cohort.n),
        truncated_journeys=float(j.item("unit_cost", "truncated").sum() + j.item("needs_led", "truncated").sum()),
        notes=tuple(q3.hazards.notes) + tuple(q3.notes), **stated)


def _stated(q: CareCosting) -> dict[str, Any]:
    """The stated model's aggregates of a fitted CareCosting (empty when it was not run)."""
    if not hasattr(q, "evalue"):
        return {}
    tm = q.costing.time_and_money
    tails = None
    if q.tail_tables:
        tails = pd.concat([t.reset_index().assign(cause=c) for c, t in q.tail_tables.items()], ignore_index=True)
        tails = tails[["cause"] + [c for c in tails.columns if c != "cause"]]
        tails["chosen"] = [q.tail_choice[c] == f for c, f in zip(tails["cause"], tails["family"])]
    psa = curves = None
    if q.psa is not None:
        psa = {k: v for k, v in q.psa.items() if k != "curves"}
        curves = q.psa["curves"].copy()
    return {"evalue": dict(q.evalue), "shrinkage": q.shrinkage.copy(), "uprating": q.uprating.copy(),
            "deflator": dict(q.uprating.attrs.get("deflator", {})), "discounting": q.discounting.copy(),
            "time_and_money": {"discount_rate": tm.discount_rate, "sensitivity_rates": list(tm.sensitivity_rates),
                               "target_price_year": tm.target_price_year, "tail": tm.tail,
                               "tail_criterion": tm.tail_criterion},
            "tail_comparison": tails, "tail_choice": dict(q.tail_choice) or None,
            "tail_sensitivity": None if q.tail_sensitivity is None else q.tail_sensitivity.copy(),
            "psa": psa, "psa_curves": curves}


def analyse(frame: pd.DataFrame, costing: CostingParameters, instrument: Instrument, agreements: pd.DataFrame | None,
            hazards: FittedHazards | None = None,
            generating: Callable[[list[str], list[str]], HazardModel] | None = None,
            header: pd.DataFrame | None = None, seed: int = 0, n_jobs: Workers = 1) -> CostingResult:
    """Question 3 end to end on the analysis frame: hazards are question 2's saved FittedHazards when
    given (else fitted here with question 2's covariate rule)."""
    spec = hazards.spec if hazards is not None else choose_spec(follow_up(frame), instrument)
    q3 = CareCosting(costing, instrument, seed=seed, n_jobs=n_jobs).fit(
        frame, agreements, hazards=hazards, generating=generating, spec=spec, header=header)
    return summarise(q3)


__all__ = ["CostingResult", "Simulation", "analyse", "summarise"]
