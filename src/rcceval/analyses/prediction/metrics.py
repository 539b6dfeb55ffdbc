"""How well predictions of an unplanned ending within the horizon discriminate and calibrate, when some
placements are still open: folds grouped by child, censoring weights, AUC, Brier, calibration, and a
bootstrap that resamples children.

What is evaluated: each placement's out-of-fold predicted risk of an unplanned ending by the horizon
(the cumulative incidence, other endings competing) against what happened by the horizon. A placement
censored before the horizon (still open at the extract date, or its ending unknown) has no known
status and weight 0; every placement whose status is known is weighted by the inverse of the
probability of remaining uncensored that long (IPCW: Kaplan-Meier of the censoring times), so that
the known placements stand for all of them. Cases are unplanned endings by the horizon; controls
are every other known placement, including those that ended for another reason first (the
"definition 2" controls of Blanche, Dartigues & Jacqmin-Gadda, Stat Med 2013, for competing risks).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import delayed

from rcceval import parallel
from rcceval.parallel import Workers


def grouped_folds(clusters: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold (0..k-1) of each placement: children shuffled with the seed, then dealt round-robin,
    so all placements of a child share one fold and folds hold about equal numbers of children."""
    codes, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    if len(codes) < k:
        raise ValueError(f"{len(codes)} children cannot fill {k} folds")
    order = np.random.default_rng(seed).permutation(len(codes))
    fold_of_child = np.empty(len(codes), dtype=np.int64)
    fold_of_child[order] = np.arange(len(codes)) % k
    return fold_of_child[inverse]


def censoring_weights(time: np.ndarray, censored: np.ndarray, horizon: float) -> np.ndarray:
    """Inverse probability of censoring weights for the status at the horizon; 0 where it is unknown.

    `time` is each placement's whole follow-up in days (not cut at the horizon). G is the Kaplan-Meier
    estimate of remaining uncensored (censoring as the event, the placements followed at least d days
    at risk on day d). A placement that ended by the horizon gets 1/G(t-) (no censoring before its
    ending), one followed to the horizon 1/G(horizon); one censored before the horizon gets 0.
    """
    time = np.asarray(time, float)
    censored = np.asarray(censored, bool)
    days = np.unique(time[censored])
    at_risk = len(time) - np.searchsorted(np.sort(time), days, side="left")
    cens_sorted = np.sort(time[censored])
    n_cens = np.searchsorted(cens_sorted, days, side="right") - np.searchsorted(cens_sorted, days, side="left")
    surv = np.cumprod(1.0 - n_cens / at_risk)

    def G(t: np.ndarray, strictly_before: bool) -> np.ndarray:
        i = np.searchsorted(days, t, side="left" if strictly_before else "right")
        return np.where(i > 0, surv[np.maximum(i - 1, 0)], 1.0)

    ended_by = ~censored & (time <= horizon)
    past = time >= horizon
    g = np.where(ended_by, G(time, True), G(np.full(len(time), float(horizon)), False))
    return np.where(ended_by | past, 1.0 / np.maximum(g, 1e-12), 0.0)


class RankedScores:
    """A score sorted once, with its tie groups, so that a weighted AUC is two bincounts (the bootstrap
    evaluates thousands of weightings of the same scores)."""

    def __init__(self, score: np.ndarray) -> None:
        self.order = np.argsort(score, kind="stable")
        s = np.asarray(score)[self.order]
        self.group = np.r_[0, np.cumsum(s[1:] != s[:-1])]
        self.n_groups = int(self.group[-1]) + 1 if len(s) else 0

    def auc(self, case_w: np.ndarray, control_w: np.ndarray) -> float:
        """P(score of a case > score of a control) + half the ties, cases and controls weighted."""
        wc = np.bincount(self.group, case_w[self.order], minlength=self.n_groups)
        wn = np.bincount(self.group, control_w[self.order], minlength=self.n_groups)
        below = np.cumsum(wn) - wn
        denom = wc.sum() * wn.sum()
        return float((wc * (below + 0.5 * wn)).sum() / denom) if denom > 0 else float("nan")


def weighted_auc(score: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """AUC (Mann-Whitney) with weights; with unit weights it equals the rank formula
    (R_cases - n1(n1+1)/2) / (n1 n0) with mid-ranks for ties."""
    w = np.ones(len(score)) if w is None else np.asarray(w, float)
    y = np.asarray(y, bool)
    return RankedScores(score).auc(w * y, w * ~y)


def brier(risk: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted mean squared difference between predicted risk and what happened."""
    return float(np.sum(w * (np.asarray(y, float) - risk) ** 2) / np.sum(w))


def calibration_table(risk: np.ndarray, y: np.ndarray, w: np.ndarray, groups: int = 10) -> pd.DataFrame:
    """Mean predicted against (censoring-weighted) observed risk by group of predicted risk.

    Groups are tenths of the placements with a known status, by predicted risk.
    """
    known = w > 0
    r, yy, ww = risk[known], np.asarray(y, float)[known], w[known]
    order = np.argsort(r, kind="stable")
    group = np.empty(len(r), dtype=np.int64)
    group[order] = np.arange(len(r)) * groups // max(len(r), 1)
    rows = []
    for g in range(groups):
        m = group == g
        if not m.any():
            continue
        wsum = ww[m].sum()
        obs = float((ww[m] * yy[m]).sum() / wsum)
        n_eff = wsum ** 2 / (ww[m] ** 2).sum()
        se = np.sqrt(max(obs * (1 - obs), 1e-12) / n_eff)
        rows.append({"group": g + 1, "placements": int(m.sum()), "predicted": float(r[m].mean()),
                     "observed": obs, "observed_ci_low": max(0.0, obs - 1.96 * se),
                     "observed_ci_high": min(1.0, obs + 1.96 * se)})
    return pd.DataFrame(rows)


def _replicates(seed_seq: np.random.SeedSequence, n_rep: int, cluster_index: np.ndarray, n_clusters: int,
                base_w: np.ndarray, y: np.ndarray, scores: list[RankedScores],
                subsets: list[np.ndarray] | None) -> np.ndarray:
    rng = np.random.default_rng(seed_seq)
    out = np.empty((n_rep, len(subsets or [None]), len(scores)))
    for b in range(n_rep):
        counts = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters))
        w = counts[cluster_index] * base_w
        for s, mask in enumerate(subsets or [None]):
            ws = w if mask is None else w * mask
            case_w, control_w = ws * y, ws * ~y
            out[b, s] = [rs.auc(case_w, control_w) for rs in scores]
    return out


def bootstrap_aucs(scores: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray, clusters: np.ndarray,
                   n_boot: int, seed: int, n_jobs: Workers = 1, chunk: int = 20,
                   subsets: dict[str, np.ndarray] | None = None) -> dict[str, pd.DataFrame]:
    """AUC of each score in `n_boot` resamples of children (with replacement), without refitting.

    The models are not refitted per replicate (the usual fast approach: the out-of-fold predictions
    already carry the cross-validation's refitting; the bootstrap adds the sampling variation of the
    children evaluated). Replicates are drawn in fixed chunks, each with its own child of the seed's
    SeedSequence, so the result does not depend on the number of workers (`n_jobs`: a number, or the
    run's ParallelSetting, local or a Dask scheduler). Returns, per subset (the
    whole sample as "all"), a replicates x scores table.
    """
    y = np.asarray(y, bool)
    names = list(scores)
    ranked = [RankedScores(scores[k]) for k in names]
    codes, cluster_index = np.unique(np.asarray(clusters), return_inverse=True)
    subset_names = ["all"] + list(subsets or {})
    masks = [None] + [np.asarray(m, float) for m in (subsets or {}).values()]
    sizes = [min(chunk, n_boot - i) for i in range(0, n_boot, chunk)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    run: Callable = delayed(_replicates)
    parts = parallel.run([run(s, n, cluster_index, len(codes), w, y, ranked, masks)
                          for s, n in zip(seeds, sizes)], n_jobs) if sizes else []
    arr = np.concatenate(parts, axis=0) if parts else np.empty((0, len(masks), len(names)))
    return {sub: pd.DataFrame(arr[:, i, :], columns=names) for i, sub in enumerate(subset_names)}


def percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan")
    a = (1 - level) / 2
    return float(np.quantile(v, a)), float(np.quantile(v, 1 - a))
