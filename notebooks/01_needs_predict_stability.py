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
# Confidence intervals are robust to the placements of one child being related (clustered by child).
# Prediction is judged **out of sample**: 5-fold cross-validation with all of a child's placements in
# one fold, on the predicted risk of an unplanned ending by the horizon with other endings competing;
# placements censored before the horizon are handled by inverse-probability-of-censoring weights.
# Gains in AUC get bootstrap intervals that resample children. A logistic model of placements with
# complete follow-up is the sensitivity analysis (odds ratios). Small counts are suppressed ("c").

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
analysis = {'lookback_days': 183, 'horizon_days': 365, 'folds': 5, 'bootstrap': 200, 'jobs': 2}
power = {'replicates': 200, 'target': 0.8, 'alpha': 0.05}
costing = 'parameters/costing.yaml'
seed = 20240331
notebooks = ['01_needs_predict_stability']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from rcceval.analyses.prediction import plots as q1plots
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.spec.instruments import load_instrument
from rcceval.reporting.report import open_report
from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
from rcceval.analyses.prediction.text import conclusion

report = open_report(globals(), "01_needs_predict_stability")
p, a = report.params, report.params.analysis
pub = report.publish
frame = analysis_frame(report.region, report.placements, load_instrument(p.instrument),
                       FrameOptions(pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), a.lookback_days))
q1 = NeedsStabilityAnalysis(horizon_days=a.horizon_days, folds=a.folds, bootstrap=a.bootstrap, seed=p.seed,
                            n_jobs=a.jobs).fit(frame, extract_date=report.extract_date)
res = q1.to_dict()

# %% [markdown]
# ## Data coverage
#
# Placements starting in the analysis window, by whether they could be analysed. The models need the
# needs assessment in force at the start (the latest within the look-back) and the placement's
# capability; placements without them are left out of all three models (so the models are nested) and
# their unplanned-ending rate is shown beside that of the placements analysed, to show whether the
# missing data is selective.

# %%
coverage = pub.table("coverage", q1.coverage, counts=["placements", "known_at_horizon", "unplanned_within_horizon"],
                     percent_of={"pct_unplanned": "unplanned_within_horizon"})
display(coverage.set_index("reason"))
display(Markdown(f"{res['n_placements']:,} placements of {res['n_children']:,} children in {res['n_councils']} "
                 f"council(s), {res['n_person_periods']:,} person-period rows in {res['n_intervals']} intervals."))

# %% [markdown]
# ## Effects of needs and mismatch (hazard ratios)
#
# Hazard ratio of an unplanned ending per point on each 0–3 scale (per point of summed mismatch),
# adjusted for everything in M0; 95% confidence intervals robust to clustering by child. M2's needs
# effects are those *given* the mismatch. The full tables (M0's terms too) are published as
# `hazard_ratios_all`.

# %%
effects = pub.model_table("hazard_ratios_needs", q1.effects(("M1", "M2")).round(4))
display(effects.round(3))
pub.model_table("hazard_ratios_all", q1.effects(("M0", "M1", "M2"), needs_only=False).round(4))
fig, ax = plt.subplots(figsize=(8, 7))
q1plots.effects(ax, effects)
pub.figure("hazard_ratios_needs", fig)
plt.show()

# %% [markdown]
# ## Model comparison
#
# Likelihood-ratio tests compare each model with the one before it (the same placements); the
# cluster-robust Wald test of the same terms does not assume placements of one child are independent.
# AIC: lower is better. AUC and Brier score are cross-validated (folds by child) and censoring-weighted;
# `brier_null` is the Brier score of predicting the overall rate for everyone.

# %%
cols = ["label", "parameters", "loglik", "aic", "lr_statistic", "lr_df", "lr_p", "wald_robust_statistic",
        "wald_robust_df", "wald_robust_p", "auc", "auc_ci_low", "auc_ci_high", "brier", "brier_null"]
comparison = pub.model_table("model_comparison", q1.comparison[cols].round(5))
display(comparison[cols[:10]].round(1).assign(lr_p=comparison["lr_p"], wald_robust_p=comparison["wald_robust_p"]))
display(comparison[["label"] + cols[10:]].round(4))
delta = pub.model_table("delta_auc", q1.delta_auc.round(5))
display(delta)
fig, axes = plt.subplots(1, 2, figsize=(11, 3), gridspec_kw={"width_ratios": [1.3, 1]})
q1plots.auc_and_gains(axes, comparison, delta)
fig.tight_layout()
pub.figure("auc_and_gains", fig)
plt.show()

# %% [markdown]
# ## Calibration
#
# Mean predicted risk against the observed (censoring-weighted) proportion with an unplanned ending by
# the horizon, in tenths of predicted risk. Points on the diagonal mean the predicted risks can be read
# as probabilities.

# %%
cal = pub.table("calibration", q1.calibration.round(5), counts=["placements"])
fig, ax = plt.subplots(figsize=(6, 5))
q1plots.calibration(ax, cal)
pub.figure("calibration", fig)
plt.show()

# %% [markdown]
# ## Contribution of each domain
#
# M1 refitted without one domain at a time (its intensity and frequency), in the same folds: the fall
# in cross-validated AUC, with a bootstrap interval, is that domain's contribution over and above the
# others.

# %%
drop = pub.model_table("drop_one_domain", q1.drop_one.set_index("domain").round(5))
display(drop)
fig, ax = plt.subplots(figsize=(7, 4))
q1plots.drop_one(ax, drop.reset_index())
pub.figure("drop_one_domain", fig)
plt.show()

# %% [markdown]
# ## One council alone against the pooled region
#
# Councils say their numbers are too small to evaluate needs data on their own. Here one needs effect,
# the hazard ratio per point of total intensity of need (in a compact model: interval, age band,
# placement type, previous placements, UASC), is estimated in each council alone and in the pooled
# region (with council effects). `width_vs_pooled` is how many times wider the council's confidence
# interval is (on the log scale).

# %%
widths = pub.table("council_ci_widths", q1.council_widths.round(5), counts=["placements", "unplanned_within_horizon"])
display(widths.set_index("LA"))
fig, ax = plt.subplots(figsize=(8, 0.35 * len(widths) + 1.5))
q1plots.council_widths(ax, widths)
pub.figure("council_ci_widths", fig)
plt.show()

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
cfu = q1.complete_follow_up.reset_index()
cfu = cfu[cfu["term"].str.match(r"^[IFS]_") | cfu["term"].eq("MISMATCH")].set_index(["model", "term"])
display(pub.model_table("complete_follow_up_odds_ratios", cfu[["or", "ci_low", "ci_high", "p"]].round(4)).round(3))
display(pub.model_table("complete_follow_up_tests", q1.complete_follow_up_tests.round(5)))
if len(q1.second_best):
    display(pub.model_table("second_best", q1.second_best.set_index(["model", "term"]).round(4)))

# %% [markdown]
# ## Conclusion

# %%
display(Markdown(conclusion(res, effects, q1.coverage, q1.calibration)))
for key, value in res.items():
    pub.result(key, value)

# %%
_ = report.finish()
