"""Question 3's stated model: discounting in the engine, parametric tails beyond follow-up, the E-value of
the mismatch hazard ratio, one price year, costing.yaml's new sections, and the PSA's pieces (cheap
refits, weighted baselines, bootstrap counts, tied price draws). Hand-made cases with exact figures; the
synthetic-region checks are in test_costing_psa.py."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from rcceval.analyses.costing.hazard import CAUSES, CauseHazard, HazardModel, breslow
from rcceval.analyses.costing.microsim import COST_GROUPS, ITEM, Cohort, Pool, Settings, layout, simulate
from rcceval.analyses.costing.params import load_costing, parse_costing
from rcceval.analyses.costing.psa import bootstrap_counts, price_draw
from rcceval.analyses.costing.sensitivity import _pert_range, mismatch_evalue, uprated_costing
from rcceval.errors import ParameterError
from rcceval.spec import codes
from rcceval.spec.codes import MODEL_TYPE_LEVELS as TYPE_LEVELS
from rcceval.stats.cox import cox_efron, newton_refit
from rcceval.stats.tails import TailFit

ROOT = Path(__file__).resolve().parents[1]
ND = 8
Y = 365.25


# ---- the engine: discounting a hand-made journey ------------------------------------------------------
def _jump(cause: str, day: float | None) -> CauseHazard:
    times = np.array([1.0, day if day else 2.0])
    H = np.zeros((1, 2))
    if day:
        H[:, 1] = 1e9
    return CauseHazard(cause=cause, names=["FIRST_IN_PERIOD"], coef=np.zeros(1), cov=None, centre=np.zeros(1),
                       strata=["L1"], kind="step", times=times, cumhaz=H, tail_rate=np.zeros(1))


def _one_child() -> tuple[Cohort, Pool]:
    c = Cohort(profiles=["p"], profile=np.zeros(1, dtype=np.int64), stratum=np.zeros(1, dtype=np.int64),
               age0=np.full(1, 10.5), first0=np.ones(1), type0=np.zeros(1, dtype=np.int64), mismatch0=np.zeros(1),
               sb0=np.zeros(1), group0=np.full(1, COST_GROUPS.index("in_house_foster")), intensity=np.zeros((1, ND)),
               fixed_names=[], Xf=np.zeros((1, 0)), setting=np.zeros(1, dtype=np.int64), hours=np.zeros(1),
               peak=np.zeros(1, dtype=np.int64))
    pool = Pool(type=np.array([TYPE_LEVELS.index("residential")]), sb=np.zeros(1),
                group=np.array([COST_GROUPS.index("childrens_home")]), cap=np.full((1, ND), 3.0),
                start=np.zeros((1, 5), dtype=np.int64), count=np.ones((1, 5), dtype=np.int64))
    return c, pool


def test_engine_discounts_a_hand_made_journey_by_green_book_years():
    # an unplanned ending every 100 days for 1000 days: placements 0-100-...-900-1000, 9 moves
    hz = HazardModel("hand", {codes.UNPLANNED: _jump(codes.UNPLANNED, 100), codes.PLANNED: _jump(codes.PLANNED, None),
                              codes.LEFT_CARE: _jump(codes.LEFT_CARE, None)})
    c, pool = _one_child()
    lays = [layout(h.names, np.tile(h.coef, (1, 1)), h.centre, c.fixed_names) for h in (hz.causes[k] for k in CAUSES)]
    r = 0.035
    st = Settings(horizon_days=1000.0, capacity=0.0, seed=3, discount_rates=(r, 0.0))
    j = simulate(c, pool, hz, lays, st, np.full(1, 1400.0), {g: 700.0 for g in COST_GROUPS}, 2500.0)
    u, d, d0 = (j.by_profile["unit_cost"][0, 0], j.discounted["unit_cost"][0, 0, 0], j.discounted["unit_cost"][1, 0, 0])
    assert (u[ITEM["days"]], u[ITEM["moves"]]) == (1000, 9)
    v = 1 / (1 + r)
    # years of the journey: [0, 365.25), [365.25, 730.5), [730.5, 1000)
    assert d[ITEM["days"]] == pytest.approx(Y + Y * v + (1000 - 2 * Y) * v ** 2, rel=1e-12)
    assert d[ITEM["unit_days.in_house_foster"]] == pytest.approx(100.0, rel=1e-12)          # all in year 0
    assert d[ITEM["unit_days.childrens_home"]] == pytest.approx((Y - 100) + Y * v + (1000 - 2 * Y) * v ** 2, rel=1e-12)
    # moves on days 100, 200, 300 (year 0), 400-700 (year 1), 800, 900 (year 2)
    assert d[ITEM["moves"]] == pytest.approx(3 + 4 * v + 2 * v ** 2, rel=1e-12)
    assert d[ITEM["unplanned_moves"]] == pytest.approx(3 + 4 * v + 2 * v ** 2, rel=1e-12)
    # at 0% the discounted exposures are the undiscounted ones; the undiscounted are as without discounting
    for item in ("days", "moves", "unit_days.childrens_home", "unit_days.in_house_foster"):
        assert d0[ITEM[item]] == pytest.approx(u[ITEM[item]], rel=1e-12)
    plain = simulate(c, pool, hz, lays, Settings(horizon_days=1000.0, capacity=0.0, seed=3), np.full(1, 1400.0),
                     {g: 700.0 for g in COST_GROUPS}, 2500.0)
    assert np.array_equal(plain.by_profile["unit_cost"], j.by_profile["unit_cost"]) and plain.discounted is None


# ---- parametric tails beyond follow-up ---------------------------------------------------------------
def _step(tail=None) -> CauseHazard:
    times = np.array([10.0, 20.0, 400.0, 800.0])
    H = np.array([[0.1, 0.3, 0.5, 0.9]])
    return CauseHazard("x", [], np.zeros(0), None, np.zeros(0), ["A"], "step", times=times, cumhaz=H,
                       tail_rate=np.array([0.001]), tail=tail)


def test_weibull_tail_continues_the_last_hazard_with_its_shape():
    lam, rho, T, rate = 500.0, 0.5, 800.0, 0.001
    f = TailFit("weibull", {"lambda": lam, "rho": rho}, 2, 0.0, 1, 1)
    h = _step(f)
    hT = rho / lam * (T / lam) ** (rho - 1)
    target = np.array([0.95, 1.3, 2.0])
    # H(t) = 0.9 + rate * ((t/lam)^rho - (T/lam)^rho) / h(T)  solved for t
    want = lam * ((T / lam) ** rho + (target - 0.9) * hT / rate) ** (1 / rho)
    got = h.inverse(np.zeros(3, dtype=np.int64), target)
    assert got == pytest.approx(want, rel=1e-10)
    assert h.cumulative(float(want[1]), np.array([0]))[0] == pytest.approx(1.3, rel=1e-10)
    # the hazard just past T is the stratum's tail rate (the shape starts where the baseline ends)
    eps = 1e-3
    assert (h.cumulative(T + eps, np.array([0]))[0] - 0.9) / eps == pytest.approx(rate, rel=1e-5)
    # below the last baseline time nothing changes; an exponential tail is the constant tail exactly
    assert h.inverse(np.zeros(2, dtype=np.int64), np.array([0.05, 0.4])).tolist() == [10, 400]
    flat = _step(TailFit("exponential", {"rate": 0.123}, 1, 0.0, 1, 1))
    assert flat.inverse(np.zeros(3, dtype=np.int64), target) == pytest.approx(_step().inverse(np.zeros(3, dtype=np.int64),
                                                                                              target), rel=1e-12)
    assert _step().inverse(np.zeros(1, dtype=np.int64), np.array([1.3]))[0] == pytest.approx(800 + 0.4 / rate)


# ---- the E-value of the mismatch hazard ratio ----------------------------------------------------------
def test_mismatch_evalue_of_a_hand_made_model_is_the_common_outcome_formula():
    coef, se = np.log(2.0), 0.1
    h = CauseHazard(codes.UNPLANNED, ["AGE", "MISMATCH"], np.array([0.3, coef]), np.diag([0.04, se ** 2]),
                    np.zeros(2), ["A"], "weibull", weibull=(1.0, 1.0))
    ev = mismatch_evalue(HazardModel("hand", {codes.UNPLANNED: h}))

    def e_of(hr):
        rr = (1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr))
        return rr + np.sqrt(rr * (rr - 1))

    lower = np.exp(coef - 1.959963984540054 * se)
    assert ev["hr"] == pytest.approx(2.0) and ev["lower"] == pytest.approx(lower)
    assert ev["evalue"] == pytest.approx(e_of(2.0), rel=1e-12)      # RR 1.6125 + sqrt(1.6125 x 0.6125)
    assert ev["rr"] == pytest.approx(1.6125, abs=5e-5) and ev["evalue"] == pytest.approx(2.6064, abs=5e-4)
    assert ev["evalue_limit"] == pytest.approx(e_of(lower), rel=1e-12) and ev["limit_used"] == pytest.approx(lower)
    # no covariance (the generating model): the point's E-value only
    h2 = CauseHazard(codes.UNPLANNED, ["MISMATCH"], np.array([coef]), None, np.zeros(1), ["A"], "weibull",
                     weibull=(1.0, 1.0))
    ev2 = mismatch_evalue(HazardModel("hand", {codes.UNPLANNED: h2}))
    assert ev2["evalue"] == pytest.approx(e_of(2.0)) and ev2["lower"] is None and ev2["evalue_limit"] is None


# ---- one price year --------------------------------------------------------------------------------------
def test_costing_figures_uprated_to_one_price_year_by_hand():
    cp = load_costing(ROOT / "parameters" / "costing.yaml")
    up, table = uprated_costing(cp)
    t = table.set_index("figure")
    # GDP deflator (UNVERIFIED series): 2019-20 85.8, 2023-24 100, 2024-25 104.2
    ch = up.unit_costs["childrens_home"]
    assert ch.value == pytest.approx(6100 * 1.042) and ch.high == pytest.approx(7500 * 1.042)
    assert ch.low == pytest.approx(3830 * 104.2 / 85.8)                       # its own price year
    assert t.loc["unit.childrens_home", "low_factor"] == pytest.approx(104.2 / 85.8)
    assert t.loc["unit.in_house_foster", "factor"] == 1.0 and up.unit_costs["in_house_foster"].value == 560
    # the needs-led children's home: value 4,300 (2024-25) below its uprated low end 4,651: the low end moves to
    # where 4,300 is a PERT mean's edge, (6 x 4300 - 5500) / 5 = 4,060, and the table says so
    s = up.settings["childrens_home"]
    assert (s.low, s.value, s.high) == pytest.approx((4060.0, 4300.0, 5500.0))
    assert t.loc["setting.childrens_home", "range_adjusted"].startswith("range moved to 4,060-5,500")
    assert t.loc["unit.childrens_home", "range_adjusted"] == ""
    assert "UNVERIFIED" in table.attrs["deflator"]["status"]
    assert up.price_year == "2024-25"
    assert _pert_range(10.0, 0.0, 30.0) == (0.0, 30.0) and _pert_range(28.0, 0.0, 30.0) == (0.0, pytest.approx(33.6))


# ---- costing.yaml's new sections ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load((ROOT / "parameters" / "costing.yaml").read_text())


@pytest.mark.parametrize("section, key, value, rule", [
    ("time_and_money", "discount_rate", 0.35, "must be a number from 0 to 0.2"),
    ("time_and_money", "sensitivity_rates", [], "non-empty list"),
    ("time_and_money", "target_price_year", "2024-26", "financial year"),
    ("time_and_money", "tail", "loglogistic", "must be one of auto"),
    ("time_and_money", "tail_criterion", "r2", "must be one of window_aic"),
    ("time_and_money", "mismatch_shrinkage", [0.5, 1.5], "must be a number from 0 to 1"),
    ("time_and_money", "colour", 1, "unknown key"),
    ("psa", "outer", 1.5, "whole number"),
    ("psa", "inner", 1, "whole number from 2"),
    ("psa", "tied", [["unit.in_house_foster", "setting.fostr"]], "is not a cost figure"),
    ("psa", "tied", [["unit.in_house_foster"]], "two or more"),
])
def test_bad_time_and_money_or_psa_is_a_parameter_error_naming_the_key(raw, section, key, value, rule):
    bad = copy.deepcopy(raw)
    bad[section][key] = value
    with pytest.raises(ParameterError) as e:
        parse_costing(bad, "costing.yaml")
    assert f"{section}.{key}" in str(e.value) and rule in str(e.value)


def test_low_price_year_is_read_and_sections_default(raw):
    cp = parse_costing(raw, "costing.yaml")
    assert cp.unit_costs["childrens_home"].low_price_year == "2019-20"
    assert cp.time_and_money.rates == (0.035, 0.0, 0.015) and cp.psa.outer == 200
    bare = {k: v for k, v in raw.items() if k not in ("time_and_money", "psa")}
    d = parse_costing(bare, "costing.yaml")
    assert d.time_and_money.discount_rate == 0.035 and d.psa.tied == (("unit.in_house_foster", "setting.foster"),)


# ---- the PSA's pieces -------------------------------------------------------------------------------------
def _cox_data(n=400, seed=5):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)])
    t = np.ceil(rng.exponential(100 / np.exp(X @ np.array([0.5, -0.7])))).astype(float)
    c = np.ceil(rng.uniform(0, 200, n))
    return np.minimum(t, c), (t <= c).astype(int), X, np.repeat(["A", "B"], n // 2)


def test_two_newton_steps_from_the_full_fit_reach_the_weighted_refit():
    time, event, X, strata = _cox_data()
    full = cox_efron(time, event, X, strata=strata)
    w = np.random.default_rng(1).multinomial(len(time), np.full(len(time), 1 / len(time))).astype(float)
    exact = cox_efron(time[w > 0], event[w > 0], X[w > 0], strata=strata[w > 0], weights=w[w > 0], eps=1e-12)
    one, ok1 = newton_refit(time, event, X, full.coef, 1, strata=strata, weights=w)
    two, ok2 = newton_refit(time, event, X, full.coef, 2, strata=strata, weights=w)
    assert ok1 and ok2
    gap0, gap1, gap2 = (np.abs(b - exact.coef).max() for b in (full.coef, one, two))
    assert gap0 > 0.02                       # the resample moved the estimate ...
    # ... Newton converges quadratically from the warm start: gap_{k+1} about c gap_k^2 (here c about 0.2)
    assert gap1 < gap0 / 10 and gap2 < gap1 ** 2 and gap2 < 1e-4
    # rows of weight 0 are left out, as R drops them: the same refit on the drawn rows only
    kept, _ = newton_refit(time[w > 0], event[w > 0], X[w > 0], full.coef, 2, strata=strata[w > 0], weights=w[w > 0])
    assert np.array_equal(kept, two)


def test_weighted_breslow_is_breslow_on_duplicated_rows():
    time, event, X, strata = _cox_data(60)
    w = np.random.default_rng(2).integers(0, 3, len(time))
    beta, centre = np.array([0.4, -0.6]), np.array([0.1, 0.5])
    tw, Hw = breslow(time, event.astype(bool), X, beta, strata, centre, ["A", "B"], weights=w)
    rows = np.repeat(np.arange(len(time)), w)
    td, Hd = breslow(time[rows], event[rows].astype(bool), X[rows], beta, strata[rows], centre, ["A", "B"])
    at = np.searchsorted(tw, td)
    assert np.allclose(Hw[:, at], Hd, rtol=1e-12)


def test_bootstrap_counts_are_a_pure_function_of_seed_and_set():
    a, b, c = bootstrap_counts(11, 0, 500), bootstrap_counts(11, 0, 500), bootstrap_counts(11, 1, 500)
    assert a.sum() == 500 and c.sum() == 500 and np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.array_equal(a, bootstrap_counts(12, 0, 500))
    # with replacement: about 1 - 1/e of the children are drawn at least once
    share = np.mean([np.mean(bootstrap_counts(3, k, 2000) > 0) for k in range(20)])
    assert share == pytest.approx(1 - np.exp(-1), abs=0.01)


def test_tied_figures_share_one_draw_and_each_figure_keeps_its_mean():
    cp = load_costing(ROOT / "parameters" / "costing.yaml")
    draws = [price_draw(cp, 5, b) for b in range(1500)]
    foster = np.array([d["setting.foster"] for d in draws])
    in_house = np.array([d["unit.in_house_foster"] for d in draws])
    assert np.array_equal(foster, in_house)                         # one quantity (same range): one value
    ifa = np.array([d["unit.ifa_foster"] for d in draws])
    assert abs(np.corrcoef(ifa, in_house)[0, 1]) < 0.08             # the others independent (sd 0.026)
    for name in ("unit.ifa_foster", "process_cost", "unit.childrens_home"):
        f = cp.prices[name]
        x = np.array([d[name] for d in draws])
        assert x.min() >= f.low and x.max() <= f.high
        assert x.mean() == pytest.approx(f.value, rel=0.015)        # Beta-PERT with the value as its mean
