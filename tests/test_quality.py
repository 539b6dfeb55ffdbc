"""Question 0's result object: its tables and headlines, exact on a hand-made case, protected when published."""
import json

import pandas as pd

from rcceval.analyses.quality import QualityResult, location, text
from rcceval.reporting.publish import Publisher
from rcceval.reporting.results import Count, Share


def _result() -> QualityResult:
    stability = pd.DataFrame({
        "LA": ["A1", "A2", "ALL"], "year": [2025] * 3, "cla_31_march": [40, 60, 100], "n_3plus_year": [3, 9, 12],
        "pct_3plus_year": [7.5, 15.0, 12.0], "cla_two_years": [20, 30, 50], "n_3plus_two_years": [6, 6, 12],
        "pct_3plus_two_years": [30.0, 20.0, 24.0], "long_term_denominator": [10, 12, 22],
        "long_term_stable": [6, 8, 14], "pct_long_term_stable": [60.0, 66.66666, 63.63636]})
    coverage = pd.DataFrame({"LA": ["A1", "A2", "ALL"], "placements": [50, 70, 120], "with_assessment": [48, 68, 116],
                             "with_request": [2, 30, 32], "pct_with_assessment": [96.0, 97.1, 96.7],
                             "pct_with_request": [4.0, 42.9, 26.7]})
    cla = pd.DataFrame({2024: [38, 55], 2025: [40, 60]}, index=pd.Index(["A1", "A2"], name="LA"))
    mix = pd.DataFrame({"placement_type": ["Foster", "Other"], "children": [97, 3], "percent": [97.0, 3.0]})
    rules = pd.DataFrame(columns=["severity", "rule", "n", "fix"])
    where = pd.DataFrame([[5, 20, 0, 12, 3], [10, 30, 6, 4, 10]], index=["A1", "A2"],
                         columns=list(location.DFE_CATEGORIES.values()))
    region = pd.DataFrame([[0, 36, 4], [2, 50, 8]], index=["A1", "A2"],
                          columns=list(location.REGION_CATEGORIES.values()))
    return QualityResult(year=2025, n_files=7, problems={"fatal": 0, "fixable": 2, "warning": 1}, rules=rules,
                         cla=cla, mix=mix, stability=stability, coverage=coverage, location=where,
                         region_location=region, location_published=location.published_for(2025))


def test_headlines_are_counts_and_shares_of_the_all_row():
    h = _result().headlines()
    assert h["files_read"] == 7 and h["problems"] == {"fatal": 0, "fixable": 2, "warning": 1}
    assert h["children_looked_after_31_march"] == {"2024": Count(93), "2025": Count(100)}
    assert h["pct_3plus_placements_year"] == Share(12, 100)
    assert h["pct_long_term_stability"] == Share(14, 22)
    assert h["placements_in_window"] == Count(120)
    assert h["pct_placements_with_assessment"] == Share(116, 120)
    assert h["pct_placements_with_request"] == Share(32, 120)
    # new placements: outside the council 12+3+4+10 = 29 of the 100 - 15 with a known distance; outside
    # the region 4+8 = 12 of the 100 - 2 whose placement council is known
    assert h["pct_new_placements_outside_council"] == Share(29, 85)
    assert h["pct_new_placements_outside_region"] == Share(12, 98)


def test_tables_declared_once_with_their_counts():
    t = _result().tables()
    assert list(t) == ["cla_by_council_year", "placement_mix", "stability_measures", "coverage",  # no problems: none
                       "new_placement_location", "new_placement_region", "new_placement_location_england"]
    assert t["new_placement_location"].kind == t["new_placement_region"].kind == "crosstab"
    assert t["new_placement_location_england"].counts == ()          # the DfE's own published percentages
    # the two location tables count the same placements: each council's Total is declared equal in both
    rel = _result().relations()
    assert [(r.terms[0].where, r.terms[0].table, r.terms[1].table, r.terms[1].coef) for r in rel] == [
        ("A1", "new_placement_location", "new_placement_region", -1.0),
        ("A2", "new_placement_location", "new_placement_region", -1.0)]
    assert t["cla_by_council_year"].kind == "crosstab"
    assert t["placement_mix"].counts == ("children",) and t["placement_mix"].totals_shown
    assert t["coverage"].percent_of == {"pct_with_assessment": "with_assessment", "pct_with_request": "with_request"}
    assert t["stability_measures"].frame["pct_long_term_stable"].tolist() == [60.0, 66.7, 63.6]


def test_published_shares_are_protected(tmp_path):
    """A share whose complement is under the threshold is hidden in results.json: 116 of 120 leaves 4."""
    pub = Publisher(tmp_path, "00_data_quality")
    shown = pub.publish(_result())
    results = json.loads(pub.save().read_text())["results"]
    assert results["pct_placements_with_assessment"] == {"count": "c", "total": 120, "value": "c"}
    assert results["pct_placements_with_request"] == {"count": 32, "total": 120, "value": 0.2666666667}
    assert results["pct_3plus_placements_year"] == {"count": 12, "total": 100, "value": 0.12}
    assert shown["coverage"]["with_request"].tolist() == ["c", "c", 32]   # 2 hidden, so 30 too (ALL is shown)
    assert shown["coverage"]["pct_with_request"].tolist() == ["c", "c", 26.7]
    assert shown["placement_mix"]["children"].tolist() == ["c", "c"]       # 3 hidden, and 97 with it (total shown)
    assert text.percent(shown["pct_placements_with_assessment"]) == "c"
    assert text.percent(shown["pct_3plus_placements_year"]) == "12.0%"
    # A1 has 0 placements 20+ miles inside (shown: zeros are not suppressed by default) and 3 outside
    # 20+ miles (hidden, with a second cell of its row and column so neither is recovered from the margins)
    loc = shown["new_placement_location"]
    assert loc.loc["A1", location.DFE_CATEGORIES["outside_20_plus"]] == "c"
    assert (loc.loc["A1"] == "c").sum() >= 2 and (loc[location.DFE_CATEGORIES["outside_20_plus"]] == "c").sum() >= 2
