"""The one publishing helper: every table, figure and headline figure a report shows goes through here.

Tables pass disclosure control (disclosure.py) before they are shown or written, and a table that
still carries a child-level column (CHILD, DOB, UPN...) is refused outright. Figures are saved as
PNG and SVG; headline figures collect into results.json, written deterministically (sorted keys,
no timestamps) so that the same inputs give a byte-identical file.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rcceval.reporting.disclosure import DisclosureSettings, protect_crosstab, protect_rows
from rcceval.reporting.results import SUPPRESSED, Cell, Count, Follows, Guarded, Result, Share, Table, serialise

CHILD_LEVEL_COLUMNS = frozenset({"CHILD", "DOB", "UPN", "MC_DOB", "HOME_POST", "PL_POST", "childId"})


class DisclosureError(ValueError):
    """A table about to be published would show child-level data."""


_plain = serialise  # the one serialiser (results.py); kept under its old name for callers


class Publisher:
    """Publishes one notebook's tables, figures and headline figures into its output folder."""

    def __init__(self, out_dir: Path, notebook: str, settings: DisclosureSettings = DisclosureSettings()) -> None:
        self.dir = Path(out_dir) / notebook
        self.notebook = notebook
        self.settings = settings
        self.results: dict[str, Any] = {}
        self.tables: list[str] = []
        self.figures: list[str] = []
        self.published: dict[str, pd.DataFrame] = {}

    def _check(self, frame: pd.DataFrame, name: str) -> None:
        names = {str(c) for c in frame.columns} | {str(n) for n in frame.index.names if n}
        leaked = sorted(names & CHILD_LEVEL_COLUMNS)
        if leaked:
            raise DisclosureError(f"table '{name}' has child-level column(s) {leaked}: publish aggregates only")

    def table(self, name: str, frame: pd.DataFrame, counts: Iterable[str] = (), percent_of: dict[str, str] | None = None,
              by: Sequence[str] | None = None, totals_shown: bool = False) -> pd.DataFrame:
        """A long table (one row per category): counts protected, percentages of hidden counts hidden."""
        self._check(frame, name)
        safe = protect_rows(frame, list(counts), percent_of=percent_of, by=by, totals_shown=totals_shown,
                            settings=self.settings)
        return self._write(name, safe, index=False)

    def crosstab(self, name: str, counts: pd.DataFrame, margins: bool = True) -> pd.DataFrame:
        """A two-way table of counts with totals, protected so no hidden cell can be recovered."""
        self._check(counts, name)
        return self._write(name, protect_crosstab(counts, self.settings, margins=margins), index=True)

    def model_table(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Model results (coefficients, intervals, tests): no counts of children, published as they are."""
        self._check(frame, name)
        return self._write(name, frame, index=True)

    def _write(self, name: str, frame: pd.DataFrame, index: bool) -> pd.DataFrame:
        folder = self.dir / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / f"{name}.csv", index=index)
        self.tables.append(name)
        return frame

    def figure(self, name: str, fig: Any) -> None:
        """Save a matplotlib figure (drawn from published tables or model results) as PNG and SVG."""
        folder = self.dir / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        png = folder / f"{name}.png"
        fig.savefig(png, dpi=110, bbox_inches="tight", metadata={"Software": None})
        fig.savefig(folder / f"{name}.svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
        self.figures.append(name)

    def result(self, key: str, value: Any) -> Any:
        """Record a headline figure for results.json (counts and shares in it protected)."""
        return self.headline(key, value)

    def publish(self, result: Result, prefix: str = "") -> dict[str, Any]:
        """Publish a result: every table it declares through disclosure control, every headline with
        its counts and shares protected. Returns the published (protected) tables and headlines, for
        the notebook to display: nothing else of the result leaves the analysis."""
        shown: dict[str, Any] = {}
        for name, tab in result.tables().items():
            shown[prefix + name] = self.publish_table(prefix + name, tab)
        for key, value in result.headlines().items():
            shown[prefix + key] = self.headline(prefix + key, value)
        return shown

    def publish_table(self, name: str, tab: Table) -> pd.DataFrame:
        """One declared table through the disclosure rule of its kind."""
        if tab.kind == "crosstab":
            safe = self.crosstab(name, tab.frame, margins=tab.margins)
        elif tab.kind == "model" and not tab.counts:
            safe = self.model_table(name, tab.frame)
        else:
            safe = self._rows(name, tab)
        self.published[name] = safe
        return safe

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

    def _rows(self, name: str, tab: Table) -> pd.DataFrame:
        frame = tab.frame.reset_index() if tab.index else tab.frame
        if tab.follows is not None:
            frame = self._follow(frame, tab.follows)
        safe = self.table(name, frame, counts=tab.counts, percent_of=dict(tab.percent_of or {}), by=tab.by,
                          totals_shown=tab.totals_shown)
        return safe.set_index(list(tab.frame.index.names)) if tab.index else safe

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
        return path
