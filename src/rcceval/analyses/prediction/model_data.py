"""The exact model data of question 1's discrete-time hazard models, for refitting elsewhere.

Two tables. Placements: one row per placement question 1 analyses (placement 1..n, council, child
cluster number, days at risk within the horizon, cause by the horizon (0 none, 1 unplanned, 2 other
ending), whether the status at the horizon is known and its censoring weight, and the largest
model's (M2) covariate columns under their own names). Person-periods: one row per placement and
interval at risk (placement, interval 0.., the 0/1 outcome and the log-exposure offset for each of
the two cause-specific cloglog models). ``glm(y_unplanned ~ 0 + factor(interval) + <M2 terms>,
offset = offset_unplanned, family = binomial("cloglog"))`` on the person-periods joined to the
placements reproduces M2's coefficients (the README's call). Child-level: only to a path the user
names.
"""
from __future__ import annotations

import pandas as pd

from rcceval.analyses.prediction import data as sd


def q1_model_data(frame: pd.DataFrame, horizon_days: int = 365, interval_days: int = 30
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(placements, person_periods) exactly as NeedsStabilityAnalysis prepares them."""
    from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
    a = NeedsStabilityAnalysis(horizon_days=horizon_days, interval_days=interval_days)
    d = a._prepare(frame)
    terms = d.terms["M2"]
    fr = d.frame
    places = pd.DataFrame({"placement": range(1, len(fr) + 1), "council": fr["LA"].astype(str).to_numpy(),
                           "child": d.clusters + 1, "days": d.outcome.time, "cause": d.outcome.cause.astype(int),
                           "known": d.outcome.known.astype(int), "ipcw": d.weights})
    places = pd.concat([places, d.X[terms].reset_index(drop=True)], axis=1)
    pp = pd.DataFrame({"placement": d.pp.placement + 1, "interval": d.pp.interval})
    for name, cause in (("unplanned", sd.UNPLANNED), ("other", sd.OTHER_ENDING)):
        rows = d.rows[cause]
        pp[f"y_{name}"] = rows.y.astype(int)
        pp[f"offset_{name}"] = rows.offset
    return places, pp
