"""The DfE rules (csc-validator-be-903, in its own venv) on hand-made returns with known violations.

These need the validator's environment: they fail when CI=true and it cannot be made, skip locally.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers903 import EPISODES, HEADER
from required import missing

from rcceval.ingest import dfe_rules
from rcceval.ingest.problems import ProblemLog

OC2 = ("CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,HEALTH_ASSESSMENT,"
       "SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED")
HOME, PLACED = "SW1A 1AA", "SW1A 2AA"  # real Westminster postcodes (the default LA code is Westminster's)


def row(child, decom, rne, dec="", rec="", rpc="", place="U4", ls="C2", provider="PR1", home=HOME,
        pl=PLACED, urn="XXXXXXX", cin="N1") -> str:
    return f"{child},{decom},{rne},{ls},{cin},{place},{provider},{dec},{rec},{rpc},{home},{pl},{urn}"


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return dfe_rules.ensure_env()
    except dfe_rules.DfeEnvError as exc:
        missing(f"the DfE validator's environment cannot be made: {exc}")


def write(folder: Path, header: list[str], episodes: list[str], oc2: list[str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "header.csv").write_text("\n".join([HEADER, *header]) + "\n")
    (folder / "episodes.csv").write_text("\n".join([EPISODES, *episodes]) + "\n")
    if oc2 is not None:
        (folder / "oc2.csv").write_text("\n".join([OC2, *oc2]) + "\n")


def clean_region(root: Path) -> Path:
    """Two children in care since 2022 in one placement, both years: nothing the targeted rules flag."""
    hd = ["A1,1,01/01/2012,WBRI,UN1,,", "A2,2,01/06/2010,WBRI,UN1,,"]
    prev = [row("A1", "01/05/2022", "S"), row("A2", "01/06/2022", "S")]
    write(root / "SE01" / "2023", hd, prev)
    write(root / "SE01" / "2024", hd, prev)
    return root


def faulty_region(root: Path) -> Path:
    """The clean region plus, in 2024, one known violation of each of five DfE rules."""
    clean_region(root)
    hd = ["A1,1,01/01/2012,WBRI,UN1,,", "A2,2,01/06/2010,WBRI,UN1,,",
          "B1,3,01/01/2011,WBRI,UN1,,",  # row 4: SEX 3 is not a code (101)
          "C1,1,01/01/2011,WBRI,UN1,,", "D1,1,01/01/2011,WBRI,UN1,,", "E1,2,01/01/2011,WBRI,UN1,,"]
    eps = [row("A1", "01/05/2022", "S"), row("A2", "01/06/2022", "S"),
           row("B1", "01/05/2023", "S"),
           row("C1", "01/05/2023", "S", pl="ZZ9 9ZZ"),  # row 5: no such postcode (392c)
           row("D1", "01/05/2023", "S", dec="01/08/2023", rec="X1", rpc="CARPL"),
           row("D1", "01/08/2023", "P"),  # row 7: placement changed, yet nothing did (435)
           row("E1", "01/05/2023", "S", dec="01/08/2023", rec="X1", rpc="CARPL"),
           row("E1", "01/08/2023", "B", place="U6")]  # row 9: both changed, yet LS did not (436)
    oc2 = ["A1,01/01/2012,,,0,1,1,1,1,0,,"]  # row 2: health check for an 11-year-old (546)
    write(root / "SE01" / "2024", hd, eps, oc2)
    return root


TARGETED = {"dfe.101", "dfe.392c", "dfe.435", "dfe.436", "dfe.546"}


def targeted(frame, root: Path) -> set[tuple]:
    hits = frame[frame["rule"].isin(TARGETED)]
    return {(r.rule, str(Path(r.file).relative_to(root)), int(r.row), r.CHILD, r.column)
            for r in hits.itertuples()}


@pytest.mark.slow
def test_known_violations_come_back_on_their_rows(python, tmp_path):
    root = faulty_region(tmp_path)
    frame = dfe_rules.dfe_problems(root).frame()
    assert targeted(frame, root) == {
        ("dfe.101", "SE01/2024/header.csv", 4, "B1", "SEX"),
        ("dfe.392c", "SE01/2024/episodes.csv", 5, "C1", "HOME_POST,PL_POST"),
        ("dfe.435", "SE01/2024/episodes.csv", 7, "D1", "LS,PLACE,PL_POST,URN,PLACE_PROVIDER"),
        ("dfe.436", "SE01/2024/episodes.csv", 9, "E1", "RNE,LS,PLACE,PL_POST,URN,PLACE_PROVIDER"),
        ("dfe.546", "SE01/2024/oc2.csv", 2, "A1", "DOB,HEALTH_CHECK"),
    }
    sex = frame[frame["rule"] == "dfe.101"].iloc[0]
    assert (sex["value"], sex["LA"], sex["severity"]) == ("3", "SE01", "warning")
    assert "lac2023_24" in sex["message"]  # the year ending March 2024 is checked by the 2023-24 rule set
    # the placement's local authority is derived from PL_POST: blamed on PL_POST
    la = frame[frame["rule"] == "dfe.169"]
    assert la[["row", "CHILD", "column", "value"]].values.tolist() == [[5, "C1", "PL_POST", "ZZ9 9ZZ"]]


@pytest.mark.slow
def test_clean_returns_trip_none_of_them(python, tmp_path):
    root = clean_region(tmp_path)
    assert targeted(dfe_rules.dfe_problems(root).frame(), root) == set()


@pytest.mark.slow
def test_parallel_gives_the_same_list(python, tmp_path):
    root = faulty_region(tmp_path)
    one, two = dfe_rules.dfe_problems(root, jobs=1).frame(), dfe_rules.dfe_problems(root, jobs=2).frame()
    assert one.equals(two) and len(one) > 0


def test_severities_and_rule_sets():
    assert [dfe_rules.severity(c) for c in ("102", "141", "147", "143", "144", "146", "149")] == ["fatal"] * 7
    assert [dfe_rules.severity(c) for c in ("142", "356")] == ["fixable"] * 2
    assert [dfe_rules.severity(c) for c in ("101", "392c", "435", "436", "546", "nope")] == ["warning"] * 6
    assert set(dfe_rules.FIXES) == {c for c, s in dfe_rules.SEVERITY.items() if s == "fixable"}
    assert [dfe_rules.ruleset_for(y) for y in (2019, 2023, 2024, 2025, 2027, 2030)] == [
        "lac2022_23", "lac2022_23", "lac2023_24", "lac2024_25", "lac2026_27", "lac2026_27"]


def test_env_folder_follows_the_requirements(monkeypatch, tmp_path):
    monkeypatch.delenv("RCCEVAL_DFE_ENV", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    env = dfe_rules.env_dir()
    assert env.parent == tmp_path / "rcceval" and env.name.startswith("dfe-validator-")
    monkeypatch.setenv("RCCEVAL_DFE_ENV", str(tmp_path / "mine"))
    assert dfe_rules.env_dir() == tmp_path / "mine"


@pytest.mark.parametrize("how", ["fake python", "unwritable", "foreign venv"])
def test_cannot_install_says_so_in_one_line(monkeypatch, tmp_path, how):
    if how == "fake python":
        monkeypatch.setenv("RCCEVAL_DFE_ENV", str(tmp_path / "env"))
        monkeypatch.setenv("RCCEVAL_DFE_PYTHON", str(tmp_path / "no-such-python3.11"))
    elif how == "foreign venv":  # the user's own venv, without the validator: reported, left as it was
        fake = tmp_path / "env" / "bin" / "python"
        fake.parent.mkdir(parents=True)
        fake.write_text("#!/bin/sh\nexit 1\n")
        fake.chmod(0o755)
        (tmp_path / "env" / "mine.txt").write_text("keep")
        monkeypatch.setenv("RCCEVAL_DFE_ENV", str(tmp_path / "env"))
    else:
        blocker = tmp_path / "file"
        blocker.write_text("")
        monkeypatch.setenv("RCCEVAL_DFE_ENV", str(blocker / "env"))  # under a file: cannot be made
    log, out = ProblemLog(), io.StringIO()
    dfe_rules.merge_dfe(log, faulty_region(tmp_path / "data"), out=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("DfE rules skipped: the validator's environment could not be made")
    assert len(log) == 0
    if how == "foreign venv":
        assert (tmp_path / "env" / "mine.txt").read_text() == "keep"


def test_validate_carries_on_with_its_own_rules(tmp_path):
    root = faulty_region(tmp_path / "data")
    env = {**os.environ, "RCCEVAL_DFE_ENV": str(tmp_path / "env"),
           "RCCEVAL_DFE_PYTHON": str(tmp_path / "no-such-python3.11"),
           "PYTHONPATH": str(Path(dfe_rules.__file__).parents[2])}
    run = subprocess.run([sys.executable, "-m", "rcceval.cli", "validate", str(root), "--out", str(tmp_path / "p.csv")],
                         check=False, capture_output=True, text=True, env=env)
    assert "Traceback" not in run.stderr
    skipped = [line for line in run.stdout.splitlines() if line.startswith("DfE rules skipped")]
    assert len(skipped) == 1
    problems = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False)
    assert not problems["rule"].str.startswith("dfe.").any()
    own = problems[problems["rule"] == "cell.code"]  # rcceval's own code check still ran
    assert own[["row", "CHILD", "column", "value"]].values.tolist() == [["4", "B1", "SEX", "3"]]


@pytest.mark.slow
def test_validate_merges_dfe_findings(python, tmp_path):
    root = faulty_region(tmp_path / "data")
    env = {**os.environ, "PYTHONPATH": str(Path(dfe_rules.__file__).parents[2])}
    out = tmp_path / "p.csv"
    run = subprocess.run([sys.executable, "-m", "rcceval.cli", "validate", str(root), "--out", str(out)],
                         check=False, capture_output=True, text=True, env=env)
    assert "Traceback" not in run.stderr
    problems = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert TARGETED <= set(problems["rule"])
    assert (~problems["rule"].str.startswith("dfe.")).any()  # rcceval's own rules beside them


@pytest.mark.slow
def test_a_rule_that_crashes_is_reported_not_run(python, tmp_path):
    root = faulty_region(tmp_path)
    path = root / "SE01" / "2024" / "episodes.csv"
    path.write_text(path.read_text().replace("B1,01/05/2023", "B1,"))  # one blank DECOM
    frame = dfe_rules.dfe_problems(root).frame()
    crashed = frame[frame["rule"] == "dfe.not-run"]
    assert crashed[["severity", "LA", "value"]].values.tolist() == [["warning", "SE01", "503D"]]
    assert crashed["message"].iloc[0].startswith("DfE rule 503D (lac2023_24) could not run: ValueError")
    assert TARGETED <= set(frame["rule"])  # the other rules still ran
