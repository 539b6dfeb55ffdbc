# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Question 1: does granular needs data predict placement stability?
#
# The 903 return says where a child was placed, not what the child needs. This report asks whether
# a needs assessment (the intensity and frequency of need in each domain, at the placement's start) and
# the **mismatch** between those needs and what the placement can meet predict an **unplanned ending**
# (disruption) better than what councils already return.
#
# **Outcome.** An unplanned ending within the horizon (`analysis.horizon_days`) of the placement's
# start. Placements still open at the extract date are *censored*; planned moves and leaving care are
# *competing* endings.
#
# **Method.** A discrete-time hazard model on person-period rows (one row per placement and month at
# risk, complementary log-log link), so that censored placements count for the time they were
# followed and the coefficients are **hazard ratios** (comparable with a Cox model). Three nested models
# are fitted to the same placements:
#
# | model | covariates |
# | --- | --- |
# | M0 | what the 903 already holds: age band, sex, category of need, legal status, placement type, provider, previous placements in the period, distance band, UASC, SDQ band, council |
# | M1 | M0 + intensity and frequency of each need domain |
# | M2 | M1 + mismatch (how far needs exceed the placement's capability, summed over domains) |
#
# Confidence intervals are robust to the placements of one child being related (clustered by child, in
# the convention of R's `sandwich::vcovCL(glm, cluster = ~child, type = "HC1")`).
# **Incremental value** is judged first by the likelihood-ratio and cluster-robust Wald tests of the
# added terms — for nested models these are the valid tests of "no added value", a test on the gain in
# AUC is not (Pepe et al. 2013) — and second by the gain in AUC as a measure of size.
# Prediction is judged **out of sample**: 5-fold cross-validation with all of a child's placements in
# one fold, on the predicted risk of an unplanned ending by the horizon with other endings competing;
# placements censored before the horizon are handled by inverse-probability-of-censoring weights.
# AUCs and their gains get intervals from a bootstrap that resamples children and **reruns the whole
# cross-validation** in each replicate (every fold's models refitted by one Fisher-scoring step from the
# fold's fit, a standard one-step approximation). A logistic model of placements with complete
# follow-up is the sensitivity analysis (odds ratios). Small counts are suppressed ("c").

# %% tags=["parameters"]
# Parameters: papermill replaces these (rcceval run, or papermill -f parameters/default.yaml)
run_name = 'default'
data_source = 'synthetic'
data_dir = 'data/synthetic'
synthetic = {'scale': 'region', 'seed': 20240331, 'null_needs': False}
councils = 'all'
analysis_start = '2019-04-01'
analysis_end = '2025-03-31'
extract_date = None
unplanned_reasons = ['ALLEG', 'APPRR', 'CHILD', 'CLOSE', 'CREQB', 'CREQO', 'STAND']
strict = False
disclosure = {'threshold': 5, 'round_to': None, 'suppress_zero': False}
analysis = {'lookback_days': 183, 'horizon_days': 365, 'folds': 5, 'bootstrap': 200, 'imputations': 10}
power = {'replicates': 200, 'target': 0.8, 'alpha': 0.05}
parallel = {'workers': 2, 'scheduler': None}
costing = 'parameters/costing.yaml'
seed = 20240331
notebooks = ['01_needs_predict_stability']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import pandas as pd
from IPython.display import Markdown, display

from rcceval.analyses.prediction import plots as q1plots
from rcceval.analyses.prediction import text as q1text
from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
from rcceval.analyses.prediction.baseline import BaselineAnalysis
from rcceval.analyses.prediction.data import needs_columns
from rcceval.analyses.prediction.text import conclusion, coverage_sentence
from rcceval.derive.frame import FrameOptions, analysis_frame, frame_key
from rcceval.reporting.report import open_report
from rcceval.spec.instruments import load_instrument

report = open_report(globals(), "01_needs_predict_stability")
p, a = report.params, report.params.analysis
options = FrameOptions(pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), a.lookback_days)
frame = report.shared(frame_key(options, p.instrument, p.extract_date, p.unplanned_reasons),
                      lambda: analysis_frame(report.region, report.placements, load_instrument(p.instrument), options))
needs = report.section("needs_models")
if needs and not needs_columns(frame):
    display(Markdown("*The needs models: not run, no placement in the analysis window has a needs assessment in force "
                     "at its start (needs_assessments.csv is there but matches none; see data/README.md).*"))
    needs = False
if needs:
    q1 = NeedsStabilityAnalysis(horizon_days=a.horizon_days, folds=a.folds, bootstrap=a.bootstrap, seed=p.seed,
                                n_jobs=p.parallel).fit(frame, extract_date=report.extract_date)
    report.save_artifact("drop_one", q1.drop_one_results())   # question 4's value of each field (aggregates)
    shown = report.publish.publish(q1)

# %% [markdown]
# ## The 903 baseline (M0) on its own
#
# Without needs assessments the comparison cannot be made, but the baseline can: M0 fitted to every
# placement starting in the window with an age band (same model, folds, censoring weights and child
# bootstrap as below). With needs data, M0 is the first row of the model comparison further down.
# **The gain needs data would have to bring to be detectable**: from the 903's own unplanned endings,
# the smallest hazard ratio per standard deviation of a needs score that a Wald test would detect with
# the target power (question 4's analytic power; σ = 1, the score taken as uncorrelated with M0's
# covariates: correlation makes the detectable effect larger by 1/√(1−ρ²)).

# %%
if not needs and report.section("baseline"):
    base = BaselineAnalysis(horizon_days=a.horizon_days, folds=a.folds, bootstrap=a.bootstrap, seed=p.seed,
                            n_jobs=p.parallel, target=p.power.target, alpha=p.power.alpha).fit(frame, report.extract_date)
    shown_base = report.publish.publish(base)
    display(shown_base["baseline_coverage"].set_index("reason"))
    display(shown_base["baseline_performance"])
    display(Markdown(q1text.baseline_text(shown_base)))
    report.publish.figure("calibration", q1plots.calibration(shown_base["baseline_calibration"].assign(model="M0"))
                          .figure)
    display(shown_base["baseline_hazard_ratios"])
    if report.section("detectable_gain"):
        gain = shown_base["detectable_gain"]
        wide = gain.pivot(index="unit", columns="years", values="mdhr_per_sd")
        wide.columns = [f"{k} year{'s' if k > 1 else ''}" for k in wide.columns]
        display(Markdown(q1text.detectable_text(shown_base, p.power.target)))
        display(wide)
elif needs:
    display(Markdown("M0 is fitted with the needs models below (first row of the model comparison)."))

# %% [markdown]
# ## Data coverage
#
# Placements starting in the analysis window, by whether they could be analysed. The models need the
# needs assessment in force at the start (the latest within the look-back) and the placement's
# capability; placements without them are left out of all three models (so the models are nested) and
# their unplanned-ending rate is shown beside that of the placements analysed, to show whether the
# missing data is selective.

# %%
if needs:
    display(shown["coverage"].set_index("reason"))
    display(Markdown(coverage_sentence(shown)))

# %% [markdown]
# ## Effects of needs and mismatch (hazard ratios)
#
# Hazard ratio of an unplanned ending per point on each 0–3 scale (per point of summed mismatch),
# adjusted for everything in M0; 95% confidence intervals robust to clustering by child. M2's needs
# effects are those *given* the mismatch. The full tables (M0's terms too) are published as
# `hazard_ratios_all`.

# %%
if needs:
    display(shown["hazard_ratios_needs"].round(3))
    report.publish.figure("hazard_ratios_needs", q1plots.effects(shown["hazard_ratios_needs"]).figure)

# %% [markdown]
# ## Incremental value and model comparison
#
# First the tests of what each step adds (`incremental_value`): the likelihood-ratio test compares each
# model with the one before it (the same placements); the cluster-robust Wald test of the same terms
# does not assume placements of one child are independent. The gain in cross-validated AUC, with its
# refitting-bootstrap interval, is beside them as a measure of size, not as the test.
# AIC: lower is better. AUC and Brier score are cross-validated (folds by child) and censoring-weighted;
# `brier_null` is the Brier score of predicting the overall rate for everyone.

# %%
if needs:
    display(shown.tables["incremental_value"])
    comparison = shown["model_comparison"]
    display(comparison.iloc[:, :10].round(1).assign(lr_p=comparison["lr_p"], wald_robust_p=comparison["wald_robust_p"]))
    display(comparison[["label"] + list(comparison.columns[10:])].round(4))
    display(shown["delta_auc"])
    report.publish.figure("auc_and_gains", q1plots.auc_and_gains(comparison, shown["delta_auc"])[0].figure)

# %% [markdown]
# ## Calibration
#
# Mean predicted risk against the observed (censoring-weighted) proportion with an unplanned ending by
# the horizon, in tenths of predicted risk. Points on the diagonal mean the predicted risks can be read
# as probabilities.

# %%
if needs:
    report.publish.figure("calibration", q1plots.calibration(shown["calibration"]).figure)

# %% [markdown]
# ## Contribution of each domain
#
# M1 refitted without one domain at a time (its intensity and frequency), in the same folds: the fall
# in cross-validated AUC, with a bootstrap interval (the cross-validation rerun in every replicate), is
# that domain's contribution over and above the others; `boot_shift` is how far the replicates' median
# sits from the estimate (a resample has fewer distinct children; intervals are re-centred on the estimate).

# %%
if needs:
    display(shown["drop_one_domain"])
    report.publish.figure("drop_one_domain", q1plots.drop_one(shown["drop_one_domain"].reset_index()).figure)

# %% [markdown]
# ## One council alone against the pooled region
#
# Councils say their numbers are too small to evaluate needs data on their own. Here one needs effect,
# the hazard ratio per point of total intensity of need (in a compact model: interval, age band,
# placement type, previous placements, UASC), is estimated in each council alone and in the pooled
# region (with council effects). `width_vs_pooled` is how many times wider the council's confidence
# interval is (on the log scale).

# %%
if needs:
    display(shown["council_ci_widths"].set_index("LA"))
    report.publish.figure("council_ci_widths", q1plots.council_widths(shown["council_ci_widths"]).figure)

# %% [markdown]
# ## Sensitivity analyses
#
# **Complete follow-up.** A logistic model of an unplanned ending within the horizon among placements
# that started at least a horizon before the extract (so every one has a known status). Its
# coefficients are **odds ratios**, not hazard ratios: they are larger in size when the outcome is
# common, so compare the direction and the tests, not the numbers.
#
# **Second-best placements.** Where a placement request exists (Placements Data Standard), the type
# secured may not be the one preferred. Second-best placements carry more mismatch, and the 903
# cannot see them, so part of M2's mismatch effect may be theirs: M2 with and without a second-best
# term, among placements with a request.

# %%
if needs:
    display(shown["complete_follow_up_odds_ratios"].round(3))
    display(shown["complete_follow_up_tests"])
    if "second_best" in shown:
        display(shown["second_best"])

# %% [markdown]
# ## Conclusion

# %%
if needs:
    display(Markdown(conclusion(shown)))

# %%
_ = report.finish()
