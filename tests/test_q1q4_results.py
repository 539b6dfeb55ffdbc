"""Questions 1 and 4's result objects on small hand-made aggregates: exactly what they declare and publish."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rcceval.analyses.prediction.results import (
    DropOneResults,
    StabilityResult,
    drop_one_key,
)
from rcceval.analyses.proposal.fields import (
    ALL_DOMAINS,
    MISMATCH_ROW,
    FieldValue,
    field_value_table,
)
from rcceval.analyses.proposal.requests import SecuredPlacements
from rcceval.analyses.proposal.results import (
    ShareEstimate,
    SimulationResult,
    secured_result,
)
from rcceval.analyses.proposal.text import secured_text
from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.reporting.publish import Publisher
from rcceval.reporting.results import Count, Estimate, serialise
from rcceval.reporting.results import (
    Test as HypothesisTest,  # not "Test*": pytest would collect it
)

SETTINGS = {"horizon_days": 365, "interval_days": 30, "folds": 5, "bootstrap": 20, "seed": 3, "level": 0.95,
            "min_level_events": 10}


def _stability(sensitivity: bool = True) -> StabilityResult:
    idx = pd.MultiIndex.from_tuples([(m, t) for m in ("M0", "M1", "M2") for t in
                                     ["interval[0-30]", "AGE", "I_a", "F_a", "MISMATCH"][: {"M0": 2, "M1": 4, "M2": 5}[m]]],
                                    names=["model", "term"])
    hr = np.arange(1, len(idx) + 1) / 10 + 1
    summary = pd.DataFrame({"coef": np.log(hr), "hr": hr, "ci_low": hr - 0.05, "ci_high": hr + 0.05, "p": 0.01}, index=idx)
    comparison = pd.DataFrame({"label": ["903 only", "903 + need domains", "903 + need domains + mismatch"],
                               "parameters": [2, 4, 5], "loglik": [-100.0, -90.0, -88.0], "aic": [204.0, 188.0, 186.0],
                               "lr_statistic": [np.nan, 20.0, 4.0], "lr_df": [np.nan, 2, 1], "lr_p": [np.nan, 4.5e-5, 0.0455],
                               "wald_robust_statistic": [np.nan, 18.0, 3.5], "wald_robust_df": [np.nan, 2, 1],
                               "wald_robust_p": [np.nan, 1.2e-4, 0.061], "auc": [0.6, 0.65, 0.66],
                               "auc_ci_low": [0.55, 0.6, 0.61], "auc_ci_high": [0.65, 0.7, 0.71],
                               "brier": [0.2, 0.19, 0.19], "brier_null": 0.21}, index=pd.Index(["M0", "M1", "M2"], name="model"))
    delta = pd.DataFrame({"estimate": [0.05, 0.01, 0.06], "ci_low": [0.02, -0.01, 0.03], "ci_high": [0.08, 0.03, 0.09],
                          "se": 0.01}, index=pd.Index(["M1 - M0", "M2 - M1", "M2 - M0"], name="comparison"))
    drop = pd.DataFrame({"domain": ["a"], "auc_without": [0.61], "estimate": [0.04], "ci_low": [0.01], "ci_high": [0.07],
                         "se": [0.015]})
    tests = pd.DataFrame({"terms": ["I_a, F_a"], "lr_chi2": [20.0], "df": [2], "p": [4.5e-5], "wald_robust": [18.0],
                          "wald_p": [1.2e-4]}, index=pd.Index(["a"], name="domain"))
    coverage = pd.DataFrame({"reason": ["analysed", "no needs assessment in force"], "placements": [120, 3],
                             "known_at_horizon": [100, 3], "unplanned_within_horizon": [30, 1], "pct_unplanned": [30.0, 33.3]})
    calibration = pd.DataFrame({"model": "M2", "group": [1, 2], "placements": [60, 60], "predicted": [0.1, 0.4],
                                "observed": [0.12, 0.38], "observed_ci_low": [0.05, 0.3], "observed_ci_high": [0.2, 0.5]})
    counts = {"n_placements": 120, "n_children": 3, "n_councils": 1, "n_person_periods": 900,
              "n_unplanned_within_horizon": 30, "n_known_at_horizon": 100, "n_intervals": 13, "n_excluded": 3}
    extra = {}
    if sensitivity:
        counts.update(n_complete_follow_up=80, n_complete_follow_up_unplanned=2)
        extra = {"complete_follow_up_tests": pd.DataFrame({"statistic": [9.0], "df": [2], "p": [0.011]},
                                                          index=pd.Index(["M1 - M0"], name="comparison")),
                 "complete_follow_up": summary.rename(columns={"hr": "or"}),
                 "council_widths": pd.DataFrame({"LA": ["SE01", "SE02", "Region (pooled)"], "placements": [60, 60, 120],
                                                 "unplanned_within_horizon": [15, 15, 30], "width_vs_pooled": [1.5, 2.5, 1.0]})}
    return StabilityResult(settings=SETTINGS, counts=counts, coverage=coverage, summary=summary, comparison=comparison,
                           delta_auc=delta, drop_one=drop, calibration=calibration,
                           terms={"M0": ["AGE"], "M1": ["AGE", "I_a", "F_a"], "M2": ["AGE", "I_a", "F_a", "MISMATCH"]},
                           drop_one_tests=tests, **extra)


def test_stability_headlines_are_typed_and_exact():
    h = _stability().headlines()
    assert h["n_placements"] == Count(120) and h["n_intervals"] == 13
    assert h["auc_m1"] == Estimate(0.65, 0.6, 0.7, 0.95)
    assert h["delta_auc_m2_m1"] == Estimate(0.01, -0.01, 0.03, 0.95)
    assert h["lr_test_m1_m0"] == HypothesisTest(20.0, 2, 4.5e-5, "likelihood ratio")
    assert h["wald_robust_m2_m1"] == HypothesisTest(3.5, 1, 0.061, "cluster-robust Wald")
    assert set(h["hr_m2"]) == {"I_a", "F_a", "MISMATCH"}           # needs and mismatch only, not AGE
    assert h["hr_m2"]["MISMATCH"].value == pytest.approx(2.1)       # the 11th and last row: 1 + 11/10
    assert h["drop_one_delta_auc"] == {"a": Estimate(0.04, 0.01, 0.07, 0.95)}
    assert h["complete_follow_up"] == {"n_placements": Count(80), "lr_test_m1_m0": HypothesisTest(9.0, 2, 0.011, "likelihood ratio")}
    assert h["council_ci_width_vs_pooled_median"] == 2.0             # median of 1.5 and 2.5, pooled left out
    # incremental value: the tests of the added terms first, ΔAUC second (Pepe et al. 2013)
    inc = h["incremental_value"]
    assert list(inc) == ["M1 - M0", "M2 - M1"] and list(inc["M2 - M1"]) == ["lr_test", "wald_robust", "delta_auc"]
    assert inc["M1 - M0"]["lr_test"] == HypothesisTest(20.0, 2, 4.5e-5, "likelihood ratio")
    assert inc["M2 - M1"]["wald_robust"] == HypothesisTest(3.5, 1, 0.061, "cluster-robust Wald")
    assert inc["M2 - M1"]["delta_auc"] == Estimate(0.01, -0.01, 0.03, 0.95)
    assert list(h).index("incremental_value") < list(h).index("auc_m0")
    table = _stability().incremental_value()
    assert table.loc["M1 - M0", ["added_terms", "lr_chi2", "lr_df", "wald_p", "delta_auc_ci_low"]].tolist() == \
        [2, 20.0, 2, 1.2e-4, 0.02]
    assert list(_stability().tables())[0] == "incremental_value"


def test_stability_publishes_its_tables_with_counts_protected(tmp_path):
    pub = Publisher(tmp_path, "01", DisclosureSettings(threshold=5))
    shown = pub.publish(_stability())
    assert list(shown["coverage"]["placements"]) == [120, "c"]
    assert shown["coverage"]["pct_unplanned"].iloc[1] == "c"          # a percentage of a hidden count
    assert list(shown["hazard_ratios_needs"].index.get_level_values("term")) == ["I_a", "F_a", "I_a", "F_a", "MISMATCH"]
    assert "interval[0-30]" not in shown["hazard_ratios_all"].index.get_level_values("term")
    assert list(shown["model_comparison"].columns)[-5:] == ["auc", "auc_ci_low", "auc_ci_high", "brier", "brier_null"]
    pub.save()
    body = json.loads((tmp_path / "01" / "results.json").read_text())["results"]
    assert body["n_children"] == "c" and body["n_placements"] == 120
    assert body["auc_m0"] == {"value": 0.6, "lower": 0.55, "upper": 0.65, "level": 0.95}
    assert body["complete_follow_up"]["n_placements"] == 80


def test_without_sensitivity_analyses_the_result_still_has_its_headlines():
    h = _stability(sensitivity=False).to_dict()
    assert "complete_follow_up" not in h and "council_ci_width_vs_pooled_median" not in h
    assert h["delta_auc_m1_m0"] == {"value": 0.05, "lower": 0.02, "upper": 0.08, "level": 0.95}
    assert set(_stability(sensitivity=False).tables()) == {"incremental_value", "coverage", "hazard_ratios_needs", "hazard_ratios_all",
                                                           "model_comparison", "delta_auc", "calibration", "drop_one_domain"}


def test_drop_one_results_and_the_field_value_table():
    d = _stability().drop_one_results()
    assert isinstance(d, DropOneResults) and d.settings == drop_one_key(**SETTINGS) == FieldValue(bootstrap=20, seed=3).key()
    assert d.domains.loc["a", ["estimate", "lr_chi2", "df", "terms"]].tolist() == [0.04, 20.0, 2, "I_a, F_a"]
    assert d.nested.loc["M1 - M0", "terms"] == "I_a, F_a" and d.nested.loc["M2 - M1", "terms"] == "MISMATCH"
    assert d.nested.loc["M2 - M1", ["estimate", "lr_chi2", "df", "wald_p"]].tolist() == [0.01, 4.0, 1, 0.061]
    fv = field_value_table(d)
    assert list(fv.table.index) == ["a", ALL_DOMAINS, MISMATCH_ROW]
    assert fv.table["df"].tolist() == [2, 2, 1]
    assert fv.table.loc[ALL_DOMAINS, ["delta_auc", "ci_low", "ci_high"]].tolist() == [0.05, 0.02, 0.08]
    h = fv.headlines()["field_value"]
    assert h["a"] == {"delta_auc": Estimate(0.04, 0.01, 0.07), "lr_test": HypothesisTest(20.0, 2, 4.5e-5, "likelihood ratio"),
                      "wald_robust": HypothesisTest(18.0, 2, 1.2e-4, "cluster-robust Wald")}
    assert list(fv.tables()["field_value"].frame.columns)[:4] == ["title", "delta_auc", "ci_low", "ci_high"]


def test_a_share_with_its_interval_is_hidden_whole():
    assert serialise(ShareEstimate(30, 40, 0.6, 0.85)) == {"count": 30, "total": 40, "value": 0.75, "lower": 0.6,
                                                           "upper": 0.85, "level": 0.95}
    pub = Publisher(".", "x", DisclosureSettings(threshold=5))
    assert serialise(pub.protect(ShareEstimate(3, 40, 0.02, 0.2))) == {"count": "c", "total": 40, "value": "c"}


def _requests() -> pd.DataFrame:
    """12 placements of 12 children, 10 with a request: 8 preferred, 2 suitable; location met 9 of 10."""
    suit = ["Preferred"] * 8 + ["Suitable but not preferred"] * 2 + [None, None]
    return pd.DataFrame({"LA": ["SE01"] * 6 + ["SE02"] * 6, "CHILD": [f"c{i}" for i in range(12)],
                         "HAS_REQUEST": [True] * 10 + [False] * 2, "SECURED_SUITABILITY": suit,
                         "PREFERRED_LOCATION_MET": [True] * 9 + [False] + [None] * 2, "TIER": ["T1"] * 12})


def test_secured_placements_headlines_tables_and_shares(tmp_path):
    res = secured_result(SecuredPlacements().fit(_requests()))
    h = res.headlines()
    share = h["preferred_type_secured"]["share"]
    assert (share.count, share.total, share.value) == (8, 10, 0.8)
    assert share.lower < 0.8 < share.upper
    assert h["secured_placements"]["counts"] == {"placements": Count(12), "with_request": Count(10),
                                                 "with_location": Count(10)}
    pub = Publisher(tmp_path, "04", DisclosureSettings(threshold=2))       # nothing below 2: all shown
    shown = pub.publish(res)
    assert shown["secured_type_by_council"].loc["SE02", ["Preferred", "Total"]].tolist() == [2, 4]
    shares = pub.publish(res.shares(shown))["secured_type_share_by_council"]
    assert shares.loc[("SE01", "Preferred"), "share"] == 1.0 and shares.loc[("SE02", "Preferred"), "share"] == 0.5
    pub = Publisher(tmp_path, "04", DisclosureSettings(threshold=5))
    shown = pub.publish(res)
    counts = shown["secured_type_by_council"]
    assert counts.loc["SE02", "Preferred"] == "c"
    shares = pub.publish(res.shares(shown))["secured_type_share_by_council"]
    for (value, category), row in shares.iterrows():        # a share is hidden exactly where its count or total is
        assert (row["share"] == "c") == ("c" in (counts.loc[value, category], counts.loc[value, "Total"]))
    # 8 of 10 preferred: its complement (2) is below 5, so the share is hidden, in the text too
    assert secured_text(shown).startswith("Of 10 placements with a request, **c** were of the preferred type; "
                                          "c suitable but not preferred; 0.0% of a type")
    shown = Publisher(tmp_path, "04", DisclosureSettings(threshold=2)).publish(res)
    lo, hi = share.lower, share.upper
    assert secured_text(shown).startswith(f"Of 10 placements with a request, **80.0%** (95% CI {100 * lo:.1f}%–"
                                          f"{100 * hi:.1f}%) were of the preferred type; 20.0% suitable but not preferred")


def test_simulation_headlines_spell_power_as_estimates():
    table = pd.DataFrame({"placements": [100], "years": [1.0], "replicates": [200], "events_mean": [20.5], "power": [0.3],
                          "mc_se": [0.032], "ci_low": [0.24], "ci_high": [0.37], "analytic_power": [0.28],
                          "analytic_power_observed": [0.31], "failed_fits": [0.0], "setting": ["median council"]})
    null = table.assign(power=[0.06], ci_low=[0.035], ci_high=[0.1], setting="median council, no effect")
    sim = SimulationResult(table, null, "intensity_behaviour", float(np.log(1.2)), 0.9, 0.8, 0.4, 200, 7, 0.05)
    h = sim.to_dict()
    assert h["simulated_power"]["settings"] == [{"placements": 100, "years": 1.0, "replicates": 200, "events_mean": 20.5,
                                                 "mc_se": 0.032, "analytic_power": 0.28, "analytic_power_observed": 0.31,
                                                 "failed_fits": 0.0,
                                                 "power": {"value": 0.3, "lower": 0.24, "upper": 0.37, "level": 0.95}}]
    assert h["simulated_power"]["hr"] == 1.2
    assert h["simulated_false_positive_rate"] == {"years": [1.0], "alpha": 0.05, "rate": [
        {"value": 0.06, "lower": 0.035, "upper": 0.1, "level": 0.95}]}
    assert list(sim.tables()["simulated_false_positives"].frame.columns) == ["placements", "events_mean", "rejection_rate",
                                                                             "ci_low", "ci_high"]
