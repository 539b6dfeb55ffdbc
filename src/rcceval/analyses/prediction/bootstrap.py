"""Question 1's bootstrap: resample children, rerun the whole cross-validation, recompute the AUCs.

Why: the AUCs, their gains (ΔAUC) and the drop-one gains are cross-validated estimates, so their
sampling variation includes the refitting of every fold's model. A bootstrap that reuses one set of
out-of-fold predictions and only resamples the children evaluated leaves that out and gives
intervals that are too narrow (issue 16). Here every replicate redoes the cross-validation:

1. Children are drawn with replacement (multinomial counts): draw j of replicate b is child
   floor(G * u) with u the j-th splitmix64 uniform keyed by (seed, b) (stats/rng.py), so a
   replicate is a pure function of the seed and its number, the same for any number of workers.
2. The resample is a weight vector, not a copy: each placement carries its child's count as a
   frequency weight in the fits, in the censoring weights (recomputed on the resample) and in the AUC.
3. In each fold of the analysis (a drawn child keeps its fold, so its copies never sit on both
   sides of a split), every model (M0-M2 and M1 without each domain; the unplanned and the
   other-ending hazard) is refitted on the fold's training placements, the out-of-fold cumulative
   incidences are recomputed and so are the censoring-weighted AUCs.

The refits are one-step (the default, `steps=1`): each starts at that fold's fit on the original
data and takes one Fisher-scoring (Newton, expected information) step with the resample's weights,
beta* = beta_f + I_b(beta_f)^-1 U_b(beta_f). This is the one-step bootstrap for GLMs (Moulton &
Zeger 1991, Comput. Stat. Data Anal. 11:53-63; Davison & Hinkley 1997, Bootstrap Methods, on
linear approximations); its error in beta* is O_p(1/n), an order smaller than the bootstrap
variation O_p(1/sqrt n) the intervals measure. tests/test_stability_bootstrap.py checks on a small
case that one-step and fully converged intervals agree within 10% of their width; `steps=None`
iterates every refit to convergence (fit_glm with frequency weights, warm-started). Because the
base fit's rows do not depend on the weights, their score and information contributions are
computed once per fold and model for a chunk of replicates; a replicate then costs one weighted
information matrix (a rank-k update over the drawn placements) per fold and model.

Held fixed at their values on the original data: the folds, the pooling of rare levels and the
columns left out as aliased.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import delayed
from scipy import linalg

from rcceval import parallel
from rcceval.analyses.prediction import fit as sf
from rcceval.analyses.prediction import metrics as smx
from rcceval.analyses.prediction.data import OTHER_ENDING, UNPLANNED
from rcceval.parallel import Workers
from rcceval.stats.rng import GOLDEN, splitmix64_mix, splitmix64_uniform

__all__ = ["CVBootstrapData", "cv_bootstrap", "replicate_counts", "parallel_map", "METHOD"]

STREAM = np.uint64(0x51C0_B007_0000_0001)    # keeps these draws apart from other uses of the seed
METHOD = {1: "child bootstrap rerunning the cross-validation; one-step refits (one Fisher-scoring step from "
             "each fold's fit, resample as frequency weights)",
          None: "child bootstrap rerunning the cross-validation; refits iterated to convergence"}


def method_label(steps: int | None) -> str:
    """How the replicates were refitted, in words (for results.json and the text)."""
    if steps is None or steps == 1:
        return METHOD[steps]
    return METHOD[1].replace("one-step refits (one Fisher-scoring step", f"{steps}-step refits ({steps} Fisher-scoring steps")


@dataclass(frozen=True)
class CVBootstrapData:
    """What a replicate needs: the design, the person-period rows, folds, children, and the fold fits.

    `bases[(fold, spec, cause)]` are the parameters (covariates of the spec, then interval intercepts)
    of that fold's fit on the original data; `specs[name] = (terms, other_of)` as in the analysis
    (other_of: the main model whose other-ending hazard a drop-one model uses; None for a main model).
    """

    X: np.ndarray
    columns: list[str]
    rows: dict
    child: np.ndarray
    n_children: int
    folds: np.ndarray
    n_folds: int
    time: np.ndarray
    censored: np.ndarray
    horizon: float
    y: np.ndarray
    specs: dict
    bases: dict


def replicate_counts(seed: int, replicate: int, n_children: int) -> np.ndarray:
    """How many times each child is drawn in bootstrap replicate `replicate` (multinomial, n_children draws)."""
    with np.errstate(over="ignore"):
        key = splitmix64_mix(np.array([np.uint64(seed % 2 ** 64) ^ STREAM]))
        key = splitmix64_mix(key + np.uint64(replicate) * GOLDEN)
    u = splitmix64_uniform(key, np.arange(n_children, dtype=np.uint64))
    draws = np.minimum((u * n_children).astype(np.int64), n_children - 1)
    return np.bincount(draws, minlength=n_children)


def _pieces(X: np.ndarray, rows: sf.Rows, par: np.ndarray, link: str):
    """Score and expected-information contributions of each placement at `par` (unweighted)."""
    n, p = X.shape
    K = rows.n_intervals
    eta = (X @ par[:p])[rows.placement] + par[p:][rows.interval] + rows.offset
    _, u, w, _ = sf._mu_terms(eta, rows.y, link)
    cell = rows.placement * K + rows.interval
    return (np.bincount(rows.placement, u, minlength=n), np.bincount(rows.placement, w, minlength=n),
            np.bincount(cell, u, minlength=n * K).reshape(n, K), np.bincount(cell, w, minlength=n * K).reshape(n, K))


def _weighted_system(X: np.ndarray, v: np.ndarray, pieces) -> tuple[np.ndarray, np.ndarray]:
    """Information and score for [beta, alpha] with placement frequency weights v (placements of weight 0 skipped).

    One scaled copy of the drawn placements' rows, Z = diag(sqrt(v w)) X, gives X'diag(v w)X = Z'Z (a
    rank-k update) and, divided back, the cross terms and the score (w > 0 wherever a placement has rows).
    """
    u_pl, w_pl, u_pk, w_pk = pieces
    nz = np.flatnonzero(v > 0)
    vn = v[nz]
    s = np.sqrt(vn * w_pl[nz])
    s_div = np.where(s > 0, s, 1.0)      # w underflows to 0 only at a clipped linear predictor
    Z = X[nz]
    Z *= s[:, None]
    wpk = w_pk[nz] * vn[:, None]
    i_ba = Z.T @ (wpk / s_div[:, None])
    info = np.block([[Z.T @ Z, i_ba], [i_ba.T, np.diag(wpk.sum(axis=0))]])
    score = np.r_[Z.T @ (vn * u_pl[nz] / s_div), (u_pk[nz] * vn[:, None]).sum(axis=0)]
    return info, score


def _solve(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    try:
        return linalg.solve(info, score, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        return linalg.lstsq(info, score)[0]


def refit(X: np.ndarray, rows: sf.Rows, base: np.ndarray, weights: Sequence[np.ndarray],
          free: Sequence[np.ndarray], steps: int | None, link: str = sf.CLOGLOG) -> list[np.ndarray]:
    """Refit one model for several weightings of its placements, starting at `base`.

    steps: Fisher-scoring steps from base (1: the one-step bootstrap); None: iterate to convergence
    (fit_glm with frequency weights). free[i]: the parameters estimable under weights[i] (the rest are 0).
    """
    if steps is None:
        names = [f"x{j}" for j in range(X.shape[1])]
        return [sf.fit_glm(X, names, rows, np.zeros(X.shape[0]), link, start=base, robust=False, freq_weights=v,
                           tol=1e-12, maxiter=100).params for v in weights]
    at_base = _pieces(X, rows, base, link)
    out = []
    for v, fr in zip(weights, free):
        par = np.where(fr, base, 0.0)
        pieces = at_base if np.array_equal(par, base) else _pieces(X, rows, par, link)
        idx = np.flatnonzero(fr)
        for s in range(steps):
            if s:
                pieces = _pieces(X, rows, par, link)
            info, score = _weighted_system(X, v, pieces)
            par = par.copy()
            par[idx] += _solve(info[np.ix_(idx, idx)], score[idx])
        out.append(par)
    return out


def _hazards(par: np.ndarray, X: np.ndarray) -> np.ndarray:
    p = X.shape[1]
    eta = (X @ par[:p])[:, None] + par[p:][None, :]
    return np.exp(np.clip(eta, -sf._ETA_MAX, sf._ETA_MAX))


def _chunk(data: CVBootstrapData, seed: int, replicates: Sequence[int], steps: int | None) -> np.ndarray:
    """AUC of every spec (columns) in each of `replicates` (rows)."""
    names = list(data.specs)
    R, n = len(replicates), len(data.y)
    counts = [replicate_counts(seed, b, data.n_children)[data.child].astype(float) for b in replicates]
    cols = {m: np.array([data.columns.index(t) for t in terms], dtype=np.int64)
            for m, (terms, _) in data.specs.items()}
    oof = {m: np.full((R, n), np.nan) for m in names}
    mains = [m for m, (_, other_of) in data.specs.items() if other_of is None]
    ref_rows = data.rows[UNPLANNED]          # both causes share the person-period layout
    K = ref_rows.n_intervals
    for f in range(data.n_folds):
        train, test = data.folds != f, data.folds == f
        v = [c * train for c in counts]
        varying = [np.ptp(data.X[vb > 0], axis=0) > 0 for vb in v]
        k_ok = [np.bincount(ref_rows.interval, vb[ref_rows.placement], minlength=K) > 0 for vb in v]
        X_test = data.X[test]
        other: dict[str, list[np.ndarray]] = {}
        for cause, models in ((OTHER_ENDING, mains), (UNPLANNED, names)):
            for m in models:
                c = cols[m]
                Xs = np.ascontiguousarray(data.X[:, c])
                free = [np.r_[vr[c], ko] for vr, ko in zip(varying, k_ok)]
                pars = refit(Xs, data.rows[cause], data.bases[(f, m, cause)], v, free, steps)
                haz = [_hazards(par, X_test[:, c]) for par in pars]
                if cause == OTHER_ENDING:
                    other[m] = haz
                    continue
                parent = other[data.specs[m][1] or m]
                for b in range(R):
                    oof[m][b, test] = sf.cif_from_interval_hazards(haz[b], parent[b])
    out = np.empty((R, len(names)))
    y = np.asarray(data.y, bool)
    for b in range(R):
        w = counts[b] * smx.censoring_weights(data.time, data.censored, data.horizon, counts[b])
        case_w, control_w = w * y, w * ~y
        out[b] = [smx.RankedScores(oof[m][b]).auc(case_w, control_w) for m in names]
    return out


def parallel_map(fn: Callable, tasks: Sequence[tuple], n_jobs: Workers) -> list:
    """fn(*task) for every task, in order, under the project's one parallel setting (rcceval.parallel:
    local workers or a Dask scheduler)."""
    return parallel.run((delayed(fn)(*t) for t in tasks), n_jobs)


def cv_bootstrap(data: CVBootstrapData, n_boot: int, seed: int, n_jobs: Workers = 1, steps: int | None = 1,
                 chunk: int = 10) -> pd.DataFrame:
    """AUC of every spec in `n_boot` child-bootstrap replicates of the whole cross-validation (replicates x specs).

    Replicates run in fixed chunks of `chunk` (the work of a chunk does not depend on n_jobs), so the
    table is the same for any number of workers.
    """
    names = list(data.specs)
    if n_boot <= 0:
        return pd.DataFrame(np.empty((0, len(names))), columns=names)
    if steps is not None and steps < 1:
        raise ValueError(f"bootstrap steps must be at least 1 (or None: to convergence), not {steps}")
    tasks = [(data, seed, list(range(i, min(i + chunk, n_boot))), steps) for i in range(0, n_boot, chunk)]
    parts = parallel_map(_chunk, tasks, n_jobs)
    return pd.DataFrame(np.concatenate(parts, axis=0), columns=names)
