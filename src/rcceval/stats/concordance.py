"""Harrell's concordance index as R's coxph / concordancefit reports it.

Right-censored data only (R's time-dependent concordance for (start, stop] rows differs).
Counted in O(n log^2 n) with no loop over rows (see `_range_rank_counts`).
"""
from __future__ import annotations

import numpy as np

from rcceval.stats._arrays import codes as _codes

__all__ = ["concordance_index"]


def concordance_index(durations, events, risk_score, strata=None, weights=None,
                      entry=None) -> float:
    """Harrell's C for a risk score (higher = earlier event), R's concordancefit convention.

    A pair is comparable when one row has an event at t and the other (same stratum) is still
    at risk after t, or is censored at t; pairs with tied event times are not comparable; tied
    scores count one half. Weighted by the product of the pair's case weights (R weights the
    pair by the event row's weight times the other row's); counting-process input is not
    supported here (R's time-dependent concordance differs).
    """
    if entry is not None:
        raise NotImplementedError("concordance for (start, stop] data is not implemented")
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events).astype(bool)
    s = np.asarray(risk_score, dtype=float)
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    st = np.zeros(t.size, dtype=np.int64) if strata is None else _codes(strata, "strata")[0]
    conc, disc, tied = _concordance_counts(t, e, s, w, st)
    total = conc + disc + tied
    return float((conc + tied / 2) / total) if total > 0 else float("nan")


def _concordance_counts(t, e, s, w, st) -> tuple[float, float, float]:
    """Weighted counts of concordant, discordant and score-tied comparable pairs.

    Order rows by (stratum, time, events before censorings); a death is compared with every
    row from the end of its tie-group of deaths to the end of its stratum, a contiguous range.
    Counting rows of lower / equal score in a range is a dominance count, answered for all
    deaths at once by `_range_rank_counts` (O(n log^2 n), no row loops).
    """
    # position key: stratum, time rank, then censored after deaths at the same time
    t_rank = np.unique(t, return_inverse=True)[1]
    order = np.lexsort((~e, t_rank, st))
    t_rank, e, s, w, st = t_rank[order], e[order], s[order], w[order], st[order]
    n = t.size
    s_rank = np.unique(s, return_inverse=True)[1].astype(np.int64)
    key = st * (n + 1) + t_rank  # (stratum, time) of every row
    death_idx = np.flatnonzero(e)
    # end of the death tie-group: first position with a different key or a censored row
    grp_end = np.searchsorted(key * 2 + (~e), key[death_idx] * 2 + 1, side="left")
    strat_end = np.searchsorted(st, st[death_idx], side="right")
    lower, le = _range_rank_counts(grp_end, strat_end, s_rank[death_idx], s_rank, w)
    total = _suffix_weight(w, grp_end) - _suffix_weight(w, strat_end)
    wd = w[death_idx]
    conc = float(np.dot(wd, lower))
    tied = float(np.dot(wd, le - lower))
    disc = float(np.dot(wd, total - le))
    return conc, disc, tied


def _suffix_weight(w: np.ndarray, pos: np.ndarray) -> np.ndarray:
    suffix = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])
    return suffix[pos]


def _range_rank_counts(lo: np.ndarray, hi: np.ndarray, r: np.ndarray, ranks: np.ndarray,
                       w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query q, the sums of w[j] over lo_q <= j < hi_q with ranks[j] < r_q and <= r_q.

    Each is a difference of prefix queries over [0, pos). A prefix is the union of at most
    log2(n) aligned dyadic blocks (one per set bit of pos); at each block size the rows are
    sorted by (block, rank) once, and a single searchsorted answers every query at that level.
    O(n log^2 n) work, all of it vectorised.
    """
    pos = np.concatenate([hi, lo]).astype(np.int64)
    rq = np.concatenate([r, r]).astype(np.int64)
    n = ranks.size
    below = np.zeros(pos.size)
    at_most = np.zeros(pos.size)
    big = np.int64(ranks.max() + 2)
    idx = np.arange(n, dtype=np.int64)
    size = 1
    while size <= n:
        comp = (idx // size) * big + ranks
        srt = np.argsort(comp, kind="stable")
        comp_sorted = comp[srt]
        csum = np.concatenate([[0.0], np.cumsum(w[srt])])
        use = (pos & size) != 0
        block = (pos[use] // (2 * size)) * 2   # the block of this size inside [0, pos)
        start = np.searchsorted(comp_sorted, block * big, side="left")
        key = block * big + rq[use]
        below[use] += csum[np.searchsorted(comp_sorted, key, side="left")] - csum[start]
        at_most[use] += csum[np.searchsorted(comp_sorted, key, side="right")] - csum[start]
        size *= 2
    m = hi.size
    return below[:m] - below[m:], at_most[:m] - at_most[m:]
