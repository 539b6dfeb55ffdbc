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
# # Question 3: what does care cost under unit-cost and needs-led commissioning?
#
# **Unit-cost commissioning** pays one weekly rate per type of placement ("everyone gets what is
# provided"). **Needs-led costing** builds the weekly cost up from the child's needs ("everyone gets
# what is right for them"): the setting their highest needs require, the extra staffing hours their
# intensity and frequency of need demand in each domain, and therapeutic input. Needs-led placements
# cost more a week for some children and less for others. Question 2 finds placements that can meet
# the child's needs (no *mismatch*) associated with fewer unplanned endings; if that association holds
# when placements are commissioned to match, needs-led placements would end unplanned less often, and
# every move has its own cost (finding the next placement, social work and commissioning time).
#
# **On the 903 alone** (no needs assessments) the unit-cost side still runs: what care costs per
# child-year by placement type, and what the moves between placements add. The needs-led comparison
# (items 1 to 3 below) needs the assessments and says so.
#
# With needs assessments this report does three more things:
#
# 1. **A week of care, costed both ways** for every placement in the window with a needs assessment:
#    who unit costs under-fund and over-fund, by need profile, and by how much (the spread, not only
#    the average); and, where the weekly fees actually paid are recorded, how far unit costs are from them.
# 2. **A journey microsimulation**: each child's placements over the next years, under (a) unit-cost
#    commissioning: placements as observed, with their mismatch; (b) needs-led commissioning: a matched
#    placement (no mismatch, not second best) whenever one can be found (a *capacity* share of
#    placements). How each placement ends is drawn from question 2's fitted hazard models (or, on the
#    synthetic region, the model that generated the data), so needs-led placements last longer only as
#    far as the mismatch hazard ratio says, read as if it were the effect of matching (an assumption).
#    Every move costs the process cost.
# 3. **Uncertainty and sensitivity**: every Monte Carlo draw takes its own cost figures (from their
#    stated ranges) and its own hazard ratios (from their estimated uncertainty); a tornado plot shows
#    which figures matter most; a **break-even** analysis asks how much more needs-led placements would
#    have to cut disruption for their extra weekly cost to pay for itself.
#
# Every cost figure is in `parameters/costing.yaml` with its source and price year; those marked
# **ASSUMPTION** are stated assumptions to be replaced by local figures. Small counts are suppressed ("c").

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
notebooks = ['03_unit_cost_vs_needs_led']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from rcceval.analyses.costing import plots as q3plots
from rcceval.analyses.costing import text as q3text
from rcceval.analyses.costing.params import load_costing
from rcceval.analyses.costing.result import SUMMARY_COLUMNS, analyse
from rcceval.analyses.costing.unit import analyse_unit_costs
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.reporting.report import open_report
from rcceval.spec.instruments import load_instrument
from rcceval.synth import recovery

report = open_report(globals(), "03_unit_cost_vs_needs_led")
p, a = report.params, report.params.analysis
pub = report.publish
instrument = load_instrument(p.instrument)
cp = load_costing(p.costing, n_domains=len(instrument.domain_ids))
options = FrameOptions(pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), a.lookback_days)
frame = report.shared(f"analysis_frame|{p.instrument}|{options}",
                      lambda: analysis_frame(report.region, report.placements, instrument, options))
unit = report.section("unit_cost")
if unit:
    unit_shown = pub.publish(analyse_unit_costs(frame, cp))   # the 903 alone: by placement type, moves
needs_led = report.section("needs_led")
if needs_led and (frame["NEEDS_MISSING"].all() or frame["MISMATCH"].isna().all()):
    display(Markdown("*Needs-led costing: not run, no placement in the analysis window has both a needs assessment "
                     "in force at its start and a known capability (needs_assessments.csv, provider_register.csv "
                     "or placement_agreements.csv; see data/README.md).*"))
    needs_led = False
if needs_led:
    truth = recovery.read_truth(p.data_path) if p.data_source == "synthetic" else None
    generating = (lambda names, strata: recovery.generating_hazards(truth, names, strata)) if truth is not None else None
    result = analyse(frame, cp, instrument, report.region.tables.get("placement_agreements"),
                     hazards=report.artifact("02_placement_survival", "hazards"),   # None when run alone: fitted here
                     generating=generating, header=report.region.c903.header, seed=p.seed, n_jobs=p.parallel)
    headline = pub.publish(result)   # every table and headline through disclosure control
tables = pub.published           # the protected tables, by name

# %% [markdown]
# ## Cost per child-year by placement type, and the process cost of moves
#
# Each placement's days in the analysis window (from its start to its end or the extract date) priced
# at the weekly unit cost of its cost group (`costing.yaml`), per child-year in that group; **moves**
# are placements that ended in an unplanned ending or a planned change (leaving care is not a move),
# each costing the process cost of finding and making the next placement; moves per child-year have an
# exact Poisson 95% interval. The unit costs are the central figures of `costing.yaml`.

# %%
if unit:
    display(Markdown(q3text.unit_costs(unit_shown)))
    display(tables["unit_cost_by_type"].set_index("cost_group"))
    display(tables["unit_cost_figures"])

# %% [markdown]
# ## Headlines

# %%
if needs_led:
    display(Markdown(q3text.headlines(result, headline)))

# %% [markdown]
# ## The cost figures and where they come from
#
# Every figure with the range the Monte Carlo draws from (Beta-PERT, with the value as its mean), its
# price year and its source. **Assumptions** are marked: they are the figures to replace first with your
# council's own.

# %%
if needs_led:
    display(tables["cost_figures"])
    display(Markdown("Extra staffing hours a week per domain (needs-led), summed over domains: " + result.staffing_source))
    display(tables["staffing_hours"])
    display(Markdown("Which setting a child needs: the first rule that holds (at least *min_domains* domains with "
                     "intensity and frequency at least the minimums)."))
    display(tables["setting_rules"])

# %% [markdown]
# ## A week of care, costed both ways
#
# For each placement that started in the window with a needs assessment in force: the unit cost of
# its placement type and the needs-led cost of the child's needs. *Under-funded*: the unit cost is
# more than 10% below the needs-led cost; *over-funded*: more than 10% above. Costs per child-week
# weight each placement by its length; the spread (10th to 90th percentile of the difference) is per
# placement.

# %%
if needs_led:
    static = tables["static_by_profile"]
    display(static.set_index("profile").round(0))
    ax = q3plots.static_gap(static.loc[static["profile"] != "All"],
                             title="Needs-led minus unit cost of a week of care, by need tier")
    pub.figure("static_gap_by_profile", ax.figure)
    plt.show()
    display(Markdown("The setting each placement's child needs (needs-led rules), by tier:"))
    display(tables["setting_needed_by_profile"])

# %% [markdown]
# ### Unit costs against the fees actually paid
#
# Where the placement agreements record a weekly fee (matched to the placement on council, child and
# start date), the ratio of the unit cost to the fee: 1 means the unit cost is what was paid; below 1,
# the unit cost understates it. Fees of 0 (placements with no fee, such as with parents) are left out
# of the ratios.

# %%
if needs_led:
    if "unit_cost_vs_fees" in tables:
        display(tables["unit_cost_vs_fees"].set_index(["by", "level"]))
        ax = q3plots.fee_ratios(tables["unit_cost_vs_fees"], title="Unit cost / weekly fee paid, by cost group")
        pub.figure("unit_cost_vs_fees", ax.figure)
        plt.show()
    else:
        display(Markdown("*No weekly fees are recorded in the placement agreements: unit costs cannot be checked against them.*"))

# %% [markdown]
# ## Journeys: the microsimulation
#
# **Who.** Each child's earliest placement in the window that the hazard model covers (needs assessed,
# capability known and, when second best is in the model, a placement request recorded) starts
# their simulated journey. **How a placement ends.** Three competing hazards (unplanned ending, planned
# change, leaving care) from the Cox models of question 2 (each council its own baseline), the
# child's needs and age at each placement's start, and the placement's type, mismatch and whether it
# was second best; a placement ends at the first of the three. A move (unplanned or planned) costs the
# process cost and a next placement follows: under unit costs drawn from the later placements
# observed for children of the same tier (their type, whether second best and what they could meet:
# the mismatch follows from the child's own needs); under needs-led commissioning that placement is
# matched (no mismatch, not second best) with probability *capacity*. Leaving care, the 18th birthday
# or the horizon ends a journey. **Costs.** Unmatched placements cost the unit cost of their type,
# matched ones the child's needs-led cost. Both scenarios use the same random numbers for the same
# child and placement (common random numbers), so differences are not noise between two runs.

# %%
if needs_led:
    check = tables["first_placement_check"]
    ax = q3plots.first_placement_check(check.loc[check["profile"] != "All"],
                                        title="First placements still running: simulated, model and data")
    pub.figure("first_placement_check", ax.figure)
    plt.show()
    display(Markdown(q3text.first_check(result.check_gaps(), result.notes)))

# %% [markdown]
# ### Each scenario, per child, by need tier
#
# Means per child over the horizon (and the 95% interval over the Monte Carlo draws): weeks in care,
# placements, moves, the share of children with 3 or more moves, total cost per child and cost per
# child-year in care.

# %%
if needs_led:
    journeys = tables["journeys_by_profile"]
    display(journeys.set_index(["scenario", "profile"])[["children", *SUMMARY_COLUMNS]])
    ax = q3plots.scenario_bars(journeys, "cost_per_child_year", "£ per child-year in care",
                                title="Cost per child-year in care, by tier (95% interval over draws)")
    pub.figure("cost_per_child_year", ax.figure)
    plt.show()
    ax = q3plots.scenario_bars(journeys, "moves", "Moves per child over the horizon",
                                title="Moves per child, by tier (95% interval over draws)")
    pub.figure("moves_per_child", ax.figure)
    plt.show()

# %% [markdown]
# ### The difference: needs-led minus unit cost
#
# Positive cost differences mean needs-led commissioning costs more; moves averted are per 100
# children over the horizon. Intervals are 2.5th to 97.5th percentiles over the draws, which carry the
# uncertainty in every cost figure and in the hazard ratios, and the chance in the journeys.

# %%
if needs_led:
    display(tables["difference_by_profile"].set_index("profile").round(3))
    display(Markdown("**Per child** (mean over draws at the central cost figures): how the difference over the horizon "
                     "spreads across children, and how many children cost less under needs-led commissioning."))
    display(tables["per_child_difference"].set_index("profile"))

# %% [markdown]
# ## Sensitivity and break-even
#
# **Tornado.** The cost difference per child-year with one figure at a time at the low and the high
# end of its range, everything else at its central value (point estimates of the hazard ratios,
# the same journeys for the cost figures). The mismatch hazard ratio is moved across its 95%
# confidence interval and capacity by 0.2 either way, with the journeys simulated again.
# **Break-even.** How much more would needs-led (matched) placements have to cut the hazard of an
# unplanned ending, beyond the mismatch effect already in the model, for the needs-led total cost to
# equal the unit-cost total? Found by bisection on the simulated difference with common random numbers.

# %%
if needs_led:
    ax = q3plots.tornado(tables["tornado"].reset_index(), title="Which figures the cost difference per child-year is most sensitive to")
    pub.figure("tornado", ax.figure)
    plt.show()
    display(tables["tornado"].head(12))
    display(Markdown(q3text.break_even(result.break_even, result.process_cost)))

# %% [markdown]
# ## The causal question, and how much of the answer rests on it
#
# The needs-led scenario is a **g-formula**: it applies question 2's hazard ratios of mismatch and second
# best as if they were the effects of matching. Below: the assumptions in plain words, the **E-value** of
# the mismatch hazard ratio (how strong an unmeasured confounder would have to be to explain it away), and
# the headline repeated with the effect of matching shrunk to a share of its estimate (point estimates,
# central costs, common random numbers).

# %%
if needs_led:
    display(Markdown(q3text.causal(result)))
    if "mismatch_shrinkage" in tables:
        display(tables["mismatch_shrinkage"].set_index("share").round(1))

# %% [markdown]
# ## Time and money: discounting and one price year
#
# Costs in year *t* of a child's journey are discounted by 1/(1+r)^t (HM Treasury Green Book: 3.5%, with
# 0% and 1.5% as sensitivity), and every cost figure is brought to one price year with the GDP deflator,
# the factor shown beside each figure. The figures above are as `costing.yaml` states them.

# %%
if needs_led and "discounting" in tables:
    display(Markdown(q3text.time_and_money(result)))
    display(tables["discounting"].set_index("discounting").round(0))
    display(tables["uprating"].set_index("figure")[["price_year", "value", "factor", "uprated_value", "low_price_year",
                                                    "low_factor", "uprated_low", "uprated_high", "range_adjusted"]])

# %% [markdown]
# ## Beyond follow-up: which tail
#
# Each cause's hazard beyond the last observed duration: the exponential, Weibull, log-normal and Gompertz
# fitted to its endings (the other causes censored) against the constant hazard of the last year, by fit
# overall (AIC, BIC), by fit in the last year and by plausibility (NICE DSU TSD 14). The choice is stated;
# the headline under every tail is the sensitivity.

# %%
if needs_led and "tail_comparison" in tables:
    display(Markdown(q3text.tails(result)))
    display(tables["tail_comparison"].set_index(["cause", "family"]).round(4))
    display(tables["tail_sensitivity"].set_index("tail").round(1))

# %% [markdown]
# ## Probabilistic sensitivity analysis: what a decision-maker reads
#
# An outer loop of parameter sets (a child bootstrap refitting the three Cox models with their council
# baselines; one draw of every cost figure, tied figures together) and an inner loop of simulated journeys
# per set (common random numbers between the scenarios), so Monte Carlo error is reported apart from
# parameter uncertainty. Costs discounted at the headline rate, in the target price year.

# %%
if needs_led and "psa_curves" in tables:
    display(Markdown(q3text.psa(result)))
    ax = q3plots.acceptability(tables["psa_curves"], title="Is needs-led commissioning worth it? (PSA)")
    pub.figure("acceptability", ax.figure)
    plt.show()

# %% [markdown]
# ## What this does not capture
#
# - **Costs outside the placement**: the later costs of instability (education, health, youth justice,
#   outcomes in adulthood) are not counted, so the case for stability is understated; so is any saving
#   from needs-led placements ending care sooner.
# - **Needs stay as at the first placement** and age moves on; needs that change over a journey (question
#   2 re-scores them at reviews) are not simulated. Placement type stays as observed or drawn: needs-led
#   commissioning changes mismatch and second best, not the hazard attached to a type.
# - **Leaving care at 18** is forced in the simulation, so the leaving-care hazard is fitted here with
#   endings on the 18th birthday censored (the Cox models otherwise follow question 2's specification).
#   Re-entry to care is not simulated. Beyond the last follow-up time of the data the hazards are
#   extrapolated as constant (the hazard of the last year).
# - **The baseline hazards** are held at their estimates in the Monte Carlo above; only the hazard ratios
#   are drawn (from their robust covariance), and cost figures independently of each other. The
#   probabilistic sensitivity analysis draws baselines and hazard ratios together and ties figures that
#   are one quantity.
# - **Capacity** is one share for all placements; in practice matched placements are scarcer for the
#   children with the highest needs.
# - **The other 903 covariates** of question 2's models (legal status, previous placements, category of
#   need, distance, SDQ band, UASC, sex) stay as at the child's first simulated placement.

# %%
report.finish()
