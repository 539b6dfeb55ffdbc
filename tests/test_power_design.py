"""Question 4's power under clustering and multiplicity: the design effect in the minimum detectable
effect (hand-checked), Holm's per-term level, the clustered simulation (independent when nothing is
clustered; calibrated with robust SEs and not with naive ones when children share a frailty)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rcceval.analyses.proposal import power as pw
from rcceval.stats.cox import cox_efron

Z975, Z80 = 1.959963984540054, 0.8416212335729143
Z_HOLM16 = 2.955166847497834          # the normal quantile at 1 - 0.05 / 32 (two-sided 0.05 / 16; R qnorm)


# ---- design effect ------------------------------------------------------------------------------

def test_minimum_detectable_log_hr_scales_by_the_root_of_the_design_effect():
    # sd 0.9, rho^2 0.3, 400 events, deff 2.25: the log HR is 1.5 times the independent one
    naive = (Z975 + Z80) / (0.9 * math.sqrt(400 * 0.7))
    assert pw.min_detectable_log_hr(0.9, 400, 0.8, 0.05, 0.3, deff=2.25) == pytest.approx(1.5 * naive, rel=1e-12)
    # the same as 400 / 2.25 independent events
    assert pw.min_detectable_log_hr(0.9, 400, 0.8, 0.05, 0.3, deff=2.25) == pytest.approx(
        pw.min_detectable_log_hr(0.9, 400 / 2.25, 0.8, 0.05, 0.3), rel=1e-12)
    # power at that effect is the target; events needed grow by the design effect
    assert pw.analytic_power(1.5 * naive, 0.9, 400, 0.05, 0.3, deff=2.25) == pytest.approx(0.8, abs=1e-6)
    assert pw.events_needed(0.2, 0.9, deff=1.7) == pytest.approx(1.7 * (Z975 + Z80) ** 2 / (0.18 ** 2), rel=1e-12)


def test_design_effect_is_the_ratio_of_the_variances():
    assert list(pw.design_effect(np.array([[4.0, 1], [1, 9]]), np.array([[2.0, 0.5], [0.5, 3]]))) == [2.0, 3.0]
    # on a fitted clustered Cox model it is robust over naive variance (cox_efron gives both)
    rng = np.random.default_rng(3)
    child = np.repeat(np.arange(300), 3)
    x = rng.standard_normal(300)[child]
    t = rng.exponential(1 / (np.exp(0.3 * x) * rng.gamma(1.0, 1.0, 300)[child]))
    fit = cox_efron(np.ceil(100 * t), np.ones_like(t), x[:, None], cluster=child)
    deff = pw.design_effect(fit.var_robust, fit.var_naive)[0]
    assert deff == pytest.approx((fit.robust_se[0] / fit.se[0]) ** 2, rel=1e-12)
    assert deff > 1.2             # a shared frailty and a shared covariate: the naive variance is too small


def _events():
    return pd.DataFrame([{"unit": "A", "level": "council", "years": 1, "placements": 50, "events": 25},
                         {"unit": "Region (pooled)", "level": "region", "years": 1, "placements": 100, "events": 100}])


def test_power_analysis_applies_design_effect_and_holm():
    X = pd.DataFrame({"I_a": np.tile([0.0, 1, 2, 3], 50), "I_b": np.repeat([0.0, 1, 2, 3], 50)})
    pa = pw.PowerAnalysis(family_size=16).fit(X, _events(), {"a": "I_a", "b": "I_b"}, scale=2.0,
                                              observed={"a": 0.5, "b": 0.8}, design_effect={"a": 1.44})
    assert pa.alpha_term == pytest.approx(0.05 / 16)
    row = pa.table[(pa.table["covariate"] == "a") & (pa.table["unit"] == "A")].iloc[0]
    # Holm's first step (alpha / 16) and the variance times 1.44: the log HR times 1.2
    assert row["mdhr"] == pytest.approx(math.exp(1.2 * (Z_HOLM16 + Z80) / (0.5 * 5)), rel=1e-9)
    assert row["mdhr_independent"] == pytest.approx(math.exp((Z_HOLM16 + Z80) / (0.5 * 5)), rel=1e-9)
    assert row["mdhr_single_test"] == pytest.approx(math.exp(1.2 * (Z975 + Z80) / (0.5 * 5)), rel=1e-9)
    # the power columns carry both as well
    assert row["power_hr_1.5"] == pytest.approx(pw.analytic_power(math.log(1.5), 0.5 / 1.2, 25, 0.05 / 16), rel=1e-12)
    # b has no design effect: 1, and shown as not estimated
    sp = pa.spread
    assert sp.loc["b", "design_effect"] == 1.0 and not sp.loc["b", "design_effect_estimated"]
    assert sp.loc["a", "design_effect_estimated"]
    d = pa.to_dict()
    assert d["multiplicity"]["method"] == "holm" and d["multiplicity"]["family_size"] == 16


def test_holm_by_hand_and_per_term_alpha():
    # p sorted 0.01, 0.03, 0.04: 0.01 < 0.05/3 rejected; 0.03 > 0.05/2, so Holm stops
    assert list(pw.holm_reject([0.01, 0.04, 0.03], 0.05)) == [True, False, False]
    assert list(pw.holm_reject([0.01, 0.04, 0.02], 0.05)) == [True, True, True]
    assert pw.per_term_alpha(0.05, 16) == pytest.approx(0.003125)
    assert pw.per_term_alpha(0.05, 16, "none") == 0.05
    with pytest.raises(ValueError, match="multiplicity 'bonf'"):
        pw.per_term_alpha(0.05, 16, "bonf")
    with pytest.raises(ValueError, match="family_size 0"):
        pw.per_term_alpha(0.05, 0)


# ---- clustered simulation ---------------------------------------------------------------------------

def _model(beta_x: float) -> pw.GeneratingModel:
    return pw.GeneratingModel(names=("x", "z"), baseline={"unplanned": (0.3, 0.8), "planned": (0.4, 1.0)},
                              log_hr={"unplanned": np.array([beta_x, 0.3]), "planned": np.array([0.0, 0.2])})


def _rows(n: int = 4000, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    return np.column_stack([0.5 * z + math.sqrt(0.75) * rng.standard_normal(n), z])


def test_no_clustering_is_the_independent_simulation():
    rows = _rows(800)
    a = pw.simulate_clustered(_model(0.3), rows, 300, 2.0, np.random.default_rng(4), pw.Clustering(),
                              np.random.default_rng(9))
    days, event, x = pw.simulate_dataset(_model(0.3), rows, 300, 2.0, np.random.default_rng(4))
    assert np.array_equal(a["days"], days) and np.array_equal(a["event"], event) and np.array_equal(a["x"], x)
    kw = dict(model=_model(0.3), rows=rows, target="x", replicates=40, seed=9, chunk=15)
    base = pw.SimulatedPower(**kw).fit([(200, 1.0), (400, 2.0)])
    zero = pw.SimulatedPower(**kw, clustering=pw.Clustering(child_frailty_var=0.0, council_frailty_sd=0.0)).fit(
        [(200, 1.0), (400, 2.0)])
    pd.testing.assert_frame_equal(base.draws, zero.draws)
    pd.testing.assert_frame_equal(base.table, zero.table)
    # the frailty draws do not move the placements' own draws: same covariate rows, same follow-up
    fr = pw.simulate_clustered(_model(0.3), rows, 300, 2.0, np.random.default_rng(4),
                               pw.Clustering(child_frailty_var=1.0, council_frailty_sd=0.5, councils=3),
                               np.random.default_rng(9))
    assert np.array_equal(fr["x"], x) and not np.array_equal(fr["days"], days)
    assert set(np.unique(fr["council"])) <= {0, 1, 2}


def test_children_share_rows_and_frailty():
    c = pw.Clustering(placements_per_child=3, child_frailty_var=0.5)
    d = pw.simulate_clustered(_model(0.0), _rows(500), 9, 1.0, np.random.default_rng(1), c, np.random.default_rng(2))
    assert list(d["child"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert np.array_equal(d["x"][[0, 1, 2]], np.repeat(d["x"][[0]], 3, axis=0))
    with pytest.raises(ValueError, match="placements_per_child"):
        pw.Clustering(placements_per_child=0)


def test_null_rejection_with_child_frailty_is_alpha_with_robust_ses_not_naive():
    """Four placements a child sharing needs and a gamma frailty (variance 2), a log-normal council
    frailty (sd 0.3) over five councils: no effect of x. The robust test rejects within alpha +- 3 binomial
    SE (400 replicates: 1.7%-8.3%); the naive test, which takes the placements as independent, above it."""
    cl = pw.Clustering(placements_per_child=4, child_frailty_var=2.0, council_frailty_sd=0.3, councils=5)
    sim = pw.SimulatedPower(_model(0.0), _rows(), "x", replicates=400, seed=4, clustering=cl).fit([(1200, 2.0)])
    r = sim.table.iloc[0]
    lo, hi = pw.binomial_bound(0.05, 400)
    assert (lo, hi) == pytest.approx((0.05 - 3 * math.sqrt(0.0475 / 400), 0.05 + 3 * math.sqrt(0.0475 / 400)))
    assert lo <= r["power"] <= hi, r.to_dict()
    assert r["power_naive"] > hi, r.to_dict()
    assert r["design_effect_simulated"] > 1.2 and r["failed_fits"] == 0


# ---- results and sentences from the numbers -------------------------------------------------------

def test_power_result_states_design_effect_and_holm():
    from rcceval.analyses.proposal.results import power_result

    X = pd.DataFrame({"I_a": np.tile([0.0, 1, 2, 3], 50), "I_b": np.repeat([0.0, 1, 2, 3], 50)})
    pa = pw.PowerAnalysis(family_size=16).fit(X, _events(), {"a": "I_a", "b": "I_b"}, scale=2.0,
                                              observed={"a": 0.5, "b": 0.6}, design_effect={"a": 1.44, "b": 1.21})
    res = power_result(pa, 125, 150, 40, "robust over naive variance")
    m = res.headlines()["mdhr_80"]
    assert m["covariate"] in ("a", "b") and m["design_effect"] == pytest.approx({"a": 1.44, "b": 1.21}[m["covariate"]])
    assert m["multiplicity"] == {"method": "holm", "family_size": 16, "family_wise_alpha": 0.05,
                                 "alpha_per_term": 0.003125, "rule": m["multiplicity"]["rule"]}
    assert {"mdhr_independent", "mdhr_single_test"} <= set(res.tables()["mdhr_by_council"].frame.columns)


def _shown_power(median: dict, region: dict, national: dict) -> dict:
    return {"mdhr_80": {"covariate": "behaviour", "target_power": 0.8, "council_smallest": {"1": 3.0, "5": 1.6},
                        "council_median": median, "council_largest": {"1": 1.4, "2": 1.25, "3": 1.2},
                        "region": region, "national": national},
            "events_with_needs": 100}


def test_conclusions_are_read_off_the_numbers():
    from rcceval.analyses.proposal.fields import ALL_DOMAINS, MISMATCH_ROW
    from rcceval.analyses.proposal.text import conclusions_text

    shown = _shown_power({"1": 1.5, "2": 1.3, "3": 1.19, "4": 1.15, "5": 1.1}, {"1": 1.15}, {"1": 1.03})
    fields = pd.DataFrame({"title": ["Behaviour", "Health", "Education", "All", "Mismatch"],
                           "delta_auc": [0.02, 0.01, 0.0, 0.05, 0.004], "ci_low": [0.005, -0.001, -0.01, 0.03, -0.002],
                           "ci_high": [0.03, 0.02, 0.01, 0.07, 0.01], "wald_p": [0.001, 0.03, 0.2, 1e-9, 0.1]},
                          index=["behaviour", "health", "education", ALL_DOMAINS, MISMATCH_ROW])
    txt = conclusions_text(shown, 1.2, fields, 0.05)
    assert ("by the smallest council not within 5 years; the median council with 3 years; the largest council with "
            "3 years; the pooled region with 1 year; England with 1 year.") in txt
    assert "One year of the median council's data detects only HR ≥ 1.50." in txt
    # Holm over 3 domains: 0.001 < 0.05/3 rejected; 0.03 > 0.05/2 stops
    assert "interval above zero: Behaviour." in txt and "the robust Wald test singles out Behaviour." in txt
    assert "Mismatch (the capability fields) adds 0.004 to the AUC (95% CI -0.002–0.010): its interval includes no gain." in txt
    # a larger reference effect reaches the median council in one year; no field table, no field bullet
    txt = conclusions_text(_shown_power({"1": 1.5}, {"1": 1.15}, {"1": 1.03}), 1.6)
    assert "the median council with 1 year" in txt and "**Fields**" not in txt
    assert conclusions_text(None, 1.2) == "No conclusions: the sections above did not run."


def test_false_positive_sentence_judges_the_rates_against_the_binomial_bound():
    from rcceval.analyses.proposal.text import false_positive_text

    idx = pd.MultiIndex.from_tuples([("median council, no effect", 1.0), ("median council, no effect", 2.0)],
                                    names=["setting", "years"])
    null = pd.DataFrame({"rejection_rate": [0.05, 0.06], "rejection_rate_naive": [0.12, 0.09]}, index=idx)
    txt = false_positive_text(null, 0.05, 200)     # bound 0.05 +- 3 sqrt(0.0475 / 200) = 0.4%-9.6%
    assert "5.0% (1 yr), 6.0% (2 yr)" in txt and "within 0.4%–9.6%" in txt
    assert "within the bound: the test holds its level." in txt
    assert "naive SEs) it would be 12.0%, 9.0%: above the bound with 1 year(s) of data: the test over-rejects." in txt
    over = false_positive_text(null.drop(columns="rejection_rate_naive").assign(rejection_rate=[0.11, 0.02]), 0.05, 200)
    assert "above the bound with 1 year(s)" in over and "naive" not in over
