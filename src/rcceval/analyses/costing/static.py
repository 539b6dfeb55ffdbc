"""Question 3, the static comparison: what a week of care costs a child under each method.

Unit-cost commissioning prices a placement by its type group (one weekly rate, costing.yaml
unit_costs); needs-led costing builds the week up from the child's needs: the setting their needs
require (the first setting rule that holds), the extra staffing hours their intensity x frequency
of need demand in each domain, priced at the hourly staff cost, and therapeutic input by their
highest intensity. Comparing the two per placement shows who unit costs under- and over-fund, and
by how much; where actual weekly fees are recorded (placement_agreements) unit costs are compared
with them too. Everything here is vectorised over placements.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rcceval.analyses.costing.params import COST_GROUPS, SETTINGS, CostingParameters

FOSTER_PLACE = frozenset({"U4", "U5", "U6", "Q2"})
KINSHIP_PLACE = frozenset({"U1", "U2", "U3", "Q1"})
PLACE_COST_GROUP = {
    **{c: "kinship_foster" for c in KINSHIP_PLACE},
    "K2": "childrens_home", "R1": "childrens_home", "K1": "secure",
    "H5": "supported_accommodation", "P2": "supported_accommodation",
    **{c: "other_residential" for c in ("R2", "R3", "R5", "S1")},
    "P1": "with_parents", **{c: "adoption" for c in ("A3", "A4", "A5", "A6")},
}
INDEPENDENT_PROVIDERS = frozenset({"PR4", "PR5"})   # private, voluntary: an independent fostering agency
UNDER_OVER_TOLERANCE = 0.10                         # within +/-10% of the needs-led cost counts as "about right"


def cost_group(place: pd.Series, provider: pd.Series) -> pd.Series:
    """Unit cost group of each placement from 903 PLACE and PLACE_PROVIDER.

    Foster placements (U4-U6, Q2) with a private or voluntary provider (PR4, PR5) are independent
    fostering agency placements, with any other provider (PR1, PR2: councils) in-house; PLACE codes
    not listed (T0-T4, Z1, P3, unknown) are temporary_other."""
    place = place.astype(str)
    out = place.map(PLACE_COST_GROUP).fillna("temporary_other")
    foster = place.isin(FOSTER_PLACE)
    ifa = provider.astype(str).isin(INDEPENDENT_PROVIDERS)
    out[foster & ifa] = "ifa_foster"
    out[foster & ~ifa] = "in_house_foster"
    return out.astype(str)


def unit_weekly(groups: pd.Series | np.ndarray, prices: dict[str, float]) -> np.ndarray:
    """Weekly unit cost of each placement's group (prices: unit.<group> -> value)."""
    g = np.asarray(groups, dtype=object)
    table = {k: prices[f"unit.{k}"] for k in COST_GROUPS}
    return pd.Series(g, dtype=object).map(table).to_numpy(dtype=float)


def needs_components(intensity: np.ndarray, frequency: np.ndarray, cp: CostingParameters) -> pd.DataFrame:
    """What a child's needs require: setting (index into SETTINGS, by the first rule that holds),
    staffing hours a week (hours table at scale 1, summed over domains) and peak intensity (0-3).
    intensity, frequency: (n, domains) whole numbers 0-3 (no missing values)."""
    i = np.asarray(intensity, dtype=np.int64)
    f = np.asarray(frequency, dtype=np.int64)
    setting = np.full(len(i), -1, dtype=np.int64)
    for rule in cp.setting_rules:
        holds = ((i >= rule.min_intensity) & (f >= rule.min_frequency)).sum(axis=1) >= rule.min_domains
        setting = np.where((setting < 0) & holds, SETTINGS.index(rule.setting), setting)
    hours = cp.staffing_hours[i, f].sum(axis=1)
    return pd.DataFrame({"setting": setting, "hours": hours, "peak": i.max(axis=1) if i.shape[1] else 0})


def needs_led_weekly(components: pd.DataFrame, prices: dict[str, float]) -> np.ndarray:
    """Needs-led weekly cost: setting + staffing_scale x hours x hourly_staff_cost + therapy[peak]."""
    setting_price = np.array([prices[f"setting.{s}"] for s in SETTINGS])
    therapy = np.array([prices[f"therapy.{k}"] for k in range(4)])
    c = components
    return (setting_price[c["setting"].to_numpy()] + prices["staffing_scale"] * prices["hourly_staff_cost"]
            * c["hours"].to_numpy(float) + therapy[c["peak"].to_numpy()])


def _quantile_summary(values: pd.Series, by: pd.Series, prefix: str) -> pd.DataFrame:
    g = values.groupby(by, observed=True, sort=True)
    out = pd.DataFrame({f"{prefix}_mean": g.mean(), f"{prefix}_p10": g.quantile(0.10), f"{prefix}_p25": g.quantile(0.25),
                        f"{prefix}_median": g.median(), f"{prefix}_p75": g.quantile(0.75),
                        f"{prefix}_p90": g.quantile(0.90)})
    return out


def static_comparison(frame: pd.DataFrame, cp: CostingParameters, intensity_cols: list[str],
                      frequency_cols: list[str], profile: pd.Series, prices: dict[str, float] | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per placement with needs in force: unit and needs-led weekly cost; and the summary by profile.

    Returns (rows, summary). rows (child-level: never published): GROUP, PROFILE, WEEKS (placement
    duration in weeks), unit, needs_led, diff (needs-led minus unit: positive = unit costs
    under-fund), setting. summary by profile: placements, child-weeks, mean unit and needs-led
    cost per child-week (weighted by weeks), quantiles of the difference per placement, and the
    counts under-funded (unit cost more than 10% below the needs-led cost) and over-funded."""
    prices = cp.central() if prices is None else prices
    have = frame[intensity_cols + frequency_cols].notna().all(axis=1) & profile.reindex(frame.index).notna()
    sub = frame.loc[have]
    comp = needs_components(sub[intensity_cols].to_numpy(), sub[frequency_cols].to_numpy(), cp)
    rows = pd.DataFrame({"GROUP": cost_group(sub["PLACE"], sub["PLACE_PROVIDER"]).to_numpy(),
                         "PROFILE": profile.reindex(sub.index).astype(str).to_numpy(),
                         "WEEKS": sub["DURATION_DAYS"].to_numpy(float) / 7.0}, index=sub.index)
    rows["unit"] = unit_weekly(rows["GROUP"], prices)
    rows["needs_led"] = needs_led_weekly(comp, prices)
    rows["diff"] = rows["needs_led"] - rows["unit"]
    rows["setting"] = np.array(SETTINGS, dtype=object)[comp["setting"].to_numpy()]
    order = [str(c) for c in profile.cat.categories] if isinstance(profile.dtype, pd.CategoricalDtype) else None
    summary = summarise_static(rows, order)
    return rows, summary


def summarise_static(rows: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """The by-profile summary of static_comparison rows (plus an "All" row)."""
    allrows = pd.concat([rows, rows.assign(PROFILE="All")], ignore_index=True)
    by = allrows["PROFILE"]
    g = allrows.groupby(by, sort=True)
    w = allrows["WEEKS"]
    out = pd.DataFrame({
        "placements": g.size(),
        "child_weeks": g["WEEKS"].sum().round(0),
        "unit_per_week": (allrows["unit"] * w).groupby(by).sum() / g["WEEKS"].sum(),
        "needs_led_per_week": (allrows["needs_led"] * w).groupby(by).sum() / g["WEEKS"].sum(),
    })
    out = out.join(_quantile_summary(allrows["diff"], by, "diff"))
    tol = UNDER_OVER_TOLERANCE
    out["under_funded"] = (allrows["unit"] < (1 - tol) * allrows["needs_led"]).groupby(by).sum()
    out["over_funded"] = (allrows["unit"] > (1 + tol) * allrows["needs_led"]).groupby(by).sum()
    out.index.name = "profile"
    keys = [k for k in (order or []) if k in out.index] + [k for k in out.index if k not in (order or []) and k != "All"]
    return out.loc[keys + ["All"]].reset_index()


def fee_comparison(frame: pd.DataFrame, agreements: pd.DataFrame | None, cp: CostingParameters,
                   profile: pd.Series, prices: dict[str, float] | None = None) -> pd.DataFrame | None:
    """Unit costs against the actual weekly fees (placement_agreements, joined on LA, CHILD and START_DATE =
    placement START), by cost group and by profile: placements with a fee, mean fee, the unit cost,
    and the ratio unit cost / fee (mean, median, 10th and 90th percentiles; fees of 0 left out of the
    ratio). None when no fee is recorded."""
    if agreements is None or agreements.empty or "WEEKLY_FEE" not in agreements.columns:
        return None
    prices = cp.central() if prices is None else prices
    ag = agreements.rename(columns={"START_DATE": "START"})[["LA", "CHILD", "START", "WEEKLY_FEE"]]
    ag = ag.dropna(subset=["WEEKLY_FEE"]).drop_duplicates(["LA", "CHILD", "START"], keep="last")
    base = frame[["LA", "CHILD", "START", "PLACE", "PLACE_PROVIDER"]].assign(PROFILE=profile.reindex(frame.index)
                                                                              .astype(object).fillna("Not assessed"))
    joined = base.merge(ag, on=["LA", "CHILD", "START"], how="inner")
    if joined.empty:
        return None
    joined["GROUP"] = cost_group(joined["PLACE"], joined["PLACE_PROVIDER"]).to_numpy()
    joined["unit"] = unit_weekly(joined["GROUP"], prices)
    fee = joined["WEEKLY_FEE"].astype(float)
    joined["ratio"] = np.where(fee > 0, joined["unit"] / fee.where(fee > 0), np.nan)
    parts = []
    for col, label in (("GROUP", "cost group"), ("PROFILE", "need profile")):
        g = joined.groupby(col, sort=True)
        part = pd.DataFrame({"by": label, "placements": g.size(), "fee_zero": g["WEEKLY_FEE"].apply(lambda s: int((s <= 0).sum())),
                             "mean_fee": g["WEEKLY_FEE"].mean(), "unit_cost": g["unit"].mean(),
                             "ratio_mean": g["ratio"].mean(), "ratio_p10": g["ratio"].quantile(0.1),
                             "ratio_median": g["ratio"].median(), "ratio_p90": g["ratio"].quantile(0.9)})
        part.index.name = "level"
        parts.append(part.reset_index())
    return pd.concat(parts, ignore_index=True)[["by", "level", "placements", "fee_zero", "mean_fee", "unit_cost",
                                                 "ratio_mean", "ratio_p10", "ratio_median", "ratio_p90"]]
