"""The plain-language conclusion of question 1, written from the numbers (never typed into a notebook).

Every sentence is chosen by what the intervals show, so the same code says "improved" on data where
the needs effect is there and "no clear evidence" on data generated with none.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rcceval.analyses.prediction.data import domain_of
from rcceval.reporting.results import serialise

LABELS = {"I": "intensity", "F": "frequency", "S": "score"}


def fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def term_label(term: str) -> str:
    """I_behaviour -> 'behaviour (intensity)'; MISMATCH -> 'mismatch'."""
    if term[1:2] == "_" and term[0] in LABELS:
        return f"{domain_of(term).replace('_', ' ')} ({LABELS[term[0]]})"
    return term.lower().replace("_", " ")


def _chi2(t: dict) -> str:
    return f"χ² = {t['statistic']:.1f} on {t['df']} df, {fmt_p(t['p'])}"


def tests_sentence(what: str, lr: dict, wald: dict, alpha: float = 0.05) -> str:
    """The lead sentence on incremental value: the likelihood-ratio and cluster-robust Wald tests of the
    added terms (Pepe et al. 2013: the valid tests for nested models), chosen by what both say."""
    both = f"likelihood ratio {_chi2(lr)}; cluster-robust Wald (by child) {_chi2(wald)}"
    lr_rej, wald_rej = lr["p"] < alpha, wald["p"] < alpha
    if lr_rej and wald_rej:
        return f"{what[0].upper() + what[1:]} improved the model of unplanned endings ({both})."
    if lr_rej or wald_rej:
        which = "likelihood-ratio" if lr_rej else "cluster-robust Wald"
        other = "cluster-robust Wald" if lr_rej else "likelihood-ratio"
        return (f"The evidence that {what} improved the model is mixed: the {which} test rejects no added value "
                f"but the {other} test does not ({both})"
                + ("; the Wald test allows for placements of one child being related." if lr_rej else "."))
    return f"There is no clear evidence that {what} improved the model of unplanned endings ({both})."


def _delta_phrase(d: dict) -> str:
    return f"ΔAUC {d['value']:+.3f}, 95% CI {d['lower']:+.3f} to {d['upper']:+.3f}"


def _verdict(d: dict, what: str) -> str:
    """A clause (first letter capitalised) saying what the ΔAUC interval shows."""
    text = _verdict_text(d, what)
    return text[0].upper() + text[1:]


def _verdict_text(d: dict, what: str) -> str:
    if d["lower"] > 0:
        return f"{what} improved how well unplanned endings were ranked out of sample ({_delta_phrase(d)})"
    if d["upper"] < 0:
        return (f"{what} did not improve discrimination: out of sample it was slightly worse ({_delta_phrase(d)}), "
                "as happens when added terms carry no signal and only cost precision")
    return (f"there is no clear evidence that {what} improved discrimination out of sample ({_delta_phrase(d)}; "
            "the interval includes 0)")


def _n(x) -> str:
    """A published count: "c" when suppressed, else with thousands separators."""
    return x if isinstance(x, str) else f"{x:,}"


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def coverage_sentence(shown: dict) -> str:
    """The sample line under the coverage table, from the published headlines."""
    res = serialise(shown)
    return (f"{_n(res['n_placements'])} placements of {_n(res['n_children'])} children in {res['n_councils']} "
            f"council(s), {_n(res['n_person_periods'])} person-period rows in {res['n_intervals']} intervals.")


def conclusion(shown: dict) -> str:
    """A few paragraphs of Markdown from what report 01 published (`Publisher.publish(StabilityResult)`):
    protected headlines and tables, so a suppressed count stays "c" in the text too."""
    res = serialise({k: v for k, v in shown.items() if not isinstance(v, pd.DataFrame)})
    effects, coverage, calibration = (shown.get(k) for k in ("hazard_ratios_needs", "coverage", "calibration"))
    h = res["horizon_days"]
    out = []
    known, unplanned = res["n_known_at_horizon"], res["n_unplanned_within_horizon"]
    share = (f" ({100 * unplanned / max(known, 1):.1f}% of those whose status at {h} days is known)"
             if not isinstance(known, str) and not isinstance(unplanned, str) else "")
    out.append(
        f"**{_n(res['n_placements'])} placements of {_n(res['n_children'])} children** in {res['n_councils']} "
        f"council(s) had a needs assessment in force at the start and were analysed; "
        f"{_n(unplanned)} ended unplanned within {h} days{share}.")
    if coverage is not None:
        row = coverage.set_index("reason")
        placements = _num(row["placements"])
        missing = placements[row.index.str.startswith("no needs")].sum()
        if missing:
            total = placements.sum()
            pm = _num(row.loc[row.index.str.startswith("no needs"), "pct_unplanned"]).iloc[0]
            pa = _num(row["pct_unplanned"]).loc["analysed"]
            out[-1] += (f" {int(missing):,} placements ({100 * missing / total:.1f}%) had no assessment in force and "
                        f"were left out: {pm:.1f}% of them ended unplanned within {h} days, against {pa:.1f}% of "
                        "those analysed" + (", so the missing needs data looks selective." if abs(pm - pa) > 3 else ".")
                        if np.isfinite(pm) and np.isfinite(pa) else " (their outcome counts are suppressed).")
    d10, d21 = res["delta_auc_m1_m0"], res["delta_auc_m2_m1"]
    lr10, lr21 = res["lr_test_m1_m0"], res["lr_test_m2_m1"]
    out.append(
        "**Incremental value, by the tests of the added terms** (for nested models these, not a ΔAUC test, are "
        "the valid tests of no added value; Pepe et al. 2013). "
        + tests_sentence(f"adding the {lr10['df']} need-domain terms to what the 903 holds", lr10,
                         res["wald_robust_m1_m0"]) + " On top of the needs, "
        + tests_sentence("adding mismatch", lr21, res["wald_robust_m2_m1"]).replace("There is", "there is", 1))
    method = res.get("bootstrap_method") or "child bootstrap"
    out.append(
        f"**Discrimination, out of fold.** Using what the 903 already holds, the cross-validated AUC was "
        f"**{res['auc_m0']['value']:.3f}**; with the need domains it was **{res['auc_m1']['value']:.3f}**, and with "
        f"mismatch as well **{res['auc_m2']['value']:.3f}**. {_verdict(d10, 'adding the need domains')}; on top of "
        f"the needs, {_verdict_text(d21, 'adding mismatch')}. Intervals: {res['bootstrap']} replicates of a "
        f"{method}.")
    drops = res.get("drop_one_delta_auc", {})
    helped = sorted(((v["value"], k, v) for k, v in drops.items() if v["lower"] > 0), reverse=True)
    if helped:
        names = ", ".join(f"{k.replace('_', ' ')} ({v['value']:+.4f})" for _, k, v in helped)
        rest = len(drops) - len(helped)
        out.append(f"Leaving one domain out of M1 at a time, the AUC fell measurably (interval above 0) without "
                   f"{names}" + (f"; the other {rest} domain(s) added no measurable discrimination on their own."
                                 if rest else "."))
    elif drops:
        out.append("No single domain, removed on its own, lowered the AUC measurably.")
    if effects is not None and len(effects):
        m2 = effects.xs("M2", level="model") if "M2" in effects.index.get_level_values("model") else effects
        sig = m2[(m2["ci_low"] > 1) | (m2["ci_high"] < 1)].sort_values("hr", ascending=False)
        if len(sig):
            parts = [f"{term_label(t)} HR {r['hr']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})"
                     for t, r in sig.head(5).iterrows()]
            out.append("Per point on the 0–3 scales (per point of mismatch summed over domains), the hazard "
                       "ratios of an unplanned ending whose 95% intervals exclude 1 were: " + "; ".join(parts) + ".")
        else:
            out.append("No needs or mismatch hazard ratio had a 95% interval excluding 1.")
    if calibration is not None and len(calibration):
        c = calibration[calibration["model"] == "M2"]
        w = _num(c["placements"]).fillna(0.0)   # a suppressed tenth counts for nothing in the average
        pred, obs = (c["predicted"] * w).sum() / w.sum(), (c["observed"] * w).sum() / w.sum()
        outside = int(((c["predicted"] < c["observed_ci_low"]) | (c["predicted"] > c["observed_ci_high"])).sum())
        out.append(f"M2's predicted risks averaged {100 * pred:.1f}% against {100 * obs:.1f}% observed; in {outside} of "
                   f"{len(c)} tenths of predicted risk the prediction lay outside the observed 95% interval"
                   + (", so its risks can be read as probabilities." if outside <= 2 else
                      ": read its risks as a ranking rather than as probabilities."))
    cfu = res.get("complete_follow_up", {})
    if "lr_test_m1_m0" in cfu:
        agree = (cfu["lr_test_m1_m0"]["p"] < 0.05) == (lr10["p"] < 0.05)
        out.append(f"The complete-follow-up sensitivity analysis (logistic, {_n(cfu['n_placements'])} placements started "
                   f"at least {h} days before the extract) {'agrees' if agree else 'does not agree'}: "
                   f"likelihood ratio for the domains {fmt_p(cfu['lr_test_m1_m0']['p'])}.")
    ratio = res.get("council_ci_width_vs_pooled_median")
    if ratio is not None and np.isfinite(ratio) and res["n_councils"] > 1:
        out.append(f"A council analysing its own placements alone would get a confidence interval for the needs "
                   f"effect a median **{ratio:.1f} times** as wide as the pooled region's: the small-numbers "
                   "problem councils describe, and the case for pooling needs data across a region.")
    return "\n\n".join(out)


def baseline_text(shown: dict) -> str:
    """What the 903-only baseline (M0) shows, from its published headlines (a suppressed count stays "c")."""
    res = serialise({k: v for k, v in shown.items() if not isinstance(v, pd.DataFrame)})
    auc = res["baseline_auc"]
    if not isinstance(auc, dict):
        return "The baseline's AUC is suppressed (too few placements)."
    lead = ("well" if auc["lower"] > 0.7 else "moderately" if auc["lower"] > 0.6 else "weakly"
            if auc["lower"] > 0.5 else "no better than chance")
    return (f"**{_n(res['baseline_placements'])} placements** were analysed with what the 903 holds; "
            f"{_n(res['baseline_unplanned_within_horizon'])} ended unplanned within the horizon. Out of fold, M0 "
            f"ranks them {lead}: cross-validated AUC {auc['value']:.3f} (95% CI {auc['lower']:.3f} to "
            f"{auc['upper']:.3f}; 0.5 is chance). This is the bar needs data has to clear.")


def detectable_text(shown: dict, target: float) -> str:
    """The smallest needs effect the 903's own events would detect, pooled, for 1 and 5 years of data."""
    res = serialise({k: v for k, v in shown.items() if not isinstance(v, pd.DataFrame)})
    mdhr = res[f"mdhr_per_sd_needs_score_{target:.0%}_power"]
    one, five = mdhr.get("1 years"), mdhr.get("5 years")
    return (f"With the unplanned endings in this data, a needs score would have to carry a hazard ratio of at "
            f"least **{one:.2f} per standard deviation** (one year of placements, all councils pooled) or "
            f"{five:.2f} (five years) to be detected with {target:.0%} power; a single council needs larger "
            f"effects still (table: minimum detectable HR per standard deviation, by council and years of data).")
