"""Power and minimum detectable hazard ratios: hand-checked closed forms, recovery of a known log HR
from the simulator, the fast Cox path against lifelines, and analytic against simulated power."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from rcceval.analyses.proposal import power as pw
from rcceval.stats.cox import cox_efron
from rcceval.synth.recovery import proposal_generating_model

PHI = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))   # noqa: E731 (the normal cdf, by hand)
Z975, Z80 = 1.959963984540054, 0.8416212335729143


def test_schoenfeld_power_by_hand():
    # binary covariate, half exposed (sd 0.5), HR 2, 100 events: delta = ln2 * 0.5 * 10
    delta = math.log(2) * 0.5 * 10
    want = PHI(delta - Z975) + PHI(-delta - Z975)
    assert pw.analytic_power(math.log(2), 0.5, 100) == pytest.approx(want, abs=1e-12)
    # variance inflation: rho^2 = 0.75 halves sd * sqrt(1 - rho^2)
    delta = math.log(2) * 0.5 * 10 * 0.5
    assert pw.analytic_power(-math.log(2), 0.5, 100, r2=0.75) == pytest.approx(PHI(delta - Z975) + PHI(-delta - Z975))
    # null: the rejection rate is alpha (both tails)
    assert pw.analytic_power(0.0, 1.0, 500, alpha=0.05) == pytest.approx(0.05, abs=1e-12)


def test_events_needed_and_minimum_detectable_hr_by_hand():
    # Schoenfeld's textbook case: HR 2, 1:1 allocation, alpha 0.05, power 80%: 65.3 events
    d = pw.events_needed(math.log(2), 0.5, 0.8, 0.05)
    assert d == pytest.approx((Z975 + Z80) ** 2 / (0.25 * math.log(2) ** 2), rel=1e-12)
    assert d == pytest.approx(65.35, abs=0.01)
    # continuous covariate (Hsieh-Lavori): sd 0.9, rho^2 0.3, 400 events
    b = pw.min_detectable_log_hr(0.9, 400, 0.8, 0.05, 0.3)
    assert b == pytest.approx((Z975 + Z80) / (0.9 * math.sqrt(400 * 0.7)), rel=1e-12)
    # the inversion: power at the minimum detectable effect is the target (plus the tiny wrong tail)
    assert pw.analytic_power(b, 0.9, 400, 0.05, 0.3) == pytest.approx(0.8, abs=1e-6)
    assert np.isinf(pw.min_detectable_log_hr(0.9, 0, 0.8))


def test_covariate_spread_exact():
    z = np.array([1.0, -1, 1, -1])
    e = np.array([1.0, 1, -1, -1])             # orthogonal to z and to the intercept
    X = pd.DataFrame({"x": z + e, "z": z})
    sd, r2 = pw.covariate_spread(X, "x")
    assert sd == pytest.approx(math.sqrt(2)) and r2 == pytest.approx(0.5)
    assert pw.covariate_spread(X[["x"]], "x") == (pytest.approx(math.sqrt(2)), 0.0)


def test_events_by_years_and_national_scale():
    start = pd.to_datetime(["2024-06-01", "2023-06-01", "2022-06-01", "2024-12-01", "2021-01-01"])
    event = np.array([1, 1, 0, 0, 1])
    la = pd.Series(["A", "A", "B", "B", "B"])
    t = pw.events_by_years(start, event, la, pd.Timestamp("2025-03-31"), years=(1, 2, 5))
    got = {(r.unit, r.years): (r.placements, r.events) for r in t.itertuples()}
    assert got[("A", 1)] == (1, 1) and got[("B", 1)] == (1, 0) and got[("Region (pooled)", 1)] == (2, 1)
    assert got[("A", 2)] == (2, 2) and got[("B", 2)] == (1, 0)
    assert got[("Region (pooled)", 5)] == (5, 3)
    assert pw.national_scale(11_000) == pytest.approx(83_630 / 11_000)
    with pytest.raises(ValueError):
        pw.national_scale(0)


def test_power_analysis_table_is_the_closed_form():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"I_a": rng.integers(0, 4, 500).astype(float), "I_b": rng.integers(0, 4, 500).astype(float)})
    events = pd.DataFrame([{"unit": "A", "level": "council", "years": 1, "placements": 50, "events": 20},
                           {"unit": "B", "level": "council", "years": 1, "placements": 90, "events": 40},
                           {"unit": "C", "level": "council", "years": 1, "placements": 80, "events": 30},
                           {"unit": "Region (pooled)", "level": "region", "years": 1, "placements": 220, "events": 90}])
    pa = pw.PowerAnalysis(target=0.8, alpha=0.05, multiplicity="none").fit(X, events, {"a": "I_a", "b": "I_b"}, scale=10.0)
    sd, r2 = pw.covariate_spread(X, "I_a")
    row = pa.table[(pa.table["covariate"] == "a") & (pa.table["unit"] == "B")].iloc[0]
    assert pa.method == "Hsieh-Lavori"
    assert row["mdhr"] == pytest.approx(math.exp((Z975 + Z80) / (sd * math.sqrt(40 * (1 - r2)))))
    nat = pa.table[(pa.table["covariate"] == "a") & (pa.table["level"] == "national")].iloc[0]
    assert nat["events"] == 900
    s = pa.summary("a").loc[1]
    assert s["council_smallest"] == pa.table.query("covariate == 'a' and unit == 'A'")["mdhr"].iloc[0]
    assert s["council_median"] == pa.table.query("covariate == 'a' and unit == 'C'")["mdhr"].iloc[0]
    assert s["council_largest"] < s["council_median"] < s["council_smallest"]
    assert pa.to_dict()["covariate"] in ("a", "b")


# ---- simulation ------------------------------------------------------------------------------

def _model(beta_x: float, beta_z: float = 0.3) -> pw.GeneratingModel:
    return pw.GeneratingModel(names=("x", "z"), baseline={"unplanned": (0.3, 0.8), "planned": (0.4, 1.0)},
                              log_hr={"unplanned": np.array([beta_x, beta_z]), "planned": np.array([0.0, 0.2])})


def _rows(kind: str, n: int = 4000, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    if kind == "binary":
        x = (rng.random(n) < 1 / (1 + np.exp(-(-0.4 + 0.8 * z)))).astype(float)
    else:
        x = 0.5 * z + math.sqrt(0.75) * rng.standard_normal(n)
    return np.column_stack([x, z])


def test_generating_model_from_truth_and_with_effect(tmp_path):
    truth = {"covariate_order": ["a", "b"],
             "parameters": {"hazard": {"causes": ["unplanned", "planned"],
                                       "baseline": {"unplanned": {"lambda": 0.1, "shape": 0.5},
                                                    "planned": {"lambda": 0.2, "shape": 1.0}},
                                       "log_hr": {"unplanned": {"a": 0.3}, "planned": {"b": -0.1}}}}}
    (tmp_path / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    m = proposal_generating_model(tmp_path)
    assert m.baseline["unplanned"] == (0.1, 0.5) and list(m.log_hr["unplanned"]) == [0.3, 0.0]
    assert list(m.with_effect("b", 0.7).log_hr["unplanned"]) == [0.3, 0.7] and list(m.log_hr["unplanned"]) == [0.3, 0.0]


def test_simulator_recovers_the_generating_log_hr():
    m = _model(math.log(1.4))
    days, event, x = pw.simulate_dataset(m, _rows("continuous"), 20_000, 3.0, np.random.default_rng(11))
    res = cox_efron(days, event, x)
    assert abs(res.coef[0] - math.log(1.4)) < 3 * res.se[0]
    assert abs(res.coef[1] - 0.3) < 3 * res.se[1]
    assert days.min() >= 1 and np.all(days == np.round(days))


def test_fast_cox_path_matches_lifelines_on_a_simulated_dataset():
    days, event, x = pw.simulate_dataset(_model(0.4), _rows("binary"), 1500, 2.0, np.random.default_rng(2))
    res = cox_efron(days, event, x)
    df = pd.DataFrame({"x": x[:, 0], "z": x[:, 1], "T": days, "E": event})
    cph = CoxPHFitter().fit(df, "T", "E", fit_options={"precision": 1e-10})
    assert np.allclose(res.coef, cph.params_.to_numpy(), atol=1e-6)
    assert np.allclose(res.se, cph.standard_errors_.to_numpy(), rtol=1e-5)


@pytest.mark.parametrize("kind, log_hr, n", [
    ("binary", math.log(1.5), 700),        # Schoenfeld, moderate power
    ("binary", math.log(1.3), 1500),
    ("continuous", 0.15, 700),             # Hsieh-Lavori, correlated adjuster (rho = 0.5)
    ("continuous", 0.25, 500),
    ("continuous", 0.0, 600),              # null: rejection ~ alpha
])
def test_analytic_power_agrees_with_simulated(kind, log_hr, n):
    sim = pw.SimulatedPower(_model(log_hr), _rows(kind), "x", replicates=300, seed=3, n_jobs=1).fit([(n, 2.0)])
    r = sim.table.iloc[0]
    mc_se = math.sqrt(r["analytic_power"] * (1 - r["analytic_power"]) / r["replicates"])
    # within 3 Monte Carlo SEs plus 0.03 for the approximation (sd and rho^2 over all rows, not risk sets)
    assert abs(r["power"] - r["analytic_power"]) < 3 * mc_se + 0.03, sim.table.to_dict("records")
    assert r["failed_fits"] == 0
    if log_hr == 0:
        assert r["analytic_power"] == pytest.approx(0.05)


def test_simulated_power_is_identical_whatever_n_jobs():
    kw = dict(model=_model(0.3), rows=_rows("binary", 800), target="x", replicates=30, seed=9, chunk=7)
    one = pw.SimulatedPower(**kw, n_jobs=1).fit([(200, 1.0), (400, 2.0)])
    two = pw.SimulatedPower(**kw, n_jobs=2).fit([(200, 1.0), (400, 2.0)])
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.draws, two.draws)
    again = pw.SimulatedPower(**{**kw, "chunk": 30}, n_jobs=1).fit([(200, 1.0), (400, 2.0)])
    pd.testing.assert_frame_equal(one.draws, again.draws)


def test_failed_fits_count_as_not_rejecting():
    # 5 placements a dataset: often no event at all; never an error
    sim = pw.SimulatedPower(_model(0.5), _rows("binary", 200), "x", replicates=20, seed=1).fit([(5, 0.2)])
    r = sim.table.iloc[0]
    assert 0 <= r["power"] <= 1 and r["replicates"] == 20


def test_observed_information_predicts_power_where_the_closed_form_does_not():
    """A competing ending that removes high-x placements early: the risk sets hold less spread of x than
    all placements, so sigma sqrt(1 - rho^2) over all placements overstates power; the information of a
    Cox fit (what the report uses when it has one) predicts the simulated power."""
    m = pw.GeneratingModel(names=("x", "z"), baseline={"unplanned": (0.3, 0.8), "planned": (0.6, 1.0)},
                           log_hr={"unplanned": np.array([0.2, 0.8]), "planned": np.array([1.2, 0.0])})
    rows = _rows("continuous", 6000, 5)
    days, event, x = pw.simulate_dataset(m, rows, 40_000, 3.0, np.random.default_rng(1))
    eff = pw.observed_effective_sd(cox_efron(days, event, x).se[0], int(event.sum()))
    sim = pw.SimulatedPower(m, rows, "x", replicates=300, seed=3, effective_sd=eff).fit([(500, 3.0)])
    r = sim.table.iloc[0]
    mc_se = math.sqrt(r["power"] * (1 - r["power"]) / r["replicates"])
    assert abs(r["power"] - r["analytic_power_observed"]) < 3 * mc_se + 0.02
    assert abs(r["power"] - r["analytic_power"]) > abs(r["power"] - r["analytic_power_observed"])
    assert pw.observed_effective_sd(0.1, 100) == pytest.approx(1.0)


def test_power_analysis_uses_observed_information_when_given():
    X = pd.DataFrame({"I_a": np.tile([0.0, 1, 2, 3], 50), "I_b": np.repeat([0.0, 1, 2, 3], 50)})
    events = pd.DataFrame([{"unit": "A", "level": "council", "years": 1, "placements": 50, "events": 25},
                           {"unit": "Region (pooled)", "level": "region", "years": 1, "placements": 50, "events": 25}])
    pa = pw.PowerAnalysis(multiplicity="none").fit(X, events, {"a": "I_a", "b": "I_b"}, scale=2.0,
                                                 observed={"a": 0.5, "b": 0.8})
    assert pa.method == "observed information"
    row = pa.table[(pa.table["covariate"] == "a") & (pa.table["unit"] == "A")].iloc[0]
    assert row["mdhr"] == pytest.approx(math.exp((Z975 + Z80) / (0.5 * 5)))
    sd, r2 = pw.covariate_spread(X, "I_a")
    assert row["mdhr_hsieh_lavori"] == pytest.approx(math.exp((Z975 + Z80) / (sd * math.sqrt(1 - r2) * 5)))
    # with only one observed value the closed form is used for all
    assert pw.PowerAnalysis().fit(X, events, {"a": "I_a", "b": "I_b"}, 2.0, {"a": 0.5}).method == "Hsieh-Lavori"
