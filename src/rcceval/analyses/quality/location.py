"""Where new placements are, as the DfE publishes it, and what the co-operatives asked for besides.

The DfE's "location of new placements during the year" splits a year's new placements into
distance not known, inside the council under / at least 20 miles from home, and outside the
council under / at least 20 miles. Regional co-operatives also need the share placed outside the
region, which the DfE does not publish. Both are built from derive.placements.distance_measures
(straight-line miles between the ONS postcode positions of HOME_POST and PL_POST), counting a
placement whose distance or placing council is unknown as "distance not known", as the DfE does.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources

import pandas as pd

from rcceval.derive.placements import distance_measures, year_bounds
from rcceval.reporting.results import Share

DFE_CATEGORIES = {
    "distance_not_known": "Distance not known",
    "inside_under_20": "Inside the council, under 20 miles",
    "inside_20_plus": "Inside the council, 20 miles or more",
    "outside_under_20": "Outside the council, under 20 miles",
    "outside_20_plus": "Outside the council, 20 miles or more",
}
REGION_CATEGORIES = {
    "region_not_known": "Not known",
    "inside_region": "Inside the region",
    "outside_region": "Outside the region",
}
PUBLISHED_SOURCE = ("DfE, Children looked after in England including adoptions: location of new placements "
                    "during the year (England and South East), years ending 31 March 2021-2025")


@cache
def published_location() -> pd.DataFrame:
    """The DfE's published percentages (England, South East) by year, kept as sourced data."""
    with resources.files("rcceval.spec").joinpath("new_placement_location.csv").open() as f:
        return pd.read_csv(f, comment="#")


def new_placements(placements: pd.DataFrame, year: int) -> pd.DataFrame:
    """Placements starting in the collection year ending 31 March `year`."""
    start, end = year_bounds(year)
    return placements.loc[(placements["START"] >= start) & (placements["START"] <= end)]


def _crosstab(la: pd.Series, category: pd.Series, labels: dict[str, str]) -> pd.DataFrame:
    table = pd.crosstab(la, category).reindex(columns=list(labels), fill_value=0)
    table.columns = [labels[c] for c in table.columns]
    table.index.name = None
    table.columns.name = None
    return table.astype(int)    # the publisher adds the margins (Total row and column)


def location_tables(placements: pd.DataFrame, year: int,
                    region: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """New placements of `year` by council: the DfE's five location categories, and inside / outside
    the region (`region`: the councils of the data, by default those in `placements`). Two crosstabs
    (councils x categories; the publisher adds their margins, whose Total columns are the same counts)."""
    new = new_placements(placements, year)
    m = distance_measures(new, region=region)
    known = m["DISTANCE_MILES"].notna() & m["PLACED_OUTSIDE_COUNCIL"].notna()
    outside = m["PLACED_OUTSIDE_COUNCIL"].fillna(False).astype(bool)
    far = m["OVER_20_MILES"].fillna(False).astype(bool)
    dfe = pd.Series("distance_not_known", index=new.index)
    dfe[known & ~outside & ~far] = "inside_under_20"
    dfe[known & ~outside & far] = "inside_20_plus"
    dfe[known & outside & ~far] = "outside_under_20"
    dfe[known & outside & far] = "outside_20_plus"
    reg = pd.Series("region_not_known", index=new.index)
    known_region = m["PLACED_OUTSIDE_REGION"].notna()
    out_region = m["PLACED_OUTSIDE_REGION"].fillna(False).astype(bool)
    reg[known_region & ~out_region] = "inside_region"
    reg[known_region & out_region] = "outside_region"
    la = new["LA"].astype(str)
    return _crosstab(la, dfe, DFE_CATEGORIES), _crosstab(la, reg, REGION_CATEGORIES)


def published_for(year: int) -> pd.DataFrame:
    """The DfE's percentages for `year` (or the latest year published before it), in the region's
    table's column names: one row each for England and the South East."""
    pub = published_location()
    years = pub["year"][pub["year"] <= year]
    use = int(years.max()) if len(years) else int(pub["year"].min())
    rows = pub[pub["year"] == use].set_index("area")[list(DFE_CATEGORIES)]
    rows.columns = [DFE_CATEGORIES[c] for c in rows.columns]
    rows.index.name = None
    return rows.assign(year=use)


def location_shares(where: pd.DataFrame, region: pd.DataFrame) -> dict[str, Share]:
    """Of new placements with a known location, the shares placed outside the council (the DfE's
    measure) and outside the region (the co-operatives' own), from the two crosstabs' Total rows."""
    loc, reg = where.sum(), region.sum()
    outside = int(loc[DFE_CATEGORIES["outside_under_20"]] + loc[DFE_CATEGORIES["outside_20_plus"]])
    known = int(loc.sum() - loc[DFE_CATEGORIES["distance_not_known"]])
    region_known = int(reg.sum() - reg[REGION_CATEGORIES["region_not_known"]])
    return {"pct_new_placements_outside_council": Share(outside, known),
            "pct_new_placements_outside_region": Share(int(reg[REGION_CATEGORIES["outside_region"]]), region_known)}
