"""Question 3 on the 903 alone: what care costs per child-year by placement type under unit costs,
and what the moves between placements add (their process cost).

Every council has its 903 returns and its unit costs; few have needs assessments. The needs-led
side of question 3 needs them, the unit-cost side does not: each placement's days in the analysis
window (from its start to its end or the extract date) are priced at its cost group's weekly unit
cost (costing.yaml), and every placement that ended in a move (an unplanned ending or a planned
change; leaving care is not a move) costs the process cost of finding and making the next
placement. Moves per child-year have an exact Poisson interval (Garwood); the unit costs are the
stated central figures (their ranges drive the needs-led Monte Carlo, not this table).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rcceval.analyses.costing.params import COST_GROUPS, CostingParameters
from rcceval.analyses.costing.static import cost_group, unit_weekly
from rcceval.reporting.results import Count, Estimate, Result, Table
from rcceval.spec import codes
from rcceval.spec.codes import DAYS_PER_YEAR

MOVE_ENDINGS = (codes.UNPLANNED, codes.PLANNED)
WEEKS_PER_YEAR = DAYS_PER_YEAR / 7
ALL = "All"


def poisson_interval(events: np.ndarray, exposure: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson rate events / exposure."""
    k = np.asarray(events, dtype=float)
    a = 1 - level
    lo = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(1 - a / 2, 2 * (k + 1)) / 2
    e = np.asarray(exposure, dtype=float)
    return lo / e, hi / e


def unit_cost_by_type(frame: pd.DataFrame, cp: CostingParameters, level: float = 0.95) -> pd.DataFrame:
    """One row per cost group with placements (and "All"): placements, child_years in the window,
    unit_per_week, placement_cost_per_child_year, moves, moves_per_child_year (with an exact
    interval), process_cost_per_child_year (moves per child-year x the process cost),
    cost_per_child_year (the two together) and spend (child-years x cost per child-year).

    frame: the analysis frame (PLACE, PLACE_PROVIDER, DURATION_DAYS, ENDING); placements with no
    follow-up (0 days) are left out, as in question 2."""
    f = frame.loc[frame["DURATION_DAYS"].to_numpy() > 0]
    group = cost_group(f["PLACE"], f["PLACE_PROVIDER"])
    central = cp.central()
    years = f["DURATION_DAYS"].to_numpy(dtype=float) / DAYS_PER_YEAR
    moved = f["ENDING"].isin(MOVE_ENDINGS).to_numpy()
    weekly = unit_weekly(group, central)
    rows = pd.DataFrame({"group": group.to_numpy(), "placements": 1, "child_years": years, "moves": moved,
                         "spend_placements": years * WEEKS_PER_YEAR * weekly})
    g = rows.groupby("group", sort=False).sum()
    g = g.reindex([c for c in COST_GROUPS if c in g.index])
    g.loc[ALL] = g.sum()
    out = pd.DataFrame(index=pd.Index(g.index, name="cost_group"))
    out["placements"] = g["placements"].astype(int)
    out["child_years"] = g["child_years"]
    out["unit_per_week"] = [central[f"unit.{k}"] if k != ALL else np.nan for k in g.index]
    out["placement_cost_per_child_year"] = g["spend_placements"] / g["child_years"]
    out["moves"] = g["moves"].astype(int)
    out["moves_per_child_year"] = g["moves"] / g["child_years"]
    lo, hi = poisson_interval(g["moves"].to_numpy(), g["child_years"].to_numpy(), level)
    out["moves_per_child_year_lower"], out["moves_per_child_year_upper"] = lo, hi
    out["process_cost_per_child_year"] = out["moves_per_child_year"] * cp.process_cost.value
    out["cost_per_child_year"] = out["placement_cost_per_child_year"] + out["process_cost_per_child_year"]
    out["spend"] = g["spend_placements"] + g["moves"] * cp.process_cost.value
    return out.reset_index()


@dataclass(frozen=True, eq=False)
class UnitCostResult(Result):
    """Aggregates of question 3's unit-cost side (no child-level rows)."""

    level: float
    price_year: int | str
    process_cost: float
    sources: pd.DataFrame          # the unit costs and the process cost: value, range, price year, source
    by_type: pd.DataFrame          # unit_cost_by_type

    def tables(self) -> dict[str, Table]:
        t = self.by_type.round({"child_years": 1, "placement_cost_per_child_year": 0, "moves_per_child_year": 4,
                                "moves_per_child_year_lower": 4, "moves_per_child_year_upper": 4,
                                "process_cost_per_child_year": 0, "cost_per_child_year": 0, "spend": 0})
        rates = [c for c in t.columns if c not in ("cost_group", "placements", "moves", "unit_per_week")]
        return {"unit_cost_figures": Table(self.sources.set_index("figure"), kind="model"),
                "unit_cost_by_type": Table(t, counts=("placements", "moves"),
                                           percent_of={c: "placements" for c in rates}, totals_shown=True)}

    def headlines(self) -> dict[str, Any]:
        a = self.by_type.set_index("cost_group").loc[ALL]
        return {"price_year": self.price_year, "process_cost_per_move": self.process_cost,
                "placements_costed": Count(int(a["placements"])), "moves": Count(int(a["moves"])),
                "moves_per_child_year": Estimate(float(a["moves_per_child_year"]), float(a["moves_per_child_year_lower"]),
                                                 float(a["moves_per_child_year_upper"]), self.level),
                "unit_cost_per_child_year": round(float(a["cost_per_child_year"]), 0),
                "process_cost_per_child_year": round(float(a["process_cost_per_child_year"]), 0),
                "process_cost_share": round(float(a["process_cost_per_child_year"] / a["cost_per_child_year"]), 4)}


def analyse_unit_costs(frame: pd.DataFrame, cp: CostingParameters, level: float = 0.95) -> UnitCostResult:
    """The unit-cost side of question 3 from the 903 alone."""
    src = cp.sources_table()
    src = src.loc[src["figure"].str.startswith("unit.") | src["figure"].eq("process_cost")].reset_index(drop=True)
    return UnitCostResult(level=level, price_year=cp.price_year, process_cost=float(cp.process_cost.value),
                          sources=src, by_type=unit_cost_by_type(frame, cp, level))


__all__ = ["UnitCostResult", "analyse_unit_costs", "poisson_interval", "unit_cost_by_type"]
