"""Question 1's fitted results: frozen, aggregate-only (no child-level rows), declared once for publishing.

`NeedsStabilityAnalysis.fit()` returns a `StabilityResult` (the statsmodels Model/Results split: the
analysis holds the data and the fitting, the result holds what may leave it). Its `tables()` and
`headlines()` are everything report 01 publishes; `drop_one_results()` is the part question 4 reads
(the value of each proposed field), handed over through the run's cache as a `DropOneResults`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rcceval.reporting.results import Count, Estimate, Result, Table, Test

MODELS = ("M0", "M1", "M2")
COMPARISONS = (("M1", "M0"), ("M2", "M1"), ("M2", "M0"))
POOLED = "Region (pooled)"
LR, WALD = "likelihood ratio", "cluster-robust Wald"   # robust: vcovCL HC1 by child (fit.py)
COMPARISON_COLUMNS = ["label", "parameters", "loglik", "aic", "lr_statistic", "lr_df", "lr_p",
                      "wald_robust_statistic", "wald_robust_df", "wald_robust_p", "auc", "auc_ci_low",
                      "auc_ci_high", "brier", "brier_null"]
# the counts of placements and endings in `counts`: protected as counts when published
COUNT_KEYS = ("n_placements", "n_children", "n_person_periods", "n_unplanned_within_horizon",
              "n_known_at_horizon", "n_excluded", "n_complete_follow_up", "n_complete_follow_up_unplanned",
              "n_with_request")


def _needs_terms(frame: pd.DataFrame) -> pd.Series:
    term = frame.index.get_level_values("term").to_series(index=frame.index)
    return term.str.match(r"^[IFS]_") | term.eq("MISMATCH")


@dataclass(frozen=True)
class DropOneResults:
    """What each need domain, all domains together and mismatch add, from question 1's fits: aggregates only.

    `domains`: one row per need domain (index domain): terms dropped, auc_without, estimate (ΔAUC of M1
    against M1 without the domain), ci_low, ci_high, se, lr_chi2, df, p, wald_robust, wald_p.
    `nested`: rows "M1 - M0" and "M2 - M1": terms added, estimate, ci_low, ci_high, lr_chi2, df, p,
    wald_robust, wald_p. `settings`: what the numbers depend on besides the data (a reader checks them).
    """

    domains: pd.DataFrame
    nested: pd.DataFrame
    settings: tuple


@dataclass(frozen=True)
class StabilityResult(Result):
    """Question 1's results. Frames are aggregates (by model, term, domain, council, tenth of risk)."""

    settings: dict
    counts: dict
    coverage: pd.DataFrame
    summary: pd.DataFrame                 # (model, term): coef, se, hr, ci_low, ci_high, p ...
    comparison: pd.DataFrame              # by model: fit statistics, tests, cross-validated AUC and Brier
    delta_auc: pd.DataFrame               # by comparison: estimate, ci_low, ci_high, se
    drop_one: pd.DataFrame                # by domain: auc_without, estimate, ci_low, ci_high, se
    calibration: pd.DataFrame
    terms: dict                           # model -> its covariates
    drop_one_tests: pd.DataFrame | None = None    # by domain: LR and robust Wald of the dropped terms
    council_widths: pd.DataFrame | None = None
    complete_follow_up: pd.DataFrame | None = None
    complete_follow_up_tests: pd.DataFrame | None = None
    second_best: pd.DataFrame | None = None

    # ---- views ------------------------------------------------------------------------------------
    def incremental_value(self) -> pd.DataFrame:
        """What the need domains (M1 - M0) and mismatch (M2 - M1) add, led by the tests of the added terms.

        Pepe, Kerr, Longton & Wang (2013, Stat Med 32:1467-82): for nested models the likelihood-ratio
        (and Wald) test of the added coefficients is the valid and more powerful test of "no incremental
        value"; a test built on ΔAUC is underpowered and its null distribution is not the one assumed.
        So the tests come first (LR, model-based; Wald with the vcovCL-HC1 covariance clustered by
        child), and ΔAUC with its refitting-bootstrap interval second, as a measure of size.
        """
        c, rows = self.comparison, []
        for big, small in COMPARISONS[:2]:
            d = self.delta_auc.loc[f"{big} - {small}"]
            rows.append({"comparison": f"{big} - {small}",
                         "added_terms": len([t for t in self.terms[big] if t not in self.terms[small]]),
                         "lr_chi2": c.loc[big, "lr_statistic"], "lr_df": int(c.loc[big, "lr_df"]),
                         "lr_p": c.loc[big, "lr_p"], "wald_robust": c.loc[big, "wald_robust_statistic"],
                         "wald_df": int(c.loc[big, "wald_robust_df"]), "wald_p": c.loc[big, "wald_robust_p"],
                         "delta_auc": d["estimate"], "delta_auc_ci_low": d["ci_low"],
                         "delta_auc_ci_high": d["ci_high"]})
        return pd.DataFrame(rows).set_index("comparison")

    def effects(self, models: tuple[str, ...] = ("M1", "M2"), needs_only: bool = True) -> pd.DataFrame:
        """Hazard ratios with CIs, terms by model (the needs domains and mismatch by default)."""
        s = self.summary[self.summary.index.get_level_values("model").isin(models)]
        keep = _needs_terms(s) if needs_only else ~s.index.get_level_values("term").str.startswith("interval[")
        return s.loc[np.asarray(keep)][["hr", "ci_low", "ci_high", "p"]]

    def drop_one_results(self) -> DropOneResults:
        """The drop-one and nested comparisons question 4 reads (needs drop_one_tests)."""
        if self.drop_one_tests is None:
            raise ValueError("drop-one tests were not computed (fit with drop_one_tests=True)")
        domains = self.drop_one.set_index("domain").join(self.drop_one_tests, how="right")
        domains = domains[["terms", "auc_without", "estimate", "ci_low", "ci_high", "se", "lr_chi2", "df", "p",
                           "wald_robust", "wald_p"]]
        c, rows = self.comparison, []
        for big, small in COMPARISONS[:2]:
            d = self.delta_auc.loc[f"{big} - {small}"]
            rows.append({"comparison": f"{big} - {small}",
                         "terms": ", ".join(t for t in self.terms[big] if t not in self.terms[small]),
                         "estimate": d["estimate"], "ci_low": d["ci_low"], "ci_high": d["ci_high"],
                         "lr_chi2": c.loc[big, "lr_statistic"], "df": int(c.loc[big, "lr_df"]), "p": c.loc[big, "lr_p"],
                         "wald_robust": c.loc[big, "wald_robust_statistic"], "wald_p": c.loc[big, "wald_robust_p"]})
        return DropOneResults(domains, pd.DataFrame(rows).set_index("comparison"), drop_one_key(**self.settings))

    # ---- publishing -------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table]:
        out = {
            "incremental_value": Table(self.incremental_value().round(5), kind="model"),
            "coverage": Table(self.coverage, counts=("placements", "known_at_horizon", "unplanned_within_horizon"),
                              percent_of={"pct_unplanned": "unplanned_within_horizon"}),
            "hazard_ratios_needs": Table(self.effects(("M1", "M2")).round(4), kind="model"),
            "hazard_ratios_all": Table(self.effects(MODELS, needs_only=False).round(4), kind="model"),
            "model_comparison": Table(self.comparison[COMPARISON_COLUMNS].round(5), kind="model"),
            "delta_auc": Table(self.delta_auc.round(5), kind="model"),
            "calibration": Table(self.calibration.round(5), counts=("placements",)),
            "drop_one_domain": Table(self.drop_one.set_index("domain").round(5), kind="model"),
        }
        if self.council_widths is not None:
            out["council_ci_widths"] = Table(self.council_widths.round(5),
                                             counts=("placements", "unplanned_within_horizon"))
        if self.complete_follow_up is not None:
            cfu = self.complete_follow_up[np.asarray(_needs_terms(self.complete_follow_up))]
            out["complete_follow_up_odds_ratios"] = Table(cfu[["or", "ci_low", "ci_high", "p"]].round(4), kind="model")
            out["complete_follow_up_tests"] = Table(self.complete_follow_up_tests.round(5), kind="model")
        if self.second_best is not None and len(self.second_best):
            out["second_best"] = Table(self.second_best.set_index(["model", "term"]).round(4), kind="model")
        return out

    def headlines(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: Count(v) if k in COUNT_KEYS else v for k, v in self.counts.items()}
        out.update({k: self.settings[k] for k in ("horizon_days", "interval_days", "folds", "bootstrap")})
        out["bootstrap_method"] = self.settings.get("bootstrap_method")
        c, level = self.comparison, self.settings["level"]
        # incremental value first: the tests of the added terms, then ΔAUC (Pepe et al. 2013)
        out["incremental_value"] = {
            k: {"lr_test": Test(r["lr_chi2"], int(r["lr_df"]), r["lr_p"], LR),
                "wald_robust": Test(r["wald_robust"], int(r["wald_df"]), r["wald_p"], WALD),
                "delta_auc": Estimate(r["delta_auc"], r["delta_auc_ci_low"], r["delta_auc_ci_high"], level)}
            for k, r in self.incremental_value().iterrows()}
        for m in MODELS:
            out[f"auc_{m.lower()}"] = Estimate(c.loc[m, "auc"], c.loc[m, "auc_ci_low"], c.loc[m, "auc_ci_high"], level)
            out[f"brier_{m.lower()}"] = c.loc[m, "brier"]
            out[f"aic_{m.lower()}"] = c.loc[m, "aic"]
        for a, b in COMPARISONS:
            row = self.delta_auc.loc[f"{a} - {b}"]
            out[f"delta_auc_{a.lower()}_{b.lower()}"] = Estimate(row["estimate"], row["ci_low"], row["ci_high"], level)
        for a, b in COMPARISONS[:2]:
            out[f"lr_test_{a.lower()}_{b.lower()}"] = Test(c.loc[a, "lr_statistic"], int(c.loc[a, "lr_df"]),
                                                           c.loc[a, "lr_p"], LR)
            out[f"wald_robust_{a.lower()}_{b.lower()}"] = Test(c.loc[a, "wald_robust_statistic"],
                                                               int(c.loc[a, "wald_robust_df"]),
                                                               c.loc[a, "wald_robust_p"], WALD)
        out["hr_m2"] = {t: Estimate(r["hr"], r["ci_low"], r["ci_high"], level)
                        for (_, t), r in self.effects(("M2",)).iterrows()}
        out["drop_one_delta_auc"] = {r["domain"]: Estimate(r["estimate"], r["ci_low"], r["ci_high"], level)
                                     for _, r in self.drop_one.iterrows()}
        if self.complete_follow_up_tests is not None:
            n = self.counts.get("n_complete_follow_up")
            out["complete_follow_up"] = {
                "n_placements": None if n is None else Count(n),
                **{f"lr_test_{k.replace(' - ', '_').lower()}": Test(r["statistic"], int(r["df"]), r["p"], LR)
                   for k, r in self.complete_follow_up_tests.iterrows()}}
        if self.council_widths is not None:
            w = self.council_widths
            councils = w[w["LA"] != POOLED]
            out["council_ci_width_vs_pooled_median"] = (float(councils["width_vs_pooled"].median())
                                                        if len(councils) else None)
        return out


def drop_one_key(horizon_days: int, interval_days: int, folds: int, bootstrap: int, seed: int, level: float,
                 min_level_events: int, bootstrap_steps: int | None = 1, **_: Any) -> tuple:
    """What question 1's drop-one results depend on besides the data: question 4 reuses them only if equal."""
    return (int(horizon_days), int(interval_days), int(folds), int(bootstrap), int(seed), float(level),
            int(min_level_events), bootstrap_steps)


__all__ = ["DropOneResults", "StabilityResult", "drop_one_key"]
