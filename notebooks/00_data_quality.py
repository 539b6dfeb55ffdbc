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
# # Data quality: what was read, what was fixed, what is covered
#
# This report checks the data behind every other report: the 903 returns read, the problems found
# and how each was handled, how many children were looked after by council and year, the placement
# mix, the DfE stability measures beside the national figures, and how many placements have a needs
# assessment and a placement request (the data the 903 lacks). Small numbers are suppressed ("c").

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
notebooks = ['00_data_quality']
instrument = 'rcceval-open-v1'
keep_code = False
output_dir = None

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from rcceval.reporting import figures as plots
from rcceval.analyses.quality import checks as quality
from rcceval.reporting.report import open_report

report = open_report(globals(), "00_data_quality")
region = report.region           # read and validated; fixable problems cleaned and recorded
c903 = region.c903
pub = report.publish
years = sorted(int(y) for y in c903.episodes["YEAR"].dropna().unique())
latest = report.extract_date.year

# %% [markdown]
# ## Validation summary
#
# Fatal problems would have stopped this report; fixable ones were cleaned by the documented rule shown.

# %%
report_ = region.report
display(Markdown(f"**{report_.n_files} files read**: {report_.count('fatal')} fatal, "
                 f"{report_.count('fixable')} fixable problems cleaned, {report_.count('warning')} warnings."))
pub.result("files_read", report_.n_files)
pub.result("problems", {s: report_.count(s) for s in ("fatal", "fixable", "warning")})
rules = quality.problems_by_rule(report_)
display(pub.table("problems_by_rule", rules, counts=["n"]) if len(rules) else Markdown("No problems found."))

# %% [markdown]
# ## Children looked after on 31 March, by council and year

# %%
cla = pub.crosstab("cla_by_council_year", quality.cla_by_council_year(c903, years))
display(cla)
total = cla.loc["Total"].drop("Total")
pub.result("children_looked_after_31_march", {str(y): v for y, v in total.items()})
fig, ax = plt.subplots(figsize=(7, 3.5))
plots.line_from_table(ax, total, xlabel="Year ending 31 March", ylabel="Children looked after")
pub.figure("cla_over_time", fig)
plt.show()

# %% [markdown]
# ## Placement mix on 31 March

# %%
mix = pub.table("placement_mix", quality.placement_mix(c903, latest), counts=["children"],
                percent_of={"percent": "children"}, totals_shown=True)
display(mix.set_index("placement_type"))
fig, ax = plt.subplots(figsize=(7, 3.5))
plots.bar_from_table(ax, mix, "placement_type", "percent", xlabel="% of children looked after")
pub.figure("placement_mix", fig)
plt.show()

# %% [markdown]
# ## Placement stability (DfE measures) beside the national figures

# %%
stab = quality.stability_with_national(c903, latest)
shown = pub.table("stability_measures", stab.round(1),
                  counts=["cla_31_march", "n_3plus_year", "cla_two_years", "n_3plus_two_years",
                          "long_term_denominator", "long_term_stable"],
                  percent_of={"pct_3plus_year": "n_3plus_year", "pct_3plus_two_years": "n_3plus_two_years",
                              "pct_long_term_stable": "long_term_stable"})
display(shown.set_index("LA"))
overall = stab.set_index("LA").loc["ALL"]
pub.result("pct_3plus_placements_year", round(overall["pct_3plus_year"], 1))
pub.result("pct_long_term_stability", round(overall["pct_long_term_stable"], 1))
eng = quality.NATIONAL_STABILITY.get(latest, {})
england = lambda key: f"{eng[key]:.0f}%" if key in eng else "not published here"
display(Markdown(
    f"Across the councils, **{overall['pct_3plus_year']:.1f}%** of children looked after on 31 March {latest} "
    f"had three or more placements in the year (England: {england('pct_3plus_year')}), and "
    f"**{overall['pct_long_term_stable']:.1f}%** of those under 16 in care 2.5 years or more had lived with the "
    f"same carer for 2 years or more (England: {england('pct_long_term_stable')}). "
    f"National figures: {quality.NATIONAL_SOURCE}."))

# %% [markdown]
# ## Coverage of the needs data and placement requests
#
# Placements starting in the analysis window with a needs assessment in the six months before (or on) the start, and with a placement request (Placements Data Standard v2).

# %%
cov = quality.coverage(report.placements, pd.Timestamp(report.params.analysis_start),
                       pd.Timestamp(report.params.analysis_end), region.tables.get("needs_assessments"),
                       region.tables.get("placement_requests"))
shown = pub.table("coverage", cov, counts=["placements", "with_assessment", "with_request"],
                  percent_of={"pct_with_assessment": "with_assessment", "pct_with_request": "with_request"})
display(shown.set_index("LA"))
row = cov.set_index("LA").loc["ALL"]
pub.result("placements_in_window", int(row["placements"]))
pub.result("pct_placements_with_assessment", row["pct_with_assessment"])
pub.result("pct_placements_with_request", row["pct_with_request"])

# %%
report.finish()
