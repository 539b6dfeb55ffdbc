"""Question 0's result object: its tables and headlines, exact on a hand-made case, protected when published."""
import json

import pandas as pd

from rcceval.analyses.quality import QualityResult, text
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
    return QualityResult(year=2025, n_files=7, problems={"fatal": 0, "fixable": 2, "warning": 1}, rules=rules,
                         cla=cla, mix=mix, stability=stability, coverage=coverage)


def test_headlines_are_counts_and_shares_of_the_all_row():
    h = _result().headlines()
    assert h["files_read"] == 7 and h["problems"] == {"fatal": 0, "fixable": 2, "warning": 1}
    assert h["children_looked_after_31_march"] == {"2024": Count(93), "2025": Count(100)}
    assert h["pct_3plus_placements_year"] == Share(12, 100)
    assert h["pct_long_term_stability"] == Share(14, 22)
    assert h["placements_in_window"] == Count(120)
    assert h["pct_placements_with_assessment"] == Share(116, 120)
    assert h["pct_placements_with_request"] == Share(32, 120)


def test_tables_declared_once_with_their_counts():
    t = _result().tables()
    assert list(t) == ["cla_by_council_year", "placement_mix", "stability_measures", "coverage"]  # no problems: none
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
