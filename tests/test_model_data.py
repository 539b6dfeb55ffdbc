"""`rcceval frame PARAMS --out FILE` (issue 16 item 8): question 2's main-model data, refused under
outputs/, and refitting from the written file in R (the README's call) gives the main model's pooled
coefficients to 1e-6."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
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
  paste0("`", xs, "`", collapse = " + "), " + strata(council)")), data = d, cluster = child, ties = "efron"))
emit("coef", rowMeans(sapply(fits, coef)))
"""


Q1_R = """
p <- inp("p"); pp <- inp("pp")
xs <- setdiff(names(p), c("placement", "council", "child", "days", "cause", "known", "ipcw"))
d <- cbind(pp, p[pp$placement, xs, drop = FALSE])
f <- glm(as.formula(paste0("y_unplanned ~ 0 + factor(interval) + ", paste0("`", xs, "`", collapse = " + "))),
         offset = offset_unplanned, family = binomial(link = "cloglog"), data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
emit("coef", coef(f)[xs]); emit("loglik", as.numeric(logLik(f)))
"""


def numbered(table: pd.DataFrame, fixed: tuple[str, ...]) -> pd.DataFrame:
    """Covariate columns renamed x1, x2, ... in order (run_r passes one file per column; a level's name
    may hold characters a file name cannot), the fixed columns kept."""
    cov = [c for c in table.columns if c not in fixed]
    return table.rename(columns={c: f"x{j + 1}" for j, c in enumerate(cov)}).astype(float)


Q2_FIXED = ("council", "child", "provider", "days", "ending")
Q1_FIXED = ("placement", "child", "days", "cause", "known", "ipcw")


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
    from rcceval import params as params_mod
    frame, assessments = frame_from(params_mod.load(params).data_path)
    q2 = PlacementSurvival(INST, seed=yaml.safe_load(params.read_text())["seed"], imputations=3).fit(frame, assessments)
    assert len(written) == q2.main.n
    names = list(q2.main.summary.index)
    assert [c for c in written.columns if c in names] == names
    r_in = written.assign(council=pd.factorize(written["council"], sort=True)[0].astype(float))
    fixed = Q2_FIXED + tuple(c for c in written.columns if c.startswith("unplanned_"))
    ref = run_r(README_R, {"d": numbered(r_in, fixed)})
    assert max_rel_diff(q2.main.summary["coef"].to_numpy(), np.asarray(ref["coef"])) < 1e-6
    assert set(written["ending"]) <= {0, 1, 2, 3}                 # no unknown cause in this region
    assert (written["unplanned_1"] == written["ending"].eq(1)).all()
    assert codes.UNKNOWN not in set(written["ending"])
    # question 1: the M2 unplanned-ending cloglog model refitted in R from the two files written beside
    from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
    places, pp = pd.read_csv(cli.q1_paths(out)[0]), pd.read_csv(cli.q1_paths(out)[1])
    a = NeedsStabilityAnalysis()
    a._fit_models(a._prepare(frame))
    m2 = a.models["M2"].unplanned
    assert list(places.columns[7:]) == list(m2.names[:m2.p]) and len(pp) == a.counts["n_person_periods"]
    ref = run_r(Q1_R, {"p": numbered(places.drop(columns="council"), Q1_FIXED), "pp": pp.astype(float)})
    # the same likelihood to 1e-9; the coefficients to question 1's own convergence (its IRLS stops at a
    # relative change of the deviance, R's glm here at 1e-14): within a thousandth of the smallest SE
    assert m2.loglik == pytest.approx(float(np.ravel(ref["loglik"])[0]), rel=1e-9)
    assert np.abs(m2.params[:m2.p] - np.asarray(ref["coef"])).max() < 1e-3 * m2.bse[:m2.p].min()

