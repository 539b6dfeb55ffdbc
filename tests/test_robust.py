"""Cluster-robust variances (stats/robust.py) against R: sandwich::vcovCL for binomial GLMs
(HC1, expected-information bread) and coxph(cluster=) for Cox models, one-way and two-way
(Cameron-Gelbach-Miller: V_child + V_provider - V_child-and-provider).

The variance formulas are compared at R's own coefficients, so the check isolates the
sandwich; the coefficients themselves are compared too.
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from r_reference import max_rel_diff, require_r, run_r
from required import missing

from rcceval.stats.cox import cox_efron
from rcceval.stats.robust import (
    binomial_vcov_cl,
    binomial_vcov_two_way,
    cgm_combine,
    cluster_codes,
    cox_vcov_cluster,
    cox_vcov_two_way,
    person_period_vcov_cl,
    vcov_cl,
)

TOL = 1e-6


def _require_sandwich() -> None:
    require_r()
    ok = subprocess.run([shutil.which("Rscript"), "-e", "library(sandwich)"],
                        capture_output=True).returncode == 0
    if ok:
        return
    missing("R package sandwich not installed (make system-deps installs r-cran-sandwich)")


def _clustered(seed: int, n: int = 800) -> pd.DataFrame:
    """Placements nested in children, crossed with providers (random provider effect)."""
    rng = np.random.default_rng(seed)
    child = rng.integers(0, 200, n)
    prov = rng.integers(0, 60, n)
    x1 = rng.normal(size=n) + 0.3 * rng.normal(size=200)[child]
    x2 = rng.binomial(1, 0.5, n).astype(float)
    k = rng.integers(0, 3, n)
    eta = -1.5 + 0.5 * x1 - 0.4 * x2 + 0.3 * k + 0.3 * rng.normal(size=60)[prov]
    u = rng.uniform(size=n)
    t = np.ceil(rng.exponential(30 * np.exp(-0.5 * x1 - 0.3 * rng.normal(size=60)[prov])))
    c = np.ceil(rng.uniform(0, 60, n))
    return pd.DataFrame({
        "y_logit": (u < 1 / (1 + np.exp(-eta))) * 1.0,
        "y_cloglog": (u < -np.expm1(-np.exp(eta))) * 1.0,
        "x1": x1, "x2": x2, "k": k.astype(float), "child": child.astype(float),
        "prov": prov.astype(float), "t": np.minimum(t, c), "e": (t <= c) * 1.0,
        "w": rng.uniform(0.5, 2.0, n)})


def _design(d: pd.DataFrame) -> np.ndarray:
    k = d["k"].to_numpy()
    return np.column_stack([d["x1"], d["x2"], k == 0, k == 1, k == 2]).astype(float)


GLM_R = '''suppressPackageStartupMessages(library(sandwich)); d <- inp("d"); d$k <- factor(d$k)
f <- glm({y} ~ x1 + x2 + k - 1, family = binomial(link = "{link}"), data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
emit("coef", coef(f))
emit("V", vcovCL(f, cluster = ~child, type = "HC1"))
emit("V0", vcovCL(f, cluster = ~child))
emit("V2", vcovCL(f, cluster = ~child + prov, multi0 = FALSE, type = "HC1"))
'''


@pytest.mark.parametrize("link", ["logit", "cloglog"])
def test_binomial_matches_sandwich_vcovcl_hc1(link):
    _require_sandwich()
    d = _clustered(2)
    y = f"y_{link}"
    ref = run_r(GLM_R.format(y=y, link=link), {"d": d})
    X = _design(d)
    V = binomial_vcov_cl(X, d[y], ref["coef"], d["child"], link)
    assert max_rel_diff(V, ref["V"]) < TOL
    # R's default for a glm is HC0: the same without (n-1)/(n-k)
    n, k = X.shape
    V0 = binomial_vcov_cl(X, d[y], ref["coef"], d["child"], link, hc1=False)
    assert max_rel_diff(V0, ref["V0"]) < TOL
    assert max_rel_diff(V, V0 * (n - 1) / (n - k)) < 1e-12
    two = binomial_vcov_two_way(X, d[y], ref["coef"], d["child"], d["prov"], link)
    assert not two.clipped
    assert max_rel_diff(two.var, ref["V2"]) < TOL


def test_logit_expected_equals_observed_but_cloglog_does_not():
    """The convention matters for cloglog only: for the canonical logit link the observed and
    expected information coincide, so statsmodels' cluster covariance (observed bread, same
    factor) equals ours; for cloglog it does not."""
    import statsmodels.api as sm

    d = _clustered(4)
    X = _design(d)
    for link, sm_link, equal in (("logit", sm.families.links.Logit(), True),
                                 ("cloglog", sm.families.links.CLogLog(), False)):
        y = d[f"y_{link}"].to_numpy()
        fit = sm.GLM(y, X, family=sm.families.Binomial(sm_link)).fit(
            tol=1e-14, cov_type="cluster", cov_kwds={"groups": d["child"].to_numpy().astype(int)})
        ours = binomial_vcov_cl(X, y, fit.params, d["child"], link)
        diff = max_rel_diff(ours, fit.cov_params())
        assert (diff < 1e-8) if equal else (diff > 1e-4), (link, diff)


def test_cox_one_and_two_way_match_coxph_cluster():
    require_r()
    d = _clustered(6)
    X = d[["x1", "x2"]]
    ref = run_r('''d <- inp("d"); d$cp <- interaction(d$child, d$prov, drop = TRUE)
fit <- function(cl) coxph(Surv(t, e) ~ x1 + x2 + strata(k), data = d, weights = w,
                          cluster = cl)
fa <- fit(d$child); fb <- fit(d$prov); fab <- fit(d$cp)
emit("coef", coef(fa)); emit("va", fa$var); emit("vb", fb$var); emit("vab", fab$var)
emit("V", fa$var + fb$var - fab$var)''', {"d": d})
    fit = cox_efron(d["t"], d["e"], X, strata=d["k"], weights=d["w"])
    assert max_rel_diff(fit.coef, ref["coef"]) < 1e-8
    kw = {"strata": d["k"], "weights": d["w"]}
    one = cox_vcov_cluster(d["t"], d["e"], X, ref["coef"], d["child"], **kw)
    assert max_rel_diff(one, ref["va"]) < TOL
    two = cox_vcov_two_way(d["t"], d["e"], X, ref["coef"], d["child"], d["prov"], **kw)
    assert (two.n_a, two.n_b) == (d["child"].nunique(), d["prov"].nunique())
    assert two.n_ab == len(d[["child", "prov"]].drop_duplicates())
    for ours, name in ((two.var_a, "va"), (two.var_b, "vb"), (two.var_ab, "vab"), (two.var, "V")):
        assert max_rel_diff(ours, ref[name]) < TOL, name
    assert not two.clipped
    # at our own fit's coefficients the two-way variance still agrees with R's
    at_ours = cox_vcov_two_way(d["t"], d["e"], X, fit.coef, d["child"], d["prov"], **kw)
    assert max_rel_diff(at_ours.var, ref["V"]) < TOL


def test_cgm_combine_clips_negative_eigenvalues_by_hand():
    va, vb, vab = np.diag([1.0, 1.0]), np.diag([1.0, 0.1]), np.diag([0.5, 2.0])
    V, clipped = cgm_combine(va, vb, vab)            # diag(1.5, -0.9) -> diag(1.5, 0)
    assert clipped
    np.testing.assert_allclose(V, np.diag([1.5, 0.0]), atol=1e-15)
    V, clipped = cgm_combine(va, vb, vab, clip=False)
    assert not clipped and V[1, 1] == pytest.approx(-0.9)


def test_vcov_cl_hand_checked():
    """Two clusters, identity information: V = G/(G-1) (n-1)/(n-k) S'S."""
    scores = np.array([[1.0], [2.0], [-1.0], [0.5]])
    V = vcov_cl(np.eye(1), scores, ["a", "a", "b", "b"])
    assert V[0, 0] == pytest.approx(2 / 1 * 3 / 3 * (3.0 ** 2 + 0.5 ** 2))


def test_intersection_codes_and_bad_input():
    np.testing.assert_array_equal(cluster_codes([1, 1, 2, 2], ["a", "b", "a", "a"]), [0, 1, 2, 2])
    with pytest.raises(ValueError, match="at least 2 clusters"):
        vcov_cl(np.eye(1), np.ones((3, 1)), [1, 1, 1])
    with pytest.raises(ValueError, match="missing"):
        cluster_codes(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="link must be"):
        binomial_vcov_cl(np.ones((4, 1)), [0, 1, 0, 1], [0.0], [1, 2, 3, 4], link="probit")


def test_person_period_fit_matches_vcovcl_on_expanded_rows():
    """Question 1's discrete-time cloglog model (analyses/prediction/fit.py's fitter and layout):
    the aggregated computation equals vcovCL on the expanded person-period rows."""
    _require_sandwich()
    from rcceval.analyses.prediction import fit as sf

    rng = np.random.default_rng(8)
    n, K = 300, 4
    child = rng.integers(0, 120, n)
    X = np.column_stack([rng.normal(size=n), rng.binomial(1, 0.4, n)]).astype(float)
    n_rows = rng.integers(1, K + 1, n)                      # intervals each placement reaches
    placement = np.repeat(np.arange(n), n_rows)
    interval = np.concatenate([np.arange(m) for m in n_rows])
    eta = X[placement] @ np.array([0.4, -0.5]) - 2.0 + 0.2 * interval
    y = (rng.uniform(size=placement.size) < -np.expm1(-np.exp(eta))) * 1.0
    rows = sf.Rows(placement, interval, y, np.zeros(placement.size), K)
    res = sf.fit_glm(X, ["x1", "x2"], rows, child, sf.CLOGLOG, tol=1e-14)
    pp = pd.DataFrame({"y": y, "x1": X[placement, 0], "x2": X[placement, 1],
                       "k": interval.astype(float), "child": child[placement].astype(float)})
    ref = run_r('''suppressPackageStartupMessages(library(sandwich)); d <- inp("d")
f <- glm(y ~ x1 + x2 + factor(k) - 1, family = binomial(link = "cloglog"), data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
emit("coef", coef(f)); emit("V", vcovCL(f, cluster = ~child, type = "HC1"))''', {"d": pp})
    assert max_rel_diff(res.params, ref["coef"]) < 1e-7
    V = person_period_vcov_cl(X, placement, interval, y, ref["coef"], child, "cloglog")
    assert max_rel_diff(V, ref["V"]) < TOL
    # at the package fitter's own estimate, still within 1e-6 of R
    assert max_rel_diff(person_period_vcov_cl(X, placement, interval, y, res.params, child), ref["V"]) < TOL
