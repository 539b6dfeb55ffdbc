"""Endings of unknown cause: multiple imputation of the cause, Rubin's rules, and the two bounds.

A placement whose ending cannot be classified (ENDING unknown: blank or inconsistent reason)
still ended on its END date; only the cause is missing. Censoring it overstates survival and
understates every cause-specific hazard. Lu & Tsiatis (2001, Biometrics 57:1191) instead impute
the cause: fit a multinomial model of the cause given covariates (and the ending time) on the
endings whose cause is known, draw each unknown cause from it M times (drawing the model's
coefficients from their approximate posterior each time, so the imputation is "proper"), run the
analysis on each completed data set and combine with Rubin's rules. That is valid when the cause
is missing at random given the model's covariates; when the chance of a blank depends on the cause
itself beyond them, no imputation can tell, and the bounds (every unknown ending unplanned / none)
give the range a sensitivity analysis reports.

Functions here know nothing about any one question: they take a design matrix and cause labels,
or an analysis frame (ENDING column), and give back completed causes or frames.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from rcceval.spec import codes

__all__ = ["CauseModel", "RubinEstimate", "bound_frames", "cause_design", "fit_cause_model", "impute_causes",
           "imputed_frames", "rubin"]

KNOWN_CAUSES = (codes.UNPLANNED, codes.PLANNED, codes.LEFT_CARE)


@dataclass(frozen=True)
class CauseModel:
    """A fitted multinomial logit of the cause given covariates (first class the reference)."""

    classes: np.ndarray          # cause labels, in the model's order
    columns: list[str]           # design columns (a constant first)
    coef: np.ndarray             # (columns, classes - 1)
    cov: np.ndarray              # covariance of coef.ravel(order="F")

    def probabilities(self, X: pd.DataFrame, coef: np.ndarray | None = None) -> np.ndarray:
        """P(cause = class | x) for each row, (rows, classes)."""
        b = self.coef if coef is None else coef
        Z = _with_constant(X)[self.columns].to_numpy(float)
        eta = np.column_stack([np.zeros(len(Z)), Z @ b])
        eta -= eta.max(axis=1, keepdims=True)
        p = np.exp(eta)
        return p / p.sum(axis=1, keepdims=True)


def _with_constant(X: pd.DataFrame) -> pd.DataFrame:
    return X if "const" in X.columns else X.assign(const=1.0)[["const", *X.columns]]


def fit_cause_model(X: pd.DataFrame, cause: np.ndarray) -> CauseModel:
    """Multinomial logit of `cause` (labels; rows with a known cause only) on the columns of X.

    Columns constant among these rows are dropped (they cannot be estimated). With one class only
    the model is degenerate: every unknown cause is that class.
    """
    cause = np.asarray(cause, dtype=object)
    classes, y = np.unique(cause, return_inverse=True)
    Z = _with_constant(X.reset_index(drop=True))
    varying = [c for c in Z.columns if c == "const" or Z[c].nunique() > 1]
    Z = Z[varying]
    if len(classes) < 2:
        return CauseModel(classes, list(Z.columns), np.zeros((Z.shape[1], 0)), np.zeros((0, 0)))
    res = sm.MNLogit(y, Z.astype(float)).fit(method="newton", maxiter=100, disp=0)
    coef = np.asarray(res.params, float)
    cov = np.asarray(res.cov_params(), float)
    return CauseModel(classes, list(Z.columns), coef, cov)


def impute_causes(X: pd.DataFrame, cause: np.ndarray, unknown: np.ndarray, m: int, seed: int,
                  fit_rows: np.ndarray | None = None) -> np.ndarray:
    """M completed cause vectors, (m, rows): known causes kept, unknown ones drawn.

    `cause` holds the labels (anything where unknown); `unknown` marks the endings of unknown cause;
    the model is fitted on `fit_rows` (default: every row that is not unknown; pass the ended rows
    only, as open placements have no cause). For each imputation the coefficients are drawn from
    N(estimate, covariance), then each unknown cause from the multinomial probabilities.
    """
    if m < 1:
        raise ValueError("m (the number of imputations) must be at least 1")
    cause = np.asarray(cause, dtype=object)
    unknown = np.asarray(unknown, bool)
    fit_rows = ~unknown if fit_rows is None else np.asarray(fit_rows, bool) & ~unknown
    X = X.reset_index(drop=True)
    model = fit_cause_model(X.loc[fit_rows], cause[fit_rows])
    rng = np.random.default_rng(seed)
    out = np.tile(cause, (m, 1))
    idx = np.flatnonzero(unknown)
    if len(idx) == 0:
        return out
    Xu = X.loc[idx]
    for j in range(m):   # M is small (tens); each step is vectorised over the unknown endings
        if model.coef.size:
            flat = rng.multivariate_normal(model.coef.ravel(order="F"), model.cov, method="eigh")
            p = model.probabilities(Xu, flat.reshape(model.coef.shape, order="F"))
        else:
            p = np.ones((len(idx), 1))
        u = rng.random(len(idx))
        pick = np.minimum((np.cumsum(p, axis=1) < u[:, None]).sum(axis=1), len(model.classes) - 1)
        out[j, idx] = model.classes[pick]
    return out


@dataclass(frozen=True)
class RubinEstimate:
    """Rubin's rules (Rubin 1987) for M completed-data estimates of one scalar."""

    estimate: float
    within: float        # mean within-imputation variance
    between: float       # between-imputation variance
    total: float         # within + (1 + 1/M) between
    df: float            # Rubin's degrees of freedom (infinite when between is 0)
    m: int

    @property
    def se(self) -> float:
        return float(np.sqrt(self.total))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        q = stats.t.ppf(0.5 + level / 2, self.df) if np.isfinite(self.df) else stats.norm.ppf(0.5 + level / 2)
        return self.estimate - q * self.se, self.estimate + q * self.se


def rubin(estimates: np.ndarray, variances: np.ndarray) -> RubinEstimate:
    """Combine M estimates and their variances: Q = mean, T = W + (1 + 1/M) B,
    df = (M - 1) (1 + 1/r)^2 with r = (1 + 1/M) B / W."""
    q = np.asarray(estimates, float)
    u = np.asarray(variances, float)
    m = len(q)
    if m < 2 or u.shape != q.shape:
        raise ValueError("Rubin's rules need at least 2 estimates, each with a variance")
    w, b = float(u.mean()), float(q.var(ddof=1))
    total = w + (1 + 1 / m) * b
    r = (1 + 1 / m) * b / w if w > 0 else np.inf
    df = float((m - 1) * (1 + 1 / r) ** 2) if r > 0 else float("inf")
    return RubinEstimate(float(q.mean()), w, b, total, df, m)


# ---- on the analysis frame -------------------------------------------------------------------------
def cause_design(frame: pd.DataFrame, columns: tuple[str, ...] = ("AGE_BAND", "TYPE", "LA")) -> pd.DataFrame:
    """A default design for the cause model: dummies of a few start covariates and log days to the
    ending (Lu & Tsiatis condition on the failure time too). Missing levels become their own level."""
    parts = [pd.get_dummies(frame[c].fillna("missing").astype(str), prefix=c, drop_first=True, dtype=float)
             for c in columns if c in frame.columns]
    days = np.log(np.maximum(frame["DURATION_DAYS"].to_numpy(float), 1.0))
    return pd.concat([*parts, pd.DataFrame({"log_days": days}, index=frame.index)], axis=1).reset_index(drop=True)


def imputed_frames(frame: pd.DataFrame, m: int, seed: int, design: pd.DataFrame | None = None) -> Iterator[pd.DataFrame]:
    """M copies of the frame with every unknown ENDING replaced by an imputed cause (EVENT_UNPLANNED
    updated; CAUSE_UNKNOWN, where present, still marks what was imputed): run the analysis on each,
    then combine with `rubin`. The cause model is fitted on the endings of known cause only."""
    ending = frame["ENDING"].to_numpy(dtype=object)
    unknown = ending == codes.UNKNOWN
    ended = np.isin(ending, KNOWN_CAUSES)
    X = cause_design(frame) if design is None else design.reset_index(drop=True)
    draws = impute_causes(X, ending, unknown, m, seed, fit_rows=ended)
    for j in range(m):
        out = frame.copy()
        out["ENDING"] = draws[j]
        if "EVENT_UNPLANNED" in out:
            out["EVENT_UNPLANNED"] = out["ENDING"].eq(codes.UNPLANNED).to_numpy()
        yield out


def bound_frames(frame: pd.DataFrame, other: str = codes.PLANNED) -> dict[str, pd.DataFrame]:
    """The two bounds of the sensitivity analysis: every unknown ending unplanned, or none (taken
    as `other`, a planned change by default)."""
    unknown = frame["ENDING"].eq(codes.UNKNOWN)
    out = {}
    for name, cause in (("all unplanned", codes.UNPLANNED), ("none unplanned", other)):
        f = frame.copy()
        f.loc[unknown, "ENDING"] = cause
        if "EVENT_UNPLANNED" in f:
            f["EVENT_UNPLANNED"] = f["ENDING"].eq(codes.UNPLANNED)
        out[name] = f
    return out
