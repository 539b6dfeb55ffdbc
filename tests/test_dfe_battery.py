"""Every finding of the DfE validator comes back in rcceval's problem list on the same rows.

The fixture (dfe_fault_region.py) has one child built to trip each of 71 DfE rules, across header,
episodes, OC2, UASC and the previous year's return. Two checks:
- the rules it is built to trip are reported on that child's rows (known from the fixture alone);
- the validator run by hand on the very files written (its own reading, no rcceval code) gives
  positions; each is the spreadsheet row position + 2 of that file, and rcceval's list holds
  every one of them with the same file, row, CHILD and a column among the rule's fields.
"""
from __future__ import annotations

import json
import os
import subprocess
from importlib import resources
from pathlib import Path

import dfe_fault_region as F
import pytest
from required import missing

from rcceval.ingest import dfe_rules

pytestmark = pytest.mark.slow
KIND_OF = {"Header": "header", "Episodes": "episodes", "OC2": "oc2", "UASC": "uasc"}


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return dfe_rules.ensure_env()
    except dfe_rules.DfeEnvError as exc:
        missing(f"the DfE validator's environment cannot be made: {exc}")


@pytest.fixture(scope="module")
def region(python, tmp_path_factory):
    root = F.write(tmp_path_factory.mktemp("dfe-battery"))
    frame = dfe_rules.dfe_problems(root, jobs=2).frame()
    frame = frame[frame["row"].notna()].copy()  # (a rule that could not run has no row)
    frame["file"] = [str(Path(f).relative_to(root)) for f in frame["file"]]
    return root, frame


def deliberate() -> set[str]:
    rows = [r for files in F.RETURNS.values() for _, table in files.values() for r in table]
    return {r["CHILD"][1:] for r in rows if r["CHILD"].startswith("r")}


def test_each_deliberate_fault_is_reported_on_its_child(region):
    _, frame = region
    reported = set(zip(frame["rule"], frame["file"], frame["row"].astype(int), frame["CHILD"], strict=True))
    missing = [rule for rule in sorted(deliberate())
               if not any((f"dfe.{rule}", file, row, f"r{rule}") in reported for file, row in F.where(f"r{rule}"))]
    assert missing == []
    assert len(deliberate()) >= 50


def test_rows_of_multi_episode_faults(region):
    _, frame = region

    def rows(rule):
        hit = frame[(frame["rule"] == f"dfe.{rule}") & (frame["CHILD"] == f"r{rule}")]
        return sorted(zip(hit["file"], hit["row"].astype(int), hit["column"], strict=True))

    ep = f"{F.LA}/{F.YEAR}/episodes.csv"
    first, second = (row for _, row in F.where("r142") if _ == ep)
    assert rows("142") == [(ep, first, "DEC,REC")]  # the episode left open, not the one after it
    _, moved = (w for w in F.where("r435") if w[0] == ep)
    assert rows("435") == [(ep, moved[1], "LS,PLACE,PL_POST,URN,PLACE_PROVIDER")]  # RNE P, nothing changed
    hd = f"{F.LA}/{F.YEAR}/header.csv"
    assert rows("INT32") == [(hd, r, "CHILD") for _, r in F.where("rINT32") if _ == hd]  # both copies
    assert rows("202") == [(hd, F.where("r202")[-2][1], "SEX")]  # this year's header, not last year's
    bad = f"{F.BAD_LA}/{F.YEAR}/episodes.csv"
    assert rows("141") == [(bad, dict(F.where("r141"))[bad], "DECOM")]


def raw_findings(python: Path, root: Path, la: str, year: int, tmp: Path) -> dict:
    """The validator's own output on the files as written (no rcceval reading in between)."""
    files = lambda y: [str(p) for p in sorted((root / la / str(y)).glob("*.csv"))]  # noqa: E731
    spec = tmp / f"{la}-{year}.json"
    spec.write_text(json.dumps({"ruleset": dfe_rules.ruleset_for(year), "collection_year": str(year), "la": la,
                                "this_year": files(year),
                                "prev_year": files(year - 1) if (root / la / str(year - 1)).is_dir() else [],
                                "out": str(tmp / f"{la}-{year}.out.json")}))
    runner = resources.files("rcceval.ingest.dfe_env").joinpath("runner.py")
    subprocess.run([str(python), str(runner), str(spec)], check=True, capture_output=True, cwd=tmp,
                   env={**os.environ, "PYTHONPATH": ""})
    return json.loads((tmp / f"{la}-{year}.out.json").read_text())


def test_every_validator_finding_is_in_the_problem_list(python, region, tmp_path):
    root, frame = region
    reported = {(r.rule, r.file, int(r.row), r.CHILD): r.column for r in frame.itertuples()}
    expected, rules = [], set()
    for la, year in [(F.LA, F.YEAR), (F.BAD_LA, F.YEAR)]:
        out = raw_findings(python, root, la, year, tmp_path)
        for finding in out["findings"]:
            table = finding["table"].removesuffix("_last")
            y = year - 1 if finding["table"].endswith("_last") else year
            kind = KIND_OF[table]
            cols, rows = F.RETURNS[(la, y)][kind]
            fields = set(out["rules"][finding["rule"]]["fields"]) | {"HOME_POST", "PL_POST"}
            for pos in finding["rows"]:
                key = (f"dfe.{finding['rule']}", f"{la}/{y}/{kind}.csv", pos + 2, rows[pos]["CHILD"])
                expected.append((key, fields, cols))
                rules.add(finding["rule"])
    assert len(rules) >= 50
    missing = [key for key, _, _ in expected if key not in reported]
    assert missing == []
    wrong_column = [(key, reported[key]) for key, fields, cols in expected
                    if reported[key] and not set(reported[key].split(",")) <= fields & set(cols)]
    assert wrong_column == []
