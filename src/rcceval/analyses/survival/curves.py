"""Question 2's curves: Kaplan-Meier and Aalen-Johansen cumulative incidence by need profile.

Kaplan-Meier point estimates come from lifelines' KaplanMeierFitter (kept on the result, so users
can plot them the lifelines way); confidence intervals are the robust infinitesimal-jackknife ones
clustered by child (placements of one child are not independent) from survival_engine, exactly as
R's survfit(..., cluster = child). Cumulative incidence is Aalen-Johansen from survival_engine
(tied times of different endings are simultaneous, as in R; lifelines' AalenJohansenFitter
jitters them). A competing ending is never estimated as 1 - KM.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from scipy import stats

from rcceval.analyses.survival.data import (
    CAUSE,
    CAUSE_LABELS,
    CAUSES,
    CENSORED,
    CLUSTER,
    STRATUM,
    TIME,
    UNKNOWN_CAUSE,
    UNPLANNED,
)
from rcceval.spec import codes
from rcceval.stats.cox import cox_efron
from rcceval.stats.curves import cumulative_incidence, kaplan_meier

DAY_TIMES = (90, 180, 365, 730, 1095, 1461, 1826)
YEAR = 365


def _levels(profile: pd.Series) -> list:
    values = profile.dropna()
    if isinstance(profile.dtype, pd.CategoricalDtype):
        return [c for c in profile.cat.categories if (values == c).any()]
    return sorted(values.unique(), key=str)


def _step_at(times: np.ndarray, values: np.ndarray, at: np.ndarray, before: float) -> np.ndarray:
    """A right-continuous step function (values at `times`) read at `at`; `before` before the first."""
    pos = np.searchsorted(times, at, side="right") - 1
    return np.where(pos >= 0, values[np.maximum(pos, 0)], before)


# --------------------------------------------------------------------------------------------
# Kaplan-Meier by profile
# --------------------------------------------------------------------------------------------

@dataclass
class KMResult:
    """Kaplan-Meier by profile. `event` is "unplanned" (other endings censored) or "any".

    curves: time, profile, surv, lower, upper, n_risk at every distinct time (CIs: the robust
    infinitesimal-jackknife variance clustered by child, R's survfit(..., cluster=), conf_type
    as given). at_risk: numbers at risk, cumulative events and censored at fixed days (counts:
    publish through disclosure control). summary: one row per profile with placements, events,
    median (days) with its CI (from the confidence curves, as R's survfit) and survival at 1 year
    with CI. logrank: lifelines' multivariate log-rank test (assumes independent placements);
    robust_test: Wald test of equal hazards from a Cox model of the profiles, stratified by
    council, robust variance clustered by child (the one to read: it respects both).
    """

    event: str
    by: str
    curves: pd.DataFrame
    at_risk: pd.DataFrame
    summary: pd.DataFrame
    logrank: dict
    robust_test: dict
    conf_type: str
    alpha: float
    fitters: dict = field(default_factory=dict, repr=False)   # lifelines KaplanMeierFitter per profile

    def curve_table(self, step_days: int = 7, min_at_risk: int = 10, max_days: int | None = None) -> pd.DataFrame:
        """Curves read every `step_days`, each cut where fewer than `min_at_risk` are at risk: a
        table of estimates (no counts) safe to publish and to draw figures from."""
        return _curve_table(self.curves, ["surv", "lower", "upper"], step_days, min_at_risk, max_days)

    def to_dict(self) -> dict:
        s = self.summary.set_index("profile")
        keep = ["placements", "events", "median_days", "median_lower", "median_upper",
                "surv_1y", "surv_1y_lower", "surv_1y_upper"]
        return {"event": self.event, "by": self.by, "conf_type": self.conf_type,
                "by_profile": s[keep].to_dict(orient="index"),
                "logrank": self.logrank, "robust_test": self.robust_test}


def _curve_table(curves: pd.DataFrame, value_cols: list[str], step_days: int, min_at_risk: int,
                 max_days: int | None, keys: tuple[str, ...] = ("profile",), before: float = 1.0) -> pd.DataFrame:
    """Step curves read every `step_days` from day 0, each cut at its last time with at least
    `min_at_risk` at risk (and at max_days); `before` is the value before the first time."""
    parts = []
    for key, c in curves.groupby(list(keys), sort=False, observed=True):
        t = c["time"].to_numpy()
        ok = c["n_risk"].to_numpy() >= min_at_risk
        if not ok.any():
            continue
        end = t[np.flatnonzero(ok)[-1]]
        end = end if max_days is None else min(end, max_days)
        grid = np.arange(0, end + 1, step_days, dtype=float)
        part = pd.DataFrame(dict(zip(keys, key if isinstance(key, tuple) else (key,))), index=range(len(grid)))
        part["day"] = grid.astype(int)
        for col in value_cols:
            part[col] = _step_at(t, c[col].to_numpy(dtype=float), grid, before)
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*keys, "day", *value_cols])


def _median_with_ci(t: np.ndarray, surv: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple:
    """First time each curve is at or below 0.5 (R's survfit: the CI of the median comes from the
    confidence curves). None where a curve never reaches 0.5."""
    def first(curve):
        idx = np.flatnonzero(curve <= 0.5)
        return float(t[idx[0]]) if idx.size else None
    return first(surv), first(lower), first(upper)


def robust_group_test(time, event, groups, cluster, strata) -> dict:
    """Wald test that all groups share one hazard: Cox model on group indicators, stratified,
    robust variance clustered (the clustered analogue of the log-rank test)."""
    g = pd.Series(np.asarray(groups, dtype=object))
    levels = sorted(g.unique(), key=str)
    if len(levels) < 2:
        return {"statistic": None, "df": 0, "p": None}
    X = np.column_stack([(g == lv).to_numpy(dtype=float) for lv in levels[1:]])
    fit = cox_efron(time, event, X, strata=strata, cluster=cluster)
    b, V = fit.coef, fit.var_robust
    stat = float(b @ np.linalg.solve(V, b))
    return {"statistic": stat, "df": len(b), "p": float(stats.chi2.sf(stat, len(b))),
            "method": "Wald, Cox model of the profiles stratified by council, robust variance clustered by child"}


def survival_by_profile(fu: pd.DataFrame, profile: pd.Series, event: str = "unplanned",
                        times: tuple[int, ...] = DAY_TIMES, alpha: float = 0.05,
                        conf_type: str = "log-log") -> KMResult:
    """Kaplan-Meier of each profile (rows of `fu` with a profile; see KMResult).

    event="unplanned": time to an unplanned ending, planned changes and leaving care censored:
    the survival free of disruption were the other endings removed, a cause-specific quantity
    (1 - it is not the proportion disrupted: see incidence_by_profile). event="any": placement
    survival, any ending.
    """
    if event not in ("unplanned", "any"):
        raise ValueError("event must be 'unplanned' or 'any'")
    prof = profile.reindex(fu.index)
    sub = fu.loc[prof.notna()]
    prof = prof.loc[sub.index]
    T = sub[TIME].to_numpy(dtype=float)
    cause = sub[CAUSE].to_numpy()
    E = (cause == UNPLANNED) if event == "unplanned" else (cause != CENSORED)
    cluster = sub[CLUSTER].to_numpy()
    curves, at_risk, summary, fitters = [], [], [], {}
    z_times = np.asarray(times, dtype=float)
    for level in _levels(prof):
        m = (prof == level).to_numpy()
        kmf = KaplanMeierFitter(alpha=alpha, label=str(level)).fit(T[m], E[m])
        fitters[str(level)] = kmf
        km = kaplan_meier(T[m], E[m], cluster=cluster[m], conf_type=conf_type, conf_int=1 - alpha)
        if not np.allclose(km["surv"].to_numpy(), kmf.survival_function_.loc[km["time"]].to_numpy()[:, 0]):
            raise AssertionError("engine and lifelines Kaplan-Meier disagree")  # never expected
        t = km["time"].to_numpy()
        curves.append(pd.DataFrame({"profile": str(level), "time": t, "surv": km["surv"],
                                    "lower": km["lower"].fillna(km["surv"]), "upper": km["upper"].fillna(km["surv"]),
                                    "n_risk": km["n_risk"]}))
        n_at = (T[m][None, :] >= z_times[:, None]).sum(axis=1)
        ev = ((T[m][None, :] <= z_times[:, None]) & E[m][None, :]).sum(axis=1)
        cens = ((T[m][None, :] <= z_times[:, None]) & ~E[m][None, :]).sum(axis=1)
        at_risk.append(pd.DataFrame({"profile": str(level), "day": np.r_[0, z_times].astype(int),
                                     "at_risk": np.r_[m.sum(), n_at], "events": np.r_[0, ev],
                                     "censored": np.r_[0, cens]}))
        surv, lo, up = km["surv"].to_numpy(), km["lower"].to_numpy(), km["upper"].to_numpy()
        med, med_lo, med_up = _median_with_ci(t, surv, np.nan_to_num(lo, nan=0.0), np.nan_to_num(up, nan=1.0))
        s1 = _step_at(t, surv, np.array([YEAR]), 1.0)[0]
        l1 = _step_at(t, lo, np.array([YEAR]), 1.0)[0]
        u1 = _step_at(t, up, np.array([YEAR]), 1.0)[0]
        followed = T[m].max() >= YEAR
        summary.append({"profile": str(level), "placements": int(m.sum()), "events": int(E[m].sum()),
                        "median_days": med, "median_lower": med_lo, "median_upper": med_up,
                        "surv_1y": s1 if followed else None, "surv_1y_lower": l1 if followed else None,
                        "surv_1y_upper": u1 if followed else None})
    groups = prof.astype(str).to_numpy()
    lr = multivariate_logrank_test(T, groups, E)
    logrank = {"statistic": float(lr.test_statistic), "df": int(lr.degrees_of_freedom), "p": float(lr.p_value),
               "method": "log-rank (lifelines multivariate_logrank_test; placements treated as independent)"}
    robust = robust_group_test(T, E, groups, cluster, sub[STRATUM].to_numpy())
    return KMResult(event=event, by=str(profile.name), curves=pd.concat(curves, ignore_index=True),
                    at_risk=pd.concat(at_risk, ignore_index=True), summary=pd.DataFrame(summary),
                    logrank=logrank, robust_test=robust, conf_type=conf_type, alpha=alpha, fitters=fitters)


# --------------------------------------------------------------------------------------------
# Competing risks: Aalen-Johansen cumulative incidence by profile
# --------------------------------------------------------------------------------------------

@dataclass
class CIFResult:
    """Aalen-Johansen cumulative incidence of each ending by profile (clustered IJ CIs).

    curves: profile, cause, time, cif, lower, upper, n_risk. at_times: the same read at fixed
    days. events: placements by profile and ending (counts: publish through disclosure control).
    """

    by: str
    curves: pd.DataFrame
    at_times: pd.DataFrame
    events: pd.DataFrame
    conf_type: str

    def curve_table(self, step_days: int = 7, min_at_risk: int = 10, max_days: int | None = None) -> pd.DataFrame:
        return _curve_table(self.curves, ["cif", "lower", "upper"], step_days, min_at_risk, max_days,
                            keys=("profile", "cause"), before=0.0)

    def to_dict(self) -> dict:
        out: dict = {}
        for (prof, cause), g in self.at_times.groupby(["profile", "cause"], sort=False):
            out.setdefault(prof, {})[cause] = {str(int(d)): {"cif": c, "lower": lo, "upper": up}
                                               for d, c, lo, up in g[["day", "cif", "lower", "upper"]].itertuples(index=False)}
        return {"by": self.by, "conf_type": self.conf_type, "by_profile": out}


def incidence_by_profile(fu: pd.DataFrame, profile: pd.Series, times: tuple[int, ...] = DAY_TIMES,
                         alpha: float = 0.05, conf_type: str = "log") -> CIFResult:
    """Aalen-Johansen cumulative incidence of unplanned ending, planned change and leaving care,
    by profile, with the robust (IJ) variance clustered by child (survival_engine: tied times of
    different causes are simultaneous events, as in R; no jittering). Endings of unknown cause are
    endings: where there are any they are a fourth competing ending ("Ending of unknown cause"), so
    the curves and the share still running still add up to one; their causes are imputed in the Cox
    models (and the imputed cumulative incidence is in the result's unknown-cause section)."""
    prof = profile.reindex(fu.index)
    sub = fu.loc[prof.notna()]
    prof = prof.loc[sub.index]
    T = sub[TIME].to_numpy(dtype=float)
    cause = sub[CAUSE].to_numpy()
    cluster = sub[CLUSTER].to_numpy()
    curves, at, events = [], [], []
    z_times = np.asarray(times, dtype=float)
    causes = dict(CAUSES)
    if (cause == UNKNOWN_CAUSE).any():
        causes[UNKNOWN_CAUSE] = codes.UNKNOWN
    for level in _levels(prof):
        m = (prof == level).to_numpy()
        ci = cumulative_incidence(T[m], cause[m], cluster=cluster[m], conf_type=conf_type, conf_int=1 - alpha)
        t = ci["time"].to_numpy()
        row = {"profile": str(level), "placements": int(m.sum())}
        for code, name in causes.items():
            row[name] = int((cause[m] == code).sum())
            if f"cif_{code}" not in ci:
                cif = lo = up = np.zeros(len(t))
            else:
                cif = ci[f"cif_{code}"].to_numpy()
                lo = ci[f"lower_{code}"].fillna(ci[f"cif_{code}"]).to_numpy()
                up = ci[f"upper_{code}"].fillna(ci[f"cif_{code}"]).to_numpy()
            label = CAUSE_LABELS[name]
            curves.append(pd.DataFrame({"profile": str(level), "cause": label, "time": t, "cif": cif,
                                        "lower": lo, "upper": up, "n_risk": ci["n_risk"].to_numpy()}))
            followed = z_times <= T[m].max()
            at.append(pd.DataFrame({"profile": str(level), "cause": label, "day": z_times.astype(int),
                                    "cif": np.where(followed, _step_at(t, cif, z_times, 0.0), np.nan),
                                    "lower": np.where(followed, _step_at(t, lo, z_times, 0.0), np.nan),
                                    "upper": np.where(followed, _step_at(t, up, z_times, 0.0), np.nan)}))
        row[codes.UNKNOWN] = int((cause[m] == UNKNOWN_CAUSE).sum())
        row[codes.OPEN] = int((cause[m] == CENSORED).sum())
        events.append(row)
    return CIFResult(by=str(profile.name), curves=pd.concat(curves, ignore_index=True),
                     at_times=pd.concat(at, ignore_index=True), events=pd.DataFrame(events), conf_type=conf_type)


# --------------------------------------------------------------------------------------------
# Tables combining the estimators (what the report shows per profile)
# --------------------------------------------------------------------------------------------

def profile_summary(any_ending: KMResult, unplanned: KMResult, incidence: CIFResult, day: int = YEAR) -> pd.DataFrame:
    """One row per profile: placements, unplanned endings, median placement duration (any ending)
    with CI, placement survival at `day` (any ending, KM), survival free of unplanned ending at
    `day` (KM, other endings censored: cause-specific) and the cumulative incidence of an unplanned
    ending by `day` (Aalen-Johansen: the proportion of placements that ended unplanned)."""
    a = any_ending.summary.set_index("profile")
    u = unplanned.summary.set_index("profile")
    cif = incidence.at_times
    cif = cif.loc[(cif["day"] == day) & (cif["cause"] == CAUSE_LABELS[codes.UNPLANNED])].set_index("profile")
    out = pd.DataFrame({
        "placements": a["placements"], "unplanned_endings": u["events"],
        "median_days": a["median_days"], "median_lower": a["median_lower"], "median_upper": a["median_upper"],
        "surv_any_1y": a["surv_1y"], "surv_any_1y_lower": a["surv_1y_lower"], "surv_any_1y_upper": a["surv_1y_upper"],
        "free_of_unplanned_1y": u["surv_1y"], "free_of_unplanned_1y_lower": u["surv_1y_lower"],
        "free_of_unplanned_1y_upper": u["surv_1y_upper"],
        "median_to_unplanned_days": u["median_days"],
        "cif_unplanned_1y": cif["cif"], "cif_unplanned_1y_lower": cif["lower"], "cif_unplanned_1y_upper": cif["upper"]})
    out.index.name = "profile"
    return out.reset_index()


def grid_table(incidence: CIFResult, day: int = YEAR, cause: str = codes.UNPLANNED) -> pd.DataFrame:
    """Cumulative incidence of `cause` by `day` in each cell of the intensity x frequency grid
    (profiles named "<intensity> x <frequency>"), with the cell's placements."""
    c = incidence.at_times
    c = c.loc[(c["day"] == day) & (c["cause"] == CAUSE_LABELS[cause])]
    n = incidence.events.set_index("profile")["placements"]
    parts = c["profile"].str.split(" x ", n=1, expand=True)
    return pd.DataFrame({"peak_intensity": parts[0].to_numpy(), "peak_frequency": parts[1].to_numpy(),
                         "placements": n.reindex(c["profile"]).to_numpy(), "cif": c["cif"].to_numpy(),
                         "lower": c["lower"].to_numpy(), "upper": c["upper"].to_numpy()})
