"""What decision-makers read from question 3's probabilistic sensitivity analysis (PSA).

Input: one row per parameter set of the PSA's outer loop, with the incremental cost of needs-led over
unit-cost commissioning (delta_cost, pounds) and the disruptions it averts (delta_effect, a count, >0
means fewer disruptions). With a value lambda placed on one disruption averted, the incremental net
benefit of needs-led is INB = lambda * delta_effect - delta_cost (Stinnett & Mullahy 1998).
  - CEAC: the share of parameter sets with INB > 0, against lambda (van Hout et al. 1994).
  - Break-even: the lambda at which the expected INB is 0 (mean cost / mean effect), with the interval
    read off the CEAC (the lambdas at which it crosses alpha/2 and 1 - alpha/2; Fenwick et al. 2001).
  - EVPI: E[max(0, INB)] - max(0, E[INB]) per decision (Claxton 1999).
  - EVPPI for one parameter phi: the same with INB replaced by E[INB | phi], estimated by regression on
    phi (an unpenalised natural cubic regression spline with its degrees of freedom chosen by GCV, the
    single-parameter case of Strong, Oakley & Brennan 2014) or by binning phi into equal-count bins.
  - Inner/outer split: with several simulated journey batches per parameter set, the spread of a result
    is split into parameter uncertainty and Monte Carlo error (Briggs, Claxton & Sculpher 2006; O'Hagan,
    Stevenson & Madan 2007), so Monte Carlo error is reported apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["inb", "ceac", "BreakEven", "break_even", "evpi", "evppi_regression", "evppi_binned",
           "evpi_curve", "evppi_curve", "population_value", "UncertaintySplit", "split_uncertainty"]


def _arrays(delta_cost, delta_effect) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(delta_cost, dtype=float).ravel()
    e = np.asarray(delta_effect, dtype=float).ravel()
    if c.shape != e.shape or c.size == 0:
        raise ValueError(f"delta_cost ({c.size}) and delta_effect ({e.size}) must be non-empty and of one length")
    bad = ~np.isfinite(c) | ~np.isfinite(e)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"parameter set {i}: delta_cost {c[i]!r}, delta_effect {e[i]!r} must be finite")
    return c, e


def inb(delta_cost, delta_effect, value: np.ndarray | float) -> np.ndarray:
    """Incremental net benefit, parameter sets along the last axis: shape (len(value), n_sets) or (n_sets,)."""
    c, e = _arrays(delta_cost, delta_effect)
    v = np.asarray(value, dtype=float)
    return v[..., None] * e - c


def ceac(delta_cost, delta_effect, values) -> np.ndarray:
    """Probability needs-led is worth it (INB > 0) at each value placed on a disruption averted.

    Exact and O((n + m) log n): a set with effect e > 0 is worth it above its own break-even c / e, one
    with e < 0 below it, one with e = 0 never or always (as its cost is positive or negative); so the
    count at each value is read from the sorted break-evens, never from an (m, n) matrix.
    """
    c, e = _arrays(delta_cost, delta_effect)
    v = np.atleast_1d(np.asarray(values, dtype=float))
    pos, neg = e > 0, e < 0
    r_pos = np.sort(c[pos] / e[pos])
    r_neg = np.sort(c[neg] / e[neg])
    count = (np.searchsorted(r_pos, v, side="left")                       # r < v: v e - c > 0
             + (r_neg.size - np.searchsorted(r_neg, v, side="right"))    # r > v: v e - c > 0 (e < 0)
             + int(np.sum((e == 0) & (c < 0))))
    return count / c.size


@dataclass(frozen=True)
class BreakEven:
    """The value of one disruption averted at which needs-led breaks even, with its interval."""

    value: float          # mean cost / mean effect (nan when the mean effect is not positive)
    lower: float          # the CEAC reaches alpha/2 here (0 if it is already above)
    upper: float          # the CEAC reaches 1 - alpha/2 here (inf if it never does)
    level: float


def break_even(delta_cost, delta_effect, level: float = 0.95) -> BreakEven:
    """Break-even value and the interval where the CEAC runs from alpha/2 to 1 - alpha/2 (exact).

    INB of each set is linear in the value, so the CEAC only changes at the sets' own break-even values
    c_i / e_i; it is evaluated exactly there and just past them.
    """
    c, e = _arrays(delta_cost, delta_effect)
    alpha = 1.0 - level
    mc, me = c.mean(), e.mean()
    point = mc / me if me > 0 else float("nan")      # no break-even if needs-led averts none on average
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.where(e != 0, c / e, np.nan)
    roots = np.unique(roots[np.isfinite(roots) & (roots >= 0)])
    eps = np.maximum(np.abs(roots), 1.0) * 1e-9
    grid = np.unique(np.concatenate([[0.0], roots, roots + eps]))
    p = ceac(c, e, grid)

    is_root = np.isin(grid, roots)

    def first(q: float) -> float:
        """Infimum of the values where the CEAC is >= q: a root, or the root whose right it is on."""
        hit = np.flatnonzero(p >= q - 1e-12)            # 1 - 0.95 is not exactly 0.05 in binary
        if hit.size == 0:
            return float("inf")
        i = int(hit[0])
        return float(grid[i] if i == 0 or is_root[i] else grid[i - 1])

    return BreakEven(float(point), first(alpha / 2), first(1 - alpha / 2), level)


def evpi(net_benefit: np.ndarray) -> float:
    """Per-decision EVPI from net benefits (n_sets, n_options): E[max_d NB] - max_d E[NB].

    For needs-led against unit-cost pass np.column_stack([zeros, inb]).
    """
    nb = np.asarray(net_benefit, dtype=float)
    if nb.ndim == 1:
        nb = np.column_stack([np.zeros_like(nb), nb])
    return float(np.mean(nb.max(axis=1)) - nb.mean(axis=0).max())


def _evppi_from_fitted(fitted_inb: np.ndarray) -> float:
    return float(np.mean(np.maximum(fitted_inb, 0.0)) - max(0.0, float(np.mean(fitted_inb))))


def _spline_fit(x: np.ndarray, y: np.ndarray, df: int) -> tuple[np.ndarray, float]:
    """Least-squares natural cubic regression spline (patsy cr) with df degrees of freedom; its GCV."""
    from patsy import dmatrix

    X = np.asarray(dmatrix(f"cr(x, df={df}, constraints='center')", {"x": x}, return_type="matrix"))
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    fit = X @ beta
    n, k = len(y), X.shape[1]
    gcv = n * float(np.sum((y - fit) ** 2)) / (n - k) ** 2
    return fit, gcv


def evppi_regression(inb_values, parameter, max_df: int = 10) -> float:
    """EVPPI of one parameter: E[max(0, g(phi))] - max(0, E[g]), g a regression spline of INB on phi.

    The spline's degrees of freedom (3 to max_df) are chosen by generalised cross-validation. Estimated
    from the PSA sample itself, so no nested simulation is needed (Strong, Oakley & Brennan 2014).
    """
    y = np.asarray(inb_values, dtype=float).ravel()
    x = np.asarray(parameter, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"inb ({y.size}) and parameter ({x.size}) must be of one length")
    if np.unique(x).size < 4:
        return _evppi_from_fitted(_bin_means(x, y, np.unique(x).size))
    best = min((_spline_fit(x, y, df) for df in range(3, min(max_df, np.unique(x).size - 1) + 1)),
               key=lambda r: r[1])
    return _evppi_from_fitted(best[0])


def _bin_means(x: np.ndarray, y: np.ndarray, n_bins: int) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    fitted = np.empty_like(y)
    for idx in np.array_split(order, n_bins):
        fitted[idx] = y[idx].mean()
    return fitted


def evppi_binned(inb_values, parameter, n_bins: int | None = None) -> float:
    """EVPPI of one parameter by equal-count bins of phi (default about sqrt(n) bins)."""
    y = np.asarray(inb_values, dtype=float).ravel()
    x = np.asarray(parameter, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"inb ({y.size}) and parameter ({x.size}) must be of one length")
    n_bins = n_bins or max(1, int(np.sqrt(y.size)))
    return _evppi_from_fitted(_bin_means(x, y, n_bins))


@dataclass(frozen=True)
class UncertaintySplit:
    """A PSA result's spread split into parameter uncertainty and Monte Carlo (inner-loop) error."""

    mean: float                 # over all parameter sets and journeys
    n_outer: int
    n_inner: int
    between_var: float          # variance of the per-set means (parameter + Monte Carlo)
    mc_var_of_set_mean: float   # within-set variance / n_inner: Monte Carlo error of one set's mean
    parameter_var: float        # between_var - mc_var_of_set_mean, floored at 0
    se_of_mean: float           # standard error of the overall mean (sqrt(between_var / n_outer))
    mc_share: float             # share of between_var that is Monte Carlo error

    @property
    def parameter_sd(self) -> float:
        return float(np.sqrt(self.parameter_var))

    @property
    def mc_sd_of_set_mean(self) -> float:
        return float(np.sqrt(self.mc_var_of_set_mean))

    def inner_needed(self, max_mc_share: float = 0.05) -> int:
        """Journeys per set for Monte Carlo error to be at most max_mc_share of the between-set variance."""
        within = self.mc_var_of_set_mean * self.n_inner
        if self.parameter_var <= 0:
            return int(np.iinfo(np.int64).max)
        # within / n  <=  s * (parameter_var + within / n)  <=>  n >= within (1 - s) / (s parameter_var)
        return int(np.ceil(within * (1 - max_mc_share) / (max_mc_share * self.parameter_var)))


def split_uncertainty(values) -> UncertaintySplit:
    """One-way random-effects split of values (n_outer parameter sets, n_inner journey batches each).

    E[var of set means] = parameter variance + within-set variance / n_inner, so the Monte Carlo part is
    estimated from the spread inside each set and taken out. A parameter set repeated n_outer times has
    parameter variance 0: everything it shows is Monte Carlo spread.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 2:
        raise ValueError(f"values must be (n_outer >= 2, n_inner >= 2); got shape {v.shape}")
    if not np.isfinite(v).all():
        i, j = np.argwhere(~np.isfinite(v))[0]
        raise ValueError(f"parameter set {i}, inner batch {j}: value {v[i, j]!r} is not finite")
    n_outer, n_inner = v.shape
    set_means = v.mean(axis=1)
    between = float(np.var(set_means, ddof=1))
    within = float(np.mean(np.var(v, axis=1, ddof=1)))
    mc = within / n_inner
    return UncertaintySplit(
        mean=float(v.mean()), n_outer=n_outer, n_inner=n_inner, between_var=between,
        mc_var_of_set_mean=mc, parameter_var=max(0.0, between - mc),
        se_of_mean=float(np.sqrt(between / n_outer)),
        mc_share=float(min(1.0, mc / between)) if between > 0 else 1.0)


def evpi_curve(delta_cost, delta_effect, values) -> np.ndarray:
    """Per-decision EVPI at each value placed on a disruption averted."""
    nb = inb(delta_cost, delta_effect, np.atleast_1d(values))          # (n_values, n_sets)
    return np.mean(np.maximum(nb, 0.0), axis=1) - np.maximum(nb.mean(axis=1), 0.0)


def _conditional_means(y: np.ndarray, x: np.ndarray, method: str, max_df: int, n_bins: int | None) -> np.ndarray:
    if method == "binned":
        return _bin_means(x, y, n_bins or max(1, int(np.sqrt(y.size))))
    if method != "regression":
        raise ValueError(f"method {method!r}: one of regression, binned")
    if np.unique(x).size < 4:
        return _bin_means(x, y, np.unique(x).size)
    return min((_spline_fit(x, y, df) for df in range(3, min(max_df, np.unique(x).size - 1) + 1)),
               key=lambda r: r[1])[0]


def evppi_curve(delta_cost, delta_effect, parameter, values, method: str = "regression",
                max_df: int = 10, n_bins: int | None = None) -> np.ndarray:
    """EVPPI of one parameter at each value placed on a disruption averted.

    INB is linear in the value, so E[INB | phi] = value * E[effect | phi] - E[cost | phi]: cost and effect
    are each regressed on phi once, and every value reuses the two fits.
    """
    c, e = _arrays(delta_cost, delta_effect)
    x = np.asarray(parameter, dtype=float).ravel()
    if x.shape != c.shape:
        raise ValueError(f"parameter ({x.size}) and the PSA output ({c.size}) must be of one length")
    gc = _conditional_means(c, x, method, max_df, n_bins)
    ge = _conditional_means(e, x, method, max_df, n_bins)
    g = np.atleast_1d(np.asarray(values, dtype=float))[:, None] * ge - gc
    return np.mean(np.maximum(g, 0.0), axis=1) - np.maximum(g.mean(axis=1), 0.0)


def population_value(per_decision: float | np.ndarray, decisions_per_year: float, years: int,
                     rate: float = 0.035) -> np.ndarray:
    """Per-decision EVPI/EVPPI scaled to a region: decisions a year over `years`, Green Book discounted.

    Year t (0 = the first) is weighted by 1 / (1 + rate)^t, as in costing.money.
    """
    if years < 1 or decisions_per_year < 0:
        raise ValueError(f"years = {years!r} must be >= 1 and decisions_per_year = {decisions_per_year!r} >= 0")
    weight = float(np.sum((1.0 + rate) ** -np.arange(years)))
    return np.asarray(per_decision, dtype=float) * decisions_per_year * weight
