"""Question 2's Cox models: cause-specific hazards of each ending, needs at the placement start or
re-scored at reviews, the proportional hazards check and what to do where it fails, and the
recovery of the synthetic region's generating values.

lifelines fits (CoxPHFitter, CoxTimeVaryingFitter: Efron ties, stratified by council) are kept for
users; the published coefficients and variances are R coxph's exactly, from the engine (stats/cox.py:
R's Newton-Raphson and convergence rule), pooled over the imputed causes of endings of unknown cause
and clustered by child and provider (unknown.py); Harrell's C is R's (pairs within councils).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, CoxTimeVaryingFitter
from scipy import stats

from rcceval.analyses.survival.data import (
    CAUSE_CODE,
    CAUSES,
    START,
    STOP,
    TIME,
    UNKNOWN_CAUSE,
    CoxSpec,
    Design,
    design,
    needs_intervals,
    split_at,
)
from rcceval.analyses.survival.unknown import (
    IMPUTATION_METHOD,
    VARIANCE_CHILD,
    pooled_fit,
    pooled_summary,
)
from rcceval.spec import codes
from rcceval.spec.instruments import Instrument
from rcceval.stats.concordance import concordance_index
from rcceval.stats.cox import cox_efron
from rcceval.stats.zph import cox_zph

PH_METHOD = "R cox.zph, km transform; fails: Holm-adjusted p < alpha"
LIFELINES_FIT_OPTIONS = {"precision": 1e-10, "r_precision": 1e-12, "step_size": 0.95}


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


# --------------------------------------------------------------------------------------------
# Cox models
# --------------------------------------------------------------------------------------------

@dataclass
class CoxModel:
    """A cause-specific Cox model as published.

    summary: per covariate coef (log HR), hr, se (model-based), robust_se (clustered by child,
    R coxph's), robust_se_two_way (clustered by child and provider, CGM; where the design knows
    the providers), df, z, p and the HR's CI (from the two-way se, else the child one). Where
    endings of unknown cause are among the rows, everything in the summary is pooled over the
    imputations by Rubin's rules (df: Rubin's; the interval uses t(df)); `imputation` says how. ph: R survival's cox.zph score test
    (km transform; stats/zph.py) per covariate with Holm-adjusted p values, and the global test. concordance: Harrell's C within councils (R's convention).
    design: the model's rows (child-level: never published); fitter: the lifelines fitter.
    """

    cause: str
    kind: str                      # "placement start needs" / "time-varying needs" / ...
    spec: CoxSpec
    summary: pd.DataFrame
    n: int
    n_events: int
    n_clusters: int
    n_strata: int
    loglik: float
    lr_test: dict
    aic: float
    concordance: float | None
    ph: pd.DataFrame | None
    excluded: dict
    dropped: list
    alpha: float
    design: Design = field(repr=False)
    fitter: object = field(repr=False)
    notes: list = field(default_factory=list)
    variance: str = VARIANCE_CHILD
    imputation: dict | None = None   # unknown (endings of unknown cause), m, method; None: nothing imputed

    @property
    def ph_global(self) -> dict | None:
        if self.ph is None:
            return None
        g = self.ph.loc["GLOBAL"]
        return {"statistic": float(g["statistic"]), "df": int(g["df"]), "p": float(g["p"])}

    @property
    def ph_failing(self) -> list[str]:
        if self.ph is None:
            return []
        rows = self.ph.drop(index="GLOBAL")
        return list(rows.index[rows["fails"]])

    def hazard_ratios(self) -> pd.DataFrame:
        """hr, lower, upper, p per covariate: the forest plot's table."""
        return self.summary[["hr", "hr_lower", "hr_upper", "p"]]

    def to_dict(self) -> dict:
        s = self.summary
        return {
            "cause": self.cause, "kind": self.kind, "n": self.n, "events": self.n_events,
            "children": self.n_clusters, "strata": self.n_strata,
            "hazard_ratios": {c: {"hr": r.hr, "lower": r.hr_lower, "upper": r.hr_upper, "robust_se": r.robust_se,
                                  "p": r.p} for c, r in s.iterrows()},
            "concordance": self.concordance, "loglik": self.loglik, "lr_test": self.lr_test, "aic": self.aic,
            "ph_test": None if self.ph is None else {
                "method": PH_METHOD,
                "global": self.ph_global, "failing": self.ph_failing,
                "p_by_covariate": {c: r.p for c, r in self.ph.drop(index="GLOBAL").iterrows()}},
            "excluded": self.excluded, "dropped": self.dropped, "notes": self.notes,
            "variance": self.variance, "imputation": self.imputation,
        }


def _fit_lifelines(df: pd.DataFrame, alpha: float, entry: bool = False):
    cols = [c for c in df.columns if c != "cluster"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; convergence is checked below
        if entry:
            fitter = CoxTimeVaryingFitter(alpha=alpha)
            fitter.fit(df[cols], event_col="E", start_col="T0", stop_col="T", strata=["council"])
        else:
            fitter = CoxPHFitter(alpha=alpha)
            fitter.fit(df[cols], duration_col="T", event_col="E", strata=["council"],
                       fit_options=LIFELINES_FIT_OPTIONS)
    return fitter


def _cox_model(d: Design, cause_code: int, spec: CoxSpec, alpha: float, kind: str, with_ph: bool,
               engine: str = "lifelines", draws: np.ndarray | None = None) -> CoxModel:
    """Fit one cause-specific model. `draws` (m, rows of d): completed causes where endings of unknown
    cause are among the rows (unknown_causes.draw_causes): the model is fitted on each and pooled by
    Rubin's rules; the PH test, concordance and likelihood are those of the first completed data set."""
    eventless, drop = d.eventless_levels(cause_code)
    if eventless:
        d = d.subset(~drop, eventless)
        d.excluded[f"level with no {CAUSES[cause_code]} ending ({', '.join(eventless)})"] = int(drop.sum())
        draws = None if draws is None else draws[:, ~drop]
    observed = d
    if draws is not None:
        d = replace(d, cause=draws[0])
    df = d.lifelines_frame(cause_code)
    n_events = int(df["E"].sum())
    if n_events == 0:
        raise ValueError(f"no {CAUSES[cause_code]} endings among the {len(df)} placements modelled")
    entry = d.entry is not None
    if engine == "lifelines":   # the fitter users see; the published numbers come from the engine below
        fitter = _fit_lifelines(df, alpha, entry=entry)
        coef = fitter.params_.to_numpy(dtype=float)
        loglik = float(fitter.log_likelihood_)
        if entry:
            ll0 = float(cox_efron(df["T"], df["E"], d.X, strata=d.stratum, entry=df["T0"], iter_max=0).loglik)
        else:
            ll0 = loglik - fitter.log_likelihood_ratio_test().test_statistic / 2
    else:  # the engine alone (R's coxph exactly): used where lifelines is too slow
        res = cox_efron(df["T"], df["E"], d.X, strata=d.stratum, cluster=d.cluster,
                        entry=df["T0"] if entry else None, names=d.names)
        fitter, coef = res, res.coef
        loglik, ll0 = res.loglik, res.loglik_null
    # the published summary: R's coxph exactly (the engine, R's convergence rule), pooled over the completed
    # data sets where causes were imputed, intervals from the child-and-provider variance
    pooled = pooled_fit(observed, cause_code, draws)
    summary, variance, clipped = pooled_summary(pooled, d.names, alpha), pooled.variance, pooled.clipped
    imputation = None
    if draws is not None:
        imputation = {"unknown": int((observed.cause == UNKNOWN_CAUSE).sum()), "m": int(draws.shape[0]),
                      "method": IMPUTATION_METHOD}
    else:
        coef = pooled.coef
    lr = 2 * (loglik - ll0)
    conc = None
    if not entry:
        conc = concordance_index(df["T"], df["E"], d.X.to_numpy() @ coef, strata=d.stratum)
    ph = None
    if with_ph:  # R survival's cox.zph (km transform, event times pooled across strata), Holm over covariates
        ph = cox_zph(coef, d.time, d.cause == cause_code, d.X, strata=d.stratum, entry=d.entry).holm(alpha)
    notes = [f"placements of {c} left out: no {CAUSES[cause_code]} ending among them" for c in eventless]
    if clipped:
        notes.append("the two-way variance had negative eigenvalues in some completed data set: set to 0 "
                     "(Cameron, Gelbach & Miller 2011, section 2.3)")
    if imputation is not None:
        notes.append(f"{imputation['unknown']} endings of unknown cause among the {len(df)} placements: causes imputed "
                     f"{imputation['m']} times and the fits pooled by Rubin's rules; the events, PH test, concordance "
                     f"and log-likelihood are those of the first completed data set")
    return CoxModel(cause=CAUSES[cause_code], kind=kind, spec=spec, summary=summary, n=len(df), n_events=n_events,
                    n_clusters=int(pd.unique(d.cluster).size), n_strata=int(pd.unique(d.stratum).size),
                    loglik=loglik, lr_test={"statistic": lr, "df": len(coef), "p": float(stats.chi2.sf(lr, len(coef)))},
                    aic=-2 * loglik + 2 * len(coef), concordance=conc, ph=ph, excluded=d.excluded,
                    dropped=d.dropped + eventless, alpha=alpha, design=observed, fitter=fitter, notes=notes,
                    variance=variance, imputation=imputation)


def fit_cox(fu: pd.DataFrame, instrument: Instrument, cause: str = codes.UNPLANNED, spec: CoxSpec = CoxSpec(),
            alpha: float = 0.05, with_ph: bool = True, engine: str = "lifelines",
            kind: str = "needs at placement start", draws: np.ndarray | None = None) -> CoxModel:
    """Cause-specific Cox model of `cause` (other endings censored: their hazard is modelled
    separately, which is right for cause-specific hazards): Efron ties, stratified by council,
    robust variance clustered by child (and two-way, child and provider, for the intervals), fitted
    by lifelines (R-correct robust SEs from the engine), on the complete cases of `spec` (see
    survival_data.design). `draws`: completed causes of the design's rows (unknown.draw_causes) to
    pool over; without them an ending of unknown cause is not an ending of `cause` (use draws)."""
    return _cox_model(design(fu, instrument, spec), CAUSE_CODE[cause], spec, alpha, kind, with_ph, engine, draws)


def fit_cause_specific(fu: pd.DataFrame, instrument: Instrument, spec: CoxSpec = CoxSpec(), alpha: float = 0.05,
                       with_ph: bool = False, causes: tuple[str, ...] | None = None,
                       draws: np.ndarray | None = None) -> dict[str, CoxModel]:
    """One cause-specific Cox model per ending (default: unplanned, planned, left care), same rows,
    covariates and completed causes (`draws`): each ending's hazard with the others censored."""
    d = design(fu, instrument, spec)
    causes = tuple(CAUSES.values()) if causes is None else causes
    return {c: _cox_model(d, CAUSE_CODE[c], spec, alpha, "needs at placement start", with_ph, draws=draws)
            for c in causes}


# --------------------------------------------------------------------------------------------
# Where proportional hazards fail
# --------------------------------------------------------------------------------------------

@dataclass
class PHRemedy:
    """The refit where the proportional hazards test fails.

    A failing indicator of a categorical covariate (TYPE, AGE_BAND) makes that covariate a
    stratum (its own baseline hazard: no HR for it, no PH assumption); any other failing
    covariate gets a time-varying effect, one log HR per follow-up period (cuts in days), fitted
    on split (start, stop] rows by survival_engine.cox_efron (R's coxph exactly, with the same
    strata and clustered robust variance). model is None when nothing fails.
    """

    failing: list
    stratified_by: list
    time_varying: list
    cuts: tuple
    model: CoxModel | None
    summary: pd.DataFrame | None

    def to_dict(self) -> dict:
        return {"failing": self.failing, "stratified_by": self.stratified_by, "time_varying": self.time_varying,
                "cuts_days": list(self.cuts),
                "model": None if self.model is None else self.model.to_dict()}


def _period_labels(cuts: tuple) -> list[str]:
    edges = [0, *cuts]
    return [f"days {a}-{b}" for a, b in zip(edges[:-1], edges[1:])] + [f"days {edges[-1]}+"]


def ph_remedy(model: CoxModel, fu: pd.DataFrame, instrument: Instrument, cuts: tuple = (90, 365),
              failing: list[str] | None = None) -> PHRemedy:
    """Refit `model` with the covariates failing its PH test (or those given) handled (PHRemedy)."""
    failing = model.ph_failing if failing is None else list(failing)
    if not failing:
        return PHRemedy([], [], [], cuts, None, None)
    cats = {c for c, _ in model.spec.categorical}
    strat = sorted({f.split("=")[0] for f in failing if "=" in f and f.split("=")[0] in cats})
    tv = [f for f in failing if f.split("=")[0] not in strat]
    spec = replace(model.spec, extra_strata=tuple(model.spec.extra_strata) + tuple(strat))
    d = design(fu, instrument, spec)
    if tv:
        d, period = split_at(d, cuts)
        labels = _period_labels(cuts)
        X = d.X.drop(columns=tv)
        for col in tv:
            for k, lab in enumerate(labels):
                X[f"{col} [{lab}]"] = d.X[col].to_numpy() * (period == k)
        d = replace(d, X=X)
    refit = _cox_model(d, CAUSE_CODE[model.cause], spec, model.alpha,
                       "PH remedy: " + ", ".join(filter(None, ["stratified by " + ", ".join(strat) if strat else "",
                                                                "time-varying effects" if tv else ""])),
                       with_ph=False, engine="engine" if tv else "lifelines")
    rows = [r for r in refit.summary.index if any(r.startswith(f + " [") for f in tv)]
    return PHRemedy(failing, strat, tv, cuts, refit, refit.summary.loc[rows] if rows else refit.summary)


# --------------------------------------------------------------------------------------------
# Needs re-scored at reviews
# --------------------------------------------------------------------------------------------

def fit_time_varying_needs(fu: pd.DataFrame, assessments: pd.DataFrame, instrument: Instrument,
                           spec: CoxSpec = CoxSpec(), cause: str = codes.UNPLANNED, alpha: float = 0.05,
                           rows: pd.Index | None = None, engine: str = "lifelines") -> CoxModel:
    """The Cox model with needs (and mismatch) re-scored at every review within a placement.

    Intervals come from survival_data.needs_intervals; covariates other than needs stay as at
    the start. `rows` restricts to the placements of another model (e.g. the start-needs model),
    so the two are fitted on the same placements. Fitted by lifelines' CoxTimeVaryingFitter
    (stratified by council), robust variance clustered by child from the engine (R's
    coxph(Surv(start, stop, event) ~ ..., cluster = child)).
    """
    base = fu if rows is None else fu.loc[rows]
    iv = needs_intervals(base, assessments, instrument)
    iv[TIME] = iv[STOP]
    d = design(iv, instrument, spec)
    # rows: the placement (row of `fu`) each interval belongs to
    d = replace(d, entry=iv.loc[d.rows, START].to_numpy(dtype=float), rows=pd.Index(iv.loc[d.rows, "_ROW"]))
    m = _cox_model(d, CAUSE_CODE[cause], spec, alpha, "needs re-scored at reviews", with_ph=False, engine=engine)
    m.notes.insert(0, f"{len(iv)} intervals from {len(base)} placements; {int((iv[START] > 0).sum())} reviews within placements")
    return m


def compare_models(models: dict[str, CoxModel], covariates: list[str] | None = None) -> pd.DataFrame:
    """Hazard ratios (CI) of several models side by side, one row per covariate."""
    parts = []
    for name, m in models.items():
        s = m.summary[["hr", "hr_lower", "hr_upper"]].add_prefix(f"{name}: ")
        parts.append(s)
    out = pd.concat(parts, axis=1)
    if covariates is not None:
        out = out.loc[[c for c in covariates if c in out.index]]
    out.index.name = "covariate"
    return out
