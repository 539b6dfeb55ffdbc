"""The joint audit of a `--by la` run: the region's reports and each council's, as one family of tables.

A council's tables add up, cell by cell, to the region's (the region is every council's placements),
so a cell hidden in one council's table but shown in the region's and the other councils' is the
region's minus theirs. Each notebook's publisher audits only its own tables (audit.py); this module
audits, for each notebook, the region's tables with every council's under

- each run's own relations (its margins, totals, at-risk recursions, headline ties), and
- the relations across runs: region[cell] = sum over councils of council[cell] for every count cell of
  a table (or headline) the region and its councils publish alike, matched by row label (a crosstab's
  index, a rows table's leading label columns, a headline's path; a council without the row counts 0).
  Such a relation is kept where it holds on the true values (results.holding): where it does not (a
  model fitted per run, clusters found per run, exclusions that depend on the run's data) a reader
  using it would be misled, not informed.

The true values come from the publishers' states (Publisher.save puts them in the run's private cache,
never in outputs/). Cells the family audit hides more are handed back to the publishers (a "hide" entry
in the run cache, by notebook folder) and the affected notebooks run again, hiding them before their
own audit, until the family audit adds nothing (runner.py); each pass only adds cells, so it ends.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rcceval.reporting.audit import TOLERANCE, AuditError, AuditResult, AuditTable, audit
from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.reporting.publish import family_key
from rcceval.reporting.results import Relation, Term, Unknown

REGION = "region"
SEP = " | "


@dataclass
class FamilyOutcome:
    """What the family audit of one notebook found: the cells it hid more, by run label and table."""

    notebook: str
    hide: dict[str, dict[str, list[tuple[int, int]]]] = field(default_factory=dict)   # label -> table -> cells
    # every hidden cell of every table of the runs with cells added: what those runs hide when run again
    # (not only the new cells: a run's own secondary choices could otherwise differ the second time)
    keep: dict[str, dict[str, list[tuple[int, int]]]] = field(default_factory=dict)
    result: AuditResult | None = None
    relations_across: int = 0
    seconds: float = 0.0

    @property
    def added(self) -> int:
        return sum(len(c) for t in self.hide.values() for c in t.values())


def _keys(t: AuditTable) -> list[Any] | None:
    """Row labels of a table for matching across runs: a crosstab's (or headlines') index, a rows
    table's leading non-count columns as a tuple of strings; None when it has no label column."""
    if t.crosstab:
        return [str(i) for i in t.frame.index]
    lead = []
    for c in t.frame.columns:
        if c in t.columns:
            break
        lead.append(c)
    if not lead:
        return None
    return [tuple(str(v) for v in row) for row in t.frame[lead].itertuples(index=False)]


def _renamed(state: Mapping[str, Any], label: str) -> tuple[list[AuditTable], list[Relation]]:
    """A run's audited tables and relations, table and unknown names prefixed by the run label; every
    cell editable (the family may hide any cell of any run)."""
    tables = []
    for t in state["tables"]:
        c = copy.copy(t)
        c.name, c.editable, c.hidden = f"{label}{SEP}{t.name}", True, t.hidden.copy()
        tables.append(c)

    def one(term: Term | Unknown) -> Term | Unknown:
        if isinstance(term, Unknown):
            return replace(term, name=f"{label}{SEP}{term.name}")
        return replace(term, table=f"{label}{SEP}{term.table}")
    rels = [replace(r, terms=tuple(one(t) for t in r.terms), name=f"{label}{SEP}{r.name}") for r in state["relations"]]
    return tables, rels


def across(region: Sequence[AuditTable], councils: Mapping[str, Sequence[AuditTable]]) -> list[Relation]:
    """region[cell] = sum of the councils' cells, for every count cell matched by label, where it holds."""
    out: list[Relation] = []
    by_la = {la: {t.name.split(SEP, 1)[1]: t for t in ts} for la, ts in councils.items()}
    for rt in region:
        name = rt.name.split(SEP, 1)[1]
        parts = {la: ts[name] for la, ts in by_la.items() if name in ts}
        if not parts:
            continue
        rkeys = _keys(rt)
        if rkeys is None or len(set(rkeys)) != len(rkeys):
            continue
        index = {}
        for la, t in parts.items():
            keys = _keys(t)
            if keys is None or len(set(keys)) != len(keys) or t.columns != rt.columns:
                index = None
                break
            index[la] = {k: i for i, k in enumerate(keys)}
        if index is None:
            continue
        for r, key in enumerate(rkeys):
            for j, col in enumerate(rt.columns):
                terms, total = [Term(rt.name, _where(rt, r), col, -1.0)], 0.0
                for la, t in parts.items():
                    i = index[la].get(key)
                    if i is not None:
                        terms.append(Term(t.name, _where(t, i), col))
                        total += float(t.true[i, j])
                if len(terms) == 1:
                    continue
                if abs(total - float(rt.true[r, j])) <= TOLERANCE * max(1.0, abs(total)):
                    out.append(Relation(tuple(terms), 0.0, f"{name} {key} {col}: region = sum of councils"))
    return out


def _where(t: AuditTable, row: int) -> Any:
    """How a Term names row `row` of t: a crosstab's (or the headlines') by its label, a rows table's by position."""
    return t.frame.index[row] if t.crosstab else row


def audit_family(notebook: str, states: Mapping[str, Mapping[str, Any]],
                 settings: DisclosureSettings) -> FamilyOutcome:
    """Audit one notebook's tables of the region (label REGION) with each council's (label: the council).
    `states`: label -> a publisher's saved state. Returns the cells hidden more, by run and table
    (positions within each published table); raises AuditError when the family cannot be protected."""
    t0 = time.perf_counter()
    tables: list[AuditTable] = []
    relations: list[Relation] = []
    renamed = {}
    for label, state in states.items():
        ts, rs = _renamed(state, label)
        renamed[label] = ts
        tables += ts
        relations += rs
    region = renamed.get(REGION, [])
    extra = across(region, {la: ts for la, ts in renamed.items() if la != REGION})
    relations = relations + extra
    before = [t.hidden.copy() for t in tables]
    try:
        result = audit(tables, relations, settings)
    except AuditError as exc:
        raise AuditError(f"{notebook} (the region with its councils): {exc}") from None
    out = FamilyOutcome(notebook, result=result, relations_across=len(extra))
    for t, old in zip(tables, before, strict=True):
        label, name = t.name.split(SEP, 1)
        new = np.argwhere(t.hidden & ~old)
        if len(new):
            out.hide.setdefault(label, {})[name] = [(int(r), int(c)) for r, c in new]
    for t in tables:
        label, name = t.name.split(SEP, 1)
        if label in out.hide and t.hidden.any():
            out.keep.setdefault(label, {})[name] = [(int(r), int(c)) for r, c in np.argwhere(t.hidden)]
    out.seconds = time.perf_counter() - t0
    return out


def load_states(folders: Mapping[str, Path], notebook: str) -> dict[str, dict[str, Any]]:
    """The saved publisher states of one notebook in each run folder (label -> folder), where saved."""
    from rcceval.reporting.report import load_shared

    out = {}
    for label, folder in folders.items():
        state = load_shared(family_key("state", Path(folder) / notebook))
        if state is not None:
            out[label] = state
    return out


def hand_back(folders: Mapping[str, Path], notebook: str, hide: Mapping[str, Mapping[str, list]]) -> None:
    """Add cells to each publisher's "hide" entry (kept from earlier passes): FamilyOutcome.keep, so a
    notebook run again hides at least the family's protected pattern, and the next pass finds nothing
    to add unless that run's numbers changed."""
    from rcceval.reporting.report import load_shared, save_shared

    for label, tables in hide.items():
        key = family_key("hide", Path(folders[label]) / notebook)
        current: dict[str, list] = load_shared(key) or {}
        for name, cells in tables.items():
            current[name] = sorted({*map(tuple, current.get(name, [])), *map(tuple, cells)})
        save_shared(key, current)


def summary(outcomes: Sequence[FamilyOutcome], added: Mapping[str, int], passes: int, seconds: float,
            rerun_seconds: float) -> dict[str, Any]:
    """The manifest's record of the family audit (`added`: cells hidden by it over every pass, by notebook)."""
    narrow = [o.result.summary()["narrowest"] for o in outcomes if o.result is not None and o.result.intervals]
    return {"notebooks": {o.notebook: {"relations_across_runs": o.relations_across,
                                       "hidden_cells": len(o.result.intervals) if o.result else 0,
                                       "suppressed": added.get(o.notebook, 0), "lps": o.result.lps if o.result else 0,
                                       "seconds": round(o.seconds, 3)} for o in outcomes},
            "relations_across_runs": sum(o.relations_across for o in outcomes),
            "suppressed": sum(added.values()),
            "passes": passes, "seconds": round(seconds, 3), "rerun_seconds": round(rerun_seconds, 2),
            "narrowest": min(narrow, key=lambda n: (n["upper"] if n["upper"] is not None else np.inf) - n["lower"],
                             default=None)}


__all__ = ["REGION", "FamilyOutcome", "across", "audit_family", "hand_back", "load_states", "summary"]
