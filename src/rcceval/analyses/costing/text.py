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
