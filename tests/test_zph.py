"""The proportional-hazards test (stats/zph.py) against R survival's cox.zph, term by term.

R fits its own coxph on the same data (bit-identical float64 columns) and runs cox.zph; our
statistic uses our own fit (stats/cox.py), so the comparison covers the whole path a report
takes. Integer-day times give many ties (Efron), strata give within-stratum risk sets with the
KM time transform pooled across strata (the point where lifelines' rank transform goes wrong).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from r_reference import max_rel_diff, require_r, run_r

from rcceval.stats.cox import cox_efron
from rcceval.stats.zph import cox_zph, km_transform

TOL = 1e-6


def _placements(seed: int, n: int = 600, entry: bool = False) -> pd.DataFrame:
    """Stratified placements in days with ties, a non-proportional effect of x3, a 3-level factor."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n).astype(float)
    x3 = rng.normal(size=n)
    f = rng.integers(0, 3, n)
    s = rng.integers(0, 4, n)
    t0 = np.floor(rng.uniform(0, 20, n)) if entry else np.zeros(n)
    scale = 30 * np.exp(-0.5 * x1 - 0.3 * x2 + 0.2 * s + 0.3 * (f == 2))
    t = t0 + np.ceil(rng.exponential(scale) * (1 + x3 * (x3 > 0)))   # x3 acts late only
    c = t0 + np.ceil(rng.uniform(1, 80, n))
    return pd.DataFrame({"t0": t0, "t": np.minimum(t, c), "e": (t <= c).astype(float),
                         "x1": x1, "x2": x2, "x3": x3, "fb": (f == 1) * 1.0, "fc": (f == 2) * 1.0,
                         "f": f.astype(float), "s": s.astype(float),
                         "w": rng.uniform(0.5, 2.0, n)})


COLS = ["x1", "x2", "x3"]


def _ours(d: pd.DataFrame, transform: str = "km", weights: bool = False, entry: bool = False,
          cols=COLS, terms=None):
    X = d[cols]
    kw = {"strata": d["s"], "weights": d["w"] if weights else None,
          "entry": d["t0"] if entry else None}
    fit = cox_efron(d["t"], d["e"], X, **kw)
    return cox_zph(fit, d["t"], d["e"], X, transform=transform, terms=terms, **kw).table


TRANSFORMS = ["km", "rank", "identity", "log"]


@pytest.fixture(scope="module")
def r_tables():
    """R's cox.zph tables for every transform, with and without case weights (one R run)."""
    require_r()
    d = _placements(3)
    ref = run_r('d <- inp("d")\n'
                'for (wt in c(FALSE, TRUE)) {\n'
                '  f <- coxph(Surv(t, e) ~ x1 + x2 + x3 + strata(s), data = d,\n'
                '             weights = if (wt) w else NULL)\n'
                '  for (tr in c("km", "rank", "identity", "log"))\n'
                '    emit(paste(tr, wt, sep = "_"), cox.zph(f, transform = tr)$table)\n'
                '}', {"d": d})
    return d, ref


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("weights", [False, True])
def test_matches_r_cox_zph_stratified_with_ties(r_tables, transform, weights):
    d, ref = r_tables
    ours = _ours(d, transform, weights)
    assert list(ours.index) == ["x1", "x2", "x3", "GLOBAL"]
    assert max_rel_diff(ours.to_numpy(), ref[f"{transform}_{str(weights).upper()}"]) < TOL


def test_matches_r_counting_process_and_factor_term():
    """(start, stop] rows (zph2 in R) and a two-column factor term tested with 2 df."""
    require_r()
    d = _placements(5, n=500, entry=True)
    ref = run_r('d <- inp("d"); d$f <- factor(d$f); '
                'f <- coxph(Surv(t0, t, e) ~ x1 + f + strata(s), data = d); '
                'emit("tab", cox.zph(f)$table)', {"d": d})["tab"]
    ours = _ours(d, entry=True, cols=["x1", "fb", "fc"], terms={"x1": ["x1"], "f": ["fb", "fc"]})
    assert ours["df"].tolist() == [1, 2, 3]
    assert max_rel_diff(ours.to_numpy(), ref) < TOL


def test_holm_table_matches_r_p_adjust():
    require_r()
    d = _placements(9)
    ref = run_r('d <- inp("d"); f <- coxph(Surv(t, e) ~ x1 + x2 + x3 + strata(s), data = d); '
                'tb <- cox.zph(f)$table; emit("holm", p.adjust(tb[1:3, "p"], method = "holm"))',
                {"d": d})["holm"]
    X = d[COLS]
    fit = cox_efron(d["t"], d["e"], X, strata=d["s"])
    table = cox_zph(fit, d["t"], d["e"], X, strata=d["s"]).holm(alpha=0.05)
    assert list(table.columns) == ["statistic", "df", "p", "p_holm", "fails"]
    assert max_rel_diff(table["p_holm"].to_numpy()[:3], ref) < TOL
    assert np.isnan(table.loc["GLOBAL", "p_holm"])
    np.testing.assert_array_equal(table["fails"].to_numpy()[:3], ref < 0.05)


def test_km_transform_matches_r_left_continuous_pooled_km():
    require_r()
    d = _placements(7, n=300)
    ref = run_r('d <- inp("d"); k <- survfit(Surv(t, e) ~ 1, data = d); '
                'i <- findInterval(d$t, k$time, left.open = TRUE); '
                'emit("km", 1 - c(1, k$surv)[i + 1])', {"d": d})["km"]
    assert max_rel_diff(km_transform(d["t"], d["e"]), ref) < 1e-12


def test_hand_checked_km_transform():
    # times 1,2,2,3 with events 1,1,0,1: S(1) = 3/4, S(2) = 3/4 * 2/3 = 1/2, S(3) = 0
    out = km_transform([1, 2, 2, 3], [1, 1, 0, 1])
    np.testing.assert_allclose(out, [0.0, 0.25, 0.25, 0.5], rtol=0, atol=1e-15)


def test_row_order_does_not_change_the_test():
    """lifelines ranks rows in stored order; R's test (and ours) depends on the data only."""
    d = _placements(11)
    by_stratum = d.sort_values(["s", "t"], kind="stable").reset_index(drop=True)
    shuffled = d.sample(frac=1.0, random_state=1).reset_index(drop=True)
    a, b = _ours(by_stratum), _ours(shuffled)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-10)


def test_detects_a_known_non_proportional_effect():
    """Generated with x3's log hazard ratio +0.8 before day 20 and -0.8 after (x1 constant 0.5):
    the test must reject for x3 and not for x1."""
    rng = np.random.default_rng(13)
    n = 2000
    x1, x3 = rng.normal(size=n), rng.normal(size=n)
    s = rng.integers(0, 4, n)
    base = 0.03 * np.exp(0.5 * x1 + 0.1 * s)
    early = rng.exponential(1 / (base * np.exp(0.8 * x3)))
    late = 20 + rng.exponential(1 / (base * np.exp(-0.8 * x3)))
    t = np.ceil(np.where(early < 20, early, late))
    c = np.ceil(rng.uniform(1, 120, n))
    d = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c) * 1.0, "x1": x1, "x3": x3, "s": s})
    table = _ours(d, cols=["x1", "x3"])
    assert table.loc["x3", "p"] < 1e-6
    assert table.loc["x1", "p"] > 0.01


def test_bad_input_names_the_problem():
    d = _placements(1, n=50)
    with pytest.raises(ValueError, match="coef must be 3"):
        cox_zph([0.1, 0.2], d["t"], d["e"], d[COLS])
    with pytest.raises(ValueError, match="not in the model"):
        cox_zph([0.1, 0.2, 0.3], d["t"], d["e"], d[COLS], terms={"z": ["nope"]})
    with pytest.raises(ValueError, match="transform must be"):
        cox_zph([0.1, 0.2, 0.3], d["t"], d["e"], d[COLS], transform="sqrt")
