"""CEAC, break-even, EVPI/EVPPI and the inner/outer split: hand-made cases and known analytic answers."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rcceval.analyses.costing import decision


def _expected_positive_part(mu: float, sd: float) -> float:
    """E[max(0, X)] for X ~ N(mu, sd^2)."""
    return sd * stats.norm.pdf(mu / sd) + mu * stats.norm.cdf(mu / sd)


def test_evpi_two_parameter_sets_by_hand():
    # value 10 a disruption averted: set A averts 2 for GBP 10 (INB 10), set B 0.6 for GBP 10 (INB -4)
    nb = decision.inb([10.0, 10.0], [2.0, 0.6], 10.0)
    np.testing.assert_allclose(nb, [10.0, -4.0])
    # E[max(0, INB)] = (10 + 0) / 2 = 5; max(0, E[INB]) = 3; EVPI = 2
    assert decision.evpi(nb) == pytest.approx(2.0, abs=1e-12)
    # three options: E[max] = (10 + 6) / 2 = 8, max of means = max(0, 3, 5.5) = 5.5
    assert decision.evpi(np.array([[0.0, 10.0, 5.0], [0.0, -4.0, 6.0]])) == pytest.approx(2.5, abs=1e-12)


def test_ceac_monotone_between_0_and_1_when_every_set_averts_disruptions():
    rng = np.random.default_rng(3)
    e = rng.gamma(4.0, 2.0, 500)                        # every set averts disruptions (e > 0)
    c = rng.normal(20_000, 15_000, 500)                  # some sets save money (c < 0)
    values = np.linspace(0, 20_000, 401)
    p = decision.ceac(c, e, values)
    assert np.all(np.diff(p) >= 0) and p.min() >= 0 and p.max() <= 1
    assert p[0] == pytest.approx(np.mean(c < 0))         # at value 0, worth it only where it saves money
    assert decision.ceac(c, e, 1e9)[0] == 1.0


def test_ceac_stays_a_probability_when_some_sets_add_disruptions():
    rng = np.random.default_rng(4)
    p = decision.ceac(rng.normal(1000, 500, 300), rng.normal(0.2, 1.0, 300), np.linspace(0, 1e4, 101))
    assert p.min() >= 0 and p.max() <= 1


def test_break_even_and_its_interval_by_hand():
    # 40 sets each averting 1 disruption at costs 1..40: break-even at the mean 20.5; the CEAC passes
    # 2.5% just above 1 (1 set of 40) and 97.5% just above 39 (39 sets of 40)
    c = np.arange(1.0, 41.0)
    be = decision.break_even(c, np.ones(40), level=0.95)
    assert be.value == pytest.approx(20.5)
    assert be.lower == pytest.approx(1.0) and be.upper == pytest.approx(39.0)
    # two more sets that cost more and add disruptions are never worth it: the CEAC tops out at
    # 40 / 42 = 95.2% and never reaches 97.5%; 2.5% of 42 sets needs 2 of them (1/42 = 2.4%)
    be2 = decision.break_even(np.append(c, [5.0, 5.0]), np.append(np.ones(40), [-1.0, -1.0]))
    assert be2.upper == float("inf") and be2.lower == pytest.approx(2.0)


def test_evppi_recovers_the_analytic_value_and_evpi_bounds_it():
    # INB = phi + eps, phi ~ N(1, 2^2) (the mismatch effect), eps ~ N(0, 3^2) (everything else)
    rng = np.random.default_rng(2014)
    n = 20_000
    phi = rng.normal(1.0, 2.0, n)
    y = phi + rng.normal(0.0, 3.0, n)
    want_evppi = _expected_positive_part(1.0, 2.0) - 1.0          # 0.3956...
    want_evpi = _expected_positive_part(1.0, np.sqrt(13.0)) - 1.0
    reg = decision.evppi_regression(y, phi)
    binned = decision.evppi_binned(y, phi, n_bins=50)
    total = decision.evpi(y)
    assert reg == pytest.approx(want_evppi, rel=0.1)
    assert binned == pytest.approx(want_evppi, rel=0.1)
    assert total == pytest.approx(want_evpi, rel=0.05)
    assert total >= reg >= 0 and total >= binned >= 0


@pytest.mark.parametrize("seed", range(5))
def test_evpi_at_least_evppi_at_least_zero(seed):
    rng = np.random.default_rng(seed)
    n = 400
    phi = rng.uniform(0, 1, n)
    y = rng.normal(0, 1) + 3 * (phi - 0.5) + rng.normal(0, rng.uniform(0.5, 3), n)
    total = decision.evpi(y)
    assert total >= decision.evppi_binned(y, phi) >= 0          # exact: Jensen within each bin
    assert total >= decision.evppi_regression(y, phi) >= 0


def test_evppi_of_an_irrelevant_parameter_is_near_zero():
    rng = np.random.default_rng(9)
    y = rng.normal(0.5, 2.0, 5000)
    noise = rng.random(5000)
    assert decision.evppi_regression(y, noise) < 0.05 * decision.evpi(y) + 0.02


def test_split_uncertainty_by_hand():
    s = decision.split_uncertainty([[1.0, 3.0], [5.0, 7.0]])
    # set means 2 and 6: between variance 8; within variance 2 in each set -> Monte Carlo 2 / 2 = 1
    assert s.mean == 4.0 and s.between_var == 8.0
    assert s.mc_var_of_set_mean == 1.0 and s.parameter_var == 7.0
    assert s.se_of_mean == 2.0 and s.mc_share == 0.125
    # Monte Carlo share <= 5%: n >= 2 * 0.95 / (0.05 * 7) = 5.43 -> 6 journeys per set
    assert s.inner_needed(0.05) == 6


def _simulate(theta: np.ndarray, n_inner: int, seed: int) -> np.ndarray:
    """A toy inner loop: each batch's result is its set's true value plus journey noise (sd 1)."""
    rng = np.random.default_rng(seed)
    return theta[:, None] + rng.normal(0.0, 1.0, (theta.size, n_inner))


def test_a_repeated_parameter_set_gives_monte_carlo_spread_only():
    repeated = decision.split_uncertainty(_simulate(np.full(200, 3.0), 50, seed=1))
    assert repeated.parameter_var < 0.01                         # true 0; the estimate's sd is about 0.002
    assert repeated.mc_share > 0.8
    assert repeated.mc_var_of_set_mean == pytest.approx(1 / 50, rel=0.05)
    varied = decision.split_uncertainty(_simulate(np.random.default_rng(2).normal(3.0, 2.0, 200), 50, seed=3))
    assert varied.parameter_var == pytest.approx(4.0, rel=0.25)
    assert varied.mc_share < 0.02


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="parameter set 1"):
        decision.ceac([1.0, np.nan], [1.0, 1.0], 10.0)
    with pytest.raises(ValueError, match="one length"):
        decision.break_even([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="shape"):
        decision.split_uncertainty([1.0, 2.0])


def test_evpi_curve_matches_evpi_at_each_value_by_hand():
    c, e = np.array([10.0, 10.0]), np.array([2.0, 0.6])
    # value 10: INB (10, -4) -> 2; value 0: INB (-10, -10) -> 0; value 100: INB (190, 50) -> 0
    np.testing.assert_allclose(decision.evpi_curve(c, e, [0.0, 10.0, 100.0]), [0.0, 2.0, 0.0], atol=1e-12)


def test_evppi_curve_by_bins_equals_evppi_of_the_inb_and_is_bounded():
    rng = np.random.default_rng(21)
    n = 3000
    phi = rng.normal(0.3, 0.1, n)                       # e.g. the mismatch log hazard ratio
    e = 5 * phi + rng.normal(0, 0.5, n)
    c = rng.normal(4000, 1500, n)
    values = np.array([2000.0, 2667.0, 4000.0])
    curve_b = decision.evppi_curve(c, e, phi, values, method="binned", n_bins=30)
    for v, got in zip(values, curve_b, strict=True):
        assert got == pytest.approx(decision.evppi_binned(v * e - c, phi, n_bins=30), rel=1e-10, abs=1e-9)
    curve_r = decision.evppi_curve(c, e, phi, values)
    total = decision.evpi_curve(c, e, values)
    assert np.all(total >= curve_b) and np.all(curve_b >= 0)
    assert np.all(total >= curve_r) and np.all(curve_r >= 0)


def test_population_value_discounted_by_hand():
    # 2.0 per decision, 100 decisions a year, 3 years at 3.5%: 200 * (1 + 1/1.035 + 1/1.035^2)
    assert decision.population_value(2.0, 100, 3) == pytest.approx(200 * 2.8996942752456303, rel=1e-14)
    assert decision.population_value(2.0, 100, 3, rate=0.0) == pytest.approx(600.0)


def test_ceac_counts_exactly_as_the_net_benefit_matrix_does():
    rng = np.random.default_rng(17)
    c = np.round(rng.normal(500, 800, 600))
    e = np.round(rng.normal(0.3, 0.5, 600), 1)               # ties, zeros and negatives included
    r = c[e != 0][:50] / e[e != 0][:50]
    # just either side of sets' own break-evens (exactly at one, v e - c is rounding noise either way)
    values = np.concatenate([np.linspace(0, 10_000, 501), r * (1 - 1e-9) - 1e-9, r * (1 + 1e-9) + 1e-9])
    brute = np.mean(values[:, None] * e[None, :] - c[None, :] > 0, axis=1)
    np.testing.assert_array_equal(decision.ceac(c, e, values), brute)
