"""Reading the synthetic region's truth.json and comparing fitted models with it.

Analyses never read truth.json: the notebooks call these only when data_source is "synthetic".
Functions are grouped by question (other questions add their own sections).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rcceval.spec import codes

if TYPE_CHECKING:
    from rcceval.analyses.costing.hazard import HazardModel
    from rcceval.analyses.survival.cox import CoxModel


def read_truth(data_path: str | Path) -> dict | None:
    """truth.json of a synthetic region, or None when the folder has none."""
    f = Path(data_path) / "truth.json"
    return json.loads(f.read_text()) if f.is_file() else None


# --------------------------------------------------------------------------------------------
# Questions 2 and 3: placement-ending hazards
# --------------------------------------------------------------------------------------------

TRUTH_CAUSE = {codes.UNPLANNED: "unplanned", codes.PLANNED: "planned", codes.LEFT_CARE: "leaving_care"}


def truth_name(covariate: str) -> str | None:
    """The synthetic region's name (truth.json) of a model covariate; None if not in its hazard."""
    if covariate.startswith("I_"):
        return "intensity_" + covariate[2:]
    if covariate.startswith("F_"):
        return "frequency_" + covariate[2:]
    if covariate.startswith("TYPE="):
        return "type_" + covariate[5:]
    if covariate.startswith("AGE_BAND="):
        return "age_" + covariate[9:].replace("-", "_")
    return {"MISMATCH": "mismatch", "SECOND_BEST": "second_best", "FIRST_IN_PERIOD": "first_in_period",
            "CARE_ORDER": "care_order", "UASC": "uasc"}.get(covariate)


def cox_recovery(model: CoxModel, truth: dict) -> pd.DataFrame:
    """Each log HR beside its generating value (truth.json); covariates absent from the generating
    hazard have a true log HR of 0. covered: the CI (robust) holds the generating value."""
    from rcceval.analyses.survival.cox import _z
    effects = truth["true_effects"][TRUTH_CAUSE[model.cause]]["log_hr"]
    z = _z(model.alpha)
    s = model.summary
    true = np.array([effects.get(truth_name(c), 0.0) if truth_name(c) else 0.0 for c in s.index])
    if "hr_lower" in s:   # the published interval (two-way clustered; Rubin's t where causes were imputed)
        lo, hi = np.log(s["hr_lower"]), np.log(s["hr_upper"])
    else:
        lo, hi = s["coef"] - z * s["robust_se"], s["coef"] + z * s["robust_se"]
    out = pd.DataFrame({"true_log_hr": true, "log_hr": s["coef"], "lower": lo, "upper": hi,
                        "true_hr": np.exp(true), "hr": s["hr"], "covered": (lo <= true) & (true <= hi),
                        "in_generating_hazard": [truth_name(c) in effects for c in s.index]}, index=s.index)
    out.index.name = "covariate"
    return out


def recovery_summary(recovered: pd.DataFrame) -> dict:
    """How many generating values the main model's intervals hold (question 2's results.json entry)."""
    r = recovered
    needs = r.loc[[c for c in r.index if c.startswith(("I_", "F_")) or c == "MISMATCH"]]
    return {"covered": int(r["covered"].sum()), "of": len(r),
            "needs_and_mismatch_covered": int(needs["covered"].sum()), "needs_and_mismatch_of": len(needs),
            "not_covered": list(r.index[~r["covered"]])}


def generating_hazards(truth: dict, names: list[str], strata: list[str]) -> HazardModel:
    """Question 3's HazardModel from truth.json: Weibull baselines (t in years), log HRs mapped onto the
    Cox design's column names (truth_name; names not in the generating hazard get 0) and each
    council's log frailty on the causes it applies to."""
    from rcceval.analyses.costing.hazard import CAUSES, CauseHazard, HazardModel
    hz = truth["parameters"]["hazard"]
    frailty = {c["code"]: c["log_frailty"] for c in truth.get("councils", [])}
    out = {}
    for cause in CAUSES:
        tc = TRUTH_CAUSE[cause]
        eff = truth["true_effects"][tc]
        coef = np.array([eff["log_hr"].get(truth_name(n), 0.0) if truth_name(n) else 0.0 for n in names], dtype=float)
        off = np.array([frailty.get(s, 0.0) if tc in hz.get("council_frailty_applies_to", []) else 0.0 for s in strata])
        b = eff["baseline"]
        out[cause] = CauseHazard(cause=cause, names=list(names), coef=coef, cov=None, centre=np.zeros(len(names)),
                                 strata=list(strata), kind="weibull", weibull=(float(b["lambda"]), float(b["shape"])),
                                 stratum_offset=off)
    notes = [("generating model (truth.json): Weibull cause-specific hazards with council frailty; "
              "its adoption-move rule and re-entry to care are not simulated")]
    return HazardModel("generating", out, notes)


# ---- question 4: the generating hazard behind the simulated-power check --------------------------------
def proposal_truth(data_dir: str | Path) -> dict | None:
    """The synthetic region's truth.json, or None where there is none (not synthetic data)."""
    path = Path(data_dir) / "truth.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def proposal_generating_model(data_dir: str | Path):
    """The cause-specific Weibull hazards the region was generated from (question 4's GeneratingModel,
    the small council frailty left out), or None without a truth.json."""
    from rcceval.analyses.proposal.power import GeneratingModel

    truth = proposal_truth(data_dir)
    if truth is None:
        return None
    hz = truth["parameters"]["hazard"]
    names = tuple(truth["covariate_order"])
    return GeneratingModel(
        names=names,
        baseline={c: (float(hz["baseline"][c]["lambda"]), float(hz["baseline"][c]["shape"])) for c in hz["causes"]},
        log_hr={c: np.array([float(hz["log_hr"][c].get(n, 0.0)) for n in names]) for c in hz["causes"]})
