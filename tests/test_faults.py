"""The fault battery: bad inputs through the CLI. Each gives exit != 0 (or a named warning),
one clear line naming file, row, column, value and rule, and never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers903 import EPISODES, HEADER, ep, hd, write_return

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run([sys.executable, "-m", "rcceval.cli", *args], capture_output=True, text=True,
                       env=env, cwd=cwd or ROOT, check=False)
    return r.returncode, r.stdout + r.stderr


def good(root: Path, year: int = 2024) -> Path:
    return write_return(root, "LA1", year, [hd("1"), hd("2")],
                        [ep("1", "01/04/2023", "S", "01/06/2023", "E8"), ep("2", "01/05/2023", "S")])


# --- data faults: (name, writer, expected exit, fragments that the one problem line must hold) ---
def f_feb31(r):
    write_return(r, "LA1", 2024, [hd("1", dob="31/02/2012")], [ep("1", "01/04/2023", "S")])


def f_dob_after_decom(r):
    write_return(r, "LA1", 2024, [hd("1", dob="01/01/2024")], [ep("1", "01/04/2023", "S")])


def f_dec_before_decom(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/06/2023", "S", "01/05/2023", "E8")])


def f_unknown_rec(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S", "01/05/2023", "E99")])


def f_unknown_place(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S", place="ZZ")])


def f_unknown_ls(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S", ls="Q9")])


def f_duplicate_episode(r):
    e = ep("1", "01/04/2023", "S")
    write_return(r, "LA1", 2024, [hd("1")], [e, e])


def f_overlap(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S", "01/08/2023", "X1", "CARPL"),
                                             ep("1", "01/06/2023", "P")])


def f_missing_column(r):
    rows = [",".join(ep("1", "01/04/2023", "S").split(",")[:1] + ep("1", "01/04/2023", "S").split(",")[2:])]
    write_return(r, "LA1", 2024, [hd("1")], rows, episodes_text=EPISODES.replace("DECOM,", ""))


def f_empty_file(r):
    folder = good(r)
    (folder / "episodes.csv").write_text("")


def f_header_only(r):
    folder = good(r)
    (folder / "episodes.csv").write_text(EPISODES + "\n")


def f_latin1(r):
    folder = good(r)
    (folder / "header.csv").write_bytes((HEADER + "\n" + hd("1") + "\n" + "2,1,01/01/2012,WBRI,Caf\xe9,,\n")
                                        .encode("latin-1"))


def f_extra_column(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S")], episodes_text=EPISODES.replace("URN", "URN_NO"))


def f_wrong_year(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/04/2025", "S")])


def f_absurd_age(r):
    write_return(r, "LA1", 2024, [hd("1", dob="01/01/1950")], [ep("1", "01/04/2023", "S")])


def f_dob_future(r):
    write_return(r, "LA1", 2024, [hd("1", dob="01/01/2030")], [ep("1", "01/04/2023", "S")])


def f_no_episodes_file(r):
    folder = good(r)
    (folder / "episodes.csv").unlink()


def f_year_without_episodes(r):
    good(r)
    folder = good(r, 2025)
    (folder / "episodes.csv").unlink()


def f_empty_council(r):
    good(r)
    (r / "LA2").mkdir()


def f_semicolon(r):
    folder = good(r)
    text = (folder / "episodes.csv").read_text().replace(",", ";")
    (folder / "episodes.csv").write_text(text)


def f_xlsx_as_csv(r):
    folder = good(r)
    (folder / "episodes.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 200)


def f_child_missing_header(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S"), ep("9", "01/04/2023", "S")])


def f_bad_decom_text(r):
    write_return(r, "LA1", 2024, [hd("1")], [ep("1", "2023-13-45", "S")])


def f_year_collision(r):
    write_return(r, "LA1", "2024-25", [hd("1")], [ep("1", "01/04/2024", "S")])
    write_return(r, "LA1", 2025, [hd("2")], [ep("2", "01/04/2024", "S")])


def f_day_month_order(r):  # 12/25/2023 can only be month first; 05/02/2023 could be either
    write_return(r, "LA1", 2024, [hd("1"), hd("2")], [ep("1", "12/25/2023", "S"), ep("2", "05/02/2023", "S")])


def f_no_line_ends(r):
    folder = good(r)
    (folder / "episodes.csv").write_text("CHILD," + "x" * 30_000_000)


DATA_FAULTS = [
    ("feb31", f_feb31, 1, ["header.csv", "row 2", "DOB", "31/02/2012"]),
    ("dob_after_decom", f_dob_after_decom, 1, ["row", "DOB", "01/01/2024"]),
    ("dec_before_decom", f_dec_before_decom, 0, ["episodes.csv", "row 2", "DEC", "01/05/2023", "dec-before-decom"]),
    ("unknown_rec", f_unknown_rec, 1, ["episodes.csv", "row 2", "REC", "E99", "cell.code"]),
    ("unknown_place", f_unknown_place, 1, ["episodes.csv", "row 2", "PLACE", "ZZ", "cell.code"]),
    ("unknown_ls", f_unknown_ls, 1, ["episodes.csv", "row 2", "LS", "Q9", "cell.code"]),
    ("duplicate_episode", f_duplicate_episode, 0, ["episodes.csv", "row 2", "duplicate"]),
    ("overlap", f_overlap, 0, ["episodes.csv", "row 2", "DEC", "01/08/2023", "overlap"]),
    ("missing_column", f_missing_column, 1, ["episodes.csv", "DECOM"]),
    ("empty_file", f_empty_file, 1, ["episodes.csv", "empty"]),
    ("header_only", f_header_only, 1, ["episodes.csv", "no rows"]),
    ("latin1", f_latin1, 1, ["header.csv", "file.encoding", "UTF-8"]),
    ("extra_column", f_extra_column, 0, ["episodes.csv", "URN_NO", "unknown column", "did you mean URN"]),
    ("wrong_year", f_wrong_year, 1, ["episodes.csv", "row 2", "DECOM", "01/04/2025", "collection year"]),
    ("absurd_age", f_absurd_age, 1, ["row 2", "DOB", "01/01/1950", "age-18"]),
    ("dob_future", f_dob_future, 1, ["row 2", "DOB", "01/01/2030", "dob-after-decom"]),
    ("no_episodes_file", f_no_episodes_file, 1, ["path.no-episodes", "no episodes file"]),
    ("year_without_episodes", f_year_without_episodes, 1, ["LA1", "2025", "episodes", "incomplete-return"]),
    ("empty_council", f_empty_council, 0, ["LA2", "no 903"]),
    ("semicolon", f_semicolon, 1, ["episodes.csv", ";-delimited"]),
    ("xlsx_as_csv", f_xlsx_as_csv, 1, ["episodes.csv", "Excel workbook"]),
    ("child_missing_header", f_child_missing_header, 0, ["episodes.csv", "row 3", "CHILD", "9"]),
    ("bad_decom_text", f_bad_decom_text, 1, ["episodes.csv", "row 2", "DECOM", "2023-13-45"]),
    ("year_collision", f_year_collision, 1, ["LA1/2024-25", "LA1/2025", "31 March 2025", "year-collision"]),
    ("day_month_order", f_day_month_order, 1, ["episodes.csv", "row 3", "DECOM", "05/02/2023", "12/25/2023",
                                               "day/month order cannot be settled"]),
    ("no_line_ends", f_no_line_ends, 1, ["episodes.csv", "no line ends found", "file.no-line-ends"]),
]


def one_line_with(out: str, fragments: list[str]) -> bool:
    return any(all(f.lower() in line.lower() for f in fragments) for line in out.splitlines())


@pytest.mark.parametrize("name,writer,code,fragments", DATA_FAULTS, ids=[f[0] for f in DATA_FAULTS])
@pytest.mark.parametrize("command", ["validate", "placements"])
def test_data_fault(tmp_path, name, writer, code, fragments, command):
    writer(tmp_path / "d")
    args = [command, str(tmp_path / "d")] + (["--out", str(tmp_path / "p.csv")] if command == "placements" else [])
    rc, out = cli(*args)
    assert "Traceback" not in out, out
    if command == "validate":
        assert rc == code, out
        assert one_line_with(out, fragments), out
    elif code:
        assert rc != 0 and not (tmp_path / "p.csv").exists(), out
        assert not list(tmp_path.glob("*.partial"))


def test_bom_is_read_as_plain_utf8(tmp_path):
    folder = good(tmp_path / "d")
    text = (folder / "header.csv").read_text()
    (folder / "header.csv").write_text("\ufeff" + text, encoding="utf-8")
    rc, out = cli("validate", str(tmp_path / "d"))
    assert rc == 0 and "Traceback" not in out and "0 fatal" in out, out


def test_missing_data_folder(tmp_path):
    rc, out = cli("validate", str(tmp_path / "nowhere"))
    assert rc != 0 and "Traceback" not in out and "nowhere" in out, out


# --- parameter faults through run --check ---
def params_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return p


PARAM_FAULTS = [
    ("unknown_key", "run_name: x\nfoo_bar: 1\n", ["foo_bar"]),
    ("wrong_type", "run_name: x\nanalysis:\n  folds: five\n", ["analysis.folds", "five"]),
    ("date_not_date", "run_name: x\nanalysis_start: 2019-13-45\n", ["analysis_start", "2019-13-45"]),
    ("date_words", "run_name: x\nanalysis_end: soon\n", ["analysis_end", "soon"]),
    ("empty_file", "", ["empty"]),
    ("not_mapping", "- a\n- b\n", ["mapping"]),
    ("missing_folder", "run_name: x\ndata_source: folder\ndata_dir: /nonexistent/folder\n", ["data_dir", "/nonexistent/folder"]),
    ("bad_threshold", "run_name: x\ndisclosure:\n  threshold: -3\n", ["disclosure.threshold", "-3"]),
    ("bad_yaml", "run_name: [x\n", ["YAML"]),
]


@pytest.mark.parametrize("name,text,fragments", PARAM_FAULTS, ids=[f[0] for f in PARAM_FAULTS])
def test_parameter_fault(tmp_path, name, text, fragments):
    rc, out = cli("run", str(params_file(tmp_path, text)), "--check")
    assert "Traceback" not in out, out
    assert rc == 2, out
    assert one_line_with(out, ["p.yaml", *fragments]), out


def test_missing_parameter_file(tmp_path):
    rc, out = cli("run", str(tmp_path / "none.yaml"), "--check")
    assert rc == 2 and "Traceback" not in out and "not found" in out, out


# --- item 4/5 cases outside the data battery ---
def test_year_folder_2024_25_is_the_year_ending_march_2025(tmp_path):
    write_return(tmp_path / "d", "LA1", "2024-25", [hd("1")], [ep("1", "01/04/2024", "S")])
    rc, out = cli("validate", str(tmp_path / "d"), "--no-dfe")
    assert rc == 0 and "after-collection-year" not in out, out
    write_return(tmp_path / "e", "LA1", "2024-25", [hd("1")], [ep("1", "01/04/2025", "S")])  # after 31/03/2025
    rc, out = cli("validate", str(tmp_path / "e"), "--no-dfe")
    assert rc == 1 and one_line_with(out, ["2024-25/episodes.csv", "row 2", "DECOM", "01/04/2025",
                                            "after-collection-year"])


def stability_rows(out: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("LA1 ", "ALL "))}


def test_one_year_of_returns_refuses_the_history_measures(tmp_path):
    # in care since 2020, one placement: looked after 2.5+ years, but only the 2023-24 return is here
    write_return(tmp_path / "d", "LA1", 2024, [hd("1"), hd("2")],
                 [ep("1", "01/05/2020", "S"), ep("2", "01/05/2023", "S")])
    rc, out = cli("stability", str(tmp_path / "d"), "--year", "2024")
    assert rc == 0 and "Traceback" not in out, out
    assert one_line_with(out, ["LA1", "3+ placements over two years", "2022-23", "not computed", "no-history"])
    assert one_line_with(out, ["LA1", "long-term stability", "2021-22, 2022-23", "not computed", "no-history"])
    row = stability_rows(out)["LA1"]  # LA year cla n3 pct3 | cla2 n2 pct2 | denom stable pct
    assert row[2:5] == ["2", "0", "0.0"] and row[5:] == ["NaN"] * 6, out
    # with the two returns before it, the same child counts: long-term stable
    write_return(tmp_path / "d", "LA1", 2022, [hd("1")], [ep("1", "01/05/2020", "S")])
    write_return(tmp_path / "d", "LA1", 2023, [hd("1")], [ep("1", "01/05/2020", "S")])
    rc, out = cli("stability", str(tmp_path / "d"), "--year", "2024")
    assert rc == 0 and "no-history" not in out, out
    assert stability_rows(out)["LA1"][5:] == ["1", "0", "0.0", "1", "1", "100.0"], out


@pytest.mark.parametrize("command", [["validate", "DATA"], ["run", "parameters/default.yaml", "--check"]])
def test_jobs_zero_is_a_clear_error(tmp_path, command):
    good(tmp_path / "d")
    rc, out = cli(*[str(tmp_path / "d") if a == "DATA" else a for a in command], "--jobs", "0")
    assert rc == 2 and "Traceback" not in out, out
    assert one_line_with(out, ["--jobs 0", "1 or more"]), out


def test_synth_refuses_an_existing_data_folder(tmp_path):
    folder = good(tmp_path / "d").parents[1]
    before = (folder / "LA1" / "2024" / "episodes.csv").read_text()
    rc, out = cli("synth", "--out", str(folder), "--scale", "small")
    assert rc == 2 and "Traceback" not in out and one_line_with(out, [str(folder), "already holds data", "--force"])
    assert (folder / "LA1" / "2024" / "episodes.csv").read_text() == before and not (folder / "truth.json").exists()
    (tmp_path / "f").write_text("mine")
    rc, out = cli("synth", "--out", str(tmp_path / "f"), "--scale", "small")
    assert rc == 2 and one_line_with(out, ["is a file"]) and (tmp_path / "f").read_text() == "mine"


def test_placements_xlsx_is_a_real_workbook(tmp_path):
    import datetime

    import openpyxl
    good(tmp_path / "d")
    rc, out = cli("placements", str(tmp_path / "d"), "--out", str(tmp_path / "p.xlsx"))
    assert rc == 0, out
    sheet = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    rows = list(sheet.values)
    head = list(rows[0])
    assert len(rows) == 3 and [r[head.index("CHILD")] for r in rows[1:]] == ["1", "2"]
    start = rows[1][head.index("START")]
    assert isinstance(start, datetime.datetime) and start.date() == datetime.date(2023, 4, 1)
    rc, out = cli("placements", str(tmp_path / "d"), "--out", str(tmp_path / "p.txt"))
    assert rc == 2 and one_line_with(out, ["p.txt", "unknown file type", ".xlsx"]) and not (tmp_path / "p.txt").exists()


def test_schema_docs_onto_a_file(tmp_path):
    (tmp_path / "docs").write_text("mine")
    rc, out = cli("schema", "--docs", str(tmp_path / "docs"))
    assert rc == 2 and "Traceback" not in out and one_line_with(out, ["docs", "is a file", "folder"]), out
    assert (tmp_path / "docs").read_text() == "mine"
