"""Differencing attacks the per-table audit alone missed: across councils and the region, through the
Kaplan-Meier at-risk recursion (with ties), through question 2's coverage rows and headline counts.

The attacker here is written independently of audit.py: from the published CSVs and results.json
alone it sets up the equations a reader knows, with unpublished non-negative quantities (placements
ending exactly on a reported day, between two reported days...) as free variables >= 0, and solves
for every hidden cell by subtraction and by linear programming (scipy HiGHS).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from attacker import attack, narrowest, subtraction

from rcceval.analyses.survival.result import coverage_relations
from rcceval.reporting import family
from rcceval.reporting.publish import Publisher
from rcceval.reporting.report import RUN_CACHE_ENV
from rcceval.reporting.results import Count, Relation, Result, Table, Term, km_at_risk_relations

WIDTH = 5


# ---------------------------------------------------------------- the attacker

def km_equations(name: str, frame: pd.DataFrame, key: str = "profile"):
    """A reader's equations of a Kaplan-Meier at-risk table (at risk = #{T >= day}; events and censored
    cumulative, #{T <= day}): ties on a day and endings between days are unknown but >= 0."""
    eq = []
    for prof, g in frame.groupby(key, sort=False):
        rows = [int(i) for i in g.index[np.argsort(pd.to_numeric(g["day"]).to_numpy(), kind="stable")]]
        start = rows[0]
        for a, b in zip(rows[:-1], rows[1:], strict=True):
            tie_b, tie_a = ("?", f"{name}{prof} tie {b}", None, -1.0), ("?", f"{name}{prof} tie {a}", None, -1.0)
            eq.append(([(name, b, "at_risk", 1.0), (name, b, "events", 1.0), (name, b, "censored", 1.0),
                        (name, start, "at_risk", -1.0), tie_b], 0.0))
            eq.append(([(name, a, "at_risk", 1.0), (name, b, "at_risk", -1.0), ("?", f"{name}{prof} gap {b}", None, -1.0)]
                       + ([tie_a] if a != start else []), 0.0))
            for col in ("events", "censored"):
                eq.append(([(name, b, col, 1.0), (name, a, col, -1.0), ("?", f"{name}{prof} new {col} {b}", None, -1.0)],
                           0.0))
        last = rows[-1]
        eq.append(([(name, last, "at_risk", 1.0), ("?", f"{name}{prof} tie {last}", None, -1.0),
                    ("?", f"{name}{prof} beyond", None, -1.0)], 0.0))
    return eq


def read(folder, notebook, name):
    return pd.read_csv(folder / notebook / "tables" / f"{name}.csv").astype(object)


# ---------------------------------------------------------------- at-risk recursion with ties

KM = pd.DataFrame({"profile": "p", "day": [0, 90, 180], "at_risk": [40, 6, 3], "events": [0, 22, 25],
                   "censored": [0, 12, 12]})


@dataclass(frozen=True)
class _KM(Result):
    relate: bool = True

    def tables(self):
        rel = km_at_risk_relations("at_risk", KM) if self.relate else ()
        return {"at_risk": Table(KM, "model", counts=("at_risk", "events", "censored"), relations=rel)}


def test_km_relations_hold_with_the_unpublished_counts_they_name():
    """Ties on a day: D = at risk + events + censored - all; endings in between: the fall of at risk less the ties."""
    rels = km_at_risk_relations("t", KM)
    unknowns = {t.name: t.value for r in rels for t in r.terms if not isinstance(t, Term)}
    assert unknowns == {"t[p] ending on day 90": 0.0, "t[p] ending before day 90": 34.0,
                        "t[p] new events by day 90": 22.0, "t[p] new censored by day 90": 12.0,
                        "t[p] ending on day 180": 0.0, "t[p] ending before day 180": 3.0,
                        "t[p] new events by day 180": 3.0, "t[p] new censored by day 180": 0.0,
                        "t[p] followed beyond day 180": 3.0}
    bad = KM.assign(at_risk=[40, 6, 1])       # 1 + 25 + 12 < 40: not cumulative counts of one follow-up
    with pytest.raises(ValueError, match="ending on day 180 would be -2"):
        km_at_risk_relations("t", bad)


def test_a_hidden_at_risk_count_narrowed_by_the_recursion_is_protected(tmp_path):
    """Day 180's 3 at risk: at least 40 - 25 - 12 = 3 (ties only add), at most 6 - 3 = 3 + ties, and
    ties <= the 3 new endings: [3, 6] by hand, 3 values, below the width."""
    Publisher(tmp_path / "old", "02").publish(_KM(relate=False))
    old = read(tmp_path / "old", "02", "at_risk")
    assert old["at_risk"].tolist() == ["40", "6", "c"]
    eq = km_equations("at_risk", KM)
    got = attack({"at_risk": old}, eq)
    assert {k: (round(lo, 9), round(hi, 9)) for k, (lo, hi) in got.items()} == {("at_risk", 2, "at_risk"): (3.0, 6.0)}

    pub = Publisher(tmp_path / "new", "02")
    pub.publish(_KM())
    new = read(tmp_path / "new", "02", "at_risk")
    got = attack({"at_risk": new}, eq)
    assert len(got) >= 2 and narrowest(got) >= WIDTH
    assert subtraction({"at_risk": new}, eq) == {}
    # the cheapest cells that widen it: day 180's censored and events (day 90's 6 alone would not: the
    # 3 new endings still bound the ties); then 3 lies in [0, 6], events in [22, 28], censored in [12, 18]
    assert new["at_risk"].tolist() == ["40", "6", "c"] and new["censored"].tolist() == ["0", "12", "c"]
    assert new["events"].tolist() == ["0", "22", "c"]
    assert {k: (round(lo, 9), round(hi, 9)) for k, (lo, hi) in got.items()} == {
        ("at_risk", 2, "at_risk"): (0.0, 6.0), ("at_risk", 2, "events"): (22.0, 28.0),
        ("at_risk", 2, "censored"): (12.0, 18.0)}
    assert pub.audit_summary()["suppressed_by_audit"] == 2


# ---------------------------------------------------------------- coverage rows and headline counts

COVERAGE = pd.DataFrame({
    "placements": ["placements starting in the window", "no follow-up (started on the extract date)", "followed up",
                   "left out of the main model: no needs assessment in force",
                   "left out of the main model: capability unknown (mismatch missing)", "in the main Cox model"],
    "n": [2805, 0, 2805, 3, 200, 2602], "unplanned_endings": [None] * 5 + [400]})
COVERAGE_EQ = [([("coverage", 0, "n", -1.0), ("coverage", 1, "n", 1.0), ("coverage", 2, "n", 1.0)], 0.0),
               ([("coverage", 2, "n", 1.0), ("coverage", 3, "n", -1.0), ("coverage", 4, "n", -1.0),
                 ("coverage", 5, "n", -1.0)], 0.0)]


@dataclass(frozen=True)
class _Coverage(Result):
    relate: bool = True

    def tables(self):
        return {"coverage": Table(COVERAGE, counts=("n", "unplanned_endings"),
                                  relations=coverage_relations(COVERAGE) if self.relate else ())}

    def headlines(self):
        return {"main_model": {"n": Count(2602), "excluded": {"no needs assessment in force": Count(3),
                                                               "capability unknown (mismatch missing)": Count(200)}}}

    def relations(self):
        if not self.relate:
            return ()
        h = "main_model/excluded/"
        return (Relation((Term("headlines", "main_model/n", "value"),
                          Term("coverage", {"placements": "in the main Cox model"}, "n", -1.0))),
                Relation((Term("headlines", h + "capability unknown (mismatch missing)", "value"),
                          Term("coverage", {"placements": COVERAGE["placements"][4]}, "n", -1.0))))


def test_coverage_followed_up_less_left_out_is_the_main_model_and_its_headlines_follow(tmp_path):
    """2805 - 200 - 2602 = 3: the hidden 'no needs assessment' row came back by subtraction."""
    Publisher(tmp_path / "old", "02").publish(_Coverage(relate=False))
    old = read(tmp_path / "old", "02", "coverage")
    assert old["n"].tolist() == ["2805", "0", "2805", "c", "200", "2602"]
    assert subtraction({"coverage": old}, COVERAGE_EQ) == {("coverage", 3, "n"): 3.0}

    pub = Publisher(tmp_path / "new", "02")
    pub.publish(_Coverage())
    pub.save()
    new = read(tmp_path / "new", "02", "coverage")
    assert new["n"].tolist() == ["2805", "0", "2805", "c", "c", "2602"]      # the other reason's 200 too
    got = attack({"coverage": new}, COVERAGE_EQ)
    assert got == {("coverage", 3, "n"): (0.0, 203.0), ("coverage", 4, "n"): (0.0, 203.0)}
    # the headline equal to the hidden 200 is hidden too; the one equal to a shown row stays
    heads = json.loads((tmp_path / "new" / "02" / "results.json").read_text())["results"]["main_model"]
    assert heads == {"n": 2602, "excluded": {"no needs assessment in force": "c",
                                             "capability unknown (mismatch missing)": "c"}}
    assert pub.audit_summary()["suppressed_by_audit"] == 2


# ---------------------------------------------------------------- councils summing to the region

PARTS = {"LA1": [2, 50, 30], "LA2": [10, 40, 25]}


@dataclass(frozen=True)
class _Cats(Result):
    n: tuple

    def tables(self):
        return {"cats": Table(pd.DataFrame({"cat": ["a", "b", "c"], "n": list(self.n)}), counts=("n",))}

    def headlines(self):
        return {"placements": Count(int(sum(self.n)))}


def _publish_family(root):
    runs = {family.REGION: root, **{la: root / "la" / la for la in PARTS}}
    values = {family.REGION: tuple(np.sum(list(PARTS.values()), axis=0)), **{la: tuple(v) for la, v in PARTS.items()}}
    for label, folder in runs.items():
        pub = Publisher(folder, "00")
        pub.publish(_Cats(values[label]))
        pub.save()
    return runs


def test_a_cell_hidden_in_one_council_but_given_by_the_region_less_the_others_is_protected(tmp_path, monkeypatch):
    """LA1's 2 is hidden, but the region's 12 less LA2's 10 gives it back; the family audit hides LA2's
    10 (the smallest other cell of that sum) and, run again, LA2's publisher hides it before its own audit."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv(RUN_CACHE_ENV, str(cache))
    runs = _publish_family(tmp_path / "run")
    cats = {label: read(folder, "00", "cats") for label, folder in runs.items()}
    cross = [([(family.REGION, r, "n", -1.0)] + [(la, r, "n", 1.0) for la in PARTS], 0.0) for r in range(3)]
    assert subtraction(cats, cross) == {("LA1", 0, "n"): 2.0}

    states = family.load_states(runs, "00")
    assert sorted(states) == sorted(runs)
    found = family.audit_family("00", states, Publisher(tmp_path, "x").settings)
    assert found.relations_across == 4           # three categories and the headline count
    assert found.hide == {"LA2": {"cats": [(0, 0)]}}
    assert found.keep == {"LA2": {"cats": [(0, 0)]}}      # all LA2 hides when run again (no other cell)
    family.hand_back(runs, "00", found.keep)

    runs = _publish_family(tmp_path / "run")          # the notebooks run again
    cats = {label: read(folder, "00", "cats") for label, folder in runs.items()}
    assert cats["LA2"]["n"].tolist() == ["c", "40", "25"] and cats["LA1"]["n"].tolist() == ["c", "50", "30"]
    assert cats[family.REGION]["n"].tolist() == [12, 90, 55]
    got = attack(cats, cross)
    assert got == {("LA1", 0, "n"): (0.0, 12.0), ("LA2", 0, "n"): (0.0, 12.0)}
    again = family.audit_family("00", family.load_states(runs, "00"), Publisher(tmp_path, "x").settings)
    assert again.hide == {} and again.result.narrowest.width == 12.0


def test_relations_across_runs_are_kept_only_where_they_hold(tmp_path, monkeypatch):
    """A per-run quantity (a model's count, clusters found per run) does not add up across councils: no relation."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv(RUN_CACHE_ENV, str(cache))
    runs = {family.REGION: tmp_path / "r", "LA1": tmp_path / "la" / "LA1", "LA2": tmp_path / "la" / "LA2"}
    for label, n in zip(runs, [(12, 90, 56), (2, 50, 30), (10, 40, 25)], strict=True):   # 56 != 30 + 25
        pub = Publisher(runs[label], "00")
        pub.publish(_Cats(n))
        pub.save()
    found = family.audit_family("00", family.load_states(runs, "00"), Publisher(tmp_path, "x").settings)
    assert found.relations_across == 2           # categories a and b; c and the total do not add up
    assert found.hide == {"LA2": {"cats": [(0, 0)]}}
