"""The audit of published tables against differencing: no hidden cell can be worked out.

Primary and line-wise secondary suppression (disclosure.py) stop subtraction within one row or column,
but a reader holds every published table at once, and the tables are tied by linear relations
(margins, a total split into parts, at-risk recursions, council tables summing to the region). This
module does what tau-Argus and R's sdcTable audit do: for each hidden cell it computes the interval
[lo, hi] the cell could take given every published value and every relation, by linear programming
(scipy's HiGHS): minimise and maximise the cell subject to

    A x = b          (the relations; a right-hand side "known elsewhere" is the true total)
    x_j = shown_j    (published cells; shown_j +- round_to/2 when counts are rounded)
    x_j >= 0         (hidden cells: a count; nothing more is assumed known about them)

    u_j >= 0         (unpublished quantities a relation names, results.Unknown: ties on a reported day,
                      endings between two days; free, and not themselves required protected)

A right-hand side "known elsewhere" (a rows table's totals_shown) that is itself a small count
(1..threshold-1) is not taken as known: it is hidden wherever it is published.

The rule (protection width w, default the suppression threshold): every hidden cell must have
hi - lo >= w. Since lo >= 0, this also gives hi >= w >= threshold, so a reader can never conclude a
hidden cell is a small count (1..threshold-1), nor pin any hidden cell to fewer than w + 1 values.

Where a cell falls short, more cells are suppressed (secondary), cheapest first: the smallest
non-zero shown cell of a relation holding the short cell (zeros only when no non-zero one is left),
then the audit is repeated for that cell's connected block, until every hidden cell is protected or no
cell is left to suppress (AuditError naming the table). LPs are solved per connected block of hidden
cells (cells linked through relations), and a block's intervals are cached until one of its cells
changes, so each hidden cell costs two small LPs.

Headline counts and shares are cells too (publish.py), and a `--by la` run's region and councils are
audited together once every notebook has run (family.py).
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.reporting.results import Relation, Term, Unknown

TOLERANCE = 1e-6
RULE = ("every hidden cell's feasible interval [lo, hi], given all published values and relations (hidden cells >= 0), "
        "has hi - lo >= protection_width (default: the threshold)")


class AuditError(ValueError):
    """The published tables cannot be protected (or their declared relations are wrong): nothing is
    published. The message names the table and the cell."""


@dataclass
class AuditTable:
    """The count cells of one table as the audit sees them. `frame` is the published frame, flat (a
    crosstab keeps its index labels, "Total" for the margin) for resolving Term.where; `true` and
    `hidden` are (rows x columns) over `columns`; only `editable` tables get secondary suppression
    (tables already shown stay as they were)."""

    name: str
    frame: pd.DataFrame
    columns: list[str]
    true: np.ndarray
    hidden: np.ndarray
    editable: bool = True
    crosstab: bool = False
    latent: bool = False      # unpublished quantities (Unknown): LP variables >= 0, never audit targets
    # cells whose feasible interval need not be wide (None: every cell of a published table): a share's
    # count hidden only because its complement is small, whose value a table may show
    exempt: np.ndarray | None = None


LATENT = "(unpublished)"


def latent_table(relations: Sequence[Relation]) -> AuditTable | None:
    """The Unknowns of the relations as one table of free non-negative cells (one a name)."""
    values: dict[str, float] = {}
    for rel in relations:
        for t in rel.terms:
            if isinstance(t, Unknown):
                if t.name in values and abs(values[t.name] - t.value) > TOLERANCE * max(1.0, abs(t.value)):
                    raise AuditError(f"unpublished quantity '{t.name}' is declared with two values "
                                     f"({values[t.name]:g}, {t.value:g}) in '{rel.name}'")
                values.setdefault(t.name, float(t.value))
    if not values:
        return None
    names = list(values)
    true = np.array([[values[n]] for n in names])
    return AuditTable(LATENT, pd.DataFrame({"value": true[:, 0]}, index=names), ["value"], true,
                      np.ones_like(true, dtype=bool), editable=False, latent=True)


@dataclass
class Interval:
    table: str
    row: Any
    column: str
    lower: float
    upper: float
    exact: bool = True      # False: [lower, upper] is inside the feasible interval (width at least this)

    @property
    def width(self) -> float:
        return self.upper - self.lower


@dataclass
class AuditResult:
    """What the audit found: counts of hidden cells by reason, the narrowest interval, the time taken."""

    hidden_before: int = 0
    secondary: int = 0
    intervals: list[Interval] = field(default_factory=list)
    relations: int = 0
    lps: int = 0
    seconds: float = 0.0
    added: list[tuple[str, Any, str]] = field(default_factory=list)

    @property
    def narrowest(self) -> Interval | None:
        return min(self.intervals, key=lambda i: (i.width, i.table, str(i.row), i.column), default=None)

    def summary(self) -> dict[str, Any]:
        n = self.narrowest
        return {"hidden_cells": len(self.intervals), "hidden_before_audit": self.hidden_before,
                "solved_exactly": sum(i.exact for i in self.intervals),
                "suppressed_by_audit": self.secondary, "relations": self.relations, "lps": self.lps,
                "narrowest": None if n is None else {"table": n.table, "row": str(n.row), "column": n.column,
                                                     "lower": _num(n.lower), "upper": _num(n.upper),
                                                     "exact": n.exact}}


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else float(round(x, 6))


def implied_relations(name: str, frame: pd.DataFrame, kind: str, counts: Sequence[str], margins: bool = True,
                      totals_shown: bool = False, by: Sequence[str] | None = None) -> list[Relation]:
    """Relations a table's metadata implies: a crosstab's rows and columns summing to their margins;
    the categories of each count column of a rows table summing (within each `by` group) to a total a
    reader knows (totals_shown: published elsewhere, so constant=None)."""
    out: list[Relation] = []
    if kind == "crosstab":
        if not margins:
            return out
        n_rows, cols = len(frame.index), list(frame.columns)   # rows by position (the last is the Total)
        for r in range(n_rows):
            terms = [Term(name, r, c) for c in cols[:-1]] + [Term(name, r, cols[-1], -1.0)]
            out.append(Relation(tuple(terms), 0.0, f"{name}: row {frame.index[r]} = its total"))
        for c in cols:
            terms = [Term(name, r, c) for r in range(n_rows - 1)] + [Term(name, n_rows - 1, c, -1.0)]
            out.append(Relation(tuple(terms), 0.0, f"{name}: column {c} = its total"))
        return out
    if not totals_shown:
        return out
    flat = frame.reset_index(drop=True)
    groups = [np.arange(len(flat))] if not by else list(flat.groupby(list(by), sort=False).indices.values())
    for col in counts:
        for g in groups:
            out.append(Relation(tuple(Term(name, int(i), col) for i in g), None, f"{name}: {col} of a group = its total"))
    return out


class _Cells:
    """All audited cells of all tables as one flat vector."""

    def __init__(self, tables: Sequence[AuditTable]) -> None:
        self.tables = list(tables)
        self.by_name = {t.name: i for i, t in enumerate(self.tables)}
        sizes = [t.true.size for t in self.tables]
        self.offset = np.r_[0, np.cumsum(sizes)].astype(int)
        self.true = np.concatenate([t.true.ravel() for t in self.tables]) if self.tables else np.zeros(0)
        self.hidden = np.concatenate([t.hidden.ravel() for t in self.tables]) if self.tables else np.zeros(0, bool)
        self.editable = np.concatenate([np.full(t.true.size, t.editable) for t in self.tables]) if self.tables \
            else np.zeros(0, bool)
        self.target = np.concatenate([np.full(t.true.size, not t.latent) & (True if t.exempt is None else ~t.exempt.ravel())
                                      for t in self.tables]) if self.tables else np.zeros(0, bool)
        self.unknowns = {}
        for i, t in enumerate(self.tables):
            if t.latent:
                self.unknowns.update({n: int(self.offset[i] + r) for r, n in enumerate(t.frame.index)})

    def index(self, term: Term | Unknown) -> int:
        if isinstance(term, Unknown):
            return self.unknowns[term.name]
        if term.table not in self.by_name:
            raise AuditError(f"a relation names table '{term.table}', which is not published with it or before it")
        t = self.tables[self.by_name[term.table]]
        if term.column not in t.columns:
            raise AuditError(f"table '{t.name}': a relation names column '{term.column}', which is not a count "
                             f"column of it (counts: {', '.join(map(str, t.columns))})")
        if t.crosstab and _label(term.where) and term.where in t.frame.index:   # a label first (years are ints)
            row = int(t.frame.index.get_loc(term.where))
        elif isinstance(term.where, (int, np.integer)) and not isinstance(term.where, bool):
            row = int(term.where)
            if not 0 <= row < t.true.shape[0]:
                raise AuditError(f"table '{t.name}': a relation names row {row}, but it has {t.true.shape[0]} rows")
        elif isinstance(term.where, dict):
            hit = np.logical_and.reduce([t.frame[k].eq(v).to_numpy() for k, v in term.where.items()])
            if hit.sum() != 1:
                raise AuditError(f"table '{t.name}': relation row {term.where} matches {int(hit.sum())} rows")
            row = int(np.flatnonzero(hit)[0])
        else:
            if term.where not in t.frame.index:
                raise AuditError(f"table '{t.name}': a relation names row {term.where!r}, which it does not have")
            row = int(t.frame.index.get_loc(term.where))
        return int(self.offset[self.by_name[t.name]] + row * len(t.columns) + t.columns.index(term.column))

    def where(self, k: int) -> tuple[str, Any, str]:
        i = int(np.searchsorted(self.offset, k, side="right") - 1)
        t = self.tables[i]
        row, col = divmod(k - int(self.offset[i]), len(t.columns))
        label = t.frame.index[row] if t.crosstab else row
        return t.name, label, t.columns[col]


def _label(where: Any) -> bool:
    try:
        hash(where)
    except TypeError:
        return False
    return not isinstance(where, (bool, dict))


def _matrix(cells: _Cells, relations: Sequence[Relation],
            settings: DisclosureSettings) -> tuple[sparse.csr_matrix, np.ndarray, list[str]]:
    rows, cols, vals, rhs, names = [], [], [], [], []
    for i, rel in enumerate(relations):
        idx = [cells.index(t) for t in rel.terms]
        rows += [i] * len(idx)
        cols += idx
        vals += [float(t.coef) for t in rel.terms]
        names.append(rel.name or f"relation {i}")
        rhs.append(np.nan if rel.constant is None else float(rel.constant))
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(len(relations), cells.true.size))
    A.sum_duplicates()
    b = np.asarray(rhs, dtype=float)
    lhs = A @ cells.true
    known = np.isnan(b)
    b[known] = lhs[known]
    wrong = np.flatnonzero(np.abs(lhs - b) > TOLERANCE * np.maximum(1.0, np.abs(b)))
    if wrong.size:
        i = int(wrong[0])
        raise AuditError(f"declared relation '{names[i]}' does not hold on the table's values "
                         f"({lhs[i]:g} != {b[i]:g}): fix the declaration")
    small = np.flatnonzero(known & settings.primary(b))   # a total that small is hidden wherever it is published
    if small.size:
        keep = sparse.diags(np.where(np.isin(np.arange(len(b)), small), 0.0, 1.0))
        A = (keep @ A).tocsr()
        A.eliminate_zeros()
        b[small] = 0.0
    return A, b, names


class _Solver:
    """Feasible intervals of hidden cells, block by block, cached until a block changes."""

    def __init__(self, A: sparse.csr_matrix, b: np.ndarray, cells: _Cells, settings: DisclosureSettings,
                 cache: dict | None = None, exact: bool = False) -> None:
        self.A, self.b, self.cells, self.settings = A.tocsc(), b, cells, settings
        self.exact, self.width = exact, settings.width
        self.cache: dict[tuple, dict[int, tuple[float, float, bool]]] = {} if cache is None else cache
        self.lps = 0

    def bounds(self, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lower/upper bounds of every cell and which cells are LP variables."""
        r = self.settings.round_to
        shown = self.cells.true if not r else np.round(self.cells.true / r) * r
        lo = np.where(hidden, 0.0, shown - (r / 2 if r else 0.0))
        hi = np.where(hidden, np.inf, shown + (r / 2 if r else 0.0))
        lo = np.maximum(lo, 0.0)
        variable = hidden | (bool(r) & ~hidden)
        return lo, hi, variable

    def intervals(self, hidden: np.ndarray) -> dict[int, tuple[float, float, bool]]:
        lo, hi, variable = self.bounds(hidden)
        var = np.flatnonzero(variable)
        out: dict[int, tuple[float, float, bool]] = {}
        if var.size == 0:
            return out
        Av = self.A[:, var].tocsr()
        fixed = np.flatnonzero(~variable)
        rhs = self.b - self.A[:, fixed] @ self.cells.true[fixed]
        used = np.flatnonzero(np.diff(Av.indptr) > 0)   # relations touching a variable
        Au, rhs_u = Av[used], rhs[used]
        n, label = connected_components((Au.T @ Au) != 0, directed=False)
        order = np.argsort(label, kind="stable")
        starts = np.r_[0, np.cumsum(np.bincount(label, minlength=n))]
        Auc = Au.tocsc()
        for c in range(n):
            members = order[starts[c]:starts[c + 1]]
            cells = var[members]
            targets = [int(k) for k in cells if hidden[k] and self.cells.target[k]]
            if not targets:
                continue
            rows = np.unique(Auc[:, members].indices)
            key = (tuple(int(k) for k in cells), tuple(int(hidden[k]) for k in cells), tuple(int(r) for r in used[rows]),
                   self.settings.round_to, self.exact)
            if key not in self.cache:
                self.cache[key] = self._block(Auc, rhs_u, members, cells, lo, hi, targets)
            out.update(self.cache[key])
        return out

    def one(self, k: int, hidden: np.ndarray) -> tuple[float, float]:
        """The exact interval of cell k alone under `hidden` (its block found by search from k)."""
        lo, hi, variable = self.bounds(hidden)
        A = self.A
        Ar = A.tocsr() if not hasattr(self, "_csr") else self._csr
        self._csr = Ar
        block, rels, frontier = {k}, set(), [k]
        while frontier:
            j = frontier.pop()
            for r in A.indices[A.indptr[j]:A.indptr[j + 1]]:
                if r in rels:
                    continue
                rels.add(int(r))
                for m in Ar.indices[Ar.indptr[r]:Ar.indptr[r + 1]]:
                    if variable[m] and m not in block:
                        block.add(int(m))
                        frontier.append(int(m))
        cells = np.array(sorted(block))
        rows = np.array(sorted(rels), dtype=int)
        if rows.size == 0:
            return lo[k], hi[k]
        fixed = np.setdiff1d(np.unique(Ar[rows].indices), cells)
        b = self.b[rows] - Ar[rows][:, fixed] @ self.cells.true[fixed]
        A_eq = Ar[rows][:, cells]
        bnds = list(zip(lo[cells], [None if not np.isfinite(h) else h for h in hi[cells]], strict=True))
        i = int(np.searchsorted(cells, k))
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(cells))
            c[i] = sign
            res = linprog(c, A_eq=A_eq, b_eq=b, bounds=bnds, method="highs")
            self.lps += 1
            ends.append(sign * res.fun if res.status == 0 else (sign * np.inf if res.status == 3 else np.nan))
        return ends[0], ends[1]

    def _block(self, Auc, rhs, members, cells, lo, hi, targets) -> dict[int, tuple[float, float, bool]]:
        """Intervals of a block's hidden cells. Every LP solution (and the true values) is a feasible
        point, so a cell two known feasible points set at least `width` apart is protected without
        LPs of its own (its interval is then a sub-interval of the feasible one, exact=False); the
        others get their exact min and max (exact=True), or all do when settings ask for exact."""
        sub = Auc[:, members].tocsr()
        rows = np.flatnonzero(np.diff(sub.indptr) > 0)
        if rows.size == 0:
            return {k: (lo[k], hi[k], True) for k in targets}
        A_eq, b_eq = sub[rows], rhs[rows]
        bnds = list(zip(lo[cells], [None if not np.isfinite(h) else h for h in hi[cells]], strict=True))
        pos = {int(k): i for i, k in enumerate(cells)}
        seen_lo = self.cells.true[cells].astype(float)
        seen_hi = seen_lo.copy()
        found = {}
        for k in targets:
            i = pos[k]
            if not self.exact and seen_hi[i] - seen_lo[i] >= self.width:
                found[k] = (seen_lo[i], seen_hi[i], False)
                continue
            ends = []
            for sign in (1.0, -1.0):
                c = np.zeros(len(cells))
                c[i] = sign
                res = linprog(c, A_eq=A_eq, b_eq=b_eq, bounds=bnds, method="highs")
                self.lps += 1
                if res.status == 3:          # unbounded: the cell can be as large as you like
                    ends.append(-np.inf if sign > 0 else np.inf)
                    seen_hi[i] = np.inf
                elif res.status != 0:
                    t, row, col = self.cells.where(k)
                    raise AuditError(f"table '{t}': the published values and relations have no solution "
                                     f"around cell ({row}, {col}) ({res.message}); a declared relation is wrong")
                else:
                    ends.append(sign * res.fun)
                    seen_lo, seen_hi = np.minimum(seen_lo, res.x), np.maximum(seen_hi, res.x)
            found[k] = (ends[0], ends[1], True)
        return found


def audit(tables: Sequence[AuditTable], relations: Sequence[Relation],
          settings: DisclosureSettings = DisclosureSettings(), cache: dict | None = None,
          exact: bool = False) -> AuditResult:
    """Audit hidden cells against every relation; suppress more cells of editable tables until every
    hidden cell's feasible interval is at least settings.width wide. Updates each table's `hidden`.
    `cache` (kept by the caller across calls over growing lists of tables and relations, cells and
    relations only ever appended) holds the intervals of blocks no new table or relation touched.
    exact=True: the exact interval of every hidden cell (two LPs each), not only of those near the width."""
    t0 = time.perf_counter()
    tables = [t for t in tables if not t.latent]
    latent = latent_table(relations)
    cells = _Cells(tables + ([latent] if latent is not None else []))
    A, b, _ = _matrix(cells, relations, settings)
    solver = _Solver(A, b, cells, settings, cache, exact)
    hidden = cells.hidden.copy()
    result = AuditResult(hidden_before=int((hidden & cells.target).sum()), relations=len(relations))
    width = settings.width - TOLERANCE
    Acsr = A.tocsr()
    Acsc = A.tocsc()
    if not settings.round_to:
        _subtraction(Acsr, hidden, cells, result)
    while True:
        found = solver.intervals(hidden)
        short = sorted(k for k, (lo, hi, _) in found.items() if hi - lo < width)
        if not short:
            break
        helped: set[int] = set()            # relations given a new hidden cell this round
        for k in short:
            rels = set(Acsc.indices[Acsc.indptr[k]:Acsc.indptr[k + 1]].tolist())
            if rels & helped:
                continue                      # re-check it once the round's suppressions are in
            pick = _best(k, found[k], _cheapest(k, Acsr, Acsc, hidden, cells, TRIALS), solver, hidden, width)
            if pick is None:
                t, row, col = cells.where(k)
                lo, hi, _ = found[k]
                raise AuditError(f"table '{t}': hidden cell ({row}, {col}) can be narrowed to [{lo:g}, {hi:g}] from "
                                 f"the published tables, and no further cell can be suppressed to protect it")
            hidden[pick] = True
            helped |= set(Acsc.indices[Acsc.indptr[pick]:Acsc.indptr[pick + 1]].tolist())
            result.secondary += 1
            result.added.append(cells.where(pick))
    for i, t in enumerate(tables):
        t.hidden = hidden[cells.offset[i]:cells.offset[i + 1]].reshape(t.true.shape)
    found = {k: v for k, v in found.items() if cells.target[k]}
    result.intervals = [Interval(*cells.where(k), lo, hi, ex) for k, (lo, hi, ex) in sorted(found.items())]
    result.lps = solver.lps
    result.seconds = time.perf_counter() - t0
    return result


def _subtraction(Acsr: sparse.csr_matrix, hidden: np.ndarray, cells: _Cells, result: AuditResult) -> None:
    """Before any LP: while a relation has exactly one hidden cell (found by plain subtraction), hide the
    cheapest other shown editable cell of it. Sparse counts per relation; cheap next to the LPs."""
    mask = Acsr.copy()
    mask.data = (mask.data != 0).astype(float)
    unpublished = (~cells.target).astype(float)
    while True:
        lone = np.flatnonzero((mask @ hidden.astype(float) == 1) & (mask @ unpublished == 0))
        if lone.size == 0:
            return
        for r in lone:
            members = Acsr.indices[Acsr.indptr[r]:Acsr.indptr[r + 1]]
            if hidden[members].sum() != 1:
                continue                      # a pick earlier in this pass reached it
            free = members[~hidden[members] & cells.editable[members]]
            if free.size == 0:
                t, row, col = cells.where(int(members[hidden[members]][0]))
                raise AuditError(f"table '{t}': hidden cell ({row}, {col}) is given away by subtraction from "
                                 f"cells already published, and no cell of that relation can be suppressed")
            nonzero = free[cells.true[free] > 0]
            pool = nonzero if nonzero.size else free
            pick = int(pool[np.lexsort((pool, cells.true[pool]))][0])
            hidden[pick] = True
            result.secondary += 1
            result.added.append(cells.where(pick))


TRIALS = 6


def _best(k: int, now: tuple[float, float, bool], candidates: list[int], solver: "_Solver", hidden: np.ndarray,
          width: float) -> int | None:
    """Of the cheapest candidates (in order), the first whose suppression alone widens k's interval to
    the width, else the one that widens it most, else the cheapest: a cell whose suppression leaves k
    as narrow as before is not worth hiding (greedy picks that do not help are what make a secondary
    pattern spread over a whole table). Two small LPs a candidate, on k's block only."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    base = now[1] - now[0]
    best, gain = candidates[0], 0.0
    for c in candidates:
        trial = hidden.copy()
        trial[c] = True
        lo, hi = solver.one(k, trial)
        if hi - lo >= width:
            return c
        if hi - lo - base > gain + TOLERANCE:
            best, gain = c, hi - lo - base
    return best


def _cheapest(k: int, Acsr: sparse.csr_matrix, Acsc: sparse.csc_matrix, hidden: np.ndarray, cells: _Cells,
              n: int = 1) -> list[int]:
    """The shown editable cells to suppress next for hidden cell k (up to n, cheapest first): the smallest
    non-zero ones in a relation holding k (zeros only if none), else in a relation holding another hidden
    cell linked to k."""
    rels = np.unique(Acsc.indices[Acsc.indptr[k]:Acsc.indptr[k + 1]])
    seen = 0
    while len(rels) > seen:                 # outwards through linked hidden cells until a free one is found
        seen = len(rels)
        members = np.unique(np.concatenate([Acsr.indices[Acsr.indptr[r]:Acsr.indptr[r + 1]] for r in rels])) \
            if len(rels) else np.zeros(0, int)
        free = members[~hidden[members] & cells.editable[members]]
        if free.size:
            values = cells.true[free]
            nonzero = free[values > 0]
            pool = nonzero if nonzero.size else free
            ordered = [int(x) for x in pool[np.lexsort((pool, cells.true[pool]))]]
            # the cheapest n, then the largest few: in a chain of small counts (the tail of an at-risk
            # table) a large cell of the relation may free the short cell where the small ones cannot
            return ordered[:n] + [x for x in ordered[::-1][:n // 2] if x not in ordered[:n]]
        linked = members[hidden[members]]
        rels = np.unique(np.concatenate([rels] + [Acsc.indices[Acsc.indptr[j]:Acsc.indptr[j + 1]] for j in linked]))
    return []


def manifest_section(work: Path, notebooks: Sequence[Any], sub_runs: dict[str, Any], settings: DisclosureSettings,
                     run_seconds: float) -> dict[str, Any]:
    """The manifest's record of disclosure control: the settings, the rule, and each notebook's audit
    (from the audit.json its publisher wrote), with totals over the run and the audit's share of its time."""
    def read(folder: Path, runs: Sequence[Any]) -> dict[str, Any]:
        out = {}
        for n in runs:
            path = folder / n.name / "audit.json"
            if path.is_file():
                body = json.loads(path.read_text(encoding="utf-8"))
                body.pop("settings", None)
                body.pop("rule", None)
                out[n.name] = body
        return out

    region = read(work, notebooks)
    councils = {la: read(work / "la" / la, s.notebooks) for la, s in sub_runs.items()}
    every = list(region.values()) + [a for c in councils.values() for a in c.values()]
    narrow = [a["narrowest"] for a in every if a.get("narrowest")]
    seconds = round(sum(a.get("seconds", 0.0) for a in every), 3)
    return {"settings": {**asdict(settings), "protection_width": settings.width}, "rule": RULE,
            "cells_primary": sum(a.get("cells_primary", 0) for a in every),
            "cells_secondary": sum(a.get("cells_secondary", 0) for a in every),
            "suppressed_by_audit": sum(a.get("suppressed_by_audit", 0) for a in every),
            "narrowest": min(narrow, key=lambda n: (n["upper"] if n["upper"] is not None else np.inf) - n["lower"],
                             default=None),
            "seconds": seconds, "share_of_run": round(seconds / run_seconds, 4) if run_seconds else None,
            "notebooks": region, "by_la": councils}


def refuse_failed(outcome: Any) -> None:
    """Stop a run whose audit failed in any notebook (region or council) before it is published."""
    runs = [("", n) for n in outcome.notebooks] + [(la, n) for la, s in outcome.sub_runs.items() for n in s.notebooks]
    for la, n in runs:
        if "AuditError:" in (n.error or ""):
            where = f"{n.name}" + (f" (council {la})" if la else "")
            raise AuditError(f"{where}: {n.error.split('AuditError:', 1)[1].strip()}")


__all__ = ["AuditError", "AuditResult", "AuditTable", "Interval", "LATENT", "RULE", "audit", "implied_relations", "latent_table",
           "manifest_section", "refuse_failed"]
