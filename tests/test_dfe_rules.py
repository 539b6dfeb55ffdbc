"""The DfE rules (csc-validator-be-903, in its own venv) on hand-made returns with known violations.

These need the validator's environment: they fail when CI=true and it cannot be made, skip locally.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rcceval.ingest import dfe_rules
from rcceval.ingest.problems import ProblemLog
from helpers903 import EPISODES, HEADER

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
        if os.environ.get("CI") == "true":
            pytest.fail(f"the DfE validator's environment cannot be made in CI: {exc}")
        pytest.skip(f"DfE validator environment not available: {exc}")


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
    oc2 = [f"A1,01/01/2012,,,0,1,1,1,1,0,,"]  # row 2: health check for an 11-year-old (546)
    write(root / "SE01" / "2024", hd, eps, oc2)
    return root
