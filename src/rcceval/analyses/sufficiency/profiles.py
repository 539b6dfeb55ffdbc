"""Question 5: needs audit and sufficiency gap analysis: where a region's needs outrun its provision.

This module builds the child-level tables the analyses share (`prepare`); the analyses live in
three rooms (and the figures, drawn from published tables, in `sufficiency_plots`):

- `sufficiency_needs`    the needs audit (children by need profile, council and age, now and over
                         the years) and needs over time (level of need by age, its change between
                         reviews of the same children, and whether needs fall after a stable placement);
- `sufficiency_gap`      the provision map (register places by type, capability and location), the
                         gap (children of each need profile and council against the places able to
                         meet them, at four reaches) and "as local as possible, as specialist as
                         necessary" (the share of children placed in the nearest placement that meets
                         their needs);
- `sufficiency_forecast` demand by need profile 1-3 years ahead (entry rates x survival in care),
                         with intervals, back-tested on earlier years.

Definitions used throughout (the notebook states them too):

- **Need profile**: the need tier of the instrument's bands (straightforward, complex or
  co-occurring, extensive and enduring) from the needs in force on a date: the child's latest
  assessment on or before it within the look-back (`analysis.lookback_days`). A child with no
  assessment in force is `not_assessed` (counted, never imputed).
- **Level of need**: the mean intensity (0-3) over the instrument's domains rated in an assessment.
- **Children looked after on a date**: children with a placement (of derive.py) that started on or
  before the date and had not ended by it (the end date is exclusive, as in the DfE counts).
- **Entry**: the start of a period of care (its first placement); the collection year of a date is
  the year ending 31 March that holds it.
- **Area**: the council responsible for the child (the 903 LA); the child's home is the postcode
  sector of HOME_POST of the placement in force.
Child-level tables never leave the analyses: every count is published through disclosure control.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rcceval.derive.frame import age_band, whole_years
from rcceval.derive.needs import intensity_cols, needs_at, needs_wide, tiers
from rcceval.spec.codes import DAYS_PER_YEAR
from rcceval.spec.datasets import NEED_TIERS
from rcceval.spec.instruments import Instrument

KEY = ["LA", "CHILD"]
NOT_ASSESSED = "not_assessed"
UNKNOWN_AGE = "unknown"
PROFILES: tuple[str, ...] = (*NEED_TIERS, NOT_ASSESSED)
PROFILE_LABELS = {"straightforward": "Straightforward", "complex_chronic": "Complex or co-occurring",
                  "extensive_enduring": "Extensive and enduring", NOT_ASSESSED: "Not assessed"}


class MissingInputError(ValueError):
    """An input the needs audit and gap analysis cannot do without is absent."""


REQUIRED = ("needs_assessments", "provider_register")


def require_inputs(region) -> None:
    """Stop with a clear message when the needs assessments or the provider register are absent (the
    postcode lookup is optional: without it distances are unknown and the children are reported as such)."""
    missing = [name for name in REQUIRED if region.tables.get(name) is None or region.tables[name].empty]
    if missing:
        raise MissingInputError(f"the needs audit and gap analysis need {' and '.join(missing)} "
                                "(see data/README.md); not found in the data folder")


def collection_year(dates: pd.Series) -> pd.Series:
    """The year ending 31 March holding each date (1 April 2024 - 31 March 2025 is 2025)."""
    after_march = dates.dt.month > 3
    return (dates.dt.year + after_march.astype(int)).astype("Int64")


def need_level(frame: pd.DataFrame, instrument: Instrument) -> pd.Series:
    """Mean intensity over the domains rated (0-3); missing when no domain is rated."""
    return frame[intensity_cols(instrument)].mean(axis=1, skipna=True).rename("LEVEL")


def profiles(frame: pd.DataFrame, instrument: Instrument) -> pd.Series:
    """Need profile of rows carrying needs columns: the tier, or not_assessed with no needs in force."""
    return tiers(frame, instrument).fillna(NOT_ASSESSED).rename("PROFILE")


def in_care_on(placements: pd.DataFrame, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """One row per date and child looked after on it, with the placement in force (end date exclusive)."""
    rows = []
    for day in dates:
        day = pd.Timestamp(day)
        on = placements.loc[(placements["START"] <= day) & (placements["END"].isna() | (placements["END"] > day))]
        on = on.sort_values("START", kind="stable").drop_duplicates(KEY, keep="last")
        rows.append(on.assign(DATE=day))
    if not rows:
        return placements.iloc[:0].assign(DATE=pd.Series(dtype="datetime64[ns]"))
    out = pd.concat(rows, ignore_index=True)
    out["DATE"] = out["DATE"].astype("datetime64[ns]")
    return out


def census(placements: pd.DataFrame, header: pd.DataFrame, wide: pd.DataFrame, instrument: Instrument,
           dates: list[pd.Timestamp], lookback_days: int) -> pd.DataFrame:
    """Children looked after on each date with their needs in force and need profile.

    One row per DATE, LA and CHILD: YEAR (collection year of the date), PERIOD_NO, the placement in
    force (START, PLACE, PLACE_GROUP, URN, HOME_POST, PL_POST), AGE (whole years) and AGE_BAND
    ("unknown" when the date of birth is missing or the age is outside 0-17),
    the needs columns (I_, F_, S_), LEVEL and PROFILE. Child-level: for analyses only.
    """
    cols = KEY + ["PERIOD_NO", "START", "PLACE", "PLACE_GROUP", "PLACE_PROVIDER", "URN", "HOME_POST", "PL_POST"]
    on = in_care_on(placements[cols + ["END"]], dates).drop(columns="END")
    on = on.merge(header[KEY + ["DOB"]].drop_duplicates(KEY, keep="last"), on=KEY, how="left")
    on["AGE"] = whole_years(on["DOB"], on["DATE"])
    on["AGE_BAND"] = age_band(on["AGE"]).fillna(UNKNOWN_AGE)
    on["YEAR"] = collection_year(on["DATE"])
    out = needs_at(on.drop(columns="DOB"), "DATE", wide, lookback_days)
    out["LEVEL"] = need_level(out, instrument)
    out["PROFILE"] = profiles(out, instrument)
    return out


def period_entries(placements: pd.DataFrame, wide: pd.DataFrame, instrument: Instrument,
                   lookback_days: int) -> pd.DataFrame:
    """One row per period of care started (its first placement): LA, CHILD, PERIOD_NO, START, YEAR and
    the need profile at entry (needs in force at the start)."""
    first = placements.loc[placements["PLACEMENT_IN_PERIOD"].eq(1), KEY + ["PERIOD_NO", "START"]]
    first = first.reset_index(drop=True)
    first["YEAR"] = collection_year(first["START"])
    out = needs_at(first, "START", wide, lookback_days)
    out["PROFILE"] = profiles(out, instrument)
    return out[KEY + ["PERIOD_NO", "START", "YEAR", "PROFILE"]]


def assessments_with_age(wide: pd.DataFrame, header: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Every assessment with the child's AGE_EXACT (years, fractional) at it and its LEVEL."""
    out = wide.merge(header[KEY + ["DOB"]].drop_duplicates(KEY, keep="last"), on=KEY, how="inner")
    out["AGE_EXACT"] = (out["ASSESSMENT_DATE"] - out["DOB"]).dt.days / DAYS_PER_YEAR
    out["LEVEL"] = need_level(out, instrument)
    return out.drop(columns="DOB")


@dataclass
class SufficiencyData:
    """The child-level tables question 5 works from (built once by `prepare`; never published).

    census: children looked after on 31 March of each year and on `now`; entries: periods of care
    started; assessments: every assessment with age and level; placements: the 903 placements;
    header: LA, CHILD and DOB;
    years: the collection years with a 31 March census; now: the date of the gap analysis.
    """

    census: pd.DataFrame
    entries: pd.DataFrame
    assessments: pd.DataFrame
    wide: pd.DataFrame
    placements: pd.DataFrame
    header: pd.DataFrame
    years: list[int]
    now: pd.Timestamp
    councils: list[str]

    @property
    def current(self) -> pd.DataFrame:
        """The census on `now`."""
        return self.census.loc[self.census["DATE"].eq(self.now)].reset_index(drop=True)

    @property
    def yearly(self) -> pd.DataFrame:
        """The 31 March censuses (one per collection year)."""
        return self.census.loc[self.census["DATE"].dt.strftime("%m-%d").eq("03-31")].reset_index(drop=True)


def prepare(region, placements: pd.DataFrame, instrument: Instrument, now: pd.Timestamp,
            lookback_days: int) -> SufficiencyData:
    """Everything question 5 needs from validated data (region: CleanRegion) and derived placements."""
    c903 = region.c903
    assessments = region.tables.get("needs_assessments")
    if assessments is not None and len(assessments):
        wide = needs_wide(assessments, instrument)
    else:
        cols = [f"{p}_{d}" for p in "IFS" for d in instrument.domain_ids]
        wide = pd.DataFrame(columns=KEY + ["ASSESSMENT_DATE"] + cols)
        wide["ASSESSMENT_DATE"] = wide["ASSESSMENT_DATE"].astype("datetime64[ns]")
    now = pd.Timestamp(now)
    years = sorted(int(y) for y in c903.episodes["YEAR"].dropna().unique())
    dates = [pd.Timestamp(y, 3, 31) for y in years if pd.Timestamp(y, 3, 31) <= now]
    if now not in dates:
        dates.append(now)
    cen = census(placements, c903.header, wide, instrument, dates, lookback_days)
    ent = period_entries(placements, wide, instrument, lookback_days)
    ages = assessments_with_age(wide, c903.header, instrument)
    councils = sorted(c903.header["LA"].unique())
    census_years = [d.year for d in dates if d.strftime("%m-%d") == "03-31"]
    return SufficiencyData(cen, ent, ages, wide, placements, c903.header[KEY + ["DOB"]], census_years, now, councils)
