"""Dataset specifications: where they live and how they load.

Every input rcceval reads is declared once, as a Frictionless Table Schema in `schemas/`; the
loader and validator read their rules from there, and datadict.py publishes the same files as a
Frictionless Data Package plus a data dictionary, so the specification users validate against
and the one the code applies cannot drift apart.
"""
from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # frictionless is slow to import: only frictionless_schema needs it
    import frictionless

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
INSTRUMENT_DIR = SCHEMA_DIR / "instruments"
DEFAULT_INSTRUMENT_ID = "rcceval-open-v1"
DEFAULT_INSTRUMENT_PATH = INSTRUMENT_DIR / "rcceval_open_v1.yaml"

DATASETS: dict[str, str] = {
    "header": "header.json",
    "episodes": "episodes.json",
    "oc2": "oc2.json",
    "uasc": "uasc.json",
    "needs_assessments": "needs_assessments.json",
    "provider_register": "provider_register.json",
    "placement_agreements": "placement_agreements.json",
    "placement_requests": "placement_requests.json",
    "postcode_lookup": "postcode_lookup.json",
}

SERVES = ("Q1 needs predict stability", "Q2 placement survival", "Q3 costing",
          "Q4 dataset proposal", "Q5 sufficiency", "derivation", "linkage")
# The three need tiers of the field (DESIGN.md), least to most intensive; instrument bands map to them.
NEED_TIERS = ("straightforward", "complex_chronic", "extensive_enduring")
# Intensity and frequency are 0-3 in the data contracts (needs assessments, capability columns).
SCALE_MAX = 3
SCORE_RULES = ("intensity_x_frequency", "given")


# ------------------------------------------------------------------------------------ schemas

def schema_path(name: str) -> Path:
    """File of a dataset's specification; ValueError for a dataset rcceval does not know."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return SCHEMA_DIR / DATASETS[name]


@cache
def _read_schema(name: str) -> dict:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


def load_schema(name: str) -> dict:
    """The Table Schema descriptor of a dataset (parsed once; callers get their own copy)."""
    return copy.deepcopy(_read_schema(name))


def frictionless_schema(name: str) -> "frictionless.Schema":
    """The dataset's specification as a frictionless Schema (raises if the descriptor is invalid)."""
    import frictionless

    return frictionless.Schema.from_descriptor(load_schema(name))


def capability_column(domain_id: str) -> str:
    """Column holding a placement's capability in a domain: CAP_<DOMAIN ID IN CAPITALS>."""
    return f"CAP_{domain_id.upper()}"


# ------------------------------------------------------------------ what the 903 cannot answer

# Questions the SSDA903 return alone cannot answer, why, and the proposed fields (dataset.field)
# that answer them: the case for the proposed dataset, published in the data dictionary and in
# the dataset-proposal report (tests check every field named exists in its specification).
BEYOND_903: tuple[dict, ...] = (
    {"question": "Does a child's level of need predict whether a placement breaks down?",
     "serves": "Q1 needs predict stability",
     "why_not_903": "The 903 holds no measure of need beyond the category of need at entry (CIN) and, "
                    "for some children, a yearly SDQ score (OC2); neither rates need by domain at a placement's start.",
     "fields": ("needs_assessments.DOMAIN", "needs_assessments.INTENSITY", "needs_assessments.FREQUENCY",
                "needs_assessments.ASSESSMENT_DATE")},
    {"question": "How long do placements last for children with different need profiles?",
     "serves": "Q2 placement survival",
     "why_not_903": "Durations and endings are in the 903, but need profiles (tiers, intensity x frequency) are not.",
     "fields": ("needs_assessments.INTENSITY", "needs_assessments.FREQUENCY", "needs_assessments.ASSESSMENT_DATE")},
    {"question": "Could the placement meet the child's needs (mismatch), and does mismatch predict disruption?",
     "serves": "Q1 needs predict stability",
     "why_not_903": "The 903 records the placement type and URN, not what a setting or carer can meet in each need domain.",
     "fields": ("provider_register.CAP_BEHAVIOUR", "placement_agreements.CAP_BEHAVIOUR", "provider_register.URN",
                "placement_agreements.START_DATE")},
    {"question": "Did we secure the placement we wanted (type and location), and does a second-best placement break down more?",
     "serves": "Q4 dataset proposal",
     "why_not_903": "The 903 records only the placement made, never the types that were preferred or ruled unsuitable, "
                    "nor whether the preferred location was met.",
     "fields": ("placement_requests.fosterCareSuitability", "placement_requests.residentialCareSuitability",
                "placement_requests.supportedAccommodationSuitability", "placement_requests.placementType",
                "placement_requests.preferabilityLocation", "placement_requests.placementDate")},
    {"question": "What does each child's care cost, unit-cost against needs-led?",
     "serves": "Q3 costing",
     "why_not_903": "The 903 holds no fees or costs.",
     "fields": ("placement_agreements.WEEKLY_FEE", "placement_requests.totalWeeklyCost")},
    {"question": "Where do the region's needs outrun its provision?",
     "serves": "Q5 sufficiency",
     "why_not_903": "The 903 counts placements made, not the needs waiting to be met nor what each provider can meet and where.",
     "fields": ("needs_assessments.INTENSITY", "provider_register.PLACES", "provider_register.POSTCODE",
                "provider_register.CAP_BEHAVIOUR", "postcode_lookup.POSTCODE")},
)
