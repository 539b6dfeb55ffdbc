"""Code lists by collection year (DfE rule sets as csc-validator-be-903 0.1.17 encodes them)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from helpers903 import ep, hd, write_return

from rcceval.ingest.load import read_903
from rcceval.ingest.validate import validate_903
from rcceval.spec import codes

SRC = str(Path(__file__).resolve().parents[1] / "src")


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-m", "rcceval.cli", *args], capture_output=True, text=True,
                          env=env, check=False)


def problems(clean, rule: str) -> pd.DataFrame:
    p = clean.report.problems
    return p[p["rule"] == rule]


def test_rare_valid_codes_run_end_to_end_through_validate_and_derive(tmp_path):
    """E14 (remand ended), E9, K3 in 2024-25, SEX M/F in 2024-25: exit 0, the placements derived."""
    write_return(tmp_path, "LA1", 2024, [hd("1"), hd("2")], [
        ep("1", "01/04/2023", "S", "10/05/2023", "E14", ls="L2", place="K1"),
        ep("2", "01/06/2023", "S", "01/07/2023", "E9"),
    ])
    write_return(tmp_path, "LA1", 2025, [hd("3", sex="F")], [
        ep("3", "01/05/2024", "S", "01/06/2024", "E14", ls="L2", place="K3"),
    ])
    r = cli("validate", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fatal" not in r.stdout.split("\n")[0] or " 0 fatal" in r.stdout
    out = tmp_path / "pl.csv"
    r = cli("placements", str(tmp_path), "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    pl = pd.read_csv(out, dtype=str).sort_values("CHILD")
    assert pl["CHILD"].tolist() == ["1", "2", "3"]
    assert pl["PLACE"].tolist() == ["K1", "U6", "K3"]
    assert pl["ENDING"].tolist() == ["left_care"] * 3


def test_sex_codes_by_year(tmp_path):
    write_return(tmp_path, "LA1", 2024, [hd("1", sex="M"), hd("2", sex="2")], [ep("1", "01/04/2023", "S"),
                                                                             ep("2", "01/04/2023", "S")])
    write_return(tmp_path, "LA2", 2025, [hd("3", sex="F"), hd("4", sex="1"), hd("5", sex="X")],
                 [ep(c, "01/04/2024", "S") for c in "345"])
    clean = validate_903(read_903(tmp_path), raise_on_stop=False)
    other = problems(clean, "code.other-year")
    assert sorted(zip(other["CHILD"], other["value"], other["severity"])) == [
        ("1", "M", "warning"), ("4", "1", "warning")]
    fatal = problems(clean, "cell.code")
    assert list(zip(fatal["CHILD"], fatal["column"], fatal["value"])) == [("5", "SEX", "X")]


def test_code_windows_match_the_dfe_rule_sets():
    assert codes.windows("episodes", "REC", "E14") == "...-..."
    assert codes.windows("episodes", "REC", "E9") == "...-..."
    assert codes.windows("episodes", "PLACE", "K3") == "2025-..."
    assert codes.windows("episodes", "PLACE", "P2") == "...-2025"
    assert codes.windows("episodes", "PLACE", "Z11") == "2026-..."
    assert codes.windows("header", "SEX", "M") == "2025-..."
    assert codes.windows("header", "SEX", "1") == "...-2024"


def test_p2_must_end_by_28_october_2023(tmp_path):
    write_return(tmp_path, "LA1", 2024, [hd("1"), hd("2"), hd("3")], [
        ep("1", "01/04/2023", "S", "28/10/2023", "E8", place="P2"),
        ep("2", "01/04/2023", "S", "29/10/2023", "E8", place="P2"),
        ep("3", "01/04/2023", "S", place="P2"),
    ])
    clean = validate_903(read_903(tmp_path))
    assert problems(clean, "dfe.217t")["CHILD"].tolist() == ["2", "3"]


def test_upn_check_letter_and_unknown_codes(tmp_path):
    # A worked example: digits 2..13 '20120012345' + '6'; weights 2..13.
    body = "201200123456"
    total = sum(int(c) * w for c, w in zip(body, range(2, 14)))
    assert total == 256 and codes.upn_check_letter(body) == "ABCDEFGHJKLMNPQRTUVWXYZ"[256 % 23] == "D"
    good, wrong = "D" + body, "E" + body
    assert codes.upn_ok(good) and not codes.upn_ok(wrong)
    assert codes.upn_ok("UN5") and not codes.upn_ok("UN6")
    rows = [f"{c},1,01/01/2012,WBRI,{u},," for c, u in zip("1234", [good, wrong, "UN5", "UN6"])]
    write_return(tmp_path, "LA1", 2024, rows, [ep(c, "01/04/2023", "S") for c in "1234"])
    clean = validate_903(read_903(tmp_path))
    assert problems(clean, "dfe.168")["CHILD"].tolist() == ["2"]
    assert problems(clean, "cell.pattern")[["CHILD", "value"]].values.tolist() == [["4", "UN6"]]


def test_model_type_levels_are_the_groups_and_other():
    assert set(codes.MODEL_TYPE_LEVELS) == set(codes.MODEL_TYPE_GROUPS.values()) | {codes.MODEL_TYPE_OTHER}
    assert len(codes.MODEL_TYPE_LEVELS) == len(set(codes.MODEL_TYPE_LEVELS))
    assert codes.MODEL_TYPE_LEVELS[0] == codes.MODEL_TYPE_REFERENCE


def test_age_band_edges_index_the_bands_as_age_band_labels_them():
    import numpy as np

    from rcceval.derive.frame import age_band

    ages = pd.Series(range(18))
    by_label = age_band(ages).tolist()
    by_edges = [codes.AGE_BAND_LABELS[i] for i in np.searchsorted(codes.AGE_BAND_EDGES, ages, side="right")]
    assert by_label == by_edges
    assert by_label[4:6] == ["0-4", "5-9"] and by_label[12:14] == ["10-12", "13-15"]


def test_age_band_reference_and_the_dfe_entry_bands():
    """The models' age-band reference and the synthetic region's entry bands come from spec.codes only."""
    from rcceval.analyses.prediction.data import M0_CATEGORICAL
    from rcceval.analyses.survival.data import BASELINE_CATEGORICAL
    from rcceval.derive.frame import age_band
    from rcceval.synth.params import build_params

    assert codes.AGE_BAND_REFERENCE == "5-9" and codes.AGE_BAND_OLDEST == "16-17"
    assert M0_CATEGORICAL["AGE_BAND"] == dict(BASELINE_CATEGORICAL)["AGE_BAND"] == codes.AGE_BAND_REFERENCE
    assert age_band(pd.Series([17])).tolist() == [codes.AGE_BAND_OLDEST]
    bands = codes.DFE_ENTRY_AGE_BANDS
    assert [b[1] for b in bands[1:]] == [b[2] for b in bands[:-1]] and (bands[0][1], bands[-1][2]) == (0, 18)
    assert list(build_params()["population"]["age_band_probs"]) == [b[0] for b in bands]


def test_no_module_keeps_its_own_copy_of_a_code_constant():
    """365.25 and the age-band labels are written once, in spec/codes.py (docstrings aside)."""
    import ast

    src = Path(codes.__file__).resolve().parents[1]
    found = []
    for path in sorted(src.rglob("*.py")):
        if path.name == "codes.py" or path.parent.name == "synth" and path.name == "params.py":
            continue          # the synthetic calibration keys its DfE figures by the published labels
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and (node.value == 365.25 or node.value in codes.AGE_BAND_LABELS):
                found.append(f"{path.relative_to(src)}:{node.lineno}: {node.value!r}")
    assert found == []
