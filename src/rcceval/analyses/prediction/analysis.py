"""Question 1: does granular needs data predict placement stability better than the 903 does?

Outcome: an unplanned ending (disruption) within a horizon (default 365 days) of the placement's
start. Placements still open at the extract date are censored and other endings (planned moves,
leaving care) compete, so the primary model is a discrete-time hazard model on person-period rows
(one row per placement and interval, complementary log-log link): its coefficients are log hazard
ratios of the cause-specific hazard of an unplanned ending, comparable with a Cox model and with the
synthetic region's generating Weibull model (the grouped-time proportional-hazards model). A
placement ending otherwise, or censored, part-way through an interval contributes the part it was at
risk (offset log(fraction)). A fixed-horizon logistic model on placements with complete follow-up
(started at least a horizon before the extract) is the sensitivity analysis; it reports odds ratios.

Three nested models on the same placements (those with needs and capability at the start):
M0 what the 903 already holds (age, sex, category of need, legal status, placement type, provider,
previous placements in the period, distance band, UASC, SDQ band, council); M1 = M0 + intensity and
frequency of each need domain; M2 = M1 + mismatch between needs and the placement's capability.

Prediction is judged out of fold (folds grouped by child) on the risk of an unplanned ending by the
horizon, with other endings competing (cumulative incidence from the unplanned and the other-ending
hazard models of the same covariates), by censoring-weighted AUC, Brier score and calibration; the
AUC gains get bootstrap intervals resampling children (see stability_metrics).

Usage (lifelines / statsmodels habits: configure, fit, read data frames):

    q1 = NeedsStabilityAnalysis(horizon_days=365, folds=5, bootstrap=200, seed=1, n_jobs=2).fit(frame)
    q1.summary, q1.comparison, q1.delta_auc, q1.drop_one, q1.calibration, q1.council_widths, q1.to_dict()
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rcceval.analyses.prediction import data as sd
from rcceval.analyses.prediction import fit as sf
from rcceval.analyses.prediction import metrics as smx
from rcceval.analyses.prediction.results import StabilityResult
from rcceval.parallel import Workers

MODELS = ("M0", "M1", "M2")
MODEL_LABELS = {"M0": "903 only", "M1": "903 + need domains", "M2": "903 + need domains + mismatch"}
COMPARISONS = (("M1", "M0"), ("M2", "M1"), ("M2", "M0"))
NEEDS_TOTAL = "NEEDS_TOTAL"
DROP = "M1 without "


@dataclass
class ModelFit:
    """One nested model: its covariates and the two cause-specific hazard fits (the unplanned one is reported)."""

    terms: list[str]
    unplanned: sf.GLMResult
    other: sf.GLMResult


@dataclass
class _Prepared:
    frame: pd.DataFrame          # the placements analysed (child-level: never published)
    X: pd.DataFrame
    pp: sd.PersonPeriod
    rows: dict
    clusters: np.ndarray
    outcome: sd.Outcome
    weights: np.ndarray
    terms: dict
    domains: list[str]
    interval_names: list[str]


def _rows_for(pp: sd.PersonPeriod, cause: int) -> sf.Rows:
    y = (pp.cause == cause).astype(float)
    offset = np.where(y > 0, 0.0, np.log(pp.exposure))
    return sf.Rows(pp.placement, pp.interval, y, offset, pp.n_intervals)


def _subset_rows(rows: sf.Rows, keep: np.ndarray) -> sf.Rows:
    """The rows of the placements in `keep` (a boolean mask over placements), renumbered."""
    new_index = np.cumsum(keep) - 1
    r = keep[rows.placement]
    return sf.Rows(new_index[rows.placement[r]], rows.interval[r], rows.y[r], rows.offset[r], rows.n_intervals)


def _fit(X: pd.DataFrame, terms: list[str], rows: sf.Rows, clusters: np.ndarray, interval_names: list[str],
         start: np.ndarray | None = None, robust: bool = True) -> sf.GLMResult:
    return sf.fit_glm(X[terms].to_numpy(), terms, rows, clusters, sf.CLOGLOG, interval_names, start=start,
                      robust=robust)


def _start_for(result: sf.GLMResult, terms: list[str]) -> np.ndarray:
    """Warm start for a model with `terms` from a fitted one (terms it lacks start at 0)."""
    coef = dict(zip(result.names[: result.p], result.params[: result.p]))
    return np.r_[[coef.get(t, 0.0) for t in terms], result.intercepts]


def _fold_job(fold: int, folds: np.ndarray, X: pd.DataFrame, rows: dict, clusters: np.ndarray,
              specs: dict, starts: dict, interval_names: list[str]) -> tuple[np.ndarray, dict]:
    """Fit every model on the other folds; predict the cumulative incidence for this fold's placements."""
    train, test = folds != fold, folds == fold
    Xtr, Xte = X.loc[train], X.loc[test]
    rows_tr = {c: _subset_rows(r, train) for c, r in rows.items()}
    cl = clusters[train]
    other_h, preds = {}, {}
    for name, (terms, other_of) in specs.items():
        if other_of is None:   # a main model: its own other-ending hazard
            res = _fit(Xtr, terms, rows_tr[sd.OTHER_ENDING], cl, interval_names, starts[(name, sd.OTHER_ENDING)],
                       robust=False)
            other_h[name] = sf.interval_hazards(res, Xte[terms].to_numpy())
    for name, (terms, other_of) in specs.items():
        res = _fit(Xtr, terms, rows_tr[sd.UNPLANNED], cl, interval_names, starts[(name, sd.UNPLANNED)], robust=False)
        unplanned_h = sf.interval_hazards(res, Xte[terms].to_numpy())
        preds[name] = sf.cif_from_interval_hazards(unplanned_h, other_h[other_of or name])
    return np.flatnonzero(test), preds


@dataclass
class NeedsStabilityAnalysis:
    """Configure, then `fit(frame)`; results are data frames on the instance (see the module docstring)."""

    horizon_days: int = 365
    interval_days: int = 30
    folds: int = 5
    bootstrap: int = 200
    seed: int = 0
    n_jobs: Workers = 1
    min_level_events: int = 10
    drop_one_domains: bool = True
    sensitivity: bool = True       # False: skip the complete-follow-up, per-council and second-best analyses
    domain_tests: bool = True      # with drop_one_domains: LR and robust Wald tests of each domain (question 4)
    level: float = 0.95
    # results
    models: dict = field(default_factory=dict, init=False, repr=False)
    summary: pd.DataFrame = field(default=None, init=False, repr=False)
    comparison: pd.DataFrame = field(default=None, init=False, repr=False)
    delta_auc: pd.DataFrame = field(default=None, init=False, repr=False)
    drop_one: pd.DataFrame = field(default=None, init=False, repr=False)
    calibration: pd.DataFrame = field(default=None, init=False, repr=False)
    council_widths: pd.DataFrame = field(default=None, init=False, repr=False)
    complete_follow_up: pd.DataFrame = field(default=None, init=False, repr=False)
    complete_follow_up_tests: pd.DataFrame = field(default=None, init=False, repr=False)
    second_best: pd.DataFrame = field(default=None, init=False, repr=False)
    coverage: pd.DataFrame = field(default=None, init=False, repr=False)
    counts: dict = field(default_factory=dict, init=False, repr=False)
    oof: pd.DataFrame = field(default=None, init=False, repr=False)
    levels: sd.Levels = field(default=None, init=False, repr=False)
    aliased: list = field(default_factory=list, init=False, repr=False)
    timings: dict = field(default_factory=dict, init=False, repr=False)   # seconds per step (not in to_dict)
    domain_test_table: pd.DataFrame = field(default=None, init=False, repr=False)

    # ---- fitting -----------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, extract_date: pd.Timestamp | str | None = None) -> StabilityResult:
        """Fit M0-M2, cross-validate, bootstrap and run the sensitivity analyses on the analysis frame;
        the aggregates that may leave the analysis come back as a frozen StabilityResult."""
        self.timings = {}
        t = time.perf_counter()
        self._data = data = self._prepare(frame)     # child-level rows: kept for drop_one_tests, never published
        self.timings["sample, design, person-period rows"] = time.perf_counter() - t
        steps = [("M0-M2 fits (both causes, robust variance)", lambda: self._fit_models(data)),
                 ("cross-validation, drop-one, bootstrap", lambda: self._cross_validate(data))]
        if self.sensitivity:
            steps += [("complete-follow-up logistic", lambda: self._complete_follow_up(data, extract_date)),
                      ("per-council widths", lambda: self._council_widths(data)),
                      ("second-best sensitivity", lambda: self._second_best(data))]
        if self.drop_one_domains and self.domain_tests:
            steps.append(("drop-one tests", lambda: setattr(self, "domain_test_table", self.drop_one_tests())))
        for name, step in steps:
            t = time.perf_counter()
            step()
            self.timings[name] = time.perf_counter() - t
        return self.result()

    def result(self) -> StabilityResult:
        """The fitted aggregates as a frozen result (no child-level rows)."""
        settings = {"horizon_days": self.horizon_days, "interval_days": self.interval_days, "folds": self.folds,
                    "bootstrap": self.bootstrap, "seed": self.seed, "level": self.level,
                    "min_level_events": self.min_level_events}
        return StabilityResult(
            settings=settings, counts=dict(self.counts), coverage=self.coverage, summary=self.summary,
            comparison=self.comparison, delta_auc=self.delta_auc, drop_one=self.drop_one,
            calibration=self.calibration, terms={m: list(f.terms) for m, f in self.models.items()},
            drop_one_tests=self.domain_test_table, council_widths=self.council_widths,
            complete_follow_up=self.complete_follow_up, complete_follow_up_tests=self.complete_follow_up_tests,
            second_best=self.second_best)

    def _prepare(self, frame: pd.DataFrame) -> _Prepared:
        needs = sd.needs_columns(frame)
        if not needs:
            raise ValueError("the analysis frame has no needs columns (I_, F_ or S_): question 1 needs them")
        sample = sd.model_sample(frame, needs, self.horizon_days)
        self.coverage = sample.exclusions
        fr = sample.frame
        outcome = sd.horizon_outcome(fr, self.horizon_days)
        prepared = sd.prepare(fr)
        self.levels = sd.choose_levels(prepared, outcome.y, self.min_level_events)
        x0 = sd.m0_design(sd.apply_levels(prepared, self.levels), self.levels)
        X = pd.concat([x0, fr[needs].astype(float), fr[[sd.MISMATCH]].astype(float)], axis=1)
        self.aliased = sd.aliased_columns(X)
        X = X.drop(columns=self.aliased)
        needs = [c for c in needs if c in X.columns]
        m0 = [c for c in x0.columns if c in X.columns]
        terms = {"M0": m0, "M1": m0 + needs, "M2": m0 + needs + [sd.MISMATCH]}
        edges = sd.interval_edges(self.horizon_days, self.interval_days)
        pp = sd.person_period(outcome.time, outcome.cause, edges)
        clusters = pd.factorize(fr["LA"].astype(str) + "\x1f" + fr["CHILD"].astype(str))[0]
        full_time = np.maximum(fr["DURATION_DAYS"].to_numpy(float), 1.0)
        weights = smx.censoring_weights(full_time, fr["CENSORED"].to_numpy(bool), self.horizon_days)
        names = [f"interval[{int(a)}-{int(b)}]" for a, b in zip(edges[:-1], edges[1:])]
        domains = list(dict.fromkeys(sd.domain_of(c) for c in needs))
        self.counts = {
            "n_placements": len(fr), "n_children": int(clusters.max() + 1) if len(fr) else 0,
            "n_councils": int(fr["LA"].nunique()), "n_person_periods": len(pp.placement),
            "n_unplanned_within_horizon": int(outcome.y.sum()), "n_known_at_horizon": int(outcome.known.sum()),
            "n_intervals": pp.n_intervals, "n_excluded": int(len(frame) - len(fr)),
        }
        return _Prepared(fr, X, pp, {c: _rows_for(pp, c) for c in (sd.UNPLANNED, sd.OTHER_ENDING)}, clusters,
                         outcome, weights, terms, domains, names)

    def _fit_models(self, d: _Prepared) -> None:
        for m in MODELS:
            un = _fit(d.X, d.terms[m], d.rows[sd.UNPLANNED], d.clusters, d.interval_names)
            ot = _fit(d.X, d.terms[m], d.rows[sd.OTHER_ENDING], d.clusters, d.interval_names)
            self.models[m] = ModelFit(d.terms[m], un, ot)
        parts = []
        for m in MODELS:
            s = self.models[m].unplanned.summary(self.level)
            parts.append(s.assign(model=m).reset_index())
        self.summary = pd.concat(parts, ignore_index=True).set_index(["model", "term"])
        rows = []
        for m in MODELS:
            r = self.models[m].unplanned
            rows.append({"model": m, "label": MODEL_LABELS[m], "terms": len(self.models[m].terms),
                         "parameters": r.n_params, "loglik": r.loglik, "aic": r.aic, "converged": r.converged})
        comp = pd.DataFrame(rows).set_index("model")
        for big, small in COMPARISONS[:2]:
            lr = sf.lr_test(self.models[small].unplanned, self.models[big].unplanned)
            added = [t for t in self.models[big].terms if t not in self.models[small].terms]
            wald = sf.wald_test(self.models[big].unplanned, added)
            comp.loc[big, ["lr_statistic", "lr_df", "lr_p"]] = [lr["statistic"], lr["df"], lr["p"]]
            comp.loc[big, ["wald_robust_statistic", "wald_robust_df", "wald_robust_p"]] = \
                [wald["statistic"], wald["df"], wald["p"]]
        self.comparison = comp

    def drop_one_tests(self) -> pd.DataFrame:
        """Per need domain: M1 against M1 without the domain, by likelihood ratio (model-based) and by the
        cluster-robust Wald test of the dropped terms (placements of one child are not independent)."""
        d = self._data
        m1 = self.models["M1"].unplanned
        rows = []
        for dom in d.domains:
            dropped = [t for t in d.terms["M1"] if t[1:2] == "_" and sd.domain_of(t) == dom]
            kept = [t for t in d.terms["M1"] if t not in dropped]
            small = _fit(d.X, kept, d.rows[sd.UNPLANNED], d.clusters, d.interval_names,
                         start=_start_for(m1, kept), robust=False)
            lr, wald = sf.lr_test(small, m1), sf.wald_test(m1, dropped)
            rows.append({"domain": dom, "terms": ", ".join(dropped), "lr_chi2": lr["statistic"], "df": lr["df"],
                         "p": lr["p"], "wald_robust": wald["statistic"], "wald_p": wald["p"]})
        return pd.DataFrame(rows).set_index("domain")

    def _specs(self, d: _Prepared) -> dict:
        specs = {m: (d.terms[m], None) for m in MODELS}
        if self.drop_one_domains:
            for dom in d.domains:
                specs[DROP + dom] = ([t for t in d.terms["M1"] if not (t[1:2] == "_" and sd.domain_of(t) == dom)], "M1")
        return specs

    def _cross_validate(self, d: _Prepared) -> None:
        folds = smx.grouped_folds(d.clusters, self.folds, self.seed)
        specs = self._specs(d)
        starts = {}
        for name, (terms, other_of) in specs.items():
            base = self.models[name if other_of is None else other_of]
            starts[(name, sd.UNPLANNED)] = _start_for(base.unplanned, terms)
            starts[(name, sd.OTHER_ENDING)] = _start_for(base.other, terms)
        # Folds run one after another: each fit's linear algebra is already multi-threaded (BLAS), and
        # shipping the design to worker processes cost more than it saved (measured at region scale).
        results = [_fold_job(f, folds, d.X, d.rows, d.clusters, specs, starts, d.interval_names)
                   for f in range(self.folds)]
        oof = pd.DataFrame(index=range(len(d.X)), columns=list(specs), dtype=float)
        for idx, preds in results:
            for name, p in preds.items():
                oof.loc[idx, name] = p
        oof["fold"] = folds
        self.oof = oof
        y, w = d.outcome.y, d.weights
        scores = {k: oof[k].to_numpy(float) for k in specs}
        boot = smx.bootstrap_aucs(scores, y, w, d.clusters, self.bootstrap, self.seed + 1, self.n_jobs)["all"]
        point = {k: smx.weighted_auc(v, y, w) for k, v in scores.items()}
        prevalence = float(np.sum(w * y) / np.sum(w))
        for m in MODELS:
            lo, hi = smx.percentile_ci(boot[m], self.level)
            self.comparison.loc[m, ["auc", "auc_ci_low", "auc_ci_high"]] = [point[m], lo, hi]
            self.comparison.loc[m, "brier"] = smx.brier(scores[m], y, w)
        self.comparison["brier_null"] = prevalence * (1 - prevalence)
        self.delta_auc = pd.DataFrame([self._delta(point, boot, a, b) for a, b in COMPARISONS]).set_index("comparison")
        rows = []
        for dom in d.domains if self.drop_one_domains else []:
            row = self._delta(point, boot, "M1", DROP + dom)
            rows.append({"domain": dom, "auc_without": point[DROP + dom], **{k: row[k] for k in
                         ("estimate", "ci_low", "ci_high", "se")}})
        self.drop_one = pd.DataFrame(rows, columns=["domain", "auc_without", "estimate", "ci_low", "ci_high", "se"])
        cal = [smx.calibration_table(scores[m], y, w).assign(model=m) for m in MODELS]
        self.calibration = pd.concat(cal, ignore_index=True)[["model", "group", "placements", "predicted", "observed",
                                                              "observed_ci_low", "observed_ci_high"]]
        self.counts["prevalence_weighted"] = prevalence

    def _delta(self, point: dict, boot: pd.DataFrame, a: str, b: str) -> dict:
        diff = (boot[a] - boot[b]).to_numpy()
        lo, hi = smx.percentile_ci(diff, self.level)
        return {"comparison": f"{a} - {b}" if not b.startswith(DROP) else f"drop {b[len(DROP):]}",
                "estimate": point[a] - point[b], "ci_low": lo, "ci_high": hi,
                "se": float(np.nanstd(diff, ddof=1)) if len(diff) > 1 else float("nan")}

    # ---- sensitivity analyses -------------------------------------------------------------------------
    def _complete_follow_up(self, d: _Prepared, extract_date) -> None:
        """Logistic models of an unplanned ending within the horizon among placements started at least a
        horizon before the extract (each has a known status, except endings the data cannot classify)."""
        start = d.frame["START"]
        if extract_date is None:   # open placements run to the extract date
            extract = (start + pd.to_timedelta(d.frame["DURATION_DAYS"], unit="D")).max()
        else:
            extract = pd.Timestamp(extract_date)
        cohort = ((start + pd.Timedelta(days=self.horizon_days)) <= extract).to_numpy() & d.outcome.known
        y = d.outcome.y[cohort].astype(float)
        rows = sf.Rows.of_placements(y)
        fits = {m: sf.fit_glm(d.X.loc[cohort, d.terms[m]].to_numpy(), d.terms[m], rows, d.clusters[cohort], sf.LOGIT,
                              ["intercept"]) for m in MODELS}
        parts = [fits[m].summary(self.level).assign(model=m).reset_index() for m in MODELS]
        table = pd.concat(parts, ignore_index=True).set_index(["model", "term"])
        self.complete_follow_up = table
        self.complete_follow_up_tests = pd.DataFrame(
            [{"comparison": f"{a} - {b}", **sf.lr_test(fits[b], fits[a]),
              "aic_small": fits[b].aic, "aic_big": fits[a].aic} for a, b in COMPARISONS[:2]]).set_index("comparison")
        self.counts["n_complete_follow_up"] = int(cohort.sum())
        self.counts["n_complete_follow_up_unplanned"] = int(y.sum())

    def _council_widths(self, d: _Prepared) -> None:
        """The small-numbers problem: one needs effect (HR per point of total intensity, in a compact model
        a council could fit: interval, age band, type, previous placements, UASC) estimated in each council
        alone against the pooled region (with council effects). Width = ratio of the CI's ends."""
        inten = [t for t in d.terms["M1"] if t.startswith("I_")] or [t for t in d.terms["M1"] if t not in d.terms["M0"]]
        total = d.X[inten].sum(axis=1)
        base = [c for c in d.X.columns if c.startswith(("AGE_BAND[", "TYPE[", "PREV_BAND[")) or c == "UASC"]
        la_cols = [c for c in d.X.columns if c.startswith("LA[")]
        X = d.X[base + la_cols].assign(**{NEEDS_TOTAL: total})
        rows = []
        la = d.frame["LA"].astype(str)
        for council in sorted(la.unique()):
            keep = (la == council).to_numpy()
            r_sub = _subset_rows(d.rows[sd.UNPLANNED], keep)
            Xc = X.loc[keep, base + [NEEDS_TOTAL]]
            Xc = Xc[[c for c in Xc.columns if Xc[c].nunique() > 1]]
            terms = [c for c in Xc.columns if c not in sd.aliased_columns(Xc)]
            res = sf.fit_glm(Xc[terms].to_numpy(), terms, r_sub, d.clusters[keep], sf.CLOGLOG, d.interval_names)
            rows.append(self._width_row(council, res, keep, d))
        res = sf.fit_glm(X.to_numpy(), list(X.columns), d.rows[sd.UNPLANNED], d.clusters, sf.CLOGLOG, d.interval_names)
        rows.append(self._width_row("Region (pooled)", res, np.ones(len(X), bool), d))
        out = pd.DataFrame(rows)
        pooled = out.iloc[-1]["log_width"]
        out["width_vs_pooled"] = out["log_width"] / pooled
        self.council_widths = out

    def _width_row(self, name: str, res: sf.GLMResult, keep: np.ndarray, d: _Prepared) -> dict:
        s = res.summary(self.level).loc[NEEDS_TOTAL] if NEEDS_TOTAL in res.names else None
        lo, hi = (s["ci_low"], s["ci_high"]) if s is not None else (np.nan, np.nan)
        return {"LA": name, "placements": int(keep.sum()), "unplanned_within_horizon": int(d.outcome.y[keep].sum()),
                "hr_per_point": s["hr"] if s is not None else np.nan, "ci_low": lo, "ci_high": hi,
                "log_width": float(np.log(hi) - np.log(lo)) if s is not None else np.nan}

    def _second_best(self, d: _Prepared) -> None:
        """Mismatch with and without 'second best' (the type secured was not the one preferred), among
        placements with a placement request: the 903 cannot see second-best placements, and they carry
        more mismatch, so part of M2's mismatch effect may be theirs."""
        sb = d.frame["SECOND_BEST"].to_numpy(float) if "SECOND_BEST" in d.frame else np.full(len(d.X), np.nan)
        keep = np.isfinite(sb)
        if keep.sum() < 50 or np.nanstd(sb) == 0:
            self.second_best = pd.DataFrame()
            return
        rows = _subset_rows(d.rows[sd.UNPLANNED], keep)
        X = d.X.loc[keep].assign(SECOND_BEST=sb[keep])
        out = []
        for label, terms in (("M2", d.terms["M2"]), ("M2 + second best", d.terms["M2"] + ["SECOND_BEST"])):
            terms = [t for t in terms if X[t].nunique() > 1]
            terms = [t for t in terms if t not in sd.aliased_columns(X[terms])]
            res = sf.fit_glm(X[terms].to_numpy(), terms, rows, d.clusters[keep], sf.CLOGLOG, d.interval_names)
            s = res.summary(self.level)
            for term in [sd.MISMATCH, "SECOND_BEST"]:
                if term in s.index:
                    out.append({"model": label, "term": term, **s.loc[term, ["hr", "ci_low", "ci_high", "p"]].to_dict()})
        self.second_best = pd.DataFrame(out)
        self.counts["n_with_request"] = int(keep.sum())
