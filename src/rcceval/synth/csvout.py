"""Writing CSV files byte-for-byte reproducibly: fixed column order, dd/mm/YYYY dates, "\\n"."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .journeys import NEVER


class DateStrings:
    """dd/mm/YYYY strings for day numbers by table look-up (fast for millions of rows)."""

    def __init__(self, first: int, last: int) -> None:
        self.first = int(first)
        days = np.arange(self.first, int(last) + 1).astype("datetime64[D]")
        self.table = np.array(pd.DatetimeIndex(days).strftime("%d/%m/%Y").tolist() + [""], dtype=object)
        self.blank = len(self.table) - 1

    def __call__(self, day: np.ndarray) -> np.ndarray:
        day = np.asarray(day, dtype=np.int64)
        ix = day - self.first
        bad = (day >= NEVER) | (ix < 0) | (ix >= self.blank)
        if (bad & (day < NEVER)).any():
            raise ValueError("date outside the generator's calendar")
        return self.table[np.where(bad, self.blank, ix)]


def write_csv(path: Path, columns: list[str], data: dict) -> None:
    """One CSV with exactly `columns`, in order; blanks for empty strings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame({c: data[c] for c in columns}, columns=columns)
    df.to_csv(path, index=False, lineterminator="\n")


def append_csv(path: Path, columns: list[str], data: dict, header: bool) -> None:
    df = pd.DataFrame({c: data[c] for c in columns}, columns=columns)
    df.to_csv(path, index=False, lineterminator="\n", mode="w" if header else "a", header=header)
