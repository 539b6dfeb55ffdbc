"""Discounting and uprating of question 3's costs, checked by hand on small cases."""
from __future__ import annotations

import numpy as np
import pytest

from rcceval.analyses.costing import money
from rcceval.errors import ParameterError

Y = 365.25


def test_green_book_rates():
    assert money.GREEN_BOOK_RATE == 0.035
    assert money.SENSITIVITY_RATES == (0.0, 0.015)


def test_discount_factor_by_whole_year():
    # day 0 and day 365 are in year 0 (undiscounted); day 365.25 opens year 1; day 800 is in year 2
    f = money.discount_factor(np.array([0.0, 365.0, 365.25, 800.0]), 0.035)
    np.testing.assert_allclose(f, [1.0, 1.0, 1 / 1.035, 1 / 1.035 ** 2], rtol=1e-15)


def test_spell_inside_the_first_year_is_not_discounted():
    # 100 days at GBP 700 a week = 100 a day
    assert money.discounted_spell_cost(10, 110, 700, 0.035) == pytest.approx(10_000.0, rel=1e-14)


def test_spell_across_a_year_boundary():
    # [100, 500): 265.25 days in year 0, 134.75 days in year 1 at 1/1.035
    # 100 * (265.25 + 134.75 / 1.035) = 26525 + 13019.32367149758 = 39544.32367149758
    got = money.discounted_spell_cost(100, 500, 700, 0.035)
    assert got == pytest.approx(39544.32367149758, rel=1e-12)


def test_three_full_years_match_the_annual_green_book_sum():
    # a GBP 1,000 a year stream for years 0, 1, 2: 1000 * (1 + 1/1.035 + 1/1.035^2) = 2899.694...
    daily = 1000.0 / Y
    got = money.discounted_days(0, 3 * Y, 0.035) * daily
    assert got == pytest.approx(1000 + 1000 / 1.035 + 1000 / 1.071225, rel=1e-12)
    assert got == pytest.approx(2899.6942752456303, rel=1e-12)


def test_zero_rate_is_plain_days_and_vectorised():
    s = np.array([0.0, 50.0, 400.0])
    e = np.array([10.0, 1000.0, 400.0])
    np.testing.assert_allclose(money.discounted_days(s, e, 0.0), [10.0, 950.0, 0.0])
    # 1.5%: the spell [50, 1000) has 315.25 days in year 0, 365.25 in year 1, 269.5 in year 2
    want = 315.25 + 365.25 / 1.015 + 269.5 / 1.015 ** 2
    assert money.discounted_days(50, 1000, 0.015) == pytest.approx(want, rel=1e-12)


def test_one_off_cost_takes_its_years_factor():
    got = money.discounted_one_off(np.array([30.0, 400.0, 1100.0]), 2500, 0.035)
    # day 1100 is in year 3 (3 * 365.25 = 1095.75): 2500 / 1.035^3
    np.testing.assert_allclose(got, [2500.0, 2415.458937198068, 2254.856764170056], rtol=1e-12)


def test_bad_spells_and_rates_are_named():
    with pytest.raises(ValueError, match="spell 1"):
        money.discounted_days(np.array([0.0, 10.0]), np.array([5.0, 2.0]))
    with pytest.raises(ParameterError, match="discount_rate"):
        money.discount_factor(1.0, 3.5)


def test_uprating_hand_checked():
    d = money.gdp_deflator()
    assert d.base_year == "2023-24" and d.index["2023-24"] == 100.0
    u = money.uprate(820, "2019-20", "2024-25", d)
    factor = d.index["2024-25"] / d.index["2019-20"]
    assert u.factor == pytest.approx(factor, rel=1e-15)
    assert u.value == pytest.approx(820 * factor, rel=1e-15)
    # with the packaged index: 104.2 / 85.8 = 1.214452214..., 820 * that = 995.8508158...
    assert u.factor == pytest.approx(1.2144522144522145, rel=1e-12)
    assert u.value == pytest.approx(995.8508158508159, rel=1e-12)
    assert money.uprate(560, "2024-25", "2024-25", d).factor == 1.0


def test_uprating_table_shows_each_figure_beside_its_conversion(tmp_path):
    f = tmp_path / "defl.yaml"
    f.write_text(
        "series: test\nsource: hand-made\npublication_date: '2025-01-01'\nstatus: test\nbase_year: '2023-24'\n"
        "index: {'2019-20': 80.0, '2023-24': 100.0, '2024-25': 104.0}\n")
    d = money.gdp_deflator(str(f))
    t = money.uprating_table({"childrens_home": (6106.0, "2023-24"), "cma_low": (3830.0, "2019-20"),
                              "in_house": (560.0, "2024-25")}, "2024-25", d)
    assert list(t["figure"]) == ["childrens_home", "cma_low", "in_house"]
    np.testing.assert_allclose(t["factor"], [1.04, 1.3, 1.0], rtol=1e-14)
    np.testing.assert_allclose(t["uprated"], [6350.24, 4979.0, 560.0], rtol=1e-13)
    assert list(t["price_year"]) == ["2023-24", "2019-20", "2024-25"]
    assert t.attrs["deflator"]["source"] == "hand-made"


def test_unknown_or_malformed_price_year_names_the_value():
    d = money.gdp_deflator()
    with pytest.raises(ParameterError, match="'2009-10'.*series covers 2015-16 to 2024-25"):
        money.uprate(100, "2009-10", "2024-25", d)
    with pytest.raises(ParameterError, match="'2019-21'"):
        money.uprate(100, "2019-21", "2024-25", d)


def test_deflator_file_must_be_based_at_100(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("series: s\nsource: s\npublication_date: d\nstatus: s\nbase_year: '2023-24'\n"
                 "index: {'2023-24': 99.0}\n")
    with pytest.raises(ParameterError, match="base_year"):
        money.gdp_deflator(str(f))


def test_discount_sensitivity_of_a_small_journey_by_hand():
    # one placement at GBP 700 a week (100 a day) for days [0, 730.5) and one move costing 2500 on day 400
    out = money.discount_sensitivity([0.0], [2 * Y], [700.0], [400.0], [2500.0])
    assert list(out) == [0.035, 0.0, 0.015]
    assert out[0.0] == pytest.approx(73050.0 + 2500.0, rel=1e-14)
    assert out[0.035] == pytest.approx(36525.0 * (1 + 1 / 1.035) + 2500 / 1.035, rel=1e-13)
    assert out[0.015] == pytest.approx(36525.0 * (1 + 1 / 1.015) + 2500 / 1.015, rel=1e-13)
    assert out[0.035] < out[0.015] < out[0.0]


def test_costing_yaml_figures_in_one_price_year():
    from rcceval.analyses.costing.params import Figure

    prices = {"unit.childrens_home": Figure(6100, 3830, 7500, "NAO", "2023-24"),
              "unit.in_house_foster": Figure(560, 450, 700, "ASSUMPTION", "2024-25"),
              "staffing_scale": Figure(1.0, 0.75, 1.5, "ASSUMPTION", "2024-25")}
    d = money.gdp_deflator()
    t = money.uprate_prices(prices, "2024-25", d).set_index("figure")
    f = 104.2 / 100.0
    assert t.loc["unit.childrens_home", "factor"] == pytest.approx(f, rel=1e-14)
    np.testing.assert_allclose(t.loc["unit.childrens_home", ["uprated_value", "uprated_low", "uprated_high"]]
                               .astype(float), [6356.2, 3990.86, 7815.0], rtol=1e-12)
    assert t.loc["unit.in_house_foster", "uprated_value"] == 560.0
    assert t.loc["staffing_scale", "factor"] == 1.0                   # a multiplier, not a price
    assert t.attrs["deflator"]["status"].startswith("UNVERIFIED")


def test_a_bound_from_another_price_year_gets_its_own_factor():
    from dataclasses import dataclass

    @dataclass
    class Mixed:                       # NAO 2023-24 value, CMA 2019-20 low end
        value: float = 6106.0
        low: float = 3830.0
        high: float = 7500.0
        price_year: str = "2023-24"
        low_price_year: str = "2019-20"

    t = money.uprate_prices({"unit.childrens_home": Mixed()}, "2024-25").iloc[0]
    assert t["factor"] == pytest.approx(1.042, rel=1e-14) and t["high_factor"] == pytest.approx(1.042, rel=1e-14)
    assert t["low_price_year"] == "2019-20"
    assert t["low_factor"] == pytest.approx(104.2 / 85.8, rel=1e-14)
    assert t["uprated_low"] == pytest.approx(3830 * 104.2 / 85.8, rel=1e-14)    # 4651.3986...
