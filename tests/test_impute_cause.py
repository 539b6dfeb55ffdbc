"""Endings of unknown cause: censoring them understates the cause-specific hazards, multiple
imputation (Lu & Tsiatis 2001) recovers them, the bounds bracket them, Rubin's rules by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rcceval.spec import codes
from rcceval.stats.impute_cause import bound_frames, impute_causes, imputed_frames, rubin

# constant cause-specific hazards per day by a binary covariate z: cause 1 (unplanned) rises with z
LAMBDA = {(1, 0): 0.002, (1, 1): 0.004, (2, 0): 0.003, (2, 1): 0.0015}
N, FOLLOW = 20000, 1000.0
TOL_SE = 4.0   # 4 standard errors: a correct estimator misses with probability ~6e-5 per check


def simulate(seed: int, blank: dict) -> pd.DataFrame:
    """Exponential competing risks with uniform administrative censoring on (0, FOLLOW) days.
    blank[(cause, z)] is the chance an ending's cause is recorded blank."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, N)
    l1 = np.where(z == 1, LAMBDA[(1, 1)], LAMBDA[(1, 0)])
    l2 = np.where(z == 1, LAMBDA[(2, 1)], LAMBDA[(2, 0)])
    t = rng.exponential(1 / (l1 + l2))
    cause = np.where(rng.random(N) < l1 / (l1 + l2), 1, 2)
    c = rng.uniform(0, FOLLOW, N)
    ended = t <= c
    p_blank = np.select([cause == 1, cause == 2], [np.where(z == 1, blank[(1, 1)], blank[(1, 0)]),
                                                   np.where(z == 1, blank[(2, 1)], blank[(2, 0)])])
    is_blank = ended & (rng.random(N) < p_blank)
    observed = np.where(~ended, 0, np.where(is_blank, -1, cause))   # 0 open, -1 ended with cause unknown
    return pd.DataFrame({"z": z, "time": np.minimum(t, c), "observed": observed, "true": np.where(ended, cause, 0)})


def log_hazard(events: np.ndarray, time: np.ndarray) -> tuple[float, float]:
    """Exponential MLE of a log hazard and its variance (1 / events)."""
    d = float(events.sum())
    return float(np.log(d / time.sum())), 1.0 / d


def test_imputation_recovers_hazards_that_censoring_understates():
    """MAR given z (the cause model's covariate): blanks are 5% at z = 0 and 45% at z = 1, so blanks
    are far commoner among unplanned endings (commoner at z = 1) than among others."""
    df = simulate(7, {(1, 0): 0.05, (1, 1): 0.45, (2, 0): 0.05, (2, 1): 0.45})
    unknown = df["observed"].eq(-1).to_numpy()
    ended = df["observed"].ne(0).to_numpy()
    # the chance of a blank depends on the cause (through z): unplanned is over-represented among blanks
    assert (df.loc[unknown, "true"] == 1).mean() > (df.loc[ended & ~unknown, "observed"] == 1).mean() + 0.1
    X = pd.DataFrame({"z": df["z"].astype(float), "log_time": np.log(df["time"])})
    m = 20
    draws = impute_causes(X, df["observed"].to_numpy(), unknown, m=m, seed=11, fit_rows=ended)
    assert (draws[:, ~unknown] == df["observed"].to_numpy()[~unknown]).all()
    assert set(np.unique(draws[:, unknown])) == {1, 2}
    for (k, zv), lam in LAMBDA.items():
        g = df["z"].eq(zv).to_numpy()
        time = df["time"].to_numpy()[g]
        cens_est, cens_var = log_hazard(df["observed"].to_numpy()[g] == k, time)
        per = [log_hazard(draws[j, g] == k, time) for j in range(m)]
        mi = rubin(np.array([e for e, _ in per]), np.array([v for _, v in per]))
        truth = np.log(lam)
        assert abs(mi.estimate - truth) < TOL_SE * mi.se, (k, zv, mi.estimate, truth, mi.se)
        if zv == 1:   # 45% blank: censoring's bias, log(0.55) = -0.6, is many standard errors
            assert cens_est - truth < -TOL_SE * np.sqrt(cens_var + mi.total)
        else:
            assert cens_est < mi.estimate
        assert mi.between > 0 and mi.total > mi.within


def test_bounds_bracket_the_hazard_when_blanks_depend_on_the_cause_alone():
    """Not missing at random: 40% of unplanned endings blank, 20% of others, whatever z. No imputation
    from the data can see this; the all-unplanned / none-unplanned bounds still bracket the truth."""
    df = simulate(8, {(1, 0): 0.40, (1, 1): 0.40, (2, 0): 0.20, (2, 1): 0.20})
    for zv in (0, 1):
        g = df["z"].eq(zv).to_numpy()
        obs, time = df["observed"].to_numpy()[g], df["time"].to_numpy()[g]
        truth = np.log(LAMBDA[(1, zv)])
        none, v_none = log_hazard(obs == 1, time)
        every, v_all = log_hazard((obs == 1) | (obs == -1), time)
        assert none + TOL_SE * np.sqrt(v_none) < truth < every - TOL_SE * np.sqrt(v_all)


def test_rubin_rules_by_hand():
    """Estimates 1, 2, 3 with variances 1: Q = 2, W = 1, B = 1, T = 1 + 4/3, r = 4/3,
    df = 2 (1 + 3/4)^2 = 6.125."""
    r = rubin(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    assert (r.estimate, r.within, r.between, r.m) == (2.0, 1.0, 1.0, 3)
    assert r.total == pytest.approx(7 / 3) and r.df == pytest.approx(6.125)
    lo, hi = r.interval(0.95)
    from scipy import stats
    q = stats.t.ppf(0.975, 6.125)
    assert (lo, hi) == (pytest.approx(2 - q * np.sqrt(7 / 3)), pytest.approx(2 + q * np.sqrt(7 / 3)))
    with pytest.raises(ValueError):
        rubin(np.array([1.0]), np.array([1.0]))


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "LA": ["A"] * 6, "AGE_BAND": ["10-12"] * 6, "TYPE": ["foster"] * 6,
        "DURATION_DAYS": [10, 20, 30, 40, 50, 60],
        "ENDING": [codes.UNPLANNED, codes.UNKNOWN, codes.OPEN, codes.UNPLANNED, codes.UNKNOWN, codes.UNPLANNED],
        "EVENT_UNPLANNED": [True, False, False, True, False, True]})


def test_imputed_frames_fill_only_unknown_endings_reproducibly():
    """Every known cause is unplanned, so each unknown ending is imputed unplanned (one class: no
    model to draw from); open placements stay open; the same seed gives the same frames."""
    frames = list(imputed_frames(_frame(), m=3, seed=5))
    assert len(frames) == 3
    for f in frames:
        assert f["ENDING"].tolist() == [codes.UNPLANNED, codes.UNPLANNED, codes.OPEN, codes.UNPLANNED,
                                        codes.UNPLANNED, codes.UNPLANNED]
        assert f["EVENT_UNPLANNED"].tolist() == [True, True, False, True, True, True]
    a = [f["ENDING"].tolist() for f in imputed_frames(pd.concat([_frame()] * 30, ignore_index=True).assign(
        ENDING=lambda d: np.where(d.index % 7 == 0, codes.PLANNED, d["ENDING"])), m=2, seed=9)]
    b = [f["ENDING"].tolist() for f in imputed_frames(pd.concat([_frame()] * 30, ignore_index=True).assign(
        ENDING=lambda d: np.where(d.index % 7 == 0, codes.PLANNED, d["ENDING"])), m=2, seed=9)]
    assert a == b


def test_bound_frames():
    b = bound_frames(_frame())
    assert b["all unplanned"]["ENDING"].tolist()[1::3] == [codes.UNPLANNED, codes.UNPLANNED]
    assert b["none unplanned"]["ENDING"].tolist() == [codes.UNPLANNED, codes.PLANNED, codes.OPEN, codes.UNPLANNED,
                                                      codes.PLANNED, codes.UNPLANNED]
    assert b["none unplanned"]["EVENT_UNPLANNED"].sum() == 3 and b["all unplanned"]["EVENT_UNPLANNED"].sum() == 5
