"""Question 4 on the 903 alone: how big a dataset must be, from the 903's own event rates.

Without needs assessments the spread of a need domain is unknown, so the power is stated per standard
deviation of the field proposed (σ = 1), for a field uncorrelated with what the 903 holds (ρ² = 0; a
correlation ρ² makes the minimum detectable log HR larger by 1/√(1−ρ²)). What the 903 does give is
the number of unplanned endings a dataset collecting 1 to 5 years would hold, by council, pooled, and
for England (the data scaled by the children looked after: DfE 2024, 83,630). The formulas are
question 4's (power.py: Hsieh–Lavori / Schoenfeld).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rcceval.analyses.proposal import power as pw
from rcceval.reporting.results import Count, Result, Table

HRS = (1.1, 1.2, 1.3)


def power_from_events(events: pd.DataFrame, scale: float, target: float = 0.8, alpha: float = 0.05,
                      hrs: tuple[float, ...] = HRS) -> pd.DataFrame:
    """events_by_years' table plus England's rows (region × scale), with the minimum detectable HR per
    standard deviation at `target` power and the power at each HR in `hrs`."""
    region = events[events["level"] == "region"]
    england = region.assign(unit="England (scaled)", level="national",
                            placements=np.round(region["placements"] * scale).astype(int),
                            events=np.round(region["events"] * scale).astype(int))
    out = pd.concat([events, england], ignore_index=True)
    d = out["events"].to_numpy(float)
    out["mdhr_per_sd"] = np.exp(pw.min_detectable_log_hr(1.0, d, target, alpha))
    for hr in hrs:
        out[f"power_hr_{hr}"] = pw.analytic_power(np.log(hr), 1.0, d, alpha)
    return out


@dataclass(frozen=True, eq=False)
class Power903Result(Result):
    """Power and the minimum detectable HR per standard deviation from the 903's unplanned endings."""

    table: pd.DataFrame      # unit, level, years, placements, events, mdhr_per_sd, power_hr_*
    target: float
    alpha: float
    scale: float
    looked_after: int

    def tables(self) -> dict[str, Table]:
        value_cols = [c for c in self.table.columns if c.startswith(("mdhr", "power_"))]
        councils = self.table[self.table["level"] == "council"]
        pooled = self.table[self.table["level"] != "council"]
        return {"power_903_by_council": Table(councils.round(3), counts=("placements", "events"),
                                              percent_of={c: "events" for c in value_cols}),
                "power_903_pooled": Table(pooled.round(3), kind="model", counts=("placements", "events"),
                                          percent_of={c: "events" for c in value_cols})}

    def headlines(self) -> dict[str, Any]:
        t = self.table
        by = {u: {f"{int(r.years)} years": round(float(r.mdhr_per_sd), 3) for r in g.itertuples()}
              for u, g in t[t["level"] != "council"].groupby("unit", sort=False)}
        region1 = t[(t["level"] == "region") & (t["years"] == 1)]
        return {f"mdhr_per_sd_{self.target:.0%}_power_903": by,
                "unplanned_endings_region_1_year": Count(int(region1["events"].iloc[0])) if len(region1) else None,
                "looked_after_on_extract": Count(self.looked_after),
                "national_scale": round(self.scale, 3)}


def power_903(start: pd.Series, unplanned: np.ndarray, council: pd.Series, end: pd.Timestamp, looked_after: int,
              target: float = 0.8, alpha: float = 0.05) -> Power903Result:
    """Power903Result from every placement's start, unplanned ending (by `end`) and council."""
    events = pw.events_by_years(start, unplanned, council, end)
    scale = pw.national_scale(looked_after)
    return Power903Result(power_from_events(events, scale, target, alpha), target, alpha, scale, int(looked_after))


def power_903_text(shown: dict, target: float, reference_hr: float = 1.2) -> str:
    """The paragraph under the 903-only power table, every comparison read from the numbers."""
    head = shown.get(f"mdhr_per_sd_{target:.0%}_power_903", {})
    region, england = head.get("Region (pooled)", {}), head.get("England (scaled)", {})
    if not region:
        return "No placement in the data: no power can be computed."
    nan = float("nan")
    years = sorted(int(k.split()[0]) for k in region)
    reach = [k for k in years if region.get(f"{k} years", nan) <= reference_hr]
    pooled = (f"the pooled data reach HR {reference_hr:g} per standard deviation with {reach[0]} year"
              f"{'s' if reach[0] > 1 else ''}" if reach else
              f"the pooled data do not reach HR {reference_hr:g} per standard deviation within {years[-1]} years")
    return (f"From the 903's own unplanned endings, a proposed field would have to carry a hazard ratio of at "
            f"least **{region.get('1 years', nan):.2f} per standard deviation** to be detected with "
            f"{target:.0%} power in one year of the pooled data ({region.get(f'{years[-1]} years', nan):.2f} with "
            f"{years[-1]} years); England's data would detect {england.get('1 years', nan):.2f} in one year. For "
            f"one field tested alone (α as given; several fields call for a multiplicity correction, as section 2b "
            f"applies), {pooled}. A single council's figures are in the table by council.")
