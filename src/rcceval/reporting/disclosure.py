"""Statistical disclosure control for everything published: the one place it is applied.

Rules (the usual ones for official children's social care statistics):
- primary: a count from 1 to threshold-1 (default 1-4) is shown as "c" (zeros are shown unless
  `suppress_zero`);
- secondary: in every line of cells that adds up to a published total (a row or column with its
  margin), a lone suppressed cell could be recovered by subtraction, so the smallest other non-zero
  cell of the line is suppressed too, until every line has none or at least two suppressed cells;
- optional rounding of every shown count to the nearest `round_to` (e.g. 5);
- a percentage computed from a suppressed count is suppressed too;
- then the audit (audit.py) checks every hidden cell against all published values and the linear
  relations among them, and suppresses more cells until none can be narrowed below `protection`
  (default: the threshold) — the rule above only protects against subtraction within one line.
Tables here are aggregates (a few dozen cells), so plain loops over cells are fine.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MARK = "c"
TOTAL = "Total"


@dataclass(frozen=True)
class DisclosureSettings:
    threshold: int = 5
    round_to: int | None = None
    suppress_zero: bool = False
    marker: str = MARK
    protection: int | None = None

    @property
    def width(self) -> float:
        """Protection width: the narrowest feasible interval [lo, hi] (hi - lo) a hidden cell may have."""
        return float(self.threshold if self.protection is None else self.protection)

    def primary(self, values: np.ndarray) -> np.ndarray:
        low = 0 if self.suppress_zero else 1
        return (values >= low) & (values < self.threshold) & ~np.isnan(values)


def _secondary(values: np.ndarray, hidden: np.ndarray, lines: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
    """Suppress more cells until no line (cells summing to a shown total) has exactly one hidden."""
    hidden = hidden.copy()
    changed = True
    while changed:
        changed = False
        for line in lines:
            n_hidden = sum(hidden[c] for c in line)
            if n_hidden != 1:
                continue
            candidates = [c for c in line if not hidden[c] and values[c] > 0]
            if not candidates:
                candidates = [c for c in line if not hidden[c]]
            if not candidates:
                continue
            pick = min(candidates, key=lambda c: (values[c], c))
            hidden[pick] = True
            changed = True
    return hidden


def _shown(values: np.ndarray, hidden: np.ndarray, settings: DisclosureSettings) -> np.ndarray:
    out = np.empty(values.shape, dtype=object)
    rounded = values if not settings.round_to else np.round(values / settings.round_to) * settings.round_to
    for idx in np.ndindex(values.shape):
        if hidden[idx]:
            out[idx] = settings.marker
        elif np.isnan(values[idx]):
            out[idx] = None
        else:
            out[idx] = int(rounded[idx])
    return out


def crosstab_values(counts: pd.DataFrame, margins: bool = True) -> np.ndarray:
    """The cells of a crosstab as published (row and column totals appended when margins), unprotected."""
    raw = counts.to_numpy(dtype=float)
    if margins:
        raw = np.vstack([np.column_stack([raw, raw.sum(axis=1)]),
                         np.r_[raw.sum(axis=0), raw.sum()][None, :]])
    return raw


def protect_crosstab(counts: pd.DataFrame, settings: DisclosureSettings = DisclosureSettings(),
                     margins: bool = True) -> pd.DataFrame:
    """A two-way table of counts with (optionally) row and column totals, made safe to publish."""
    raw = crosstab_values(counts, margins)
    n_rows, n_cols = raw.shape
    lines: list[list[tuple[int, int]]] = []
    if margins:
        lines += [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
        lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    hidden = _secondary(raw, settings.primary(raw), lines)
    index = list(counts.index) + ([TOTAL] if margins else [])
    columns = list(counts.columns) + ([TOTAL] if margins else [])
    return pd.DataFrame(_shown(raw, hidden, settings), index=index, columns=columns)


def protect_rows(frame: pd.DataFrame, count_cols: Iterable[str], percent_of: dict[str, str] | None = None,
                 by: Sequence[str] | None = None, totals_shown: bool = True,
                 settings: DisclosureSettings = DisclosureSettings()) -> pd.DataFrame:
    """A long table (one row per category) made safe to publish.

    count_cols are suppressed cell by cell; percent_of maps a percentage column to the count
    column it was computed from (suppressed with it). When the categories of a column add up to a
    total that is published (totals_shown), secondary suppression runs within each group of `by`.
    """
    out = frame.copy().reset_index(drop=True)
    groups = [np.arange(len(out))] if not by else [np.asarray(ix) for ix in out.groupby(list(by), sort=False).indices.values()]
    hidden_by_col = {}
    for col in count_cols:
        values = out[col].to_numpy(dtype=float)
        hidden = settings.primary(values)
        if totals_shown:
            lines = [[(int(i),) for i in g] for g in groups]
            hidden = _secondary(values[:, None], hidden[:, None], [[(i, 0) for (i,) in line] for line in lines])[:, 0]
        hidden_by_col[col] = hidden
        out[col] = _shown(values, hidden, settings)
    for pct_col, count_col in (percent_of or {}).items():
        pct = out[pct_col].astype(object)
        pct[hidden_by_col[count_col]] = settings.marker
        out[pct_col] = pct
    return out


def is_safe(published: pd.DataFrame, settings: DisclosureSettings = DisclosureSettings()) -> bool:
    """True when no shown integer count lies in the suppressed range (a check for tests and reports)."""
    for value in published.to_numpy().ravel():
        if isinstance(value, (int, np.integer)) and settings.primary(np.array([float(value)]))[0]:
            return False
    return True
