"""`rcceval frame PARAMS --out FILE` (issue 16 item 8): question 2's main-model data, refused under
outputs/, and refitting from the written file in R (the README's call) gives the main model's pooled
coefficients to 1e-6."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from r_reference import max_rel_diff, require_r, run_r

from rcceval import cli

ROOT = Path(__file__).resolve().parents[1]

# the README's call, on the written file (read here through run_r's inputs: numeric columns)
README_R = """
d <- inp("d")
imps <- grep("^unplanned_", names(d), value = TRUE)
xs <- setdiff(names(d), c("council", "child", "provider", "days", "ending", imps))
fits <- lapply(imps, function(e) coxph(as.formula(paste0("Surv(days, ", e, ") ~ ",
  paste0("`", xs, "`", collapse = " + "), " + strata(council)")), data = d, cluster = child, ties = "efron",
  control = coxph.control(eps = 1e-12, iter.max = 50)))
emit("coef", rowMeans(sapply(fits, coef)))
"""


def _params(tmp: Path, data: Path) -> Path:
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    values.update(data_source="synthetic", data_dir=str(data),
                  synthetic={"scale": "small", "seed": 7, "null_needs": False},
                  analysis={**values["analysis"], "imputations": 3})
    p = tmp / "p.yaml"
    p.write_text(yaml.safe_dump(values))
    return p


def test_frame_refused_under_outputs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["frame", str(_params(tmp_path, tmp_path / "data")), "--out", "outputs/q2.csv"])
    err = capsys.readouterr().err
    assert code == 2 and "under outputs/" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "outputs").exists()


def test_frame_refits_in_r_to_the_main_model(tmp_path):
    require_r()
    from test_survival import INST, frame_from

    from rcceval.analyses.survival.analysis import PlacementSurvival
    from rcceval.spec import codes
    params = _params(tmp_path, tmp_path / "data")
    out = tmp_path / "model" / "q2.csv"
    assert cli.main(["frame", str(params), "--out", str(out)]) == 0
    written = pd.read_csv(out)
    frame, assessments = frame_from(tmp_path / "data")
    q2 = PlacementSurvival(INST, seed=yaml.safe_load(params.read_text())["seed"], imputations=3).fit(frame, assessments)
    assert len(written) == q2.main.n
    names = list(q2.main.summary.index)
    assert [c for c in written.columns if c in names] == names
    r_in = written.assign(council=pd.factorize(written["council"], sort=True)[0].astype(float))
    ref = run_r(README_R, {"d": r_in.astype(float)})
    assert max_rel_diff(q2.main.summary["coef"].to_numpy(), np.asarray(ref["coef"])) < 1e-6
    assert set(written["ending"]) <= {0, 1, 2, 3, 4} and codes.UNKNOWN   # observed endings kept beside the imputations
