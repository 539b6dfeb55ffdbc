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
# # Question 2: how long do placements survive, by need profile, and how do they end?
#
# A placement ends in one of three ways: an **unplanned ending** (disruption: the carer or child asks
# for it to end, an allegation, a standards concern, the provider closes), a **planned change**, or the
# child **leaving care**; placements still open at the extract date are *censored*. This report
# follows every placement that started in the analysis window from its first day and asks how long
# it lasts, and how it ends, for children with different **need profiles**. Without needs assessments
# (the 903 alone) the same curves and models are by what the 903 holds: placement type, age, legal
# status, previous placements, category of need, UASC.
#
# **Need profiles.** (1) The instrument's *tiers* (straightforward; complex or co-occurring;
# extensive and enduring) from the needs assessment in force at the placement's start, with the
# domains behind each tier shown; (2) an *intensity × frequency grid*: the highest intensity of need
# in any domain and how often that most intense need shows; (3) *data-driven clusters* (k-means on
# the 16 ratings, method below).
#
# **Methods.** Kaplan–Meier curves with numbers at risk; **cumulative incidence** of each ending by the
# Aalen–Johansen estimator, since the endings compete (one minus a Kaplan–Meier curve is never used
# for a competing ending); log-rank tests; **cause-specific Cox models** (Efron ties, a separate
# baseline hazard for each council, confidence intervals robust to a child's placements being
# related: clustered by child), checked for proportional hazards with R's `cox.zph` test, and refitted
# with needs re-scored at each review as time-varying covariates. Models are fitted with *lifelines*;
# the robust variance and the curves' intervals are computed as R's `survival` computes them (tested
# to agree). Small counts are suppressed ("c").

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
analysis = {'lookback_days': 183, 'horizon_days': 365, 'folds': 5, 'bootstrap': 200}
power = {'replicates': 200, 'target': 0.8, 'alpha': 0.05}
parallel = {'workers': 2, 'scheduler': None}
costing = 'parameters/costing.yaml'
seed = 20240331
notebooks = ['02_placement_survival']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from rcceval.analyses.costing.analysis import fitted_hazards
from rcceval.analyses.survival import plots as q2plots
from rcceval.analyses.survival import text as q2text
from rcceval.analyses.survival.result import analyse
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.reporting.report import open_report
from rcceval.spec.instruments import load_instrument
from rcceval.synth import recovery

report = open_report(globals(), "02_placement_survival")
p, a = report.params, report.params.analysis
pub = report.publish
instrument = load_instrument(p.instrument)
options = FrameOptions(pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), a.lookback_days)
frame = report.shared(f"analysis_frame|{p.instrument}|{options}",
                      lambda: analysis_frame(report.region, report.placements, instrument, options))
truth = recovery.read_truth(p.data_path) if p.data_source == "synthetic" else None
result = analyse(frame, report.region.tables.get("needs_assessments"), instrument, seed=p.seed,
                 min_at_risk=max(10, 2 * p.disclosure.threshold),      # curves stop where fewer are still at risk
                 recover=(lambda model: recovery.cox_recovery(model, truth)) if truth is not None else None)
by_tier = result.profile_name == "need tier"     # False on the 903 alone: curves by placement type
if "03_unit_cost_vs_needs_led" in p.notebooks and by_tier:   # question 3's fitted hazards (aggregates only)
    report.save_artifact("hazards", fitted_hazards(frame, instrument, report.region.c903.header))
headline = pub.publish(result)   # every table and headline through disclosure control
tables = pub.published           # the protected tables, by name
label = result.profile_name

# %% [markdown]
# ## Headlines

# %%
display(Markdown(q2text.headlines(result)))

# %% [markdown]
# ## Placements analysed
#
# Every placement starting in the window with at least a day of follow-up is in the curves (by need
# tier: if it had a needs assessment in force at its start; on the 903 alone: by placement type). The
# Cox models need complete covariates; placements left out, and why, are counted here.

# %%
display(tables["coverage"].set_index("placements").astype(str).replace("None", ""))
for note in result.notes:
    display(Markdown(f"*{note}.*"))

# %% [markdown]
# ## How long placements last, by profile
#
# **Any ending** (left): the share of placements still running. **Free of an unplanned ending**
# (right): Kaplan–Meier with planned changes and leaving care *censored*: it is **net of competing
# endings** (the disruption hazard alone, as if the other endings could not happen), so one minus it is
# **not** the share of placements that end unplanned: that share is the cumulative incidence in the next
# section. Shaded bands are 95% confidence intervals (log-log, clustered by child); numbers at risk
# are under each plot.

# %%
if report.section("curves"):
    for name, ylab in [("any", "Placement still running"),
                       ("unplanned", "Free of an unplanned ending (net of competing endings)")]:
        ax = q2plots.survival_curves(tables[f"km_{name}_curves"].reset_index(), tables[f"at_risk_{name}"],
                                      ylabel=ylab, title=f"{ylab}, by {label}")
        pub.figure(f"km_{name}_by_profile", ax.figure)
        plt.show()

# %% [markdown]
# ### Median duration and one-year figures by profile
#
# Median placement duration (any ending; days, 95% CI); the share still running at one year; the
# share free of an unplanned ending at one year (Kaplan–Meier, net of competing endings); and the
# **cumulative incidence** of an unplanned ending by one year (Aalen–Johansen: the share of placements
# that did end unplanned within a year).

# %%
if report.section("curves"):
    display(tables["survival_by_tier"].set_index("profile").T)
    display(Markdown(q2text.tier_tests(result.km_tests["unplanned"], result.km_tests["any"], label)))

# %% [markdown]
# ## Competing endings by profile
#
# Cumulative incidence (Aalen–Johansen) of each ending: at any time the three curves and the share
# still running add up to one. Intervals are 95%, clustered by child.

# %%
if report.section("curves"):
    display(tables["endings_by_tier"])
    axes = q2plots.incidence_panels(tables["cif_curves"].reset_index(),
                                   title=f"Cumulative incidence of each ending, by {label}")
    pub.figure("cif_by_profile", axes[0].figure)
    plt.show()
    display(tables["cif_1y_2y_by_tier"])

# %% [markdown]
# ## One-year figures by what the 903 holds
#
# The same one-year figures for each level of age band, legal status, placement type, previous
# placements in the period, category of need and UASC status: each characteristic on its own, not
# adjusted for the others (the Cox model below adjusts).

# %%
if report.section("by_903"):
    display(tables["survival_by_903"].set_index(["characteristic", "profile"]))

# %% [markdown]
# ## Need profiles: the domains behind each tier
#
# Mean intensity (I_) and frequency (F_) of need in each domain (0–3) among placements in each tier:
# a tier is a label for a pattern of needs, and the pattern is what a commissioner has to meet.

# %%
need_profiles = report.section("need_profiles")
if need_profiles and not by_tier:
    display(Markdown("*Need profiles: not run, no placement in the analysis window has a needs assessment in force "
                     "at its start (needs_assessments.csv is there but matches none; see data/README.md).*"))
    need_profiles = False
if need_profiles:
    display(tables["tier_domains"].set_index("profile").T)

# %% [markdown]
# ## Intensity × frequency grid
#
# Each placement sits in the cell of its highest intensity of need (any domain) and how often that
# most intense need shows. The cells give the share of placements ending unplanned within a year
# (cumulative incidence): it separates needs that are intense but occasional from needs that are
# intense and constant, which a tier merges.

# %%
if need_profiles:
    grid = tables["grid_cif_unplanned_1y"]
    display(grid.set_index(["peak_intensity", "peak_frequency"]).round(3))
    ax = q2plots.grid_heatmap(grid, "cif", title="Unplanned ending within a year, by intensity and frequency of need")
    pub.figure("grid_cif_unplanned_1y", ax.figure)
    plt.show()

# %% [markdown]
# ## Data-driven need profiles
#
# **Method.** k-means (Lloyd's algorithm, k-means++ starting centres, 10 starts, the best kept) on the
# 16 intensity and frequency ratings at the placement's start, each standardised; k = 4; seeded from
# the parameters. Clusters are numbered by increasing total intensity and named by the domains most
# above average. They describe patterns in this data, not validated types.

# %%
if need_profiles and result.clusters is not None:
    display(tables["need_clusters"].set_index("cluster").T)
    axes = q2plots.incidence_panels(tables["cif_curves_clusters"].reset_index(),
                                   title="Cumulative incidence of each ending, by need cluster")
    pub.figure("cif_by_cluster", axes[0].figure)
    plt.show()

# %% [markdown]
# ## What is associated with a higher hazard of an unplanned ending (Cox model)
#
# Cause-specific Cox model of an unplanned ending (planned changes and leaving care censored), on every
# placement with complete covariates (one analysis population): where needs assessments exist, the
# intensity and frequency of each need domain (per point, 0–3) and the **mismatch** (per point of need
# intensity above what the placement can meet, summed over domains); and what the 903 holds, as question
# 1's baseline does (age band, placement type, legal status, previous placements in the period, category
# of need, distance from home, SDQ band, UASC, sex), each where the data has it. Each council has its own
# baseline hazard; Efron's method for tied days; 95% intervals from the robust variance clustered by
# child. Hazard ratios are associations adjusted for the other covariates, not the effect of changing
# one of them.

# %%
if report.section("cox"):
    hr = tables["cox_unplanned"].round(4)
    ax = q2plots.forest(hr, None if result.recovery is None else result.recovery["true_hr"],
                         title="Unplanned ending: hazard ratios (95% CI, robust)")
    pub.figure("forest_unplanned", ax.figure)
    plt.show()
    display(hr[["hr", "hr_lower", "hr_upper", "robust_se", "p"]].round(3))
    display(Markdown(q2text.model_fit(result)))

# %% [markdown]
# ### Does the proportional hazards assumption hold?
#
# R survival's `cox.zph` test (survival ≥ 3.0: a score test of each covariate × g(t), with g the
# Kaplan–Meier transform of time, event times pooled across councils; computed exactly as R does, and
# tested against it) for each covariate and for all together. A covariate *fails* when its
# Holm-adjusted p value is below 0.05 (one test per covariate). Where one fails, the model is refitted
# with that covariate handled: a failing categorical covariate becomes a stratum (its own baseline
# hazard), any other covariate gets a separate hazard ratio for days 0–90, 90–365 and 365+.

# %%
if report.section("cox"):
    display(Markdown(q2text.proportional_hazards(result)))
    ph = tables["ph_test"].round(4)
    display(ph.loc[ph["p"] < 0.05] if (ph["p"] < 0.05).any() else Markdown("No covariate has an unadjusted p below 0.05."))
    if "ph_remedy" in tables:
        display(tables["ph_remedy"])

# %% [markdown]
# ### Each ending's own hazard (cause-specific models)
#
# The same covariates and placements for each ending. A covariate associated with a higher hazard of an
# unplanned ending need not be associated with planned moves or leaving care; a cause-specific hazard
# ratio describes the rate of that ending among placements still running, not the share ending that way.

# %%
if report.section("cox"):
    cs = tables["cox_cause_specific"]
    display(q2plots.hr_text(cs))
    ax = q2plots.compare_forest(cs, list(result.cause_specific), title="Hazard ratio of each ending")
    pub.figure("forest_cause_specific", ax.figure)
    plt.show()

# %% [markdown]
# ### Sensitivity analysis: placements with a placement request, second best in the model
#
# The main model is on every placement with complete covariates. Whether the placement secured was
# **second best** (not the type preferred) is known only where a placement request was recorded (the
# last few years), so it is added in a sensitivity analysis on those placements alone, fitted when
# enough of them ended unplanned. A second-best placement also tends to meet less of the child's needs,
# so where the two models differ, the main model's mismatch hazard ratio carries part of the
# second-best association.

# %%
if report.section("cox"):
    if result.requests_only is not None:
        display(q2plots.hr_text(tables["cox_requests_only"]))
        display(Markdown(q2text.requests_only(result)))
    else:
        display(Markdown("No request-only sensitivity model: too few placements with a placement request ended "
                         "unplanned, or no placement requests are recorded."))

# %% [markdown]
# ## Needs re-scored at reviews
#
# Needs change while a placement runs, and reviews re-score them. Here each placement is split at
# every needs review during it, into (start, stop] intervals that carry the latest ratings (and the
# mismatch recomputed against the placement's capability), and the Cox model is refitted on the same
# placements (lifelines' CoxTimeVaryingFitter, robust variance clustered by child). If the hazard ratios
# of the re-scored model are stronger, current needs are more closely associated with an unplanned
# ending than needs at the start; if not, not.

# %%
if report.section("time_varying") and need_profiles:
    if result.time_varying is not None:
        tv = tables["cox_time_varying_needs"]
        display(q2plots.hr_text(tv))
        ax = q2plots.compare_forest(tv, ["needs at start", "needs re-scored at reviews"],
                                     title="Needs at the placement's start vs re-scored at reviews")
        pub.figure("forest_time_varying", ax.figure)
        plt.show()
        display(Markdown(q2text.time_varying(result)))
    else:
        display(Markdown("No needs reviews within the placements modelled: the time-varying model is not fitted."))

# %% [markdown]
# ## Check against the generating model (synthetic data only)
#
# The synthetic region's placement endings were drawn from stated cause-specific hazards
# (`truth.json`). Each hazard ratio of the main model beside the value that generated the data: with
# 95% intervals, about 1 in 20 is expected to miss by chance.

# %%
if result.recovery is not None:
    display(tables["recovery"])
    display(Markdown(q2text.recovery(headline.headlines["recovery"])))
else:
    display(Markdown("Not synthetic data: no generating values to compare with."))

# %%
report.finish();
