"""Needs: scoring an instrument's assessments, need tiers, a placement's capability and mismatch.

The 903 says where a child was placed, not what the child needs; this module turns needs
assessments (long: one row per child, date and domain) into the columns analyses use:
- wide needs: I_<domain> (intensity), F_<domain> (frequency), S_<domain> (score) per assessment;
- the needs in force on a date: the latest assessment at or before it within a look-back;
- the need tier (straightforward / complex_chronic / extensive_enduring) from the instrument's bands;
- a placement's capability per domain (provider register by URN, else the placement agreement);
- mismatch: how far the child's intensity of need exceeds what the placement can meet, by domain.
Missing capability or needs stay missing (reported), never imputed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rcceval.spec import codes
from rcceval.spec.instruments import Band, Condition, Instrument

KEY = ["LA", "CHILD"]


def intensity_cols(instrument: Instrument) -> list[str]:
    return [f"I_{d}" for d in instrument.domain_ids]


def frequency_cols(instrument: Instrument) -> list[str]:
    return [f"F_{d}" for d in instrument.domain_ids]


def score_cols(instrument: Instrument) -> list[str]:
    return [f"S_{d}" for d in instrument.domain_ids]


def needs_wide(assessments: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """One row per child and assessment date with I_, F_ and S_ columns for every domain.

    Rows of other instruments or unknown domains are left out (the caller reports them).
    A domain not rated at an assessment stays missing.
    """
    a = assessments.loc[assessments["INSTRUMENT"].eq(instrument.id) & assessments["DOMAIN"].isin(instrument.domain_ids)]
    a = a.drop_duplicates(KEY + ["ASSESSMENT_DATE", "DOMAIN"], keep="last")
    values = {"I": "INTENSITY", "F": "FREQUENCY"}
    parts = []
    for prefix, col in values.items():
        wide = a.pivot(index=KEY + ["ASSESSMENT_DATE"], columns="DOMAIN", values=col)
        parts.append(wide.reindex(columns=list(instrument.domain_ids)).add_prefix(f"{prefix}_").astype("float"))
    out = pd.concat(parts, axis=1)
    if instrument.score_rule == "intensity_x_frequency":
        scores = out[intensity_cols(instrument)].to_numpy() * out[frequency_cols(instrument)].to_numpy()
    else:
        scores = a.pivot(index=KEY + ["ASSESSMENT_DATE"], columns="DOMAIN", values="SCORE") \
            .reindex(index=out.index, columns=list(instrument.domain_ids)).to_numpy(dtype=float)
    out[score_cols(instrument)] = scores
    return out.reset_index().sort_values(KEY + ["ASSESSMENT_DATE"], kind="stable").reset_index(drop=True)


def needs_at(events: pd.DataFrame, date_col: str, wide: pd.DataFrame, lookback_days: int) -> pd.DataFrame:
    """The needs in force at each event: the latest assessment on or before the date, within the look-back.

    Returns the events (same order) with the needs columns, ASSESSMENT_DATE and NEEDS_MISSING.
    """
    ordered = events.reset_index(drop=True).reset_index(names="_order")
    left = ordered.sort_values(date_col, kind="stable")
    right = wide.sort_values("ASSESSMENT_DATE", kind="stable")
    merged = pd.merge_asof(left, right, left_on=date_col, right_on="ASSESSMENT_DATE", by=KEY,
                           direction="backward", tolerance=pd.Timedelta(days=lookback_days))
    merged = merged.sort_values("_order").drop(columns="_order").reset_index(drop=True)
    merged["NEEDS_MISSING"] = merged["ASSESSMENT_DATE"].isna()
    return merged


def _condition_holds(c: Condition, intensity: np.ndarray, frequency: np.ndarray, score: np.ndarray) -> np.ndarray:
    ok = np.ones(intensity.shape, dtype=bool)
    if c.intensity_at_least is not None:
        ok &= intensity >= c.intensity_at_least
    if c.frequency_at_least is not None:
        ok &= frequency >= c.frequency_at_least
    if c.score_at_least is not None:
        ok &= score >= c.score_at_least
    return ok.sum(axis=1) >= c.min_domains


def tiers(frame: pd.DataFrame, instrument: Instrument) -> pd.Series:
    """Need tier of each row with needs columns: the first band whose conditions hold.

    Missing domain ratings count as not meeting a threshold; rows with no ratings at all get NA.
    """
    i = frame[intensity_cols(instrument)].to_numpy(dtype=float)
    f = frame[frequency_cols(instrument)].to_numpy(dtype=float)
    s = frame[score_cols(instrument)].to_numpy(dtype=float)
    i, f, s = (np.nan_to_num(x, nan=-1) for x in (i, f, s))
    out = np.full(len(frame), None, dtype=object)
    assigned = np.zeros(len(frame), dtype=bool)
    band: Band
    for band in instrument.bands:
        holds = np.ones(len(frame), bool) if band.otherwise else \
            np.any([_condition_holds(c, i, f, s) for c in band.conditions], axis=0)
        take = holds & ~assigned
        out[take] = band.id
        assigned |= take
    rated = frame[intensity_cols(instrument) + score_cols(instrument)].notna().any(axis=1).to_numpy()
    out[~rated] = None
    return pd.Series(out, index=frame.index, name="TIER")


def capability(placements: pd.DataFrame, instrument: Instrument, register: pd.DataFrame | None,
               agreements: pd.DataFrame | None) -> pd.DataFrame:
    """CAP_<domain> for each placement and CAP_SOURCE (register, agreement or missing).

    A registered setting's capability comes from the provider register by URN; a placement with no
    registered setting (URN XXXXXXX, most foster carers) takes it from its placement agreement
    (same LA, CHILD and start date). Where neither has it, it stays missing.

    The register is one snapshot (one row per URN, no dates or versions), not the version in force at
    each placement's start: a home that closed or deregistered before the snapshot is not in it, and a
    home whose capability changed shows today's. Until a dated register exists this cannot be done "as
    at the start"; the frame reports CAP_SOURCE so the missing capability can be seen.
    """
    cap = list(instrument.capability_columns)
    out = placements[KEY + ["START", "URN"]].copy()
    out[cap] = np.nan
    out["CAP_SOURCE"] = "missing"
    if agreements is not None and len(agreements):
        ag = agreements.rename(columns={"START_DATE": "START"})
        ag = ag[KEY + ["START"] + [c for c in cap if c in ag.columns]].drop_duplicates(KEY + ["START"], keep="last")
        joined = out[KEY + ["START"]].merge(ag, on=KEY + ["START"], how="left")
        have = joined[[c for c in cap if c in joined.columns]].notna().any(axis=1).to_numpy()
        for c in cap:
            if c in joined.columns:
                out.loc[have, c] = joined.loc[have, c].to_numpy(dtype=float)
        out.loc[have, "CAP_SOURCE"] = "agreement"
    if register is not None and len(register):
        reg = register.drop_duplicates("URN", keep="last").set_index("URN")
        registered = out["URN"].ne(codes.NO_URN) & out["URN"].isin(reg.index)
        rows = reg.reindex(out.loc[registered, "URN"])
        for c in cap:
            if c in rows.columns:
                out.loc[registered, c] = rows[c].to_numpy(dtype=float)
        out.loc[registered, "CAP_SOURCE"] = "register"
    return out[cap + ["CAP_SOURCE"]].set_axis(placements.index)


def mismatch(frame: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Per-domain excess of intensity over capability (M_<domain>), their sum MISMATCH and MATCHED.

    Missing needs or capability give a missing mismatch, never zero.
    """
    need = frame[intensity_cols(instrument)].to_numpy(dtype=float)
    cap = frame[list(instrument.capability_columns)].to_numpy(dtype=float)
    excess = np.clip(need - cap, 0, None)
    out = pd.DataFrame(excess, columns=[f"M_{d}" for d in instrument.domain_ids], index=frame.index)
    total = excess.sum(axis=1)
    total[np.isnan(excess).any(axis=1)] = np.nan
    out["MISMATCH"] = total
    out["MATCHED"] = pd.Series(total == 0, index=frame.index).where(~np.isnan(total))
    return out


def distance_miles(frame: pd.DataFrame, lookup: pd.DataFrame | None, home: str = "HOME_POST",
                   placed: str = "PL_POST") -> pd.Series:
    """Straight-line miles between the home and placement postcodes (missing if either is unknown).

    Without a postcode lookup file the ONS Postcode Directory gives the positions (full postcodes,
    or a sector's centroid); a lookup file, where given, overrides it.
    """
    if lookup is None or lookup.empty:
        from rcceval.ingest.postcodes import distance_miles as ons_miles
        return ons_miles(frame[home], frame[placed])
    norm = lookup.assign(_k=lookup["POSTCODE"].str.upper().str.replace(r"\s+", " ", regex=True).str.strip())
    pos = norm.drop_duplicates("_k").set_index("_k")[["EASTING", "NORTHING"]].astype(float)

    def xy(col: str) -> np.ndarray:
        keys = frame[col].fillna("").str.upper().str.replace(r"\s+", " ", regex=True).str.strip()
        return pos.reindex(keys).to_numpy()

    a, b = xy(home), xy(placed)
    metres = np.sqrt(((a - b) ** 2).sum(axis=1))
    return pd.Series(metres / 1609.344, index=frame.index, name="DISTANCE_MILES")
