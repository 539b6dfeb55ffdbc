"""The value of each proposed field: the drop-one likelihood-ratio test agrees with statsmodels' GLM on
the same person-period rows, and the table is question 1's drop-one and nested comparisons."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from test_stability import synthetic_frame

from rcceval.analyses.prediction import data as sd
from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
from rcceval.analyses.proposal.fields import ALL_DOMAINS, MISMATCH_ROW, FieldValue
from rcceval.spec.instruments import load_instrument


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Question 1 fitted as report 01 fits it, and the field values read from its drop-one results."""
    frame, truth, _ = synthetic_frame(tmp_path_factory.mktemp("q4_fields"), seed=21)
    model = NeedsStabilityAnalysis(bootstrap=20, seed=3, n_jobs=1)
    q1 = model.fit(frame)
    fv = FieldValue(bootstrap=20, seed=3, n_jobs=1).fit(None, load_instrument(None), drop_one=q1.drop_one_results())
    return fv, truth, model, q1, frame


def _llf(d, terms):
    """statsmodels' cloglog GLM log-likelihood of the unplanned-ending rows with these covariates."""
    rows = d.rows[sd.UNPLANNED]
    X = d.X[terms].to_numpy()[rows.placement]
    design = np.hstack([X, np.eye(rows.n_intervals)[rows.interval]])
    fit = sm.GLM(rows.y, design, family=sm.families.Binomial(link=sm.families.links.CLogLog()),
                 offset=rows.offset).fit(tol=1e-12)
    return fit.llf


def test_drop_one_lr_agrees_with_statsmodels(fitted):
    fv, _, model, _, _ = fitted
    d = model._data
    dom = "behaviour"
    full = d.terms["M1"]
    small = [t for t in full if not (t[1:2] == "_" and sd.domain_of(t) == dom)]
    assert len(full) - len(small) == 2                     # intensity and frequency
    lr = 2 * (_llf(d, full) - _llf(d, small))
    row = fv.table.loc[dom]
    assert row["lr_chi2"] == pytest.approx(lr, rel=1e-6)
    assert row["df"] == 2 and row["p"] == pytest.approx(stats.chi2.sf(lr, 2), rel=1e-5)


def test_table_rows_are_question_1s_comparisons(fitted):
    fv, _, _, q1, _ = fitted
    t = fv.table
    assert set(q1.drop_one["domain"]) | {ALL_DOMAINS, MISMATCH_ROW} == set(t.index)
    for _, r in q1.drop_one.iterrows():
        assert t.loc[r["domain"], "delta_auc"] == r["estimate"]
        assert t.loc[r["domain"], "ci_low"] <= t.loc[r["domain"], "delta_auc"] <= t.loc[r["domain"], "ci_high"]
    assert t.loc[ALL_DOMAINS, "lr_chi2"] == q1.comparison.loc["M1", "lr_statistic"]
    assert t.loc[MISMATCH_ROW, "df"] == 1
    # the generating hazard: needs matter (M1 vs M0) and so does mismatch, on 2 small councils too
    assert t.loc[ALL_DOMAINS, "p"] < 1e-6 and t.loc[MISMATCH_ROW, "p"] < 1e-3
    d = fv.to_dict()["field_value"]
    assert set(d[ALL_DOMAINS]) == {"delta_auc", "lr_test", "wald_robust"}
    ten = lambda x: float(f"{x:.10g}")   # noqa: E731  (results.json keeps 10 significant digits)
    assert d[ALL_DOMAINS]["lr_test"] == {"statistic": ten(t.loc[ALL_DOMAINS, "lr_chi2"]), "df": 16,
                                         "p": ten(t.loc[ALL_DOMAINS, "p"]), "method": "likelihood ratio"}
    assert "CAP_BEHAVIOUR" in t.loc[MISMATCH_ROW, "dataset_fields"]


def test_field_values_are_the_same_read_from_report_01_or_computed_alone(fitted):
    """Report 04 run alone fits question 1 itself with the same settings: the same table to the last digit
    (the sensitivity analyses it skips do not touch the drop-one results)."""
    fv, _, _, _, frame = fitted
    alone = FieldValue(bootstrap=20, seed=3, n_jobs=1).fit(frame, load_instrument(None))
    pd.testing.assert_frame_equal(alone.table, fv.table)
    assert fv.reused and not alone.reused


def test_drop_one_results_with_other_settings_are_not_reused(fitted):
    q1 = fitted[3]
    other = FieldValue(bootstrap=20, seed=4, n_jobs=1)
    assert q1.drop_one_results().settings != other.key()
    with pytest.raises(ValueError, match="no drop-one results with these settings"):
        other.fit(None, load_instrument(None), drop_one=q1.drop_one_results())
