"""Question 3's number formatting (hidden profiles are tested in test_q2q3_results)."""
from __future__ import annotations

from rcceval.analyses.costing import text


def test_money_and_intervals():
    assert text.money(-1234.4) == "−£1,234" and text.money(None) == "–" and text.pct(0.256) == "26%"
    assert text.interval({"mean": 10, "lower": -5, "upper": 20.5}) == "£10 (−£5 to £20)"


def _hand_result():
    from types import SimpleNamespace

    import pandas as pd

    sim = SimpleNamespace(horizon_years=5.0, capacity=0.8, draws=10, hazard_source="fitted")
    shrink = pd.DataFrame({"share": [0.0, 0.5, 1.0], "moves_averted_per_100": [0.0, 12.4, 30.6],
                           "unplanned_moves_averted_per_100": [0.0, 10.0, 25.0],
                           "difference_per_child": [5.0, 4.0, 3.0], "difference_per_child_year": [900.0, 850.5, 800.0]})
    ev = {"available": True, "hr": 1.5, "lower": 1.2, "upper": 1.875, "rr": 1.3, "evalue": 1.9237, "limit_used": 1.2,
          "evalue_limit": 1.5012, "rare_outcome": False, "level": 0.95}
    disc = pd.DataFrame([{"discounting": k, "rate": r, "unit_cost_per_child": u, "needs_led_per_child": u + d,
                          "difference_per_child": d, "difference_per_child_lower": d - 100,
                          "difference_per_child_upper": d + 100, "unit_cost_per_child_lower": 0,
                          "unit_cost_per_child_upper": 0, "needs_led_per_child_lower": 0, "needs_led_per_child_upper": 0}
                         for k, r, u, d in (("undiscounted", None, 1000.0, 500.0), ("3.5%", 0.035, 900.0, 450.0),
                                            ("0%", 0.0, 1000.0, 500.0), ("1.5%", 0.015, 950.0, 475.0))])
    up = pd.DataFrame({"figure": ["unit.a", "unit.b"], "factor": [1.042, 1.0], "low_factor": [1.2146, 1.0],
                       "high_factor": [1.042, 1.0], "low_price_year": ["2019-20", "2024-25"], "range_adjusted": ["", ""]})
    curves = pd.DataFrame({"value": [0.0, 50_000.0, 100_000.0], "ceac": [0.0, 0.4, 0.9], "evpi": [0.0, 2500.0, 300.0],
                           "evppi_mismatch": [0.0, 1200.0, 100.0]})
    psa = {"outer": 200, "inner": 10, "delta_cost_per_child": {"mean": 40_000.0, "lower": 30_000.0, "upper": 52_000.0},
           "disruptions_averted_per_100": {"mean": 58.6, "lower": 44.0, "upper": 75.0},
           "uncertainty": {"delta_cost": {"mc_sd_of_set_mean": 1200.0, "parameter_sd": 9000.0, "mc_share": 0.0175,
                                          "inner_needed_for_5pct": 4}},
           "break_even": {"value": 68_000.0, "lower": 45_000.0, "upper": float("inf"), "level": 0.95}}
    return SimpleNamespace(simulation=sim, shrinkage=shrink, evalue=ev, discounting=disc, uprating=up,
                           time_and_money={"discount_rate": 0.035, "target_price_year": "2024-25", "tail": "auto",
                                           "tail_criterion": "window_aic"},
                           deflator={"series": "GDP deflator", "status": "UNVERIFIED: reconstructed", "source": "HMT"},
                           psa=psa, psa_curves=curves)


def test_stated_model_sentences_carry_their_numbers():
    r = _hand_result()
    t = text.causal(r)
    assert "over 5 years" in t and "with 80% of placements matchable" in t and "no unmeasured confounding" in t
    assert "per point of mismatch is 1.50 (1.20 to 1.88); on the risk-ratio scale (a common outcome) 1.30" in t
    assert "**E-value is 1.92**" in t and "closest to 1 the E-value is 1.50" in t
    assert "**would avert about 31 moves per 100 children** over the horizon if the mismatch effect is causal" in t
    assert "with 50% of it, about 12 moves per 100 children and £850 per child-year" in t       # 850.5 rounds to even
    assert "with none of it, about 0 moves" in t
    t = text.time_and_money(r)
    assert "costs **£450 (£350 to £550)** more per child" in t and "undiscounted £500; at 1.5% £475." in t
    assert "1 of 2 figures are uprated to 2024-25" in t and "unit.a × 1.042, its low end (from 2019-20) × 1.215" in t
    assert "**Deflator status: UNVERIFIED: reconstructed**" in t
    t = text.psa(r)
    assert "(200 parameter sets" in t and "costs £40,000 (£30,000 to £52,000) more per child" in t
    assert "averts 59 (44 to 75) disruptions per 100 children" in t
    assert "is £1,200 against a parameter spread of £9,000 (2% of the variance between sets; 4 journeys" in t
    assert "above **£68,000** (95% interval £45,000 to no finite upper limit)" in t
    assert "At £100,000 per disruption averted the probability that needs-led is worth it is 90%" in t
    assert "peaks at £2,500 per child (at £50,000 a disruption); of perfect information on the mismatch effect " \
           "alone (EVPPI), £1,200 there" in t
