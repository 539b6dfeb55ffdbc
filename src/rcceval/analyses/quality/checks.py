"""Data-quality summaries for the 00_data_quality report: what was read, fixed and covered.

All functions return aggregates (counts by council, year, category); the report publishes them
through disclosure control.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rcceval.derive.placements import stability_measures, year_bounds
from rcceval.ingest.validate import Clean903, ValidationReport
from rcceval.spec import codes

# Published national figures (DfE, Children looked after in England) shown beside a region's own.
NATIONAL_STABILITY = {
    2023: {"pct_3plus_year": 11.0, "pct_3plus_two_years": 22.0, "pct_long_term_stable": 68.0},
    2024: {"pct_3plus_year": 11.0, "pct_3plus_two_years": 23.0, "pct_long_term_stable": 68.0},
    2025: {"pct_3plus_year": 10.0, "pct_3plus_two_years": 23.0, "pct_long_term_stable": 69.0},
}
NATIONAL_SOURCE = ("DfE, Children looked after in England including adoptions (placement stability, "
                   "England), years ending 31 March 2023-2025")


def problems_by_rule(report: ValidationReport) -> pd.DataFrame:
    """Problems counted by severity and rule, with what was done about them (no child-level detail)."""
    p = report.problems
    if p.empty:
        return pd.DataFrame(columns=["severity", "rule", "n", "fix"])
    return (p.groupby(["severity", "rule"], sort=True)
             .agg(n=("rule", "size"), fix=("fix", "first")).reset_index())


def looked_after_on(episodes: pd.DataFrame, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """One row per (date, LA, CHILD) looked after on that date (an episode spans it; DEC is exclusive)."""
    rows = []
    for day in dates:
        on = episodes.loc[(episodes["DECOM"] <= day) & (episodes["DEC"].isna() | (episodes["DEC"] > day)),
                          ["LA", "CHILD", "PLACE"]]
        rows.append(on.drop_duplicates(["LA", "CHILD"], keep="last").assign(DATE=day))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["LA", "CHILD", "PLACE", "DATE"])


def cla_by_council_year(c903: Clean903, years: list[int]) -> pd.DataFrame:
    """Children looked after on 31 March, councils by collection year (a crosstab of counts)."""
    on = looked_after_on(c903.episodes, [year_bounds(y)[1] for y in years])
    on["YEAR"] = on["DATE"].dt.year
    table = on.groupby(["LA", "YEAR"]).size().unstack("YEAR").reindex(columns=years).fillna(0).astype(int)
    table.columns.name = None
    return table


def placement_mix(c903: Clean903, year: int) -> pd.DataFrame:
    """Children looked after on 31 March by placement type group: count and percentage."""
    on = looked_after_on(c903.episodes, [year_bounds(year)[1]])
    group = on["PLACE"].map(codes.PLACE_GROUPS).fillna("temporary_other")
    counts = group.value_counts().reindex(list(codes.PLACE_GROUP_LABELS), fill_value=0)
    out = pd.DataFrame({"placement_type": [codes.PLACE_GROUP_LABELS[g] for g in counts.index],
                        "children": counts.to_numpy()})
    out["percent"] = (100 * out["children"] / max(len(on), 1)).round(1)
    return out


def stability_with_national(c903: Clean903, year: int) -> pd.DataFrame:
    """DfE stability measures by council and in total, with the national figure where published."""
    table = stability_measures(c903, year)
    national = NATIONAL_STABILITY.get(year, {})
    for measure in ("pct_3plus_year", "pct_3plus_two_years", "pct_long_term_stable"):
        table[f"england_{measure}"] = national.get(measure, np.nan)
    return table


def coverage(placements: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, needs: pd.DataFrame | None,
             requests: pd.DataFrame | None, lookback_days: int = 183) -> pd.DataFrame:
    """Placements starting in the window with a needs assessment (within the look-back before the
    start, or on the start day) and with a placement request (same child and start date), by council."""
    pl = placements.loc[(placements["START"] >= start) & (placements["START"] <= end), ["LA", "CHILD", "START"]]
    pl = pl.reset_index(drop=True)
    pl["with_assessment"] = False
    if needs is not None and len(needs):
        dates = needs[["LA", "CHILD", "ASSESSMENT_DATE"]].drop_duplicates().sort_values("ASSESSMENT_DATE")
        ordered = pl.sort_values("START").reset_index()
        hit = pd.merge_asof(ordered, dates, left_on="START", right_on="ASSESSMENT_DATE", by=["LA", "CHILD"],
                            direction="backward", tolerance=pd.Timedelta(days=lookback_days))
        pl.loc[hit["index"], "with_assessment"] = hit["ASSESSMENT_DATE"].notna().to_numpy()
    pl["with_request"] = False
    if requests is not None and len(requests):
        keys = requests[["LA", "childId", "placementDate"]].dropna().drop_duplicates()
        keys = keys.rename(columns={"childId": "CHILD", "placementDate": "START"}).assign(_r=True)
        pl["with_request"] = pl.merge(keys, on=["LA", "CHILD", "START"], how="left")["_r"].eq(True).to_numpy()
    out = pl.groupby("LA").agg(placements=("CHILD", "size"), with_assessment=("with_assessment", "sum"),
                               with_request=("with_request", "sum")).reset_index()
    total = out[["placements", "with_assessment", "with_request"]].sum()
    out = pd.concat([out, pd.DataFrame([{"LA": "ALL", **total.to_dict()}])], ignore_index=True)
    for col in ("with_assessment", "with_request"):
        out[f"pct_{col}"] = (100 * out[col] / out["placements"].where(out["placements"] > 0)).round(1)
    return out
