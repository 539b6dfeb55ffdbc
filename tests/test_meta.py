"""Random-effects meta-analysis (stats/meta.py) against R metafor's rma() on the BCG trials
(Colditz et al. 1994, metafor's dat.bcg; log risk ratios), REML and DL, and by hand."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from r_reference import require_r, run_r
from required import missing
from scipy import stats

from rcceval.stats.meta import random_effects, tau2_dl

BCG_R = '''suppressPackageStartupMessages(library(metafor))
d <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
emit("yi", as.numeric(d$yi)); emit("vi", as.numeric(d$vi))
for (m in c("REML", "DL")) {
  f <- rma(yi, vi, data = d, method = m)
  p <- predict(f)
  emit(paste0(m, "_fit"), c(f$tau2, as.numeric(f$b), f$se, f$QE, f$I2))
}
'''


def _require_metafor() -> None:
    require_r()
    if subprocess.run([shutil.which("Rscript"), "-e", "library(metafor)"], capture_output=True).returncode:
        missing("R package metafor not installed (make system-deps installs r-cran-metafor)")


def test_random_effects_match_metafor_rma_on_bcg():
    _require_metafor()
    ref = run_r(BCG_R, {})
    y, v = np.asarray(ref["yi"]), np.asarray(ref["vi"])
    for method in ("REML", "DL"):
        tau2, mu, se, q, i2 = np.asarray(ref[f"{method}_fit"], float)
        r = random_effects(y, v, method=method)
        assert r.tau2 == pytest.approx(tau2, rel=1e-6) and r.mu == pytest.approx(mu, rel=1e-6)
        assert r.se == pytest.approx(se, rel=1e-6) and r.q == pytest.approx(q, rel=1e-9)
        assert r.i2 == pytest.approx(i2, rel=1e-6)
        lo, hi = r.prediction_interval()
        half = stats.t.ppf(0.975, len(y) - 2) * np.sqrt(tau2 + se ** 2)
        assert (lo, hi) == (pytest.approx(mu - half, rel=1e-6), pytest.approx(mu + half, rel=1e-6))
    # published: REML tau^2 = 0.3132, DL 0.3088 (Viechtbauer 2010, J Stat Softw 36(3))
    assert round(random_effects(y, v).tau2, 4) == 0.3132 and round(tau2_dl(y, v), 4) == 0.3088


def test_dl_by_hand_and_homogeneous_estimates():
    """y = (0, 1, 2), v = 1: w = 1, mu_FE = 1, Q = 2, c = 3 - 3/3 = 2, tau^2 = (2 - 2)/2 = 0;
    y = (0, 2, 4): Q = 8, tau^2 = (8 - 2)/2 = 3, mu = 2, se = sqrt((1 + 3)/3)."""
    assert tau2_dl([0, 1, 2], [1, 1, 1]) == 0.0
    r = random_effects([0, 2, 4], [1, 1, 1], method="DL")
    assert (r.tau2, r.mu, r.q) == (3.0, 2.0, 8.0) and r.se == pytest.approx(np.sqrt(4 / 3))
    assert random_effects([0, 1], [1, 1]).prediction_interval() is None        # k < 3: no prediction interval
    with pytest.raises(ValueError, match="positive"):
        random_effects([0, 1, 2], [1, 0, 1])
