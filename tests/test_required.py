"""The one rule for what tests need from outside: skip locally, fail under CI (tests/required.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import required


@pytest.mark.parametrize("ci, outcome", [("", pytest.skip.Exception), ("false", pytest.skip.Exception),
                                         ("true", pytest.fail.Exception), ("1", pytest.fail.Exception)])
def test_a_missing_shared_file_skips_locally_and_fails_under_ci(monkeypatch, tmp_path, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=re.escape(str(tmp_path / "reference" / "nothing.json")) + " not found"):
        required.require_shared("reference/nothing.json", shared=tmp_path)


def test_a_present_shared_file_is_returned(monkeypatch, tmp_path):
    monkeypatch.setenv("CI", "true")
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "a.json").write_text("{}")
    assert required.require_shared("reference/a.json", shared=tmp_path) == tmp_path / "reference" / "a.json"
    assert required.SHARED == Path(__file__).resolve().parents[2] / "shared"


def test_no_test_skips_on_its_own():
    """Every skip for something outside the package goes through required.py (no skipif on a file
    existing, no importorskip, of rcceval or anything else)."""
    here = Path(__file__).parent
    offenders = []
    for path in sorted(here.glob("*.py")):
        if path.name in ("required.py", Path(__file__).name):
            continue
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), start=1):
            if re.search(r"importorskip\(|pytest\.skip\(|mark\.skipif\(", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []
