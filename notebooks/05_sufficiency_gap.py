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
# # Needs audit and sufficiency gap
#
# Where do the region's needs outrun its provision? This report counts the children looked after by
# **need profile**, council and age (now and over the years), shows how the level of need changes
# with age and between reviews of the same children, maps the places in the provider register by
# capability and location, sets the children needing each capability against the places able to meet
# it (within the council, within 20 miles of home, in the region and out of region), measures how
# often children are placed in the nearest placement that meets their needs ("as local as possible,
# as specialist as necessary"), and forecasts demand by need profile one to three years ahead.
# Small numbers are suppressed ("c"); child-level data never leaves the analysis.
#
# **Definitions.**
# - *Need profile*: the need tier of the instrument's bands (straightforward; complex or co-occurring;
#   extensive and enduring) from the child's latest needs assessment on or before the date, within the
#   look-back (`analysis.lookback_days`); with none in force the child is *not assessed*.
#   *Level of need*: the mean intensity (0-3) over the instrument's domains.
# - *Area*: the council responsible for the child; *home* is the postcode sector of HOME_POST.
# - *A placement can meet a child* when its capability is at least the child's intensity of need in
#   **every** domain (zero mismatch), and the child may be placed there (supported accommodation only
#   from 16; a secure children's home only for children placed in secure care).
# - *Reaches*: a setting in the child's council; within 20 miles of the child's home sector (straight
#   line between sector centroids); in the region (any council of the data); anywhere in the register
#   (including out of region: register LA not a council of the data).

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
notebooks = ['05_sufficiency_gap']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from rcceval.analyses.sufficiency import gap as sg
from rcceval.analyses.sufficiency import plots as splot
from rcceval.analyses.costing.params import load_costing
from rcceval.analyses.sufficiency import text
from rcceval.analyses.sufficiency.only903 import fit_forecast
from rcceval.analyses.sufficiency.profiles import PROFILE_LABELS
from rcceval.analyses.sufficiency.result import fit
from rcceval.reporting.report import open_report
from rcceval.spec.instruments import load_instrument

report = open_report(globals(), "05_sufficiency_gap")
p = report.params
instrument = load_instrument(p.instrument)
unit_costs = {k: f.value for k, f in load_costing(p.costing, n_domains=len(instrument.domain_ids)).unit_costs.items()}
needs_ok, provision_ok = report.section("needs_audit"), report.section("provision")
full = needs_ok and provision_ok
if full:
    result = fit(report.region, report.placements, instrument, report.extract_date, p.analysis.lookback_days,
                 pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), p.seed, unit_costs,
                 parallel=p.parallel)
    display(Markdown(text.census(result)))
else:   # the 903 alone: the forecast of all children looked after
    result = fit_forecast(report.region, report.placements, instrument, report.extract_date, p.analysis.lookback_days,
                          p.seed, unit_costs, parallel=p.parallel)
shown = report.publish.publish(result)  # every table and headline through disclosure control

# %% [markdown]
# ## 1. Needs audit
#
# ### Now: children looked after by need profile and council, age and placement type

# %%
if full:
    by_council, by_age = shown["profile_by_council"], shown["profile_by_age_band"]
    display(by_council)
    display(by_age)
    display(shown["profile_by_placement_type"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.28 * len(by_council) + 2.5), constrained_layout=True)
    splot.profile_shares(by_council, title="By council", ax=axes[0])
    splot.profile_shares(by_age, title="By age band", ax=axes[1])
    report.publish.figure("profile_by_council_and_age", fig)
    plt.show()

# %% [markdown]
# What lies behind each profile: the mean intensity (0 none, 3 high) in each domain of the
# children of the profile, so the label is never read alone.

# %%
if full:
    display(shown["domains_by_profile"].set_index("profile").rename(index=PROFILE_LABELS,
                                                                    columns=lambda c: c.removeprefix("mean_")).T)

# %% [markdown]
# ### Over the years: children looked after on 31 March by need profile

# %%
if full:
    by_year = shown["profile_by_year"]
    display(by_year.drop(index="Total"))
    ax = splot.profile_lines(by_year, title="Children looked after on 31 March by need profile")
    report.publish.figure("profile_by_year", ax.figure)
    plt.show()
    display(Markdown("The same counts by council and year are in `tables/profile_by_council_year.csv`."))

# %% [markdown]
# ## 2. Needs over time
#
# **Level of need by age.** Every assessment, with the child's age to the nearest year; each child
# counts once per age (the mean of their assessments at that age) and the band is the 95% interval.
# A *peak* is an age whose mean exceeds both neighbours' by more than 1.96 standard errors of the
# difference. The Valuing Care programme reported peaks around ages 7 and 11.

# %%
if full:
    peaks = result.need_level.peaks
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), constrained_layout=True)
    splot.by_age(shown["need_level_by_age"], "Mean level of need (0-3)", peaks=peaks, title="Level of need by age",
                 ax=axes[0])
    splot.by_age(shown["need_change_between_reviews"], "Mean change per review", zero_line=True,
                 title="Change between consecutive reviews, same children", ax=axes[1])
    report.publish.figure("need_level_by_age", fig)
    plt.show()
    display(Markdown(text.need_level(result)))

# %% [markdown]
# **Need level and placement stability (an association).** Placements starting in the analysis
# window with needs in force at the start and a follow-up assessment 9-15 months later (the first dated
# 274-456 days after the start). *Stable*: still in the same placement at the follow-up; otherwise the
# child *moved* (after an unplanned or a planned ending). The follow-up window is fixed relative to the
# placement's start and the same for every group, so an assessment brought forward by a breakdown cannot
# count before 274 days; within it, the groups are compared in like bands of about two months (274-334,
# 335-395, 396-456 days), and the table of timing shows how many placements of each group fall in each
# band. Raw changes mix in regression to the mean (children whose placement broke down started higher),
# so the comparison that counts is the adjusted one: ordinary least squares of the change on stability,
# the baseline level, age band at the start and the follow-up band, with standard errors clustered by
# child. Stability is not assigned: the difference is an association.

# %%
if full:
    groups = shown["needs_after_stable_placement"]
    display(groups.drop(columns="group").set_index("label"))
    display(shown["needs_after_stable_placement_timing"].set_index(["group", "window"]))
    display(shown["needs_after_stable_placement_model"])
    median_days = {r.label: r.median_days for r in groups.itertuples() if pd.notna(r.median_days)}
    display(Markdown(text.stable_placement(shown["stable_placement_difference"], result.stable.n_placements,
                                           result.stable.n_children, median_days)))

# %% [markdown]
# ## 3. Provision map
#
# The provider register's settings: places by setting type and area (a council of the data, or out of
# region), and places able to meet moderate (2+) or high (3) intensity of need in each domain. The
# register lists registered settings only (children's homes K2, secure homes K1, residential care homes
# R1, residential schools S1, supported accommodation H5); foster carers have no register.

# %%
if full:
    display(shown["provision_by_type"])
    display(shown["provision_by_capability"])
    ax = splot.provision_map(shown["provision_points"], shown["council_centres"], title="Register places by postcode sector")
    report.publish.figure("provision_map", ax.figure)
    plt.show()
    display(Markdown(text.provision(result)))

# %% [markdown]
# ## 4. Gap: children of each need profile against the places able to meet them
#
# *In scope*: children looked after on the date who are placed in a registered setting (their URN is in
# the register); foster care has no register (section 5 treats it). Places held on the date by children
# of the 903 who are outside the scope (no needs assessment in force, a domain not rated, home unknown)
# are taken: each setting's places less those children (never below none). For a group of children (a
# profile in a council, a profile across the region, all profiles of a council, everyone), the
# **shortfall** at a reach is the number who could **not** each be given a different place able to meet
# their needs within that reach, even if every other place were free for them (a maximum flow of children
# to suitable settings, each setting taking up to its free places). Each group is taken on its own, so
# rows do not add up; the *Region, all profiles* row is everyone competing for the same places.
# *Places able* counts the free places within the reach that can meet at least one child of the group.
#
# **Every shortfall is a lower bound ("at least").** Places held by children of councils outside the
# data, and whether a place is vacant at all, are not known, so they are counted as free.
#
# **Matching rules, side by side.** The headline asks a setting to meet the child's *intensity* of need
# in every domain at once. The sensitivity analysis asks it to meet every domain at once at the
# intensity *and frequency* required (the register rates one capability level per domain, taken to cover
# needs up to that level in severity and in how often they show: a domain with a need requires capability
# of at least its intensity and its frequency). For comparison, *each domain judged alone* counts, for
# each domain by itself, the children against the places meeting that domain, and takes the worst domain:
# the loosest rule. Each rule is at least as strict as the one before.

# %%
if full:
    display(shown["gap_children_left_out"].set_index("reason"))
    display(Markdown("Places held by children outside the scope, netted out:"))
    display(shown["gap_places_netted_out"].set_index("measure"))
    children, shortfall = shown["gap_children"], shown["gap_shortfall"]
    display(Markdown("Children in scope (placed in a registered setting), by council and need profile:"))
    display(children)
    overall = shortfall.loc[shortfall["PROFILE"].eq(sg.ALL)].pivot(index="AREA", columns="REACH", values="shortfall")
    overall = overall.reindex(index=[*result.councils, sg.REGION], columns=list(sg.REACHES)).rename(columns=sg.REACH_LABELS)
    overall.insert(0, "Children in scope", children["Total"].rename({"Total": sg.REGION}).reindex(overall.index).to_numpy())
    overall.index.name, overall.columns.name = None, None
    display(Markdown("**Shortfall (at least), all need profiles together**, by council and reach:"))
    display(overall)
    axes = splot.shortfall_heatmaps(shortfall, children, sg.REACH_LABELS)
    report.publish.figure("shortfall_heatmap", axes[0].figure)
    plt.show()
    rules = shown["gap_rules"]
    rules = rules.loc[rules["REACH"].isin(sg.REACHES)].pivot(index="REACH", columns="label", values="shortfall")
    rules = rules.reindex(index=list(sg.REACHES), columns=[sg.RULE_LABELS[r] for r in sg.RULES])
    rules.index, rules.columns.name = rules.index.map(sg.REACH_LABELS), None
    display(Markdown("**Region-wide shortfall (at least) under each matching rule**, all profiles together:"))
    display(rules)
    display(Markdown(text.shortfall(shown["region_shortfall_at_least_by_rule"], children,
                                    shown["gap_places_netted_out"])))

# %% [markdown]
# ## 5. As local as possible, as specialist as necessary
#
# For each child, the **nearest suitable placement** is the nearest (from the home sector) that can
# meet their needs: for children in registered settings, among the register's settings; for children
# with foster carers (U4-U6; no register exists), among the **pool of foster placements in force** on
# the date, each at its placement sector with the capability recorded in its placement agreement
# (carers in use stand in for carers available, and the child's own carer is in the pool). A child is
# *in the nearest suitable placement* when their own placement meets their needs and is at most one
# mile (about a postcode sector) further from home than the nearest suitable one. *Placed locally with
# needs met*: the placement meets every need and is within 20 miles of home. Whether a place is free is
# not recorded, so this is about where suitable provision is, not vacancies.

# %%
if full:
    display(shown["nearest_children_left_out"].set_index(["market", "reason"]))
    cats, by_prof = shown["nearest_suitable_categories"], shown["placed_locally_by_profile"]
    display(cats.drop(columns="category").set_index(["market", "label"]))
    display(by_prof.assign(profile=by_prof["profile"].map(PROFILE_LABELS).fillna("All")).set_index(["market", "profile"]))
    display(shown["nearest_suitable_distance"].set_index("market"))
    ax = splot.category_bars(cats, sg.CATEGORIES, title="Children by distance from the nearest suitable placement")
    report.publish.figure("nearest_suitable", ax.figure)
    plt.show()
    display(Markdown(text.nearest(shown["pct_in_nearest_suitable"], shown["pct_placed_locally_needs_met"],
                                  shown["nearest_suitable_distance"])))

# %% [markdown]
# ## 6. Forecast: children looked after by age, placement type and need profile, one to three years ahead
#
# An age-structured stock-and-flow model that needs only the 903 returns. Every child looked after at a
# quarter end is in a state: exact age (in quarters, from the date of birth), placement type group
# (fostering; residential: children's homes, secure, other residential; supported accommodation; other:
# with parents, placed for adoption, temporary) and time in the current placement. Each quarter a child
# leaves care, moves to a placement of some group, or stays, with probabilities by age and time in
# placement estimated from the episodes of the three years before the forecast origin; at 18 a child
# leaves. New entrants by age band and sex follow a common trend only when a test supports one (an F
# test on the entries, otherwise flat), negative binomial when the counts are over-dispersed. Short
# breaks (legal status V3/V4) are not care periods and are left out, as the DfE leaves them out of
# children looked after. The 95% intervals come from 2,000 simulations, each with its own draw of the
# rates. The need profile, where assessed, shares out each age band and group's forecast by the mix of
# profiles of those children at the origin. Weekly spend prices each group's forecast children at the
# unit costs of `costing.yaml` (the cost-group mix of the group and age band at the origin). The back-test
# refits at every earlier 31 March with a year of moves before it (500 simulations each) and compares
# with the census one, two and three years later.

# %%
if report.section("forecast"):
    display(Markdown("Entries (periods of care starting) by collection year and need profile at entry:"))
    display(shown["entries_by_year"].drop(index="Total"))
    display(Markdown("The test of a trend in entries (a trend is used only when p < 0.05; dispersion 1 = Poisson):"))
    display(shown["entry_trend"])
    display(Markdown("Children looked after on 31 March, forecast (95% interval):"))
    display(text.forecast_cells(result.forecast.table, PROFILE_LABELS))
    axes = splot.forecast_fan(shown["profile_by_year"], shown["forecast"].reset_index())
    report.publish.figure("forecast", axes[0].figure)
    plt.show()
    display(Markdown("By age band and placement type group:"))
    display(shown["forecast_detail"])
    display(Markdown("Weekly spend (GBP) by placement type group, at the unit costs of costing.yaml:"))
    display(shown["forecast_spend"])

# %% [markdown]
# ### Back-test on earlier years

# %%
if report.section("forecast"):
    display(shown["backtest_summary"])
    display(Markdown(text.backtest(result.backtest.summary)))

# %% [markdown]
# **Limits.** The register has no vacancies: the gap (a lower bound) and the nearest-suitable measure
# are about where suitable places are, not whether they are free, and the register's out-of-region settings are
# those the data lists, not all of England. Foster care is measured against the carers in use. The
# forecast carries forward the rates of the three years before the origin (changes in practice are not
# modelled) and the need profile is an allocation, not a state with transitions of its own.

# %%
report.finish()
