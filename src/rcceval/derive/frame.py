"""The analysis frame: one row per placement started in the analysis window, with what was known
at its start (903 characteristics, needs in force, capability, mismatch, distance, SDQ, whether
the placement secured was the one preferred) and how it ended.

Questions 1 and 2 (and the costing and power work after them) read this one frame, so every
analysis sees the same placements, the same covariate definitions and the same missingness.

"Known at the start" is meant literally (no look-ahead):
- SDQ comes from the latest OC2 return whose collection year ended (31 March) before the
  placement's start. The OC2 of the year containing the start is measured up to a year later and
  exists only for children still looked after on 31 March, so using it would let a future exit
  ("SDQ missing") predict the ending.
- SECOND_BEST is 1 only where the placement request says the type secured was not preferred
  ("Suitable but not preferred" or "Unsuitable"), 0 where it was "Preferred", missing otherwise
  ("Not specified", no request, no type secured).
- Capability: the provider register has one row per URN and no dates (one snapshot: the register
  as supplied, not the version in force at each start). Homes that closed or deregistered before
  the snapshot are absent from it, so their placements fall back to the placement agreement or stay
  missing. This is a known limitation; a dated register would be needed to remove it.
- Zero-day placements (START == END, or started on the extract date) are dropped here, once, for
  every question (`window_placements`, ZERO_DAY_RULE): no question can give them time at risk
  without inventing a day, and questions 1 and 2 must analyse the same placements.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcceval.derive.needs import capability, distance_miles, mismatch, needs_at, needs_wide, tiers
from rcceval.ingest.validate import CleanRegion
from rcceval.spec import codes
from rcceval.spec.instruments import Instrument

KEY = ["LA", "CHILD"]
PDS_TYPES = {"fosterCareSuitability": "Foster", "residentialCareSuitability": "Residential",
             "supportedAccommodationSuitability": "Supported Accommodation"}


@dataclass(frozen=True)
class FrameOptions:
    start: pd.Timestamp
    end: pd.Timestamp
    lookback_days: int = 183
    far_miles: float = 20.0


def age_band(age: pd.Series) -> pd.Series:
    out = pd.Series(pd.NA, index=age.index, dtype="object")
    for label, lo, hi in codes.AGE_BANDS:
        out[(age >= lo) & (age <= hi)] = label
    return out


def whole_years(born: pd.Series, on: pd.Series) -> pd.Series:
    """Age in completed years on a date."""
    years = on.dt.year - born.dt.year
    before_birthday = (on.dt.month < born.dt.month) | ((on.dt.month == born.dt.month) & (on.dt.day < born.dt.day))
    return (years - before_birthday.astype(int)).astype("Int64")


ZERO_DAY_RULE = "dropped"  # placements of 0 days: left out of the frame for every question


def window_placements(placements: pd.DataFrame, options: FrameOptions) -> tuple[pd.DataFrame, int]:
    """The placements starting in [start, end] with at least one day of follow-up, and how many
    zero-day placements in the window were dropped (the one rule for every question; reports show
    the count)."""
    inside = (placements["START"] >= options.start) & (placements["START"] <= options.end)
    zero = inside & placements["DURATION_DAYS"].astype("int64").le(0)
    return placements.loc[inside & ~zero].reset_index(drop=True), int(zero.sum())


def zero_day_count(placements: pd.DataFrame, options: FrameOptions) -> int:
    """How many placements starting in the window were dropped as zero-day (see ZERO_DAY_RULE)."""
    return window_placements(placements, options)[1]


def sdq_at_start(frame: pd.DataFrame, oc2: pd.DataFrame) -> pd.Series:
    """SDQ band from the latest OC2 return whose collection year ended before the placement's start.

    OC2 carries no assessment date: a return for the year ending 31 March Y holds an SDQ measured
    during that year, so it is known at a start only if 31 March Y is before the start. The OC2 of the
    year containing the start is never used (it is measured after the start, and only for children
    still looked after on 31 March)."""
    if oc2 is None or oc2.empty:
        return pd.Series("missing", index=frame.index)
    scores = oc2.dropna(subset=["SDQ_SCORE"])[KEY + ["YEAR", "SDQ_SCORE"]].copy()
    scores["YEAR"] = scores["YEAR"].astype("int64")
    scores = scores.drop_duplicates(KEY + ["YEAR"], keep="last")
    # collection year containing the start: the year ending 31 March after it
    start_year = (frame["START"] + pd.DateOffset(months=9)).dt.year.astype("int64")
    left = frame[KEY].assign(YEAR=start_year, _i=np.arange(len(frame)))
    merged = pd.merge_asof(left.sort_values("YEAR"), scores.sort_values("YEAR"), on="YEAR", by=KEY,
                           direction="backward", allow_exact_matches=False).sort_values("_i")
    band = pd.Series("missing", index=frame.index, dtype="object")
    s = merged["SDQ_SCORE"].astype(float).to_numpy()
    for label, lo, hi in codes.SDQ_BANDS:
        band[(s >= lo) & (s <= hi)] = label
    return band


def secured_vs_preferred(frame: pd.DataFrame, requests: pd.DataFrame | None) -> pd.DataFrame:
    """From placement requests (matched on LA, child and start date): was the type secured the one
    preferred? SECURED_SUITABILITY is Preferred / Suitable but not preferred / Unsuitable /
    Not specified; SECOND_BEST is 1 only when the request says the type secured was not preferred
    (Suitable but not preferred, Unsuitable), 0 when Preferred, missing when Not specified, blank or
    no request (an unstated preference is not evidence of a second best);
    PREFERRED_LOCATION_MET is the request's preferabilityLocation (missing with no request or not recorded)."""
    out = pd.DataFrame({"SECURED_SUITABILITY": pd.Series(pd.NA, index=frame.index, dtype="object"),
                        "SECOND_BEST": np.nan, "HAS_REQUEST": False,
                        "PREFERRED_LOCATION_MET": pd.Series(pd.NA, index=frame.index, dtype="boolean")},
                       index=frame.index)
    if requests is None or requests.empty:
        return out
    req = requests.rename(columns={"childId": "CHILD", "placementDate": "START"})
    req = req.drop_duplicates(KEY + ["START"], keep="last")
    joined = frame[KEY + ["START"]].merge(req, on=KEY + ["START"], how="left")
    has = joined["placementType"].notna().to_numpy()
    secured = np.full(len(joined), pd.NA, dtype=object)
    for col, kind in PDS_TYPES.items():
        chosen = joined["placementType"].eq(kind).to_numpy()
        secured[chosen] = joined.loc[chosen, col].to_numpy()
    out["HAS_REQUEST"] = has
    out["SECURED_SUITABILITY"] = secured
    stated = pd.Series(secured, dtype=object)
    second = np.select([stated.eq("Preferred").to_numpy(),
                        stated.isin(["Suitable but not preferred", "Unsuitable"]).to_numpy()], [0.0, 1.0], np.nan)
    out["SECOND_BEST"] = second
    if "preferabilityLocation" in joined:
        out["PREFERRED_LOCATION_MET"] = joined["preferabilityLocation"].astype("boolean").to_numpy()
    return out


def analysis_frame(region: CleanRegion, placements: pd.DataFrame, instrument: Instrument,
                   options: FrameOptions) -> pd.DataFrame:
    """One row per placement starting in [start, end] with follow-up: covariates at its start and its
    outcome. Zero-day placements are dropped (`window_placements`; their count is in
    frame.attrs["zero_day_dropped"] and `zero_day_count`)."""
    c903 = region.c903
    pl, n_zero = window_placements(placements, options)
    head = c903.header[KEY + ["SEX", "DOB"]]
    out = pl.merge(head, on=KEY, how="left")
    out["AGE_START"] = whole_years(out["DOB"], out["START"])
    out["AGE_BAND"] = age_band(out["AGE_START"])
    uasc = set(map(tuple, c903.uasc[KEY].to_numpy())) if len(c903.uasc) else set()
    out["UASC"] = [k in uasc for k in map(tuple, out[KEY].to_numpy())]
    out["CARE_ORDER"] = out["LS_START"].isin(codes.CARE_ORDER_LS)
    out["TYPE"] = out["PLACE"].map(codes.MODEL_TYPE_GROUPS).fillna(codes.MODEL_TYPE_OTHER)
    out["PROVIDER"] = out["PLACE_PROVIDER"].replace("", "none")
    out["FIRST_IN_PERIOD"] = out["PLACEMENT_IN_PERIOD"].eq(1)
    out["PREV_PLACEMENTS"] = out["PLACEMENT_IN_PERIOD"] - 1
    miles = distance_miles(out, region.tables.get("postcode_lookup"))
    out["DISTANCE_MILES"] = miles
    out["DISTANCE_BAND"] = np.select([miles.isna(), miles > options.far_miles], ["unknown", "20+ miles"], "under 20 miles")
    out["SDQ_BAND"] = sdq_at_start(out, c903.oc2)
    assessments = region.tables.get("needs_assessments")
    if assessments is not None and len(assessments):
        wide = needs_wide(assessments, instrument)
        out = needs_at(out, "START", wide, options.lookback_days)
    else:
        for col in [f"{p}_{d}" for p in "IFS" for d in instrument.domain_ids]:
            out[col] = np.nan
        out["ASSESSMENT_DATE"], out["NEEDS_MISSING"] = pd.NaT, True
    out["TIER"] = tiers(out, instrument)
    out = pd.concat([out, capability(out, instrument, region.tables.get("provider_register"),
                                     region.tables.get("placement_agreements"))], axis=1)
    out = pd.concat([out, mismatch(out, instrument)], axis=1)
    out = pd.concat([out, secured_vs_preferred(out, region.tables.get("placement_requests"))], axis=1)
    out["EVENT_UNPLANNED"] = out["ENDING"].eq(codes.UNPLANNED)
    out["CAUSE_UNKNOWN"] = out["ENDING"].eq(codes.UNKNOWN)
    out["CARER"] = carer_key(out)
    out = out.drop(columns=["DOB", "HOME_POST", "PL_POST"])
    out.attrs["zero_day_dropped"] = n_zero
    return out


def carer_key(frame: pd.DataFrame) -> pd.Series:
    """Who cared for the child where no registered setting (URN) says: the 903 has no carer id, so
    the carer is taken as the council, provider type and placement postcode (a foster carer's home);
    missing where the postcode is blank. Used only to cluster variances by provider (never published)."""
    post = frame["PL_POST"].astype("string").str.replace(" ", "").str.upper() if "PL_POST" in frame else None
    if post is None:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    key = frame["LA"].astype("string") + "|" + frame["PLACE_PROVIDER"].astype("string").fillna("") + "|" + post
    return key.where(post.notna() & post.ne(""))


def frame_key(options: FrameOptions, instrument: str, extract_date: object = None,
              unplanned_reasons: tuple[str, ...] | list[str] = ()) -> str:
    """What an analysis frame depends on besides the data: the key of the run's one shared copy of it
    (`Report.shared(frame_key(...), build)`), so notebooks asking for the same frame share one."""
    reasons = ",".join(sorted(unplanned_reasons))
    return (f"analysis_frame|{instrument}|{options.start:%Y-%m-%d}|{options.end:%Y-%m-%d}|{options.lookback_days}"
            f"|{options.far_miles}|{extract_date}|{reasons}")
