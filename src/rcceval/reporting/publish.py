"""The one publishing helper: every table, figure and headline figure a report shows goes through here.

Tables pass disclosure control (disclosure.py) before they are shown or written, and a table that
still carries a child-level column (CHILD, DOB, UPN...) is refused outright. The tables of one
publish() call are then audited together with every table published before them (audit.py), under
the linear relations each declares or implies, and more cells suppressed until no hidden cell can be
worked out; only then is anything written. A call whose audit fails writes nothing (AuditError names
the table). The audit's settings and result go to audit.json beside results.json (for the manifest). Figures are saved as
PNG and SVG with an alt text (figures/alt.json); headline figures collect into results.json, written deterministically (sorted keys,
no timestamps) so that the same inputs give a byte-identical file.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rcceval.reporting.audit import RULE, AuditResult, AuditTable, audit, implied_relations
from rcceval.reporting.disclosure import DisclosureSettings, crosstab_values, protect_crosstab, protect_rows
from rcceval.reporting.results import (
    SUPPRESSED,
    Cell,
    Count,
    Follows,
    Guarded,
    Relation,
    Result,
    Share,
    Table,
    serialise,
)

CHILD_LEVEL_COLUMNS = frozenset({"CHILD", "DOB", "UPN", "MC_DOB", "HOME_POST", "PL_POST", "childId"})


class DisclosureError(ValueError):
    """A table about to be published would show child-level data."""


_plain = serialise  # the one serialiser (results.py); kept under its old name for callers


@dataclass
class _Staged:
    """A table protected but not yet written: its published frame (flat for a rows table) and cells."""

    name: str
    tab: Table
    safe: pd.DataFrame
    cells: AuditTable | None


def _numbers(frame: pd.DataFrame, columns: Sequence[Any]) -> np.ndarray:
    """True values of count columns as floats (a blank or a cell already hidden upstream: 0)."""
    if not len(columns):
        return np.zeros((len(frame), 0))
    return np.column_stack([pd.to_numeric(frame[c], errors="coerce").fillna(0.0).to_numpy(dtype=float)
                            for c in columns])


class Shown(dict):
    """What publish() returns: the published tables and headlines of one result, by name.

    Tables (tables/NAME.csv) and headlines (results.json) are written apart, but a notebook reads
    both from this one mapping, where a table and a headline of the same name would silently
    replace each other. Such a name is not in the mapping: reading it raises ValueError naming
    both, and `shown.tables[name]` or `shown.headlines[name]` says which is meant.
    """

    def __init__(self, source: str, tables: dict[str, pd.DataFrame], headlines: dict[str, Any]) -> None:
        self.source = source
        self.tables = dict(tables)
        self.headlines = dict(headlines)
        self.clashes = frozenset(self.tables) & frozenset(self.headlines)
        super().__init__({k: v for part in (self.tables, self.headlines) for k, v in part.items()
                          if k not in self.clashes})

    def _ambiguous(self, key: str) -> ValueError:
        return ValueError(f"{self.source}: '{key}' is both a published table and a published headline: "
                          f"read shown.tables['{key}'] (tables/{key}.csv) or shown.headlines['{key}'] "
                          "(results.json)")

    def __missing__(self, key: str) -> Any:
        if key in self.clashes:
            raise self._ambiguous(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.clashes:
            raise self._ambiguous(key)
        return super().get(key, default)


class Publisher:
    """Publishes one notebook's tables, figures and headline figures into its output folder."""

    def __init__(self, out_dir: Path, notebook: str, settings: DisclosureSettings = DisclosureSettings()) -> None:
        self.dir = Path(out_dir) / notebook
        self.notebook = notebook
        self.settings = settings
        self.results: dict[str, Any] = {}
        self.tables: list[str] = []
        self.figures: list[str] = []
        self.alt_texts: dict[str, str] = {}       # figure name -> alt text (figures/alt.json)
        self.published: dict[str, pd.DataFrame] = {}
        self.audited: list[AuditTable] = []       # every table published so far, as the audit sees it
        self.relations: list[Relation] = []       # every relation among them
        self.audits: list[AuditResult] = []
        self._lp_cache: dict = {}                 # intervals of blocks of hidden cells no later call changed

    def _check(self, frame: pd.DataFrame, name: str) -> None:
        names = {str(c) for c in frame.columns} | {str(n) for n in frame.index.names if n}
        leaked = sorted(names & CHILD_LEVEL_COLUMNS)
        if leaked:
            raise DisclosureError(f"table '{name}' has child-level column(s) {leaked}: publish aggregates only")

    def _write(self, name: str, frame: pd.DataFrame, index: bool) -> pd.DataFrame:
        folder = self.dir / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / f"{name}.csv", index=index)
        self.tables.append(name)
        return frame

    def figure(self, name: str, fig: Any, alt: str | None = None, show: bool | None = None) -> None:
        """Save a matplotlib figure (drawn from published tables or model results) as PNG and SVG, with
        its alt text (`alt`, or one written from the figure by figures.describe) in figures/alt.json.
        In a notebook kernel (show None) the saved PNG is displayed with the alt text in its output
        metadata, so the report's <img> carries it (reporting/html.py), and the figure is closed so
        the inline backend does not show it a second time. Nothing is returned (a notebook cell ending
        in this call shows no value); the alt text is in self.alt_texts. `fig` may be the figure or
        what a plot function returned (its axes, or an array of them)."""
        from rcceval.reporting.figures import describe, figure_of

        fig = figure_of(fig)
        folder = self.dir / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        png = folder / f"{name}.png"
        if not alt:
            try:
                alt = describe(fig)
            except Exception:  # noqa: BLE001 - an odd figure must not stop a report: it still gets a name
                alt = f"Figure: {name.replace('_', ' ')}."
        text = " ".join(alt.split())
        fig.savefig(png, dpi=110, bbox_inches="tight", metadata={"Software": None})
        fig.savefig(folder / f"{name}.svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
        self.figures.append(name)
        self.alt_texts[name] = text
        (folder / ALT_FILE).write_text(json.dumps(self.alt_texts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if show is None:
            show = _in_kernel()
        if show:
            import matplotlib.pyplot as plt
            from IPython.display import Image, display

            display(Image(data=png.read_bytes(), format="png", metadata={"alt": text}))
            plt.close(fig)

    def publish(self, result: Result, prefix: str = "") -> Shown:
        """Publish a result: every table it declares through disclosure control and the audit (with the
        relations it declares), every headline with its counts and shares protected. Returns the
        published (protected) tables and headlines, for the notebook to display: nothing else of the
        result leaves the analysis."""
        tables = result.tables()
        own = set(tables)
        renamed = {prefix + k: replace(v, relations=tuple(_prefixed(v.relations, own, prefix))) for k, v in tables.items()}
        shown_tables = self.publish_tables(renamed, _prefixed(result.relations(), own, prefix))
        shown_headlines = {prefix + key: self.headline(prefix + key, value) for key, value in result.headlines().items()}
        return Shown(type(result).__name__, shown_tables, shown_headlines)

    def publish_table(self, name: str, tab: Table) -> pd.DataFrame:
        """One declared table through the disclosure rule of its kind and the audit."""
        return self.publish_tables({name: tab})[name]

    def publish_tables(self, tables: dict[str, Table], relations: Sequence[Relation] = ()) -> dict[str, pd.DataFrame]:
        """Protect tables, audit them with every table published before under all relations (each
        table's own, those its kind implies, `relations`), suppress further cells where the audit asks,
        then write them. Nothing is written (and nothing recorded) when the audit fails (AuditError).
        A table that follows another of the same call is audited after it (in a later batch)."""
        state = (len(self.audited), len(self.relations), len(self.audits), dict(self.published))
        pending = list(relations) + [r for tab in tables.values() for r in tab.relations]
        done: list[_Staged] = []
        try:
            for batch in _batches(tables):
                for name in batch:
                    self._check(tables[name].frame, name)
                staged = [self._stage(name, tables[name]) for name in batch]
                known = {t.name for t in self.audited} | {st.name for st in staged if st.cells is not None}
                ready = [r for r in pending if all(t.table in known for t in r.terms)]
                pending = [r for r in pending if r not in ready]
                rels = ready + [r for st in staged if st.cells is not None
                                for r in implied_relations(st.name, st.cells.frame, st.tab.kind, st.cells.columns,
                                                           margins=st.tab.margins, totals_shown=st.tab.totals_shown,
                                                           by=st.tab.by)]
                self._audit(staged, rels)
                done += staged
            if pending:     # names a table neither published nor in this call: the audit's own error
                self._audit([], pending)
        except Exception:
            del self.audited[state[0]:], self.relations[state[1]:], self.audits[state[2]:]
            self.published = state[3]
            raise
        return {st.name: self._finish(st) for st in done}

    def _audit(self, staged: list[_Staged], rels: list[Relation]) -> None:
        fresh = [st.cells for st in staged if st.cells is not None]
        before = [c.hidden.copy() for c in fresh]
        t0 = time.perf_counter()
        outcome = audit(self.audited + fresh, self.relations + rels, self.settings, cache=self._lp_cache)
        outcome.seconds = time.perf_counter() - t0
        self.audits.append(outcome)
        for c, old in zip(fresh, before, strict=True):
            st = next(s for s in staged if s.cells is c)
            self._hide(st, c.hidden & ~old)
            c.editable = False
            self.audited.append(c)
        for st in staged:
            self.published[st.name] = self._shown(st)
        self.relations += rels

    def _stage(self, name: str, tab: Table) -> _Staged:
        marker = self.settings.marker
        if tab.kind == "crosstab":
            safe = protect_crosstab(tab.frame, self.settings, margins=tab.margins)
            cols = list(safe.columns)
            cells = AuditTable(name, safe, cols, np.nan_to_num(crosstab_values(tab.frame, tab.margins)),
                               safe.eq(marker).to_numpy(), crosstab=True)
            return _Staged(name, tab, safe, cells)
        if tab.kind == "model" and not tab.counts:
            return _Staged(name, tab, tab.frame, None)
        frame = tab.frame.reset_index() if tab.index else tab.frame
        if tab.follows is not None:
            frame = self._follow(frame, tab.follows)
        safe = protect_rows(frame, list(tab.counts), percent_of=dict(tab.percent_of or {}), by=tab.by,
                            totals_shown=tab.totals_shown, settings=self.settings)
        cols = list(tab.counts)
        hidden = np.column_stack([safe[c].astype(object).eq(marker).to_numpy() for c in cols]) if cols \
            else np.zeros((len(safe), 0), bool)
        return _Staged(name, tab, safe, AuditTable(name, frame.reset_index(drop=True), cols,
                                                   _numbers(frame.reset_index(drop=True), cols), hidden))

    def _follow(self, frame: pd.DataFrame, follows: Follows) -> pd.DataFrame:
        """Hide follows.hide wherever the named crosstab cell of the row is hidden."""
        if follows.table not in self.published:
            raise ValueError(f"table follows '{follows.table}', which is not published before it")
        cross = self.published[follows.table]
        labels = dict(follows.labels or {})
        out = frame.copy()
        hidden = [r in cross.index and c in cross.columns and cross.loc[r, c] == SUPPRESSED
                  for r, c in zip(out[follows.row].map(lambda v: labels.get(v, v)),
                                  out[follows.column].map(lambda v: labels.get(v, v)))]
        for col in follows.hide:
            out[col] = out[col].astype(object).where(~pd.Series(hidden, index=out.index), SUPPRESSED)
        return out

    def _hide(self, st: _Staged, newly: np.ndarray) -> None:
        """Mark the cells the audit suppressed (and the percentages computed from them)."""
        if not newly.any():
            return
        pct_of = {} if st.cells.crosstab else dict(st.tab.percent_of or {})
        safe = st.safe.copy()
        for i, j in zip(*np.nonzero(newly), strict=True):
            col = st.cells.columns[j]
            for target in [col] + [p for p, c in pct_of.items() if c == col]:
                if safe[target].dtype != object:
                    safe[target] = safe[target].astype(object)
                safe.iat[int(i), safe.columns.get_loc(target)] = self.settings.marker
        st.safe = safe

    def _shown(self, st: _Staged) -> pd.DataFrame:
        """The table as published (a rows table with its index set back)."""
        if _flat(st.tab) and st.tab.index:
            return st.safe.set_index(list(st.tab.frame.index.names))
        return st.safe

    def _finish(self, st: _Staged) -> pd.DataFrame:
        self._write(st.name, st.safe, index=not _flat(st.tab))
        return self.published[st.name]

    def audit_summary(self) -> dict[str, Any]:
        """The disclosure settings and what the audit found over every table published: hidden cells
        (primary: the count itself is small; secondary: hidden to protect another), how many the
        audit added, the narrowest feasible interval of any hidden cell, LPs solved and seconds."""
        primary = secondary = 0
        for t in self.audited:
            small = self.settings.primary(t.true) & t.hidden
            primary += int(small.sum())
            secondary += int((t.hidden & ~small).sum())
        last = self.audits[-1].summary() if self.audits else {}
        narrowest = last.get("narrowest")
        return {"settings": {**asdict(self.settings), "protection_width": self.settings.width},
                "rule": RULE,
                "cells_primary": primary, "cells_secondary": secondary,
                "suppressed_by_audit": sum(a.secondary for a in self.audits),
                "relations": len(self.relations), "narrowest": narrowest,
                "lps": sum(a.lps for a in self.audits), "seconds": round(sum(a.seconds for a in self.audits), 3)}

    def headline(self, key: str, value: Any) -> Any:
        """A headline value for results.json, counts and shares protected (nested ones too)."""
        safe = self.protect(value)
        self.results[key] = serialise(safe)
        return safe

    def protect(self, value: Any) -> Any:
        """Counts below the threshold become "c"; a share whose count or complement is hidden too."""
        primary = self.settings.primary
        if isinstance(value, Cell):
            table = self.published.get(value.table)
            if table is None:
                raise ValueError(f"headline cell of '{value.table}', which is not published")
            if isinstance(value.where, dict):
                row = table.loc[np.logical_and.reduce([table[k].eq(v) for k, v in value.where.items()])]
                if len(row) != 1:
                    raise ValueError(f"headline cell {value.where} matches {len(row)} rows of '{value.table}'")
                return row[value.column].iloc[0]
            return table.loc[value.where, value.column]
        if isinstance(value, Count):
            return Guarded(SUPPRESSED) if primary(np.array([float(value.value)]))[0] else value
        if isinstance(value, Share):
            parts = np.array([float(value.count), float(value.total - value.count), float(value.total)])
            if primary(parts).any():
                total = SUPPRESSED if primary(parts[2:])[0] else int(value.total)
                return Guarded({"count": SUPPRESSED, "total": total, "value": SUPPRESSED})
            return value
        if isinstance(value, dict):
            return {k: self.protect(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.protect(v) for v in value]
        return value

    def save(self) -> Path:
        """Write results.json (sorted keys, no timestamps: identical inputs give identical bytes)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / "results.json"
        body = {"notebook": self.notebook, "results": self.results,
                "tables": sorted(self.tables), "figures": sorted(self.figures)}
        path.write_text(json.dumps(_plain(body), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (self.dir / "audit.json").write_text(json.dumps(_plain(self.audit_summary()), indent=2, sort_keys=True) + "\n",
                                             encoding="utf-8")
        return path


ALT_FILE = "alt.json"   # beside a report's figures: each figure's alt text (index.html's <img alt> too)


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (a report being run), not in a plain Python process or a test."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _flat(tab: Table) -> bool:
    """A table protected row by row and written without its index (rows, or a model table with counts)."""
    return tab.kind != "crosstab" and not (tab.kind == "model" and not tab.counts)


def _batches(tables: dict[str, Table]) -> list[list[str]]:
    """Tables in order, split so a table that follows another of the same call comes in a later batch."""
    out: list[list[str]] = [[]]
    for name, tab in tables.items():
        if tab.follows is not None and tab.follows.table in out[-1]:
            out.append([])
        out[-1].append(name)
    return [b for b in out if b]


def _prefixed(relations: Sequence[Relation], names: set[str], prefix: str) -> list[Relation]:
    """Relations of a result whose tables are published under a prefix: its own table names prefixed."""
    if not prefix:
        return list(relations)
    return [replace(r, terms=tuple(replace(t, table=prefix + t.table) if t.table in names else t for t in r.terms))
            for r in relations]
