"""The value of each proposed field: what each need domain (and the capability fields behind mismatch)
adds to predicting an unplanned ending, from question 1's models.

Per field: the drop-one change in cross-validated AUC (question 1's M1 against M1 without the domain,
child-bootstrap interval) and the likelihood-ratio chi-square of the same nested pair (model-based),
with the cluster-robust Wald test of the dropped terms beside it (placements of one child are not
independent; the LR test assumes they are). All need domains together (M1 vs M0) and mismatch
(M2 vs M1: needs against the placement's capability) are rows too.

Question 1 does the fitting, cross-validation and bootstrap: in a run, report 01 saves its drop-one
results (`DropOneResults`, aggregates only) and this reads them; run alone, the same question 1
analysis is fitted here with the same settings (its sensitivity analyses skipped), so the numbers
are the same either way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
from rcceval.analyses.prediction.results import LR, WALD, DropOneResults, drop_one_key
from rcceval.parallel import Workers
from rcceval.reporting.results import Estimate, Result, Table, Test
from rcceval.spec.datasets import capability_column
from rcceval.spec.instruments import Instrument

ALL_DOMAINS = "all need domains"
MISMATCH_ROW = "mismatch (needs against capability)"
COLUMNS = ["title", "delta_auc", "ci_low", "ci_high", "lr_chi2", "df", "p", "wald_robust", "wald_p", "dataset_fields"]


@dataclass(frozen=True)
class FieldValueResult(Result):
    """table: one row per field (need domain, all domains, mismatch): title, terms, delta_auc, ci_low,
    ci_high, lr_chi2, df, p, wald_robust, wald_p, and the dataset fields it needs."""

    table: pd.DataFrame
    level: float = 0.95
    reused: bool = False                # True: read from report 01's drop-one results (not a headline)

    def ranking(self) -> pd.DataFrame:
        """Need domains by their drop-one AUC gain, largest first (rows for single domains only)."""
        t = self.table.drop(index=[ALL_DOMAINS, MISMATCH_ROW], errors="ignore")
        return t.sort_values(["delta_auc", "lr_chi2"], ascending=False)

    def tables(self) -> dict[str, Table]:
        return {"field_value": Table(self.table[COLUMNS].round(5), kind="model")}

    def headlines(self) -> dict[str, Any]:
        out = {}
        for f, r in self.table.iterrows():
            out[f] = {"delta_auc": Estimate(r["delta_auc"], r["ci_low"], r["ci_high"], self.level),
                      "lr_test": Test(r["lr_chi2"], int(r["df"]), r["p"], LR),
                      "wald_robust": Test(r["wald_robust"], int(r["df"]), r["wald_p"], WALD)}
        return {"field_value": out}


@dataclass
class FieldValue:
    """Configure as question 1 (horizon, folds, bootstrap, seed, n_jobs); fit(frame, instrument, drop_one)."""

    horizon_days: int = 365
    folds: int = 5
    bootstrap: int = 50
    seed: int = 0
    n_jobs: Workers = 1
    level: float = 0.95
    interval_days: int = 30
    min_level_events: int = 10

    def key(self) -> tuple:
        """The question 1 settings the drop-one results must have been computed with to be reused."""
        return drop_one_key(self.horizon_days, self.interval_days, self.folds, self.bootstrap, self.seed, self.level,
                            self.min_level_events)

    def drop_one(self, frame: pd.DataFrame) -> DropOneResults:
        """Question 1's drop-one results computed here (when report 01 did not hand them over)."""
        q1 = NeedsStabilityAnalysis(horizon_days=self.horizon_days, interval_days=self.interval_days, folds=self.folds,
                                    bootstrap=self.bootstrap, seed=self.seed, n_jobs=self.n_jobs, level=self.level,
                                    min_level_events=self.min_level_events, sensitivity=False)
        return q1.fit(frame).drop_one_results()

    def fit(self, frame: pd.DataFrame | None, instrument: Instrument | None = None,
            drop_one: DropOneResults | None = None) -> FieldValueResult:
        """The field-value table from question 1's drop-one results: `drop_one` if given with these
        settings, else computed from `frame`."""
        reused = drop_one is not None and drop_one.settings == self.key()
        if not reused:
            if frame is None:
                raise ValueError("no drop-one results with these settings and no analysis frame to compute them")
            drop_one = self.drop_one(frame)
        return field_value_table(drop_one, instrument, self.level, reused)


def field_value_table(d: DropOneResults, instrument: Instrument | None = None, level: float = 0.95,
                      reused: bool = False) -> FieldValueResult:
    """One row per need domain, then all domains (M1 vs M0) and mismatch (M2 vs M1)."""
    titles = {dm.id: dm for dm in instrument.domains} if instrument is not None else {}
    tests = ("lr_chi2", "df", "p", "wald_robust", "wald_p")
    rows = []
    for dom, t in d.domains.iterrows():
        info = titles.get(dom)
        rows.append({"field": dom, "title": info.title if info else dom, "terms": t["terms"],
                     "dataset_fields": f"needs_assessments: DOMAIN={dom} INTENSITY, FREQUENCY"
                                       + (f" (PDS: {', '.join(info.pds_fields)})" if info and info.pds_fields else ""),
                     **({} if pd.isna(t["estimate"]) else _auc(t)), **{k: t[k] for k in tests}})
    caps = ", ".join(capability_column(x) for x in titles) if titles else "CAP_<domain>"
    for label, key, fields in ((ALL_DOMAINS, "M1 - M0", "needs_assessments: every domain's INTENSITY, FREQUENCY"),
                               (MISMATCH_ROW, "M2 - M1", f"provider_register / placement_agreements: {caps}")):
        t = d.nested.loc[key]
        rows.append({"field": label, "title": label, "terms": t["terms"], "dataset_fields": fields, **_auc(t),
                     **{k: t[k] for k in tests}})
    table = pd.DataFrame(rows).set_index("field")
    table["df"] = table["df"].astype(int)
    return FieldValueResult(table, level, reused)


def _auc(row: pd.Series) -> dict:
    return {"delta_auc": row["estimate"], "ci_low": row["ci_low"], "ci_high": row["ci_high"]}


__all__ = ["ALL_DOMAINS", "MISMATCH_ROW", "FieldValue", "FieldValueResult", "field_value_table"]
