"""index.html renders each headline by its type in the results contract, read from results.json."""
import json
from pathlib import Path

import pytest

from rcceval.params import Parameters
from rcceval.reporting import answers
from rcceval.reporting import numbers as fmt
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


# --- the one-page answer: sentences from hand-made results.json, worked out by hand -----------------

def _est(value, lower=None, upper=None, level=0.95):
    return {"value": value, "lower": lower, "upper": upper, "level": level}


Q1 = {"horizon_days": 365, "auc_m0": _est(0.7689, 0.763, 0.774), "auc_m1": _est(0.8241, 0.818, 0.83),
      "delta_auc_m1_m0": _est(0.0552, 0.0519, 0.0585), "delta_auc_m2_m1": _est(-0.0012, -0.0043, 0.0021),
      "lr_test_m1_m0": {"statistic": 6098.0, "df": 16, "p": 0.0, "method": "likelihood ratio"},
      "n_placements": 33435}


def test_question_1_answers_with_the_gain_and_its_interval():
    assert answers.answer("01_needs_predict_stability", Q1) == [
        "Predicting an unplanned ending within 365 days, adding needs data raised the AUC from 0.77 to 0.82: "
        "+0.0552, 95% CI 0.0519 to 0.0585 (likelihood ratio test p < 0.001).",
        "Adding the mismatch between needs and placement changed it by a further -0.0012, 95% CI -0.0043 to 0.0021."]


def test_question_1_without_needs_data_answers_from_the_baseline():
    partial = {"horizon_days": 365, "baseline_auc": _est(0.7512, 0.7401, 0.7623), "baseline_placements": 3455,
               "mdhr_per_sd_needs_score_80%_power": {"1 years": 1.412, "5 years": 1.163}}
    assert answers.answer("01_needs_predict_stability", partial) == [
        "From the 903 alone, the chance of an unplanned ending within 365 days is predicted with an AUC of "
        "0.751 (95% CI 0.740 to 0.762); without needs data, whether needs add to it cannot be tested. With five "
        "years of data, a needs score would be detected (80% power) if one standard deviation carried a hazard "
        "ratio of 1.16."]


def test_question_3_answers_in_pounds():
    q3 = {"cost_per_child_year": {"needs_led": _est(117677.93, 110731.6, 133160.03),
                                  "unit_cost": _est(89736.2, 85593.68, 94316.78)},
          "difference_per_child_year": _est(27941.73, 17889.09, 47373.68),
          "moves_averted_per_100_children": _est(35.54, 29.62, 43.32), "simulation": {"horizon_years": 5.0}}
    assert answers.answer("03_unit_cost_vs_needs_led", q3) == [
        "Care costs £117,678 (95% CI £110,732 to £133,160) per child-year under needs-led commissioning against "
        "£89,736 (95% CI £85,594 to £94,317) under unit costs: a difference of £27,942 (95% CI £17,889 to £47,374) "
        "per child-year.",
        "Needs-led commissioning averts 36 (95% CI 30 to 43) moves per 100 children over 5 years."]


def test_question_2_names_the_profiles_and_explains_a_hidden_share():
    q2 = {"cif_unplanned_1y_by_tier": {"Straightforward": _est(0.0503, 0.0332, 0.0761),
                                       "Extensive and enduring": _est(0.2237, 0.1918, 0.2608),
                                       "Complex or co-occurring": "c"},
          "logrank_unplanned_by_tier": {"statistic": 127.1, "df": 2, "p": 2.5e-28, "method": "log-rank"}}
    assert answers.answer("02_placement_survival", q2) == [
        "A year after it started, 22.4% (95% CI 19.2% to 26.1%) of placements of children with extensive and "
        "enduring needs had ended unplanned, against 5.0% (95% CI 3.3% to 7.6%) for straightforward needs "
        "(log-rank test p < 0.001)."]


def test_data_quality_answer_explains_suppressed_counts():
    q0 = {"placements_in_window": "c", "files_read": 4, "children_looked_after_31_march": {"2024": 12, "2025": "c"},
          "problems": {"fatal": 0, "fixable": 2, "warning": 1234},
          "pct_placements_with_assessment": {"count": 3, "total": 4, "value": 0.75},
          "pct_placements_with_request": {"count": "c", "total": 4, "value": "c"},
          "pct_3plus_placements_year": {"count": 1, "total": 8, "value": 0.125}}
    assert answers.answer("00_data_quality", q0, threshold=10) == [
        "c (suppressed: fewer than 10) placements in the analysis window were read from 4 files; c (suppressed: "
        "fewer than 10) children were looked after on 31 March 2025. Validation found 0 fatal problems, fixed 2 and "
        "noted 1,234 warnings.",
        "75.0% of placements had a needs assessment and c (suppressed: fewer than 10) a placement request; 12.5% of "
        "children looked after had three or more placements in the year."]


def test_an_answer_that_cannot_be_written_points_to_the_report():
    assert answers.answer("03_unit_cost_vs_needs_led", {"renamed": 1}) == [answers.FALLBACK]
    assert answers.answer("99_new_question", {"x": 1}) == [answers.FALLBACK]
    assert answers.question("99_new_question").title == "New question"


def _run_folder(tmp_path: Path, disclosure: dict | None = None) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    inputs = {f"903/{la}/{y}/header.csv": "0" for la in ("E08000001", "E08000002") for y in (2023, 2024, 2025)}
    manifest = {"inputs_sha256": {**inputs, "needs_assessments.csv": "0"}, "git_commit": "0123456789abcdef0",
                "ended": "2026-12-02T10:00:00Z", "disclosure": disclosure}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


AUDIT = {"cells_primary": 1204, "cells_secondary": 311, "suppressed_by_audit": 12,
         "narrowest": {"lower": 0.0, "upper": 7.0}, "settings": {"protection_width": 5.0}}


def test_provenance_names_source_years_councils_and_the_audit(tmp_path: Path):
    run = _run_folder(tmp_path, AUDIT)
    params = Parameters(data_source="synthetic", seed=7)
    page = write_index(RunOutcome(run, [NotebookRun("01_needs_predict_stability", ok=True, results=Q1)]), run, "r1",
                       params).read_text()
    assert "SSDA903 returns of 2 councils (E08000001, E08000002); analysed: all councils." in page
    assert "returns for 2023 to 2025; placements from 1 April 2019 to 31 March 2025." in page
    assert ("Audit passed: 1,515 cells hidden (1,204 small counts, 311 to protect them, 12 of those added by the "
            "audit); no hidden cell can be worked out to within 5 from the published tables; the narrowest range a "
            "reader could work out for a hidden cell is 7 wide.") in page
    assert "code 0123456789ab" in page and "+0.0552, 95% CI 0.0519 to 0.0585" in page


def test_status_gives_the_reason_for_partial_and_failed(tmp_path: Path):
    run = _run_folder(tmp_path)
    partial = NotebookRun("05_sufficiency_gap", ok=True, results={"forecast_looked_after": {"2026": _est(450.0, 410.0, 492.0)}},
                          skipped=[{"section": "provision", "sentence": "This section needs a provider register."}])
    failed = NotebookRun("03_unit_cost_vs_needs_led", ok=False, error="cell 12: ValueError: no placements")
    page = write_index(RunOutcome(run, [failed, partial]), run, "r1", Parameters()).read_text()
    assert '<span class="partial">partial</span>' in page and "<li>This section needs a provider register.</li>" in page
    assert "Children looked after are forecast at 450 (95% CI 410 to 492) in 2026, from the 903 alone" in page
    assert '<span class="failed">FAILED</span>' in page
    assert "This report failed: cell 12: ValueError: no placements" in page
    assert "Some reports failed (question 3): the reason is under each." in page


def test_by_council_adds_a_selector_and_each_council_s_answers(tmp_path: Path):
    run = _run_folder(tmp_path)
    region = [NotebookRun("01_needs_predict_stability", ok=True, results=Q1)]
    subs = {la: RunOutcome(run / "la" / la, [NotebookRun("01_needs_predict_stability", ok=la == "S01", results=Q1,
                                                         error="" if la == "S01" else "cell 3: boom")])
            for la in ("S01", "S02")}
    page = write_index(RunOutcome(run, region, subs), run, "r1", Parameters()).read_text()
    assert '<select id="council"><option value="">the region (all councils)</option><option value="S01">S01</option>' \
           '<option value="S02">S02 (FAILED)</option></select>' in page
    assert '<div class="scope" data-council="S01" hidden>' in page and 'href="la/S02/01_needs_predict_stability.html"' in page
    assert page.count("adding needs data raised the AUC") == 2    # the region and S01; S02 failed


def test_labelled_rows_follow_paths_units_and_leave_out_identifier_keyed_groups():
    results = {"cost": {"unit_cost": _est(89736.2, 85593.7, 94316.8), "needs_led": _est(117677.9, 110731.6, 133160.0)},
               "cif": {"Straightforward": _est(0.0503, 0.0332, 0.0761)},
               "old": {"cif_unplanned_1y": 0.05, "cif_unplanned_1y_lower": 0.03},
               "by_year": {"2024": 12, "2025": "c"}}
    labels = {"cost.needs_led": ("Needs-led cost", fmt.money), "cif.Straightforward": ("Ended unplanned", fmt.percent),
              "old": "Untyped", "by_year": "By year", "missing.path": "Absent"}
    assert results_rows(results, 5, labels) == (
        "<tr><td>Needs-led cost</td><td>£117,678 (95% CI £110,732 to £133,160)</td></tr>"
        "<tr><td>Ended unplanned</td><td>5.0% (95% CI 3.3% to 7.6%)</td></tr>"
        "<tr><td>By year</td><td>2024: 12; 2025: c (suppressed: fewer than 5)</td></tr>")


def test_question_5_shortfall_is_a_lower_bound_and_the_forecast_alone_when_partial():
    q5 = {"region_shortfall_at_least_all_profiles": {"council": 20, "within_20_miles": 18, "region": "c"},
          "stable_placement_difference": _est(0.0108, -0.013, 0.0346)}
    assert answers.answer("05_sufficiency_gap", q5) == [
        "With every child competing for the same places, at least 20 children could not be given a place able to "
        "meet their needs within their own council, and at least c (suppressed: fewer than 5) within the region.",
        "Levels of need after a stable placement differed from those after a move by +0.011, 95% CI -0.013 to 0.035 "
        "on the 0-3 scale (an association, not a measured effect)."]
    partial = {"forecast_demand": {"all": {"2026": _est(445.0, 410.0, 485.0), "2027": _est(455.0, 410.0, 510.0)}}}
    assert answers.answer("05_sufficiency_gap", partial) == [
        "Children looked after are forecast at 455 (95% CI 410 to 510) in 2027, from the 903 alone; the needs audit "
        "and sufficiency gap need needs assessments and a provider register."]
