"""An attacker on a whole `--by la` run: from the published files alone (CSV tables and results.json of
the region and of each council), recover every hidden cell by subtraction and by linear programming.

The attacker (test_audit_family.attack, independent of audit.py) knows what a reader of the reports
knows: crosstab margins; a council-rows table's ALL row is the sum of its council rows; the Kaplan-Meier
at-risk tables (ties and between-day endings unknown, >= 0); question 2's coverage rows; the headlines
that are table margins; and that the councils' tables add up to the region's, row by row, in every count
column where the rows shown in full do add up (a reader checks additivity on what is shown). No hidden
cell may come out narrower than the protection width. Notebooks 00 and 02 (the issue's examples: the
coverage row and the at-risk recursion) on the small synthetic region with its two councils.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from attacker import attack, subtraction
from test_audit_family import WIDTH, km_equations

from rcceval.reporting.runner import run

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["00_data_quality", "02_placement_survival"]
COUNTS = {"n", "placements", "unplanned_endings", "at_risk", "events", "censored", "children", "with_assessment",
          "with_request", "cla_31_march", "n_3plus_year", "cla_two_years", "n_3plus_two_years",
          "long_term_denominator", "long_term_stable"}
SHARES = ("pct_3plus_placements_year", "pct_long_term_stability", "pct_placements_with_assessment",
          "pct_placements_with_request")


@pytest.fixture(scope="module")
def by_la_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attack")
    (tmp / "pyproject.toml").write_text("# test project\n")
    shutil.copytree(ROOT / "notebooks", tmp / "notebooks")
    (tmp / "parameters").mkdir()
    shutil.copy(ROOT / "parameters" / "costing.yaml", tmp / "parameters" / "costing.yaml")
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    values.update(run_name="attack", notebooks=NOTEBOOKS, synthetic={"scale": "small", "seed": 7, "null_needs": False})
    (tmp / "parameters" / "attack.yaml").write_text(yaml.safe_dump(values))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        outcome = run(tmp / "parameters" / "attack.yaml", by_la=True, run_id="attack")
    assert outcome.ok
    return outcome.run_dir


def _num(v) -> float | None:
    if str(v) == "c":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _flat(value, path=()):
    if isinstance(value, dict) and not ({"count", "total", "value"} >= set(value) and "count" in value):
        for k, v in value.items():
            yield from _flat(v, path + (str(k),))
    elif isinstance(value, dict):
        yield "/".join(path + ("count",)), value["count"]
        yield "/".join(path + ("total",)), value["total"]
    else:
        yield "/".join(path), value


def published(run_dir: Path, notebook: str) -> tuple[dict[str, pd.DataFrame], list]:
    """Every table and headline of the notebook in the region and its councils, named 'run|table', and
    the equations a reader sets up from them."""
    runs = {"region": run_dir, **{p.name: p for p in sorted((run_dir / "la").iterdir())}}
    tables: dict[str, pd.DataFrame] = {}
    eq: list = []
    crosstabs = set()
    for label, folder in runs.items():
        for path in sorted((folder / notebook / "tables").glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            name = f"{label}|{path.stem}"
            if frame.columns[-1] == "Total" and frame.iloc[-1, 0] == "Total":
                frame = frame.set_index(frame.columns[0])
                crosstabs.add(name)
            tables[name] = frame.astype(object)
        heads = json.loads((folder / notebook / "results.json").read_text())["results"]
        rows = {p: v for p, v in _flat(heads) if isinstance(v, (int, str)) and not isinstance(v, bool)}
        tables[f"{label}|headlines"] = pd.DataFrame({"value": list(rows.values())}, index=list(rows), dtype=object)
    for name, frame in tables.items():
        label, table = name.split("|")
        if name in crosstabs:                                      # rows and columns add up to their Totals
            rs, cs = list(frame.index), list(frame.columns)
            eq += [([(name, r, c, 1.0) for c in cs[:-1]] + [(name, r, "Total", -1.0)], 0.0) for r in rs]
            eq += [([(name, r, c, 1.0) for r in rs[:-1]] + [(name, "Total", c, -1.0)], 0.0) for c in cs]
        elif table.startswith("at_risk_"):
            eq += km_equations(name, frame.reset_index(drop=True))
        elif notebook.startswith("02") and table == "coverage":
            lab = list(frame["placements"])
            left = [i for i, x in enumerate(lab) if x.startswith("left out of the main model")]
            eq.append(([(name, 0, "n", -1.0), (name, 1, "n", 1.0), (name, 2, "n", 1.0)], 0.0))
            eq.append(([(name, 2, "n", 1.0)] + [(name, i, "n", -1.0) for i in left]
                       + [(name, lab.index("in the main Cox model"), "n", -1.0)], 0.0))
        elif "LA" in frame.columns and "ALL" in set(frame["LA"]):  # council rows add up to ALL
            for col in [c for c in frame.columns if c in COUNTS]:
                rows = list(range(len(frame)))
                all_row = list(frame["LA"]).index("ALL")
                eq.append(([(name, i, col, 1.0) for i in rows if i != all_row] + [(name, all_row, col, -1.0)], 0.0))
    if notebook.startswith("00"):                                  # headlines that are table margins
        for label in runs:
            h, heads = f"{label}|headlines", tables[f"{label}|headlines"]
            cov, stab = tables[f"{label}|coverage"], tables[f"{label}|stability_measures"]
            a_cov, a_stab = list(cov["LA"]).index("ALL"), list(stab["LA"]).index("ALL")
            eq.append(([(h, "placements_in_window", "value", 1.0), (f"{label}|coverage", a_cov, "placements", -1.0)], 0.0))
            for key, table, row, (count, total) in [
                    ("pct_3plus_placements_year", "stability_measures", a_stab, ("n_3plus_year", "cla_31_march")),
                    ("pct_long_term_stability", "stability_measures", a_stab, ("long_term_stable", "long_term_denominator")),
                    ("pct_placements_with_assessment", "coverage", a_cov, ("with_assessment", "placements")),
                    ("pct_placements_with_request", "coverage", a_cov, ("with_request", "placements"))]:
                eq.append(([(h, f"{key}/count", "value", 1.0), (f"{label}|{table}", row, count, -1.0)], 0.0))
                eq.append(([(h, f"{key}/total", "value", 1.0), (f"{label}|{table}", row, total, -1.0)], 0.0))
                eq.append(([(h, f"{key}/count", "value", 1.0), ("?", f"{label} {key} rest", None, 1.0),
                            (h, f"{key}/total", "value", -1.0)], 0.0))
            cla = tables[f"{label}|cla_by_council_year"]
            for y in cla.columns[:-1]:
                eq.append(([(h, f"children_looked_after_31_march/{y}", "value", 1.0),
                            (f"{label}|cla_by_council_year", "Total", y, -1.0)], 0.0))
    eq += across(tables, [la for la in runs if la != "region"], crosstabs)
    return tables, eq


def _cell(tables, t, i, c):
    frame = tables[t]
    return frame.iloc[i][c] if isinstance(i, int) else frame.loc[i, c]


def across(tables, councils, crosstabs):
    """region = sum of councils, row by row (matched by label; a council without the row: 0), in each
    count column where every row shown in full adds up (headlines: those a reader knows add up)."""
    eq = []
    for name in [n for n in tables if n.startswith("region|")]:
        table = name.split("|")[1]
        parts = [f"{la}|{table}" for la in councils if f"{la}|{table}" in tables]
        if len(parts) != len(councils):
            continue
        region = tables[name]
        if name in crosstabs or table == "headlines":
            cols = list(region.columns)
            rows_of = {p: {str(k): k for k in tables[p].index} for p in [name] + parts}
        else:
            lead = []
            for c in region.columns:
                if c in COUNTS:
                    break
                lead.append(c)
            cols = [c for c in region.columns if c in COUNTS]
            if not lead:
                continue
            rows_of = {p: {"|".join(map(str, r)): i for i, r in enumerate(tables[p][lead].itertuples(index=False))}
                       for p in [name] + parts}
        for col in cols:
            family, consistent, checked = [], True, 0
            for key, r in rows_of[name].items():
                if table == "headlines" and not _additive_headline(key):
                    continue
                terms = [(name, r, col, -1.0)] + [(p, rows_of[p][key], col, 1.0) for p in parts if key in rows_of[p]]
                shown = [_cell(tables, t, i, c) for t, i, c, _ in terms]
                values = [_num(v) for v in shown]
                if any(v is None and str(x) != "c" for v, x in zip(values, shown, strict=True)):
                    continue                                   # a blank or a label: not a count
                if all(v is not None for v in values):
                    checked += 1
                    consistent &= abs(values[0] - sum(values[1:])) < 1e-9
                else:
                    family.append(terms)
            if consistent and (checked or table == "headlines"):
                eq += [(terms, 0.0) for terms in family]
    return eq


def _additive_headline(path: str) -> bool:
    """Headlines a reader knows add up over councils: counts of placements and children of the data as read."""
    return path == "placements_in_window" or path.startswith("children_looked_after_31_march/") or \
        any(path == f"{s}/{part}" for s in SHARES for part in ("count", "total"))


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_no_hidden_cell_of_a_by_la_run_can_be_narrowed(by_la_run, notebook):
    tables, eq = published(by_la_run, notebook)
    hidden = sum(int((f.to_numpy() == "c").sum()) for f in tables.values())
    assert hidden > 0, "nothing hidden: the test would not test"
    assert subtraction(tables, eq) == {}
    got = attack(tables, eq)
    narrow = {k: v for k, v in got.items() if v[1] - v[0] < WIDTH - 1e-6}
    assert narrow == {}
    across_runs = [e for e in eq if len({t[0].split("|")[0] for t in e[0] if t[0] != "?"}) > 1]
    assert across_runs, "no equation across the councils and the region: the test would not test"
    manifest = json.loads((by_la_run / "manifest.json").read_text())
    assert manifest["disclosure"]["family"]["relations_across_runs"] > 0
    assert np.isfinite(manifest["disclosure"]["share_of_run_with_family"])
