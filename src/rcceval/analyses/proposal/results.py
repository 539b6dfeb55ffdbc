"""Question 4's results: frozen, aggregate-only, each declaring once the tables and headlines it publishes.

One result per part of report 04: the proposed dataset's case against the 903 (`Beyond903Result`),
power and the minimum detectable hazard ratio (`PowerResult`), the simulation check
(`SimulationResult`), the value of each field (fields.FieldValueResult), secured placements
(`SecuredResult`, then `SecuredShares` from its published counts) and second-best placements
(`SecondBestResult`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rcceval.analyses.proposal import power as pw
from rcceval.analyses.proposal.requests import (
    LOCATION,
    SUITABILITY,
    SecuredPlacements,
    counts_wide,
    shares_shown,
)
from rcceval.reporting.results import Count, Estimate, Result, Share, Table
from rcceval.spec.datasets import BEYOND_903

UNITS = ("council_smallest", "council_median", "council_largest", "region", "national")


@dataclass(frozen=True)
class Beyond903Result(Result):
    """The questions the 903 cannot answer and the proposed fields that serve them (from spec.datasets)."""

    table: pd.DataFrame

    def tables(self) -> dict[str, Table]:
        return {"beyond_903": Table(self.table, kind="model")}


def beyond_903() -> Beyond903Result:
    return Beyond903Result(pd.DataFrame([{"question": q["question"], "serves": q["serves"],
                                          "why the 903 cannot answer it": q["why_not_903"],
                                          "proposed fields": ", ".join(q["fields"])} for q in BEYOND_903])
                           .set_index("question"))


@dataclass(frozen=True)
class PowerResult(Result):
    """Minimum detectable HR and power by council, region and England (PowerAnalysis's aggregates)."""

    headline: str                       # the covariate of median effective spread ("a typical domain")
    method: str
    target: float
    scale: float
    spread: pd.DataFrame                # by covariate: sd, rho2, effective sds
    table: pd.DataFrame                 # unit x years x covariate: placements, events, mdhr..., power
    summary: pd.DataFrame               # by years: mdhr of the smallest/median/largest council, region, England
    summary_hsieh_lavori: pd.DataFrame
    region_by_covariate: dict
    alpha: float
    events_with_needs: int
    placements_with_needs: int
    looked_after: int
    multiplicity: dict | None = None    # PowerAnalysis.multiplicity_note(): Holm, m, the per-term alpha
    design_effect_source: str = "not estimated (1)"

    @property
    def by_council(self) -> pd.DataFrame:
        """The headline domain's rows (every unit and number of years)."""
        return self.table[self.table["covariate"] == self.headline]

    @property
    def hr_columns(self) -> list[str]:
        return [c for c in self.table.columns if c.startswith("power_hr_")]

    def tables(self) -> dict[str, Table]:
        hr = ["mdhr", "mdhr_observed", "mdhr_independent", "mdhr_single_test"] + self.hr_columns
        hr = [c for c in hr if c in self.table.columns]
        by_council = self.by_council[["unit", "level", "years", "placements", "events"] + hr].copy()
        by_council[hr] = by_council[hr].round(3)
        per_domain = self.table[self.table["level"] != "council"].pivot_table(index="covariate", columns=["unit", "years"],
                                                                              values="mdhr").round(3)
        mdhr = self.summary.drop(columns=[c for c in self.summary.columns if c.startswith("events")])
        return {"mdhr_80": Table(mdhr.astype(float).round(3), kind="model"),
                "mdhr_by_council": Table(by_council, counts=("placements", "events"), percent_of={c: "events" for c in hr}),
                "covariate_spread": Table(self.spread.round(3), kind="model"),
                "mdhr_by_domain": Table(per_domain, kind="model")}

    def headlines(self) -> dict[str, Any]:
        by = lambda frame, cols: {c: {str(k): v for k, v in frame[c].items()} for c in cols}
        sp, s = self.spread.loc[self.headline], self.summary
        mdhr = {"covariate": self.headline, "per": "one point of intensity (0-3)", "method": self.method,
                "target_power": self.target, "alpha": self.alpha, "national_scale": self.scale,
                **{k: sp[k] for k in ("sd", "rho2", "effective_sd", "effective_sd_hsieh_lavori", "effective_sd_observed")},
                "design_effect": sp.get("design_effect", 1.0), "design_effect_source": self.design_effect_source,
                "multiplicity": self.multiplicity,
                **by(s, UNITS), "hsieh_lavori": by(self.summary_hsieh_lavori, UNITS),
                "events": {"events_region": {str(k): Count(int(v)) for k, v in s["events_region"].items()},
                           "events_national": {str(k): v for k, v in s["events_national"].items()}},
                "region_by_covariate": self.region_by_covariate}
        return {"mdhr_80": mdhr, "mdhr_80_with_5_years": {k: s[k].get(5) for k in UNITS if 5 in s.index},
                "events_with_needs": Count(self.events_with_needs),
                "placements_with_needs": Count(self.placements_with_needs),
                "looked_after_on_extract": Count(self.looked_after)}


def power_result(pa: pw.PowerAnalysis, events_with_needs: int, placements_with_needs: int,
                 looked_after: int, design_effect_source: str = "not estimated (1)") -> PowerResult:
    """The aggregates of a fitted PowerAnalysis as a frozen result."""
    return PowerResult(pa.headline, pa.method, pa.target, pa.scale, pa.spread, pa.table, pa.summary(),
                       pa.summary(column="mdhr_hsieh_lavori"),
                       {c: {str(k): v for k, v in pa.summary(c)["region"].items()} for c in pa.spread.index},
                       pa.alpha, int(events_with_needs), int(placements_with_needs), int(looked_after),
                       pa.multiplicity_note(), design_effect_source)


@dataclass(frozen=True)
class SimulationResult(Result):
    """Simulated power (and false positives with no effect) against the analytic power."""

    table: pd.DataFrame                 # one row per setting: placements, years, events_mean, power, ci_low, ...
    null: pd.DataFrame                  # the same with no effect: the Wald test's false-positive rate
    target: str
    log_hr: float
    sd: float
    rho2: float
    effective_sd: float | None
    replicates: int
    seed: int
    alpha: float
    clustering: dict | None = None      # Clustering.describe() of the power simulation
    null_clustering: dict | None = None
    null_alpha: float | None = None     # the level of the false-positive check (alpha when None)

    def tables(self) -> dict[str, Table]:
        cols = ["placements", "events_mean", "power", "ci_low", "ci_high"]
        cols += [c for c in ("power_naive", "design_effect_simulated") if c in self.null.columns]
        null = self.null.set_index(["setting", "years"])[cols]
        return {"simulated_power": Table(self.table.set_index(["setting", "years"]).round(4), kind="model"),
                "simulated_false_positives": Table(null.rename(columns={"power": "rejection_rate",
                                                                        "power_naive": "rejection_rate_naive"}).round(4),
                                                   kind="model")}

    def headlines(self) -> dict[str, Any]:
        settings = [{**{k: v for k, v in r.items() if k not in ("setting", "power", "ci_low", "ci_high")},
                     "power": Estimate(r["power"], r["ci_low"], r["ci_high"])}
                    for r in self.table.drop(columns="setting").to_dict(orient="records")]
        return {"simulated_power": {"target": self.target, "log_hr": self.log_hr, "hr": float(np.exp(self.log_hr)),
                                    "sd": self.sd, "rho2": self.rho2, "replicates": self.replicates, "seed": self.seed,
                                    "settings": settings},
                "simulated_false_positive_rate": {
                    "years": self.null["years"].tolist(),
                    "alpha": self.alpha if self.null_alpha is None else self.null_alpha,
                    "rate": [Estimate(r["power"], r["ci_low"], r["ci_high"]) for _, r in self.null.iterrows()],
                    **({"rate_naive": self.null["power_naive"].tolist(), "clustering": self.null_clustering}
                       if "power_naive" in self.null.columns else {})},
                **({"simulation_clustering": self.clustering} if self.clustering is not None else {})}


def simulation_result(sim: pw.SimulatedPower, labels: list[str], null: pw.SimulatedPower, null_label: str,
                      alpha: float) -> SimulationResult:
    """`alpha` is the power simulation's level (per term); the null check's is null.alpha."""
    describe = lambda s: None if s.clustering is None else s.clustering.describe()   # noqa: E731
    return SimulationResult(sim.table.assign(setting=labels), null.table.assign(setting=null_label), sim.target,
                            float(sim.log_hr), float(sim.sd), float(sim.rho2), sim.effective_sd, sim.replicates,
                            sim.seed, alpha, describe(sim), describe(null), float(null.alpha))


@dataclass(frozen=True)
class ShareEstimate(Share):
    """A share with its interval: hidden (interval too) whenever the share is."""

    lower: float | None = None
    upper: float | None = None
    level: float = 0.95


@dataclass(frozen=True)
class SecuredResult(Result):
    """Suitability of the type secured and the preferred location, among placements with a request."""

    suitability: pd.DataFrame           # long: group, value, category, placements, of, share, ci_low, ci_high, deff
    location: pd.DataFrame
    counts: dict
    interval: str = "Wilson 95%, effective sample size n / design effect of clustering by child"

    def _headline(self, category: str) -> dict:
        t = self.suitability if category in SUITABILITY else self.location
        r = t[(t["group"] == "all") & (t["category"] == category)]
        if r.empty:
            return {"share": ShareEstimate(0, 0), "design_effect": None}
        r = r.iloc[0]
        return {"share": ShareEstimate(int(r["placements"]), int(r["of"]), r["ci_low"], r["ci_high"]),
                "design_effect": r["design_effect"]}

    def tables(self) -> dict[str, Table]:
        if self.counts["with_request"] == 0:
            return {}
        out = {}
        for group, name in (("need tier", "tier"), ("council", "council")):
            out[f"secured_type_by_{name}"] = Table(counts_wide(self.suitability, group), kind="crosstab")
            out[f"location_by_{name}"] = Table(counts_wide(self.location, group), kind="crosstab")
        return out

    def headlines(self) -> dict[str, Any]:
        shares = {"preferred_type_secured": self._headline("Preferred"),
                  "suitable_not_preferred": self._headline("Suitable but not preferred"),
                  "unsuitable": self._headline("Unsuitable"), "preferred_location_met": self._headline(LOCATION[0])}
        return {"preferred_type_secured": shares["preferred_type_secured"],
                "secured_placements": {"counts": {k: Count(v) for k, v in self.counts.items()}, **shares,
                                       "interval": self.interval}}

    def shares(self, shown: dict[str, pd.DataFrame]) -> SecuredShares:
        """The shares and intervals behind the published counts, hidden wherever those counts are."""
        out = {}
        for group, name in (("need tier", "tier"), ("council", "council")):
            for table, stem in ((self.suitability, "secured_type"), (self.location, "location")):
                if f"{stem}_by_{name}" in shown:
                    out[f"{stem}_share_by_{name}"] = shares_shown(table, group, shown[f"{stem}_by_{name}"]).round(4)
        return SecuredShares(out)


@dataclass(frozen=True)
class SecuredShares(Result):
    """Shares of published (protected) counts: a share shown only where its count and total are."""

    frames: dict

    def tables(self) -> dict[str, Table]:
        return {name: Table(frame, kind="model") for name, frame in self.frames.items()}


def secured_result(sp: SecuredPlacements) -> SecuredResult:
    return SecuredResult(sp.suitability, sp.location, dict(sp.counts))


@dataclass(frozen=True)
class SecondBestResult(Result):
    """Cox model of question 2 with 'second best' added, among placements with a request."""

    table: pd.DataFrame                 # SECOND_BEST and MISMATCH: hr, hr_lower, hr_upper, robust_se, p
    n: int
    events: int
    level: float = 0.95

    def tables(self) -> dict[str, Table]:
        return {"second_best_cox": Table(self.table.round(4), kind="model")}

    def headlines(self) -> dict[str, Any]:
        r = self.table.loc["SECOND_BEST"]
        return {"second_best_hr": {"hr": Estimate(r["hr"], r["hr_lower"], r["hr_upper"], self.level), "p": r["p"],
                                   "n": Count(self.n), "events": Count(self.events)}}


def second_best_result(fit, alpha: float) -> SecondBestResult | None:
    """From survival's fit_cox with CoxSpec(second_best=True); None when second best has no estimate."""
    if fit is None or "SECOND_BEST" not in fit.summary.index:
        return None
    table = fit.summary.loc[["SECOND_BEST", "MISMATCH"], ["hr", "hr_lower", "hr_upper", "robust_se", "p"]]
    return SecondBestResult(table, int(fit.n), int(fit.n_events), 1 - alpha)


__all__ = ["Beyond903Result", "PowerResult", "SecondBestResult", "SecuredResult", "SecuredShares", "ShareEstimate",
           "SimulationResult", "beyond_903", "power_result", "second_best_result", "secured_result",
           "simulation_result"]
