"""The forecast's rates: entries by age and sex (trend only when the data support one) and the
quarterly probabilities of staying, moving placement type and leaving care by age and time in placement.

Entries: entrants per quarter in each cell of age band x sex, a Poisson log-linear model with one
log rate per cell and, as a candidate, a common trend in years. The trend is kept only when a test
says the data support it: the F test of the drop in deviance scaled by the Pearson dispersion (a
likelihood-ratio chi-square when there is no over-dispersion) at level `alpha`; otherwise entries
are flat at each cell's mean rate. Over-dispersion (Pearson dispersion phi > 1) makes future entries
negative binomial with variance phi x mean. Entrants of a cell are spread over exact age (quarters)
and first placement type group by the cell's observed mix.

Transitions: counts of each outcome (stay, move to each group, leave care) from each state
(age in whole years, group, quarters in placement), pooled over the quarters of the window. Sparse
cells borrow strength through a hierarchy of Dirichlet priors (age band, then all ages, then the
group alone), each worth `prior` children; simulated draws take the cell's Dirichlet posterior,
times a lognormal factor per simulation on leaving and on moving whose spread is the year-to-year
variation of those rates in the window beyond chance (the future's rates are not the window's).
Leaving at 18 is not estimated: the simulation ends every stay at 18.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from rcceval.analyses.sufficiency.forecast_states import AGES, DUR, GROUPS, OUTCOMES
from rcceval.spec import codes

BANDS: tuple[str, ...] = tuple(b[0] for b in codes.AGE_BANDS)
YEARS = AGES // 4
BAND_OF_YEAR = np.array([next(i for i, (_, lo, hi) in enumerate(codes.AGE_BANDS) if lo <= y <= hi)
                         for y in range(YEARS)])
BAND_OF_Q = BAND_OF_YEAR[np.arange(AGES) // 4]
SEXES: tuple[str, ...] = ("1", "2")


@dataclass
class TrendTest:
    """The test of a common trend in entries: statistic (F, or chi-square without over-dispersion),
    df, p_value, used (p < alpha), growth_pct a year with its 95% interval (of the fitted trend)."""

    statistic: float
    df: tuple[int, int]
    p_value: float
    used: bool
    growth_pct: float
    growth_low: float
    growth_high: float
    method: str


@dataclass
class EntryModel:
    """Entrants per quarter: log rates by cell (age band x sex, rows of `cells`) at the origin, a trend
    per year (0 when flat), their covariance (dispersion-scaled), the dispersion, and each cell's mix of
    entrants over (age quarter, group)."""

    cells: pd.DataFrame          # AGE_BAND, SEX, quarters, entrants, rate (fitted entrants a quarter at the origin)
    log_rate: np.ndarray         # (C,), -inf for a cell with no entrants
    trend: float
    cov: np.ndarray              # (C' + 1, C' + 1) over the cells with entrants, then the trend
    dispersion: float
    mix: np.ndarray              # (C, AGES, G)
    test: TrendTest

    def draw_means(self, rng: np.random.Generator, draws: int, quarters: int) -> np.ndarray:
        """(draws, C, quarters) expected entrants: parameters drawn from their estimated normal distribution."""
        live = np.isfinite(self.log_rate)
        out = np.zeros((draws, len(self.log_rate), quarters))
        if not live.any():
            return out
        centre = np.r_[self.log_rate[live], self.trend]
        theta = rng.multivariate_normal(centre, self.cov, size=draws, method="eigh")
        if not self.test.used:
            theta[:, -1] = 0.0
        t = np.arange(quarters) / 4.0          # years from the origin of the quarter's start
        out[:, live, :] = np.exp(theta[:, :-1, None] + theta[:, -1, None, None] * t[None, None, :])
        return out


def _cell_index(entrants: pd.DataFrame) -> np.ndarray:
    band = BAND_OF_Q[entrants["AGE_Q"].to_numpy(np.int64)]
    sex = pd.Categorical(entrants["SEX"].astype(str), categories=list(SEXES)).codes
    sex = np.where(sex < 0, 0, sex)      # SEX not 1/2 (invalid in the 903) counted with 1
    return band * len(SEXES) + sex


def fit_entries(entrants: pd.DataFrame, quarters: list[pd.Timestamp], origin: pd.Timestamp,
                alpha: float = 0.05) -> EntryModel:
    """Entry model from the entrants of the quarters starting on `quarters` (the window)."""
    n_cells = len(BANDS) * len(SEXES)
    e = entrants.loc[entrants["DATE"].isin(quarters)]
    cell = _cell_index(e)
    q_index = pd.Index(quarters).get_indexer(e["DATE"])
    y = np.zeros((len(quarters), n_cells))
    np.add.at(y, (q_index, cell), 1)
    mix = np.zeros((n_cells, AGES, len(GROUPS)))
    np.add.at(mix, (cell, e["AGE_Q"].to_numpy(np.int64), e["GROUP"].to_numpy(np.int64)), 1)
    tot = mix.sum(axis=(1, 2), keepdims=True)
    mix = np.divide(mix, tot, out=np.zeros_like(mix), where=tot > 0)
    live = y.sum(axis=0) > 0
    t = (pd.DatetimeIndex(quarters) - origin).days.to_numpy(float) / codes.DAYS_PER_YEAR
    log_rate = np.full(n_cells, -np.inf)
    k = int(live.sum())
    cells = pd.DataFrame({"AGE_BAND": np.repeat(BANDS, len(SEXES)), "SEX": np.tile(SEXES, len(BANDS)),
                          "quarters": len(quarters), "entrants": y.sum(axis=0).astype(int)})
    if k == 0 or len(quarters) < 2:
        cells["rate"] = y.mean(axis=0) if len(quarters) else 0.0
        test = TrendTest(np.nan, (1, 0), np.nan, False, 0.0, np.nan, np.nan, "not tested")
        return EntryModel(cells, np.where(live, np.log(np.maximum(cells["rate"], 1e-12)), -np.inf), 0.0,
                          np.zeros((k + 1, k + 1)), 1.0, mix, test)
    yy = y[:, live].T.ravel()                                     # cell-major
    dummies = np.kron(np.eye(k), np.ones((len(quarters), 1)))
    x1 = np.column_stack([dummies, np.tile(t, k)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flat = sm.GLM(yy, dummies, family=sm.families.Poisson()).fit()
        trend = sm.GLM(yy, x1, family=sm.families.Poisson()).fit()
    df_resid = int(trend.df_resid)
    phi = max(1.0, float(trend.pearson_chi2 / df_resid)) if df_resid > 0 else 1.0
    drop = max(0.0, float(flat.deviance - trend.deviance))
    if phi > 1.0:
        stat, p, method = drop / phi, float(stats.f.sf(drop / phi, 1, df_resid)), "F (deviance / Pearson dispersion)"
    else:
        stat, p, method = drop, float(stats.chi2.sf(drop, 1)), "likelihood-ratio chi-square"
    used = bool(p < alpha)
    b, se = float(trend.params[-1]), float(np.sqrt(trend.cov_params()[-1, -1] * phi))
    test = TrendTest(stat, (1, df_resid), p, used, 100 * np.expm1(b), 100 * np.expm1(b - 1.96 * se),
                     100 * np.expm1(b + 1.96 * se), method)
    if used:
        log_rate[live], slope, cov = trend.params[:-1], b, np.asarray(trend.cov_params()) * phi
    else:
        log_rate[live], slope = flat.params, 0.0
        cov = np.zeros((k + 1, k + 1))
        cov[:k, :k] = np.asarray(flat.cov_params()) * phi
    cells["rate"] = np.exp(log_rate)
    return EntryModel(cells, log_rate, slope, cov, phi, mix, test)


@dataclass
class TransitionModel:
    """Quarterly outcome counts by state and the Dirichlet posterior parameters of each state's outcomes.

    counts, alpha: (YEARS, G, DUR, OUTCOMES); outcome 0 stay, 1 + g move to group g, last leave care."""

    counts: np.ndarray
    alpha: np.ndarray
    tau: tuple[float, float] = (0.0, 0.0)    # SD of the log relative rate of leaving / moving between years


    @property
    def mean(self) -> np.ndarray:
        return self.alpha / self.alpha.sum(axis=-1, keepdims=True)

    def draw(self, rng: np.random.Generator, draws: int) -> np.ndarray:
        """(draws, YEARS, G, DUR, OUTCOMES) outcome probabilities, one set per simulation (float32)."""
        g = rng.standard_gamma(np.broadcast_to(self.alpha, (draws, *self.alpha.shape))).astype(np.float32)
        p = g / g.sum(axis=-1, keepdims=True)
        # the future's rates differ from the window's as the window's years differ from each other: one
        # lognormal factor per simulation on leaving and one on moving (tau from year_to_year_sd)
        shock = np.exp(rng.normal(0.0, 1.0, (draws, 2)) * np.asarray(self.tau)[None, :]).astype(np.float32)
        p[..., -1] *= shock[:, 0, None, None, None]
        p[..., 1:-1] *= shock[:, 1, None, None, None, None]
        over = p[..., 1:].sum(axis=-1, keepdims=True)
        p[..., 1:] /= np.maximum(over, 1.0)
        p[..., 0] = 1.0 - p[..., 1:].sum(axis=-1)
        return p


def fit_transitions(transitions: pd.DataFrame, quarters: list[pd.Timestamp], prior: float = 10.0) -> TransitionModel:
    """Outcome counts of the quarters starting on `quarters`, with the priors of the module doc. Moves
    that end at 18 (age quarter 71 at the start) are the simulation's rule, not data: left out."""
    t = transitions.loc[transitions["DATE"].isin(quarters) & (transitions["AGE_Q"] < AGES - 1)]
    n = np.zeros((YEARS, len(GROUPS), DUR, OUTCOMES))
    np.add.at(n, (t["AGE_Q"].to_numpy(np.int64) // 4, t["GROUP"].to_numpy(np.int64), t["DUR_Q"].to_numpy(np.int64),
                  t["OUTCOME"].to_numpy(np.int64)), 1)

    def shrink(c: np.ndarray, p: np.ndarray) -> np.ndarray:
        return (c + prior * p) / (c.sum(axis=-1, keepdims=True) + prior)

    by_group = n.sum(axis=(0, 2))                                         # (G, O)
    p_g = (by_group + 0.5) / (by_group + 0.5).sum(axis=-1, keepdims=True)
    p_gd = shrink(n.sum(axis=0), p_g[:, None, :])                          # (G, D, O)
    band_counts = np.stack([n[BAND_OF_YEAR == b].sum(axis=0) for b in range(len(BANDS))])  # (B, G, D, O)
    p_band = shrink(band_counts, p_gd[None])
    alpha = n + prior * p_band[BAND_OF_YEAR]
    return TransitionModel(n, alpha, year_to_year_sd(t, quarters, alpha / alpha.sum(axis=-1, keepdims=True)))


def year_to_year_sd(t: pd.DataFrame, quarters: list[pd.Timestamp], mean: np.ndarray) -> tuple[float, float]:
    """SD between the window's years of log(observed / expected) leavers and movers (expected: each
    state's pooled probabilities), less the Poisson sampling variance (1 / observed): 0 when the years
    agree as well as chance allows, or with fewer than two whole years."""
    year = np.arange(len(quarters))[::-1][pd.Index(quarters).get_indexer(t["DATE"])] // 4
    whole = year < len(quarters) // 4
    if len(quarters) // 4 < 2:
        return (0.0, 0.0)
    p = mean[t["AGE_Q"].to_numpy(np.int64) // 4, t["GROUP"].to_numpy(np.int64), t["DUR_Q"].to_numpy(np.int64)]
    out = []
    for observed, expected in ((t["OUTCOME"].to_numpy() == OUTCOMES - 1, p[:, -1]),
                               ((t["OUTCOME"].to_numpy() > 0) & (t["OUTCOME"].to_numpy() < OUTCOMES - 1),
                                p[:, 1:-1].sum(axis=1))):
        o = np.bincount(year[whole], observed[whole].astype(float))
        e = np.bincount(year[whole], expected[whole])
        if (o <= 0).any():
            out.append(0.0)
            continue
        r = np.log(o / e)
        out.append(float(np.sqrt(max(0.0, r.var(ddof=1) - np.mean(1 / o)))))
    return out[0], out[1]
