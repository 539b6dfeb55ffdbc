"""Question 5's result: headlines exact on hand-made aggregates, and the publisher rules it relies on
(a column hidden with another table's cell; a headline that is a published cell)."""
import json

import pandas as pd

from rcceval.analyses.sufficiency import gap as sg
from rcceval.analyses.sufficiency.forecast import Backtest, Forecast
from rcceval.analyses.sufficiency.needs import NeedsByAge, StablePlacementResult
from rcceval.analyses.sufficiency.result import SufficiencyResult
from rcceval.reporting.publish import Publisher
from rcceval.reporting.results import Cell, Estimate, Follows, Result, Share, Table
from rcceval.reporting.results import Test as TestResult


class _Gap(Result):
    """Children in scope by council x profile, and places able to meet each group."""

    def tables(self):
        children = pd.DataFrame({"A": [3, 20], "B": [10, 12]}, index=["X", "Y"])
        cells = pd.DataFrame({"AREA": ["X", "X", "Y", "Y", "Region", "X"], "PROFILE": ["a", "b", "a", "b", "all", "all"],
                              "shortfall": [0, 6, 7, 8, 21, 6], "places_able": [11, 12, 13, 14, 50, 23]})
        follows = Follows("children", row="AREA", column="PROFILE", hide=("places_able",),
                          labels={"Region": "Total", "all": "Total", "a": "A", "b": "B"})
        return {"children": Table(children, kind="crosstab"),
                "cells": Table(cells, counts=("shortfall",), follows=follows)}

    def headlines(self):
        return {"x_b": Cell(6, "cells", {"AREA": "X", "PROFILE": "b"}, "shortfall"),
                "all_a": Cell(23, "children", "Total", "A"), "x_a": Cell(3, "children", "X", "A")}


def test_places_able_are_hidden_with_their_group_and_headline_cells_are_the_published_ones(tmp_path):
    pub = Publisher(tmp_path, "05_sufficiency_gap")
    shown = pub.publish(_Gap())
    # X/A = 3 is hidden, so X/B (the other in its row) and Y/A (in its column) are, and then Y/B (column B)
    assert shown["children"].to_dict("list") == {"A": ["c", "c", 23], "B": ["c", "c", 22], "Total": [13, 32, 45]}
    # places able follow their group's cell: X and Y by profile hidden, X (all profiles) and the region shown
    assert shown["cells"]["places_able"].tolist() == ["c", "c", "c", "c", 50, 23]
    assert shown["cells"]["shortfall"].tolist() == [0, 6, 7, 8, 21, 6]
    results = json.loads(pub.save().read_text())["results"]
    assert results == {"x_b": 6, "all_a": 23, "x_a": "c"}
    assert _Gap().to_dict() == {"x_b": 6, "all_a": 23, "x_a": 3}          # unprotected, for tests only


def _result() -> SufficiencyResult:
    by_council = pd.DataFrame({"straightforward": [4, 6], "complex_chronic": [10, 0], "extensive_enduring": [5, 5],
                               "not_assessed": [1, 2]}, index=["S1", "S2"])
    cells = pd.DataFrame([{"REACH": r, "PROFILE": p, "AREA": a, "children": 9, "placeable": 9 - s, "shortfall": s,
                           "places_able": 30}
                          for r in sg.REACHES for p, a, s in [("straightforward", "S1", 1), ("straightforward", "S2", 2),
                                                              ("straightforward", sg.REGION, 3), (sg.ALL, sg.REGION, 3)]])
    rules = pd.DataFrame([{"REACH": r, "rule": rule, "children": 9, "shortfall": v}
                          for r in sg.REACHES for rule, v in zip(sg.RULES, (1, 3, 5))])
    gap = sg.GapResult(children=by_council, cells=cells, excluded=pd.DataFrame(columns=["reason", "children"]),
                       rules=rules)
    local = sg.LocalResult(None, pd.DataFrame({"market": ["foster", "registered"], "profile": [sg.ALL, sg.ALL],
                                               "children": [40, 9], "in_nearest": [10, 3], "met_locally": [20, 8]}),
                           None)
    model = pd.DataFrame({"estimate": [0.0108], "ci_low": [-0.013], "ci_high": [0.0346], "p_value": [0.37341]},
                         index=pd.Index(["STABLE"], name="term"))
    fc = Forecast(2025, pd.DataFrame({"PROFILE": ["all"], "horizon": [1], "YEAR": [2026], "estimate": [444.6],
                                      "low": [410.2], "high": [485.4]}), None, None, None,
                  pd.DataFrame({"test": ["F"], "statistic": [4.12341], "p_value": [0.04321], "trend_used": [True]}),
                  None)
    bt = Backtest(None, pd.DataFrame({"horizon": [1], "origins": [5], "mape_total": [7.162], "mape_age_bands": [9.004],
                                      "mape_placement_types": [8.5], "mape_profiles": [10.731], "coverage": [0.875]}))
    fields = dict.fromkeys(SufficiencyResult.__dataclass_fields__)
    return SufficiencyResult(**fields | {
        "profile_by_council": by_council, "need_level": NeedsByAge(None, [7, 11], 100),
        "stable": StablePlacementResult(None, model, 50, 40, 0.89012), "gap": gap, "local": local, "forecast": fc,
        "backtest": bt})


def test_headlines_exact():
    h = _result().headlines()
    assert h["children_by_profile_now"] == {
        "straightforward": Cell(10, "profile_by_council", "Total", "Straightforward"),
        "complex_chronic": Cell(10, "profile_by_council", "Total", "Complex or co-occurring"),
        "extensive_enduring": Cell(10, "profile_by_council", "Total", "Extensive and enduring"),
        "not_assessed": Cell(3, "profile_by_council", "Total", "Not assessed"),
        "all": Cell(33, "profile_by_council", "Total", "Total")}
    assert h["need_level_peak_ages"] == [7, 11]
    assert h["stable_placement_difference"] == Estimate(0.0108, -0.013, 0.0346)
    assert h["stable_placement_test"] == TestResult(0.8901, None, 0.3734, "Wald z, SE clustered by child")
    assert h["region_shortfall_at_least_all_profiles"]["council"] == Cell(
        3, "gap_shortfall", {"REACH": "council", "PROFILE": sg.ALL, "AREA": sg.REGION}, "shortfall")
    assert h["shortfall_at_least_by_profile_area"]["anywhere"]["straightforward"]["S2"].value == 2
    assert h["shortfall_bound"] == "lower"
    assert h["region_shortfall_at_least_by_rule"]["within_20_miles"] == {
        rule: Cell(v, "gap_rules", {"REACH": "within_20_miles", "rule": rule}, "shortfall")
        for rule, v in zip(sg.RULES, (1, 3, 5))}
    assert h["pct_in_nearest_suitable"] == {"foster": Share(10, 40), "registered": Share(3, 9)}
    assert h["pct_placed_locally_needs_met"] == {"foster": Share(20, 40), "registered": Share(8, 9)}
    assert h["forecast_demand"] == {"all": {"2026": Estimate(445.0, 410.0, 485.0)}}
    assert h["forecast_entry_trend"] == TestResult(4.1234, None, 0.0432, "trend in entries, F: used")
    assert h["backtest"] == {"h1": {"origins": 5, "mape_total": 7.16, "mape_age_bands": 9.0,
                                    "mape_placement_types": 8.5, "mape_profiles": 10.73, "coverage": 0.875}}
