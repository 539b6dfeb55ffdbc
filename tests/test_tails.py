"""Parametric tails: recovery of known generating parameters, fit comparison, the constant tail by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rcceval.stats import tails

ADMIN = 1500.0   # days of follow-up


def _censor(T, rng, n):
    C = np.minimum(rng.uniform(100, 3000, n), ADMIN)
    return np.minimum(T, C), T <= C


def _weibull(n=4000, lam=400.0, rho=0.7, seed=1):
    rng = np.random.default_rng(seed)
    return _censor(lam * (-np.log(rng.random(n))) ** (1 / rho), rng, n)


def _gompertz(n=4000, b=0.003, a=-0.001, seed=2):
    rng = np.random.default_rng(seed)
    E = -np.log(rng.random(n))
    arg = 1 + a * E / b
    T = np.where(arg > 0, np.log(np.where(arg > 0, arg, 1.0)) / a, np.inf)   # a < 0: some never have the event
    return _censor(T, rng, n)


def _lognormal(n=4000, mu=6.0, sigma=1.0, seed=3):
    rng = np.random.default_rng(seed)
    return _censor(np.exp(rng.normal(mu, sigma, n)), rng, n)


def test_weibull_recovered_and_preferred():
    t, d = _weibull()
    fits = tails.fit_parametric(t, d)
    w = fits["weibull"].params
    assert w["rho"] == pytest.approx(0.7, abs=0.04)
    assert w["lambda"] == pytest.approx(400.0, rel=0.08)
    assert min(fits, key=lambda f: fits[f].aic) == "weibull"


def test_gompertz_recovered_and_preferred():
    t, d = _gompertz()
    fits = tails.fit_parametric(t, d)
    g = fits["gompertz"].params
    assert g["b"] == pytest.approx(0.003, rel=0.10)
    assert g["a"] == pytest.approx(-0.001, rel=0.15)
    assert min(fits, key=lambda f: fits[f].aic) == "gompertz"
    assert min(fits, key=lambda f: fits[f].bic) == "gompertz"


def test_lognormal_recovered_and_preferred():
    t, d = _lognormal()
    fits = tails.fit_parametric(t, d)
    p = fits["lognormal"].params
    assert p["mu"] == pytest.approx(6.0, abs=0.06)
    assert p["sigma"] == pytest.approx(1.0, abs=0.06)
    assert min(fits, key=lambda f: fits[f].aic) == "lognormal"


def test_loglik_agrees_with_lifelines_own():
    from lifelines import LogNormalFitter, WeibullFitter

    t, d = _weibull(n=800, seed=5)
    ours = tails.fit_parametric(t, d, families=("weibull", "lognormal"))
    assert ours["weibull"].log_likelihood == pytest.approx(WeibullFitter().fit(t, d).log_likelihood_, rel=1e-9)
    assert ours["lognormal"].log_likelihood == pytest.approx(LogNormalFitter().fit(t, d).log_likelihood_, rel=1e-9)


def test_left_truncated_weibull_recovered():
    rng = np.random.default_rng(7)
    n = 12000
    T = 400 * (-np.log(rng.random(n))) ** (1 / 0.7)
    entry = rng.uniform(0, 300, n)
    keep = T > entry                                   # only placements still open at entry are seen
    T, entry = T[keep], entry[keep]
    C = np.full(T.shape, ADMIN)
    t, d = np.minimum(T, C), T <= C
    w = tails.fit_family("weibull", t, d, entry=entry).params
    assert w["rho"] == pytest.approx(0.7, abs=0.04)
    assert w["lambda"] == pytest.approx(400.0, rel=0.08)


def test_cause_specific_constant_hazards_recovered():
    # two competing causes with constant hazards 0.001 and 0.0005 a day: each cause's own rate comes back
    rng = np.random.default_rng(11)
    n = 6000
    T1, T2 = rng.exponential(1 / 0.001, n), rng.exponential(1 / 0.0005, n)
    T = np.minimum(T1, T2)
    t = np.minimum(T, ADMIN)
    cause = np.where(T > ADMIN, None, np.where(T1 < T2, "breakdown", "planned"))
    out = tails.compare_tails_by_cause(t, cause, window_days=730, horizon_days=1825)
    assert set(out) == {"breakdown", "planned"}
    for lab, rate in (("breakdown", 0.001), ("planned", 0.0005)):
        tab = out[lab]
        assert tab.loc["exponential", "hazard_horizon"] == pytest.approx(rate, rel=0.08)
        assert tab.loc["constant_tail", "hazard_horizon"] == pytest.approx(rate, rel=0.15)
        assert bool(tab.loc["exponential", "plausible"])
        # the Weibull and Gompertz nest the exponential: their shape comes back near constant
        assert tab.loc["weibull", "log_lik"] >= tab.loc["exponential", "log_lik"] - 1e-6
        assert tab.loc["gompertz", "log_lik"] >= tab.loc["exponential", "log_lik"] - 1e-6


def test_constant_tail_by_hand():
    # end 40, window 15 -> [25, 40): exposure 5 (t=30) + 15 (t=40) = 20; events at 30 and 40 -> rate 0.1
    tail = tails.constant_tail([10.0, 20.0, 30.0, 40.0], [1, 0, 1, 1], window_days=15)
    assert tail.start == 25.0
    assert tail.params["rate"] == pytest.approx(0.1, rel=1e-15)
    assert tail.log_likelihood == pytest.approx(2 * np.log(0.1) - 0.1 * 20, rel=1e-15)
    assert tail.survival(np.array([35.0]))[0] == pytest.approx(np.exp(-1.0), rel=1e-15)


def test_declining_hazard_flags_the_rising_and_the_implausible():
    t, d = _weibull()
    tab, _ = tails.compare_tails(t, d, window_days=365, horizon_days=1825)
    assert not tab["rising"].any()                    # rho < 1: every family's hazard falls here
    assert tab.loc["weibull", "plausible"] and tab.loc["constant_tail", "plausible"]
    assert tab.loc["constant_tail", "ratio_to_observed"] == 1.0
    assert tails.choose_tail(tab, "aic") == "weibull"
    assert tails.choose_tail(tab, "window_aic") in ("weibull", "constant_tail")


def test_choose_tail_by_hand():
    tab = pd.DataFrame({"aic": [10.0, 5.0, np.nan], "bic": [10.0, 5.0, np.nan], "window_aic": [3.0, 1.0, 2.0],
                        "plausible": [True, False, True]}, index=["exponential", "lognormal", "constant_tail"])
    assert tails.choose_tail(tab, "aic") == "exponential"        # lognormal fits better but is implausible
    assert tails.choose_tail(tab, "window_aic") == "constant_tail"
    tab["plausible"] = False
    assert tails.choose_tail(tab) == "constant_tail"


def test_bad_input_names_the_row():
    with pytest.raises(ValueError, match="row 1"):
        tails.fit_family("weibull", [5.0, -1.0], [1, 0])
    with pytest.raises(ValueError, match="no events"):
        tails.fit_family("exponential", [5.0, 6.0], [0, 0])
    with pytest.raises(ValueError, match="unknown family"):
        tails.fit_family("gamma", [5.0, 6.0], [1, 0])


@pytest.mark.parametrize("family,params", [
    ("exponential", {"rate": 0.002}), ("weibull", {"lambda": 400.0, "rho": 0.7}),
    ("lognormal", {"mu": 6.0, "sigma": 1.0}), ("gompertz", {"b": 0.003, "a": -0.001}),
    ("gompertz", {"b": 0.001, "a": 0.0005})])
def test_inverse_cumulative_hazard_round_trip(family, params):
    fit = tails.TailFit(family, params, 2, 0.0, 1, 1)
    t = np.array([1.0, 30.0, 365.0, 1500.0])
    np.testing.assert_allclose(fit.inverse_cumulative_hazard(fit.cumulative_hazard(t)), t, rtol=1e-9)


def test_gompertz_with_falling_hazard_can_never_have_the_event():
    fit = tails.TailFit("gompertz", {"b": 0.003, "a": -0.001}, 2, 0.0, 1, 1)
    # H(inf) = b / -a = 3: a cumulative hazard of 3 or more is never reached
    assert fit.inverse_cumulative_hazard(np.array([3.5]))[0] == np.inf


def test_times_beyond_follow_the_tail_shape_at_the_childs_level():
    # Weibull shape beyond day 1500, each child's hazard there set to 0.001 or 0.002 a day: the share
    # with no event by day 2500 is exp(-r / h(1500) * (H(2500) - H(1500))) for each level
    fit = tails.TailFit("weibull", {"lambda": 400.0, "rho": 0.7}, 2, 0.0, 1, 1)
    rng = np.random.default_rng(5)
    u = rng.random(40_000)
    r = np.where(np.arange(40_000) % 2 == 0, 0.001, 0.002)
    t = tails.times_beyond(fit, 1500.0, r, u)
    assert np.all(t >= 1500.0)
    h_end = fit.hazard(np.array([1500.0]))[0]
    dH = np.diff(fit.cumulative_hazard(np.array([1500.0, 2500.0])))[0]
    for level in (0.001, 0.002):
        want = np.exp(-level / h_end * dH)
        assert np.mean(t[r == level] > 2500.0) == pytest.approx(want, abs=0.01)
    # the constant tail continues at the child's own rate: exponential beyond end
    flat = tails.TailFit("constant_tail", {"rate": 0.0015, "start": 1135.0}, 1, 0.0, 1, 1)
    tf = tails.times_beyond(flat, 1500.0, 0.001, u)
    assert np.mean(tf - 1500.0) == pytest.approx(1000.0, rel=0.02)


def test_constant_tail_ends_at_the_last_event_and_falls_back_to_the_overall_rate():
    # default end is the last event (50): window [45, 50] has exposure 5 + 5 and one event -> 0.1
    tail = tails.constant_tail([10.0, 50.0, 60.0], [1, 1, 0], window_days=5)
    assert tail.extra["end"] == 50.0 and not tail.extra["fallback"]
    assert tail.params["rate"] == pytest.approx(0.1, rel=1e-15)
    # ending at 60, the window [55, 60] holds no event: the rate is 2 events / 120 days over [0, 60]
    tail = tails.constant_tail([10.0, 50.0, 60.0], [1, 1, 0], window_days=5, end=60.0)
    assert tail.extra["fallback"] and tail.start == 0.0
    assert tail.params["rate"] == pytest.approx(2 / 120, rel=1e-15)
