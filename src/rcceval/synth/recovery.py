"""Truth readers for synthetic data: what the generator used (truth.json), for recovery checks and the
simulations that need a known model. Analyses never read truth.json; a notebook calls these only
when data_source == "synthetic"."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


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
