"""Question 3's number formatting (hidden profiles are tested in test_q2q3_results)."""
from __future__ import annotations

from rcceval.analyses.costing import text


def test_money_and_intervals():
    assert text.money(-1234.4) == "−£1,234" and text.money(None) == "–" and text.pct(0.256) == "26%"
    assert text.interval({"mean": 10, "lower": -5, "upper": 20.5}) == "£10 (−£5 to £20)"
