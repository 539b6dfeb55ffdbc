"""Question 1 (does needs data predict placement stability?): exact small cases for each step, agreement
with statsmodels, and recovery of the synthetic region's generating hazard ratios (and nothing in null mode)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers903 import ep, hd, write_return
from scipy import stats

from rcceval.analyses.prediction import data as sd
from rcceval.analyses.prediction import fit as sf
from rcceval.analyses.prediction import metrics as smx
from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
from rcceval.analyses.prediction.text import conclusion
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_903, read_region
from rcceval.ingest.validate import validate_903, validate_region
from rcceval.reporting.publish import Publisher
from rcceval.reporting.results import Estimate, Guarded
from rcceval.reporting.results import Test as HypothesisTest  # not "Test*": pytest would collect it
from rcceval.spec.instruments import load_instrument
from rcceval.synth import generate

NULL_SEEDS = (1, 2, 3, 4, 5)
BOOT = 40          # bootstrap replicates in these tests (each reruns the cross-validation); 200+ in reports


def synthetic_frame(out, scale: str = "small", seed: int = 12, null_needs: bool = False) -> tuple[pd.DataFrame, dict, pd.Timestamp]:
    """Generate a region, read it through the real loader and build the analysis frame."""
    truth = generate(out, scale=scale, seed=seed, null_needs=null_needs)
    region = validate_region(read_region(out))
    extract = region.c903.extract_date
    placements = derive_placements(region.c903, extract_date=extract)
    frame = analysis_frame(region, placements, load_instrument(None),
                           FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    return frame, truth, extract


def truth_key(term: str) -> str:
    """Frame covariate name -> truth.json covariate name (I_x -> intensity_x, F_x -> frequency_x)."""
    if term == "MISMATCH":
        return "mismatch"
    return {"I": "intensity_", "F": "frequency_"}[term[0]] + term[2:]


def bonferroni_cover(summary: pd.DataFrame, truth: dict, terms: list[str], family_level: float = 0.95) -> list[str]:
    """Terms whose Bonferroni-adjusted CI (family-wise `family_level` over all of them) misses the truth."""
    z = stats.norm.ppf(1 - (1 - family_level) / (2 * len(terms)))
    missed = []
    for t in terms:
        coef, se = summary.loc[t, "coef"], summary.loc[t, "se"]
        if abs(coef - truth[truth_key(t)]) > z * se:
            missed.append(t)
    return missed


# ---- exact small cases -------------------------------------------------------------------------------
def test_interval_edges():
    assert sd.interval_edges(365, 30).tolist() == [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330, 365]
    assert sd.interval_edges(365, 91).tolist() == [0, 91, 182, 273, 365]   # a 1-day stub joins the last interval
    assert sd.interval_edges(100, 40).tolist() == [0, 40, 80, 100]          # a 20-day stub is kept


def test_person_period_rows_are_exact():
    edges = np.array([0.0, 30, 60, 90])
    time = np.array([45, 90, 1, 30])
    cause = np.array([sd.UNPLANNED, sd.NONE, sd.OTHER_ENDING, sd.UNPLANNED])
    pp = sd.person_period(time, cause, edges)
    got = pp.frame()
    expected = pd.DataFrame({
        "placement": [0, 0, 1, 1, 1, 2, 3],
        "interval": [0, 1, 0, 1, 2, 0, 0],
        "cause": [0, 1, 0, 0, 0, 2, 1],
        "exposure": [1, 0.5, 1, 1, 1, 1 / 30, 1]})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_horizon_outcome_classifies_censoring_and_competing_endings():
    frame = pd.DataFrame({
        "DURATION_DAYS": [400, 100, 400, 10, 0, 365, 200],
        "CENSORED": [False, True, True, False, False, False, False],
        "ENDING": ["unplanned_change", "open", "open", "planned_change", "unplanned_change", "unplanned_change",
                   "left_care"]})
    out = sd.horizon_outcome(frame, 365)
    assert out.time.tolist() == [365, 100, 365, 10, 1, 365, 200]
    assert out.cause.tolist() == [sd.NONE, sd.NONE, sd.NONE, sd.OTHER_ENDING, sd.UNPLANNED, sd.UNPLANNED, sd.OTHER_ENDING]
    assert out.known.tolist() == [True, False, True, True, True, True, True]
    assert out.y.tolist() == [False, False, False, False, True, True, False]


def test_horizon_outcome_unknown_cause_is_an_ending_with_bounds_and_draws():
    # rows: unknown ending day 30, unknown ending day 500 (after the horizon), unplanned day 50, open day 100
    frame = pd.DataFrame({"DURATION_DAYS": [30, 500, 50, 100], "CENSORED": [False, False, False, True],
                          "ENDING": ["unknown", "unknown", "unplanned_change", "open"]})
    low = sd.horizon_outcome(frame, 365)
    assert low.cause.tolist() == [sd.OTHER_ENDING, sd.NONE, sd.UNPLANNED, sd.NONE]
    assert low.known.tolist() == [True, True, True, False]
    high = sd.horizon_outcome(frame, 365, unknown_as="unplanned")
    assert high.cause.tolist() == [sd.UNPLANNED, sd.NONE, sd.UNPLANNED, sd.NONE]
    drawn = sd.horizon_outcome(frame, 365, unknown_as=np.array([False, True, True, True]))
    assert drawn.cause.tolist() == low.cause.tolist()   # the draw only touches unknown endings
    with pytest.raises(ValueError, match="unknown_as"):
        sd.horizon_outcome(frame, 365, unknown_as="censored")


def test_censoring_weights_do_not_count_unknown_endings_as_open(tmp_path):
    """Four placements: unknown-cause ending day 10, open day 20, unplanned day 30, open day 400.
    Only the open ones are censoring: G drops at day 20 only, from 1 to 1 - 1/3 (3 at risk on day 20)."""
    write_return(tmp_path, "LA1", 2024, [hd("1"), hd("2"), hd("3"), hd("4")], [
        ep("1", "01/01/2024", "S", "11/01/2024", "X1", ""),
        ep("2", "11/03/2024", "S"),
        ep("3", "01/01/2024", "S", "31/01/2024", "X1", "CREQB"),
        ep("3", "31/01/2024", "P"),
        ep("4", "26/02/2023", "S"),
    ])
    pl = derive_placements(validate_903(read_903(tmp_path)))
    first = pl.loc[pl["PLACEMENT_NO"].eq(1)].set_index("CHILD").loc[["1", "2", "3", "4"]]
    assert first["ENDING"].tolist() == ["unknown", "open", "unplanned_change", "open"]
    assert first["CENSORED"].tolist() == [False, True, False, True]
    w = smx.censoring_weights(first["DURATION_DAYS"].to_numpy(float), first["CENSORED"].to_numpy(bool), 365)
    assert first["DURATION_DAYS"].tolist() == [10, 20, 30, 399]
    np.testing.assert_allclose(w, [1.0, 0.0, 1.5, 1.5])


def test_grouped_folds_keep_each_child_in_one_fold():
    rng = np.random.default_rng(0)
    children = rng.integers(0, 300, size=2000)
    folds = smx.grouped_folds(children, 5, seed=3)
    per_child = pd.Series(folds).groupby(children).nunique()
    assert (per_child == 1).all()
    sizes = pd.Series(folds).groupby(children).first().value_counts()
    assert sorted(sizes.index) == [0, 1, 2, 3, 4] and sizes.max() - sizes.min() <= 1
    assert (smx.grouped_folds(children, 5, seed=3) == folds).all()
    assert not (smx.grouped_folds(children, 5, seed=4) == folds).all()


def test_auc_by_hand_and_against_the_rank_formula():
    # cases 0.35 and 0.8; controls 0.1 and 0.4: 0.35 beats 0.1 only, 0.8 beats both -> 3 of 4 pairs
    assert smx.weighted_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert smx.weighted_auc(np.array([0.5, 0.5]), np.array([1, 0])) == pytest.approx(0.5)   # a tie counts half
    rng = np.random.default_rng(1)
    score = rng.integers(0, 20, size=500).astype(float)    # many ties
    y = rng.random(500) < 0.3
    r = stats.rankdata(score)
    n1, n0 = y.sum(), (~y).sum()
    rank_formula = (r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    assert smx.weighted_auc(score, y) == pytest.approx(rank_formula, abs=1e-12)
    # integer weights are the same as repeating rows
    w = rng.integers(1, 4, size=500)
    assert smx.weighted_auc(score, y, w.astype(float)) == pytest.approx(
        smx.weighted_auc(np.repeat(score, w), np.repeat(y, w)), abs=1e-12)


def test_censoring_weights_by_hand():
    # censorings on days 3 and 5: G = 3/4 after day 3 (4 at risk), 3/8 after day 5 (2 at risk)
    time = np.array([2, 3, 3, 5, 8])
    censored = np.array([False, True, False, True, False])
    w = smx.censoring_weights(time, censored, horizon=6)
    assert w == pytest.approx([1.0, 0.0, 1.0, 0.0, 8 / 3])


def test_cif_from_interval_hazards_with_competing_endings():
    L = np.array([[0.2]])
    assert sf.cif_from_interval_hazards(L, np.zeros((1, 1)))[0] == pytest.approx(1 - math.exp(-0.2))
    assert sf.cif_from_interval_hazards(L, L)[0] == pytest.approx(0.5 * (1 - math.exp(-0.4)))
    L1, L2 = np.array([[0.1, 0.3]]), np.array([[0.2, 0.1]])
    by_hand = (0.1 / 0.3) * (1 - math.exp(-0.3)) + math.exp(-0.3) * (0.3 / 0.4) * (1 - math.exp(-0.4))
    assert sf.cif_from_interval_hazards(L1, L2)[0] == pytest.approx(by_hand)


def test_aliased_columns_are_found():
    x = pd.DataFrame({"a": [1, 0, 1, 0, 1.0], "b": [0, 1, 1, 0, 0.0]})
    x["a_again"] = x["a"]
    x["one_minus_b"] = 1 - x["b"]            # with the constant, a combination of b
    x["c"] = [0, 0, 1, 1, 1.0]
    assert sd.aliased_columns(x) == ["a_again", "one_minus_b"]


# ---- on a small synthetic region ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_analysis(tmp_path_factory):
    frame, truth, extract = synthetic_frame(tmp_path_factory.mktemp("q1_small"))
    model = NeedsStabilityAnalysis(seed=5, bootstrap=BOOT, n_jobs=2)
    q1 = model.fit(frame, extract_date=extract)
    return frame, truth, q1, extract, model


@pytest.fixture(scope="module")
def small(small_analysis):
    return small_analysis[:4]


def test_fitter_agrees_with_statsmodels(small):
    """The placement-level fitter reproduces statsmodels' GLM on the expanded person-period rows."""
    frame = small[0]
    needs = sd.needs_columns(frame)
    fr = sd.model_sample(frame, needs, 365).frame
    out = sd.horizon_outcome(fr, 365)
    prep = sd.prepare(fr)
    levels = sd.choose_levels(prep, out.y, 10)
    X = pd.concat([sd.m0_design(sd.apply_levels(prep, levels), levels), fr[needs + ["MISMATCH"]]], axis=1)
    X = X.drop(columns=sd.aliased_columns(X))
    pp = sd.person_period(out.time, out.cause, sd.interval_edges(365, 60))
    y = (pp.cause == sd.UNPLANNED).astype(float)
    offset = np.where(y > 0, 0.0, np.log(pp.exposure))
    clusters = pd.factorize(fr["LA"] + ":" + fr["CHILD"])[0]
    mine = sf.fit_glm(X.to_numpy(), list(X.columns), sf.Rows(pp.placement, pp.interval, y, offset, pp.n_intervals),
                      clusters)
    design = np.hstack([X.to_numpy()[pp.placement], np.eye(pp.n_intervals)[pp.interval]])
    ref = sm.GLM(y, design, family=sm.families.Binomial(link=sm.families.links.CLogLog()), offset=offset).fit(
        cov_type="cluster", cov_kwds={"groups": clusters[pp.placement]}, tol=1e-12)
    np.testing.assert_allclose(mine.params, ref.params, atol=1e-5)
    assert mine.loglik == pytest.approx(ref.llf, rel=1e-9)
    # robust SEs follow R's vcovCL (expected-information bread; test_question_1_robust_variance_is_r_vcovcl),
    # statsmodels' the observed information: the same factor, a few percent apart for cloglog
    ratio = mine.bse / ref.bse
    assert 0.9 < ratio.min() and ratio.max() < 1.1 and np.abs(ratio - 1).max() > 1e-4
    known = out.known
    logit = sf.fit_glm(X.to_numpy()[known], list(X.columns), sf.Rows.of_placements(out.y[known]), clusters[known],
                       link=sf.LOGIT)
    ref = sm.GLM(out.y[known].astype(float), np.c_[X.to_numpy()[known], np.ones(known.sum())],
                 family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": clusters[known]}, tol=1e-12)
    np.testing.assert_allclose(logit.params, ref.params, atol=1e-6)
    np.testing.assert_allclose(logit.bse, ref.bse, rtol=1e-5)


def test_question_1_robust_variance_is_r_vcovcl(small_analysis):
    """M1's robust covariance, as question 1 fits and reports it, equals R's
    vcovCL(glm(y ~ X + factor(interval) - 1 + offset(off), binomial("cloglog")), cluster = ~child,
    type = "HC1") on the expanded person-period rows, to 1e-6 (the convention stated in fit.py)."""
    from r_reference import max_rel_diff, run_r
    from test_robust import _require_sandwich

    from rcceval.stats.robust import person_period_vcov_cl

    _require_sandwich()
    q1 = small_analysis[4]
    d, m1 = q1._data, q1.models["M1"].unplanned
    rows, terms = d.rows[sd.UNPLANNED], d.terms["M1"]
    cols = {f"c{j}": d.X[t].to_numpy()[rows.placement] for j, t in enumerate(terms)}
    pp = pd.DataFrame({"y": rows.y, **cols, "k": rows.interval.astype(float), "off": rows.offset,
                       "child": d.clusters[rows.placement].astype(float)})
    formula = "y ~ " + " + ".join(cols) + " + factor(k) - 1 + offset(off)"
    ref = run_r(f"""suppressPackageStartupMessages(library(sandwich)); d <- inp("d")
f <- glm({formula}, family = binomial(link = "cloglog"), data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
emit("coef", coef(f)); emit("V", vcovCL(f, cluster = ~child, type = "HC1"))""", {"d": pp})
    V = ref["V"]
    se_r = np.sqrt(np.diag(V))
    assert np.max(np.abs(m1.params - ref["coef"]) / se_r) < 1e-4     # the same fit (in SEs: some coef are ~0)
    # the sandwich itself, at R's coefficients: variances entry by entry, covariances on the correlation
    # scale (an entry near 0 has no relative precision to speak of)
    X = d.X[terms].to_numpy()
    at_r = person_period_vcov_cl(X, rows.placement, rows.interval, rows.y, ref["coef"], d.clusters, "cloglog",
                                 rows.offset, rows.n_intervals)
    assert max_rel_diff(np.diag(at_r), np.diag(V)) < 1e-6
    assert np.max(np.abs(at_r - V) / np.outer(se_r, se_r)) < 1e-6
    # and what question 1 reports, at its own estimate: SEs, and covariances on the correlation scale
    se = q1.summary.xs("M1")["se"].to_numpy()
    np.testing.assert_allclose(se, se_r, rtol=1e-6)
    assert np.max(np.abs(m1.cov - V) / np.outer(se_r, se_r)) < 1e-6


def test_needs_effect_is_found(small):
    q1 = small[2]
    res = q1.to_dict()
    assert res["delta_auc_m1_m0"]["lower"] > 0
    assert res["auc_m1"]["value"] > res["auc_m0"]["value"] + 0.02
    assert res["lr_test_m1_m0"]["p"] < 1e-6 and res["lr_test_m1_m0"]["df"] == 16
    assert res["complete_follow_up"]["lr_test_m1_m0"]["p"] < 0.001
    assert set(res) >= {"n_placements", "n_children", "auc_m0", "auc_m1", "auc_m2", "delta_auc_m1_m0",
                        "delta_auc_m2_m1", "lr_test_m1_m0"}
    assert res["n_children"] < res["n_placements"]
    # behaviour (the largest generating effect, on intensity and frequency, and a common need) carries
    # more discrimination than any domain without an effect
    drop = q1.drop_one.set_index("domain")["estimate"]
    assert drop["behaviour"] > drop[["learning_communication", "health_disability"]].max()
    assert drop["behaviour"] > 0


def test_domain_effects_cover_the_generating_values(small):
    """M2's log hazard ratios of the 16 need terms and mismatch against truth.json.

    Intervals are Bonferroni-adjusted so the 17 hold jointly with 95% probability (17 separate 95%
    intervals would all cover only ~42% of the time), and one miss is allowed: at this scale (~350
    unplanned endings for ~60 parameters) the robust z-scores are somewhat over-dispersed. Measured over
    seeds 11-30: var(z) = 1.2 and 7% of 95% intervals missed; 17 of 20 seeds had no Bonferroni miss,
    2 had one and one (seed 11) had two. M2 omits 'second best' (not in the 903), which the generating
    model has; its bias on mismatch (mean z +0.7 at this scale) is inside these intervals.
    """
    _, truth, q1, _ = small
    log_hr = truth["true_effects"]["unplanned"]["log_hr"]
    m2 = q1.summary.xs("M2")
    terms = [t for t in m2.index if t[:2] in ("I_", "F_")] + ["MISMATCH"]
    assert len(terms) == 17
    assert len(bonferroni_cover(m2, log_hr, terms)) <= 1
    # and the estimates are not just wide: the strongest true effects are detected
    assert m2.loc["MISMATCH", "ci_low"] > 1 and m2.loc["I_behaviour", "ci_low"] > 1


def test_calibration_and_other_outputs(small):
    q1 = small[2]
    cal = q1.calibration[q1.calibration["model"] == "M2"]
    assert len(cal) == 10 and cal["predicted"].is_monotonic_increasing
    weighted = lambda col: (cal[col] * cal["placements"]).sum() / cal["placements"].sum()  # noqa: E731
    assert weighted("predicted") == pytest.approx(weighted("observed"), abs=0.02)
    widths = q1.council_widths.set_index("LA")
    assert (widths.drop("Region (pooled)")["width_vs_pooled"] > 1).all()
    assert widths.loc["Region (pooled)", "placements"] == q1.counts["n_placements"]
    cov = q1.coverage.set_index("reason")
    assert cov["placements"].sum() == len(small[0]) and cov.loc["analysed", "placements"] == q1.counts["n_placements"]
    assert set(q1.second_best["term"]) == {"MISMATCH", "SECOND_BEST"}


def test_results_do_not_depend_on_the_number_of_workers(small):
    frame, _, q1, extract = small
    again = NeedsStabilityAnalysis(seed=5, bootstrap=BOOT, n_jobs=1).fit(frame, extract_date=extract)
    assert again.to_dict() == q1.to_dict()


def test_without_sensitivity_analyses_the_fit_gives_the_same_main_results(small):
    """sensitivity=False leaves out exactly the complete-follow-up, per-council and second-best analyses:
    every other headline and table is the one of the full fit (same seed, same bootstrap)."""
    frame, _, q1, extract = small
    lean = NeedsStabilityAnalysis(seed=5, bootstrap=BOOT, n_jobs=1, sensitivity=False).fit(frame, extract_date=extract)
    full, got = q1.to_dict(), lean.to_dict()
    assert set(full) - set(got) == {"complete_follow_up", "n_complete_follow_up", "n_complete_follow_up_unplanned",
                                    "council_ci_width_vs_pooled_median", "n_with_request"}
    assert set(got) <= set(full) and got == {k: full[k] for k in got}
    assert got["auc_m1"] == full["auc_m1"] and got["n_placements"] == q1.counts["n_placements"]
    assert set(q1.tables()) - set(lean.tables()) == {"council_ci_widths", "complete_follow_up_odds_ratios",
                                                     "complete_follow_up_tests", "second_best"}
    for name, table in lean.tables().items():
        pd.testing.assert_frame_equal(table.frame, q1.tables()[name].frame)


def test_conclusion_is_written_from_the_published_numbers(small, tmp_path):
    q1 = small[2]
    shown = Publisher(tmp_path, "01").publish(q1)
    text = conclusion(shown)
    assert "Adding the 16 need-domain terms to what the 903 holds improved the model" in text
    assert "Adding the need domains improved how well" in text
    # incremental value is led by the tests (Pepe et al. 2013), ΔAUC second, with its bootstrap named
    assert text.index("likelihood ratio χ²") < text.index("cluster-robust Wald") < text.index("ΔAUC +") \
        and text.index("**Incremental value") < text.index("**Discrimination, out of fold.**")
    assert f"{BOOT} replicates of a child bootstrap rerunning the cross-validation; one-step refits" in text
    lr = q1.to_dict()["lr_test_m1_m0"]
    assert f"likelihood ratio χ² = {lr['statistic']:.1f} on 16 df" in text
    assert f"{q1.to_dict()['auc_m1']['value']:.3f}" in text
    assert f"**{q1.counts['n_placements']:,} placements of {q1.counts['n_children']:,} children**" in text
    flat = dict(shown, delta_auc_m1_m0=Estimate(0.001, -0.004, 0.006))
    assert "no clear evidence that adding the need domains improved discrimination" in conclusion(flat)
    weak = dict(shown, wald_robust_m1_m0=HypothesisTest(20.0, 16, 0.22, "cluster-robust Wald"))
    assert "The evidence that adding the 16 need-domain terms" in conclusion(weak)
    assert "the likelihood-ratio test rejects no added value but the cluster-robust Wald test does not" in conclusion(weak)
    few = dict(shown, n_placements=Guarded("c"))     # a suppressed count stays "c" in the text
    assert "**c placements of" in conclusion(few)


# ---- null mode: needs have no effect on endings -----------------------------------------------------------
@pytest.fixture(scope="module")
def null_runs(tmp_path_factory):
    runs = []
    for seed in NULL_SEEDS:
        frame, truth, extract = synthetic_frame(tmp_path_factory.mktemp(f"q1_null{seed}"), seed=seed, null_needs=True)
        assert truth["true_effects"]["unplanned"]["log_hr"]["intensity_behaviour"] == 0
        runs.append(NeedsStabilityAnalysis(seed=seed, bootstrap=BOOT, drop_one_domains=False, n_jobs=2)
                    .fit(frame, extract_date=extract).to_dict())
    return runs


def test_null_needs_no_false_gain(null_runs):
    """With no needs effect, the AUC gain's interval never lies above 0.

    Out of sample the gain under the null is expected to be slightly *negative* (16 terms of pure noise
    cost precision), so an interval entirely below 0 is a correct finding, not a false positive; what
    must not happen is an interval above 0 (a claimed improvement).
    """
    for res in null_runs:
        assert res["delta_auc_m1_m0"]["lower"] <= 0, res["delta_auc_m1_m0"]
        assert res["delta_auc_m2_m1"]["lower"] <= 0, res["delta_auc_m2_m1"]
    assert np.mean([r["delta_auc_m1_m0"]["value"] for r in null_runs]) < 0.005


def test_null_needs_lr_tests_reject_at_about_the_nominal_rate(null_runs):
    """5 seeds at the 5% level: P(2 or more rejections) is 2.3% if the test holds its size."""
    for key in ("lr_test_m1_m0", "lr_test_m2_m1"):
        rejections = sum(r[key]["p"] < 0.05 for r in null_runs)
        assert rejections <= 1, (key, [r[key]["p"] for r in null_runs])
    assert sum(r["complete_follow_up"]["lr_test_m1_m0"]["p"] < 0.05 for r in null_runs) <= 1


# ---- region scale ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_region_scale_recovers_the_generating_hazard_ratios(tmp_path):
    """At region scale (~85,000 placements) intervals are narrow, so omitted-variable bias shows: M2 has no
    'second best' term and its mismatch HR absorbs part of that effect (second-best placements have
    capability one point lower). The need terms are checked in M2; mismatch and second best in the
    sensitivity model that adds second best (placements with a request), where both are identifiable."""
    frame, truth, extract = synthetic_frame(tmp_path, scale="region", seed=20240331)
    q1 = NeedsStabilityAnalysis(seed=1, bootstrap=30, n_jobs=2).fit(frame, extract_date=extract)
    log_hr = truth["true_effects"]["unplanned"]["log_hr"]
    res = q1.to_dict()
    assert res["delta_auc_m1_m0"]["lower"] > 0.03 and res["delta_auc_m2_m1"]["lower"] > 0
    m2 = q1.summary.xs("M2")
    needs = [t for t in m2.index if t[:2] in ("I_", "F_")]
    assert bonferroni_cover(m2, log_hr, needs) == []
    sb = q1.second_best.set_index(["model", "term"])
    adjusted = sb.loc[("M2 + second best", "MISMATCH")]
    assert adjusted["ci_low"] < math.exp(log_hr["mismatch"]) < adjusted["ci_high"]
    second = sb.loc[("M2 + second best", "SECOND_BEST")]
    assert second["ci_low"] < math.exp(log_hr["second_best"]) < second["ci_high"]
