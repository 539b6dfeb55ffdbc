"""Numbers as statisticians write them: exact strings, worked out by hand."""
import math

import pytest

from rcceval.reporting import numbers as nb


@pytest.mark.parametrize("p, expected", [
    (0.0004, "p < 0.001"), (0.0, "p < 0.001"), (5.8e-09, "p < 0.001"), (0.00099, "p < 0.001"),
    (0.001, "p = 0.001"), (0.0427, "p = 0.043"), (0.2866, "p = 0.287"), (1.0, "p = 1.000"),
    (None, "p not available"), (math.nan, "p not available"),
])
def test_p_values_are_never_zero(p, expected):
    assert nb.p_value(p) == expected


@pytest.mark.parametrize("x, expected", [
    (12345.6, "12,346"), (33435, "33,435"), (1000.0, "1,000"), (999.4, "999"), (-2500.5, "-2,500"),
    (0.71234, "0.712"), (0.0551, "0.0551"), (2.5, "2.5"), (9.0, "9"), (41.237, "41.2"),
    (0.000012345, "0.0000123"), (0, "0"), ("c", "c"), (None, "not available"), (math.nan, "not available"),
])
def test_numbers_have_separators_and_three_significant_figures(x, expected):
    assert nb.number(x) == expected


@pytest.mark.parametrize("fn, x, expected", [
    (nb.money, 18584.8, "£18,585"), (nb.money, -1200.4, "-£1,200"), (nb.money, 45.5, "£46"), (nb.money, "c", "c"),
    (nb.days, 183, "183 days"), (nb.days, 1, "1 day"), (nb.days, 12.5, "12.5 days"), (nb.days, 1461, "1,461 days"),
    (nb.percent, 0.2512195122, "25.1%"), (nb.percent, 1, "100.0%"), (nb.percent, 0.0004, "<0.1%"),
    (nb.percent, 0, "0.0%"), (nb.signed, 0.0551, "+0.0551"), (nb.signed, -1.25, "-1.25"), (nb.signed, 0, "0"),
])
def test_units(fn, x, expected):
    assert fn(x) == expected


@pytest.mark.parametrize("args, kwargs, expected", [
    ((0.7689, 0.7631, 0.7742), {}, "0.769 (95% CI 0.763 to 0.774)"),
    ((1.2934, 1.19, 1.3912), {}, "1.29 (95% CI 1.19 to 1.39)"),
    ((1.5, 1.25, 1.75), {}, "1.50 (95% CI 1.25 to 1.75)"),
    ((18584.8, 8240.8, 29936.2, 0.9), {}, "18,585 (90% CI 8,241 to 29,936)"),
    ((0.0551, 0.0515, 0.0582), {}, "0.0551 (95% CI 0.0515 to 0.0582)"),
    ((0.012, -0.0031, 0.027), {}, "0.012 (95% CI -0.003 to 0.027)"),
    ((-0.0012, -0.0043, 0.0021), {}, "-0.0012 (95% CI -0.0043 to 0.0021)"),
    ((96.0, 87.0, 109.0), {}, "96 (95% CI 87 to 109)"),
    ((0.75, 0.7499, 0.7501), {}, "0.75000 (95% CI 0.74990 to 0.75010)"),
    ((2.0, 2.0, 2.0), {}, "2.00 (95% CI 2.00 to 2.00)"),
    ((18584.8, 8240.8, 29936.2), {"fmt": nb.money}, "£18,585 (95% CI £8,241 to £29,936)"),
    ((0.25, 0.2, 0.31), {"fmt": nb.percent}, "25.0% (95% CI 20.0% to 31.0%)"),
    ((0.5, None, None), {}, "0.5"),
    (("c", 1, 2), {}, "c"),
])
def test_estimates_with_intervals_lower_to_upper(args, kwargs, expected):
    assert nb.estimate(*args, **kwargs) == expected


def test_differences_carry_their_sign():
    assert nb.difference(0.0552, 0.0519, 0.0585) == "+0.0552, 95% CI 0.0519 to 0.0585"
    assert nb.difference(-0.0012, -0.0043, 0.0021, 0.9) == "-0.0012, 90% CI -0.0043 to 0.0021"
    assert nb.difference(0.5) == "+0.5"


def test_intervals_alone():
    assert nb.interval(0.0515, 0.0582) == "0.0515 to 0.0582"
    assert nb.interval(8240.8, 29936.2, nb.money) == "£8,241 to £29,936"
    assert nb.interval(None, 2) == "interval not available"


def test_suppressed_cells_are_explained_where_they_appear():
    assert nb.suppressed(5) == "c (suppressed: fewer than 5)"
    assert nb.explain(nb.number("c"), 10) == "c (suppressed: fewer than 10)"
    assert nb.explain(nb.number(12), 10) == "12"
