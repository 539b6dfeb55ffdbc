"""The synthetic region generator: contracts, reproducibility, 903 semantics and calibration."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from required import require_shared

from rcceval.synth import generate, internal_report, simulate_region
from rcceval.synth.extras import AGREEMENT_COLS, LOOKUP_COLS, NEEDS_COLS, REGISTER_COLS, REQUEST_COLS
from rcceval.synth.params import DOMAINS, build_params
from rcceval.synth.returns import EPISODE_COLS, HEADER_COLS, OC2_COLS, UASC_COLS

STANDARD = "reference/placements-standard-v2.json"   # under ../shared/ (required under CI)

RNE = {"S", "P", "B", "L", "T", "U"}
LS = {"C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"}
CIN = {f"N{i}" for i in range(1, 9)}
PLACE = {"A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
         "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1"}
PROVIDER = {"", "PR0", "PR1", "PR2", "PR3", "PR4", "PR5"}
REC = {"", "X1", "E11", "E12", "E13", "E2", "E3", "E4A", "E4B", "E41", "E45", "E46", "E47", "E48", "E5",
       "E6", "E7", "E8", "E15", "E16", "E17"}
REASON = {"", "CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD", "LAREQ", "PLACE",
          "CUSTOD", "OTHER"}
POST = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$")  # a full UK postcode
SMALL = ["E06000037", "E06000038"]  # West Berkshire, Reading
DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _hashes(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _episodes(root: Path) -> pd.DataFrame:
    frames = []
    for f in sorted((root / "903").glob("*/*/episodes.csv")):
        d = _read(f)
        d["LA"], d["YEAR"] = f.parts[-3], int(f.parts[-2])
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def region_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth_a")
    generate(out, scale="small", seed=7)
    return out


@pytest.fixture(scope="module")
def episodes(region_dir) -> pd.DataFrame:
    return _episodes(region_dir)


@pytest.fixture(scope="module")
def stacked(episodes) -> pd.DataFrame:
    """All returns stacked, each episode once (the latest report of it), in order."""
    s = episodes.sort_values("YEAR").drop_duplicates(["CHILD", "DECOM"], keep="last").copy()
    s["decom"] = pd.to_datetime(s["DECOM"], format="%d/%m/%Y")
    s["dec"] = pd.to_datetime(s["DEC"], format="%d/%m/%Y")
    return s.sort_values(["CHILD", "decom"]).reset_index(drop=True)


# ---- reproducibility --------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(region_dir, tmp_path):
    generate(tmp_path, scale="small", seed=7)
    assert _hashes(tmp_path) == _hashes(region_dir)


def test_different_seed_gives_different_files(region_dir, tmp_path):
    generate(tmp_path, scale="small", seed=8)
    a, b = _hashes(region_dir), _hashes(tmp_path)
    assert a["903/E06000038/2025/episodes.csv"] != b["903/E06000038/2025/episodes.csv"]
    assert a["needs_assessments.csv"] != b["needs_assessments.csv"]


# ---- contracts --------------------------------------------------------------------------------
def test_layout_one_folder_per_council_and_year(region_dir):
    truth = json.loads((region_dir / "truth.json").read_text())
    for la in SMALL:
        for year in truth["return_years"]:
            for name in ["header", "episodes", "oc2", "uasc"]:
                assert (region_dir / "903" / la / str(year) / f"{name}.csv").is_file()
    assert truth["return_years"] == list(range(2018, 2026))


@pytest.mark.parametrize("name,cols", [
    ("header.csv", HEADER_COLS), ("episodes.csv", EPISODE_COLS), ("oc2.csv", OC2_COLS), ("uasc.csv", UASC_COLS),
])
def test_903_files_have_exactly_the_contract_columns(region_dir, name, cols):
    files = sorted((region_dir / "903").glob(f"*/*/{name}"))
    assert len(files) == 16
    for f in files:
        assert f.read_text().splitlines()[0] == ",".join(cols)


@pytest.mark.parametrize("name,cols", [
    ("needs_assessments.csv", NEEDS_COLS), ("provider_register.csv", REGISTER_COLS),
    ("placement_agreements.csv", AGREEMENT_COLS), ("placement_requests.csv", REQUEST_COLS),
    ("postcode_lookup.csv", LOOKUP_COLS),
])
def test_other_files_have_exactly_the_contract_columns(region_dir, name, cols):
    with open(region_dir / name) as fh:
        assert fh.readline().rstrip("\n") == ",".join(cols)


def test_contract_column_lists_match_the_brief():
    assert EPISODE_COLS == ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                            "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]
    assert HEADER_COLS == ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
    assert AGREEMENT_COLS[:5] == ["CHILD", "LA", "START_DATE", "URN", "WEEKLY_FEE"]
    assert [c[4:].lower() for c in AGREEMENT_COLS[5:]] == DOMAINS


def test_episode_codes_are_within_the_903_lists(episodes):
    assert set(episodes["RNE"]) <= RNE
    assert set(episodes["LS"]) <= LS
    assert set(episodes["CIN"]) <= CIN
    assert set(episodes["PLACE"]) <= PLACE
    assert set(episodes["PLACE_PROVIDER"]) <= PROVIDER
    assert set(episodes["REC"]) <= REC
    assert set(episodes["REASON_PLACE_CHANGE"]) <= REASON
    looked_after = episodes["LS"] != "V3"  # short breaks carry no postcodes (DfE 214/398)
    home = episodes.loc[looked_after, "HOME_POST"]  # blank for UASC children (DfE 406), checked below
    assert home[home != ""].str.match(POST).all() and (home != "").mean() > 0.8
    assert episodes.loc[looked_after, "PL_POST"].str.match(POST).all()
    assert (episodes.loc[~looked_after, ["HOME_POST", "PL_POST", "URN"]] == "").all().all()
    assert episodes.loc[looked_after, "URN"].str.match(r"^([A-Z0-9]{7}|XXXXXXX)$").all()
    assert episodes["CHILD"].str.match(r"^\d{1,10}$").all()
    # the short-break group exists, so its exclusion downstream is exercised
    assert (episodes["LS"] == "V3").any()


def test_header_oc2_uasc_values(region_dir):
    h = pd.concat([_read(f).assign(YEAR=int(f.parts[-2])) for f in (region_dir / "903").glob("*/*/header.csv")])
    assert set(h.loc[h["YEAR"] <= 2024, "SEX"]) == {"1", "2"} and set(h.loc[h["YEAR"] >= 2025, "SEX"]) == {"M", "F"}
    assert h["UPN"].str.match(r"^([A-HJ-NP-RT-Z]\d{12}|UN1)$").all()
    assert set(h["MOTHER"]) <= {"", "0", "1"}
    girl = h["SEX"].isin(["2", "F"])
    assert (h.loc[girl, "MOTHER"] != "").all() and (h.loc[~girl, "MOTHER"] == "").all()
    o = pd.concat([_read(f) for f in (region_dir / "903").glob("*/*/oc2.csv")])
    sdq = pd.to_numeric(o["SDQ_SCORE"][o["SDQ_SCORE"] != ""])
    assert sdq.between(0, 40).all() and len(sdq) > 100
    assert set(o["SDQ_REASON"]) <= {"", "SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5"}
    assert (o["SDQ_REASON"][o["SDQ_SCORE"] != ""] == "").all()
    for c in ["IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE"]:
        assert set(o[c]) <= {"0", "1"}
    assert set(o["CONVICTED"]) <= {"", "0", "1"} and set(o["HEALTH_CHECK"]) <= {"", "0", "1"}
    u = pd.concat([_read(f) for f in (region_dir / "903").glob("*/*/uasc.csv")])
    assert len(u) > 0 and set(u["SEX"]) <= {"1", "2", "M", "F"}
    e = _episodes(region_dir)
    no_home = set(e.loc[(e["HOME_POST"] == "") & (e["LS"] != "V3"), "CHILD"])
    assert no_home == set(u["CHILD"]) & set(e["CHILD"])


def test_dates_are_dd_mm_yyyy(region_dir, episodes):
    for col in ["DECOM", "DEC"]:
        v = episodes[col][episodes[col] != ""]
        assert v.str.match(DATE).all()
        pd.to_datetime(v, format="%d/%m/%Y")
    n = _read(region_dir / "needs_assessments.csv")
    pd.to_datetime(n["ASSESSMENT_DATE"], format="%d/%m/%Y")
    r = _read(region_dir / "placement_requests.csv")
    for col in ["referralDate", "placementDate", "costDate"]:
        pd.to_datetime(r[col], format="%d/%m/%Y")
    a = _read(region_dir / "placement_agreements.csv")
    pd.to_datetime(a["START_DATE"], format="%d/%m/%Y")


def test_rows_sorted_by_child_then_decom(region_dir):
    for f in sorted((region_dir / "903").glob("*/*/episodes.csv")):
        d = _read(f)
        key = list(zip(d["CHILD"].astype(int), pd.to_datetime(d["DECOM"], format="%d/%m/%Y")))
        assert key == sorted(key)


# ---- 903 semantics ----------------------------------------------------------------------------
def test_open_episodes_are_reported_again_next_year(episodes):
    last = episodes["YEAR"].max()
    open_ = episodes[(episodes["DEC"] == "") & (episodes["YEAR"] < last)][["LA", "YEAR", "CHILD", "DECOM"]].copy()
    assert len(open_) > 100
    open_["YEAR"] += 1
    m = open_.merge(episodes[["LA", "YEAR", "CHILD", "DECOM"]], how="left", indicator=True)
    assert (m["_merge"] == "both").all()
    # and an episode is blank only in the returns where it was open
    assert not episodes.duplicated(["LA", "YEAR", "CHILD", "DECOM"]).any()


def test_dec_never_before_decom(stacked):
    closed = stacked.dropna(subset=["dec"])
    assert (closed["dec"] > closed["decom"]).all()


def test_episodes_contiguous_within_a_period(stacked):
    nxt = stacked.groupby("CHILD")["decom"].shift(-1)
    nxt_rne = stacked.groupby("CHILD")["RNE"].shift(-1)
    x1 = stacked["REC"] == "X1"
    assert (stacked.loc[x1, "dec"] == nxt[x1]).all()
    assert nxt_rne[x1].isin(["P", "B", "L", "T", "U"]).all()
    ended = stacked["REC"].str.startswith("E") & nxt.notna()
    assert (nxt[ended] > stacked.loc[ended, "dec"]).all()
    assert (nxt_rne[ended] == "S").all()
    # an open episode is the child's last
    assert nxt[stacked["DEC"] == ""].isna().all()
    # a change of carer carries its reason
    pb = x1 & nxt_rne.isin(["P", "B"])
    assert (stacked.loc[pb, "REASON_PLACE_CHANGE"] != "").all()
    assert set(stacked["RNE"]) >= {"S", "P", "L", "B", "T"}


def test_registered_settings_and_sectors_link(region_dir, episodes):
    reg = _read(region_dir / "provider_register.csv")
    look = _read(region_dir / "postcode_lookup.csv")
    urns = set(episodes["URN"]) - {"XXXXXXX", ""}
    assert urns <= set(reg["URN"])
    # R1: CQC-registered, no Ofsted URN; H5 has one in episodes from 1 April 2023 (DfE 222)
    from_2023 = pd.to_datetime(episodes["DECOM"], format="%d/%m/%Y") >= "2023-04-01"
    registered = episodes["PLACE"].isin(["K1", "K2", "S1"]) | ((episodes["PLACE"] == "H5") & from_2023)
    assert (episodes.loc[registered, "URN"] != "XXXXXXX").all()
    assert (episodes.loc[~registered & (episodes["LS"] != "V3"), "URN"] == "XXXXXXX").all()
    posts = set(look["POSTCODE"])
    assert set(episodes["HOME_POST"]) - {""} <= posts
    assert set(episodes["PL_POST"]) - {""} <= posts
    assert set(reg["POSTCODE"]) <= posts
    caps = reg[[c for c in REGISTER_COLS if c.startswith("CAP_")]].astype(int)
    assert caps.isin([0, 1, 2, 3]).all().all()


def test_agreements_one_row_per_placement(region_dir, stacked):
    a = _read(region_dir / "placement_agreements.csv")
    assert not a.duplicated(["CHILD", "START_DATE"]).any()
    starts = stacked[stacked["RNE"].isin(["S", "P", "B"]) & (stacked["LS"] != "V3")]
    have = set(zip(a["CHILD"], a["START_DATE"]))
    assert set(zip(starts["CHILD"], starts["DECOM"])) <= have
    fee = pd.to_numeric(a["WEEKLY_FEE"])
    assert (fee >= 0).all()
    blank_cap = a["CAP_BEHAVIOUR"] == ""
    assert ((a["URN"] != "XXXXXXX") == blank_cap).all()


def test_needs_assessments_contract(region_dir):
    n = _read(region_dir / "needs_assessments.csv")
    assert set(n["INSTRUMENT"]) == {"rcceval-open-v1"}
    assert set(n["DOMAIN"]) == set(DOMAINS)
    assert set(n["INTENSITY"]) <= {"0", "1", "2", "3"} and set(n["FREQUENCY"]) <= {"0", "1", "2", "3"}
    per = n.groupby(["CHILD", "ASSESSMENT_DATE"]).size()
    assert (per == 8).all()
    assert list(n["DOMAIN"][:8]) == DOMAINS


def test_needs_age_curve_peaks_near_7_and_11(region_dir):
    n = _read(region_dir / "needs_assessments.csv")
    h = pd.concat([_read(f) for f in (region_dir / "903").glob("*/*/header.csv")]).drop_duplicates("CHILD")
    n = n.merge(h[["CHILD", "DOB"]], on="CHILD")
    age = ((pd.to_datetime(n["ASSESSMENT_DATE"], format="%d/%m/%Y") - pd.to_datetime(n["DOB"], format="%d/%m/%Y"))
           .dt.days / 365.25).astype(int)
    curve = n.assign(age=age, i=n["INTENSITY"].astype(int)).groupby("age")["i"].mean()
    assert curve.loc[3:9].idxmax() in (6, 7, 8)
    assert curve.loc[9:15].idxmax() in (10, 11, 12)
    assert curve.loc[7] > curve.loc[9] and curve.loc[11] > curve.loc[9]
    assert curve.loc[11] > curve.loc[15]


def test_placement_requests_use_the_standard_options(region_dir):
    r = _read(region_dir / "placement_requests.csv")
    assert len(r) > 50
    assert set(r["placementType"]) <= {"Foster", "Residential", "Supported Accommodation"}
    for c in ["homeAdaptation", "deprivationOfLiberty", "preferabilityLocation", "educationContinuity"]:
        assert set(r[c]) <= {"true", "false"}
    assert r["placementOfficerName"].str.match(r"^Officer \d+$").all()
    suit = r[["fosterCareSuitability", "residentialCareSuitability", "supportedAccommodationSuitability"]]
    assert ((suit == "Preferred").sum(axis=1) == 1).all()
    pref = {"Foster": "fosterCareSuitability", "Residential": "residentialCareSuitability",
            "Supported Accommodation": "supportedAccommodationSuitability"}
    got_pref = np.array([r.loc[i, pref[t]] == "Preferred" for i, t in r["placementType"].items()])
    assert 0.02 < 1 - got_pref.mean() < 0.4  # some second-best placements, not most
    std = json.loads(require_shared(STANDARD).read_text())
    fields = {f["name"]: f for e in std["entities"] for f in e["fields"]}
    for col in r.columns:
        if col in fields and "options" in fields[col]:
            assert set(r[col]) - {""} <= set(fields[col]["options"]), col


# ---- truth --------------------------------------------------------------------------------------
def test_truth_round_trips_and_describes_the_model(region_dir):
    text = (region_dir / "truth.json").read_text()
    truth = json.loads(text)
    assert json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=True) + "\n" == text
    assert truth["seed"] == 7 and truth["scale"] == "small" and truth["null_needs"] is False
    assert truth["extract_date"] == "2025-03-31"
    assert [(c["code"], c["dfe_code"], c["name"]) for c in truth["councils"]] == [
        ("E06000037", "869", "West Berkshire"), ("E06000038", "870", "Reading")]
    hz = truth["parameters"]["hazard"]
    assert set(hz["baseline"]) == {"unplanned", "planned", "leaving_care"}
    un = truth["true_effects"]["unplanned"]["log_hr"]
    assert un["intensity_behaviour"] == 0.2 and un["mismatch"] == 0.25 and un["second_best"] > 0
    assert set(un) == set(truth["covariate_order"]) == set(hz["covariates"])
    assert truth["description"]


def test_null_mode_zeroes_needs_and_mismatch_effects(tmp_path):
    truth = generate(tmp_path, scale="small", seed=3, null_needs=True)
    assert truth["null_needs"] is True
    for cause, eff in truth["true_effects"].items():
        for name, v in eff["log_hr"].items():
            if name.startswith(("intensity_", "frequency_")) or name == "mismatch":
                assert v == 0.0, (cause, name)
    assert truth["true_effects"]["unplanned"]["log_hr"]["type_residential"] != 0.0
    assert build_params(False)["hazard"]["log_hr"]["unplanned"]["mismatch"] == 0.25


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, scale="county")


# ---- calibration (internal tables, region scale) ------------------------------------------------
@pytest.fixture(scope="module")
def region_report() -> dict:
    return internal_report(simulate_region("region", seed=1))


def test_region_size_and_mix_match_dfe_2024(region_report):
    r = region_report
    assert 10_000 <= r["looked_after_31_march"] <= 12_400
    assert abs(r["pct_foster"] - 67) <= 3
    assert abs(r["pct_childrens_home"] - 10) <= 3
    assert abs(r["pct_supported"] - 7) <= 3
    assert abs(r["pct_parents"] - 6) <= 3
    assert abs(r["pct_uasc"] - 9) <= 2 and abs(r["pct_male"] - 57) <= 3
    assert abs(r["pct_age_10_15"] - 38) <= 3 and abs(r["pct_age_16_plus"] - 27) <= 3
    assert abs(r["pct_cin_N1"] - 66) <= 4


def test_region_stability_distance_and_sdq(region_report):
    r = region_report
    assert abs(r["pct_3plus_placements"] - 11) <= 2
    assert abs(r["pct_long_term_stability"] - 68) <= 5
    assert abs(r["pct_over_20_miles"] - 22) <= 3
    assert abs(r["sdq_mean"] - 14.7) <= 0.6
    assert abs(r["pct_sdq_17_plus"] - 41) <= 3
    assert 8 <= r["pct_started_reentry"] <= 16


def test_generated_files_pass_validation(region_dir, tmp_path):
    """The real loader and validator find nothing fatal or fixable in the generated region."""
    import shutil

    from rcceval.ingest import load, validate
    copy = tmp_path / "region"
    shutil.copytree(region_dir, copy)
    # placement_requests has camelCase headers (the standard's names); checked separately above
    (copy / "placement_requests.csv").unlink()
    report = validate.validate_region(load.read_region(copy), raise_on_stop=False).report
    assert not report.stops, report.summary(limit=5)
    assert "0 fatal, 0 fixable" in report.summary(limit=1)


def test_leap_day_child_turns_18_on_28_february():
    # The DfE rules (pandas DateOffset) read 29 Feb 2004 + 18 years as 28 Feb 2022, so the
    # generator must end care by then; other birthdays are the same calendar day.
    from rcceval.synth.population import birthday18

    def day(s):
        return np.datetime64(s, "D").astype(np.int64)

    got = birthday18(np.array([day("2004-02-29"), day("2004-03-01"), day("2003-02-28"), day("2005-12-31")]))
    want = [day("2022-02-28"), day("2022-03-01"), day("2021-02-28"), day("2023-12-31")]
    assert got.tolist() == want
