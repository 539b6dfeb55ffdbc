"""Needs scoring, tiers, needs in force, capability and mismatch on hand-checked cases."""
import numpy as np
import pandas as pd
import pytest

from rcceval.derive.needs import capability, distance_miles, mismatch, needs_at, needs_wide, tiers
from rcceval.spec.instruments import load_instrument

INS = load_instrument()
D = list(INS.domain_ids)


def assessment(child, date, ratings, la="LA1"):
    """ratings: {domain: (intensity, frequency)}; unrated domains are rated 0/0."""
    return [{"CHILD": child, "LA": la, "ASSESSMENT_DATE": pd.Timestamp(date), "INSTRUMENT": INS.id, "DOMAIN": d,
             "INTENSITY": ratings.get(d, (0, 0))[0], "FREQUENCY": ratings.get(d, (0, 0))[1]} for d in D]


@pytest.fixture()
def wide():
    rows = (assessment("1", "2023-01-10", {"behaviour": (3, 2)})                           # extensive: I3 F2
            + assessment("1", "2023-07-10", {"behaviour": (2, 2)})                         # complex: score 4
            + assessment("2", "2023-02-01", {"risk_to_self": (3, 3), "behaviour": (2, 3)})  # extensive: two scores >= 6
            + assessment("3", "2023-02-01", {"behaviour": (2, 1), "risk_to_self": (2, 1), "health_disability": (2, 1)})
            + assessment("4", "2023-02-01", {"behaviour": (1, 3)}))                         # straightforward: score 3
    frame = pd.DataFrame(rows)
    frame.loc[len(frame)] = {"CHILD": "4", "LA": "LA1", "ASSESSMENT_DATE": pd.Timestamp("2023-02-01"),
                             "INSTRUMENT": "other-tool", "DOMAIN": "behaviour", "INTENSITY": 3, "FREQUENCY": 3}
    return needs_wide(frame, INS)


def test_wide_scores_and_tiers(wide):
    assert len(wide) == 5 and list(wide.columns[:3]) == ["LA", "CHILD", "ASSESSMENT_DATE"]
    first = wide.iloc[0]
    assert (first["I_behaviour"], first["F_behaviour"], first["S_behaviour"]) == (3, 2, 6)
    assert wide.loc[wide["CHILD"] == "4", "I_behaviour"].item() == 1  # the other instrument's row is ignored
    assert tiers(wide, INS).tolist() == ["extensive_enduring", "complex_chronic", "extensive_enduring",
                                         "complex_chronic", "straightforward"]


def test_needs_in_force_at_a_date(wide):
    events = pd.DataFrame({"LA": "LA1", "CHILD": ["1", "1", "1", "2", "5"],
                           "START": pd.to_datetime(["2023-03-01", "2023-07-10", "2024-06-01", "2023-01-31", "2023-03-01"])})
    got = needs_at(events, "START", wide, lookback_days=183)
    assert got["ASSESSMENT_DATE"].dt.strftime("%Y-%m-%d").fillna("").tolist() == \
        ["2023-01-10", "2023-07-10", "", "", ""]
    assert got["NEEDS_MISSING"].tolist() == [False, False, True, True, True]
    assert got["I_behaviour"].tolist()[:2] == [3, 2]


def test_capability_from_register_or_agreement_and_mismatch():
    placements = pd.DataFrame({"LA": "LA1", "CHILD": ["1", "2", "3"], "URN": ["SC00001", "XXXXXXX", "XXXXXXX"],
                               "START": pd.to_datetime(["2023-03-01", "2023-03-01", "2023-04-01"])})
    register = pd.DataFrame({"URN": ["SC00001"], **{c: [2] for c in INS.capability_columns}})
    agreements = pd.DataFrame({"LA": "LA1", "CHILD": ["2"], "START_DATE": pd.to_datetime(["2023-03-01"]),
                               **{c: [1] for c in INS.capability_columns}})
    cap = capability(placements, INS, register, agreements)
    assert cap["CAP_SOURCE"].tolist() == ["register", "agreement", "missing"]
    assert cap["CAP_BEHAVIOUR"].tolist()[:2] == [2, 1] and np.isnan(cap["CAP_BEHAVIOUR"].iloc[2])
    needs = pd.DataFrame({f"I_{d}": [3, 3, 0] for d in D})
    needs["I_risk_to_self"] = [1, 0, 0]
    m = mismatch(pd.concat([needs, cap], axis=1), INS)
    # child 1: 7 domains at 3 against capability 2 -> 7; child 2: 7 domains at 3 against 1 -> 14
    assert m["MISMATCH"].tolist()[:2] == [7, 14] and np.isnan(m["MISMATCH"].iloc[2])
    assert m["M_behaviour"].tolist()[:2] == [1, 2] and m["M_risk_to_self"].tolist()[:2] == [0, 0]
    assert m["MATCHED"].tolist()[:2] == [False, False] and pd.isna(m["MATCHED"].iloc[2])


def test_distance_between_postcode_sectors():
    lookup = pd.DataFrame({"POSTCODE": ["QA1 1", "QA1 2"], "EASTING": [400000, 403000], "NORTHING": [100000, 104000]})
    frame = pd.DataFrame({"HOME_POST": ["QA1 1", "qa1  1", ""], "PL_POST": ["QA1 2", "QA1 1", "QA1 2"]})
    miles = distance_miles(frame, lookup)
    assert miles.iloc[0] == pytest.approx(5000 / 1609.344) and miles.iloc[1] == 0 and np.isnan(miles.iloc[2])
