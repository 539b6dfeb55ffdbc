"""903 code groupings used by derivation and analyses.

The code lists themselves (with labels) live in the dataset specifications (schemas/*.json);
this module holds only what the code needs on top of them: which RNE codes start a placement,
how PLACE codes group into placement types, which endings count as unplanned.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# Reason for new episode: S, P and B start a placement (new carer); L, T and U continue it.
PLACEMENT_START_RNE = frozenset({"S", "P", "B"})
PLACEMENT_CONTINUE_RNE = frozenset({"L", "T", "U"})
# Changes of placement (carer or not): the episode before one of these carries REASON_PLACE_CHANGE.
PLACEMENT_CHANGE_RNE = frozenset({"P", "B", "T", "U"})

# Short breaks are not periods of care.
SHORT_BREAK_LS = frozenset({"V3", "V4"})

# Placement type groups (DfE publication groupings, with supported accommodation apart).
PLACE_GROUPS: dict[str, str] = {
    "U1": "foster_relative_friend", "U2": "foster_relative_friend", "U3": "foster_relative_friend",
    "Q1": "foster_relative_friend",
    "U4": "foster_other", "U5": "foster_other", "U6": "foster_other", "Q2": "foster_other",
    "K2": "childrens_home", "R1": "childrens_home",
    "K1": "secure", "K3": "secure",
    "R2": "other_residential", "R3": "other_residential", "R5": "other_residential", "S1": "other_residential",
    "H5": "supported_independent", "P2": "supported_independent", "P3": "supported_independent",
    "P1": "with_parents",
    "A3": "placed_for_adoption", "A4": "placed_for_adoption", "A5": "placed_for_adoption", "A6": "placed_for_adoption",
    "T0": "temporary_other", "T1": "temporary_other", "T2": "temporary_other", "T3": "temporary_other",
    "T4": "temporary_other", "Z1": "temporary_other",
    **{c: "temporary_other" for c in ("Z11", "Z12", "Z13", "Z14")},
}
PLACE_GROUP_LABELS: dict[str, str] = {
    "foster_relative_friend": "Foster with relative or friend",
    "foster_other": "Other foster care",
    "childrens_home": "Children's home",
    "secure": "Secure children's home",
    "other_residential": "Other residential (health, YOI, residential school, family centre)",
    "supported_independent": "Supported accommodation / independent living",
    "with_parents": "Placed with parents",
    "placed_for_adoption": "Placed for adoption",
    "temporary_other": "Temporary / other",
}
ADOPTION_PLACE = frozenset({"A3", "A4", "A5", "A6"})
FOSTER_GROUPS = frozenset({"foster_relative_friend", "foster_other"})

# Why a placement ended.
UNPLANNED = "unplanned_change"
PLANNED = "planned_change"
LEFT_CARE = "left_care"
OPEN = "open"
UNKNOWN = "unknown"
ENDING_CLASSES = (UNPLANNED, PLANNED, LEFT_CARE, OPEN, UNKNOWN)

# Default disruption set (DESIGN.md); a parameter everywhere it is used.
DEFAULT_UNPLANNED_REASONS = frozenset({"CREQB", "CREQO", "CHILD", "ALLEG", "STAND", "CLOSE", "APPRR"})

NO_URN = "XXXXXXX"

# Coarser placement types for models (few levels, each with enough placements); reference: foster.
MODEL_TYPE_GROUPS: dict[str, str] = {
    **{c: "foster" for c in ("U4", "U5", "U6", "Q2")},
    **{c: "kinship" for c in ("U1", "U2", "U3", "Q1")},
    **{c: "residential" for c in ("K1", "K2", "K3", "R1")},
    **{c: "supported" for c in ("H5", "P2")},
    "P1": "parents",
    **{c: "adoption" for c in ADOPTION_PLACE},
}
MODEL_TYPE_OTHER = "other"
MODEL_TYPE_REFERENCE = "foster"
# The model types in their fixed order (an index into it is a type code in the costing microsimulation).
MODEL_TYPE_LEVELS = ("foster", "kinship", "residential", "supported", "parents", "adoption", MODEL_TYPE_OTHER)
CARE_ORDER_LS = frozenset({"C1", "C2", "D1", "E1"})
# Age bands at placement start (whole years); reference 5-9.
AGE_BANDS = (("0-4", 0, 4), ("5-9", 5, 9), ("10-12", 10, 12), ("13-15", 13, 15), ("16-17", 16, 17))
AGE_BAND_LABELS = tuple(label for label, _, _ in AGE_BANDS)
AGE_BAND_REFERENCE = AGE_BAND_LABELS[1]          # "5-9": the reference level of every model's age band
AGE_BAND_OLDEST = AGE_BAND_LABELS[-1]            # "16-17": where an age past 17 is counted
# The DfE's bands of age on starting to be looked after (the published statistics the synthetic
# region is calibrated to): label, first whole year, first year past the band.
DFE_ENTRY_AGE_BANDS = (("0", 0, 1), ("1-4", 1, 5), ("5-9", 5, 10), ("10-15", 10, 16), ("16-17", 16, 18))
# Lower edges of every band but the first: band index = searchsorted(AGE_BAND_EDGES, age, "right").
AGE_BAND_EDGES = tuple(lo for _, lo, _ in AGE_BANDS[1:])
# Days in a year (Julian): durations in days to years throughout (hazards, horizons, plots, ages).
DAYS_PER_YEAR = 365.25
SDQ_BANDS = (("normal", 0, 13), ("borderline", 14, 16), ("concern", 17, 40))

# ---------------------------------------------------------------------------------------------
# Code lists by collection year (the year ending 31 March: 2025 is the 2024-25 collection).
# Checked against the DfE rules as the sector's validator encodes them (csc-validator-be-903
# 0.1.17, rule sets lac2022_23 .. lac2026_27: rules 101 SEX, 143 RNE, 144 LS, 145 CIN, 146 PLACE,
# 149 REC, 168 UPN, 217t P2). A rule set applies from its year until a later one replaces it;
# years before 2023 use the 2022-23 lists (with Q1/Q2 from the older guidance, ended 2013-14).
# Each entry: (first collection year or None, last collection year or None, codes).
# ---------------------------------------------------------------------------------------------
_PLACE_2023 = ("A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5",
               "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1")
CODES_BY_YEAR: dict[tuple[str, str], list[tuple[int | None, int | None, tuple[str, ...]]]] = {
    ("header", "SEX"): [(None, 2024, ("1", "2")), (2025, None, ("M", "F", "U"))],
    ("uasc", "SEX"): [(None, 2024, ("1", "2")), (2025, None, ("M", "F", "U"))],
    ("episodes", "REC"): [(None, None, ("E11", "E12", "E2", "E3", "E4A", "E4B", "E13", "E41", "E45",
                                        "E46", "E47", "E48", "E5", "E6", "E7", "E8", "E9", "E14",
                                        "E15", "E16", "E17", "X1"))],
    ("episodes", "PLACE"): [
        (None, 2014, ("Q1", "Q2")),
        (None, 2024, _PLACE_2023),
        (2025, 2025, _PLACE_2023 + ("K3",)),
        (2026, None, ("A3", "A4", "A5", "A6", "K1", "K2", "K3", "P1", "P3", "R1", "R2", "R3", "R5",
                      "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6",
                      "Z11", "Z12", "Z13", "Z14")),
    ],
}
# P2 (independent living) is not a valid placement from 28 October 2023 (DfE rule 217t): an
# episode in P2 must have ended by then.
P2_LAST_DAY = "2023-10-28"
UPN_UNKNOWN = frozenset({"UN1", "UN2", "UN3", "UN4", "UN5"})


def all_codes(dataset: str, field: str) -> list[str]:
    """Every code the field has had in any collection year (first appearance order)."""
    out: list[str] = []
    for _, _, cs in CODES_BY_YEAR[(dataset, field)]:
        out += [c for c in cs if c not in out]
    return out


def valid_in_year(codes: pd.Series, years: pd.Series, dataset: str, field: str) -> pd.Series:
    """True where the code is valid in that row's collection year (unknown year: valid in any year)."""
    yr = pd.to_numeric(years, errors="coerce")
    ok = pd.Series(False, index=codes.index)
    for lo, hi, cs in CODES_BY_YEAR[(dataset, field)]:
        in_window = yr.isna() | ((yr >= (lo or -np.inf)) & (yr <= (hi or np.inf)))
        ok |= in_window & codes.isin(cs)
    return ok


def windows(dataset: str, field: str, code: str) -> str:
    """The collection years a code is valid in, for messages: '2025-...' or '...-2024'."""
    spans = [(lo, hi) for lo, hi, cs in CODES_BY_YEAR[(dataset, field)] if code in cs]
    lo = min((s[0] for s in spans), key=lambda v: -1 if v is None else v, default=None)
    his = [s[1] for s in spans]
    hi = None if None in his else max(his, default=None)
    return f"{lo or '...'}-{hi or '...'}"


# UPN check letter (DfE "Unique Pupil Numbers" guidance, annex: the check letter algorithm).
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O, S


def upn_check_letter(body: str) -> str | None:
    """The check letter for characters 2-13 of a UPN; None if they cannot form one.

    Each of characters 2..13 is weighted by its position (2..13); character 13 may be a letter
    (a temporary UPN), counted by its place in the 23 letters; the sum mod 23 indexes the letters.
    """
    if len(body) != 12 or not body[:11].isdigit():
        return None
    last = body[11]
    if last.isdigit():
        vals = [int(c) for c in body]
    elif last in _UPN_LETTERS:
        vals = [int(c) for c in body[:11]] + [_UPN_LETTERS.index(last)]
    else:
        return None
    total = sum(v * w for v, w in zip(vals, range(2, 14)))
    return _UPN_LETTERS[total % 23]


def upn_ok(upn: str) -> bool:
    """A UPN is valid when its first character is its check letter, or it is UN1-UN5."""
    if upn in UPN_UNKNOWN:
        return True
    return len(upn) == 13 and upn_check_letter(upn[1:]) == upn[0]
