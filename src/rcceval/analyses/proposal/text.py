"""The sentences of report 04 (the dataset proposal), written from the published numbers.

Each function takes what `Publisher.publish` returned (protected headlines and tables), so a
suppressed count stays "c" in the text as in the tables.
"""
from __future__ import annotations

import pandas as pd

from rcceval.reporting.results import serialise


def pct(x) -> str:
    """A share as a percentage ("–" when missing, "c" when suppressed)."""
    if isinstance(x, str):
        return x
    return "–" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def _n(x) -> str:
    return x if isinstance(x, str) else f"{x:,}"


def _plain(shown: dict) -> dict:
    return serialise({k: v for k, v in shown.items() if not isinstance(v, pd.DataFrame)})


def _deff_phrase(m: dict) -> str:
    deff = m.get("design_effect", 1.0)
    src = m.get("design_effect_source", "not estimated (1)")
    if deff is None or src.startswith("not estimated"):
        return "no design effect could be estimated, so the figures take placements as independent (design effect 1)"
    return (f"design effect {deff:.2f} ({src}): the naive variance is multiplied by it, so every minimum detectable "
            f"log HR is {deff ** 0.5:.2f} times the independent one")


def _multiplicity_phrase(m: dict) -> str:
    mu = m.get("multiplicity") or {}
    if mu.get("method") == "holm":
        return (f"{mu['family_size']} need terms are tested, so the family-wise error is held at "
                f"{mu['family_wise_alpha']:.0%} by Holm's step-down test and each term is powered at "
                f"α/{mu['family_size']} = {mu['alpha_per_term']:.4f} (Holm's first step: the conservative power)")
    if mu:
        return f"each of the {mu['family_size']} need terms is powered at α = {mu['alpha_per_term']:.3g} (no multiplicity adjustment)"
    return f"each term at α = {m['alpha']:.3g}"


def power_text(shown: dict, extract_date: pd.Timestamp) -> str:
    """Events, the national scale, the headline domain's spread, the design effect and the multiplicity rule."""
    r = _plain(getattr(shown, "headlines", shown))   # mdhr_80 is also a table's name: the headline
    m = r["mdhr_80"]
    return (f"{_n(r['events_with_needs'])} unplanned endings among {_n(r['placements_with_needs'])} placements with needs "
            f"and capability data; {_n(r['looked_after_on_extract'])} children looked after on {extract_date:%d %B %Y}, "
            f"so England ≈ {m['national_scale']:.1f} × this data. Headline domain: **{m['covariate']}** "
            f"(σ = {m['sd']:.2f}, ρ² = {m['rho2']:.2f}, so σ√(1−ρ²) = {m['effective_sd_hsieh_lavori']:.3f}; "
            f"observed information {m['effective_sd_observed']:.3f}). Method used: **{m['method']}**; "
            f"{_deff_phrase(m)}. Multiplicity: {_multiplicity_phrase(m)}.")


def simulation_text(table: pd.DataFrame, replicates: int, clustering: dict | None = None) -> str:
    """How far the simulated power lies from each analytic formula (published simulated_power table)."""
    txt = ""
    if clustering:
        txt = (f"Simulated with {clustering['placements_per_child']} placements a child (sharing needs and a gamma "
               f"frailty of variance {clustering['child_frailty_var']:g}) and a log-normal council frailty "
               f"(sd {clustering['council_frailty_sd']:g}); each replicate tested with the robust variance clustered "
               f"by child. ")
        if "power_naive" in table and table["power_naive"].notna().all():
            txt += (f"Naive SEs would claim {table['power_naive'].mean() - table['power'].mean():+.3f} more power on "
                    f"average (simulated design effect {table['design_effect_simulated'].median():.2f}). ")
    txt += (f"{replicates} replicates a setting (Monte Carlo SE up to {table['mc_se'].max():.3f}). "
            "Simulated minus analytic power: ")
    for col, lab in [("analytic_power", "Hsieh–Lavori"), ("analytic_power_observed", "observed information")]:
        if table[col].notna().all():
            diff = table["power"] - table[col]
            within = int((diff.abs() <= 2 * table["mc_se"].clip(lower=0.01)).sum())
            txt += f"{lab} mean {diff.mean():+.3f}, largest {diff.abs().max():.3f} ({within} of {len(table)} within 2 MC SE); "
    return txt.rstrip("; ") + ". A positive difference means the formula is conservative."


def _binomial_bound(alpha: float, replicates: int) -> tuple[float, float]:
    from rcceval.analyses.proposal.power import binomial_bound

    return binomial_bound(alpha, replicates)


def false_positive_text(null: pd.DataFrame, alpha: float, replicates: int) -> str:
    """The Wald test's rejection rate with no effect (published simulated_false_positives table), judged
    against alpha +- 3 binomial Monte Carlo SEs."""
    lo, hi = _binomial_bound(alpha, replicates)
    rate = [r for r in null["rejection_rate"].tolist()]
    years = [f"{y:g}" for y in null.index.get_level_values("years")] if "years" in null.index.names else \
        [str(i + 1) for i in range(len(rate))]

    def verdict(rates: list) -> str:
        if any(isinstance(x, str) for x in rates):
            return "not shown (suppressed)"
        above = [y for y, x in zip(years, rates) if x > hi]
        below = [y for y, x in zip(years, rates) if x < lo]
        if above:
            return f"above the bound with {', '.join(above)} year(s) of data: the test over-rejects"
        if below:
            return f"below the bound with {', '.join(below)} year(s) of data: the test is conservative"
        return "within the bound: the test holds its level"

    out = (f"With **no** effect, the test used is 'significant' in "
           f"{', '.join(f'{pct(x)} ({y} yr)' for x, y in zip(rate, years))} of the median council's datasets "
           f"(nominal {alpha:.0%}; {replicates} replicates put a calibrated test within {pct(lo)}–{pct(hi)}, ±3 Monte "
           f"Carlo SE): {verdict(rate)}.")
    if "rejection_rate_naive" in null:
        naive = null["rejection_rate_naive"].tolist()
        out += (f" Ignoring the clustering (naive SEs) it would be {', '.join(pct(x) for x in naive)}: "
                f"{verdict(naive)}.")
    return out


def _first_years(by_years: dict, reference_hr: float) -> str:
    """The fewest years (of those shown) whose minimum detectable HR is at or below reference_hr."""
    ok = [int(k) for k, v in sorted(by_years.items(), key=lambda kv: int(kv[0]))
          if isinstance(v, (int, float)) and v <= reference_hr]
    if not ok:
        return "not within 5 years"
    return f"with {ok[0]} year{'s' if ok[0] > 1 else ''}"


def conclusions_text(shown_power: dict | None, reference_hr: float, field_table: pd.DataFrame | None = None,
                     field_alpha: float = 0.05, secured: dict | None = None, second_best: dict | None = None) -> str:
    """The report's conclusions as bullets, each written from the numbers above it (nothing fixed).

    reference_hr: the effect per point that is to be detected (the simulation's); field_table: question 1's
    drop-one table (delta_auc, ci_low, ci_high, wald_p, title by field); secured / second_best: the
    published headlines of those sections."""
    from rcceval.analyses.proposal.fields import ALL_DOMAINS, MISMATCH_ROW
    from rcceval.analyses.proposal.power import holm_reject

    bullets = []
    if shown_power is not None:
        m = _plain(getattr(shown_power, "headlines", shown_power))["mdhr_80"]
        units = [("council_smallest", "the smallest council"), ("council_median", "the median council"),
                 ("council_largest", "the largest council"), ("region", "the pooled region"), ("national", "England")]
        reach = "; ".join(f"{lab} {_first_years(m.get(k, {}), reference_hr)}" for k, lab in units if m.get(k))
        one = m.get("council_median", {}).get("1")
        bullets.append(f"**Size**: an effect of HR {reference_hr:g} per point of {m['covariate']} is detected with "
                       f"{m['target_power']:.0%} power (design effect and multiplicity included) by {reach}. "
                       + (f"One year of the median council's data detects only HR ≥ {one:.2f}." if
                          isinstance(one, (int, float)) else ""))
    if field_table is not None and len(field_table):
        single = field_table.drop(index=[ALL_DOMAINS, MISMATCH_ROW], errors="ignore")
        gain = single[single["ci_low"] > 0].sort_values("delta_auc", ascending=False)
        holm = single[holm_reject(single["wald_p"].fillna(1.0).to_numpy(), field_alpha)] if len(single) else single
        txt = ("**Fields**: " + (f"the domains whose drop-one AUC gain has an interval above zero: "
                                 f"{', '.join(gain['title'])}. " if len(gain) else
                                 "no single domain's drop-one AUC gain has an interval above zero. "))
        txt += (f"After Holm's correction over the {len(single)} domains (family-wise {field_alpha:.0%}), the robust "
                f"Wald test singles out {', '.join(holm['title']) if len(holm) else 'none'}.")
        if MISMATCH_ROW in field_table.index:
            r = field_table.loc[MISMATCH_ROW]
            txt += (f" Mismatch (the capability fields) adds {r['delta_auc']:.3f} to the AUC (95% CI "
                    f"{r['ci_low']:.3f}–{r['ci_high']:.3f}): "
                    + ("worth collecting." if r["ci_low"] > 0 else "its interval includes no gain."))
        bullets.append(txt)
    if secured is not None:
        sp = _plain(secured)["secured_placements"]
        n = sp["counts"]["with_request"]
        if n == 0:
            bullets.append("**Placement requests**: none in the data, so whether the placement wanted was secured "
                           "cannot be measured without them.")
        else:
            value = _share(sp["preferred_type_secured"])[0]
            txt = f"**Placement requests**: of {_n(n)} placements with a request, {value} were of the preferred type"
            if second_best is not None:
                r = _plain(second_best)["second_best_hr"]
                hr = r["hr"]
                excl = hr["lower"] > 1 or hr["upper"] < 1
                txt += (f"; a second-best placement's hazard ratio of an unplanned ending is {hr['value']:.2f} "
                        f"(95% CI {hr['lower']:.2f}–{hr['upper']:.2f}), "
                        + ("an association the interval supports" if excl else "an interval that includes no difference"))
            bullets.append(txt + ".")
    return "\n".join(f"- {b}" for b in bullets) if bullets else "No conclusions: the sections above did not run."


def field_value_source(reused: bool) -> str:
    return ("*Question 1's drop-one results, as report 01 computed them in this run.*" if reused else
            "*Question 1's models fitted here with report 01's settings (report 01 did not run first).*")


def field_value_text(table: pd.DataFrame, ranking: pd.DataFrame) -> str:
    """Which domains add to the AUC (interval above zero) and what all domains and mismatch add."""
    from rcceval.analyses.proposal.fields import ALL_DOMAINS, MISMATCH_ROW

    top = ranking.index[ranking["ci_low"] > 0][:3].tolist()
    weak = ranking.index[ranking["ci_low"] <= 0].tolist()
    return ((f"The domains adding most (interval above zero): {', '.join(ranking.loc[top, 'title'])}. " if top else
             "No single domain adds to the AUC beyond the others (every interval includes zero). ")
            + (f"Adding little (interval includes no gain): {', '.join(ranking.loc[weak, 'title'])}. " if weak else "")
            + f"All domains together raise the AUC by {table.loc[ALL_DOMAINS, 'delta_auc']:.3f}; mismatch adds "
              f"{table.loc[MISMATCH_ROW, 'delta_auc']:.3f} more.")


def _share(h: dict) -> tuple[str, str, str]:
    s = h["share"]
    return pct(s.get("value")), pct(s.get("lower")), pct(s.get("upper"))


def secured_text(shown: dict) -> str:
    """The region-wide shares of the type secured and of the preferred location met."""
    r = _plain(shown)["secured_placements"]
    if r["counts"]["with_request"] == 0:
        return "No placement requests in the data: these measures need them (placement_requests.csv)."
    value, lo, hi = _share(r["preferred_type_secured"])
    of = r["preferred_type_secured"]["share"]["total"]
    ci = "" if value == "c" else f" (95% CI {lo}–{hi})"
    return (f"Of {_n(of)} placements with a request, **{value}**{ci} were of the preferred type; "
            f"{_share(r['suitable_not_preferred'])[0]} suitable but not preferred; {_share(r['unsuitable'])[0]} of a "
            f"type the request called unsuitable. The preferred location was met for "
            f"{_share(r['preferred_location_met'])[0]}.")


def second_best_text(shown: dict) -> str:
    r = _plain(shown)["second_best_hr"]
    hr = r["hr"]
    return (f"A second-best placement has **{hr['value']:.2f}** times the hazard of an unplanned ending (95% CI "
            f"{hr['lower']:.2f}–{hr['upper']:.2f}, p = {r['p']:.3g}), adjusted for needs and mismatch; "
            f"{_n(r['n'])} placements, {_n(r['events'])} unplanned endings.")
