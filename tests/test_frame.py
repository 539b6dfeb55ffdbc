"""The analysis frame on a hand-made region: every covariate at a placement's start, exactly."""
import numpy as np
import pandas as pd
from helpers903 import ep, hd, write_return

from rcceval.derive.frame import FrameOptions, analysis_frame
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
    assert first["SDQ_BAND"] == "concern" and other["SDQ_BAND"] == "missing"
    # needs from the 20/04/2023 assessment: in force at both of child 1's starts (within 183 days)
    assert (first["I_behaviour"], first["F_behaviour"], first["S_behaviour"]) == (3, 2, 6)
    assert first["TIER"] == "extensive_enduring" and not first["NEEDS_MISSING"]
    assert other["NEEDS_MISSING"] and pd.isna(other["TIER"]) and np.isnan(other["MISMATCH"])
    # capability: agreement (foster, 1 everywhere) vs register (home, 3 everywhere)
    assert (first["CAP_SOURCE"], second["CAP_SOURCE"], other["CAP_SOURCE"]) == ("agreement", "register", "missing")
    assert (first["MISMATCH"], second["MISMATCH"]) == (2, 0)
    assert (first["EVENT_UNPLANNED"], second["EVENT_UNPLANNED"]) == (True, False)
    assert not {"DOB", "HOME_POST", "PL_POST"} & set(frame.columns)
