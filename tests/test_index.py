"""index.html renders each headline by its type in the results contract, read from results.json."""
import json
from pathlib import Path

import pytest

from rcceval.params import Parameters
from rcceval.reporting import answers
from rcceval.reporting.answers import Question
from rcceval.reporting.index import (
    kind,
    notebook_section,
    render,
    results_rows,
    write_index,
)
from rcceval.reporting.publish import Publisher
from rcceval.reporting.results import Count, Estimate, Result, Share
from rcceval.reporting.results import Test as TestResult
from rcceval.reporting.runner import NotebookRun, RunOutcome

# results.json content as serialise() writes it (by hand, so the test reads the file's spelling)
RESULTS = {
    "hazard_ratio": {"value": 1.2934, "lower": 1.19, "upper": 1.3912, "level": 0.95},
    "mean_cost": {"value": 18584.8, "lower": 8240.8, "upper": 29936.2, "level": 0.9},
    "lr_test": {"statistic": 41.237, "df": 3.0, "p": 5.8e-09, "method": "likelihood ratio"},
    "wald": {"statistic": 2.5, "df": 2, "p": 0.2866, "method": "robust Wald"},
    "z": {"statistic": -1.8, "df": None, "p": 0.0719, "method": ""},
    "pct_with_assessment": {"count": 412, "total": 1640, "value": 0.2512195122},
    "pct_hidden": {"count": "c", "total": 120, "value": "c"},
    "pct_all_hidden": {"count": "c", "total": "c", "value": "c"},
    "placements": 33435,
    "small_council": "c",
    "auc": 0.71234,
    "by_reach": {"council": 12, "region": "c", "anywhere": 0},
    "nested": {"a": {"b": {"c": 1}}},
    "list": [1, 2],
}


@pytest.mark.parametrize("key, expected", [
    ("hazard_ratio", "1.29 (95% CI 1.19 to 1.39)"),
    ("mean_cost", "18,585 (90% CI 8,241 to 29,936)"),
    ("lr_test", "likelihood ratio: 41.2 on 3 df, p < 0.001"),
    ("wald", "robust Wald: 2.5 on 2 df, p = 0.287"),
    ("z", "-1.8, p = 0.072"),
    ("pct_with_assessment", "25.1% (412 of 1,640)"),
    ("pct_hidden", "c of 120 (suppressed: the count or the rest is fewer than 5)"),
    ("pct_all_hidden", "c (suppressed: fewer than 5)"),
    ("placements", "33,435"),
    ("small_council", "c (suppressed: fewer than 5)"),
    ("auc", "0.712"),
    ("by_reach", "council: 12; region: c (suppressed: fewer than 5); anywhere: 0"),
])
def test_each_type_renders_one_way(key, expected):
    assert render(RESULTS[key]) == expected


def test_nested_tables_and_lists_are_left_to_results_json():
    assert render(RESULTS["nested"]) is None and render(RESULTS["list"]) is None
    assert kind(RESULTS["nested"]) == "other"


def test_p_is_never_zero():
    assert render({"statistic": 500.0, "df": 1, "p": 0.0, "method": "log-rank"}) == "log-rank: 500 on 1 df, p < 0.001"
    assert render({"statistic": 3.9, "df": 1, "p": 0.001, "method": "log-rank"}) == "log-rank: 3.9 on 1 df, p = 0.001"


def test_the_threshold_is_the_run_s():
    assert render("c", threshold=10) == "c (suppressed: fewer than 10)"


def test_an_estimate_without_interval_is_its_value():
    assert render({"value": 0.5, "lower": None, "upper": None, "level": 0.95}) == "0.5"


def test_old_spellings_are_not_guessed_as_estimates():
    assert render({"estimate": 0.0551, "ci_low": 0.0515, "ci_high": 0.0582}) == \
        "estimate: 0.0551; ci_low: 0.0515; ci_high: 0.0582"


def test_rows_put_estimates_then_tests_then_shares_first():
    rows = results_rows(RESULTS)
    cells = [r.split("<td>")[1].split("</td>")[0] for r in rows.split("<tr>")[1:]]
    assert cells == ["hazard_ratio", "mean_cost", "lr_test", "wald", "z", "pct_all_hidden", "pct_hidden",
                     "pct_with_assessment", "by_reach", "auc", "placements", "small_council"]
    assert "<tr><td>lr_test</td><td>likelihood ratio: 41.2 on 3 df, p &lt; 0.001</td></tr>" in rows


class _Example(Result):
    def headlines(self):
        return {"hr": Estimate(1.5, 1.25, 1.75), "test": TestResult(9.0, 1, 0.0027, "log-rank"),
                "share": Share(3, 40), "children": Count(2), "in_care": Count(120)}


EXAMPLE = Question("Question 9: an example?", "question 9", None,
                   {"hr": "Hazard ratio", "test": "Log-rank test", "share": "Share placed", "children": "Children",
                    "in_care": "Children in care"})


def test_published_results_json_renders_in_index(tmp_path: Path, monkeypatch):
    """The publisher's results.json, read back, renders each type under its plain label, with disclosure
    control applied; a headline without a label stays in results.json."""
    monkeypatch.setitem(answers.QUESTIONS, "09_example", EXAMPLE)
    pub = Publisher(tmp_path, "09_example")
    pub.publish(_Example())
    results = json.loads(pub.save().read_text())["results"]
    run = NotebookRun("09_example", ok=True, seconds=1.25, results={**results, "internal_key": 3})
    section = notebook_section(run, tmp_path)
    for cell in ["<td>Hazard ratio</td><td>1.50 (95% CI 1.25 to 1.75)</td>",
                 "<td>Log-rank test</td><td>log-rank: 9 on 1 df, p = 0.003</td>",
                 "<td>Share placed</td><td>c of 40 (suppressed: the count or the rest is fewer than 5)</td>",
                 "<td>Children</td><td>c (suppressed: fewer than 5)</td>",
                 "<td>Children in care</td><td>120</td>"]:
        assert cell in section
    assert "internal_key" not in section and ">hr<" not in section
    params = Parameters(data_source="synthetic", seed=7)
    page = write_index(RunOutcome(tmp_path, [run]), tmp_path, "r1", params).read_text()
    assert section in page and 'counts under 5 are shown as "c"' in page
