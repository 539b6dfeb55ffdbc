"""Exact derived placements, periods and stability measures on hand-made 903 returns."""
from __future__ import annotations

import pandas as pd
import pytest
from helpers903 import ep, hd, write_return

from rcceval.derive.placements import child_summary, derive_periods, derive_placements, stability_measures
from rcceval.ingest.load import read_903
from rcceval.ingest.validate import validate_903
from rcceval.spec import codes

COLS = ["CHILD", "PERIOD_NO", "PLACEMENT_IN_PERIOD", "PLACEMENT_NO", "START", "END", "PLACE", "N_EPISODES",
        "ENDING", "ENDING_CODE", "DURATION_DAYS", "CENSORED"]


def rows(placements: pd.DataFrame, child: str) -> list[tuple]:
    sub = placements.loc[placements["CHILD"] == child, COLS]
    out = []
    for r in sub.itertuples(index=False):
        out.append(tuple(x.strftime("%Y-%m-%d") if isinstance(x, pd.Timestamp) else
                         (None if x is pd.NaT else x) for x in r))
    return out


@pytest.fixture()
def region(tmp_path):
    """Two annual returns of one council covering every RNE/REC path."""
    header = [hd("1"), hd("2"), hd("3"), hd("4"), hd("5"), hd("6")]
    y2023 = [
        # 1: S (C1) then L (C2) with the same carer; P after carer asks to end (behaviour); left care E4A.
        ep("1", "01/05/2022", "S", "01/09/2022", "X1", ls="C1"),
        ep("1", "01/09/2022", "L", "01/12/2022", "X1", "CREQB"),
        ep("1", "01/12/2022", "P", "", "", place="K2", urn="SC12345", provider="PR4"),  # open on 31/03/2023
        # 2: T and U continue the placement; then a planned move (care plan) and still open.
        ep("2", "10/04/2022", "S", "01/06/2022", "X1", ls="V2"),
        ep("2", "01/06/2022", "U", "01/08/2022", "X1", place="U4"),
        ep("2", "01/08/2022", "T", "15/08/2022", "X1", "CARPL", place="U4"),
        ep("2", "15/08/2022", "B", "", "", place="U6"),
        # 3: re-entry: first period ends E13, a second period starts later with S.
        ep("3", "01/04/2022", "S", "30/06/2022", "E13", ls="V2"),
        ep("3", "01/10/2022", "S", "01/11/2022", "X1", "ALLEG", ls="V2"),
        ep("3", "01/11/2022", "P", "", "", ls="V2"),
        # 5: short breaks only: excluded from placements, counted.
        ep("5", "01/05/2022", "S", "03/05/2022", "E8", ls="V3"),
        ep("5", "01/06/2022", "S", "03/06/2022", "E8", ls="V3"),
    ]
    y2024 = [
        # the open episodes of 2023 re-reported; 1's now ended.
        ep("1", "01/12/2022", "P", "10/01/2024", "E4A", place="K2", urn="SC12345", provider="PR4"),
        ep("2", "15/08/2022", "B", "", "", place="U6"),
        ep("3", "01/11/2022", "P", "", "", ls="V2"),
        # 4: an X1 with nothing after it: ending unknown (censored at its DEC).
        ep("4", "01/06/2023", "S", "01/08/2023", "X1", ls="V2"),
        # 6: placement change with the reason missing.
        ep("6", "01/05/2023", "S", "01/07/2023", "X1", "", ls="V2"),
        ep("6", "01/07/2023", "P", "", "", ls="V2"),
    ]
    write_return(tmp_path, "LA1", 2023, header, y2023)
    write_return(tmp_path, "LA1", 2024, header, y2024)
    return validate_903(read_903(tmp_path))


def test_placements_exact_rows(region):
    p = derive_placements(region)
    assert region.extract_date == pd.Timestamp("2024-03-31")
    assert rows(p, "1") == [
        ("1", 1, 1, 1, "2022-05-01", "2022-12-01", "U6", 2, codes.UNPLANNED, "CREQB", 214, False),
        ("1", 1, 2, 2, "2022-12-01", "2024-01-10", "K2", 1, codes.LEFT_CARE, "E4A", 405, False),
    ]
    assert rows(p, "2") == [
        ("2", 1, 1, 1, "2022-04-10", "2022-08-15", "U6", 3, codes.PLANNED, "CARPL", 127, False),
        ("2", 1, 2, 2, "2022-08-15", None, "U6", 1, codes.OPEN, "", 594, True),
    ]
    assert rows(p, "3") == [
        ("3", 1, 1, 1, "2022-04-01", "2022-06-30", "U6", 1, codes.LEFT_CARE, "E13", 90, False),
        ("3", 2, 1, 2, "2022-10-01", "2022-11-01", "U6", 1, codes.UNPLANNED, "ALLEG", 31, False),
        ("3", 2, 2, 3, "2022-11-01", None, "U6", 1, codes.OPEN, "", 516, True),
    ]
    # an ending of unknown cause is an ending (event of unknown cause), not censored
    assert rows(p, "4") == [("4", 1, 1, 1, "2023-06-01", "2023-08-01", "U6", 1, codes.UNKNOWN, "X1", 61, False)]
    assert rows(p, "6")[0][8:] == (codes.UNKNOWN, "X1", 61, False)
    assert "5" not in set(p["CHILD"])  # short breaks only


def test_placement_attributes_come_from_first_episode(region):
    p = derive_placements(region).set_index(["CHILD", "PLACEMENT_NO"])
    assert p.loc[("1", 1), "LS_START"] == "C1"
    assert p.loc[("1", 2), ["URN", "PLACE_PROVIDER", "PL_POST", "PLACE_GROUP"]].tolist() == \
        ["SC12345", "PR4", "AB1 3", "childrens_home"]


def test_problems_recorded_for_unknown_endings(region):
    probs = region.report.problems
    assert set(probs.loc[probs["rule"] == "episode.x1-no-next", "CHILD"]) == {"4"}
    missing = probs.loc[probs["rule"] == "episode.rpc-missing"]
    assert missing[["CHILD", "row"]].values.tolist() == [["6", 6]]
    assert region.report.count("fatal") == 0


def test_unplanned_set_is_a_parameter(region):
    p = derive_placements(region, unplanned_reasons={"CARPL"})
    assert rows(p, "2")[0][8] == codes.UNPLANNED
    assert rows(p, "1")[0][8] == codes.PLANNED


def test_extract_date_censors(region):
    p = derive_placements(region, extract_date="2023-03-31")
    assert rows(p, "1")[1] == ("1", 1, 2, 2, "2022-12-01", None, "K2", 1, codes.OPEN, "", 120, True)
    assert "4" not in set(p["CHILD"])  # started after the extract date


def test_days_in_placements_equal_days_in_episodes(region):
    p = derive_placements(region)
    eps = region.episodes
    extract = region.extract_date
    episode_days = (eps["DEC"].fillna(extract).clip(upper=extract) - eps["DECOM"]).dt.days.sum()
    assert p["DURATION_DAYS"].sum() == episode_days


def test_periods_and_child_summary(region):
    p = derive_placements(region)
    periods = derive_periods(p).set_index(["CHILD", "PERIOD_NO"])
    assert periods.loc[("3", 1), ["N_PLACEMENTS", "LAST_ENDING_CODE", "OPEN"]].tolist() == [1, "E13", False]
    assert periods.loc[("3", 2), ["N_PLACEMENTS", "DAYS", "OPEN"]].tolist() == [2, 547, True]
    kids = child_summary(region, p).set_index("CHILD")
    assert kids.loc["3", ["N_PERIODS", "N_PLACEMENTS"]].tolist() == [2, 3]
    assert len(region.short_breaks) == 2 and "5" not in kids.index


def test_stability_measures_exact(tmp_path):
    ref = [
        # A: three placements in the year ending 31/03/2024.
        ep("A", "01/01/2023", "S", "01/05/2023", "X1", "CREQB"), ep("A", "01/05/2023", "P", "01/09/2023", "X1", "CARPL"),
        ep("A", "01/09/2023", "P"),
        # B: in care two years, 3 placements over those two years, only 2 in the year.
        ep("B", "01/03/2022", "S", "01/10/2022", "X1", "CHILD"), ep("B", "01/10/2022", "P", "01/06/2023", "X1", "CARPL"),
        ep("B", "01/06/2023", "P"),
        # C: under 16, in care since 2020, same carer since 2021 (an L episode does not change carer).
        ep("C", "01/01/2020", "S", "01/03/2021", "X1", "CARPL"), ep("C", "01/03/2021", "P", "01/03/2023", "X1"),
        ep("C", "01/03/2023", "L"),
        # D: under 16, in care since 2020, moved in 2023: in the long-term denominator, not stable.
        ep("D", "01/01/2020", "S", "01/07/2023", "X1", "CREQO"), ep("D", "01/07/2023", "P"),
        # E: placed for adoption with new carers in 2023 after a foster placement from 2021: adoption rule.
        ep("E", "01/06/2021", "S", "01/06/2023", "X1", "CARPL", ls="C2"), ep("E", "01/06/2023", "P", place="A4", ls="E1"),
        # F: aged 16 on 31 March: not in the long-term measure.
        ep("F", "01/01/2019", "S"),
        # G: ceased on 31/03/2024: not looked after on 31 March.
        ep("G", "01/01/2020", "S", "31/03/2024", "E13"),
        # H: in care 2.5 years exactly? started 01/10/2021: one day short of 2.5 years (30/09/2021 qualifies).
        ep("H", "01/10/2021", "S"),
    ]
    header = [hd(c) for c in "ABCDEGH"] + [hd("F", dob="01/02/2008")]
    write_return(tmp_path, "LA9", 2024, header, ref)
    clean = validate_903(read_903(tmp_path))
    m = stability_measures(clean, 2024).set_index("LA")
    assert m.loc["LA9", "cla_31_march"] == 7
    assert m.loc["LA9", "n_3plus_year"] == 1              # A
    assert m.loc["LA9", "cla_two_years"] == 6             # all but A (in care since 2023) and G
    assert m.loc["LA9", "n_3plus_two_years"] == 1         # B (A has 3 but not two years in care)
    assert m.loc["LA9", "long_term_denominator"] == 3     # C, D, E (F 16+, H under 2.5 years)
    assert m.loc["LA9", "long_term_stable"] == 2          # C, E
    assert m.loc["ALL", "pct_long_term_stable"] == pytest.approx(200 / 3)
    assert m.loc["ALL", "pct_3plus_year"] == pytest.approx(100 / 7)


def test_stability_by_council(tmp_path):
    write_return(tmp_path, "X", 2024, [hd("1")], [ep("1", "01/01/2024", "S")])
    write_return(tmp_path, "Y", 2024, [hd("1")], [ep("1", "01/01/2024", "S", "01/02/2024", "X1", "CREQB"),
                                                   ep("1", "01/02/2024", "P", "01/03/2024", "X1", "CREQB"),
                                                   ep("1", "01/03/2024", "P")])
    m = stability_measures(validate_903(read_903(tmp_path)), 2024).set_index("LA")
    assert m["cla_31_march"].to_dict() == {"X": 1, "Y": 1, "ALL": 2}
    assert m["n_3plus_year"].to_dict() == {"X": 0, "Y": 1, "ALL": 1}
