"""Question 2: how long do placements survive, by need profile, and what ends them?

`PlacementSurvival(...).fit(frame)` runs the whole analysis on the analysis frame (frame.py) and
keeps every result as data frames; `to_dict()` is what goes into results.json. The pieces are
usable on their own:

- survival_data: follow-up and cause of each placement, need profiles (tiers, the intensity x
  frequency grid, k-means clusters), the Cox design matrix, needs re-scored at reviews as
  (start, stop] intervals, episode splitting;
- survival_curves: Kaplan-Meier by profile (numbers at risk, medians, 1-year survival, log-rank
  and a clustered test) and Aalen-Johansen cumulative incidence of each ending by profile;
- survival_cox: cause-specific Cox models (Efron ties, stratified by council, robust variance
  clustered by child as R's coxph), R cox.zph's test of proportional hazards (stats/zph.py) and the
  refit where it fails, needs re-scored at reviews (recovery of generating values: synth.recovery);
- survival_plots: figures from published tables.

lifelines is the engine users see; survival_engine (R `survival`, exactly) supplies the robust
variance under ties, clustered curve CIs, Aalen-Johansen without jitter and Harrell's C. Nothing
here prints or plots.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from rcceval.analyses.survival.councils import council_heterogeneity
from rcceval.analyses.survival.cox import (
    CoxModel,
    PHRemedy,
    compare_models,
    fit_cause_specific,
    fit_cox,
    fit_time_varying_needs,
    ph_remedy,
)
from rcceval.analyses.survival.curves import (
    DAY_TIMES,
    CIFResult,
    KMResult,
    grid_table,
    incidence_by_profile,
    profile_summary,
    survival_by_profile,
)
from rcceval.analyses.survival.data import (
    CAUSE,
    PLANNED,
    UNKNOWN_CAUSE,
    UNPLANNED,
    CoxSpec,
    design,
    follow_up,
    need_clusters,
    need_profiles,
    needs_intervals,
    profile_domains,
)
from rcceval.analyses.survival.unknown import UnknownCauses, draw_causes, unknown_causes
from rcceval.spec import codes
from rcceval.spec.instruments import Instrument

__all__ = ["PlacementSurvival", "CoxSpec", "CoxModel", "KMResult", "CIFResult", "PHRemedy", "follow_up",
           "need_profiles", "need_clusters", "needs_intervals", "design", "survival_by_profile",
           "incidence_by_profile", "profile_summary", "grid_table", "fit_cox", "fit_cause_specific",
           "fit_time_varying_needs", "ph_remedy", "compare_models"]

# The 903 characteristics question 2 tabulates one-year figures by (column of follow_up -> label).
CHARACTERISTICS = (("AGE_BAND", "age band"), ("LEGAL", "legal status"), ("TYPE", "placement type"),
                   ("PREV_BAND", "previous placements in the period"), ("CIN_START", "category of need"),
                   ("UASC", "unaccompanied asylum-seeking child"))


def characteristics_table(fu: pd.DataFrame, times: tuple[int, ...] = DAY_TIMES, alpha: float = 0.05) -> pd.DataFrame:
    """profile_summary (placements, medians, one-year survival and cumulative incidence) for each level
    of each 903 characteristic the follow-up frame has, with a `characteristic` column."""
    parts = []
    for col, label in CHARACTERISTICS:
        if col not in fu:
            continue
        values = fu[col].map({True: "yes", False: "no"}) if fu[col].dtype == bool else fu[col].astype(str)
        prof = values.rename(label)
        t = profile_summary(survival_by_profile(fu, prof, "any", times, alpha),
                            survival_by_profile(fu, prof, "unplanned", times, alpha),
                            incidence_by_profile(fu, prof, times, alpha))
        parts.append(t.assign(profile=t["profile"].astype(str)).assign(characteristic=label))
    out = pd.concat(parts, ignore_index=True)
    return out[["characteristic", *[c for c in out.columns if c != "characteristic"]]]


@dataclass
class PlacementSurvival:
    """Survival of placements by need profile, and what ends them (question 2).

    Parameters: the needs instrument; alpha (CIs are 1 - alpha); seed (k-means clusters);
    clusters_k (0: no data-driven profiles); times (days at which numbers at risk and incidence
    are tabulated); ph_cuts (follow-up periods, days, for time-varying effects where PH fails);
    second_best: "auto" fits the request-only sensitivity model (SECOND_BEST, on placements with a
    placement request: the type secured is known only there) when at least `min_events` of them
    ended unplanned; True / False force it. The main model is always on every placement with
    complete covariates (one analysis population). imputations: M, the completed data sets over
    which endings of unknown cause are imputed (seeded by `seed`; at least 2): the main and
    cause-specific models are pooled over them by Rubin's rules; the secondary models (PH remedy,
    needs re-scored at reviews, request-only) use the first completed data set.

    Results after fit(): fu (follow-up rows: child-level, never published), profiles, clusters,
    coverage, tier_domains (the domains behind each tier), km_any and km_unplanned (Kaplan-Meier by tier), incidence (Aalen-Johansen by tier),
    incidence_grid and incidence_clusters, profiles_table, by_903 (one-year figures by each 903
    characteristic), main (the unplanned-ending Cox model), requests_only (the sensitivity model
    with SECOND_BEST on placements with a request, or None), cause_specific (one model per ending), remedy (refit where PH fails), time_varying
    (needs re-scored at reviews, same placements as main) and timing (both side by side),
    unknown (UnknownCauses: the endings of unknown cause, the imputations, the two bounds).
    """

    instrument: Instrument
    alpha: float = 0.05
    seed: int = 0
    clusters_k: int = 4
    times: tuple[int, ...] = DAY_TIMES
    ph_cuts: tuple[int, ...] = (90, 365)
    second_best: str | bool = "auto"
    min_events: int = 100
    imputations: int = 10
    notes: list = field(default_factory=list)

    def fit(self, frame: pd.DataFrame, assessments: pd.DataFrame | None = None) -> "PlacementSurvival":
        inst = self.instrument
        self.fu = fu = follow_up(frame)
        self.profiles = need_profiles(fu, inst)
        # without needs assessments (the 903 alone) the curves are by placement type and the Cox
        # models hold the 903's covariates only: survival by 903 profile needs no assessment
        self.has_needs = bool(self.profiles["PROFILE_TIER"].notna().any())
        if self.has_needs:
            self.profile_name = "need tier"
            profile = self.profiles["PROFILE_TIER"].rename("tier")
        else:
            self.profile_name = "placement type"
            levels = [t for t in codes.MODEL_TYPE_LEVELS if (fu["TYPE"] == t).any()]
            profile = pd.Series(pd.Categorical(fu["TYPE"], categories=levels, ordered=True), index=fu.index,
                                name="placement type")
            self.notes.append("No placement has a needs assessment in force at its start: the curves are by "
                              "placement type and the Cox models hold the 903's covariates only")
        self.tier_domains = profile_domains(fu, profile, inst) if self.has_needs else None
        self.km_unplanned = survival_by_profile(fu, profile, "unplanned", self.times, self.alpha)
        self.km_any = survival_by_profile(fu, profile, "any", self.times, self.alpha)
        self.incidence = incidence_by_profile(fu, profile, self.times, self.alpha)
        self.profiles_table = profile_summary(self.km_any, self.km_unplanned, self.incidence)
        self.by_903 = characteristics_table(fu, self.times, self.alpha)
        self.incidence_grid = self.grid = self.clusters = self.incidence_clusters = None
        if self.has_needs:
            self.incidence_grid = incidence_by_profile(fu, self.profiles["PROFILE_GRID"].rename("grid"),
                                                       self.times, self.alpha)
            self.grid = grid_table(self.incidence_grid)
            if self.clusters_k:
                self.clusters = need_clusters(fu, inst, k=self.clusters_k, seed=self.seed)
                self.incidence_clusters = incidence_by_profile(fu, self.clusters.labels.rename("cluster"),
                                                               self.times, self.alpha)
        if self.imputations < 2:
            raise ValueError(f"imputations must be at least 2 (Rubin's rules), not {self.imputations}")
        self.main, self.requests_only = self._main_models(fu)
        self.cause_specific = {codes.UNPLANNED: self.main,
                               **fit_cause_specific(fu, inst, self.main.spec, self.alpha,
                                                    causes=(codes.PLANNED, codes.LEFT_CARE), draws=self.draws)}
        done = self.completed
        self.remedy = ph_remedy(self.main, done, inst, cuts=self.ph_cuts)
        self.time_varying = self.timing = None
        if self.has_needs and self.main.spec.needs and assessments is not None and len(assessments):
            self.time_varying = fit_time_varying_needs(done, assessments, inst, self.main.spec, alpha=self.alpha,
                                                       rows=self.main.design.rows)
            self.timing = compare_models({"needs at start": self.main, "needs re-scored at reviews": self.time_varying},
                                         self.needs_covariates(self.main))
        # council heterogeneity of the needs terms (two-stage meta-analysis): behind any England-level sentence
        self.councils = council_heterogeneity(self.main.design, self._main_draws, self.needs_covariates(self.main),
                                              level=1 - self.alpha) if self.has_needs else None
        self.coverage = self._coverage(frame)
        return self

    # ---- pieces -----------------------------------------------------------------------------
    def _main_models(self, fu: pd.DataFrame) -> tuple[CoxModel, CoxModel | None]:
        """One analysis population: the main model on every placement with complete covariates (no
        SECOND_BEST); the request-only model (with SECOND_BEST, on placements with a placement request)
        is a stated sensitivity analysis, fitted when enough of them ended unplanned."""
        needs = self.has_needs
        mismatch = needs and bool(fu["MISMATCH"].notna().any()) if "MISMATCH" in fu else False
        base = CoxSpec(needs=needs, mismatch=mismatch)
        d = design(fu, self.instrument, base)
        self.draws = draw_causes(d, self.imputations, self.seed)
        # the first completed data set, for the models fitted once (endings of unknown cause outside the
        # main model's rows keep code 4: no model holds them)
        self.completed = fu
        if self.draws is not None:
            self.completed = fu.copy()
            self.completed.loc[d.rows, CAUSE] = self.draws[0]
        main = fit_cox(fu, self.instrument, spec=base, alpha=self.alpha,
                       kind="needs at placement start" if needs else "903 covariates", draws=self.draws)
        md = main.design   # the main model's rows (levels without an unplanned ending left out)
        md_draws = None if self.draws is None else self.draws[:, pd.Index(d.rows).get_indexer(md.rows)]
        self._main_draws = md_draws
        self.unknown: UnknownCauses = unknown_causes(md, md_draws, int((fu[CAUSE] == UNKNOWN_CAUSE).sum()),
                                                     self.imputations, self.seed, self.alpha, other=PLANNED)
        use = self.second_best
        if use is False or "SECOND_BEST" not in fu or fu["SECOND_BEST"].notna().sum() == 0:
            return main, None
        with_sb = replace(base, second_best=True)
        events = int((design(self.completed, self.instrument, with_sb).cause == UNPLANNED).sum())
        if use == "auto":
            use = events >= self.min_events
            self.notes.append(
                f"Sensitivity analysis: the main model refitted on placements with a placement request, with "
                f"SECOND_BEST ({events} unplanned endings)" if use else
                f"No request-only sensitivity model: {events} unplanned endings among placements with a placement "
                f"request (fewer than {self.min_events})")
        if not use:
            return main, None
        return main, fit_cox(self.completed, self.instrument, spec=with_sb, alpha=self.alpha, with_ph=False,
                             kind="sensitivity: placements with a request, with second best")

    def _coverage(self, frame: pd.DataFrame) -> pd.DataFrame:
        fu = self.fu
        rows = [("placements starting in the window", len(frame)),
                ("no follow-up (started on the extract date)", len(frame) - len(fu)),
                ("followed up", len(fu))]
        rows.append(("ended, cause unknown (events: cause imputed in the Cox models)", self.unknown.followed))
        rows += [(f"left out of the main model: {k}", v) for k, v in self.main.excluded.items()]
        rows.append(("in the main Cox model", self.main.n))
        ev = fu.loc[self.main.design.rows, CAUSE]
        out = pd.DataFrame(rows, columns=["placements", "n"])
        out["unplanned_endings"] = [None] * (len(out) - 1) + [int((ev == UNPLANNED).sum())]
        return out

    @staticmethod
    def needs_covariates(model: CoxModel) -> list[str]:
        return [c for c in model.summary.index if c.startswith(("I_", "F_")) or c == "MISMATCH"]

    def cause_specific_table(self, covariates: list[str] | None = None) -> pd.DataFrame:
        """HR (CI) of each covariate for each ending's cause-specific model."""
        return compare_models(self.cause_specific, covariates)

    def to_dict(self) -> dict:
        def medians(km: KMResult) -> dict:
            s = km.summary.set_index("profile")
            return {p: {"median_days": r.median_days, "lower": r.median_lower, "upper": r.median_upper}
                    for p, r in s.iterrows()}
        t = self.profiles_table.set_index("profile")
        out = {
            "placements_followed": len(self.fu),
            "by_tier": {
                "median_placement_days": medians(self.km_any),
                "median_days_to_unplanned_km": medians(self.km_unplanned),
                "placement_survival_1y": t[["surv_any_1y", "surv_any_1y_lower", "surv_any_1y_upper"]].to_dict(orient="index"),
                "free_of_unplanned_1y_km": t[["free_of_unplanned_1y", "free_of_unplanned_1y_lower",
                                              "free_of_unplanned_1y_upper"]].to_dict(orient="index"),
                "cif_unplanned_1y": t[["cif_unplanned_1y", "cif_unplanned_1y_lower",
                                       "cif_unplanned_1y_upper"]].to_dict(orient="index"),
                "logrank_unplanned": self.km_unplanned.logrank, "robust_test_unplanned": self.km_unplanned.robust_test,
                "logrank_any": self.km_any.logrank,
            },
            "incidence_by_tier": {prof: {cause: {d: v for d, v in days.items() if d in ("365", "730")}
                                         for cause, days in causes.items()}
                                  for prof, causes in self.incidence.to_dict()["by_profile"].items()},
            "profile": self.profile_name,
            "grid_cif_unplanned_1y": None if self.grid is None else {
                f"{r.peak_intensity} x {r.peak_frequency}": r.cif for r in self.grid.itertuples()},
            "clusters": None if self.clusters is None else {
                "method": self.clusters.method, "k": self.clusters.k, "seed": self.clusters.seed,
                "share": self.clusters.centres["share"].to_dict()},
            "main_model": self.main.to_dict(),
            "requests_only_model": None if self.requests_only is None else {
                "n": self.requests_only.n, "events": self.requests_only.n_events,
                "concordance": self.requests_only.concordance,
                "hazard_ratios": {c: v for c, v in self.requests_only.to_dict()["hazard_ratios"].items()
                                  if c in self.needs_covariates(self.requests_only) or c == "SECOND_BEST"}},
            "cause_specific": {k: {"n": m.n, "events": m.n_events, "concordance": m.concordance,
                                   "hazard_ratios": {c: v for c, v in m.to_dict()["hazard_ratios"].items()
                                                     if c in self.needs_covariates(m) or c == "SECOND_BEST"}}
                               for k, m in self.cause_specific.items()},
            "ph_remedy": self.remedy.to_dict(),
            "time_varying_needs": None if self.time_varying is None else {
                "n_intervals": self.time_varying.n, "events": self.time_varying.n_events, "notes": self.time_varying.notes,
                "hazard_ratios": {c: v for c, v in self.time_varying.to_dict()["hazard_ratios"].items()
                                  if c in self.needs_covariates(self.time_varying)}},
            "unknown_causes": {"followed": self.unknown.followed, "in_model": self.unknown.in_model,
                               "imputations": self.unknown.m, "seed": self.unknown.seed,
                               "cif_unplanned_1y": self.unknown.cif.set_index("treatment")["cif"].to_dict(),
                               "bounds": {k: v["hr"].to_dict() for k, v in self.unknown.bounds.items()}},
            "council_heterogeneity": None if self.councils is None else self.councils.to_dict(orient="index"),
            "notes": self.notes,
        }
        return out
