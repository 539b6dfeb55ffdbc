"""The audit against differencing, tested as an attacker would work: from the published CSVs alone.

The attacker here is written independently of audit.py: it reads the files a run writes, sets up
the equations a reader knows (margins, a total split into parts, the at-risk recursion, council
tables summing to the region) and solves for every hidden cell by subtraction and by linear
programming (scipy HiGHS). The protection rule: no hidden cell's feasible interval may be narrower
than the protection width (default: the threshold, 5).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from attacker import attack, narrowest, subtraction

from rcceval.reporting.audit import AuditError, AuditTable, audit
from rcceval.reporting.disclosure import DisclosureSettings, crosstab_values, protect_crosstab
from rcceval.reporting.publish import Publisher
from rcceval.reporting.results import Relation, Result, Table, Term, at_risk_relations, sums_to

WIDTH = 5


# ---------------------------------------------------------------- the attacker's equations (attacker.py solves them)

def crosstab_equations(name: str, frame: pd.DataFrame):
    """Every row and column of a published crosstab sums to its Total."""
    rows, cols = list(frame.index), list(frame.columns)
    eq = [([(name, r, c, 1.0) for c in cols[:-1]] + [(name, r, "Total", -1.0)], 0.0) for r in rows]
    eq += [([(name, r, c, 1.0) for r in rows[:-1]] + [(name, "Total", c, -1.0)], 0.0) for c in cols]
    return eq


def read(tmp_path, notebook, name, crosstab=False):
    path = tmp_path / notebook / "tables" / f"{name}.csv"
    frame = pd.read_csv(path, index_col=0) if crosstab else pd.read_csv(path)
    return frame.astype(object)


# ---------------------------------------------------------------- the two examples

COVERAGE = pd.DataFrame({"placements": ["starting in the window", "no follow-up", "followed up"],
                         "n": [2805, 1, 2804], "pct": [100.0, 0.04, 99.96]})
COVERAGE_SUM = Relation((Term("coverage", {"placements": "starting in the window"}, "n", -1.0),
                         Term("coverage", {"placements": "no follow-up"}, "n"),
                         Term("coverage", {"placements": "followed up"}, "n")), 0.0, "coverage: all = parts")
COVERAGE_EQ = [([("coverage", 0, "n", -1.0), ("coverage", 1, "n", 1.0), ("coverage", 2, "n", 1.0)], 0.0)]


@dataclass(frozen=True)
class _Coverage(Result):
    relate: bool = True

    def tables(self):
        return {"coverage": Table(COVERAGE, counts=("n",), percent_of={"pct": "n"},
                                  relations=(COVERAGE_SUM,) if self.relate else ())}


def test_coverage_row_2805_c_2804_leaked_without_relations_and_is_protected_with_them(tmp_path):
    Publisher(tmp_path / "old", "02").publish(_Coverage(relate=False))
    old = read(tmp_path / "old", "02", "coverage")
    assert old["n"].tolist() == ["2805", "c", "2804"]            # the row
    assert subtraction({"coverage": old}, COVERAGE_EQ) == {("coverage", 1, "n"): 1.0}

    pub = Publisher(tmp_path / "new", "02")
    pub.publish(_Coverage())
    new = read(tmp_path / "new", "02", "coverage")
    assert new["n"].tolist() == ["2805", "c", "c"]              # the smaller other part hidden too
    assert new["pct"].tolist() == ["100.0", "c", "c"]           # with its percentage
    got = attack({"coverage": new}, COVERAGE_EQ)
    assert got == {("coverage", 1, "n"): (0.0, 2805.0), ("coverage", 2, "n"): (0.0, 2805.0)}
    assert subtraction({"coverage": new}, COVERAGE_EQ) == {}
    assert pub.audit_summary()["suppressed_by_audit"] == 1


def _at_risk() -> pd.DataFrame:
    days = [0, 365, 730, 1095, 1461, 1826]
    s = pd.DataFrame({"profile": "straightforward", "day": days, "at_risk": [2000, 1500, 1100, 800, 593, 1],
                      "events": [0, 300, 250, 180, 120, 28], "censored": [0, 200, 150, 120, 87, 564]})
    c = pd.DataFrame({"profile": "complex", "day": days, "at_risk": [900, 700, 520, 380, 300, 4],
                      "events": [0, 120, 110, 80, 50, 20], "censored": [0, 80, 70, 60, 30, 276]})
    return pd.concat([s, c], ignore_index=True)


def at_risk_equations(frame: pd.DataFrame):
    """at_risk[t] = at_risk[t-1] - events[t] - censored[t] (events in the interval ending at t)."""
    eq = []
    for i in range(1, len(frame)):
        if frame["profile"].iloc[i] == frame["profile"].iloc[i - 1]:
            eq.append(([("at_risk", i, "at_risk", 1.0), ("at_risk", i - 1, "at_risk", -1.0),
                        ("at_risk", i, "events", 1.0), ("at_risk", i, "censored", 1.0)], 0.0))
    return eq


@dataclass(frozen=True)
class _AtRisk(Result):
    relate: bool = True

    def tables(self):
        frame = _at_risk()
        rel = at_risk_relations("at_risk", frame, "day", by=("profile",), events_in="preceding") if self.relate else ()
        return {"at_risk": Table(frame, "model", counts=("at_risk", "events", "censored"), relations=rel)}


def test_at_risk_recursion_revealed_1_and_4_and_is_protected_now(tmp_path):
    frame = _at_risk()
    Publisher(tmp_path / "old", "02").publish(_AtRisk(relate=False))
    old = read(tmp_path / "old", "02", "at_risk")
    found = subtraction({"at_risk": old}, at_risk_equations(frame))
    assert found == {("at_risk", 5, "at_risk"): 1.0, ("at_risk", 11, "at_risk"): 4.0}   # 593 - 28 - 564 = 1; 4

    Publisher(tmp_path / "new", "02").publish(_AtRisk())
    new = read(tmp_path / "new", "02", "at_risk")
    assert new.loc[[5, 11], "at_risk"].tolist() == ["c", "c"]
    got = attack({"at_risk": new}, at_risk_equations(frame))
    assert len(got) >= 4 and narrowest(got) >= WIDTH
    assert subtraction({"at_risk": new}, at_risk_equations(frame)) == {}
    # cheapest first: the smallest non-zero cell of the step, the events (28 and 20), went
    assert new.loc[[5, 11], "events"].tolist() == ["c", "c"]
    assert new.loc[[4, 10], "at_risk"].tolist() == ["593", "300"]


# ---------------------------------------------------------------- exact intervals on a hand-checked 2x2

def test_exact_intervals_of_a_2x2_crosstab():
    counts = pd.DataFrame({"A": [3, 7], "B": [10, 20]}, index=["r1", "r2"])
    safe = protect_crosstab(counts)
    assert safe.loc["r1"].tolist() == ["c", "c", 13] and safe.loc["r2"].tolist() == ["c", "c", 27]
    assert safe.loc["Total"].tolist() == [10, 30, 40]
    table = AuditTable("t", safe, list(safe.columns), crosstab_values(counts), safe.eq("c").to_numpy(), crosstab=True)
    from rcceval.reporting.audit import implied_relations
    result = audit([table], implied_relations("t", safe, "crosstab", list(safe.columns)), exact=True)
    # x11 + x12 = 13, x21 + x22 = 27, x11 + x21 = 10, x12 + x22 = 30, x >= 0 by hand:
    # x11 in [0, 10], x12 = 13 - x11 in [3, 13], x21 = 10 - x11 in [0, 10], x22 = 17 + x11 in [17, 27]
    got = {(i.row, i.column): (round(i.lower, 9), round(i.upper, 9)) for i in result.intervals}
    assert got == {("r1", "A"): (0, 10), ("r1", "B"): (3, 13), ("r2", "A"): (0, 10), ("r2", "B"): (17, 27)}
    assert result.secondary == 0 and result.lps == 8
    quick = audit([table], implied_relations("t", safe, "crosstab", list(safe.columns)))
    # without exact: the LP solutions of x11 (0 and 10) already set every cell 10 apart
    assert quick.lps == 2 and all(i.upper - i.lower == 10 for i in quick.intervals)
    assert result.summary()["narrowest"]["upper"] - result.summary()["narrowest"]["lower"] == 10


def test_lp_catches_what_line_wise_suppression_misses():
    """Each row and column has two hidden cells, yet the LP pins one: 1 + 2 in a row of total 3."""
    counts = pd.DataFrame({"A": [1, 2, 50], "B": [2, 40, 60]}, index=["r1", "r2", "r3"])
    safe = protect_crosstab(counts)
    hidden = safe.eq("c")
    assert 1 not in set(hidden.sum(axis=1)) | set(hidden.sum(axis=0))     # no line with a lone hidden cell
    before = attack({"t": safe}, crosstab_equations("t", safe))
    assert narrowest(before) < WIDTH                              # row r1 = 3: each of its cells within [0, 3]
    table = AuditTable("t", safe, list(safe.columns), crosstab_values(counts), hidden.to_numpy(), crosstab=True)
    from rcceval.reporting.audit import implied_relations
    result = audit([table], implied_relations("t", safe, "crosstab", list(safe.columns)))
    assert result.secondary >= 1
    after = safe.mask(pd.DataFrame(table.hidden, index=safe.index, columns=safe.columns), "c")
    assert narrowest(attack({"t": after}, crosstab_equations("t", after))) >= WIDTH


# ---------------------------------------------------------------- councils summing to the region

def _councils(seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    out = {}
    for la in ("LA1", "LA2", "LA3"):
        body = rng.poisson([[40, 3, 12], [2, 25, 6], [15, 1, 30], [8, 18, 4]])
        out[la] = pd.DataFrame(body, index=["foster", "residential", "kinship", "other"],
                               columns=["standard", "complex", "highest"])
    return out


@dataclass(frozen=True)
class _Region(Result):
    councils: dict

    def tables(self):
        tabs = {f"placements_{la}": Table(f, "crosstab") for la, f in self.councils.items()}
        region = sum(self.councils.values())
        tabs["placements_region"] = Table(region, "crosstab")
        rows = list(region.index) + ["Total"]
        cols = list(region.columns) + ["Total"]
        tabs["placements_region"] = Table(region, "crosstab", relations=sums_to(
            "placements_region", tuple(f"placements_{la}" for la in self.councils), [(r, c) for r in rows for c in cols]))
        return tabs


def region_equations(tables, councils):
    eq = []
    for name, frame in tables.items():
        eq += crosstab_equations(name, frame)
    region = tables["placements_region"]
    for r in region.index:
        for c in region.columns:
            eq.append(([(f"placements_{la}", r, c, 1.0) for la in councils] + [("placements_region", r, c, -1.0)], 0.0))
    return eq


def test_attacker_fails_on_council_tables_summing_to_the_region(tmp_path):
    councils = _councils()
    names = [f"placements_{la}" for la in councils] + ["placements_region"]
    # each table protected alone (the old rule) leaks through the council sums
    alone = {f"placements_{la}": protect_crosstab(f).astype(object) for la, f in councils.items()}
    alone["placements_region"] = protect_crosstab(sum(councils.values())).astype(object)
    assert narrowest(attack(alone, region_equations(alone, councils))) < WIDTH

    pub = Publisher(tmp_path, "05")
    pub.publish(_Region(councils))
    published = {n: read(tmp_path, "05", n, crosstab=True) for n in names}
    eq = region_equations(published, councils)
    got = attack(published, eq)
    n_hidden = sum(int(f.eq("c").to_numpy().sum()) for f in published.values())
    assert len(got) == n_hidden >= 12
    assert narrowest(got) >= WIDTH
    assert subtraction(published, eq) == {}
    summary = pub.audit_summary()
    assert summary["cells_primary"] == sum(int(((f.to_numpy() >= 1) & (f.to_numpy() < 5)).sum())
                                           for f in councils.values())
    assert summary["narrowest"]["upper"] - summary["narrowest"]["lower"] >= WIDTH


# ---------------------------------------------------------------- failures publish nothing

@dataclass(frozen=True)
class _Tiny(Result):
    def tables(self):
        frame = pd.DataFrame({"cat": ["a", "b", "c"], "n": [1, 2, 0]})
        known = Relation(tuple(Term("tiny", i, "n") for i in range(3)), 3.0, "tiny: the three make 3 (said in the text)")
        return {"ok_table": Table(pd.DataFrame({"k": ["x"], "n": [100]}), counts=("n",)),
                "tiny": Table(frame, counts=("n",), relations=(known,))}


def test_an_unprotectable_table_fails_the_audit_names_it_and_writes_nothing(tmp_path):
    """The reader knows the three cells make 3: whatever is hidden, each lies within [0, 3]."""
    pub = Publisher(tmp_path, "05")
    with pytest.raises(AuditError, match=r"table 'tiny': hidden cell \(0, n\) can be narrowed to \[0, 3\]"):
        pub.publish(_Tiny())
    assert not (tmp_path / "05" / "tables").exists()
    assert pub.tables == [] and pub.audited == [] and pub.published == {}


def test_known_totals_of_groups_and_a_small_total_that_is_itself_hidden(tmp_path):
    """Group 1 sums to 8, a total the reader knows: its hidden 1 and 2 make 3, so the 5 goes too (each
    then within [0, 8]). Group 2's total, 3, is a small count hidden wherever it is published: not known."""
    frame = pd.DataFrame({"g": [1, 1, 1, 2, 2], "n": [1, 2, 5, 1, 2]})
    pub = Publisher(tmp_path, "05")
    shown = pub.publish_table("groups", Table(frame, counts=("n",), totals_shown=True, by=("g",)))
    assert shown["n"].tolist() == ["c", "c", "c", "c", "c"]
    eq = [([("groups", i, "n", 1.0) for i in range(3)], 8.0)]
    assert attack({"groups": read(tmp_path, "05", "groups")}, eq) == {("groups", i, "n"): (0.0, 8.0) for i in range(3)}
    assert pub.audit_summary()["suppressed_by_audit"] == 1


def test_a_declared_relation_that_does_not_hold_is_refused():
    frame = pd.DataFrame({"n": [10, 4, 7]})
    table = AuditTable("t", frame, ["n"], frame.to_numpy(float), np.array([[False], [True], [False]]))
    wrong = Relation((Term("t", 0, "n", -1.0), Term("t", 1, "n"), Term("t", 2, "n")), 0.0, "t: total = parts")
    with pytest.raises(AuditError, match="'t: total = parts' does not hold"):
        audit([table], [wrong])


def test_a_later_publish_is_audited_with_the_earlier_tables_and_hides_its_own_cells(tmp_path):
    """'parts' is shown already ("c", 300); a total published later would give the hidden 2 away, so
    the audit hides the total (the earlier table stays as it was shown)."""
    pub = Publisher(tmp_path, "02")
    pub.publish_table("parts", Table(pd.DataFrame({"k": ["a", "b"], "n": [2, 300]}), counts=("n",)))
    total = Table(pd.DataFrame({"k": ["all"], "n": [302]}), counts=("n",),
                  relations=(Relation((Term("total", 0, "n", -1.0), Term("parts", 0, "n"), Term("parts", 1, "n"))),))
    pub.publish_table("total", total)
    parts, shown = read(tmp_path, "02", "parts"), read(tmp_path, "02", "total")
    assert parts["n"].tolist() == ["c", "300"] and shown["n"].tolist() == ["c"]
    eq = [([("total", 0, "n", -1.0), ("parts", 0, "n", 1.0), ("parts", 1, "n", 1.0)], 0.0)]
    got = attack({"parts": parts, "total": shown}, eq)
    assert got[("parts", 0, "n")] == (0.0, np.inf)


def test_rounded_counts_widen_the_intervals():
    frame = pd.DataFrame({"n": [2805, 3, 2802]})
    table = AuditTable("t", frame, ["n"], frame.to_numpy(float), np.array([[False], [True], [False]]))
    rel = Relation((Term("t", 0, "n", -1.0), Term("t", 1, "n"), Term("t", 2, "n")))
    result = audit([table], [rel], DisclosureSettings(round_to=5))
    # shown 2805 and 2800, each +-2.5: the hidden cell lies in [0, 10]
    assert [(round(i.lower, 9), round(i.upper, 9)) for i in result.intervals] == [(0.0, 10.0)]
    assert result.secondary == 0


# ---------------------------------------------------------------- the run's record and refusal

def test_manifest_section_sums_the_notebooks_audits_and_a_failed_audit_refuses_the_run(tmp_path):
    from types import SimpleNamespace

    from rcceval.reporting.audit import manifest_section, refuse_failed

    pub = Publisher(tmp_path, "02_placement_survival")
    pub.publish(_Coverage())
    pub.save()
    sub = Publisher(tmp_path / "la" / "LA1", "02_placement_survival")
    sub.publish(_AtRisk())
    sub.save()
    nb = SimpleNamespace(name="02_placement_survival", error="")
    outcome = SimpleNamespace(notebooks=[nb], sub_runs={"LA1": SimpleNamespace(notebooks=[nb])})
    got = manifest_section(tmp_path, outcome.notebooks, outcome.sub_runs, DisclosureSettings(), 100.0)
    assert got["settings"]["threshold"] == 5 and got["settings"]["protection_width"] == 5.0
    # coverage: 1 primary + 1 by the audit; at risk: 1 and 4 primary, 28 and 20 by the audit
    assert (got["cells_primary"], got["cells_secondary"], got["suppressed_by_audit"]) == (3, 3, 3)
    assert got["notebooks"]["02_placement_survival"]["cells_primary"] == 1
    assert got["narrowest"]["upper"] - got["narrowest"]["lower"] >= WIDTH
    assert 0 < got["share_of_run"] < 0.1
    refuse_failed(outcome)                                      # nothing failed: nothing raised
    bad = SimpleNamespace(name="05_sufficiency_gap", error="cell 7: AuditError: table 'tiny': hidden cell (0, n) ...")
    outcome.sub_runs["LA2"] = SimpleNamespace(notebooks=[bad])
    with pytest.raises(AuditError, match=r"^05_sufficiency_gap \(council LA2\): table 'tiny'"):
        refuse_failed(outcome)


def test_a_crosstab_indexed_by_years_is_addressed_by_label(tmp_path):
    """Rows labelled 2018, 2019 (ints) are labels of a crosstab, not positions (a real run's profile_by_year)."""
    counts = pd.DataFrame({"a": [3, 10, 12], "b": [9, 2, 30]}, index=[2018, 2019, 2020])
    pub = Publisher(tmp_path, "05")
    rel = Relation((Term("by_year", 2018, "a"), Term("by_year", 2018, "b"), Term("by_year", 2018, "Total", -1.0)))
    shown = pub.publish_table("by_year", Table(counts, "crosstab", relations=(rel,)))
    published = read(tmp_path, "05", "by_year", crosstab=True)
    assert shown.loc[2018, "a"] == "c" and shown.loc[2019, "b"] == "c"
    assert narrowest(attack({"by_year": published}, crosstab_equations("by_year", published))) >= WIDTH


def test_at_risk_relations_of_cumulative_counts_and_of_events_in_the_following_interval():
    """The same follow-up written two ways; each declaration holds on its own layout (the audit checks)."""
    cumulative = pd.DataFrame({"day": [0, 30, 60], "at_risk": [50, 40, 33], "events": [0, 6, 9], "censored": [0, 4, 8]})
    rels = at_risk_relations("t", cumulative, "day", events_in="preceding", cumulative=True)
    assert len(rels) == 2
    table = AuditTable("t", cumulative, ["at_risk", "events", "censored"], cumulative[["at_risk", "events", "censored"]]
                       .to_numpy(float), np.zeros((3, 3), bool))
    audit([table], rels)                                           # 40 = 50 - 6 - 4; 33 = 40 - 3 - 4
    following = pd.DataFrame({"day": [0, 30, 60], "at_risk": [50, 40, 33], "events": [6, 3, 0], "censored": [4, 4, 0]})
    table = AuditTable("t", following, ["at_risk", "events", "censored"], following[["at_risk", "events", "censored"]]
                       .to_numpy(float), np.zeros((3, 3), bool))
    audit([table], at_risk_relations("t", following, "day"))
    with pytest.raises(AuditError, match="does not hold"):
        audit([table], at_risk_relations("t", following, "day", events_in="preceding"))
    with pytest.raises(ValueError, match="cumulative"):
        at_risk_relations("t", following, "day", cumulative=True)
