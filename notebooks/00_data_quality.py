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
analysis = {'lookback_days': 183, 'horizon_days': 365, 'folds': 5, 'bootstrap': 200}
power = {'replicates': 200, 'target': 0.8, 'alpha': 0.05}
parallel = {'workers': 2, 'scheduler': None}
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

from rcceval.analyses import quality
from rcceval.analyses.quality import plots, text
from rcceval.reporting.report import open_report

report = open_report(globals(), "00_data_quality")
p = report.params
result = quality.fit(report.region, report.placements, pd.Timestamp(p.analysis_start), pd.Timestamp(p.analysis_end),
                     report.extract_date.year, p.analysis.lookback_days, region_councils=report.data_councils)
shown = report.publish.publish(result)  # every table and headline through disclosure control

# %% [markdown]
# ## Validation summary
#
# Fatal problems would have stopped this report; fixable ones were cleaned by the documented rule shown.

# %%
display(Markdown(text.validation_summary(result.n_files, result.problems)))
display(shown["problems_by_rule"] if "problems_by_rule" in shown else Markdown("No problems found."))

# %% [markdown]
# ## Children looked after on 31 March, by council and year

# %%
cla = shown["cla_by_council_year"]
display(cla)
ax = plots.cla_over_time(cla)
report.publish.figure("cla_over_time", ax.figure)
plt.show()

# %% [markdown]
# ## Placement mix on 31 March

# %%
mix = shown["placement_mix"]
display(mix.set_index("placement_type"))
ax = plots.placement_mix(mix)
report.publish.figure("placement_mix", ax.figure)
plt.show()

# %% [markdown]
# ## Placement stability (DfE measures) beside the national figures

# %%
display(shown["stability_measures"].set_index("LA"))
display(Markdown(text.stability_summary(shown, result.year)))

# %% [markdown]
# ## Where new placements are
#
# New placements in the latest collection year by the DfE's location categories (straight-line distance between the home and placement postcodes, from the ONS Postcode Directory), and inside or outside the region's councils. The DfE's published percentages for England and the South East follow.

# %%
display(shown["new_placement_location"])
display(shown["new_placement_region"])
display(shown["new_placement_location_england"])
display(Markdown(text.location_summary(shown, result.location_published, result.year)))

# %% [markdown]
# ## Coverage of the needs data and placement requests
#
# Placements starting in the analysis window with a needs assessment in the six months before (or on) the start, and with a placement request (Placements Data Standard v2).

# %%
display(shown["coverage"].set_index("LA"))

# %%
report.finish()
