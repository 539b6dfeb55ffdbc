"""The exact model data of question 2's main Cox model, for refitting elsewhere (R, Stata).

One row per placement in the main model: council (the stratum), child and provider cluster numbers
(integers, not identifiers), days followed, the observed ending (0 open, 1 unplanned, 2 planned,
3 left care, 4 unknown cause), every covariate column of the model under its own name, and one 0/1
column per imputation (unplanned_1 .. unplanned_M) holding that completed data set's unplanned
ending. The R call in the README refits each and pools by Rubin's rules. Child-level: written only
to a path the user names (cli.py refuses outputs/).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rcceval.analyses.survival.data import UNKNOWN_CAUSE, UNPLANNED, CoxSpec, design, follow_up, need_profiles
from rcceval.analyses.survival.unknown import draw_causes
from rcceval.spec.instruments import Instrument


def main_model_data(frame: pd.DataFrame, instrument: Instrument, imputations: int = 10, seed: int = 0) -> pd.DataFrame:
    """The main model's rows and columns as PlacementSurvival fits them (same design, same draws)."""
    fu = follow_up(frame)
    needs = bool(need_profiles(fu, instrument)["PROFILE_TIER"].notna().any())
    mismatch = needs and bool(fu["MISMATCH"].notna().any()) if "MISMATCH" in fu else False
    d = design(fu, instrument, CoxSpec(needs=needs, mismatch=mismatch))
    draws = draw_causes(d, imputations, seed)
    cols, drop = d.eventless_levels(UNPLANNED)
    if cols:
        d = d.subset(~drop, cols)
        draws = None if draws is None else draws[:, ~drop]
    out = pd.DataFrame({"council": d.stratum, "child": pd.factorize(d.cluster, sort=True)[0] + 1,
                        "provider": pd.factorize(d.provider, sort=True)[0] + 1, "days": d.time,
                        "ending": d.cause})
    out = pd.concat([out, d.X.reset_index(drop=True)], axis=1)
    sets = np.tile(d.cause, (imputations, 1)) if draws is None else draws
    for j, c in enumerate(sets):
        out[f"unplanned_{j + 1}"] = (c == UNPLANNED).astype(int)
    out.attrs["unknown"] = int((d.cause == UNKNOWN_CAUSE).sum())
    return out
