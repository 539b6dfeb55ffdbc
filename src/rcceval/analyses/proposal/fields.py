"""The value of each proposed field: what each need domain (and the capability fields behind mismatch)
adds to predicting an unplanned ending, from question 1's models.

Per field: the drop-one change in cross-validated AUC (question 1's M1 against M1 without the domain,
child-bootstrap interval) and the likelihood-ratio chi-square of the same nested pair (model-based),
with the cluster-robust Wald test of the dropped terms beside it (placements of one child are not
independent; the LR test assumes they are). All need domains together (M1 vs M0) and mismatch
(M2 vs M1: needs against the placement's capability) are rows too.

Question 1 (stability.NeedsStabilityAnalysis) does the fitting: its design, models, cross-validation
and bootstrap are reused as they are, and only the nested drop-one fits for the LR test are added
(NeedsStabilityAnalysis.drop_one_tests). Its sensitivity analyses (complete
follow-up, council widths, second best) are not needed here and are skipped to save time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rcceval.analyses.prediction import analysis as st
from rcceval.spec.instruments import Instrument
from rcceval.spec.datasets import capability_column

ALL_DOMAINS = "all need domains"
MISMATCH_ROW = "mismatch (needs against capability)"


@dataclass
class FieldValue:
    """Configure as question 1 (horizon, folds, bootstrap, seed, n_jobs); fit(frame, instrument).

    table: one row per field (need domain, all domains, mismatch) with delta_auc (estimate, ci_low,
    ci_high), lr_chi2, df, p, wald_robust, wald_p, and the dataset fields it needs. analysis: the
    question 1 object (models, comparison, counts) for anything else.
    """

    horizon_days: int = 365
    folds: int = 5
    bootstrap: int = 50
    seed: int = 0
    n_jobs: int = 1
    level: float = 0.95
    table: pd.DataFrame = field(default=None, init=False, repr=False)
    analysis: st.NeedsStabilityAnalysis = field(default=None, init=False, repr=False)

    def fit(self, frame: pd.DataFrame, instrument: Instrument | None = None) -> "FieldValue":
        q1 = st.NeedsStabilityAnalysis(horizon_days=self.horizon_days, folds=self.folds, bootstrap=self.bootstrap,
                                       seed=self.seed, n_jobs=self.n_jobs, level=self.level,
                                       sensitivity=False).fit(frame)
        self.analysis = q1
        drop = q1.drop_one.set_index("domain")
        tests = q1.drop_one_tests()
        titles = {dm.id: dm for dm in instrument.domains} if instrument is not None else {}
        rows = []
        for dom, t in tests.iterrows():
            info = titles.get(dom)
            rows.append({"field": dom, "title": info.title if info else dom, "terms": t["terms"],
                         "dataset_fields": f"needs_assessments: DOMAIN={dom} INTENSITY, FREQUENCY"
                                           + (f" (PDS: {', '.join(info.pds_fields)})" if info and info.pds_fields else ""),
                         **(self._auc(drop.loc[dom]) if dom in drop.index else {}),
                         **{k: t[k] for k in ("lr_chi2", "df", "p", "wald_robust", "wald_p")}})
        comp, delta = q1.comparison, q1.delta_auc
        caps = ", ".join(capability_column(x) for x in titles) if titles else "CAP_<domain>"
        for label, big, small, fields in (
                (ALL_DOMAINS, "M1", "M0", "needs_assessments: every domain's INTENSITY, FREQUENCY"),
                (MISMATCH_ROW, "M2", "M1", f"provider_register / placement_agreements: {caps}")):
            added = [t for t in q1.models[big].terms if t not in q1.models[small].terms]
            rows.append({"field": label, "title": label, "terms": ", ".join(added), "dataset_fields": fields,
                         **self._auc(delta.loc[f"{big} - {small}"]),
                         "lr_chi2": comp.loc[big, "lr_statistic"], "df": int(comp.loc[big, "lr_df"]),
                         "p": comp.loc[big, "lr_p"], "wald_robust": comp.loc[big, "wald_robust_statistic"],
                         "wald_p": comp.loc[big, "wald_robust_p"]})
        self.table = pd.DataFrame(rows).set_index("field")
        return self

    @staticmethod
    def _auc(row: pd.Series) -> dict:
        return {"delta_auc": row["estimate"], "ci_low": row["ci_low"], "ci_high": row["ci_high"]}

    def to_dict(self) -> dict:
        """Per field {delta_auc, ci, lr_chi2, df, p, wald_robust, wald_p} for results.json."""
        out = {}
        for f, r in self.table.iterrows():
            out[f] = {"delta_auc": r["delta_auc"], "ci": [r["ci_low"], r["ci_high"]], "lr_chi2": r["lr_chi2"],
                      "df": int(r["df"]), "p": r["p"], "wald_robust": r["wald_robust"], "wald_p": r["wald_p"]}
        return out

    def ranking(self) -> pd.DataFrame:
        """Need domains by their drop-one AUC gain, largest first (rows for single domains only)."""
        t = self.table.drop(index=[ALL_DOMAINS, MISMATCH_ROW], errors="ignore")
        return t.sort_values(["delta_auc", "lr_chi2"], ascending=False)
