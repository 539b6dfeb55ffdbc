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


def power_text(shown: dict, extract_date: pd.Timestamp) -> str:
    """Events, the national scale and the headline domain's spread, under the power section's heading."""
    r = _plain(shown)
    m = r["mdhr_80"]
    return (f"{_n(r['events_with_needs'])} unplanned endings among {_n(r['placements_with_needs'])} placements with needs "
            f"and capability data; {_n(r['looked_after_on_extract'])} children looked after on {extract_date:%d %B %Y}, "
            f"so England ≈ {m['national_scale']:.1f} × this data. Headline domain: **{m['covariate']}** "
            f"(σ = {m['sd']:.2f}, ρ² = {m['rho2']:.2f}, so σ√(1−ρ²) = {m['effective_sd_hsieh_lavori']:.3f}; "
            f"observed information {m['effective_sd_observed']:.3f}). Method used: **{m['method']}**.")


def simulation_text(table: pd.DataFrame, replicates: int) -> str:
    """How far the simulated power lies from each analytic formula (published simulated_power table)."""
    txt = (f"{replicates} replicates a setting (Monte Carlo SE up to {table['mc_se'].max():.3f}). "
           "Simulated minus analytic power: ")
    for col, lab in [("analytic_power", "Hsieh–Lavori"), ("analytic_power_observed", "observed information")]:
        if table[col].notna().all():
            diff = table["power"] - table[col]
            within = int((diff.abs() <= 2 * table["mc_se"].clip(lower=0.01)).sum())
            txt += f"{lab} mean {diff.mean():+.3f}, largest {diff.abs().max():.3f} ({within} of {len(table)} within 2 MC SE); "
    return txt.rstrip("; ") + ". A positive difference means the formula is conservative."


def false_positive_text(null: pd.DataFrame, alpha: float) -> str:
    """The Wald test's rejection rate with no effect (published simulated_false_positives table)."""
    rate = null["rejection_rate"].tolist()
    return (f"With **no** effect, the test is 'significant' in {pct(rate[0])} of one-year and {pct(rate[1])} "
            f"of two-year datasets of the median council (nominal {alpha:.0%}): with few events and many covariates the "
            "Wald test's false-positive rate runs above the nominal one, so part of the small-council 'power' above is "
            "false positives, and a significant result from one council's year of data deserves little weight.")


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
