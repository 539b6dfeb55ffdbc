"""903 code groupings used by derivation and analyses.

The code lists themselves (with labels) live in the dataset specifications (schemas/*.json);
this module holds only what the code needs on top of them: which RNE codes start a placement,
how PLACE codes group into placement types, which endings count as unplanned.
"""
from __future__ import annotations

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
    "K1": "secure",
    "R2": "other_residential", "R3": "other_residential", "R5": "other_residential", "S1": "other_residential",
    "H5": "supported_independent", "P2": "supported_independent", "P3": "supported_independent",
    "P1": "with_parents",
    "A3": "placed_for_adoption", "A4": "placed_for_adoption", "A5": "placed_for_adoption", "A6": "placed_for_adoption",
    "T0": "temporary_other", "T1": "temporary_other", "T2": "temporary_other", "T3": "temporary_other",
    "T4": "temporary_other", "Z1": "temporary_other",
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
    **{c: "residential" for c in ("K1", "K2", "R1")},
    **{c: "supported" for c in ("H5", "P2")},
    "P1": "parents",
    **{c: "adoption" for c in ADOPTION_PLACE},
}
MODEL_TYPE_OTHER = "other"
MODEL_TYPE_REFERENCE = "foster"
CARE_ORDER_LS = frozenset({"C1", "C2", "D1", "E1"})
# Age bands at placement start (whole years); reference 5-9.
AGE_BANDS = (("0-4", 0, 4), ("5-9", 5, 9), ("10-12", 10, 12), ("13-15", 13, 15), ("16-17", 16, 17))
SDQ_BANDS = (("normal", 0, 13), ("borderline", 14, 16), ("concern", 17, 40))
