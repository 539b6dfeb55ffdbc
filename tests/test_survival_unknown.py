"""Question 2's endings of unknown cause (issue 16 item 2): events, cause multiply imputed, bounds.

The small synthetic region has every cause recorded, so causes are blanked here from the truth:
a placement's recorded cause goes blank with probability 0.6 where its mismatch is 1 or more and
0.05 otherwise. Mismatch raises the unplanned hazard, so blanks are far commoner among unplanned
endings than among others: the rate depends on the true cause, through a covariate the cause model
holds (missing at random given it, Lu & Tsiatis' assumption). Censoring the blanks (the old rule)
then understates the one-year incidence of an unplanned ending and biases the mismatch log HR;
imputation recovers the generating log HRs and the complete-data incidence.
"""
from __future__ import annotations

import numpy as np
import pytest
from test_survival import INST, needs_terms, synthetic_frame

from rcceval.analyses.survival import data as sd
from rcceval.analyses.survival import text as q2text
from rcceval.analyses.survival.analysis import PlacementSurvival
from rcceval.analyses.survival.result import summarise
from rcceval.analyses.survival.unknown import bound_causes, cif_at, draw_causes, pooled_fit
from rcceval.spec import codes
from rcceval.synth.recovery import cox_recovery


@pytest.fixture(scope="module")
def blanked(tmp_path_factory):
    frame, assessments, truth = synthetic_frame(tmp_path_factory.mktemp("q2unknown"))
    rng = np.random.default_rng(16)
    ended = frame["ENDING"].isin([codes.UNPLANNED, codes.PLANNED, codes.LEFT_CARE]).to_numpy()
    p = np.where(frame["MISMATCH"].fillna(0).to_numpy() >= 1, 0.6, 0.05)
    blank = ended & (rng.random(len(frame)) < p)
    g = frame.copy()
    g.loc[blank, "ENDING"] = codes.UNKNOWN
    q2 = PlacementSurvival(INST, seed=3, imputations=10, clusters_k=0).fit(g, assessments)
    return frame, g, blank, truth, q2


def test_blanks_depend_on_the_cause(blanked):
    frame, _, blank, _, q2 = blanked
    ended = frame["ENDING"].isin([codes.UNPLANNED, codes.PLANNED, codes.LEFT_CARE])
    unpl = frame["ENDING"].eq(codes.UNPLANNED)
    assert unpl[blank].mean() > unpl[ended & ~blank].mean() + 0.08
    assert q2.unknown.followed == int(blank.sum())
    assert q2.fu[sd.CAUSE].eq(sd.UNKNOWN_CAUSE).sum() == blank.sum()      # events of unknown cause, not censored


def test_imputation_recovers_generating_log_hrs_and_incidence_that_censoring_understates(blanked):
    frame, g, blank, truth, q2 = blanked
    m = q2.main
    assert m.imputation["m"] == 10 and m.imputation["unknown"] == q2.unknown.in_model > 300
    rec = cox_recovery(m, truth)
    needs = rec.loc[needs_terms(rec.index)]
    assert (~needs["covered"]).sum() <= 2, needs.loc[~needs["covered"]]    # 17 intervals, as the complete data
    d = m.design
    complete = sd.follow_up(frame).loc[d.rows, sd.CAUSE].to_numpy()        # the causes before blanking
    true_cif, true_se = cif_at(d, complete, 365, sd.UNPLANNED)
    cif = q2.unknown.cif.set_index("treatment")
    imp, cens = cif.loc["imputed"], cif.loc["censored (not used: overstates survival)"]
    assert abs(imp["cif"] - true_cif) < 2 * imp["se"]                        # recovered
    assert cens["cif"] < true_cif - 4 * true_se                              # censoring understates it
    assert cif.loc["none unplanned", "cif"] <= imp["cif"] <= cif.loc["all unplanned", "cif"]
    # the mismatch log HR: imputed within its interval of the generating value, censored not
    truth_mm = np.log(rec.loc["MISMATCH", "true_hr"])
    s = m.summary.loc["MISMATCH"]
    assert abs(s["coef"] - truth_mm) < 1.96 * s["robust_se_two_way"]
    cens_fit = pooled_fit(d.subset(np.ones(len(d.time), bool)), sd.UNPLANNED)   # unknown = code 4: not an event
    j = d.names.index("MISMATCH")
    assert abs(cens_fit.coef[j] - truth_mm) > abs(s["coef"] - truth_mm)


def test_rubin_pooling_and_bounds_by_hand(blanked):
    _, _, _, _, q2 = blanked
    d = q2.main.design
    draws = draw_causes(d, 10, 3)
    np.testing.assert_array_equal(draws, draw_causes(d, 10, 3))                 # seeded
    known = d.cause != sd.UNKNOWN_CAUSE
    assert (draws[:, known] == d.cause[known]).all()
    assert set(np.unique(draws[:, ~known])) <= {sd.UNPLANNED, sd.PLANNED, sd.LEFT_CARE}
    fits = [pooled_fit(d, sd.UNPLANNED, draws[j:j + 1]) for j in range(3)]
    pooled = pooled_fit(d, sd.UNPLANNED, draws[:3])
    b = np.array([f.coef for f in fits])
    w = np.array([f.se_two_way ** 2 for f in fits]).mean(axis=0)
    np.testing.assert_allclose(pooled.coef, b.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(pooled.se_two_way ** 2, w + (1 + 1 / 3) * b.var(axis=0, ddof=1), rtol=1e-10)
    allu = bound_causes(d, "all unplanned", sd.PLANNED)
    assert (allu[~known] == sd.UNPLANNED).all() and (allu[known] == d.cause[known]).all()
    assert (bound_causes(d, "none unplanned", sd.PLANNED)[~known] == sd.PLANNED).all()


def test_result_and_text_show_the_three_estimates(blanked):
    _, _, blank, _, q2 = blanked
    r = summarise(q2)
    t = r.unknown_cause_table
    assert [c.split(":")[0] for c in t.columns[::3]] == ["imputed (main)", "all unplanned", "none unplanned"]
    h = r.headlines()["unknown_cause"]
    assert h["endings_of_unknown_cause"].value == int(blank.sum())
    assert set(h["cif_unplanned_1y"]) >= {"imputed", "all unplanned", "none unplanned"}
    assert "unknown_cause_sensitivity" in r.tables()
    text = q2text.unknown_causes(r)
    assert f"{int(blank.sum()):,} placements ended with a cause" in text
    cif = r.unknown_cause_cif.set_index("treatment")
    assert q2text.pct(cif.loc["imputed", "cif"]) in text


TWO_WAY_R = """
d <- inp("d")
xs <- grep("^x", names(d), value = TRUE)
es <- grep("^e", names(d), value = TRUE)
d$cp <- interaction(d$cl, d$pr, drop = TRUE)
co <- NULL; vv <- NULL
for (e in es) {
  f <- as.formula(paste0("Surv(t, ", e, ") ~ ", paste(c(xs, "strata(s)"), collapse = " + ")))
  # the cluster is a column of the data coxph is given (coxph looks `cluster` up there first)
  fit <- function(v) { d$grp <- v; coxph(f, data = d, cluster = grp, ties = "efron") }
  fa <- fit(d$cl); fb <- fit(d$pr); fab <- fit(d$cp)
  V <- fa$var + fb$var - fab$var
  e <- eigen((V + t(V)) / 2, symmetric = TRUE)   # CGM 2011 2.3: negative eigenvalues set to 0
  V <- e$vectors %*% diag(pmax(e$values, 0)) %*% t(e$vectors)
  co <- rbind(co, coef(fa)); vv <- rbind(vv, diag(V))
}
m <- nrow(co)
emit("coef", colMeans(co))
emit("se", sqrt(colMeans(vv) + (1 + 1 / m) * apply(co, 2, var)))
"""


def test_main_model_two_way_clustered_and_pooled_equals_r(blanked):
    """The published main model: per completed data set, R's coxph clustered by child, by provider and
    by their intersection gives V = V_child + V_provider - V_both (CGM; negative eigenvalues set to 0,
    their section 2.3); Rubin's rules over the sets."""
    from r_reference import max_rel_diff, require_r, run_r
    require_r()
    _, _, _, _, q2 = blanked
    m = q2.main
    d = m.design
    draws = q2._main_draws
    # the model's rows and columns (levels without an unplanned ending already left out of m.design)
    out = {f"x{j + 1}": d.X.iloc[:, j].to_numpy() for j in range(d.X.shape[1])}
    out.update({f"e{j + 1}": (draws[j] == sd.UNPLANNED).astype(float) for j in range(draws.shape[0])})
    import pandas as pd
    r_in = pd.DataFrame(out).assign(t=d.time, s=pd.factorize(d.stratum, sort=True)[0].astype(float),
                                    cl=pd.factorize(d.cluster, sort=True)[0].astype(float),
                                    pr=pd.factorize(d.provider, sort=True)[0].astype(float))
    assert d.provider is not None and len(np.unique(d.provider)) < len(d.time)   # providers shared for real
    ref = run_r(TWO_WAY_R, {"d": r_in})
    assert max_rel_diff(m.summary["coef"].to_numpy(), ref["coef"]) < 1e-6
    assert max_rel_diff(m.summary["robust_se_two_way"].to_numpy(), ref["se"]) < 1e-6


def test_model_data_with_imputed_causes_refits_in_r(blanked):
    """With endings of unknown cause (blanked from the truth as in test_survival_unknown): the file's
    imputation columns are the main model's completed data sets, and R's pooled refit equals it."""
    from r_reference import max_rel_diff, require_r, run_r
    from test_model_data import Q2_FIXED, README_R, numbered

    from rcceval.analyses.survival.model_data import main_model_data
    require_r()
    import pandas as pd
    _, g, _, _, q2 = blanked
    written = main_model_data(g, INST, imputations=10, seed=3)
    assert written.attrs["unknown"] == q2.main.imputation["unknown"]
    assert (written["ending"] == 4).sum() == q2.main.imputation["unknown"]
    imputed = written.loc[written["ending"] == 4, [f"unplanned_{j}" for j in range(1, 11)]].to_numpy()
    assert 0 < imputed.mean() < 1                                 # some imputed unplanned, some not
    r_in = written.assign(council=pd.factorize(written["council"], sort=True)[0].astype(float))
    fixed = Q2_FIXED + tuple(c for c in written.columns if c.startswith("unplanned_"))
    ref = run_r(README_R, {"d": numbered(r_in, fixed)})
    assert max_rel_diff(q2.main.summary["coef"].to_numpy(), np.asarray(ref["coef"])) < 1e-6
