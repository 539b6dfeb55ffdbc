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
# # Proposed datasets: what they must hold, how big they must be, and what each field adds
#
# For data user groups proposing a replacement for (or an addition to) the SSDA903 return. The 903
# records the placements children had and how they ended; it cannot say what a child needed, whether
# the placement could meet it, or whether it was the placement anyone wanted. This report sets out:
#
# 1. **The published specification** of the proposed dataset (903 plus needs assessments, provider
#    register and placement agreements, placement requests in the Placements Data Standard v2 form),
#    and the questions the 903 alone cannot answer.
# 2. **Power**: the smallest effect of a need domain on placement disruption that a dataset of a given
#    size would detect, for one council, the pooled region and England, with 1 to 5 years of data —
#    the answer to "our numbers are too small to be significant". Analytic (Schoenfeld; Hsieh–Lavori)
#    and checked by simulation from the synthetic region's generating model.
# 3. **The value of each proposed field**: how much each need domain (and the capability fields behind
#    mismatch) improves the prediction of an unplanned ending, from question 1's models.
# 4. **"Did we secure the placement we wanted?"**: from placement requests, the share of placements of
#    the preferred type, suitable but not preferred, or unsuitable; whether the preferred location was
#    met; by need tier and council; and whether a second-best placement predicts disruption.
#
# Small counts are suppressed ("c"), and so is anything computed from them.

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
notebooks = ['04_dataset_proposal']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from rcceval.analyses.prediction.data import needs_columns
from rcceval.analyses.proposal import plots as q4plots
from rcceval.analyses.proposal import power as pw
from rcceval.analyses.proposal import power903 as pw903
from rcceval.analyses.proposal import results as q4
from rcceval.analyses.proposal import text as q4text
from rcceval.analyses.proposal.fields import FieldValue
from rcceval.analyses.proposal.requests import SecuredPlacements
from rcceval.analyses.quality.checks import looked_after_on
from rcceval.analyses.survival.cox import fit_cox
from rcceval.analyses.survival.data import UNPLANNED, CoxSpec, design, follow_up, tier_labels
from rcceval.derive.frame import FrameOptions, analysis_frame, frame_key
from rcceval.reporting.report import open_report
from rcceval.spec.instruments import load_instrument
from rcceval.stats.cox import cox_efron

report = open_report(globals(), "04_dataset_proposal")
p, a, pp = report.params, report.params.analysis, report.params.power
pub = report.publish
instrument = load_instrument(p.instrument)
options = FrameOptions(pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), a.lookback_days)
frame = report.shared(frame_key(options, p.instrument, p.extract_date, p.unplanned_reasons),
                      lambda: analysis_frame(report.region, report.placements, instrument, options))
fu = follow_up(frame)
end = report.extract_date
needs = bool(needs_columns(frame)) and report.inputs >= {"needs_assessments"}
if needs:   # placements with needs and capability at the start
    d0 = design(fu, instrument, CoxSpec())
REFERENCE_HR = 1.2          # the effect per point powered in the simulation and the conclusions
NULL_CHILD_FRAILTY = 1.0    # assumed variance of a child's gamma frailty in the false-positive check
shown_power = field_table = shown_sp = shown_sb = None   # each section's published results, for the conclusions

# %% [markdown]
# ## 1. The published specification
#
# `rcceval schema --docs DIR` writes the proposed dataset's specification: `datapackage.json` (a
# Frictionless Data Package: every field's type, allowed codes and constraints, machine-readable) and
# a data dictionary (`data_dictionary.md`, `data_dictionary.html`) giving each field's meaning, codes,
# constraints and **which question it serves**. `rcceval validate DATA_DIR` checks anyone's extract
# against exactly that specification and names, for every problem, the file, row, column, value and
# rule broken. The questions below are the case for the proposed fields: the 903 alone cannot answer them.

# %%
if report.section("specification"):
    display(pub.publish(q4.beyond_903())["beyond_903"])

# %% [markdown]
# ## 2. Is a dataset big enough? From the 903's own event rates
#
# Whatever else a dataset holds, its power rests on the number of **unplanned endings** it records, and the
# 903 counts them today. For a dataset collecting the last *k* years (1–5): the placements that started in
# those years and their unplanned endings by the extract date, in each council, pooled, and for **England**
# (scaled by the children looked after: DfE 2024, 83,630). The minimum detectable hazard ratio is per
# **standard deviation** of the proposed field (its spread is only known once collected), for a field
# uncorrelated with what the 903 holds: exp((z₁₋α/₂ + z_power) / √d) with d events (Hsieh–Lavori; a squared
# multiple correlation ρ² with the 903 covariates multiplies the log HR by 1/√(1−ρ²)).

# %%
if report.section("power_903"):
    looked_after_all = len(looked_after_on(report.region.c903.episodes, [end]))
    p903 = pw903.power_903(frame["START"], frame["EVENT_UNPLANNED"].to_numpy(bool), frame["LA"], end,
                           looked_after_all, target=pp.target, alpha=pp.alpha)
    shown_903 = pub.publish(p903)
    display(Markdown(pw903.power_903_text(shown_903, pp.target, REFERENCE_HR)))
    display(shown_903["power_903_pooled"].set_index(["unit", "years"]))
    wide903 = shown_903["power_903_by_council"].pivot(index="unit", columns="years", values="mdhr_per_sd")
    wide903.columns = [f"{k} year{'s' if k > 1 else ''}" for k in wide903.columns]
    display(wide903)

# %% [markdown]
# ## 2b. With needs data: power and the minimum detectable hazard ratio per point of need
#
# What matters is the number of **unplanned endings** (events) among placements with needs data, not the
# number of children. For a dataset collecting the last *k* years (1–5), the events are counted in the
# data: placements with a needs assessment and known capability that started in those years, and their
# unplanned endings by the extract date, in each council and pooled. **England** is the region scaled by
# the number of children looked after (DfE 2024: 83,630 nationally, against the children looked after in
# this data on the extract date).
#
# The effect powered is **one point more intensity of need in a domain** (0–3 scale), in the Cox model of
# question 2 (adjusted for the other needs, mismatch and the 903 covariates). With *d* events, a covariate of
# standard deviation σ whose squared multiple correlation with the other covariates is ρ², the Wald test at
# level α has power Φ(|β| σ √(d(1−ρ²)) − z₁₋α/₂) (Hsieh–Lavori; Schoenfeld for a binary covariate),
# and the **minimum detectable hazard ratio** at the target power is exp((z₁₋α/₂ + z_power) / (σ √(d(1−ρ²)))).
# σ√(1−ρ²) is estimated two ways. *Hsieh–Lavori*: σ and ρ² over all placements with needs data. *Observed
# information*: from the Cox model fitted to this data, σ√(1−ρ²) = 1/(SE·√d): the spread of needs, given
# the other covariates, within the risk sets at the times of unplanned endings, which is what the formula
# stands for. They differ when the placements still running at a given time are not like all placements
# (other endings compete, and depend on the same covariates). The simulation below shows the observed
# information is the one that predicts the power actually achieved, so the figures use it (the
# Hsieh–Lavori ones are in the tables, and are used when no model can be fitted). The headline is for the
# domain with the median effective spread ("a typical domain"); the tables give every domain.
#
# **Clustering.** Both estimates are naive (model) variances, which take a child's several placements as
# independent. The **design effect** of each term, its robust variance (clustered by child, as R's
# `coxph(cluster = id)`) over its naive variance in the same fitted model, multiplies the variance: the
# minimum detectable log HR grows by √deff (`mdhr_independent` in the tables is the figure without it).
#
# **Multiplicity.** Every need term of the model is a test. The family-wise error rate is held at α by
# Holm's step-down test over the need terms, and each term is powered at α/m (Holm's first step, the
# conservative power; `mdhr_single_test` is the figure for one pre-specified term at α).

# %%
if not needs:
    report.section("power_needs")
if needs:
    events = pw.events_by_years(fu.loc[d0.rows, "START"], d0.cause == UNPLANNED, fu.loc[d0.rows, "LA"], end)
    looked_after = len(looked_after_on(report.region.c903.episodes, [end]))
    domains = {dm.title: f"I_{dm.id}" for dm in instrument.domains if f"I_{dm.id}" in d0.X.columns}
    n_events = int((d0.cause == UNPLANNED).sum())
    observed = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit0 = cox_efron(d0.time, (d0.cause == UNPLANNED).astype(float), d0.X, strata=d0.stratum, cluster=d0.cluster)
        index = {col: i for i, col in enumerate(d0.X.columns)}
        observed = {lab: pw.observed_effective_sd(fit0.se[index[col]], n_events) for lab, col in domains.items()}
        deff = pw.design_effect(fit0.var_robust, fit0.var_naive)
        design_effects = {lab: float(deff[index[col]]) for lab, col in domains.items()}
    except ValueError as exc:
        design_effects = None
        display(Markdown(f"*The Cox model could not be fitted for the observed-information check: {exc}.*"))
    need_terms = [c for c in d0.X.columns if c.startswith(("I_", "F_", "S_"))]
    pa = pw.PowerAnalysis(target=pp.target, alpha=pp.alpha, multiplicity="holm",
                          family_size=max(1, len(need_terms))).fit(d0.X, events, domains, pw.national_scale(looked_after),
                                                                  observed, design_effects)
    power = q4.power_result(pa, n_events, len(d0.time), looked_after,
                            "robust variance clustered by child over naive variance, Cox model fitted to this data"
                            if design_effects else "not estimated (1)")
    shown_power = pub.publish(power)
    display(Markdown(q4text.power_text(shown_power, end)))
    mdhr = shown_power.tables["mdhr_80"]   # the published table (its name is also a headline's)
    display(mdhr)
    title = f"Smallest HR detected with {pp.target:.0%} power: {power.headline}, per point"
    pub.figure("mdhr_by_years", q4plots.mdhr_by_years(mdhr, title=title).figure)

# %% [markdown]
# ### Events and minimum detectable HR by council
#
# Each council's own data, 1 to 5 years (the headline domain; design effect and Holm's level included), to
# set against the effect a proposal must detect (the conclusions use HR 1.2 per point).

# %%
if needs:
    by_council = shown_power["mdhr_by_council"]
    wide = by_council.pivot(index="unit", columns="years", values="mdhr")
    wide.columns = [f"{k} year{'s' if k > 1 else ''}" for k in wide.columns]
    display(wide)
    display(shown_power["covariate_spread"])
    display(shown_power["mdhr_by_domain"])

# %% [markdown]
# ### Power curves
#
# Power against years of data for the median council, the region and England, at a hazard ratio of 1.1,
# 1.2 and 1.3 per point of need (analytic). The dashed line is 80%.

# %%
if needs:
    c1 = power.by_council
    c1 = c1[(c1["level"] == "council") & (c1["years"] == 1)].sort_values(["events", "unit"])
    median_council = c1["unit"].iloc[(len(c1) - 1) // 2] if len(c1) else None
    largest_council = c1["unit"].iloc[-1] if len(c1) else None
    units = {u: lab for u, lab in [(median_council, f"Median council ({median_council})"), ("Region (pooled)", "Region (pooled)"),
                                   ("England (scaled)", "England (scaled)")] if u is not None}
    curves = by_council[by_council["unit"].isin(units)]
    axes = q4plots.power_curves(curves, [c for c in power.hr_columns if c.rsplit("_", 1)[-1] in ("1.1", "1.2", "1.3")], units,
                                title=f"Power to detect a need domain's effect ({power.headline})")
    pub.figure("power_curves", axes[0].figure)

# %% [markdown]
# ### Checked by simulation
#
# Datasets of the median council's size (1–5 years), the largest council's (1 and 3 years) and the region's (1 year; England's is too large to simulate here) are drawn from the synthetic
# region's generating model (`truth.json`: cause-specific Weibull hazards of the three endings and its
# log-normal council frailty; covariates resampled from this data's placements with needs, capability and a
# placement request; placements entering evenly over the years and followed to the end of the collection),
# with the headline domain's effect set to HR 1.2 per point. Placements are **clustered**: each child has
# the data's mean number of placements, sharing the child's needs; the region's datasets are spread over its
# councils (a baseline hazard per council in the fit). Each is analysed with the Cox model (exact Efron, as
# R's `coxph`; all other generating covariates adjusted for; the **robust variance clustered by child**), and
# the share of datasets in which the Wald test is significant at Holm's per-term level is the simulated power
# (95% interval from the number of replicates; the naive test's rate beside it). The analytic power at the
# same mean number of events (with the data's design effect) is shown beside it. The false-positive check
# (no effect, nominal α) adds a child frailty (gamma, variance 1, an assumption: the generating model has none)
# to show what the robust and the naive tests do when a child's placements share more than their needs.

# %%
if needs:
    # the generating model is read only for synthetic data (synth.recovery: analyses never read truth.json)
    model = None
    if p.data_source == "synthetic":
        from rcceval.synth.recovery import proposal_generating_model
        model = proposal_generating_model(p.data_path)
    if model is not None and largest_council is not None:
        from rcceval.synth.recovery import proposal_truth
        hz = proposal_truth(p.data_path)["parameters"]["hazard"]
        dsb = design(fu, instrument, CoxSpec(second_best=True))
        per_child = max(1, int(round(len(dsb.time) / max(1, len(np.unique(dsb.cluster))))))
        clustering = pw.Clustering(placements_per_child=per_child, council_frailty_sd=float(hz.get("council_frailty_sd", 0.0)),
                                   frailty_causes=tuple(hz.get("council_frailty_applies_to", model.baseline)))
        rows = pw.generating_rows(dsb, model.names)
        target = "intensity_" + pa.spread.loc[pa.headline, "column"][2:]
        model = model.with_effect(target, float(np.log(1.2)))
        per_year = c1.set_index("unit")["placements"]
        settings = [(max(10, int(per_year[median_council]) * k), k, 1) for k in (1, 2, 3, 4, 5)]
        settings += [(max(10, int(per_year[largest_council]) * k), k, 1) for k in (1, 3)]
        region_per_year = int(events.query("level == 'region' and years == 1")["placements"].iloc[0])
        settings += [(max(10, region_per_year), 1, len(per_year))]
        labels = ["median council"] * 5 + ["largest council"] * 2 + ["region"]
        eff_obs = pa.spread.loc[pa.headline, "effective_sd_observed"]
        sim = pw.SimulatedPower(model, rows, target, alpha=pa.alpha_term, replicates=pp.replicates, seed=p.seed, n_jobs=p.parallel,
                                effective_sd=float(eff_obs) if np.isfinite(eff_obs) else None, clustering=clustering,
                                design_effect=float(pa.spread.loc[pa.headline, "design_effect"])).fit(settings)
        null = pw.SimulatedPower(model.with_effect(target, 0.0), rows, target, alpha=pp.alpha, replicates=pp.replicates,
                                 seed=p.seed + 1, n_jobs=p.parallel,
                                 clustering=replace(clustering, child_frailty_var=NULL_CHILD_FRAILTY)).fit(settings[:2])
        simulation = q4.simulation_result(sim, labels, null, "median council, no effect", pa.alpha_term)
        shown_sim = pub.publish(simulation)
        st = shown_sim.tables["simulated_power"]   # the published table (its name is also a headline's)
        display(st)
        curves = {"analytic, Hsieh-Lavori (σ, ρ² over all placements)":
                  lambda d: pw.analytic_power(sim.log_hr, sim.sd, d, sim.alpha, sim.rho2, sim.design_effect)}
        if sim.effective_sd:
            curves["analytic, observed information"] = lambda d: pw.analytic_power(sim.log_hr, sim.effective_sd, d, sim.alpha,
                                                                                   deff=sim.design_effect)
        st = st.reset_index()
        ax = q4plots.simulated_vs_analytic(st, curves, title=f"Simulated and analytic power, HR 1.2 per point ({pa.headline})")
        pub.figure("simulated_vs_analytic", ax.figure)
        display(Markdown(q4text.simulation_text(st, pp.replicates, clustering.describe())))
        display(shown_sim["simulated_false_positives"])
        display(Markdown(q4text.false_positive_text(shown_sim["simulated_false_positives"], pp.alpha, pp.replicates)))
    else:
        display(Markdown("No generating model (not synthetic data): the simulation check needs one."))

# %% [markdown]
# ## 3. The value of each proposed field
#
# From question 1's models (discrete-time hazard of an unplanned ending within a year of the start,
# complementary log-log link; folds and bootstrap by child): for each need domain, the **drop-one gain in
# cross-validated AUC** (the model with every domain against the same model without this one; 95% child
# bootstrap interval) and the **likelihood-ratio χ²** of the same nested pair (2 df: intensity and frequency),
# with the cluster-robust Wald test of the same terms beside it (the LR test treats a child's placements as
# independent). "All need domains" is the 903-only model against the model with needs; "mismatch" adds the
# placement's capability (provider register, placement agreements). In a full run these are question 1's own
# results (report 01 hands them over); run alone, this report fits question 1's models with the same
# settings, so the numbers are the same either way.

# %%
if report.section("field_value") and needs:
    fv = FieldValue(horizon_days=a.horizon_days, folds=a.folds, bootstrap=a.bootstrap, seed=p.seed,
                    n_jobs=p.parallel).fit(frame, instrument, drop_one=report.artifact("01_needs_predict_stability", "drop_one"))
    shown_fv = pub.publish(fv)
    ft = shown_fv.tables["field_value"]   # the published table (its name is also a headline's)
    display(ft.drop(columns="dataset_fields"))
    ax = q4plots.field_value(ft, title="What each field adds to predicting an unplanned ending")
    pub.figure("field_value", ax.figure)
    display(Markdown(q4text.field_value_text(fv.table, fv.ranking()) + "\n\n" + q4text.field_value_source(fv.reused)))
    field_table = fv.table

# %% [markdown]
# ## 4. Did we secure the placement we wanted?
#
# Placement requests in the Placements Data Standard v2 form mark each placement type as preferred,
# suitable but not preferred, or unsuitable, and record whether the agreed placement met the preferred
# location. Joined to the placements (same council, child and start date), for placements with a request:
# the suitability of the type secured, and whether the preferred location was met. Intervals are Wilson 95%
# intervals with the effective sample size (the number of placements divided by the design effect of a
# child's several placements).

# %%
if report.section("secured") and needs:
    tier_names = tier_labels(instrument)
    sp = SecuredPlacements(tier_order=tuple(tier_names.values())).fit(frame.assign(TIER=frame["TIER"].map(lambda t: tier_names.get(t, t))))
    secured = q4.secured_result(sp)
    shown_sp = pub.publish(secured)
    display(Markdown(q4text.secured_text(shown_sp)))
    shown_shares = pub.publish(secured.shares(shown_sp))
    for group, name in [("need tier", "tier"), ("council", "council")]:
        if f"secured_type_by_{name}" in shown_sp:
            display(shown_sp[f"secured_type_by_{name}"])
            shares = shown_shares[f"secured_type_share_by_{name}"]
            ax = q4plots.secured_shares(shares.reset_index().assign(group=group), group,
                                        title=f"Suitability of the type secured, by {group}")
            pub.figure(f"secured_type_by_{name}", ax.figure)
            display(shown_sp[f"location_by_{name}"])

# %% [markdown]
# ### Does a second-best placement predict disruption?
#
# The cause-specific Cox model of question 2 (needs, mismatch and the 903 covariates; a baseline hazard for
# each council; exact Efron ties; 95% interval from the variance clustered by child), fitted to the
# placements with a request and with **second best** (the type secured was not the preferred one) added.

# %%
if report.section("secured") and needs:
    sb = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sb = fit_cox(fu, instrument, spec=CoxSpec(second_best=True), alpha=pp.alpha, with_ph=False, engine="efron")
    except (ValueError, KeyError) as exc:
        display(Markdown(f"*The model could not be fitted: {exc}.*"))
    second_best = q4.second_best_result(sb, pp.alpha)
    if second_best is not None:
        shown_sb = pub.publish(second_best)
        display(shown_sb["second_best_cox"])
        display(Markdown(q4text.second_best_text(shown_sb)))
    elif sb is not None:
        display(Markdown("Every placement with a request was of the same kind (all or none second best): no estimate."))

# %% [markdown]
# ## Conclusions for a dataset proposal
#
# Written from the numbers above: the effect of HR 1.2 per point against each unit's minimum detectable HR
# (design effect and Holm's level included), the fields whose drop-one gain has an interval above zero and
# the domains Holm's correction leaves, and what the placement requests show.

# %%
display(Markdown(q4text.conclusions_text(shown_power, REFERENCE_HR, field_table, pp.alpha, shown_sp, shown_sb)))

# %%
report.finish();
