"""Data problems: what is wrong, where (file, row, CHILD, column, value) and what was done about it.

Severities:
- fatal: the data cannot be read as what it claims (missing column, unparseable date, unknown
  code...): the run stops before analysis with the full list;
- fixable: a logical error with a documented cleaning rule, which derivation applies and records
  (the `fix` says what was done); strict mode turns these into a stop;
- warning: worth knowing, nothing changed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

SEVERITIES = ("fatal", "fixable", "warning")
COLUMNS = ["severity", "rule", "file", "row", "LA", "CHILD", "column", "value", "message", "fix"]


@dataclass(frozen=True)
class Problem:
    severity: str
    rule: str
    file: str = ""
    row: int | None = None
    LA: str = ""
    CHILD: str = ""
    column: str = ""
    value: str = ""
    message: str = ""
    fix: str = ""


class ProblemLog:
    """Collects problems one at a time or a whole set of rows at once (vectorised)."""

    def __init__(self) -> None:
        self._chunks: list[pd.DataFrame] = []

    def add(self, problem: Problem) -> None:
        self._chunks.append(pd.DataFrame([asdict(problem)], columns=COLUMNS))

    def add_rows(self, rows: pd.DataFrame, severity: str, rule: str, column: str, message: str,
                 values: pd.Series | None = None, fix: str = "") -> None:
        """One problem per row of `rows` (which carry _file/_row and, where known, LA/CHILD)."""
        if rows.empty:
            return
        n = len(rows)

        def col(name: str) -> list:
            return rows[name].tolist() if name in rows.columns else [""] * n

        chunk = pd.DataFrame({
            "severity": severity, "rule": rule, "file": col("_file"), "row": col("_row"),
            "LA": col("LA"), "CHILD": col("CHILD"), "column": column,
            "value": values.astype(str).tolist() if values is not None else "",
            "message": message, "fix": fix,
        }, columns=COLUMNS)
        self._chunks.append(chunk)

    def extend(self, other: "ProblemLog") -> None:
        self._chunks.extend(other._chunks)

    def frame(self) -> pd.DataFrame:
        """All problems, in a stable order (severity, rule, file, row)."""
        if not self._chunks:
            return pd.DataFrame(columns=COLUMNS)
        out = pd.concat(self._chunks, ignore_index=True)
        out["row"] = pd.to_numeric(out["row"], errors="coerce").astype("Int64")
        for c in COLUMNS:
            if c != "row":
                out[c] = out[c].fillna("").astype(str)
        order = out["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
        out = out.assign(_o=order).sort_values(["_o", "rule", "file", "row", "LA", "CHILD", "column"],
                                               kind="stable").drop(columns="_o")
        return out.reset_index(drop=True)

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks)
