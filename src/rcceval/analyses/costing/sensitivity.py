"""Question 3's stated causal reading and its time and money: what the headline rests on, and how it moves.

The needs-led scenario sets mismatch and second best to 0 and applies the Cox coefficients as if they were
causal (a g-formula). This module reports, from a fitted CareCosting:
  - the E-value of the mismatch hazard ratio of an unplanned ending (VanderWeele & Ding 2017, with the
    common-outcome transform: disruption within a few years is not rare): how strongly an unmeasured
    confounder would have to be associated with both mismatch and disruption to explain it away;
  - the headline repeated with the effect of matching shrunk to a share of its estimate (the MISMATCH
    and SECOND_BEST coefficients of all three causes multiplied by the share, at point estimates and
    central costs, common random numbers): at 0% the two scenarios' journeys are the same, so it shows
    what is left when matching does nothing;
  - discounting (Green Book 3.5%, with the sensitivity rates) and every cost figure in one price year
    (the GDP deflator, costing.money), on the Monte Carlo's own journeys;
  - the tail beyond follow-up: the four parametric families against the constant-hazard tail for each
    cause (stats.tails, NICE DSU TSD 14), the choice, and the headline under every tail.
Nothing here prints; the numbers go to CostingResult and the sentences to costing.text.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rcceval.analyses.costing.hazard import CAUSES, HazardModel
from rcceval.analyses.costing.microsim import ITEM, item_prices
from rcceval.analyses.costing.money import gdp_deflator, uprate_prices
from rcceval.analyses.costing.params import CostingParameters, Figure
from rcceval.analyses.survival.data import CAUSE_CODE
from rcceval.spec import codes
from rcceval.spec.codes import DAYS_PER_YEAR
from rcceval.stats.evalue import evalue_from_log_hr, evalue_hr
from rcceval.stats.tails import FAMILIES, choose_tail, compare_tails

if TYPE_CHECKING:
    from rcceval.analyses.costing.analysis import CareCosting

INTERVENED = ("MISMATCH", "SECOND_BEST")   # the terms the needs-led scenario changes


# ---- identification: the E-value ------------------------------------------------------------------
def mismatch_evalue(hazards: HazardModel, level: float = 0.95) -> dict:
    """E-value of the unplanned-ending hazard ratio per unit of mismatch (point and confidence limit).

    With no covariance (the generating model) only the point's E-value is given (limit None)."""
    h = hazards.causes[codes.UNPLANNED]
    if "MISMATCH" not in h.names:
        return {"available": False}
    k = h.names.index("MISMATCH")
    coef = float(h.coef[k])
    if h.cov is not None and h.cov[k, k] > 0:
        ev = evalue_from_log_hr(coef, float(np.sqrt(h.cov[k, k])), level, rare_outcome=False)
    else:
        hr = float(np.exp(coef))
        ev = evalue_hr(hr, hr, hr, rare_outcome=False)
        ev = replace(ev, limit_used=None, evalue_limit=float("nan"))
    return {"available": True, "hr": ev.estimate, "lower": ev.lower if h.cov is not None else None,
            "upper": ev.upper if h.cov is not None else None, "rr": ev.rr_estimate,
            "evalue": ev.evalue_estimate, "limit_used": ev.limit_used,
            "evalue_limit": None if np.isnan(ev.evalue_limit) else ev.evalue_limit,
            "rare_outcome": ev.rare_outcome, "level": level}


# ---- the headline with the effect of matching shrunk ---------------------------------------------------
def shrunk_layouts(q: "CareCosting", share: float, hazards: HazardModel | None = None):
    """Point layouts (break_even_draws rows) with MISMATCH and SECOND_BEST of every cause times `share`."""
    hz = hazards or q.hazards
    B = q.sim.break_even_draws
    lays = []
    for c in CAUSES:
        h = hz.causes[c]
        coef = np.tile(h.coef, (B, 1))
        for name in INTERVENED:
            if name in h.names:
                coef[:, h.names.index(name)] *= share
        lays.append(q._layout(h, coef))
    return lays


def _headline(q: "CareCosting", j, prices: np.ndarray) -> dict:
    """Moves averted per 100 children and cost differences (per child, per child-year), means over draws."""
    a, b = q._metrics(j, prices, "unit_cost"), q._metrics(j, prices, "needs_led")
    return {"moves_averted_per_100": float(np.mean(100 * (a["moves"][:, -1] - b["moves"][:, -1]))),
            "unplanned_moves_averted_per_100": float(np.mean(100 * (a["unplanned_moves"][:, -1]
                                                                     - b["unplanned_moves"][:, -1]))),
            "difference_per_child": float(np.mean(b["cost_per_child"][:, -1] - a["cost_per_child"][:, -1])),
            "difference_per_child_year": float(np.mean(b["cost_per_child_year"][:, -1]
                                                       - a["cost_per_child_year"][:, -1]))}


def central_prices(cp: CostingParameters, n: int) -> np.ndarray:
    return item_prices({k: np.full(n, v) for k, v in cp.central().items()}, n)


def shrinkage(q: "CareCosting") -> pd.DataFrame:
    """The headline at each share of the mismatch (and second-best) effect (costing.yaml time_and_money)."""
    B = q.sim.break_even_draws
    p0 = central_prices(q.costing, B)
    rows = []
    for share in q.costing.time_and_money.mismatch_shrinkage:
        j = q._simulate(shrunk_layouts(q, share), q.sim.capacity, 1.0)
        rows.append({"share": float(share), **_headline(q, j, p0)})
    return pd.DataFrame(rows)


# ---- one price year and discounting --------------------------------------------------------------------
def uprated_costing(cp: CostingParameters) -> tuple[CostingParameters, pd.DataFrame]:
    """costing.yaml's figures uprated to time_and_money.target_price_year (value, low and high each with
    its own price year's factor), and the table showing the uprating beside each figure."""
    tm = cp.time_and_money
    deflator = gdp_deflator(tm.deflator)
    table = uprate_prices(cp.prices, tm.target_price_year, deflator)
    up, adjusted = {}, []
    for r in table.itertuples():
        lo, hi = _pert_range(r.uprated_value, r.uprated_low, r.uprated_high)
        adjusted.append("" if (lo, hi) == (r.uprated_low, r.uprated_high) else
                        f"range moved to {lo:,.0f}-{hi:,.0f} so that the value is a PERT mean")
        up[r.figure] = Figure(r.uprated_value, lo, hi, cp.prices[r.figure].source, tm.target_price_year)
    table["range_adjusted"] = adjusted
    new = replace(cp, price_year=tm.target_price_year,
                  unit_costs={k: up[f"unit.{k}"] for k in cp.unit_costs},
                  settings={k: up[f"setting.{k}"] for k in cp.settings},
                  staffing_scale=up["staffing_scale"], hourly_staff_cost=up["hourly_staff_cost"],
                  therapeutic=tuple(up[f"therapy.{i}"] for i in range(len(cp.therapeutic))),
                  process_cost=up["process_cost"])
    table.attrs["deflator"]["path"] = deflator.path
    return new, table


def _pert_range(value: float, low: float, high: float) -> tuple[float, float]:
    """(low, high) with a bound moved, if needed, so value lies in the middle two-thirds (costing.params).

    Bounds quoted in another price year and uprated on their own can leave a central figure outside
    its range (a low end uprated by more than the value was): the bound is moved to where value sits
    at the edge of the middle two-thirds, and the uprating table says so."""
    if high <= low:
        return low, high
    if value < (5 * low + high) / 6:            # value too close to (or below) the low end
        low = (6 * value - high) / 5
    elif value > (low + 5 * high) / 6:
        high = (6 * value - low) / 5
    return float(low), float(high)


def _interval(x: np.ndarray, alpha: float) -> tuple[float, float, float]:
    return float(np.mean(x)), float(np.quantile(x, alpha / 2)), float(np.quantile(x, 1 - alpha / 2))


def discounting(q: "CareCosting", prices: np.ndarray) -> pd.DataFrame:
    """Cost per child over the horizon in each scenario and the difference, undiscounted and at every
    rate, priced with `prices` (draws, items: the uprated draws), intervals over the Monte Carlo draws."""
    j = q.journeys
    n = j.by_profile["unit_cost"][:, :, ITEM["children"]].sum(axis=1)
    rows = []
    stacks = [("undiscounted", None)] + [(f"{100 * r:g}%", i) for i, r in enumerate(j.discount_rates)]
    for label, i in stacks:
        cost = {}
        for s in j.scenarios:
            exp_ = j.by_profile[s] if i is None else j.discounted[s][i]
            cost[s] = np.einsum("dpi,di->d", exp_, prices) / n
        diff = cost["needs_led"] - cost["unit_cost"]
        row = {"discounting": label, "rate": None if i is None else float(j.discount_rates[i])}
        for name, x in (("unit_cost", cost["unit_cost"]), ("needs_led", cost["needs_led"]), ("difference", diff)):
            m, lo, hi = _interval(x, q.alpha)
            row.update({f"{name}_per_child": m, f"{name}_per_child_lower": lo, f"{name}_per_child_upper": hi})
        rows.append(row)
    return pd.DataFrame(rows)


# ---- the tail beyond follow-up ----------------------------------------------------------------------
def tail_comparison(q: "CareCosting", time: np.ndarray, cause: np.ndarray) -> tuple[dict, dict]:
    """compare_tails for each cause on the model's placements (the other causes censored).

    time: days of each placement of the hazard model; cause: its ending code (survival.data CAUSE_CODE).
    Returns ({cause: table}, {cause: {family: TailFit}})."""
    sim = q.sim
    tables, fits = {}, {}
    for c in CAUSES:
        t, f = compare_tails(time, cause == CAUSE_CODE[c], sim.extrapolation_days, sim.horizon_years * DAYS_PER_YEAR)
        tables[c], fits[c] = t, f
    return tables, fits


def tail_choice(cp: CostingParameters, tables: dict) -> dict[str, str]:
    """The tail of each cause: costing.yaml's named family, or (auto) the plausible one with the lowest
    criterion (the constant tail when none of the parametric tails is plausible)."""
    tm = cp.time_and_money
    if tm.tail != "auto":
        return {c: tm.tail for c in tables}
    return {c: choose_tail(t, tm.tail_criterion) for c, t in tables.items()}


def with_tails(hz: HazardModel, fits: dict, families: dict[str, str]) -> HazardModel:
    """The hazards with each cause's tail beyond its last baseline time set to the family named."""
    causes = {c: replace(h, tail=None if families[c] == "constant_tail" else fits[c][families[c]])
              for c, h in hz.causes.items()}
    return HazardModel(hz.source, causes, list(hz.notes))


def tail_sensitivity(q: "CareCosting", fits: dict, choice: dict[str, str]) -> pd.DataFrame:
    """The headline (point estimates, central costs, common random numbers) with every cause's tail the
    constant tail, each parametric family in turn, and the chosen tails."""
    B = q.sim.break_even_draws
    p0 = central_prices(q.costing, B)
    rows = []
    options = [("constant_tail", {c: "constant_tail" for c in CAUSES})]
    options += [(f, {c: f for c in CAUSES}) for f in FAMILIES]
    options += [("chosen", choice)]
    for label, fam in options:
        hz = with_tails(q.hazards, fits, fam)
        j = q._simulate(shrunk_layouts(q, 1.0, hz), q.sim.capacity, 1.0, hazards=hz)
        rows.append({"tail": label, "families": ", ".join(f"{c}: {f}" for c, f in fam.items()),
                     **_headline(q, j, p0)})
    return pd.DataFrame(rows)
