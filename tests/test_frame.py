"""The analysis frame on a hand-made region: every covariate at a placement's start, exactly."""
import numpy as np
import pandas as pd
from helpers903 import ep, hd, write_return

from rcceval.derive.frame import (
    ZERO_DAY_RULE,
    FrameOptions,
    analysis_frame,
    sdq_at_start,
    secured_vs_preferred,
    window_placements,
    zero_day_count,
)
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec.instruments import load_instrument

INS = load_instrument()


def test_frame_columns_at_placement_start(tmp_path):
    write_return(tmp_path / "903", "LA1", 2024, [hd("1", dob="15/06/2010"), hd("2", dob="01/01/2020")], [
        ep("1", "01/05/2023", "S", "01/08/2023", "X1", "CREQB", ls="V2"),
        ep("1", "01/08/2023", "P", place="K2", urn="SC00001", provider="PR4", ls="C2"),
        ep("2", "01/02/2024", "S", place="U3", ls="C1"),
    ])
    folder = tmp_path / "903" / "LA1" / "2024"
    (folder / "uasc.csv").write_text("CHILD,SEX,DOB,DUC\n1,1,15/06/2010,\n")
    (folder / "oc2.csv").write_text("CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,"
                                    "HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED\n"
                                    "1,15/06/2010,18,SDQ1,0,1,1,1,1,0,,\n")
    rows = ["CHILD,LA,ASSESSMENT_DATE,INSTRUMENT,DOMAIN,INTENSITY,FREQUENCY"]
    for d in INS.domain_ids:
        rows.append(f"1,LA1,20/04/2023,{INS.id},{d},{3 if d == 'behaviour' else 1},{2 if d == 'behaviour' else 1}")
    (tmp_path / "needs_assessments.csv").write_text("\n".join(rows) + "\n")
    caps = ",".join(INS.capability_columns)
    (tmp_path / "provider_register.csv").write_text(
        f"URN,LA,PROVIDER_NAME,PLACE,PLACE_PROVIDER,POSTCODE,PLACES,{caps}\n"
        f"SC00001,LA1,Home,K2,PR4,AB1 3,4,{','.join(['3'] * 8)}\n")
    (tmp_path / "placement_agreements.csv").write_text(
        f"CHILD,LA,START_DATE,URN,WEEKLY_FEE,{caps}\n1,LA1,01/05/2023,XXXXXXX,600,{','.join(['1'] * 8)}\n")
    (tmp_path / "postcode_lookup.csv").write_text("POSTCODE,EASTING,NORTHING\nAB1 2,400000,100000\nAB1 3,400000,140000\n")
    region = validate_region(read_region(tmp_path))
    frame = analysis_frame(region, derive_placements(region.c903), INS,
                           FrameOptions(pd.Timestamp("2023-04-01"), pd.Timestamp("2024-03-31")))
    f = frame.set_index(["CHILD", "PLACEMENT_NO"])
    first, second, other = f.loc[("1", 1)], f.loc[("1", 2)], f.loc[("2", 1)]
    assert (first["AGE_START"], first["AGE_BAND"], second["AGE_START"]) == (12, "10-12", 13)
    assert first["UASC"] and not other["UASC"]
    assert (first["CARE_ORDER"], second["CARE_ORDER"], other["CARE_ORDER"]) == (False, True, True)
    assert (first["TYPE"], second["TYPE"], other["TYPE"]) == ("foster", "residential", "kinship")
    assert (first["FIRST_IN_PERIOD"], second["PREV_PLACEMENTS"]) == (True, 1)
    assert first["DISTANCE_MILES"] == 40000 / 1609.344 and first["DISTANCE_BAND"] == "20+ miles"
    # the only OC2 is the 2023-24 return's (SDQ measured by 31/03/2024): after both starts, so not known then
    assert first["SDQ_BAND"] == "missing" and other["SDQ_BAND"] == "missing"
    # needs from the 20/04/2023 assessment: in force at both of child 1's starts (within 183 days)
    assert (first["I_behaviour"], first["F_behaviour"], first["S_behaviour"]) == (3, 2, 6)
    assert first["TIER"] == "extensive_enduring" and not first["NEEDS_MISSING"]
    assert other["NEEDS_MISSING"] and pd.isna(other["TIER"]) and np.isnan(other["MISMATCH"])
    # capability: agreement (foster, 1 everywhere) vs register (home, 3 everywhere)
    assert (first["CAP_SOURCE"], second["CAP_SOURCE"], other["CAP_SOURCE"]) == ("agreement", "register", "missing")
    assert (first["MISMATCH"], second["MISMATCH"]) == (2, 0)
    assert (first["EVENT_UNPLANNED"], second["EVENT_UNPLANNED"]) == (True, False)
    assert not {"DOB", "HOME_POST", "PL_POST"} & set(frame.columns)


def test_sdq_is_the_latest_oc2_before_the_start():
    """OC2 of the years ending 31/03/2021 (score 5), 2022 (15) and 2023 (18): a start in the year ending
    2023 (May 2022) sees only 2021 and 2022 -> 15 (borderline), never the 2023 return measured after it;
    a start on 31/03/2022 is in the year ending 2022 -> only 2021's -> 5 (normal); a start on
    01/04/2022 (year ending 2023) -> 2022's (borderline); a start in April 2023 -> 2023's (concern);
    a child whose only OC2 is of the start's own year -> missing."""
    oc2 = pd.DataFrame({"LA": ["L"] * 4, "CHILD": ["a", "a", "a", "b"], "YEAR": [2021, 2022, 2023, 2023],
                        "SDQ_SCORE": [5, 15, 18, 20]})
    frame = pd.DataFrame({"LA": ["L"] * 5, "CHILD": ["a", "a", "a", "a", "b"],
                          "START": pd.to_datetime(["2022-05-10", "2022-03-31", "2022-04-01", "2023-04-02",
                                                   "2022-06-01"])}, index=[10, 11, 12, 13, 14])
    got = sdq_at_start(frame, oc2)
    assert got.to_dict() == {10: "borderline", 11: "normal", 12: "borderline", 13: "concern", 14: "missing"}


def test_second_best_only_where_the_request_says_so():
    start = pd.Timestamp("2024-01-01")
    frame = pd.DataFrame({"LA": ["A"] * 6, "CHILD": list("uvwxyz"), "START": [start] * 6})
    requests = pd.DataFrame({
        "LA": ["A"] * 5, "childId": list("uvwxy"), "placementDate": [start] * 5,
        "placementType": ["Foster", "Foster", "Foster", "Residential", None],
        "fosterCareSuitability": ["Preferred", "Suitable but not preferred", "Not specified", "Preferred", "Preferred"],
        "residentialCareSuitability": ["Unsuitable", "Preferred", "Preferred", "Unsuitable", "Preferred"],
        "supportedAccommodationSuitability": ["Unsuitable"] * 5})
    out = secured_vs_preferred(frame, requests)
    # u preferred; v suitable but not preferred; w not specified; x residential secured though unsuitable;
    # y has a request with no type secured; z has no request
    np.testing.assert_array_equal(out["SECOND_BEST"].to_numpy(), [0.0, 1.0, np.nan, 1.0, np.nan, np.nan])
    assert out["HAS_REQUEST"].tolist() == [True, True, True, True, False, False]


def test_zero_day_placements_dropped_once_with_their_count():
    """Four placements start in the window; two last 0 days (ended the day they began, or began on the
    extract date): both are dropped and counted, the same rule for every question."""
    pl = pd.DataFrame({"LA": ["A"] * 5, "CHILD": list("abcde"),
                       "START": pd.to_datetime(["2023-05-01", "2023-06-01", "2023-07-01", "2024-03-31", "2020-01-01"]),
                       "DURATION_DAYS": [0, 10, 200, 0, 0]})
    opts = FrameOptions(pd.Timestamp("2023-04-01"), pd.Timestamp("2024-03-31"))
    kept, n = window_placements(pl, opts)
    assert ZERO_DAY_RULE == "dropped"
    assert kept["CHILD"].tolist() == ["b", "c"] and n == 2 and zero_day_count(pl, opts) == 2


def test_frame_drops_zero_day_placement_and_reports_it(tmp_path):
    """Child 1 leaves care the day the placement began (0 days), child 3 starts on the extract date
    (0 days of follow-up); child 2 has 59 days: the frame keeps child 2 only and counts 2 dropped."""
    write_return(tmp_path / "903", "LA1", 2024, [hd("1"), hd("2"), hd("3")], [
        ep("1", "01/05/2023", "S", "01/05/2023", "E4A"),
        ep("2", "01/02/2024", "S"),
        ep("3", "31/03/2024", "S"),
    ])
    region = validate_region(read_region(tmp_path))
    placements = derive_placements(region.c903)
    assert placements.set_index("CHILD")["DURATION_DAYS"].to_dict() == {"1": 0, "2": 59, "3": 0}
    frame = analysis_frame(region, placements, INS, FrameOptions(pd.Timestamp("2023-04-01"), pd.Timestamp("2024-03-31")))
    assert frame["CHILD"].tolist() == ["2"] and frame.attrs["zero_day_dropped"] == 2
