"""Question 3's stated model and PSA on a small synthetic region through the real loader: the headline with
no mismatch effect averts nothing and with all of it is the break-even run's; discounting at 0% is no
discounting; an exponential tail is the constant tail; the bootstrap refits reproduce question 2's fit on
the full sample and vary between sets (baselines included); a parameter set repeated shows Monte Carlo
spread only; identical results whatever n_jobs; the CEAC is monotone and EVPI >= EVPPI >= 0."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rcceval.analyses.costing import text as q3text
from rcceval.analyses.costing.analysis import CareCosting, fitted_hazards
from rcceval.analyses.costing.decision import split_uncertainty
from rcceval.analyses.costing.hazard import CAUSES, from_fitted
from rcceval.analyses.costing.params import load_costing
from rcceval.analyses.costing.psa import bootstrap_counts, refit, refit_inputs, run_psa
from rcceval.analyses.costing.result import summarise
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec.instruments import load_instrument
from rcceval.synth import generate

ROOT = Path(__file__).resolve().parents[1]
INST = load_instrument(None)


@pytest.fixture(scope="module")
def q3(tmp_path_factory):
    out = tmp_path_factory.mktemp("q3psa")
    generate(out, scale="small", seed=7)
    reg = validate_region(read_region(out))
    placements = derive_placements(reg.c903, extract_date=reg.c903.extract_date)
    frame = analysis_frame(reg, placements, INST, FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    cp = load_costing(ROOT / "parameters" / "costing.yaml")
    cp = replace(cp, simulation=replace(cp.simulation, draws=8, break_even_draws=2),
                 psa=replace(cp.psa, outer=8, inner=3))
    hz = fitted_hazards(frame, INST, reg.c903.header)
    return CareCosting(cp, INST, seed=1).fit(frame, reg.tables["placement_agreements"], hazards=hz,
                                             header=reg.c903.header)


def test_headline_with_no_mismatch_effect_averts_nothing_and_with_all_of_it_is_the_point_run(q3):
    sh = q3.shrinkage.set_index("share")
    assert list(sh.index) == [0.0, 0.25, 0.5, 1.0]
    # common random numbers: with the effect of matching at 0 both scenarios' journeys are the same
    assert sh.loc[0.0, "moves_averted_per_100"] == 0 and sh.loc[0.0, "unplanned_moves_averted_per_100"] == 0
    assert sh.loc[1.0, "moves_averted_per_100"] == pytest.approx(100 * q3.break_even["moves_averted_per_child"],
                                                                  rel=1e-12)
    assert sh.loc[1.0, "moves_averted_per_100"] > sh.loc[0.5, "moves_averted_per_100"] > 0
    r = summarise(q3)
    t = q3text.causal(r)
    assert f"would avert about {sh.loc[1.0, 'moves_averted_per_100']:.0f} moves per 100 children" in t
    assert f"with 50% of it, about {sh.loc[0.5, 'moves_averted_per_100']:.0f} moves" in t
    assert f"E-value is {q3.evalue['evalue']:.2f}" in t


def test_discounting_at_zero_is_no_discounting_and_higher_rates_cost_less(q3):
    d = q3.discounting.set_index("discounting")
    assert list(d.index) == ["undiscounted", "3.5%", "0%", "1.5%"]
    for col in ("unit_cost_per_child", "needs_led_per_child", "difference_per_child"):
        assert d.loc["0%", col] == pytest.approx(d.loc["undiscounted", col], rel=1e-9)
    for s in ("unit_cost_per_child", "needs_led_per_child"):
        assert d.loc["undiscounted", s] > d.loc["1.5%", s] > d.loc["3.5%", s]
    # over 5 years the factor is at least 1/1.035^4: a floor on the discounted cost
    assert d.loc["3.5%", "unit_cost_per_child"] > d.loc["undiscounted", "unit_cost_per_child"] / 1.035 ** 4
    r = summarise(q3)
    t = q3text.time_and_money(r)
    assert "UNVERIFIED" in t and "unit.childrens_home × 1.042" in t
    assert q3text.money(d.loc["3.5%", "difference_per_child"]) in t


def test_tail_comparison_and_an_exponential_tail_is_the_constant_tail(q3):
    ts = q3.tail_sensitivity.set_index("tail")
    for col in ("moves_averted_per_100", "difference_per_child"):
        assert ts.loc["exponential", col] == pytest.approx(ts.loc["constant_tail", col], rel=1e-12)
    for c in CAUSES:
        t = q3.tail_tables[c]
        assert set(t.index) == {"exponential", "weibull", "lognormal", "gompertz", "constant_tail"}
        assert q3.tail_choice[c] in t.index and bool(t.loc[q3.tail_choice[c], "plausible"]) or \
            q3.tail_choice[c] == "constant_tail"


def test_bootstrap_refits_reproduce_the_full_fit_and_their_baselines_vary(q3):
    inputs = refit_inputs(q3)
    ones = np.ones(inputs.n_children, dtype=np.int64)
    same, ok = refit(inputs, ones, 2)
    assert ok == 3
    for c in CAUSES:                                  # the model rows and columns are question 2's
        full = q3.fitted_aggregates.causes[c]
        assert same.causes[c]["coef"] == pytest.approx(full["coef"], abs=1e-6)
        assert same.causes[c]["cumhaz"] == pytest.approx(full["cumhaz"], rel=1e-6, abs=1e-12)
    a, _ = refit(inputs, bootstrap_counts(q3.seed, 0, inputs.n_children), 2)
    b, _ = refit(inputs, bootstrap_counts(q3.seed, 1, inputs.n_children), 2)
    ha, hb = from_fitted(a), from_fitted(b)
    for c in CAUSES:
        assert not np.allclose(a.causes[c]["coef"], b.causes[c]["coef"])
        la = a.causes[c]["cumhaz"][:, -1]
        lb = b.causes[c]["cumhaz"][:, -1]
        assert np.all(la != lb)                                           # every council's baseline moves
        assert not np.allclose(ha.causes[c].tail_rate, hb.causes[c].tail_rate)   # and so do the tails


def test_a_parameter_set_repeated_gives_monte_carlo_spread_only(q3):
    rep = run_psa(q3, outer=16, n_jobs=1, repeat=q3.fitted_aggregates)
    boot = q3.psa_output
    for name in ("delta_cost", "delta_effect"):
        s = split_uncertainty(getattr(rep, name))
        # each set has its own random numbers: its mean moves, by Monte Carlo error alone
        assert np.ptp(getattr(rep, name).mean(axis=1)) > 0
        ratio = s.between_var / s.mc_var_of_set_mean
        assert 0.3 < ratio < 3.0, (name, ratio)          # F(15, 32): 99% of ratios in (0.35, 2.8)
    assert np.unique(rep.mismatch_log_hr).size == 1
    sb = split_uncertainty(boot.delta_effect)
    assert sb.between_var / sb.mc_var_of_set_mean > 3.0           # the bootstrap adds parameter uncertainty


def test_psa_is_identical_whatever_n_jobs(q3):
    one, two = run_psa(q3, outer=4, n_jobs=1), run_psa(q3, outer=4, n_jobs=2)
    for name in ("delta_cost", "delta_effect", "moves_averted", "mismatch_log_hr"):
        assert np.array_equal(getattr(one, name), getattr(two, name))
    assert np.array_equal(one.delta_cost, q3.psa_output.delta_cost[:4])    # a set is a function of (seed, set)


def test_ceac_is_monotone_and_evpi_is_at_least_evppi_at_least_zero(q3):
    c = q3.psa["curves"]
    assert (q3.psa_output.delta_effect.mean(axis=1) > 0).all()     # every set averts disruptions ...
    assert np.all(np.diff(c["ceac"].to_numpy()) >= 0)             # ... so the CEAC rises with the value
    assert c["ceac"].iloc[0] == 0 and 0 <= c["ceac"].iloc[-1] <= 1
    assert np.all(c["evpi"].to_numpy() >= c["evppi_mismatch"].to_numpy() - 1e-9)
    assert np.all(c["evppi_mismatch"].to_numpy() >= -1e-9)
    be = q3.psa["break_even"]
    dc, de = q3.psa_output.delta_cost.mean(axis=1), q3.psa_output.delta_effect.mean(axis=1)
    assert be["value"] == pytest.approx(dc.mean() / de.mean(), rel=1e-12)
    assert be["lower"] <= be["value"] <= be["upper"]
    t = q3text.psa(summarise(q3))
    assert f"above **{q3text.money(be['value'])}**" in t and "8 parameter sets" in t
