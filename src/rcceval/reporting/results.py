"""The typed results contract: what an analysis hands to the publisher, spelled one way.

Every question's `fit()` returns a frozen, aggregate-only result (no child-level rows on it) whose
`tables()` and `headlines()` declare, once, everything a report may publish. Values are typed so
the publisher knows what disclosure control each needs and index.html knows how to render each:

- `Estimate(value, lower, upper, level)`: a model quantity with its interval (one spelling: never
  ci_low / hr_lower / "ci": [lo, hi]);
- `Test(statistic, df, p, method)`: a hypothesis test;
- `Count(value)`: a number of children, placements or events: suppressed below the threshold;
- `Share(count, total)`: a proportion built on a count: hidden when its count or complement is;
- `Table(frame, counts, percent_of, ...)`: a table, protected as a whole by the publisher;
- `Relation(terms, constant)`: a linear equation among published cells (a total, an at-risk step, council
  tables summing to the region) that a reader could use to work out a hidden cell: the publisher's audit
  (audit.py) proves no hidden cell can be narrowed below the protection width given all of them. A
  crosstab's margins and a rows table's shown totals are derived from its metadata; others are declared
  on `Table.relations` (helpers `at_risk_relations`, `sums_to`) or by `Result.relations()`.

`serialise()` is the one writer of these into results.json.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence (or uncertainty) interval."""

    value: float
    lower: float | None = None
    upper: float | None = None
    level: float = 0.95


@dataclass(frozen=True)
class Test:
    """A hypothesis test: statistic, degrees of freedom (None where it has none), p-value, method."""

    __test__ = False  # not a pytest test class

    statistic: float
    df: float | None
    p: float
    method: str


@dataclass(frozen=True)
class Count:
    """A count of children, placements or events: published only if disclosure control allows."""

    value: int


@dataclass(frozen=True)
class Share:
    """A proportion count/total: hidden when the count or its complement is below the threshold."""

    count: int
    total: int

    @property
    def value(self) -> float | None:
        return self.count / self.total if self.total else None


TableKind = Literal["rows", "crosstab", "model"]


@dataclass(frozen=True)
class Follows:
    """Columns of a rows table that describe the group of a cell of another published crosstab
    (e.g. the places able to meet a group of children): hidden wherever that cell is hidden. Each
    row names its crosstab cell by its `row` and `column` values, translated by `labels` (values not
    in it are used as they are; a margin is the crosstab's "Total")."""

    table: str
    row: str
    column: str
    hide: tuple[str, ...]
    labels: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Cell:
    """A headline that is one cell of a table the result also publishes: the publisher shows the
    published (protected) cell, so a headline never reveals what the table's disclosure control hid.
    `where` selects the row (column -> value) of a rows table, or is the index label of a crosstab."""

    value: Any
    table: str
    where: Any
    column: str


@dataclass(frozen=True)
class Term:
    """One cell of a published table in a Relation: `where` is a row selector of a rows table
    (column -> value, as Cell.where), the index label of a crosstab ("Total" for a margin), or a
    row position (int) of either; `column` a count column (or crosstab column)."""

    table: str
    where: Any
    column: str
    coef: float = 1.0


@dataclass(frozen=True)
class Unknown:
    """A non-negative quantity a reader knows exists but that is not published (placements ending
    exactly on a reported day, placements leaving between two reported days, a council's share not
    in a per-council table): a term of a Relation whose value is free (>= 0) in the audit's LP. It is
    not a published cell, so the audit does not require it protected; `value` is its true value (the
    audit checks the relation holds). One name, one quantity: relations sharing it share the variable."""

    name: str
    value: float
    coef: float = 1.0


@dataclass(frozen=True)
class Relation:
    """sum(coef * cell) = constant, which a reader of the published tables knows. constant=None: the
    right-hand side is a total published elsewhere (a headline, another report), so the audit takes it
    as known and computes it from the cells' true values."""

    terms: tuple[Term | Unknown, ...]
    constant: float | None = 0.0
    name: str = ""


@dataclass(frozen=True)
class Table:
    """A table to publish. kind="rows": one row per category, `counts` columns protected and
    percentages in `percent_of` hidden with their counts; "crosstab": a two-way table of counts
    (index × columns) protected with its margins; "model": model output (coefficients, curves,
    tests) with no counts of children, unless `counts` names columns that are (numbers at risk)."""

    frame: pd.DataFrame
    kind: TableKind = "rows"
    counts: tuple[str, ...] = ()
    percent_of: Mapping[str, str] | None = None
    by: tuple[str, ...] | None = None
    totals_shown: bool = False
    margins: bool = True
    index: bool = False
    follows: Follows | None = None
    relations: tuple[Relation, ...] = ()


@dataclass(frozen=True)
class Result:
    """Base of every question's result: override tables() and headlines()."""

    def tables(self) -> dict[str, Table]:
        return {}

    def headlines(self) -> dict[str, Any]:
        return {}

    def relations(self) -> tuple[Relation, ...]:
        """Relations among this result's tables (and tables published before) beyond those each
        table declares or implies: override where they exist."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        """The headlines as plain values (no disclosure control: for tests and internal use)."""
        return {k: serialise(v) for k, v in self.headlines().items()}


@dataclass(frozen=True)
class Guarded:
    """A headline value already protected by the publisher (so serialise keeps the 'c')."""

    value: Any


SUPPRESSED = "c"


def _number(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else float(f"{value:.10g}")
    return value


def serialise(value: Any) -> Any:
    """JSON-ready values for results.json: typed results as dicts with one spelling, numpy scalars to
    Python, NaN to None, floats to 10 significant digits, dates as ISO strings."""
    if isinstance(value, (Guarded, Cell)):
        return serialise(value.value)
    if isinstance(value, Share):   # a subclass's extra fields (an interval) follow
        extra = {f.name: serialise(getattr(value, f.name)) for f in fields(value) if f.name not in ("count", "total")}
        return {"count": int(value.count), "total": int(value.total), "value": _number(value.value), **extra}
    if isinstance(value, Count):
        return int(value.value)
    if isinstance(value, (Estimate, Test)):
        return {f.name: serialise(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Table):
        raise TypeError("tables are published as files, not as headline values")
    if isinstance(value, Mapping):
        return {str(k): serialise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [serialise(v) for v in value]
    if isinstance(value, np.ndarray):
        return [serialise(v) for v in value.tolist()]
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return _number(value)


def at_risk_relations(table: str, frame: pd.DataFrame, time: str, at_risk: str = "at_risk", events: str = "events",
                      censored: str = "censored", by: tuple[str, ...] = (), events_in: str = "following",
                      cumulative: bool = False) -> tuple[Relation, ...]:
    """The recursion of a numbers-at-risk table, one Relation per step within each group of `by`
    (rows in time order): at_risk[t+1] = at_risk[t] - events[t] - censored[t] where events[t] are
    those in [t, t+1) (events_in="following"), or - events[t+1] - censored[t+1] for the interval
    ending at t+1 ("preceding"). cumulative=True: events and censored count from the start, so the
    step uses their differences. Rows are addressed by position in `frame` (publish it as it is)."""
    if events_in not in ("following", "preceding"):
        raise ValueError("events_in must be 'following' or 'preceding'")
    if cumulative and events_in == "following":
        raise ValueError("cumulative counts need events_in='preceding'")
    rows = frame.reset_index(drop=True)
    groups = [np.arange(len(rows))] if not by else list(rows.groupby(list(by), sort=False).indices.values())
    out = []
    for positions in groups:
        order = np.asarray(positions)[np.argsort(rows[time].to_numpy()[positions], kind="stable")]
        for a, b in zip(order[:-1], order[1:], strict=True):
            step = int(b) if events_in == "preceding" else int(a)
            terms = [Term(table, int(b), at_risk), Term(table, int(a), at_risk, -1.0),
                     Term(table, step, events), Term(table, step, censored)]
            if cumulative:
                terms += [Term(table, int(a), events, -1.0), Term(table, int(a), censored, -1.0)]
            out.append(Relation(tuple(terms), 0.0, f"{table}: at risk step {rows[time].iloc[a]}->{rows[time].iloc[b]}"))
    return tuple(out)


def _unknowns(table: str, key: str) -> Callable[..., Unknown]:
    """Unknown(name, value, -1) of one group of an at-risk table; a negative value is a table of another layout."""
    def unknown(what: str, day: Any, value: float, coef: float = -1.0) -> Unknown:
        if value < -1e-9:
            raise ValueError(f"table '{table}' ({key}): {what} {day} would be {value:g}: not a "
                             f"Kaplan-Meier at-risk table with cumulative events and censored")
        return Unknown(f"{table}[{key}] {what} {day}", float(value), coef)
    return unknown


def km_at_risk_relations(table: str, frame: pd.DataFrame, time: str = "day", at_risk: str = "at_risk",
                         events: str = "events", censored: str = "censored",
                         by: tuple[str, ...] = ("profile",)) -> tuple[Relation, ...]:
    """What a reader knows of a Kaplan-Meier numbers-at-risk table read at fixed days z_0 = 0 < z_1 < ...
    (survival/curves.py): A_k = #{T >= z_k} at risk, and E_k, C_k = #{T <= z_k} with an event / censored,
    counted from the start (E_0 = C_0 = 0, A_0 = all). A placement ending exactly on z_k is in A_k and in
    E_k or C_k, so there is no exact recursion; with unpublished non-negative counts (Unknown) it is exact:

        A_k + E_k + C_k - D_k = A_0       D_k = #{T = z_k}              (k >= 1)
        A_{k-1} - A_k - D_{k-1} - P_k = 0  P_k = #{z_{k-1} < T < z_k}    (P_1 = #{T < z_1}, D_0 folded in)
        E_k - E_{k-1} - QE_k = 0, C_k - C_{k-1} - QC_k = 0   (cumulative counts never fall)
        A_K - D_K - R = 0                  R = #{T > z_K}

    This is the linked-tables model tau-Argus and sdcTable audit (every quantity a reader can reason
    about is a cell, unpublished ones free and >= 0), rather than coarsening the at-risk counts to
    intervals: the exact numbers at risk, events and censored under a Kaplan-Meier plot are what readers
    and reporting guidelines expect (Morris et al. 2019), and with the ties and the between-day counts
    as free non-negative variables no bound the reader could derive is missed (D_k <= A_k - A_{k+1},
    D_k <= the day's new endings, monotone counts), so the audit is no weaker than the reader. The
    unpublished counts themselves are not published cells and are not required protected.
    The true values of the unknowns are computed from the table (a table of another layout raises)."""
    rows = frame.reset_index(drop=True)
    groups = [("", np.arange(len(rows)))] if not by else \
        [(str(k), np.asarray(v)) for k, v in rows.groupby(list(by), sort=False).indices.items()]
    out: list[Relation] = []
    for key, positions in groups:
        order = [int(i) for i in np.asarray(positions)[np.argsort(rows[time].to_numpy()[positions], kind="stable")]]
        A = rows[at_risk].to_numpy(dtype=float)
        E = rows[events].to_numpy(dtype=float)
        C = rows[censored].to_numpy(dtype=float)
        first = order[0]
        if E[first] or C[first]:
            raise ValueError(f"table '{table}' ({key}): events and censored at the first day must be 0 (counted from the start)")
        unknown = _unknowns(table, key)

        ties = {first: 0.0}
        for prev, cur in zip(order[:-1], order[1:], strict=True):
            day = rows[time].iloc[cur]
            ties[cur] = A[cur] + E[cur] + C[cur] - A[first]
            out.append(Relation((Term(table, cur, at_risk), Term(table, cur, events), Term(table, cur, censored),
                                 Term(table, first, at_risk, -1.0), unknown("ending on day", day, ties[cur])),
                                0.0, f"{table}: at risk + events + censored at day {day} = at risk at the start + ties"))
            between = A[prev] - A[cur] - ties[prev]
            terms = [Term(table, prev, at_risk), Term(table, cur, at_risk, -1.0), unknown("ending before day", day, between)]
            if prev != first:
                terms.append(unknown("ending on day", rows[time].iloc[prev], ties[prev]))
            out.append(Relation(tuple(terms), 0.0, f"{table}: at risk falls to day {day} by those ending in between"))
            for col, what in ((events, "events"), (censored, "censored")):
                vals = E if col == events else C
                out.append(Relation((Term(table, cur, col), Term(table, prev, col, -1.0),
                                     unknown(f"new {what} by day", day, vals[cur] - vals[prev])), 0.0,
                                    f"{table}: {what} never fall, to day {day}"))
        last = order[-1]
        if last != first:
            day = rows[time].iloc[last]
            out.append(Relation((Term(table, last, at_risk), unknown("ending on day", day, ties[last]),
                                 unknown("followed beyond day", day, A[last] - ties[last])), 0.0,
                                f"{table}: at risk at day {day} holds those ending on it"))
    return tuple(out)


def term_value(term: Term | Unknown, tables: Mapping[str, Table], headlines: Mapping[str, float] | None = None) -> float:
    """The true value of a relation's term, addressed as the audit addresses it (audit._Cells.index):
    a crosstab's cell by index label (with its margins), a rows table's by position or selector, a
    headline by its path (table "headlines")."""
    if isinstance(term, Unknown):
        return float(term.value)
    if term.table == "headlines":
        return float((headlines or {})[term.where])
    tab = tables[term.table]
    if tab.kind == "crosstab":
        frame = tab.frame.copy()
        if tab.margins:
            frame["Total"] = frame.sum(axis=1)
            frame.loc["Total"] = frame.sum(axis=0)
        return float(frame.iloc[term.where][term.column] if isinstance(term.where, int) and term.where not in frame.index
                     else frame.loc[term.where, term.column])
    flat = (tab.frame.reset_index() if tab.index else tab.frame).reset_index(drop=True)
    if isinstance(term.where, dict):
        hit = np.logical_and.reduce([flat[k].eq(v).to_numpy() for k, v in term.where.items()])
        if hit.sum() != 1:
            raise KeyError(f"{term.table}: {term.where} matches {int(hit.sum())} rows")
        row = flat.loc[hit].iloc[0]
    else:
        row = flat.iloc[int(term.where)]
    value = pd.to_numeric(row[term.column], errors="coerce")
    return 0.0 if pd.isna(value) else float(value)


def holding(relations: Sequence[Relation], tables: Mapping[str, Table],
            headlines: Mapping[str, float] | None = None) -> tuple[Relation, ...]:
    """The relations that hold on the true values (a structural relation a reader would assume, kept
    where it is true: where it is not, a reader using it would be misled, not informed). A relation
    naming a row or table the result does not have is left out too."""
    out = []
    for rel in relations:
        try:
            lhs = sum(t.coef * term_value(t, tables, headlines) if isinstance(t, Term) else t.coef * t.value
                      for t in rel.terms)
        except KeyError:
            continue
        if rel.constant is None or abs(lhs - (rel.constant or 0.0)) <= 1e-6 * max(1.0, abs(lhs)):
            out.append(rel)
    return tuple(out)


def sums_to(whole: str, parts: tuple[str, ...], cells: list[tuple[Any, str]]) -> tuple[Relation, ...]:
    """whole[cell] = sum of parts[cell] for each (where, column) cell: per-council tables of the same
    shape summing to the region's table."""
    return tuple(Relation((Term(whole, where, col, -1.0), *(Term(p, where, col) for p in parts)), 0.0,
                          f"{whole} = sum of {', '.join(parts)} at {where}, {col}") for where, col in cells)


def estimate(value: float, interval: tuple[float, float] | None = None, level: float = 0.95) -> Estimate:
    """An Estimate from a value and an optional (lower, upper) pair."""
    lower, upper = interval if interval is not None else (None, None)
    return Estimate(float(value), None if lower is None else float(lower), None if upper is None else float(upper),
                    level)


__all__ = ["Cell", "Count", "Estimate", "Follows", "Guarded", "Relation", "Result", "Share", "SUPPRESSED", "Table", "Term",
           "Test", "Unknown", "at_risk_relations", "holding", "km_at_risk_relations", "estimate", "serialise", "sums_to"]
