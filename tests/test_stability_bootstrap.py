"""Question 1's refitting bootstrap (analyses/prediction/bootstrap.py) and robust variance convention, on
small simulated person-period data: splitmix64 resamples, frequency weights equal to copied rows, the
one-step refit against full convergence, the identity resample reproducing the estimate, results the
same for any number of workers, and question 1's fitter against R's sandwich::vcovCL (HC1) to 1e-6."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from r_reference import max_rel_diff, run_r
from test_robust import _require_sandwich

from rcceval.analyses.prediction import bootstrap as sb
from rcceval.analyses.prediction import data as sd
from rcceval.analyses.prediction import fit as sf
from rcceval.analyses.prediction import metrics as smx
from rcceval.analyses.prediction.analysis import _fit, _fold_job, _rows_for, _start_for, bootstrap_data
from rcceval.spec import codes

HORIZON, FOLDS = 360, 5
EDGES = sd.interval_edges(HORIZON, 90)
NAMES = [f"interval[{int(a)}-{int(b)}]" for a, b in zip(EDGES[:-1], EDGES[1:])]
M0, M1 = ["x1", "x2"], ["x1", "x2", "I_a", "I_b"]
SPECS = {"M0": (M0, None), "M1": (M1, None), "M1 without a": (["x1", "x2", "I_b"], "M1")}


def _simulate(seed: int, n_children: int):
    """Children with 1-3 placements; unplanned and other endings by exponential hazards, random censoring."""
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 4, n_children)
    child = np.repeat(np.arange(n_children), per)
    n = child.size
    frailty = rng.normal(scale=0.3, size=n_children)[child]
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.binomial(1, 0.4, n).astype(float),
                      "I_a": rng.integers(0, 4, n).astype(float), "I_b": rng.integers(0, 4, n).astype(float)})
    rate1 = np.exp(-6.0 + 0.4 * X["x1"] + 0.3 * X["x2"] + 0.35 * X["I_a"] + 0.05 * X["I_b"] + frailty)
    rate2 = np.exp(-6.3 + 0.2 * X["x1"])
    t1, t2 = rng.exponential(1 / rate1), rng.exponential(1 / rate2)
    cens = rng.uniform(30, 900, n)
    t = np.ceil(np.minimum.reduce([t1, t2, cens]))
    ending = np.where(t1 <= np.minimum(t2, cens), codes.UNPLANNED,
                      np.where(t2 <= cens, codes.PLANNED, codes.OPEN))
    frame = pd.DataFrame({"DURATION_DAYS": np.maximum(t, 1.0), "CENSORED": ending == codes.OPEN, "ENDING": ending})
    return X, frame, child


def _prepared(seed: int = 3, n_children: int = 500):
    """The analysis's own path: outcome, person-period rows, full and fold fits, bootstrap data."""
    X, frame, child = _simulate(seed, n_children)
    out = sd.horizon_outcome(frame, HORIZON)
    pp = sd.person_period(out.time, out.cause, EDGES)
    rows = {c: _rows_for(pp, c) for c in (sd.UNPLANNED, sd.OTHER_ENDING)}
    starts = {}
    full = {(m, c): _fit(X, SPECS[m][0], rows[c], child, NAMES, robust=False) for m in ("M0", "M1")
            for c in (sd.UNPLANNED, sd.OTHER_ENDING)}
    for name, (terms, other_of) in SPECS.items():
        for c in (sd.UNPLANNED, sd.OTHER_ENDING):
            starts[(name, c)] = _start_for(full[(other_of or name, c)], terms)
    folds = smx.grouped_folds(child, FOLDS, seed)
    results = [_fold_job(f, folds, X, rows, child, SPECS, starts, NAMES) for f in range(FOLDS)]
    oof = {m: np.full(len(X), np.nan) for m in SPECS}
    for idx, preds, _ in results:
        for m, p in preds.items():
            oof[m][idx] = p
    data = bootstrap_data(X, rows, child, folds, FOLDS, frame, HORIZON, out.y, SPECS, [r[2] for r in results])
    w = smx.censoring_weights(data.time, data.censored, HORIZON)
    point = {m: smx.weighted_auc(oof[m], out.y, w) for m in SPECS}
    return data, point, X, rows, child


@pytest.fixture(scope="module")
def prepared():
    return _prepared()


# ---- resamples ----------------------------------------------------------------------------------------------
def _splitmix64_reference(state: int) -> tuple[int, int]:
    """Steele, Lea & Flood's splitmix64 in plain Python integers: (new state, output)."""
    mask = 2 ** 64 - 1
    state = (state + 0x9E3779B97F4A7C15) & mask
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return state, z ^ (z >> 31)


def _mix(x: int) -> int:
    return _splitmix64_reference((x - 0x9E3779B97F4A7C15) % 2 ** 64)[1]   # the finaliser alone


def test_replicate_counts_are_splitmix64_draws_of_children():
    """Draw j of replicate b is child floor(G u_j), u_j the (j+1)-th splitmix64 output from key(seed, b)."""
    seed, b, G = 20240331, 7, 9
    key = _mix(_mix(seed ^ int(sb.STREAM)) + b * 0x9E3779B97F4A7C15 & (2 ** 64 - 1))
    state, draws = key, []
    for _ in range(G):
        state, z = _splitmix64_reference(state)
        u = ((z >> 11) + 0.5) * 2.0 ** -53
        draws.append(int(u * G))
    np.testing.assert_array_equal(sb.replicate_counts(seed, b, G), np.bincount(draws, minlength=G))
    assert not np.array_equal(sb.replicate_counts(seed, 8, 50), sb.replicate_counts(seed, 7, 50))
    assert not np.array_equal(sb.replicate_counts(seed + 1, 7, 50), sb.replicate_counts(seed, 7, 50))
    # multinomial(G, 1/G): every replicate draws G children; a child's count has mean 1, variance 1 - 1/G
    counts = np.array([sb.replicate_counts(1, r, 50) for r in range(4000)])
    assert (counts.sum(axis=1) == 50).all()
    assert counts.mean() == pytest.approx(1.0, abs=1e-12)
    assert counts.var(axis=0).mean() == pytest.approx(1 - 1 / 50, abs=0.03)


def test_frequency_weights_equal_copied_rows(prepared):
    """A resample as weights: fit_glm with integer weights = the fit on placements copied that many times."""
    data, _, X, rows, child = prepared
    counts = sb.replicate_counts(5, 0, data.n_children)[child].astype(float)
    weighted = sf.fit_glm(X[M1].to_numpy(), M1, rows[sd.UNPLANNED], child, robust=False, freq_weights=counts,
                          tol=1e-14)
    copies = np.repeat(np.arange(len(X)), counts.astype(int))
    r = rows[sd.UNPLANNED]
    keep = np.concatenate([np.flatnonzero(r.placement == i) for i in copies])
    new_index = np.repeat(np.arange(len(copies)), [np.sum(r.placement == i) for i in copies])
    copied = sf.Rows(new_index, r.interval[keep], r.y[keep], r.offset[keep], r.n_intervals)
    ref = sf.fit_glm(X[M1].to_numpy()[copies], M1, copied, child[copies], robust=False, tol=1e-14)
    np.testing.assert_allclose(weighted.params, ref.params, atol=1e-9)
    assert weighted.loglik == pytest.approx(ref.loglik, rel=1e-12)
    # the censoring weights of the resample likewise
    w = smx.censoring_weights(data.time, data.censored, HORIZON, counts)
    w_copied = smx.censoring_weights(data.time[copies], data.censored[copies], HORIZON)
    np.testing.assert_allclose(w[copies], w_copied, rtol=1e-12)
    with pytest.raises(ValueError, match="frequency-weighted"):
        sf.fit_glm(X[M1].to_numpy(), M1, rows[sd.UNPLANNED], child, freq_weights=counts)


def test_one_step_refit_against_full_convergence(prepared):
    """Unit weights: one step from the converged fit stays there. A resample: one Fisher-scoring step lands
    within a small fraction of a standard error of the converged weighted fit; more steps converge to it."""
    data, _, X, rows, child = prepared
    r = rows[sd.UNPLANNED]
    Xs = X[M1].to_numpy()
    fit = sf.fit_glm(Xs, M1, r, child, tol=1e-14)
    free = [np.ones(len(fit.params), bool)]
    ones = np.ones(len(X))
    np.testing.assert_allclose(sb.refit(Xs, r, fit.params, [ones], free, 1)[0], fit.params, atol=1e-7)
    counts = sb.replicate_counts(11, 0, data.n_children)[child].astype(float)
    converged = sb.refit(Xs, r, fit.params, [counts], free, None)[0]
    one = sb.refit(Xs, r, fit.params, [counts], free, 1)[0]
    many = sb.refit(Xs, r, fit.params, [counts], free, 8)[0]
    moved = np.abs(converged - fit.params) / fit.bse
    assert moved.max() > 0.3                                  # the resample really moves the estimate
    gap = np.abs(one - converged) / fit.bse                   # one step gets almost all the way: the rest is
    assert gap[:4].max() < 0.05 and gap[4:].max() < 0.15      # O(1/n), largest for the sparse last interval
    np.testing.assert_allclose(many, converged, atol=1e-8)


def test_identity_resample_reproduces_the_cross_validated_aucs(prepared, monkeypatch):
    """With every child drawn once, the replicate's refits are the fold fits and its AUCs are the estimate's."""
    data, point, *_ = prepared
    monkeypatch.setattr(sb, "replicate_counts", lambda seed, b, g: np.ones(g, np.int64))
    got = sb._chunk(data, 0, [0], 1)[0]
    np.testing.assert_allclose(got, [point[m] for m in SPECS], atol=1e-9)
    w = smx.censoring_weights(data.time, data.censored, HORIZON)    # and the fold fits' own predictions
    preds = _oof_predictions(data)
    np.testing.assert_allclose([smx.weighted_auc(preds[m], data.y, w) for m in SPECS], got, atol=1e-9)


@pytest.mark.slow   # ~100 s on a loaded 2-core machine: 100 replicates refitted to convergence
def test_one_step_and_converged_bootstrap_intervals_agree(prepared):
    """The one-step approximation: ΔAUC and drop-one intervals within 10% of their width of the intervals
    from refits iterated to convergence (same resamples)."""
    data, point, *_ = prepared
    one = sb.cv_bootstrap(data, 100, seed=2, steps=1)
    full = sb.cv_bootstrap(data, 100, seed=2, steps=None)
    for a, b in (("M1", "M0"), ("M1", "M1 without a")):
        est = point[a] - point[b]
        lo1, hi1 = smx.centred_percentile_ci(est, (one[a] - one[b]).to_numpy())
        lo, hi = smx.centred_percentile_ci(est, (full[a] - full[b]).to_numpy())
        width = hi - lo
        assert width > 0.01
        assert abs(lo1 - lo) < 0.1 * width and abs(hi1 - hi) < 0.1 * width, (a, b, (lo1, hi1), (lo, hi))
    # replicate by replicate the AUCs hardly differ
    assert np.abs(one.to_numpy() - full.to_numpy()).max() < 0.01


def _oof_predictions(data: sb.CVBootstrapData) -> dict[str, np.ndarray]:
    """The out-of-fold cumulative incidences of the fold fits (the estimate's predictions)."""
    out = {m: np.full(len(data.y), np.nan) for m in data.specs}
    for f in range(data.n_folds):
        test = data.folds == f
        other = {}
        for m, (terms, other_of) in data.specs.items():
            c = [data.columns.index(t) for t in terms]
            if other_of is None:
                other[m] = sb._hazards(data.bases[(f, m, sd.OTHER_ENDING)], data.X[test][:, c])
        for m, (terms, other_of) in data.specs.items():
            c = [data.columns.index(t) for t in terms]
            out[m][test] = sf.cif_from_interval_hazards(sb._hazards(data.bases[(f, m, sd.UNPLANNED)],
                                                                    data.X[test][:, c]), other[other_of or m])
    return out


def test_results_are_the_same_for_any_number_of_workers(prepared):
    data, *_ = prepared
    one = sb.cv_bootstrap(data, 12, seed=9, n_jobs=1, chunk=4)
    two = sb.cv_bootstrap(data, 12, seed=9, n_jobs=2, chunk=4)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert len(one) == 12 and one.notna().all().all()
    with pytest.raises(ValueError, match="at least 1"):
        sb.cv_bootstrap(data, 4, seed=9, steps=0)


def test_centred_percentile_interval_by_hand():
    values = np.array([0.1, 0.2, 0.3, 0.4, 0.5])          # median 0.3; 0% and 100% quantiles at level 1
    assert smx.centred_percentile_ci(1.0, values, level=1.0) == pytest.approx((0.8, 1.2))
    assert np.isnan(smx.centred_percentile_ci(1.0, np.array([np.nan]))[0])


# ---- robust variance: R's convention --------------------------------------------------------------------------
def test_question_1_fitter_robust_se_matches_r_vcovcl_hc1(prepared):
    """Question 1's model as the analysis fits it (person-period rows, interval intercepts, offset
    log(fraction at risk) on rows that end part-way without the event, cluster = child) against
    vcovCL(glm(...), cluster = ~child, type = "HC1") on the expanded rows: coefficients and covariance."""
    _require_sandwich()
    _, _, X, rows, child = prepared
    r = rows[sd.UNPLANNED]
    assert (r.offset < 0).any()                        # the offset is exercised
    res = _fit(X, M1, r, child, NAMES)
    pp = pd.DataFrame({"y": r.y, **{t: X[t].to_numpy()[r.placement] for t in M1},
                       "k": r.interval.astype(float), "off": r.offset, "child": child[r.placement].astype(float)})
    ref = run_r('''suppressPackageStartupMessages(library(sandwich)); d <- inp("d")
f <- glm(y ~ x1 + x2 + I_a + I_b + factor(k) - 1 + offset(off), family = binomial(link = "cloglog"), data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
emit("coef", coef(f)); emit("V", vcovCL(f, cluster = ~child, type = "HC1"))''', {"d": pp})
    assert max_rel_diff(res.params, ref["coef"]) < 1e-6
    assert max_rel_diff(res.cov, ref["V"]) < 1e-6
    s = res.summary()
    np.testing.assert_allclose(s["se"].to_numpy(), np.sqrt(np.diag(ref["V"])), rtol=1e-6)
