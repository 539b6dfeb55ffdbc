"""The attacker of the disclosure tests, independent of reporting/audit.py: what a reader can work out
about each hidden ('c') cell from the published values alone, by plain subtraction and by linear
programming (scipy's HiGHS). An equation is ([(table, row, column, coef) | ("?", name, None, coef)],
constant): "?" terms are quantities a reader does not see, free and >= 0."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog


def _shown(tables, table, row, col):
    frame = tables[table]
    return frame.iloc[row][col] if isinstance(row, int) else frame.loc[row, col]


def attack(tables: dict[str, pd.DataFrame], equations):
    """Feasible interval of every hidden ('c') cell named in the equations. An equation is
    ([(table, row, column, coef) | ("?", name, None, coef)], constant): "?" terms are unpublished
    quantities, free and >= 0."""
    var: dict[tuple, int] = {}
    rows, rhs = [], []
    for terms, const in equations:
        coefs: dict[int, float] = {}
        b = const
        for table, row, col, coef in terms:
            if table == "?":
                k = var.setdefault(("?", row, None), len(var))
                coefs[k] = coefs.get(k, 0.0) + coef
                continue
            v = _shown(tables, table, row, col)
            if str(v) == "c":
                k = var.setdefault((table, row, col), len(var))
                coefs[k] = coefs.get(k, 0.0) + coef
            else:
                b -= coef * float(v)
        if coefs:
            rows.append(coefs)
            rhs.append(b)
        elif abs(b) > 1e-9:
            raise AssertionError(f"an equation the attacker assumed does not hold on the shown values: {terms}")
    A = np.zeros((len(rows), len(var)))
    for i, coefs in enumerate(rows):
        for k, c in coefs.items():
            A[i, k] = c
    out = {}
    for cell, k in var.items():
        if cell[0] == "?":
            continue
        ends = []
        for sign in (1, -1):
            c = np.zeros(len(var))
            c[k] = sign
            res = linprog(c, A_eq=A, b_eq=np.array(rhs), bounds=[(0, None)] * len(var), method="highs")
            assert res.status in (0, 3), res.message
            ends.append(sign * res.fun if res.status == 0 else -sign * np.inf)   # unbounded: min 0 side, max +inf
        out[cell] = (ends[0], ends[1])
    return out


def subtraction(tables, equations):
    """Plain subtraction: an equation with one hidden cell and no unpublished term gives it away."""
    found = {}
    for terms, const in equations:
        if any(t[0] == "?" for t in terms):
            continue
        hidden = [t for t in terms if str(_shown(tables, *t[:3])) == "c"]
        if len(hidden) == 1:
            rest = sum(a * float(_shown(tables, t, r, c)) for t, r, c, a in terms if (t, r, c, a) not in hidden)
            found[hidden[0][:3]] = (const - rest) / hidden[0][3]
    return found


def narrowest(intervals):
    return min((hi - lo for lo, hi in intervals.values()), default=np.inf)
