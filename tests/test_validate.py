"""Loading quirks, every validation rule, and clear errors for malformed files."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from helpers903 import EPISODES, HEADER, ep, hd, write_return

from rcceval.cli import main
from rcceval.derive.placements import derive_placements
from rcceval.errors import DataValidationError
from rcceval.ingest.load import find_903_files, read_903, year_from_dir
from rcceval.ingest.validate import validate_903


def problems(clean, rule):
    p = clean.report.problems
    return p.loc[p["rule"] == rule]


def test_year_from_folder_and_file_names(tmp_path):
    assert [year_from_dir(x) for x in ["2024", "2023-24", "2023_2024", "LA1", "903"]] == [2024, 2024, 2024, None, None]
    for name in ["2019-Episodes.CSV", "2019_header.csv", "oc2.csv", "2022-23_episodes.csv"]:
        (tmp_path / "SE01").mkdir(exist_ok=True)
        (tmp_path / "SE01" / name).write_text("x")
    (tmp_path / "SE01" / "notes.txt").write_text("x")
    found = {(k, p.name, la, y) for k, p, la, y in find_903_files(tmp_path)}
    assert found == {("episodes", "2019-Episodes.CSV", "SE01", 2019), ("header", "2019_header.csv", "SE01", 2019),
                     ("oc2", "oc2.csv", "SE01", None), ("episodes", "2022-23_episodes.csv", "SE01", 2023)}


def test_real_world_csv_quirks(tmp_path):
    """BOM, lower-case headers, stray whitespace, ISO dates, lower-case codes all read."""
    folder = tmp_path / "LA1" / "2024"
    folder.mkdir(parents=True)
    (folder / "header.csv").write_bytes(("\ufeff" + HEADER.lower() + "\n 1 ,1, 2012-01-01 ,wbri,,,\n").encode("utf-8"))
    (folder / "Episodes.csv").write_text(" child , decom ,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
                                         "1, 01/04/2023 ,s,c2,n1,u6,PR1,,,,AB1 2,AB1 3,XXXXXXX\n")
    clean = validate_903(read_903(tmp_path))
    assert clean.report.count("fatal") == 0
    e = clean.episodes.iloc[0]
    assert (e["CHILD"], e["DECOM"], e["RNE"], e["PLACE"], e["LA"], e["YEAR"]) == \
        ("1", pd.Timestamp("2023-04-01"), "S", "U6", "LA1", 2024)
    assert clean.header.iloc[0]["DOB"] == pd.Timestamp("2012-01-01")


def test_stacked_files_with_la_and_year_columns(tmp_path):
    rows_ = [f"LA2,2023,{ep('7', '01/06/2022', 'S')}", f"LA2,2024,{ep('7', '01/06/2022', 'S', '01/01/2024', 'E13')}"]
    (tmp_path / "episodes.csv").write_text("LA,YEAR," + EPISODES + "\n" + "\n".join(rows_) + "\n")
    (tmp_path / "header.csv").write_text("LA,YEAR," + HEADER + "\nLA2,2024," + hd("7") + "\n")
    clean = validate_903(read_903(tmp_path))
    assert len(clean.episodes) == 1  # the later return wins
    assert clean.episodes.iloc[0]["DEC"] == pd.Timestamp("2024-01-01")
    assert derive_placements(clean).iloc[0]["ENDING"] == "left_care"


def test_excel_returns(tmp_path):
    folder = tmp_path / "LA3" / "2024"
    folder.mkdir(parents=True)
    pd.DataFrame([["1", "2", "01/01/2012", "WBRI", "", "", ""]], columns=HEADER.split(",")).to_excel(folder / "header.xlsx", index=False)
    pd.DataFrame([ep("1", "01/04/2023", "S").split(",")], columns=EPISODES.split(",")).to_excel(folder / "episodes.xlsx", index=False)
    clean = validate_903(read_903(tmp_path))
    assert clean.episodes.iloc[0]["DECOM"] == pd.Timestamp("2023-04-01")
    assert clean.header.iloc[0]["SEX"] == "2"


def test_fixable_rules_apply_and_record(tmp_path):
    eps = [
        ep("1", "01/04/2023", "S", "01/07/2023", "X1", "CREQB"),
        ep("1", "01/04/2023", "S", "01/07/2023", "X1", "CREQB"),   # exact duplicate
        ep("1", "01/06/2023", "P", "01/09/2023", "X1", "CARPL"),   # overlaps: the previous one is cut at 01/06
        ep("1", "01/09/2023", "P", "", "", ""),                    # open but followed: closed at 01/10
        ep("1", "01/10/2023", "P", "01/11/2023", "E13"),
        ep("1", "01/01/2024", "P"),                                # gap, RNE P: new period anyway
        ep("2", "01/05/2023", "S", "01/04/2023", "E13"),           # DEC before DECOM: dropped
        ep("9", "01/05/2023", "S"),                                # no header row: dropped
    ]
    write_return(tmp_path, "LA1", 2024, [hd("1"), hd("2"), hd("1")], eps)  # child 1 twice in the header
    clean = validate_903(read_903(tmp_path))
    assert problems(clean, "episode.exact-duplicate")["row"].tolist() == [2]
    assert problems(clean, "episode.overlap")[["row", "value"]].values.tolist() == [[3, "01/07/2023"]]
    assert problems(clean, "episode.open-followed")["row"].tolist() == [5]
    assert problems(clean, "episode.gap")[["row", "value"]].values.tolist() == [[7, "P"]]
    assert problems(clean, "episode.dec-before-decom")["CHILD"].tolist() == ["2"]
    assert problems(clean, "episode.no-header")["CHILD"].tolist() == ["9"]
    assert problems(clean, "header.exact-duplicate")["row"].tolist() == [2]
    assert set(clean.report.problems["severity"]) <= {"fixable", "warning"}
    p = derive_placements(clean)
    assert p[["PERIOD_NO", "START", "END", "ENDING"]].astype(str).values.tolist() == [
        ["1", "2023-04-01", "2023-06-01", "unplanned_change"],
        ["1", "2023-06-01", "2023-09-01", "planned_change"],
        ["1", "2023-09-01", "2023-10-01", "unknown"],  # reason for the change missing
        ["1", "2023-10-01", "2023-11-01", "left_care"],
        ["2", "2024-01-01", "NaT", "open"],
    ]
    with pytest.raises(DataValidationError) as err:
        validate_903(read_903(tmp_path), strict=True)
    assert "strict mode" in str(err.value)


def test_warnings_for_codes_of_another_year_and_unexpected_reason(tmp_path):
    eps = [ep("1", "01/04/2019", "S", "01/05/2019", "X1", "CARPL", place="Q2"), ep("1", "01/05/2019", "L", "", "", "CHILD")]
    write_return(tmp_path, "LA1", 2020, [hd("1")], eps)
    clean = validate_903(read_903(tmp_path))
    other = problems(clean, "code.other-year")
    assert other[["column", "value", "severity"]].values.tolist() == [["PLACE", "Q2", "warning"]]
    assert problems(clean, "episode.rpc-unexpected")["value"].tolist() == ["CARPL"]


def test_dob_after_decom_is_fatal(tmp_path):
    write_return(tmp_path, "LA1", 2024, [hd("1", dob="01/01/2024")], [ep("1", "01/04/2023", "S")])
    with pytest.raises(DataValidationError) as err:
        validate_903(read_903(tmp_path))
    p = err.value.report.problems
    assert p[["rule", "CHILD", "value"]].values.tolist() == [["child.dob-after-decom", "1", "01/01/2024"]]


@pytest.mark.parametrize("case, rule, column, value, row", [
    ("missing_column", "file.missing-column", "DECOM", "", None),
    ("bad_date", "cell.date", "DEC", "2023/13/45", 3),
    ("unknown_code", "cell.code", "PLACE", "ZZ", 2),
    ("blank_required", "cell.required", "RNE", "", 2),
    ("empty_file", "file.empty", "", "", None),
    ("wrong_encoding", "file.encoding", "", "b'\\xe9t\\xe9,'", None),
])
def test_malformed_files_give_clear_errors(tmp_path, capsys, case, rule, column, value, row):
    good = [ep("1", "01/04/2023", "S", "01/05/2023", "X1", "CARPL"), ep("1", "01/05/2023", "P")]
    folder = write_return(tmp_path, "LA1", 2024, [hd("1")], good)
    target = folder / "episodes.csv"
    if case == "missing_column":
        target.write_text(EPISODES.replace("DECOM,", "") + "\n" + ",".join(good[0].split(",")[:1] + good[0].split(",")[2:]) + "\n")
    elif case == "bad_date":
        target.write_text(EPISODES + "\n" + good[0] + "\n" + ep("1", "01/05/2023", "P", "2023/13/45", "E13") + "\n")
    elif case == "unknown_code":
        target.write_text(EPISODES + "\n" + good[0].replace("U6", "ZZ") + "\n" + good[1] + "\n")
    elif case == "blank_required":
        target.write_text(EPISODES + "\n" + good[0].replace(",S,", ",,") + "\n" + good[1] + "\n")
    elif case == "empty_file":
        target.write_text("")
    elif case == "wrong_encoding":
        target.write_bytes((EPISODES + "\n").encode() + "été,".encode("latin-1") + b"\n")
    with pytest.raises(DataValidationError) as err:
        validate_903(read_903(tmp_path))
    fatal = err.value.report.problems.query("severity == 'fatal'")
    assert fatal["rule"].tolist() == [rule]
    hit = fatal.iloc[0]
    assert hit["file"].endswith("episodes.csv") and hit["column"] == column and hit["value"] == value
    assert (pd.isna(hit["row"]) if row is None else hit["row"] == row)
    # the command line says the same without a traceback, and exits 1
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert rule in out and "Traceback" not in out


def test_cli_never_shows_a_traceback(tmp_path):
    write_return(tmp_path, "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S").replace("U6", "ZZ")])
    run = subprocess.run([sys.executable, "-m", "rcceval.cli", "placements", str(tmp_path), "--out",
                          str(tmp_path / "p.csv")], capture_output=True, text=True)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "cell.code" in run.stderr and "PLACE" in run.stderr
    assert not (tmp_path / "p.csv").exists()


def test_cli_writes_placements(tmp_path):
    write_return(tmp_path / "903", "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S")])
    out = tmp_path / "out" / "placements.csv"
    assert main(["placements", str(tmp_path), "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str)
    assert table[["LA", "CHILD", "START", "ENDING", "DURATION_DAYS"]].values.tolist() == \
        [["LA1", "1", "2023-04-01", "open", "365"]]


def test_oc2_and_uasc_are_read_and_checked(tmp_path):
    folder = write_return(tmp_path, "LA1", 2024, [hd("1"), hd("2")], [ep("1", "01/04/2022", "S"), ep("2", "01/04/2022", "S")])
    (folder / "oc2.csv").write_text("CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,"
                                    "HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED\n"
                                    "1,01/01/2012,18,SDQ1,0,1,1,1,1,0,,\n2,01/01/2012,41,SDQ1,0,1,1,1,1,0,,\n")
    (folder / "uasc.csv").write_text("CHILD,SEX,DOB,DUC\n2,1,01/01/2012,01/01/2030\n")
    with pytest.raises(DataValidationError) as err:
        validate_903(read_903(tmp_path))
    fatal = err.value.report.problems.query("severity == 'fatal'")
    assert fatal[["rule", "CHILD", "column", "value", "row"]].values.tolist() == [["cell.range", "2", "SDQ_SCORE", "41", 3]]
    (folder / "oc2.csv").write_text((folder / "oc2.csv").read_text().replace(",41,", ",17,"))
    clean = validate_903(read_903(tmp_path))
    assert clean.oc2["SDQ_SCORE"].tolist() == [18, 17] and clean.oc2["YEAR"].tolist() == [2024, 2024]
    assert clean.uasc[["CHILD", "DUC"]].values.tolist() == [["2", pd.Timestamp("2030-01-01")]]


def test_other_inputs_are_validated_with_the_903(tmp_path):
    write_return(tmp_path / "903", "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S")])
    (tmp_path / "Needs_Assessments.csv").write_text(
        "CHILD,LA,ASSESSMENT_DATE,INSTRUMENT,DOMAIN,INTENSITY,FREQUENCY\n"
        "1,LA1,02/04/2023,rcceval-open-v1,behaviour,2,3\n"
        "1,LA1,02/04/2023,rcceval-open-v1,behaviour,2,3\n"      # exact duplicate: fixable
        "1,LA1,02/04/2023,rcceval-open-v1,risk_to_self,1,\n"    # frequency missing: fatal
        "1,LA1,02/04/2023,rcceval-open-v1,learning_communication,5,1\n")  # intensity out of range: fatal
    from rcceval.ingest.load import read_region
    from rcceval.ingest.validate import validate_region
    region = read_region(tmp_path)
    assert set(region.tables) == {"needs_assessments"}
    report = validate_region(region, raise_on_stop=False).report
    got = report.problems[["severity", "rule", "row", "column"]].values.tolist()
    assert got == [["fatal", "cell.range", 5, "INTENSITY"], ["fatal", "needs.intensity_with_frequency", 4, ""],
                   ["fatal", "needs.measure_given", 4, ""], ["fixable", "needs_assessments.exact-duplicate", 2, ""]]
    assert report.n_files == 3 and report.stops
    assert main(["validate", str(tmp_path)]) == 1
