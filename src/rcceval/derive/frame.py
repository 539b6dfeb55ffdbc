"""The analysis frame: one row per placement started in the analysis window, with what was known
at its start (903 characteristics, needs in force, capability, mismatch, distance, SDQ, whether
the placement secured was the one preferred) and how it ended.

Questions 1 and 2 (and the costing and power work after them) read this one frame, so every
analysis sees the same placements, the same covariate definitions and the same missingness.
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


def sdq_at_start(frame: pd.DataFrame, oc2: pd.DataFrame) -> pd.Series:
    """SDQ band from the latest OC2 return at or before the placement's collection year."""
    if oc2 is None or oc2.empty:
        return pd.Series("missing", index=frame.index)
    scores = oc2.dropna(subset=["SDQ_SCORE"])[KEY + ["YEAR", "SDQ_SCORE"]].copy()
    scores["YEAR"] = scores["YEAR"].astype("int64")
    left = frame[KEY].assign(YEAR=(frame["START"] + pd.DateOffset(months=9)).dt.year.astype("int64"),
                             _i=np.arange(len(frame)))
    merged = pd.merge_asof(left.sort_values("YEAR"), scores.sort_values("YEAR"), on="YEAR", by=KEY,
                           direction="backward").sort_values("_i")
    band = pd.Series("missing", index=frame.index, dtype="object")
    s = merged["SDQ_SCORE"].astype(float).to_numpy()
    for label, lo, hi in codes.SDQ_BANDS:
        band[(s >= lo) & (s <= hi)] = label
    return band


def secured_vs_preferred(frame: pd.DataFrame, requests: pd.DataFrame | None) -> pd.DataFrame:
    """From placement requests (matched on LA, child and start date): was the type secured the one
    preferred? SECURED_SUITABILITY is Preferred / Suitable but not preferred / Unsuitable /
    Not specified; SECOND_BEST is 1 when the type secured was not the preferred one, missing with no request;
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
    second = np.where(has, (pd.Series(secured) != "Preferred").to_numpy(dtype=float), np.nan)
    out["SECOND_BEST"] = second
    if "preferabilityLocation" in joined:
        out["PREFERRED_LOCATION_MET"] = joined["preferabilityLocation"].astype("boolean").to_numpy()
    return out


def analysis_frame(region: CleanRegion, placements: pd.DataFrame, instrument: Instrument,
                   options: FrameOptions) -> pd.DataFrame:
    """One row per placement starting in [start, end]: covariates at its start and its outcome."""
    c903 = region.c903
    pl = placements.loc[(placements["START"] >= options.start) & (placements["START"] <= options.end)]
    pl = pl.reset_index(drop=True)
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
    return out.drop(columns=["DOB", "HOME_POST", "PL_POST"])


def frame_key(options: FrameOptions, instrument: str, extract_date: object = None,
              unplanned_reasons: tuple[str, ...] | list[str] = ()) -> str:
    """What an analysis frame depends on besides the data: the key of the run's one shared copy of it
    (`Report.shared(frame_key(...), build)`), so notebooks asking for the same frame share one."""
    reasons = ",".join(sorted(unplanned_reasons))
    return (f"analysis_frame|{instrument}|{options.start:%Y-%m-%d}|{options.end:%Y-%m-%d}|{options.lookback_days}"
            f"|{options.far_miles}|{extract_date}|{reasons}")
