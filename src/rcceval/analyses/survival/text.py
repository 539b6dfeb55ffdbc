"""Question 2's narrative, written from the numbers of a SurvivalResult (never in the notebook)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rcceval.analyses.survival.result import SurvivalResult, needs_covariates
from rcceval.reporting.results import Test


def pct(x: float | None) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def hr_text(r) -> str:
    """'1.23 (1.10–1.37)' from a summary row with hr, hr_lower, hr_upper."""
    return f"{r.hr:.2f} ({r.hr_lower:.2f}–{r.hr_upper:.2f})"


def _ph_sentence(r: SurvivalResult) -> str:
    failing = r.main.ph_failing
    return ("proportional hazards hold (no covariate fails R's cox.zph test after the Holm adjustment)." if not failing
            else f"proportional hazards fail for {', '.join(failing)} (handled below).")


def headlines(r: SurvivalResult) -> str:
    """The headline bullets: incidence by profile, medians, the covariates associated with the highest
    hazard, concordance. Associations only: the models adjust for what the 903 (and the needs data) hold."""
    if getattr(r, "profile_name", "need tier") != "need tier":
        return headlines_903(r)
    t = r.by_tier.set_index("profile")
    s = r.main.summary
    needs_hr = s.loc[needs_covariates(s)].drop(index="MISMATCH", errors="ignore")
    top = needs_hr.loc[needs_hr["p"] < 0.05].sort_values("hr", ascending=False).head(3)
    lines = [
        f"- Within a year, **{pct(t['cif_unplanned_1y'].iloc[-1])}** of placements of children with "
        f"{t.index[-1].lower()} needs ended unplanned, against **{pct(t['cif_unplanned_1y'].iloc[0])}** for "
        f"{t.index[0].lower()} needs (cumulative incidence); median placement duration "
        + ", ".join(f"{k.lower()} {v:.0f} days" for k, v in t["median_days"].items() if pd.notna(v)) + ".",
        f"- Each point of **mismatch** (need intensity above what the placement can meet) is associated with a "
        f"hazard ratio of an unplanned ending of **{hr_text(s.loc['MISMATCH'])}**, adjusted for needs and the 903 "
        f"covariates." if "MISMATCH" in s.index else
        "- No mismatch term: the placements' capability is not known (no provider register or agreements).",
        "- The needs associated with the highest hazard, per point: "
        + ("; ".join(f"{c} {hr_text(row)}" for c, row in top.iterrows()) or "none significant") + ".",
        f"- The model ranks placements by their risk of an unplanned ending with concordance "
        f"**{r.main.concordance:.2f}**; " + _ph_sentence(r),
    ]
    return "\n".join(lines)


def headlines_903(r: SurvivalResult) -> str:
    """The headline bullets on the 903 alone: incidence and medians by placement type, the 903
    covariates associated with the highest and lowest hazard, concordance."""
    t = r.by_tier.set_index("profile")
    cif = t["cif_unplanned_1y"].dropna()
    hi, lo = cif.idxmax(), cif.idxmin()
    s = r.main.summary
    sig = s.loc[s["p"] < 0.05]
    up = sig.loc[sig["hr"] > 1].sort_values("hr", ascending=False).head(3)
    down = sig.loc[sig["hr"] < 1].sort_values("hr").head(3)
    lines = [
        f"- Within a year, **{pct(cif[hi])}** of {hi} placements ended unplanned, against **{pct(cif[lo])}** of "
        f"{lo} placements (cumulative incidence); median placement duration "
        + ", ".join(f"{k} {v:.0f} days" for k, v in t["median_days"].items() if pd.notna(v)) + ".",
        "- Associated with a higher hazard of an unplanned ending (hazard ratio, 95% CI, adjusted for the other 903 "
        "covariates): " + ("; ".join(f"{c} {hr_text(row)}" for c, row in up.iterrows()) or "none significant") + ".",
        "- Associated with a lower hazard: "
        + ("; ".join(f"{c} {hr_text(row)}" for c, row in down.iterrows()) or "none significant") + ".",
        f"- The 903 covariates rank placements by their risk of an unplanned ending with concordance "
        f"**{r.main.concordance:.2f}**; " + _ph_sentence(r),
    ]
    return "\n".join(lines)


def tier_tests(unplanned: dict[str, Test], any_ending: dict[str, Test], profile: str = "need tier") -> str:
    """The log-rank and clustered tests of equal hazards across profiles (need tiers, or placement types)."""
    lr, rob, la = unplanned["logrank"], unplanned["robust_test"], any_ending["logrank"]
    return (f"Equal hazards of an unplanned ending across {profile}s: log-rank χ² = {lr.statistic:.1f} on {lr.df} df, "
            f"p {p_text(lr.p)}. The log-rank test treats placements as independent; the same hypothesis tested "
            f"within councils with a variance clustered by child gives χ² = {rob.statistic:.1f} on {rob.df} df, "
            f"p {p_text(rob.p)}. Any ending: log-rank χ² = {la.statistic:.1f}, p {p_text(la.p)}.")


def model_fit(r: SurvivalResult) -> str:
    """Size and fit of the main model."""
    m = r.main
    return (f"{m.n:,} placements of {m.n_clusters:,} children in {m.n_strata} council(s), {m.n_events:,} unplanned "
            f"endings. Concordance (Harrell's C within councils) **{m.concordance:.3f}**; likelihood ratio test "
            f"against no covariates χ² = {m.lr_test['statistic']:.0f} on {m.lr_test['df']} df; AIC {m.aic:,.0f}.")


def proportional_hazards(r: SurvivalResult) -> str:
    """The global cox.zph test, and what fails (and its remedy) or the smallest p."""
    g, failing = r.main.ph_global, r.main.ph_failing
    text = f"Global test: χ² = {g.statistic:.1f} on {g.df} df, p = {g.p:.3f}. "
    if failing:
        return text + (f"**Proportional hazards fail** for {', '.join(failing)} (Holm-adjusted p < 0.05). "
                       f"Refitted: stratified by {', '.join(r.remedy['stratified_by']) or 'nothing'}; "
                       f"time-varying effects for {', '.join(r.remedy['time_varying']) or 'nothing'} (table below).")
    ph = r.main.ph.round(4).drop(index="GLOBAL")
    smallest = ph["p"].idxmin()
    return text + (f"No covariate fails after the Holm adjustment (smallest unadjusted p: {smallest}, "
                   f"p = {ph.loc[smallest, 'p']:.3f}), so the hazard ratios above are read as constant over follow-up.")


def requests_only(r: SurvivalResult) -> str:
    """The request-only sensitivity model beside the main model."""
    ro, m = r.requests_only, r.main
    sb = ro.summary.loc["SECOND_BEST"] if "SECOND_BEST" in ro.summary.index else None
    text = (f"Sensitivity analysis on the {ro.n:,} placements with a placement request ({ro.n_events:,} unplanned "
            f"endings; the main model: {m.n:,} placements, {m.n_events:,}); concordance {ro.concordance:.3f}.")
    if sb is not None:
        text += f" Second best is associated with a hazard ratio of {hr_text(sb)}."
    if "MISMATCH" in ro.summary.index and "MISMATCH" in m.summary.index:
        text += (f" The mismatch hazard ratio is {ro.summary.loc['MISMATCH', 'hr']:.2f} with second best in the model, "
                 f"{m.summary.loc['MISMATCH', 'hr']:.2f} in the main model.")
    return text


def time_varying(r: SurvivalResult) -> str:
    """How the hazard ratios move when needs are re-scored at reviews."""
    tvs, ms = r.time_varying.summary, r.main.summary
    rows = r.timing.index
    moved = (tvs.loc[rows, "coef"] - ms.loc[rows, "coef"]).abs().idxmax()
    return (f"{r.time_varying.notes[0]}. Re-scored at reviews, the mismatch hazard ratio is "
            f"{tvs.loc['MISMATCH', 'hr']:.2f} against {ms.loc['MISMATCH', 'hr']:.2f} with needs at the start; "
            f"the largest change is in {moved} ({ms.loc[moved, 'hr']:.2f} → {tvs.loc[moved, 'hr']:.2f}).")


def recovery(counts: dict) -> str:
    """How many generating values the intervals hold (recovery_counts)."""
    return (f"{counts['covered']} of {counts['of']} intervals hold the generating value (about "
            f"{0.05 * counts['of']:.1f} misses expected by chance); for the needs domains and mismatch "
            f"{counts['needs_and_mismatch_covered']} of {counts['needs_and_mismatch_of']}. "
            + (f"Missed: {', '.join(counts['not_covered'])}." if counts["not_covered"] else ""))


def unknown_causes(r: SurvivalResult) -> str:
    """How the endings of unknown cause were treated, and the sensitivity analysis, from the numbers."""
    u = r.unknown_cause
    if u is None or not u["in_model"]:
        n = 0 if u is None else u["followed"]
        return (f"{n:,} endings of unknown cause among the placements followed, none among the main model's "
                "placements: nothing to impute.")
    cif = r.unknown_cause_cif.set_index("treatment")
    imp, hi, lo = cif.loc["imputed"], cif.loc["all unplanned"], cif.loc["none unplanned"]
    text = (f"{u['followed']:,} placements ended with a cause the data cannot classify ({u['in_model']:,} in the main "
            f"model). They are endings, not censored: each cause was imputed {u['m']} times from the endings of known "
            f"cause given the model's covariates, the council and the time of the ending, and the fits pooled by "
            f"Rubin's rules. Share of placements ending unplanned within a year: **{pct(imp['cif'])}** "
            f"({pct(imp['lower'])}–{pct(imp['upper'])}) imputed; between **{pct(lo['cif'])}** (no unknown ending "
            f"unplanned) and **{pct(hi['cif'])}** (every one unplanned).")
    t = r.unknown_cause_table
    if "MISMATCH" in t.index:
        row = t.loc["MISMATCH"]
        text += (f" The mismatch hazard ratio is {row['imputed (main): hr']:.2f} imputed, "
                 f"{row['all unplanned: hr']:.2f} and {row['none unplanned: hr']:.2f} under the two bounds.")
    return text + (" Imputation assumes the chance that a cause is blank depends only on what the model holds; "
                   "the bounds show how far a blank that depends on the cause itself could move the estimates.")


def england_level(r: SurvivalResult, top: int = 3) -> str:
    """What may be said beyond these councils: for the needs terms with the strongest pooled association,
    the range a new council's hazard ratio would fall in (the prediction interval of the meta-analysis)."""
    c = getattr(r, "councils", None)
    if c is None or not len(c):
        return "Council heterogeneity not estimated (fewer than two councils with enough unplanned endings)."
    k = int(c["councils"].max())
    if c["pi_lower"].isna().all():
        return (f"Only {k} councils: too few for a prediction interval, so no statement beyond these councils "
                "is made.")
    rows = c.dropna(subset=["pi_lower"]).assign(dist=lambda t: np.abs(np.log(t["hr"])))
    rows = rows.sort_values("dist", ascending=False).head(top)
    parts = [f"{n} {row.hr:.2f}, in a new council {row.pi_lower:.2f}–{row.pi_upper:.2f} (τ² = {row.tau2:.3f})"
             for n, row in rows.iterrows()]
    return (f"Across {k} councils (each needs term refitted per council and pooled with a random effect), "
            f"the pooled hazard ratio and the 95% range for a council like these: " + "; ".join(parts) +
            ". An England-level reading uses these ranges, not the single-region intervals.")
