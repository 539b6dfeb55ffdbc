"""E-values against VanderWeele & Ding (2017) and hand-checked cases."""
from __future__ import annotations

import math

import pytest

from rcceval.stats.evalue import evalue_hr, evalue_rr, hr_to_rr


def test_published_breastfeeding_example():
    # VanderWeele & Ding (2017), Ann Intern Med 167:268: RR 3.9 (95% CI 1.8 to 8.7) -> E-values 7.26 and 3.0
    e = evalue_hr(3.9, 1.8, 8.7, rare_outcome=True)
    assert round(e.evalue_estimate, 2) == 7.26
    assert e.evalue_limit == pytest.approx(3.0, abs=1e-12)      # 1.8 + sqrt(1.8 * 0.8) = 1.8 + 1.2
    assert e.limit_used == 1.8


def test_formula_by_hand():
    assert evalue_rr(2.0) == pytest.approx(2 + math.sqrt(2), rel=1e-15)         # 3.414...
    assert evalue_rr(1.0) == 1.0
    assert evalue_rr(0.5) == evalue_rr(2.0)                                       # protective: 1 / RR first


def test_common_outcome_square_root_transform_by_hand():
    # HR 4: (1 - 0.5^2) / (1 - 0.5^0.5) = 0.75 / 0.29289321881345254 = 2.5606601717798214
    assert hr_to_rr(4.0, rare_outcome=False) == pytest.approx(2.5606601717798214, rel=1e-14)
    e = evalue_hr(4.0, 2.0, 8.0, rare_outcome=False)
    rr = 2.5606601717798214
    assert e.evalue_estimate == pytest.approx(rr + math.sqrt(rr * (rr - 1)), rel=1e-14)
    # the common-outcome transform is milder than treating the HR as a risk ratio
    assert e.evalue_estimate < evalue_rr(4.0)
    # HR 0.25 mirrors HR 4 on the transformed scale
    assert hr_to_rr(0.25, rare_outcome=False) == pytest.approx(1 / 2.5606601717798214, rel=1e-14)


def test_limit_closest_to_one_and_interval_holding_one():
    protective = evalue_hr(0.6, 0.4, 0.9, rare_outcome=True)
    assert protective.limit_used == 0.9
    assert protective.evalue_limit == pytest.approx(1 / 0.9 + math.sqrt(1 / 0.9 * (1 / 0.9 - 1)), rel=1e-14)
    null = evalue_hr(1.3, 0.9, 1.8)
    assert null.limit_used is None and null.evalue_limit == 1.0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="does not hold"):
        evalue_hr(2.0, 2.5, 3.0)
    with pytest.raises(ValueError, match="hazard ratio"):
        evalue_hr(-1.0, 0.5, 2.0)


def test_from_a_cox_coefficient():
    from rcceval.stats.evalue import evalue_from_log_hr

    # coef log(3.9), se chosen so the Wald lower limit is 1.8: (log 3.9 - log 1.8) / 1.959963984540054
    se = (math.log(3.9) - math.log(1.8)) / 1.959963984540054
    e = evalue_from_log_hr(math.log(3.9), se, rare_outcome=True)
    assert round(e.evalue_estimate, 2) == 7.26
    assert e.lower == pytest.approx(1.8, rel=1e-12) and e.evalue_limit == pytest.approx(3.0, rel=1e-12)
    with pytest.raises(ValueError, match="standard error"):
        evalue_from_log_hr(0.5, 0.0)
