"""Question 5: needs audit, needs over time, gap tables, nearest suitable placement and the forecast.

Gap and nearest-suitable cases are small hand-made regions whose answers are worked out by hand in
the comments; the forecast is checked on simulated entries with a known trend, on a generated
region whose entrants are thinned to impose one, and on a case with an exactly known back-test error.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers903 import ep, hd, write_return
from scipy import stats

from rcceval.analyses.sufficiency import gap as sg
from rcceval.analyses.sufficiency import needs as sn
from rcceval.analyses.sufficiency.profiles import PROFILES, collection_year, prepare
from rcceval.derive.needs import intensity_cols
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec.instruments import load_instrument

INS = load_instrument()
ICOLS = intensity_cols(INS)
CAPS = list(INS.capability_columns)
MI = sg.MILE


def needs(**domains) -> dict:
    """Intensity columns: every domain at `all` (default 0) except those named."""
    base = domains.pop("all", 0)
    return {f"I_{d}": float(domains.get(d, base)) for d in INS.domain_ids}


def caps(level: int) -> dict:
    return {c: float(level) for c in CAPS}


# ------------------------------------------------------------------------ census and audit

def test_census_and_entries_on_a_handmade_region(tmp_path):
    write_return(tmp_path / "903", "LA1", 2024,
                 [hd("1", dob="15/06/2010"), hd("2", dob="01/01/2015"), hd("3", dob="01/01/2012"),
                  hd("4", dob="01/01/2020")],
                 [ep("1", "01/05/2023", "S"),
                  ep("2", "01/02/2024", "S", "31/03/2024", "E4A"),   # ends on the census date: not counted
                  ep("3", "01/06/2023", "S"),
                  ep("4", "31/03/2024", "S")])                        # starts on the census date: counted
    rows = ["CHILD,LA,ASSESSMENT_DATE,INSTRUMENT,DOMAIN,INTENSITY,FREQUENCY"]
    for d in INS.domain_ids:
        rows.append(f"1,LA1,20/01/2024,{INS.id},{d},{3 if d == 'behaviour' else 1},{2 if d == 'behaviour' else 1}")
        rows.append(f"3,LA1,01/06/2023,{INS.id},{d},2,1")          # 304 days before 31 March: too old
        rows.append(f"4,LA1,31/03/2024,{INS.id},{d},0,0")
    (tmp_path / "needs_assessments.csv").write_text("\n".join(rows) + "\n")
    region = validate_region(read_region(tmp_path))
    data = prepare(region, derive_placements(region.c903), INS, pd.Timestamp("2024-03-31"), lookback_days=183)
    cur = data.current.set_index("CHILD")
    assert sorted(cur.index) == ["1", "3", "4"] and data.years == [2024]
    assert cur["PROFILE"].to_dict() == {"1": "extensive_enduring", "3": "not_assessed", "4": "straightforward"}
    assert cur["AGE"].to_dict() == {"1": 13, "3": 12, "4": 4}
    assert cur["AGE_BAND"].to_dict() == {"1": "13-15", "3": "10-12", "4": "0-4"}
    assert cur.loc["1", "LEVEL"] == pytest.approx((3 + 7 * 1) / 8)
    # entry profile: needs in force at the period's start (child 1 was assessed only later)
    ent = data.entries.set_index("CHILD")
    assert ent["PROFILE"].to_dict() == {"1": "not_assessed", "2": "not_assessed", "3": "complex_chronic",
                                        "4": "straightforward"}
    assert set(ent["YEAR"]) == {2024}
    counts = sn.profile_counts(data.current, "LA")
    assert counts.loc["LA1"].to_dict() == {"straightforward": 1, "complex_chronic": 0, "extensive_enduring": 1,
                                           "not_assessed": 1}


def test_collection_year_runs_april_to_march():
    days = pd.Series(pd.to_datetime(["2024-03-31", "2024-04-01", "2025-03-31", "2023-12-25"]))
    assert collection_year(days).tolist() == [2024, 2025, 2025, 2024]


def test_profile_counts_keep_every_profile_and_the_order_asked():
    census = pd.DataFrame({"AGE_BAND": ["0-4", "16-17", "0-4"], "PROFILE": ["straightforward"] * 2 + ["not_assessed"]})
    t = sn.profile_counts(census, "AGE_BAND", ["0-4", "5-9", "16-17"])
    assert list(t.index) == ["0-4", "5-9", "16-17"] and list(t.columns) == list(PROFILES)
    assert t.loc["0-4"].tolist() == [1, 0, 0, 1] and t.loc["5-9"].sum() == 0 and t.loc["16-17"].tolist() == [1, 0, 0, 0]


def test_domains_behind_each_profile():
    census = pd.DataFrame([{"PROFILE": "straightforward", **needs(all=1)},
                           {"PROFILE": "straightforward", **needs(all=0)},
                           {"PROFILE": "extensive_enduring", **needs(behaviour=3)},
                           {"PROFILE": "not_assessed", **{c: np.nan for c in ICOLS}}])
    t = sn.domains_by_profile(census, INS).set_index("profile")
    assert t["children"].to_dict() == {"straightforward": 2, "complex_chronic": 0, "extensive_enduring": 1}
    assert t.loc["straightforward", "mean_behaviour"] == 0.5 and t.loc["extensive_enduring", "mean_behaviour"] == 3
    assert t.loc["extensive_enduring", "mean_emotional_wellbeing"] == 0


# --------------------------------------------------------------------------- needs over time

def _assessments(levels_by_child: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    """Assessment rows (LA, CHILD, ASSESSMENT_DATE, AGE_EXACT, LEVEL) from (age, level) pairs per child."""
    rows = []
    for child, pairs in levels_by_child.items():
        for age, level in pairs:
            day = pd.Timestamp("2000-01-01") + pd.Timedelta(days=round(age * 365.25))
            rows.append({"LA": "A", "CHILD": child, "ASSESSMENT_DATE": day, "AGE_EXACT": age, "LEVEL": level})
    return pd.DataFrame(rows)


def test_level_by_age_finds_the_peaks_and_counts_each_child_once_per_age():
    rng = np.random.default_rng(1)
    curve = lambda a: np.exp(-(a - 7) ** 2 / 2) + np.exp(-(a - 11) ** 2 / 2)
    kids = {}
    for i in range(400):
        ages = np.arange(0.0, 18.0, 0.5)             # two assessments a year
        kids[str(i)] = [(a, curve(a) + rng.normal(0, 0.3)) for a in ages]
    result = sn.need_level_by_age(_assessments(kids))
    assert result.peaks == [7, 11]
    t = result.table.set_index("age")
    assert t.loc[7, "children"] == 400                   # ages 6.5 and 7.0 round to 7: one value per child
    assert t.loc[7, "ci_low"] < t.loc[7, "mean"] < t.loc[7, "ci_high"]
    flat = {str(i): [(a, rng.normal(1, 0.3)) for a in np.arange(0.0, 18.0, 0.5)] for i in range(400)}
    assert sn.need_level_by_age(_assessments(flat)).peaks == []


def test_change_between_reviews_pairs_consecutive_assessments_of_the_same_child():
    a = _assessments({"x": [(6.8, 1.0), (7.3, 1.5), (9.0, 0.5)],   # gaps ~183 and ~621 days: the second is too long
                      "y": [(6.9, 2.0), (7.4, 1.0)]})
    t = sn.change_between_reviews(a, max_gap_days=365).set_index("age")
    assert list(t.index) == [7]                              # midpoints 7.05 and 7.15
    assert t.loc[7, "children"] == 2 and t.loc[7, "mean"] == pytest.approx((0.5 - 1.0) / 2)


def test_needs_after_a_stable_placement_recovers_a_known_effect():
    rng = np.random.default_rng(3)
    n = 600
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    stable = rng.random(n) < 0.5
    follow = start + pd.to_timedelta(rng.integers(280, 450, n), unit="D")
    end = pd.Series(np.where(stable, pd.NaT, start + pd.Timedelta(days=100)), dtype="datetime64[ns]")
    base = rng.uniform(0.5, 2.5, n)
    after = base - 0.4 * stable + rng.normal(0, 0.2, n)           # a stable placement lowers needs by 0.4
    kids = [str(i) for i in range(n)]
    placements = pd.DataFrame({"LA": "A", "CHILD": kids, "START": start, "END": end,
                               "ENDING": np.where(stable, "open", "unplanned_change")})
    wide = pd.concat([pd.DataFrame({"LA": "A", "CHILD": kids, "ASSESSMENT_DATE": start - pd.Timedelta(days=10),
                                    **{c: base for c in ICOLS}}),
                      pd.DataFrame({"LA": "A", "CHILD": kids, "ASSESSMENT_DATE": follow, **{c: after for c in ICOLS}})])
    born = start - pd.to_timedelta(rng.integers(3, 17, n) * 365, unit="D")
    header = pd.DataFrame({"LA": "A", "CHILD": kids, "DOB": born})
    res = sn.needs_after_stable_placement(placements, wide, header, INS, pd.Timestamp("2021-01-01"),
                                          pd.Timestamp("2021-12-31"), lookback_days=183)
    eff = res.difference
    assert eff["ci_low"] < -0.4 < eff["ci_high"] and eff["ci_high"] < 0
    # the Wald z of the effect (clustered SE, normal reference) agrees with its interval and p-value
    se = (eff["ci_high"] - eff["ci_low"]) / (2 * 1.959963984540054)
    assert res.statistic == pytest.approx(eff["estimate"] / se, rel=1e-9)
    assert eff["p_value"] == pytest.approx(2 * stats.norm.sf(abs(res.statistic)), rel=1e-9)
    g = res.groups.set_index("group")
    assert g.loc["stable", "placements"] + g.loc["moved_unplanned", "placements"] == n
    assert g.loc["moved_planned", "placements"] == 0


def test_stable_placement_compares_like_follow_up_windows():
    # No association with stability: the change depends only on the follow-up band (0 in 274-334 days,
    # -0.6 in 396-456 days), but children who moved are assessed sooner (all in the first band), as after
    # trouble. The raw means differ by about -0.3; compared within like bands the difference is about 0.
    rng = np.random.default_rng(11)
    n = 800
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    stable = np.arange(n) < n // 2
    days = np.where(stable, np.where(np.arange(n) % 2 == 0, rng.integers(280, 330, n), rng.integers(400, 450, n)),
                    rng.integers(280, 330, n))
    follow = start + pd.to_timedelta(days, unit="D")
    end = pd.Series(np.where(stable, pd.NaT, start + pd.Timedelta(days=100)), dtype="datetime64[ns]")
    base = rng.uniform(0.5, 2.5, n)
    after = base - 0.6 * (days >= 396) + rng.normal(0, 0.1, n)
    kids = [str(i) for i in range(n)]
    placements = pd.DataFrame({"LA": "A", "CHILD": kids, "START": start, "END": end,
                               "ENDING": np.where(stable, "open", "unplanned_change")})
    wide = pd.concat([pd.DataFrame({"LA": "A", "CHILD": kids, "ASSESSMENT_DATE": start - pd.Timedelta(days=10),
                                    **{c: base for c in ICOLS}}),
                      pd.DataFrame({"LA": "A", "CHILD": kids, "ASSESSMENT_DATE": follow, **{c: after for c in ICOLS}})])
    header = pd.DataFrame({"LA": "A", "CHILD": kids, "DOB": start - pd.Timedelta(days=3650)})
    res = sn.needs_after_stable_placement(placements, wide, header, INS, pd.Timestamp("2021-01-01"),
                                          pd.Timestamp("2021-12-31"), lookback_days=183)
    g = res.groups.set_index("group")
    assert g.loc["stable", "mean_change"] - g.loc["moved_unplanned", "mean_change"] < -0.25   # raw: misleading
    d = res.difference
    assert d["ci_low"] < 0 < d["ci_high"] and abs(d["estimate"]) < 0.03
    t = res.timing.set_index(["group", "window"])["placements"]
    assert t[("stable", "274-334 days")] == 200 and t[("stable", "396-456 days")] == 200
    assert t[("moved_unplanned", "274-334 days")] == 400 and t[("moved_unplanned", "396-456 days")] == 0
    assert t[("stable", "335-395 days")] == 0 and g.loc["moved_unplanned", "median_days"] < 335
    assert list(sn.window_labels(pd.Series([274, 334, 335, 395, 396, 456]))) == [
        "274-334 days", "274-334 days", "335-395 days", "335-395 days", "396-456 days", "396-456 days"]


# ------------------------------------------------------------------------------ gap tables

def _settings() -> pd.DataFrame:
    """Council A's home at (0, 0); council B's at 30 miles east; out-of-region setting 100 miles east.

    s1 A K2 2 places cap 2 at 0 mi; s2 A K2 1 place cap 3 at 12 mi; s3 B K2 3 places cap 2 at 30 mi;
    s4 OUT K2 5 places cap 3 at 100 mi; s5 A H5 4 places cap 1 at 0 mi (16+ only); s6 A K1 2 places
    cap 3 at 5 mi (secure: only children placed in secure care).
    """
    rows = [("s1", "A", "K2", 2, 0, 2), ("s2", "A", "K2", 1, 12, 3), ("s3", "B", "K2", 3, 30, 2),
            ("s4", "OUT", "K2", 5, 100, 3), ("s5", "A", "H5", 4, 0, 1), ("s6", "A", "K1", 2, 5, 3)]
    return pd.DataFrame([{"URN": u, "LA": la, "PLACE": pl, "PLACES": n, "X": x * MI, "Y": 0.0, **caps(c)}
                         for u, la, pl, n, x, c in rows])


def _gap_children() -> pd.DataFrame:
    """c1, c2 straightforward (needs 1; ages 10 and 17), c3-c5 extensive (behaviour 3), all from A at (0, 0);
    c6 complex (needs 2) from B at 30 mi east; c7 straightforward (no needs) from C, 50 mi north."""
    rows = [("c1", "A", "straightforward", 10, "K2", 0, 0, needs(all=1)),
            ("c2", "A", "straightforward", 17, "H5", 0, 0, needs(all=1)),
            ("c3", "A", "extensive_enduring", 14, "K2", 0, 0, needs(behaviour=3)),
            ("c4", "A", "extensive_enduring", 15, "K2", 0, 0, needs(behaviour=3)),
            ("c5", "A", "extensive_enduring", 13, "K2", 0, 0, needs(behaviour=3)),
            ("c6", "B", "complex_chronic", 12, "K2", 30, 0, needs(all=2)),
            ("c7", "C", "straightforward", 8, "K2", 0, 50, needs())]
    return pd.DataFrame([{"CHILD": c, "LA": la, "PROFILE": p, "AGE": age, "PLACE": pl, "X": x * MI, "Y": y * MI, **nd}
                         for c, la, p, age, pl, x, y, nd in rows])


def test_eligibility_needs_every_domain_and_respects_age_and_secure_rules():
    ok = pd.DataFrame(sg.eligible(_gap_children(), _settings(), INS), index=list("1234567"),
                      columns=[f"s{i}" for i in range(1, 7)])
    assert ok.loc["1"].tolist() == [True, True, True, True, False, False]   # s5: under 16; s6: not in secure care
    assert ok.loc["2"].tolist() == [True, True, True, True, True, False]    # 17: supported accommodation allowed
    assert ok.loc["3"].tolist() == [False, True, False, True, False, False]  # behaviour 3 needs capability 3
    assert ok.loc["6"].tolist() == [True, True, True, True, False, False]   # needs 2 everywhere: s5 (cap 1) cannot


def test_max_placeable_is_a_maximum_not_a_greedy_assignment():
    # child 0 can use s0 or s1, child 1 only s0: nearest-first could give s0 to child 0 and strand child 1
    assert sg.max_placeable(np.array([[True, True], [True, False]]), np.array([1, 1])) == 2
    assert sg.max_placeable(np.ones((3, 1), bool), np.array([2])) == 2          # capacity binds
    assert sg.max_placeable(np.zeros((3, 2), bool), np.array([5, 5])) == 0
    assert sg.max_placeable(np.ones((4, 2), bool), np.array([0, 3])) == 3       # a setting with no places


def test_gap_tables_exact():
    gap = sg.gap_analysis(_gap_children(), _settings(), INS, ["A", "B", "C"])
    c = gap.cells.set_index(["REACH", "AREA", "PROFILE"])
    get = lambda reach, area, profile, col="shortfall": c.loc[(reach, area, profile), col]
    # within the council: A's extensive children share s2's single place (s4 is out of region, s6 secure)
    assert get("council", "A", "extensive_enduring") == 2
    assert get("council", "A", "extensive_enduring", "places_able") == 1
    assert get("council", "A", "straightforward") == 0 and get("council", "A", "straightforward", "places_able") == 7
    # A altogether: 7 places within the council but only s2 meets behaviour 3: 3 of 5 placeable
    assert get("council", "A", "all") == 2 and get("council", "A", "all", "placeable") == 3
    assert get("council", "B", "complex_chronic") == 0 and get("council", "C", "straightforward") == 1
    assert get("council", "Region", "all") == 3 and get("council", "Region", "straightforward") == 1
    # within 20 miles: B's child also reaches s2 (18 mi); C's child (50 mi away) reaches nothing
    assert get("within_20_miles", "A", "extensive_enduring") == 2 and get("within_20_miles", "C", "all") == 1
    assert get("within_20_miles", "B", "all", "places_able") == 4 and get("within_20_miles", "Region", "all") == 3
    # in the region: C's child is placeable (s1 or s3); B's s3 cannot meet behaviour 3
    assert get("region", "C", "straightforward") == 0 and get("region", "Region", "all") == 2
    # anywhere: the out-of-region home s4 (5 places, capability 3) takes A's extensive children
    assert get("anywhere", "A", "extensive_enduring") == 0
    assert get("anywhere", "A", "extensive_enduring", "places_able") == 6
    assert get("anywhere", "Region", "all") == 0 and get("anywhere", "Region", "all", "places_able") == 15
    assert gap.children.loc["A"].tolist() == [2, 0, 3] and gap.children.loc["C"].tolist() == [1, 0, 0]
    short = gap.shortfall("council")
    assert short.loc["A", "extensive_enduring"] == 2
    assert gap.to_dict()["council"]["extensive_enduring"]["A"] == 2


def test_gap_children_in_scope_and_left_out():
    settings = _settings()
    lookup = pd.DataFrame({"POSTCODE": ["QA1 1"], "EASTING": [0.0], "NORTHING": [0.0]})
    current = pd.DataFrame([
        {"LA": "A", "CHILD": "1", "URN": "s1", "PROFILE": "straightforward", "HOME_POST": "QA1 1", **needs(all=1)},
        {"LA": "A", "CHILD": "2", "URN": "s2", "PROFILE": "not_assessed", "HOME_POST": "QA1 1",
         **{c: np.nan for c in ICOLS}},
        {"LA": "A", "CHILD": "3", "URN": "s1", "PROFILE": "straightforward", "HOME_POST": "ZZ9 9", **needs(all=1)},
        {"LA": "A", "CHILD": "4", "URN": "XXXXXXX", "PROFILE": "straightforward", "HOME_POST": "QA1 1", **needs()},
        {"LA": "A", "CHILD": "5", "URN": "SC99999", "PROFILE": "straightforward", "HOME_POST": "QA1 1", **needs()}])
    kids, excluded = sg.gap_children(current, settings, lookup, INS)
    assert kids["CHILD"].tolist() == ["1"]                     # 4: no registered setting; 5: URN not in the register
    assert excluded == {"no needs assessment in force": 1, "a need domain not rated": 0,
                        "home postcode sector unknown": 1}


def test_register_settings_positions_and_left_out(tmp_path):
    reg = pd.DataFrame({"URN": ["a", "b", "c"], "LA": "A", "PLACE": "K2", "POSTCODE": ["qa1  1", "QA1 2", "ZZ1 1"],
                        "PLACES": [2, 3, 1], **{c: [2, 2, 2] for c in CAPS}})
    reg.loc[1, CAPS[0]] = np.nan
    lookup = pd.DataFrame({"POSTCODE": ["QA1 1", "QA1 2"], "EASTING": [100.0, 200.0], "NORTHING": [5.0, 6.0]})
    s, excluded = sg.register_settings(reg, lookup, INS)
    assert s["URN"].tolist() == ["a", "c"] and (s.loc[0, "X"], s.loc[0, "Y"]) == (100.0, 5.0)
    assert np.isnan(s.loc[1, "X"])
    assert excluded == {"settings with a capability missing": 1, "settings with an unknown postcode sector": 1}


def test_provision_tables():
    s = _settings()
    t = sg.provision_by_type(s, ["A", "B"])
    assert t.loc["A", "K2 places"] == 3 and t.loc["A", "all places"] == 9 and t.loc["Out of region", "all places"] == 5
    assert t.loc["A", "settings"] == 4
    c = sg.provision_by_capability(s, ["A", "B"], INS).loc["behaviour"]
    assert c["region places, moderate (2+)"] == 2 + 1 + 3 + 2 and c["region places, high (3)"] == 1 + 2
    assert c["out of region places, high (3)"] == 5


# ---------------------------------------------------------------------- nearest suitable

def _local_children() -> pd.DataFrame:
    """Home, own placement (PX, PY) and own capability of each child; answers in test_nearest_suitable_exact."""
    rows = [  # child, profile, age, place, home (mi), own placement (mi), own capability, needs
        ("n1", "straightforward", 10, "K2", (0, 0), (0, 0), 2, needs(all=1)),          # in s1, the nearest
        ("n3", "extensive_enduring", 14, "K2", (0, 0), (100, 0), 3, needs(behaviour=3)),  # in s4; s2 at 12 mi
        ("n4", "extensive_enduring", 15, "K2", (0, 0), (0, 0), 2, needs(behaviour=3)),    # in s1: not met
        ("n8", "extensive_enduring", 14, "K1", (0, 0), (5, 0), 3, needs(behaviour=3)),    # secure: s6 allowed
        ("n9", "straightforward", 10, "K2", (0, 0), (12, 0), 3, needs(all=1)),          # in s2; s1 at 0 mi
        ("n10", "straightforward", 10, "U4", (0, 0), (0.8, 0), 2, needs(all=1)),        # 0.8 mi: within tolerance
        ("n12", "extensive_enduring", 14, "K2", (0, 50), (0, 0), 2, needs(behaviour=3)),  # nearest s2 at 51.4 mi
    ]
    return pd.DataFrame([{"CHILD": c, "PROFILE": p, "AGE": a, "PLACE": pl, "X": h[0] * MI, "Y": h[1] * MI,
                          "PX": o[0] * MI, "PY": o[1] * MI, **{f"OWN_{k}": float(cap) for k in CAPS}, **nd}
                         for c, p, a, pl, h, o, cap, nd in rows])


def test_nearest_suitable_exact():
    kids = _local_children()
    res = sg.nearest_suitable(kids, _settings(), INS).set_index(kids["CHILD"])
    assert res["CATEGORY"].to_dict() == {"n1": "nearest", "n3": "met_over_20", "n4": "unmet_local", "n8": "nearest",
                                         "n9": "met_5_to_20", "n10": "nearest", "n12": "unmet_far"}
    assert res.loc["n3", "NEAREST_MILES"] == pytest.approx(12) and res.loc["n3", "EXTRA_MILES"] == pytest.approx(88)
    assert res.loc["n4", "NEAREST_MILES"] == pytest.approx(12) and not res.loc["n4", "OWN_MET"]
    assert res.loc["n8", "NEAREST_MILES"] == pytest.approx(5)          # not s6 for the others (n3, n4)
    assert res.loc["n12", "NEAREST_MILES"] == pytest.approx(np.hypot(12, 50))
    assert res["MET_LOCALLY"].to_dict() == {"n1": True, "n3": False, "n4": False, "n8": True, "n9": True,
                                            "n10": True, "n12": False}
    strict = sg.nearest_suitable(kids, _settings(), INS, sg.GapOptions(tolerance_miles=0.5)).set_index(kids["CHILD"])
    assert strict.loc["n10", "CATEGORY"] == "met_up_to_5"
    # with no setting of capability 3 to choose from, behaviour 3 cannot be met anywhere
    low = _settings().loc[lambda s: ~s["URN"].isin(["s2", "s4"])]
    none = sg.nearest_suitable(kids.iloc[[2]], low, INS)
    assert none["CATEGORY"].tolist() == ["unmet_none"] and np.isnan(none["NEAREST_MILES"].iloc[0])


def test_local_summary_shares():
    kids = _local_children()
    res = sg.nearest_suitable(kids, _settings(), INS)
    summary = sg.local_summary({"registered": (kids, res)})
    row = summary.by_profile.set_index(["market", "profile"]).loc[("registered", "all")]
    assert (row["children"], row["in_nearest"], row["met_locally"]) == (7, 3, 4)
    assert row["pct_in_nearest"] == round(100 * 3 / 7, 1)
    cats = summary.categories.set_index("category")["children"]
    assert cats.sum() == 7 and cats["unmet_none"] == 0 and cats["nearest"] == 3
    assert summary.to_dict()["pct_placed_locally_needs_met"] == {"registered": round(100 * 4 / 7, 1)}
    extra = summary.extra_miles.iloc[0]
    assert extra["children_met_not_nearest"] == 2 and extra["median_extra_miles"] == pytest.approx((88 + 12) / 2)

# the forecast's tests are in tests/test_forecast.py
