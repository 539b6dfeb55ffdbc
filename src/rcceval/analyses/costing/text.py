"""Question 3's narrative and by-profile headlines, written from the numbers (never in the notebook).

What is said about a need profile follows what the published (disclosure-protected) tables show: a
profile whose count the publisher hid is left out of every sentence and headline, so nothing the
tables hide comes back in prose. The notebook never looks at suppressed cells itself.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from rcceval.reporting.results import SUPPRESSED, Count, Estimate, Guarded

if TYPE_CHECKING:
    from rcceval.analyses.costing.result import CostingResult


def money(x: float | None) -> str:
    return "–" if x is None or pd.isna(x) else f"£{x:,.0f}" if x >= 0 else f"−£{-x:,.0f}"


def pct(x: float | None) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def interval(d: Any) -> str:
    """'£10 (−£5 to £20)' from an Estimate, or a dict with mean (or value), lower, upper."""
    if isinstance(d, Estimate):
        v, lo, up = d.value, d.lower, d.upper
    else:
        v, lo, up = d.get("value", d.get("mean")), d["lower"], d["upper"]
    return f"{money(v)} ({money(lo)} to {money(up)})"


def count(value: Any) -> str:
    """A published count: '1,234', or the suppression mark as it is."""
    value = value.value if isinstance(value, (Guarded, Count)) else value
    return value if isinstance(value, str) else f"{value:,}"


def hidden(value: Any) -> bool:
    """A published headline value the publisher suppressed (itself, or any part of it)."""
    if isinstance(value, Guarded):
        return hidden(value.value)
    if isinstance(value, dict):
        return any(hidden(v) for v in value.values())
    return isinstance(value, str) and value == SUPPRESSED


def headlines(r: CostingResult, shown: dict[str, Any]) -> str:
    """The headline bullets. r: the CostingResult; shown: its published (protected) headlines, so a
    profile the publisher hid is left out of every sentence."""
    sim, be, process_cost = r.simulation, r.break_even, r.process_cost
    h = r.headlines()
    d, uc, nl = h["difference_per_child_year"], h["cost_per_child_year"]["unit_cost"], h["cost_per_child_year"]["needs_led"]
    mv, s3 = h["moves_averted_per_100_children"], h["share_3plus_moves"]
    keep = [p for p, v in shown["static_per_child_week"].items() if not hidden(v)]
    st = r.static.set_index("profile").loc[keep]
    by = {p: v for p, v in shown["difference_per_child_year_by_profile"].items() if not hidden(v) and p != "All"}
    rest = st.drop(index="All", errors="ignore")
    lines = [
        (f"- **A week of care.** Across placements, unit costs come to {money(st.loc['All', 'unit_per_week'])} a week on "
         f"average and needs-led costs to {money(st.loc['All', 'needs_led_per_week'])}; unit costs under-fund "
         if "All" in st.index else "- **A week of care.** Unit costs under-fund ")
        + "; ".join(f"{pr.lower()} needs by a median of {money(row.diff_median)} a week per placement"
                    for pr, row in rest.iterrows())
        + " (negative: over-fund); per child-week, unit costs pay "
        + "; ".join(f"{money(row.unit_per_week)} against {money(row.needs_led_per_week)} needs-led for {pr.lower()} needs"
                    for pr, row in rest.iterrows()) + ".",
        (f"- **Over {sim.horizon_years:g} years** ({count(shown['children_simulated'])} children, {sim.draws} Monte Carlo draws, "
         f"hazards: {sim.hazard_source}), care costs {interval(uc)} per child-year under unit-cost commissioning and "
         f"{interval(nl)} under needs-led commissioning with {pct(sim.capacity)} of placements matched: a difference of "
         f"**{interval(d)} per child-year** (needs-led minus unit cost; 95% interval over draws)."),
        "- By profile, per child-year: " + "; ".join(f"{k.lower()} {interval(v)}" for k, v in by.items()) + ".",
        (f"- In the simulation (reading question 2's mismatch hazard ratio as the effect of matching, an assumption), "
         f"needs-led commissioning has **{mv.value:.0f} fewer moves per 100 children** ({mv.lower:.0f} to {mv.upper:.0f}) "
         f"over the horizon; the share of children with 3 or more moves falls from {pct(s3['unit_cost'].value)} "
         f"to {pct(s3['needs_led'].value)}."),
        "- **Break-even**: " + (f"needs-led placements would have to cut the hazard of an unplanned ending by a further "
                                f"**{pct(be['reduction'])}** beyond what the model attributes to mismatch for the extra "
                                "cost to pay for itself."
                                if be["status"] == "found" else
                                "needs-led commissioning already costs no more than unit costs." if be["reduction"] == 0
                                else
                                f"not reachable through fewer moves alone: even with no unplanned endings at all in "
                                f"matched placements, needs-led care would cost "
                                f"{money(be['difference_per_child_at_full_cut'])} more per child over the horizon. "
                                + (f"Each move would have to cost {money(be['break_even_process_cost_per_move'])} (not "
                                   f"{money(process_cost)}) for the moves averted to pay for it."
                                   if be["break_even_process_cost_per_move"] else "")),
    ]
    return "\n".join(lines)


def first_check(gaps: dict[str, float], notes: tuple[str, ...]) -> str:
    """How closely the engine reproduces its hazard model and the data (CostingResult.check_gaps)."""
    return (f"The engine reproduces its hazard model: the largest gap between the simulated share of first "
            f"placements still running and the model's survival is {gaps['model']:.3f}; against the data (Kaplan–Meier "
            f"of the same placements, where followed up) the largest gap is {gaps['data_km']:.3f}. "
            + " ".join(f"*{n}.*" for n in notes))


def break_even(be: dict, process_cost: float) -> str:
    """The break-even paragraph: the further cut needed, the differences at no and full cut, moves averted."""
    text = (f"Break-even: matched placements would need their unplanned-ending hazard cut by a further "
            f"**{pct(be['reduction'])}** (hazard ratio {be['factor']:.2f})." if be["status"] == "found"
            else f"Break-even: **{be['status']}**.")
    text += (f" With no further cut the difference is {money(be['difference_per_child_at_no_cut'])} per child over the "
             f"horizon; with no unplanned endings in matched placements, {money(be['difference_per_child_at_full_cut'])}. "
             f"Moves averted per child: {be['moves_averted_per_child']:.2f}.")
    if be["break_even_process_cost_per_move"]:
        text += (f" The moves averted would pay for the difference if each move cost "
                 f"{money(be['break_even_process_cost_per_move'])} (costing.yaml: {money(process_cost)}).")
    return text


def unit_costs(shown: dict[str, Any]) -> str:
    """The unit-cost side from its published headlines (analyses/costing/unit.py)."""
    mv = shown["moves_per_child_year"]
    mv = mv.value if isinstance(mv, Guarded) else mv
    rate = ("–" if hidden(mv) or not isinstance(mv, Estimate)
            else f"{mv.value:.2f} ({mv.lower:.2f} to {mv.upper:.2f})")
    return (f"Under unit costs ({shown['price_year']} prices), a child-year in care costs **"
            f"{money(shown['unit_cost_per_child_year'])}** on average over the {count(shown['placements_costed'])} "
            f"placements costed, of which **{money(shown['process_cost_per_child_year'])}** "
            f"({pct(shown['process_cost_share'])}) is the process cost of moves: {rate} moves per child-year at "
            f"{money(shown['process_cost_per_move'])} a move.")


# ---- the stated model: identification, time and money, tails, the PSA ------------------------------
def _rate(r: float) -> str:
    return f"{100 * r:g}%"


def _share(s: float) -> str:
    return "none" if s == 0 else "all" if s == 1 else f"{100 * s:g}%"


def causal(r: CostingResult) -> str:
    """The causal question, its assumptions, the E-value and the headline at shares of the mismatch effect."""
    sim = r.simulation
    parts = [
        (f"**The causal question.** What would happen to moves and costs over {sim.horizon_years:g} years if every "
         f"placement that could be matched were matched (no mismatch, not second best), with {pct(sim.capacity)} of "
         "placements matchable? The simulation answers it by applying the fitted hazard ratios of mismatch and second "
         "best as effects (a g-formula). That holds only if there is no unmeasured confounding of mismatch and "
         "disruption beyond the covariates in the model, if every kind of child could have had a matched placement "
         "(positivity), and if 'a matched placement' is one well-defined intervention.")]
    ev = r.evalue or {}
    if ev.get("available"):
        txt = (f"The hazard ratio of an unplanned ending per point of mismatch is {ev['hr']:.2f}"
               + (f" ({ev['lower']:.2f} to {ev['upper']:.2f})" if ev.get("lower") is not None else "")
               + f"; on the risk-ratio scale (a common outcome) {ev['rr']:.2f}. Its **E-value is {ev['evalue']:.2f}**: "
               f"an unmeasured confounder associated with both mismatch and an unplanned ending by a risk ratio of "
               f"{ev['evalue']:.2f} each, above the measured covariates, could explain the estimate away; a weaker one "
               "could not")
        if ev.get("evalue_limit") is not None and ev.get("lower") is not None:
            txt += (f". For the confidence limit closest to 1 the E-value is {ev['evalue_limit']:.2f}"
                    if ev.get("limit_used") is not None else
                    ". The confidence interval already holds 1 (E-value of the limit 1)")
        parts.append(txt + " (VanderWeele & Ding 2017).")
    sh = r.shrinkage
    if sh is not None and len(sh):
        full = sh.loc[sh["share"].idxmax()]
        parts.append(
            f"At point estimates, needs-led commissioning **would avert about {full.moves_averted_per_100:.0f} moves per "
            f"100 children** over the horizon if the mismatch effect is causal, at a difference of "
            f"{money(full.difference_per_child_year)} per child-year. If only part of the effect is causal: "
            + "; ".join(f"with {_share(row.share)} of it, about {row.moves_averted_per_100:.0f} moves per 100 children "
                        f"and {money(row.difference_per_child_year)} per child-year"
                        for row in sh.sort_values("share", ascending=False).itertuples() if row.share != full.share)
            + ".")
    return "\n\n".join(parts)


def time_and_money(r: CostingResult) -> str:
    """Discounting and the one price year, with the deflator's status kept in view."""
    if r.discounting is None:
        return ""
    tm, defl, up = r.time_and_money or {}, r.deflator or {}, r.uprating
    disc = r.discounting.set_index("discounting")
    head = f"{100 * tm['discount_rate']:g}%"
    row = disc.loc[head]
    others = [k for k in disc.index if k != head]
    moved = up.loc[(up["factor"] != 1) | (up["low_factor"] != 1) | (up["high_factor"] != 1)]
    text = (f"**Discounted** at the Green Book's {head} a year (costs in year *t* of the journey times 1/(1+r)^t), with every "
            f"figure in {tm['target_price_year']} prices, needs-led commissioning costs "
            f"**{interval({'mean': row.difference_per_child, 'lower': row.difference_per_child_lower, 'upper': row.difference_per_child_upper})}"
            f"** more per child over the horizon (unit cost {money(row.unit_cost_per_child)}, needs-led "
            f"{money(row.needs_led_per_child)}); "
            + "; ".join(f"{'undiscounted' if k in ('undiscounted', '0%') else 'at ' + k} "
                        f"{money(disc.loc[k, 'difference_per_child'])}"
                        for k in others if not (k == "undiscounted" and "0%" in others)) + ". ")
    text += (f"**One price year**: {len(moved)} of {len(up)} figures are uprated to {tm['target_price_year']} with the "
             f"{defl.get('series', 'GDP deflator')} ("
             + "; ".join(f"{f.figure} × {f.factor:.3f}" + (f", its low end (from {f.low_price_year}) × {f.low_factor:.3f}"
                                                          if f.low_factor != f.factor else "")
                         for f in moved.itertuples()) + "). ")
    adj = up.loc[up["range_adjusted"] != ""] if "range_adjusted" in up else up.iloc[:0]
    if len(adj):
        text += ("Uprated on its own, a bound no longer brackets its value: "
                 + "; ".join(f"{f.figure} ({f.range_adjusted})" for f in adj.itertuples())
                 + " — the central figure's own uprating assumption disagrees with the deflator. ")
    status = str(defl.get("status", ""))
    if status:
        text += f"**Deflator status: {status}** (source: {defl.get('source', '')})."
    return text.strip()


def tails(r: CostingResult) -> str:
    """The tail beyond follow-up: the choice for each cause and the headline under the others."""
    if r.tail_comparison is None or not r.tail_choice:
        return ""
    tm = r.time_and_money or {}
    t = r.tail_comparison
    crit = {"window_aic": "AIC in the last window of follow-up", "aic": "AIC", "bic": "BIC"}
    how = ("the plausible tail with the lowest " + crit.get(str(tm.get("tail_criterion", "window_aic")), "AIC")
           if tm.get("tail", "auto") == "auto" else f"set in costing.yaml ({tm.get('tail')})")
    parts = []
    for cause, fam in r.tail_choice.items():
        sub = t.loc[t["cause"] == cause].set_index("family")
        ok = [f for f in sub.index if sub.loc[f, "plausible"]]
        parts.append(f"{cause.replace('_', ' ')}: **{fam.replace('_', ' ')}** (plausible: {', '.join(ok) or 'none'}; "
                     f"fit in the last window, AIC {sub.loc[fam, 'window_aic']:.1f})")
    text = (f"**Beyond follow-up** each cause's hazard continues with the tail chosen as {how} (NICE DSU TSD 14): "
            + "; ".join(parts) + ".")
    ts = r.tail_sensitivity
    if ts is not None and len(ts):
        lo, hi = ts["moves_averted_per_100"].min(), ts["moves_averted_per_100"].max()
        dlo, dhi = ts["difference_per_child_year"].min(), ts["difference_per_child_year"].max()
        text += (f" Across the constant tail and the four families the moves averted per 100 children run from "
                 f"{lo:.1f} to {hi:.1f} and the difference per child-year from {money(dlo)} to {money(dhi)}.")
    return text


def psa(r: CostingResult) -> str:
    """The PSA: intervals from parameter uncertainty, Monte Carlo error apart, break-even, CEAC, EVPI, EVPPI."""
    p = r.psa
    if p is None:
        return ""
    u, be, c = p["uncertainty"], p["break_even"], r.psa_curves
    dc, de = p["delta_cost_per_child"], p["disruptions_averted_per_100"]
    mc = u["delta_cost"]
    text = (f"**Probabilistic sensitivity analysis** ({p['outer']} parameter sets from a child bootstrap refitting the "
            f"three Cox models with their council baselines, each with {p['inner']} simulated journeys of every child): "
            f"needs-led costs {interval(dc)} more per child over the horizon (discounted, "
            f"{(r.time_and_money or {}).get('target_price_year', '')} prices) and averts "
            f"{de['mean']:.0f} ({de['lower']:.0f} to {de['upper']:.0f}) disruptions per 100 children. Monte Carlo error "
            f"of one set's mean cost difference is {money(mc['mc_sd_of_set_mean'])} against a parameter spread of "
            f"{money(mc['parameter_sd'])} ({pct(mc['mc_share'])} of the variance between sets"
            + (f"; {mc['inner_needed_for_5pct']} journeys per set would bring it to 5%" if mc["inner_needed_for_5pct"]
               else "") + "). ")
    if be["value"] == be["value"]:       # not NaN
        upper = "no finite upper limit" if be["upper"] in (None, float("inf")) else money(be["upper"])
        text += (f"**Break-even**: needs-led is worth it if one disruption averted is valued above "
                 f"**{money(be['value'])}** ({pct(be['level'])} interval {money(be['lower'])} to {upper}). ")
    else:
        text += "**Break-even**: on average needs-led averts no disruption, so no value makes it worth it. "
    if c is not None and len(c):
        top = c.iloc[-1]
        i = int(c["evpi"].to_numpy().argmax())
        text += (f"At {money(top.value)} per disruption averted the probability that needs-led is worth it is "
                 f"{pct(top.ceac)}. The expected value of perfect information peaks at {money(c['evpi'].iloc[i])} "
                 f"per child (at {money(c['value'].iloc[i])} a disruption)")
        if c["evppi_mismatch"].notna().any():
            text += (f"; of perfect information on the mismatch effect alone (EVPPI), {money(c['evppi_mismatch'].iloc[i])}"
                     " there: what better needs data (question 4) could be worth per child")
        text += "."
    return text.strip()
