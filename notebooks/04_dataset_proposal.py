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
analysis = {'lookback_days': 183, 'horizon_days': 365, 'folds': 5, 'bootstrap': 200, 'jobs': 2}
power = {'replicates': 200, 'target': 0.8, 'alpha': 0.05}
costing = 'parameters/costing.yaml'
seed = 20240331
notebooks = ['04_dataset_proposal']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import json
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from rcceval.analyses.proposal import power as pw
from rcceval.analyses.proposal import plots as q4plots
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.spec.instruments import load_instrument
from rcceval.analyses.proposal.fields import FieldValue
from rcceval.analyses.quality.checks import looked_after_on
from rcceval.analyses.proposal.requests import SecuredPlacements, counts_wide, shares_shown
from rcceval.reporting.report import open_report
from rcceval.spec.datasets import BEYOND_903
from rcceval.analyses.survival.cox import fit_cox
from rcceval.analyses.survival.data import UNPLANNED, CoxSpec, design, follow_up, tier_labels
from rcceval.stats.cox import cox_efron

report = open_report(globals(), "04_dataset_proposal")
p, a, pp = report.params, report.params.analysis, report.params.power
pub = report.publish
instrument = load_instrument(p.instrument)
frame = analysis_frame(report.region, report.placements, instrument,
                       FrameOptions(pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), a.lookback_days))
truth_file = Path(p.data_path) / "truth.json"
truth = json.loads(truth_file.read_text()) if p.data_source == "synthetic" and truth_file.is_file() else None
fu = follow_up(frame)
d0 = design(fu, instrument, CoxSpec())            # placements with needs and capability at the start
end = report.extract_date
pct = lambda x: "–" if x is None or pd.isna(x) else f"{100 * x:.1f}%"

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
beyond = pd.DataFrame([{"question": q["question"], "serves": q["serves"], "why the 903 cannot answer it": q["why_not_903"],
                        "proposed fields": ", ".join(q["fields"])} for q in BEYOND_903]).set_index("question")
display(pub.model_table("beyond_903", beyond))

# %% [markdown]
# ## 2. Is a dataset big enough? Power and the minimum detectable hazard ratio
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

# %%
events = pw.events_by_years(fu.loc[d0.rows, "START"], d0.cause == UNPLANNED, fu.loc[d0.rows, "LA"], end)
looked_after = len(looked_after_on(report.region.c903.episodes, [end]))
scale = pw.national_scale(looked_after)
domains = {dm.title: f"I_{dm.id}" for dm in instrument.domains if f"I_{dm.id}" in d0.X.columns}
n_events = int((d0.cause == UNPLANNED).sum())
observed = None
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit0 = cox_efron(d0.time, (d0.cause == UNPLANNED).astype(float), d0.X, strata=d0.stratum)
    observed = {lab: pw.observed_effective_sd(fit0.se[list(d0.X.columns).index(col)], n_events) for lab, col in domains.items()}
except ValueError as exc:
    display(Markdown(f"*The Cox model could not be fitted for the observed-information check: {exc}.*"))
pa = pw.PowerAnalysis(target=pp.target, alpha=pp.alpha).fit(d0.X, events, domains, scale, observed)
summary = pa.summary()
display(Markdown(
    f"{n_events:,} unplanned endings among {len(d0.time):,} placements with needs and capability data; "
    f"{looked_after:,} children looked after on {end:%d %B %Y}, so England ≈ {scale:.1f} × this data. "
    f"Headline domain: **{pa.headline}** (σ = {pa.spread.loc[pa.headline, 'sd']:.2f}, "
    f"ρ² = {pa.spread.loc[pa.headline, 'rho2']:.2f}, so σ√(1−ρ²) = {pa.spread.loc[pa.headline, 'effective_sd_hsieh_lavori']:.3f}; "
    f"observed information {pa.spread.loc[pa.headline, 'effective_sd_observed']:.3f}). Method used: **{pa.method}**."))
shown = pub.model_table("mdhr_80", summary.drop(columns=[c for c in summary.columns if c.startswith("events")]).astype(float).round(3))
display(shown)
fig = q4plots.mdhr_by_years(shown, title=f"Smallest HR detected with {pp.target:.0%} power: {pa.headline}, per point")
pub.figure("mdhr_by_years", fig)
plt.show()
res_power = pa.to_dict()
pub.result("mdhr_80", res_power)
# the index's one-line headline: five years of data at each level
pub.result("mdhr_80_with_5_years", {k: res_power[k].get("5") for k in
                                      ("council_smallest", "council_median", "council_largest", "region", "national")
                                      if isinstance(res_power.get(k), dict)});

# %% [markdown]
# ### Events and minimum detectable HR by council
#
# Each council's own data, 1 to 5 years (the headline domain). A council whose minimum detectable HR is
# above the effects that matter (the generating model's needs effects are HR 1.1–1.2 per point) cannot
# expect a significant result on its own, however real the effect: pooling councils is the remedy.

# %%
t = pa.table[pa.table["covariate"] == pa.headline]
hr_cols = [c for c in t.columns if c.startswith("power_hr_")]
by_council = t[["unit", "level", "years", "placements", "events", "mdhr", "mdhr_observed"] + hr_cols].copy()
by_council[["mdhr", "mdhr_observed"] + hr_cols] = by_council[["mdhr", "mdhr_observed"] + hr_cols].round(3)
shown = pub.table("mdhr_by_council", by_council, counts=["placements", "events"],
                  percent_of={c: "events" for c in ["mdhr", "mdhr_observed"] + hr_cols})
wide = shown.pivot(index="unit", columns="years", values="mdhr")
wide.columns = [f"{k} year{'s' if k > 1 else ''}" for k in wide.columns]
display(wide)
spread = pa.spread.round(3)
display(pub.model_table("covariate_spread", spread))
per_domain = pa.table[pa.table["level"] != "council"].pivot_table(index="covariate", columns=["unit", "years"], values="mdhr").round(3)
display(pub.model_table("mdhr_by_domain", per_domain))

# %% [markdown]
# ### Power curves
#
# Power against years of data for the median council, the region and England, at a hazard ratio of 1.1,
# 1.2 and 1.3 per point of need (analytic). The dashed line is 80%.

# %%
c1 = t[(t["level"] == "council") & (t["years"] == 1)].sort_values(["events", "unit"])
median_council = c1["unit"].iloc[(len(c1) - 1) // 2] if len(c1) else None
largest_council = c1["unit"].iloc[-1] if len(c1) else None
units = {u: lab for u, lab in [(median_council, f"Median council ({median_council})"), ("Region (pooled)", "Region (pooled)"),
                               ("England (scaled)", "England (scaled)")] if u is not None}
curves = shown[shown["unit"].isin(units)]
fig = q4plots.power_curves(curves, [c for c in hr_cols if c.rsplit("_", 1)[-1] in ("1.1", "1.2", "1.3")], units,
                           title=f"Power to detect a need domain's effect ({pa.headline})")
pub.figure("power_curves", fig)
plt.show()

# %% [markdown]
# ### Checked by simulation
#
# Datasets of the median council's size (1–5 years), the largest council's (1 and 3 years) and the region's (1 year; England's is too large to simulate here) are drawn from the synthetic
# region's generating model (`truth.json`: cause-specific Weibull hazards of the three endings; covariates
# resampled from this data's placements with needs, capability and a placement request; placements entering
# evenly over the years and followed to the end of the collection; the council frailty left out), with the
# headline domain's effect set to HR 1.2 per point. Each is analysed with the Cox model (exact Efron, as R's
# `coxph`; all other generating covariates adjusted for), and the share of datasets in which the Wald test is
# significant is the simulated power (95% interval from the number of replicates). The analytic power at the
# same mean number of events is shown beside it.

# %%
sim = None
if truth is not None and largest_council is not None:
    model = pw.GeneratingModel.from_truth(truth)
    dsb = design(fu, instrument, CoxSpec(second_best=True))
    rows = pw.generating_rows(dsb, model.names)
    target = "intensity_" + pa.spread.loc[pa.headline, "column"][2:]
    model = model.with_effect(target, float(np.log(1.2)))
    per_year = c1.set_index("unit")["placements"]
    settings = [(max(10, int(per_year[median_council]) * k), k) for k in (1, 2, 3, 4, 5)]
    settings += [(max(10, int(per_year[largest_council]) * k), k) for k in (1, 3)]
    region_per_year = int(events.query("level == 'region' and years == 1")["placements"].iloc[0])
    settings += [(max(10, region_per_year), 1)]
    labels = ["median council"] * 5 + ["largest council"] * 2 + ["region"]
    eff_obs = pa.spread.loc[pa.headline, "effective_sd_observed"]
    sim = pw.SimulatedPower(model, rows, target, alpha=pp.alpha, replicates=pp.replicates, seed=p.seed, n_jobs=a.jobs,
                            effective_sd=float(eff_obs) if np.isfinite(eff_obs) else None).fit(settings)
    st = sim.table.assign(setting=labels)
    shown_sim = pub.model_table("simulated_power", st.set_index(["setting", "years"]).round(4))
    display(shown_sim)
    curves = {"analytic, Hsieh-Lavori (σ, ρ² over all placements)": lambda d: pw.analytic_power(sim.log_hr, sim.sd, d, pp.alpha, sim.rho2)}
    if sim.effective_sd:
        curves["analytic, observed information"] = lambda d: pw.analytic_power(sim.log_hr, sim.effective_sd, d, pp.alpha)
    fig = q4plots.simulated_vs_analytic(st, curves, title=f"Simulated and analytic power, HR 1.2 per point ({pa.headline})")
    pub.figure("simulated_vs_analytic", fig)
    plt.show()
    txt = f"{pp.replicates} replicates a setting (Monte Carlo SE up to {st['mc_se'].max():.3f}). Simulated minus analytic power: "
    for col, lab in [("analytic_power", "Hsieh–Lavori"), ("analytic_power_observed", "observed information")]:
        if st[col].notna().all():
            diff = st["power"] - st[col]
            within = int((diff.abs() <= 2 * st["mc_se"].clip(lower=0.01)).sum())
            txt += f"{lab} mean {diff.mean():+.3f}, largest {diff.abs().max():.3f} ({within} of {len(st)} within 2 MC SE); "
    display(Markdown(txt.rstrip("; ") + ". A positive difference means the formula is conservative."))
    null = pw.SimulatedPower(model.with_effect(target, 0.0), rows, target, alpha=pp.alpha, replicates=pp.replicates,
                             seed=p.seed + 1, n_jobs=a.jobs).fit(settings[:2])
    nt = null.table.assign(setting="median council, no effect")
    display(pub.model_table("simulated_false_positives", nt.set_index(["setting", "years"])[
        ["placements", "events_mean", "power", "ci_low", "ci_high"]].rename(columns={"power": "rejection_rate"}).round(4)))
    display(Markdown(
        f"With **no** effect, the test is 'significant' in {pct(nt['power'].iloc[0])} of one-year and {pct(nt['power'].iloc[1])} "
        f"of two-year datasets of the median council (nominal {pp.alpha:.0%}): with few events and many covariates the "
        "Wald test's false-positive rate runs above the nominal one, so part of the small-council 'power' above is false "
        "positives, and a significant result from one council's year of data deserves little weight."))
    pub.result("simulated_false_positive_rate", {"years": nt["years"].tolist(), "rate": nt["power"].tolist(),
                                                 "ci_low": nt["ci_low"].tolist(), "ci_high": nt["ci_high"].tolist(),
                                                 "alpha": pp.alpha});
    pub.result("simulated_power", sim.to_dict());
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
# placement's capability (provider register, placement agreements). The bootstrap here uses at most 50
# replicates (question 1's report uses the full number) to keep this report quick.

# %%
fv = FieldValue(horizon_days=a.horizon_days, folds=a.folds, bootstrap=min(a.bootstrap, 50), seed=p.seed,
                n_jobs=a.jobs).fit(frame, instrument)
ft = fv.table[["title", "delta_auc", "ci_low", "ci_high", "lr_chi2", "df", "p", "wald_robust", "wald_p", "dataset_fields"]]
shown_fv = pub.model_table("field_value", ft.round(5))
display(shown_fv.drop(columns="dataset_fields"))
fig = q4plots.field_value(shown_fv, title="What each field adds to predicting an unplanned ending")
pub.figure("field_value", fig)
plt.show()
rank = fv.ranking()
gain = rank[rank["ci_low"] > 0]
top = gain.index[:3].tolist()
weak = rank.index[rank["ci_low"] <= 0].tolist()
display(Markdown(
    (f"The domains adding most (interval above zero): {', '.join(rank.loc[top, 'title'])}. " if top else
     "No single domain adds to the AUC beyond the others (every interval includes zero). ")
    + (f"Adding little (interval includes no gain): {', '.join(rank.loc[weak, 'title'])}. " if weak else "")
    + f"All domains together raise the AUC by {fv.table.loc['all need domains', 'delta_auc']:.3f}; mismatch adds "
      f"{fv.table.loc['mismatch (needs against capability)', 'delta_auc']:.3f} more."))
pub.result("field_value", fv.to_dict());

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
tier_names = tier_labels(instrument)
sp = SecuredPlacements(tier_order=tuple(tier_names.values())).fit(frame.assign(TIER=frame["TIER"].map(lambda t: tier_names.get(t, t))))
res_sp = sp.to_dict()
if sp.counts["with_request"] == 0:
    display(Markdown("No placement requests in the data: these measures need them (placement_requests.csv)."))
else:
    h = res_sp["preferred_type_secured"]
    display(Markdown(
        f"Of {h['of']:,} placements with a request, **{pct(h['rate'])}** (95% CI {pct(h['ci_low'])}–{pct(h['ci_high'])}) "
        f"were of the preferred type; {pct(res_sp['suitable_not_preferred']['rate'])} suitable but not preferred; "
        f"{pct(res_sp['unsuitable']['rate'])} of a type the request called unsuitable. The preferred location was met for "
        f"{pct(res_sp['preferred_location_met']['rate'])}."))
    for group, name in [("need tier", "tier"), ("council", "council")]:
        counts = pub.crosstab(f"secured_type_by_{name}", counts_wide(sp.suitability, group))
        display(counts)
        shares = pub.model_table(f"secured_type_share_by_{name}", shares_shown(sp.suitability, group, counts).round(4))
        fig = q4plots.secured_shares(shares.reset_index().assign(group=group), group,
                                     title=f"Suitability of the type secured, by {group}")
        pub.figure(f"secured_type_by_{name}", fig)
        plt.show()
        loc = pub.crosstab(f"location_by_{name}", counts_wide(sp.location, group))
        display(loc)
        pub.model_table(f"location_share_by_{name}", shares_shown(sp.location, group, loc).round(4))
pub.result("preferred_type_secured", res_sp["preferred_type_secured"])
pub.result("secured_placements", res_sp);

# %% [markdown]
# ### Does a second-best placement predict disruption?
#
# The cause-specific Cox model of question 2 (needs, mismatch and the 903 covariates; a baseline hazard for
# each council; exact Efron ties; 95% interval from the variance clustered by child), fitted to the
# placements with a request and with **second best** (the type secured was not the preferred one) added.

# %%
sb = None
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sb = fit_cox(fu, instrument, spec=CoxSpec(second_best=True), alpha=pp.alpha, with_ph=False, engine="efron")
except (ValueError, KeyError) as exc:
    display(Markdown(f"*The model could not be fitted: {exc}.*"))
if sb is not None and "SECOND_BEST" in sb.summary.index:
    r = sb.summary.loc["SECOND_BEST"]
    display(pub.model_table("second_best_cox", sb.summary.loc[["SECOND_BEST", "MISMATCH"], ["hr", "hr_lower", "hr_upper", "robust_se", "p"]].round(4)))
    display(Markdown(
        f"A second-best placement has **{r['hr']:.2f}** times the hazard of an unplanned ending (95% CI "
        f"{r['hr_lower']:.2f}–{r['hr_upper']:.2f}, p = {r['p']:.3g}), adjusted for needs and mismatch; "
        f"{sb.n:,} placements, {sb.n_events:,} unplanned endings."))
    pub.result("second_best_hr", {"hr": r["hr"], "ci_low": r["hr_lower"], "ci_high": r["hr_upper"], "p": r["p"],
                                  "n": sb.n, "events": sb.n_events});
elif sb is not None:
    display(Markdown("Every placement with a request was of the same kind (all or none second best): no estimate."))

# %% [markdown]
# ## Conclusions for a dataset proposal
#
# - **Pool**: a single council's data detects only large needs effects; the region's or England's detects
#   the effects that matter within a year or two (tables above).
# - **Collect the fields that carry the signal**: the need domains with the largest drop-one gains, and the
#   capability fields behind mismatch.
# - **Record placement requests**: without them nobody can say how often the placement wanted was secured,
#   nor that second-best placements break down more.

# %%
report.finish();
