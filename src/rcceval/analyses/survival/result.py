"""Question 2's result: placement survival by need profile as one frozen, aggregate-only result.

`analyse(frame, assessments, instrument, ...)` fits PlacementSurvival once and keeps only
aggregates: curves read at fixed days, numbers at risk, tables by profile, and each Cox model's
summary (CoxSummary: no design rows, no fitter). `tables()` and `headlines()` declare, once,
everything the report publishes; the publisher protects every table (rows, crosstab or model).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rcceval.analyses.survival.analysis import PlacementSurvival
from rcceval.analyses.survival.cox import PH_METHOD, CoxModel
from rcceval.reporting.results import Cell, Count, Estimate, Result, Table, Test
from rcceval.spec.instruments import Instrument

CAUSE_ORDER = ("Unplanned ending", "Planned change", "Left care")
LR = "likelihood ratio"


def _test(d: Mapping | None, method: str) -> Test | None:
    """A {statistic, df, p} dict as a Test (None stays None)."""
    if d is None:
        return None
    return Test(float(d["statistic"]), None if d.get("df") is None else d["df"], float(d["p"]),
                str(d.get("method", method)))


def needs_covariates(summary: pd.DataFrame) -> list[str]:
    """The needs domains' intensity / frequency covariates and MISMATCH, in the model's order."""
    return [c for c in summary.index if c.startswith(("I_", "F_")) or c == "MISMATCH"]


@dataclass(frozen=True, eq=False)
class CoxSummary:
    """A Cox model's published aggregates (CoxModel without its design rows or fitter)."""

    cause: str
    kind: str
    summary: pd.DataFrame            # per covariate: coef, hr, hr_lower, hr_upper, se, robust_se, z, p
    n: int
    n_events: int
    n_clusters: int
    n_strata: int
    loglik: float
    lr_test: Mapping
    aic: float
    concordance: float | None
    ph: pd.DataFrame | None
    excluded: Mapping[str, int]
    dropped: tuple[str, ...]
    notes: tuple[str, ...]
    level: float = 0.95

    @classmethod
    def of(cls, m: CoxModel) -> CoxSummary:
        return cls(m.cause, m.kind, m.summary.copy(), int(m.n), int(m.n_events), int(m.n_clusters), int(m.n_strata),
                   m.loglik, dict(m.lr_test), m.aic, m.concordance, None if m.ph is None else m.ph.copy(),
                   {k: int(v) for k, v in m.excluded.items()}, tuple(m.dropped), tuple(m.notes), 1 - m.alpha)

    @property
    def ph_global(self) -> Test | None:
        if self.ph is None:
            return None
        g = self.ph.loc["GLOBAL"]
        return Test(float(g["statistic"]), int(g["df"]), float(g["p"]), PH_METHOD)

    @property
    def ph_failing(self) -> list[str]:
        if self.ph is None:
            return []
        rows = self.ph.drop(index="GLOBAL")
        return list(rows.index[rows["fails"]])

    def hazard_ratios(self, covariates: list[str] | None = None) -> dict[str, dict]:
        """{covariate: {hr: Estimate, robust_se, p}} (all covariates, or those named, in the model's order)."""
        s = self.summary if covariates is None else self.summary.loc[[c for c in self.summary.index if c in covariates]]
        return {c: {"hr": Estimate(r.hr, r.hr_lower, r.hr_upper, self.level), "robust_se": r.robust_se, "p": r.p}
                for c, r in s.iterrows()}

    def headline(self) -> dict[str, Any]:
        """The model as results.json holds it (counts of placements, events and children protected)."""
        return {
            "cause": self.cause, "kind": self.kind, "n": Count(self.n), "events": Count(self.n_events),
            "children": Count(self.n_clusters), "strata": self.n_strata, "hazard_ratios": self.hazard_ratios(),
            "concordance": self.concordance, "loglik": self.loglik, "lr_test": _test(self.lr_test, LR), "aic": self.aic,
            "ph_test": None if self.ph is None else {
                "method": PH_METHOD, "global": self.ph_global, "failing": self.ph_failing,
                "p_by_covariate": {c: r.p for c, r in self.ph.drop(index="GLOBAL").iterrows()}},
            "excluded": {k: Count(v) for k, v in self.excluded.items()}, "dropped": list(self.dropped),
            "notes": list(self.notes)}


@dataclass(frozen=True, eq=False)
class SurvivalResult(Result):
    """Aggregates of question 2 (no child-level rows): see the report's sections."""

    level: float
    notes: tuple[str, ...]
    profile_name: str                    # what the curves are by: "need tier" or, on the 903 alone, "placement type"
    coverage: pd.DataFrame               # placements analysed and left out (counts)
    tier_domains: pd.DataFrame | None    # mean intensity / frequency by tier (with placements); None without needs
    at_risk: Mapping[str, pd.DataFrame]  # "any" / "unplanned": numbers at risk at fixed days
    km_curves: Mapping[str, pd.DataFrame]  # curves read weekly, cut below min_at_risk (no counts)
    km_tests: Mapping[str, Mapping[str, Test]]  # "any" / "unplanned": logrank, robust_test
    by_tier: pd.DataFrame                # profile_summary (placements, medians, 1-year figures) by profile
    by_903: pd.DataFrame                 # the same by each 903 characteristic (characteristic, profile, ...)
    medians: Mapping[str, pd.DataFrame]  # "any" / "unplanned": KM summary by profile
    endings: pd.DataFrame                # crosstab: placements by tier and ending
    cif_curves: pd.DataFrame
    cif_at_times: pd.DataFrame           # profile, cause, day, cif, lower, upper
    grid: pd.DataFrame | None            # intensity x frequency cells: placements, cif, lower, upper
    clusters: pd.DataFrame | None        # centres with placements
    cluster_info: Mapping[str, Any] | None
    cif_curves_clusters: pd.DataFrame | None
    main: CoxSummary
    remedy: Mapping[str, Any]            # failing, stratified_by, time_varying, cuts_days
    remedy_model: CoxSummary | None
    remedy_summary: pd.DataFrame | None
    cause_specific: Mapping[str, CoxSummary]
    cause_specific_table: pd.DataFrame
    requests_only: CoxSummary | None     # sensitivity: placements with a request, with SECOND_BEST
    requests_only_table: pd.DataFrame | None
    time_varying: CoxSummary | None
    timing: pd.DataFrame | None
    recovery: pd.DataFrame | None        # main model's HRs beside the generating values (synthetic)

    # ---- what the report publishes ---------------------------------------------------------
    def survival_by_tier(self) -> pd.DataFrame:
        """Median, one-year survival and cumulative incidence by tier, with formatted intervals."""
        t = self.by_tier
        return pd.DataFrame({
            "profile": t["profile"], "placements": t["placements"], "unplanned_endings": t["unplanned_endings"],
            "median_days": t["median_days"],
            "median_ci": [f"{lo:.0f}–{up:.0f}" if pd.notna(lo) and pd.notna(up) else "–"
                          for lo, up in zip(t["median_lower"], t["median_upper"], strict=True)],
            "running_1y": t["surv_any_1y"].round(3),
            "free_of_unplanned_1y_net_km": t["free_of_unplanned_1y"].round(3),
            "unplanned_by_1y_cif": t["cif_unplanned_1y"].round(3),
            "unplanned_by_1y_ci": [f"{lo:.3f}–{up:.3f}" for lo, up in
                                   zip(t["cif_unplanned_1y_lower"], t["cif_unplanned_1y_upper"], strict=True)]})

    def cif_wide(self) -> pd.DataFrame:
        """Cumulative incidence (CI) of each ending at one and two years, by tier and day."""
        at = self.cif_at_times
        at = at.loc[at["day"].isin([365, 730])].assign(
            estimate=lambda d: [f"{c:.3f} ({lo:.3f}–{up:.3f})" for c, lo, up in zip(d["cif"], d["lower"], d["upper"],
                                                                                     strict=True)])
        order = list(self.by_tier["profile"])
        wide = at.pivot(index=["profile", "day"], columns="cause", values="estimate")
        wide = wide.reindex(pd.MultiIndex.from_product([order, [365, 730]], names=["profile", "day"]))
        return wide[[c for c in CAUSE_ORDER if c in wide]]

    def by_903_table(self) -> pd.DataFrame:
        """One-year figures by each 903 characteristic (the KM figure net of competing endings)."""
        t = self.by_903
        return pd.DataFrame({
            "characteristic": t["characteristic"], "profile": t["profile"], "placements": t["placements"],
            "unplanned_endings": t["unplanned_endings"], "median_days": t["median_days"],
            "running_1y": t["surv_any_1y"].round(3), "free_of_unplanned_1y_net_km": t["free_of_unplanned_1y"].round(3),
            "unplanned_by_1y_cif": t["cif_unplanned_1y"].round(3),
            "unplanned_by_1y_cif_lower": t["cif_unplanned_1y_lower"].round(3),
            "unplanned_by_1y_cif_upper": t["cif_unplanned_1y_upper"].round(3)})

    def tables(self) -> dict[str, Table]:
        by = self.survival_by_tier()
        out = {"coverage": Table(self.coverage, counts=("n", "unplanned_endings"))}
        if self.tier_domains is not None:
            dom = self.tier_domains.round(2)
            out["tier_domains"] = Table(dom, counts=("placements",),
                                        percent_of={c: "placements" for c in dom.columns
                                                    if c not in ("profile", "placements")})
        b9 = self.by_903_table()
        out["survival_by_903"] = Table(b9, counts=("placements", "unplanned_endings"),
                                       # the unplanned-ending figures would give back a hidden count of them
                                       percent_of={c: "unplanned_endings" if "unplanned" in c else "placements"
                                                   for c in b9.columns[4:]}, by=("characteristic",))
        for name in ("any", "unplanned"):
            out[f"at_risk_{name}"] = Table(self.at_risk[name], counts=("at_risk", "events", "censored"))
            out[f"km_{name}_curves"] = Table(self.km_curves[name].set_index(["profile", "day"]), kind="model")
        out["survival_by_tier"] = Table(by, counts=("placements", "unplanned_endings"),
                                        percent_of={c: "placements" for c in by.columns[3:]})
        out["endings_by_tier"] = Table(self.endings.set_index("profile").drop(columns="placements"), kind="crosstab")
        out["cif_curves"] = Table(self.cif_curves.set_index(["profile", "cause", "day"]), kind="model")
        out["cif_1y_2y_by_tier"] = Table(self.cif_wide(), kind="model")   # not "cif_by_tier": that is a headline
        if self.grid is not None:
            out["grid_cif_unplanned_1y"] = Table(self.grid, counts=("placements",),
                                                 percent_of={"cif": "placements", "lower": "placements",
                                                             "upper": "placements"})
        if self.clusters is not None:
            cen = self.clusters
            out["need_clusters"] = Table(cen, counts=("placements",),
                                         percent_of={c: "placements" for c in cen.columns
                                                     if c not in ("cluster", "placements")})
            out["cif_curves_clusters"] = Table(self.cif_curves_clusters.set_index(["profile", "cause", "day"]),
                                               kind="model")
        out["cox_unplanned"] = Table(self.main.summary, kind="model")       # full precision in the csv
        if self.main.ph is not None:
            out["ph_test"] = Table(self.main.ph, kind="model")
        if self.remedy_summary is not None:
            out["ph_remedy"] = Table(self.remedy_summary.round(4), kind="model")
        out["cox_cause_specific"] = Table(self.cause_specific_table.round(4), kind="model")
        if self.requests_only_table is not None:
            out["cox_requests_only"] = Table(self.requests_only_table, kind="model")
        if self.timing is not None:
            out["cox_time_varying_needs"] = Table(self.timing.round(4), kind="model")
        if self.recovery is not None:
            out["recovery"] = Table(self.recovery.round(3), kind="model")
        return out

    def _estimates(self, frame: pd.DataFrame, value: str, lower: str, upper: str) -> dict[str, Estimate]:
        s = frame.set_index("profile")
        return {str(p): Estimate(r[value], r[lower], r[upper], self.level) for p, r in s.iterrows()}

    def headlines(self) -> dict[str, Any]:
        t = self.by_tier
        cif = {}
        for (prof, cause), g in self.cif_at_times.groupby(["profile", "cause"], sort=False):
            cif.setdefault(str(prof), {})[cause] = {str(int(d)): Estimate(c, lo, up, self.level)
                                                    for d, c, lo, up in g[["day", "cif", "lower", "upper"]]
                                                    .itertuples(index=False) if int(d) in (365, 730)}
        by = "tier" if self.profile_name == "need tier" else "placement_type"
        out: dict[str, Any] = {
            "profile": self.profile_name,
            f"median_placement_days_by_{by}": self._estimates(self.medians["any"], "median_days", "median_lower",
                                                              "median_upper"),
            # Kaplan-Meier with the other endings censored: net of competing endings (as if they could not
            # happen), not the time by which half of placements end unplanned
            f"median_days_to_unplanned_net_of_competing_endings_by_{by}": self._estimates(
                self.medians["unplanned"], "median_days", "median_lower", "median_upper"),
            f"survival_1y_by_{by}": {
                "placement_running": self._estimates(t, "surv_any_1y", "surv_any_1y_lower", "surv_any_1y_upper"),
                "free_of_unplanned_net_of_competing_endings_km": self._estimates(
                    t, "free_of_unplanned_1y", "free_of_unplanned_1y_lower", "free_of_unplanned_1y_upper")},
            f"cif_unplanned_1y_by_{by}": self._estimates(t, "cif_unplanned_1y", "cif_unplanned_1y_lower",
                                                         "cif_unplanned_1y_upper"),
            f"logrank_unplanned_by_{by}": self.km_tests["unplanned"]["logrank"],
            f"robust_test_unplanned_by_{by}": self.km_tests["unplanned"]["robust_test"],
            f"cif_by_{by}": cif,
            "main_model": self.main.headline(),
            "ph_test": {"global": self.main.ph_global, "failing": self.main.ph_failing,
                        "remedy": None if not self.main.ph_failing else {
                            **self.remedy, "model": None if self.remedy_model is None else self.remedy_model.headline()}},
            "cause_specific": {k: {"n": Count(m.n), "events": Count(m.n_events), "concordance": m.concordance,
                                   "hazard_ratios": m.hazard_ratios(needs_covariates(m.summary) + ["SECOND_BEST"]
                                                                    if self.profile_name == "need tier" else None)}
                               for k, m in self.cause_specific.items()},
        }
        if self.grid is not None:   # the published cell: hidden wherever the grid table hides it
            out["grid_cif_unplanned_1y"] = {f"{r.peak_intensity} x {r.peak_frequency}":
                                            Cell(r.cif, "grid_cif_unplanned_1y",
                                                 {"peak_intensity": r.peak_intensity, "peak_frequency": r.peak_frequency},
                                                 "cif") for r in self.grid.itertuples()}
        if self.cluster_info is not None:
            out["clusters"] = dict(self.cluster_info)
        if self.requests_only is not None:
            ro = self.requests_only
            out["requests_only_model"] = {"n": Count(ro.n), "events": Count(ro.n_events),
                                          "concordance": ro.concordance, "analysis": "sensitivity",
                                          "hazard_ratios": ro.hazard_ratios(needs_covariates(ro.summary)
                                                                            + ["SECOND_BEST"])}
        if self.time_varying is not None:
            tv = self.time_varying
            out["time_varying_needs"] = {"n_intervals": tv.n, "events": Count(tv.n_events), "notes": list(tv.notes),
                                         "hazard_ratios": tv.hazard_ratios(needs_covariates(tv.summary))}
        if self.recovery is not None:
            out["recovery"] = recovery_counts(self.recovery)
        return out


def recovery_counts(recovered: pd.DataFrame) -> dict[str, Any]:
    """How many generating values the main model's intervals hold (covariates, not children)."""
    needs = recovered.loc[needs_covariates(recovered)]
    return {"covered": int(recovered["covered"].sum()), "of": len(recovered),
            "needs_and_mismatch_covered": int(needs["covered"].sum()), "needs_and_mismatch_of": len(needs),
            "not_covered": list(recovered.index[~recovered["covered"]])}


def summarise(q2: PlacementSurvival, min_at_risk: int = 10,
              recover: Callable[[CoxModel], pd.DataFrame] | None = None) -> SurvivalResult:
    """The aggregates of a fitted PlacementSurvival. recover: main model -> its HRs beside the
    generating values (synth.recovery.cox_recovery on synthetic data; analyses never read truth)."""
    m = q2.main
    clusters = info = cc = None
    if q2.clusters is not None:
        cen = q2.clusters.centres.round(2).reset_index()
        n_by = q2.incidence_clusters.events.set_index("profile")["placements"]
        cen.insert(1, "placements", n_by.reindex(cen["cluster"]).to_numpy())
        clusters = cen.drop(columns="share")
        info = {"method": q2.clusters.method, "k": q2.clusters.k, "seed": q2.clusters.seed,
                "share": q2.clusters.centres["share"].to_dict()}
        cc = q2.incidence_clusters.curve_table(min_at_risk=min_at_risk)
    needs = q2.needs_covariates(m) + ["SECOND_BEST"]
    ro_table = None
    if q2.requests_only is not None:
        comp = pd.concat([m.summary[["hr", "hr_lower", "hr_upper"]].add_prefix("main (all placements): "),
                          q2.requests_only.summary[["hr", "hr_lower", "hr_upper"]].add_prefix("placements with a request: ")],
                         axis=1)
        first = [c for c in needs if c in comp.index]
        ro_table = comp.loc[first + [c for c in comp.index if c not in first]].round(4)
        ro_table.index.name = "covariate"
    rem = q2.remedy
    return SurvivalResult(
        level=1 - q2.alpha, notes=tuple(q2.notes), profile_name=q2.profile_name, coverage=q2.coverage.copy(),
        tier_domains=None if q2.tier_domains is None else q2.tier_domains.copy(),
        at_risk={"any": q2.km_any.at_risk.copy(), "unplanned": q2.km_unplanned.at_risk.copy()},
        km_curves={"any": q2.km_any.curve_table(min_at_risk=min_at_risk),
                   "unplanned": q2.km_unplanned.curve_table(min_at_risk=min_at_risk)},
        km_tests={k: {"logrank": _test(km.logrank, "log-rank"), "robust_test": _test(km.robust_test, "robust Wald")}
                  for k, km in (("any", q2.km_any), ("unplanned", q2.km_unplanned))},
        by_tier=q2.profiles_table.copy(), by_903=q2.by_903.copy(),
        medians={"any": q2.km_any.summary.copy(), "unplanned": q2.km_unplanned.summary.copy()},
        endings=q2.incidence.events.copy(), cif_curves=q2.incidence.curve_table(min_at_risk=min_at_risk),
        cif_at_times=q2.incidence.at_times.copy(),
        grid=None if q2.grid is None else q2.grid.copy(), clusters=clusters, cluster_info=info,
        cif_curves_clusters=cc, main=CoxSummary.of(m),
        remedy={"failing": list(rem.failing), "stratified_by": list(rem.stratified_by),
                "time_varying": list(rem.time_varying), "cuts_days": list(rem.cuts)},
        remedy_model=None if rem.model is None else CoxSummary.of(rem.model),
        remedy_summary=None if rem.model is None else rem.summary.copy(),
        cause_specific={k: CoxSummary.of(v) for k, v in q2.cause_specific.items()},
        cause_specific_table=q2.cause_specific_table(needs if q2.has_needs else None),
        requests_only=None if q2.requests_only is None else CoxSummary.of(q2.requests_only),
        requests_only_table=ro_table,
        time_varying=None if q2.time_varying is None else CoxSummary.of(q2.time_varying),
        timing=None if q2.timing is None else q2.timing.copy(),
        recovery=None if recover is None else recover(m))


def analyse(frame: pd.DataFrame, assessments: pd.DataFrame | None, instrument: Instrument, seed: int = 0,
            min_at_risk: int = 10, recover: Callable[[CoxModel], pd.DataFrame] | None = None) -> SurvivalResult:
    """Question 2 end to end: fit on the analysis frame, keep the aggregates."""
    return summarise(PlacementSurvival(instrument, seed=seed).fit(frame, assessments), min_at_risk, recover)


__all__ = ["CoxSummary", "SurvivalResult", "analyse", "needs_covariates", "recovery_counts", "summarise"]
