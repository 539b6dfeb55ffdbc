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
analysis = {'lookback_days': 183, 'horizon_days': 365, 'folds': 5, 'bootstrap': 200, 'jobs': 2}
power = {'replicates': 200, 'target': 0.8, 'alpha': 0.05}
costing = 'parameters/costing.yaml'
seed = 20240331
notebooks = ['05_sufficiency_gap']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from rcceval.spec import codes
from rcceval.analyses.sufficiency import forecast as sf
from rcceval.analyses.sufficiency import gap as sg
from rcceval.analyses.sufficiency import needs as sn
from rcceval.analyses.sufficiency import plots as splot
from rcceval.spec.instruments import load_instrument
from rcceval.reporting.report import open_report
from rcceval.analyses.sufficiency.profiles import PROFILE_LABELS, prepare, require_inputs

report = open_report(globals(), "05_sufficiency_gap")
pub = report.publish
region = report.region
require_inputs(region)  # needs assessments and provider register
instrument = load_instrument(report.params.instrument)
lookback = report.params.analysis.lookback_days
data = prepare(region, report.placements, instrument, report.extract_date, lookback)
current = data.current
now = data.now.strftime("%-d %B %Y")
labels = lambda t: t.rename(columns=PROFILE_LABELS)
shown = lambda v: v if isinstance(v, str) else f"{v:,.0f}"
display(Markdown(f"Children looked after on **{now}**: {len(current):,}; censuses on 31 March {data.years[0]}-{data.years[-1]}."))

# %% [markdown]
# ## 1. Needs audit
#
# ### Now: children looked after by need profile and council, age and placement type

# %%
by_council = pub.crosstab("profile_by_council", labels(sn.profile_counts(current, "LA", data.councils)))
display(by_council)
ages = [b[0] for b in codes.AGE_BANDS] + (["unknown"] if current["AGE_BAND"].eq("unknown").any() else [])
by_age = pub.crosstab("profile_by_age_band", labels(sn.profile_counts(current, "AGE_BAND", ages)))
display(by_age)
by_type = pub.crosstab("profile_by_placement_type", labels(sn.placement_type_counts(current)))
display(by_type)
total = by_council.loc["Total"]
pub.result("children_by_profile_now", {p: total[PROFILE_LABELS[p]] for p in PROFILE_LABELS} | {"all": total["Total"]})
fig, axes = plt.subplots(1, 2, figsize=(12, 0.28 * len(by_council) + 2.5), constrained_layout=True)
splot.profile_shares(axes[0], by_council, title="By council")
splot.profile_shares(axes[1], by_age, title="By age band")
pub.figure("profile_by_council_and_age", fig)
plt.show()

# %% [markdown]
# What lies behind each profile: the mean intensity (0 none, 3 high) in each domain of the
# children of the profile, so the label is never read alone.

# %%
domains = sn.domains_by_profile(current, instrument)
means = [c for c in domains.columns if c.startswith("mean_")]
domains = pub.table("domains_by_profile", domains, counts=["children"], percent_of={c: "children" for c in means})
display(domains.set_index("profile").rename(index=PROFILE_LABELS, columns=lambda c: c.removeprefix("mean_")).T)

# %% [markdown]
# ### Over the years: children looked after on 31 March by need profile

# %%
yearly = data.yearly
by_year = pub.crosstab("profile_by_year", labels(sn.profile_counts(yearly, "YEAR", data.years)))
display(by_year.drop(index="Total"))
long = (yearly.groupby(["LA", "YEAR", "PROFILE"]).size().unstack("PROFILE", fill_value=0)
        .reindex(columns=list(PROFILE_LABELS), fill_value=0).stack().rename("children").reset_index())
pub.table("profile_by_council_year", long, counts=["children"], by=["LA", "YEAR"], totals_shown=True)
fig, ax = plt.subplots(figsize=(8, 3.5))
splot.profile_lines(ax, by_year, title="Children looked after on 31 March by need profile")
pub.figure("profile_by_year", fig)
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
level = sn.need_level_by_age(data.assessments)
pct = {c: "children" for c in ["mean", "se", "ci_low", "ci_high"]}
level_table = pub.table("need_level_by_age", level.table.round(3), counts=["children"], percent_of=pct)
pub.result("need_level_peak_ages", level.peaks)
change = sn.change_between_reviews(data.assessments)
change_table = pub.table("need_change_between_reviews", change.round(4), counts=["children"],
                         percent_of=pct | {"median_gap_days": "children"})
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), constrained_layout=True)
splot.by_age(axes[0], level_table, "Mean level of need (0-3)", peaks=level.peaks, title="Level of need by age")
splot.by_age(axes[1], change_table, "Mean change per review", zero_line=True,
             title="Change between consecutive reviews, same children")
pub.figure("need_level_by_age", fig)
plt.show()
peaks = " and ".join(str(p) for p in level.peaks) or "no age"
display(Markdown(
    f"The level of need peaks at age **{peaks}** ({level.assessments:,} assessments). Between consecutive "
    f"reviews of the same children (at most a year apart; median {change['median_gap_days'].median():.0f} days), "
    "the level rises before a peak and falls after it, so the pattern is within children, not a difference "
    "between cohorts."))

# %% [markdown]
# **Do needs fall after a stable placement?** Placements starting in the analysis window with needs in
# force at the start and a follow-up assessment 9-15 months later (the first dated 274-456 days after
# the start). *Stable*: still in the same placement at the follow-up; otherwise the child *moved*
# (after an unplanned or a planned ending). Raw changes mix in regression to the mean (children whose
# placement broke down started higher), so the comparison that counts is the adjusted one: ordinary
# least squares of the change on stability, the baseline level, age band at the start and the days
# between assessments, with standard errors clustered by child.

# %%
p = report.params
stable = sn.needs_after_stable_placement(data.placements, data.wide, data.header, instrument,
                                         pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end), lookback)
groups = stable.groups.round(3)
groups = pub.table("needs_after_stable_placement", groups, counts=["placements"],
                   percent_of={c: "placements" for c in ["mean_baseline", "mean_follow_up", "mean_change", "ci_low", "ci_high"]})
display(groups.drop(columns="group").set_index("label"))
model = pub.model_table("needs_after_stable_placement_model", stable.model.round(4))
display(model)
e = pub.result("stable_placement_effect", {k: round(float(v), 4) for k, v in stable.effect.items()})
verdict = ("fell more" if e["ci_high"] < 0 else "rose more" if e["ci_low"] > 0 else "did not change differently")
display(Markdown(
    f"Adjusted for the baseline level, age and time, the level of need after a stable placement {verdict} "
    f"than after a move: difference {e['estimate']:+.3f} (95% CI {e['ci_low']:+.3f} to {e['ci_high']:+.3f}) on the "
    f"0-3 scale, from {stable.n_placements:,} placements of {stable.n_children:,} children."))

# %% [markdown]
# ## 3. Provision map
#
# The provider register's settings: places by setting type and area (a council of the data, or out of
# region), and places able to meet moderate (2+) or high (3) intensity of need in each domain. The
# register lists registered settings only (children's homes K2, secure homes K1, residential care homes
# R1, residential schools S1, supported accommodation H5); foster carers have no register.

# %%
settings, settings_excluded = sg.register_settings(region.tables.get("provider_register"),
                                                   region.tables.get("postcode_lookup"), instrument)
by_type = pub.model_table("provision_by_type", sg.provision_by_type(settings, data.councils))
display(by_type)
by_cap = pub.model_table("provision_by_capability", sg.provision_by_capability(settings, data.councils, instrument))
display(by_cap)
points = pub.model_table("provision_points", sg.provision_points(settings, data.councils))
centres = pub.model_table("council_centres", sg.council_centres(settings, data.councils))
fig, ax = plt.subplots(figsize=(9, 7))
splot.provision_map(ax, points, centres, title="Register places by postcode sector")
pub.figure("provision_map", fig)
plt.show()
left_out = ", ".join(f"{k}: {v}" for k, v in settings_excluded.items())
display(Markdown(f"{len(settings):,} settings with {int(settings['PLACES'].sum()):,} places analysed ({left_out})."))

# %% [markdown]
# ## 4. Gap: children of each need profile against the places able to meet them
#
# *In scope*: children looked after on the date who are placed in a registered setting (their URN is in
# the register); foster care has no register (section 5 treats it). For a group of children (a profile
# in a council, a profile across the region, all profiles of a council, everyone), the **shortfall** at a
# reach is the number who could **not** each be given a different place able to meet their needs
# within that reach, even if every place in the register were free for them (a maximum flow of children
# to suitable settings, each setting taking up to its registered places). Each group is taken on its
# own, so rows do not add up; the *Region, all profiles* row is everyone competing for the same places.
# *Places able* counts the places within the reach that can meet at least one child of the group.

# %%
lookup = region.tables.get("postcode_lookup")
gap_kids, gap_excluded = sg.gap_children(current, settings, lookup, instrument)
gap = sg.gap_analysis(gap_kids, settings, instrument, data.councils, excluded=gap_excluded)
excluded = pub.table("gap_children_left_out", gap.excluded, counts=["children"])
display(excluded.set_index("reason"))
children = pub.crosstab("gap_children", labels(gap.children))
display(Markdown("Children in scope (placed in a registered setting), by council and need profile:"))
display(children)
# places able to meet a group say something about the group's needs: hidden wherever its count is hidden
hidden = children.rename(index={"Total": sg.REGION}, columns={"Total": sg.ALL})
hidden.columns = [next((k for k, v in PROFILE_LABELS.items() if v == c), c) for c in hidden.columns]
cells = gap.cells.drop(columns=["children", "placeable"]).copy()
cells["places_able"] = [("c" if hidden.loc[a, p] == "c" else v) if a in hidden.index and p in hidden.columns else v
                        for a, p, v in zip(cells["AREA"], cells["PROFILE"], cells["places_able"])]
shortfall = pub.table("gap_shortfall", cells, counts=["shortfall"], by=["REACH", "PROFILE"], totals_shown=True)
overall = shortfall.loc[shortfall["PROFILE"].eq(sg.ALL)].pivot(index="AREA", columns="REACH", values="shortfall")
overall = overall.reindex(index=[*data.councils, sg.REGION], columns=list(sg.REACHES)).rename(columns=sg.REACH_LABELS)
overall.insert(0, "Children in scope", children["Total"].rename({"Total": sg.REGION}).reindex(overall.index).to_numpy())
overall.index.name, overall.columns.name = None, None
display(Markdown("**Shortfall, all need profiles together**, by council and reach:"))
display(overall)
fig = splot.shortfall_heatmaps(shortfall, children, sg.REACH_LABELS)
pub.figure("shortfall_heatmap", fig)
plt.show()
result = {reach: {p: dict(zip(g["AREA"], g["shortfall"])) for p, g in shortfall.loc[shortfall["REACH"].eq(reach)].groupby("PROFILE", sort=False)}
          for reach in sg.REACHES}
pub.result("shortfall_by_profile_area", result)
region_row = {reach: result[reach][sg.ALL][sg.REGION] for reach in sg.REACHES}
pub.result("region_shortfall_all_profiles", region_row)
display(Markdown(
    "Region-wide, with everyone competing for the same places, the children in registered settings who could not "
    "be given a place able to meet their needs: " +
    "; ".join(f"{sg.REACH_LABELS[r].lower()} **{shown(v)}**" for r, v in region_row.items()) +
    f" (of {shown(children.loc['Total', 'Total'])}). The full table (every profile, area and reach, with the places "
    "able to meet each group) is `tables/gap_shortfall.csv`."))

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
markets, market_excluded = sg.local_children(current, settings, lookup, region.tables.get("provider_register"),
                                             region.tables.get("placement_agreements"), instrument)
per_child = {m: (kids, sg.nearest_suitable(kids, cands, instrument)) for m, (kids, cands) in markets.items()}
local = sg.local_summary(per_child)
left = pd.DataFrame([{"market": m, "reason": r, "children": n} for m, d in market_excluded.items() for r, n in d.items()])
display(pub.table("nearest_children_left_out", left, counts=["children"]).set_index(["market", "reason"]))
cats = pub.table("nearest_suitable_categories", local.categories, counts=["children"],
                 percent_of={"percent": "children"}, by=["market"], totals_shown=True)
display(cats.drop(columns="category").set_index(["market", "label"]))
by_prof = pub.table("placed_locally_by_profile", local.by_profile, counts=["children", "in_nearest", "met_locally"],
                    percent_of={"pct_in_nearest": "in_nearest", "pct_met_locally": "met_locally"},
                    by=["market"], totals_shown=True)
display(by_prof.assign(profile=by_prof["profile"].map(PROFILE_LABELS).fillna("All")).set_index(["market", "profile"]))
extra = pub.table("nearest_suitable_distance", local.extra_miles,
                  counts=["children_met_not_nearest", "children_unmet_with_suitable"],
                  percent_of={"median_extra_miles": "children_met_not_nearest",
                              "median_nearest_miles_unmet": "children_unmet_with_suitable"})
display(extra.set_index("market"))
fig, ax = plt.subplots(figsize=(10, 3.2))
splot.category_bars(ax, cats, sg.CATEGORIES, title="Children by distance from the nearest suitable placement")
pub.figure("nearest_suitable", fig)
plt.show()
alls = by_prof.loc[by_prof["profile"].eq(sg.ALL)].set_index("market")
pub.result("pct_in_nearest_suitable", alls["pct_in_nearest"].to_dict())
pub.result("pct_placed_locally_needs_met", alls["pct_met_locally"].to_dict())
ex = extra.set_index("market")
display(Markdown(
    "In the nearest suitable placement: " + "; ".join(f"{m} **{alls.loc[m, 'pct_in_nearest']}%**" for m in alls.index) +
    ". Placed within 20 miles with every need met: " + "; ".join(f"{m} **{alls.loc[m, 'pct_met_locally']}%**" for m in alls.index) +
    ". Children whose needs are met but not in the nearest suitable placement are a median of " +
    "; ".join(f"{m} {ex.loc[m, 'median_extra_miles']} miles" for m in ex.index) + " further from home than it; "
    "for children whose needs are not met, the nearest suitable placement is a median of " +
    "; ".join(f"{m} {ex.loc[m, 'median_nearest_miles_unmet']} miles" for m in ex.index) + " from home."))

# %% [markdown]
# ## 6. Forecast: children looked after by need profile, one to three years ahead
#
# A stated, simple stock-flow model (entry rates x survival in care). For 31 March of year T0 + h,
# from the last census T0:
#
# *children with profile P* = sum over profiles Q of [children with Q on 31 March T0 x the share of such
# children still looked after, with profile P, h years later] + sum over the years T0+1 ... T0+h of
# [forecast entries with profile Q x the share of entrants with Q still looked after, with profile P, on
# the 31 March that many years after their entry year].
#
# Entries follow a log-linear Poisson trend per entry profile (over-dispersion allowed); the shares are
# pooled over every earlier year. Intervals (95%) simulate the uncertainty of the trend, of future
# entries, of the shares and of who stays. Time in care, not one placement, keeps a child needing a
# placement, so survival in care is the duration used. The back-test refits at each earlier origin
# and compares with the census observed one, two and three years later (mean absolute percentage error,
# MAPE, and how often the observed count fell inside the interval).

# %%
stock, entries = data.yearly, data.entries
opts = sf.ForecastOptions(seed=report.params.seed)
entry_table = pub.crosstab("entries_by_year", labels(sf.entry_counts(entries.loc[entries["YEAR"] >= data.years[0]], data.years)))
display(Markdown("Entries (periods of care starting) by collection year and need profile at entry:"))
display(entry_table.drop(index="Total"))
fc = sf.forecast_demand(stock, entries, data.years[-1], opts)
trend = pub.model_table("entry_trend", fc.trend.assign(PROFILE=fc.trend["PROFILE"].map(PROFILE_LABELS | {"all": "All entries"})).round(2).set_index("PROFILE"))
display(Markdown("Entry trend by need profile at entry (yearly growth in %, with its 95% interval; dispersion 1 = Poisson):"))
display(trend.rename(columns={"entries_origin": f"fitted entries {fc.origin}", "growth_pct": "growth % a year",
                              "growth_low": "low", "growth_high": "high"}))
surv = pub.table("survival_in_care", fc.survival.round(3), counts=["entrants"], percent_of={"share_looked_after": "entrants"})
forecast = pub.model_table("forecast", fc.table.round(0).set_index(["PROFILE", "horizon"]))
compact = fc.table.assign(value=[f"{e:,.0f} ({lo:,.0f}-{hi:,.0f})" for e, lo, hi in zip(fc.table["estimate"], fc.table["low"], fc.table["high"])])
compact = compact.pivot(index="PROFILE", columns="YEAR", values="value").reindex([*PROFILE_LABELS, "all"])
display(Markdown("Children looked after on 31 March, forecast (95% interval):"))
display(compact.rename(index=PROFILE_LABELS | {"all": "All children"}).rename_axis(index=None, columns=None))
fig = splot.forecast_fan(by_year, forecast.reset_index())
pub.figure("forecast", fig)
plt.show()
pub.result("forecast_demand", {p: {str(int(r.YEAR)): {"estimate": r.estimate, "low": r.low, "high": r.high}
                                   for r in g.itertuples()} for p, g in fc.table.round(0).groupby("PROFILE", sort=False)})
_ = pub.result("forecast_entry_growth_pct_per_year", dict(zip(fc.trend["PROFILE"], fc.trend["growth_pct"].round(2))))

# %% [markdown]
# ### Back-test on earlier years

# %%
bt = sf.backtest(stock, entries, opts)
bt_table = pub.table("backtest", bt.table.round(2), counts=["observed"],
                     percent_of={c: "observed" for c in ["estimate", "low", "high", "ape"]})
summary = pub.model_table("backtest_summary", bt.summary.round(3).set_index("horizon"))
display(summary)
pub.result("backtest", bt.to_dict())
if len(bt.summary):
    s = bt.summary.set_index("horizon")
    display(Markdown(
        "Forecasting from earlier years, the mean absolute percentage error for children looked after in all: " +
        "; ".join(f"{h} year{'s' if h > 1 else ''} ahead **{r.mape_total:.1f}%** ({int(r.origins)} origins)" for h, r in s.iterrows()) +
        "; by need profile " + "; ".join(f"{r.mape_profiles:.1f}%" for _, r in s.iterrows()) +
        ". The share of observed counts inside the 95% interval: " + "; ".join(f"{r.coverage:.0%}" for _, r in s.iterrows()) + "."))
else:
    display(Markdown("Too few years of data for a back-test."))

# %% [markdown]
# **Limits.** The register has no vacancies: the gap and the nearest-suitable measure are about
# where suitable places are, not whether they are free, and the register's out-of-region settings are
# those the data lists, not all of England. Foster care is measured against the carers in use. The
# forecast keeps entry profiles and the shares of earlier years (changes in practice or in the age mix
# of entrants are not modelled).

# %%
report.finish()
