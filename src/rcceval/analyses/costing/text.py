"""Question 3's narrative and by-profile headlines, written from the numbers (never in the notebook).

What is said about a need profile follows what the published (disclosure-protected) tables show: a
profile whose count the publisher hid is left out of every sentence and headline, so nothing the
tables hide comes back in prose. The notebook never looks at suppressed cells itself.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from rcceval.reporting.results import SUPPRESSED


def money(x: float | None) -> str:
    return "–" if x is None or pd.isna(x) else f"£{x:,.0f}" if x >= 0 else f"−£{-x:,.0f}"


def pct(x: float | None) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def interval(d: dict) -> str:
    return f"{money(d['mean'])} ({money(d['lower'])} to {money(d['upper'])})"


def shown_profiles(published: pd.DataFrame, count: str) -> list[str]:
    """The profiles whose count the published (protected) table shows, in its order."""
    return [str(p) for p, n in zip(published["profile"], published[count], strict=True) if str(n) != SUPPRESSED]


def only_shown(values: dict[str, Any], published: pd.DataFrame, count: str) -> dict[str, Any]:
    """A by-profile headline restricted to the profiles the published table shows."""
    keep = set(shown_profiles(published, count))
    return {k: v for k, v in values.items() if k in keep}


def headlines(res: dict, static: pd.DataFrame, static_shown: pd.DataFrame, difference_shown: pd.DataFrame,
              sim: Any, process_cost: float) -> str:
    """The headline bullets. res: CareCosting.to_dict(); static: CareCosting.static (by profile);
    static_shown / difference_shown: the published static_by_profile / difference_by_profile tables."""
    d, be = res["difference_per_child_year"], res["break_even"]
    uc, nl = res["cost_per_child_year"]["unit_cost"], res["cost_per_child_year"]["needs_led"]
    mv = res["moves_averted_per_100_children"]
    st = static.set_index("profile").loc[shown_profiles(static_shown, "placements")]
    by = only_shown(res["difference_per_child_year_by_profile"], difference_shown, "children")
    rest = st.drop(index="All")
    lines = [
        f"- **A week of care.** Across placements, unit costs come to {money(st.loc['All', 'unit_per_week'])} a week on "
        f"average and needs-led costs to {money(st.loc['All', 'needs_led_per_week'])}; unit costs under-fund "
        + "; ".join(f"{pr.lower()} needs by a median of {money(r.diff_median)} a week per placement" for pr, r in rest.iterrows())
        + " (negative: over-fund); per child-week, unit costs pay "
        + "; ".join(f"{money(r.unit_per_week)} against {money(r.needs_led_per_week)} needs-led for {pr.lower()} needs"
                    for pr, r in rest.iterrows()) + ".",
        (f"- **Over {sim.horizon_years:g} years** ({res['children_simulated']:,} children, {sim.draws} Monte Carlo draws, "
        f"hazards: {sim.hazard_source}), care costs {interval(uc)} per child-year under unit-cost commissioning and "
        f"{interval(nl)} under needs-led commissioning with {pct(sim.capacity)} of placements matched: a difference of "
        f"**{interval(d)} per child-year** (needs-led minus unit cost; 95% interval over draws)."),
        "- By profile, per child-year: " + "; ".join(f"{k.lower()} {interval(v)}" for k, v in by.items() if k != "All") + ".",
        (f"- Needs-led commissioning averts **{mv['mean']:.0f} moves per 100 children** ({mv['lower']:.0f} to {mv['upper']:.0f}) "
        f"over the horizon; the share of children with 3 or more moves falls from {pct(res['share_3plus_moves']['unit_cost']['mean'])} "
        f"to {pct(res['share_3plus_moves']['needs_led']['mean'])}."),
        "- **Break-even**: " + (f"needs-led placements would have to cut the hazard of an unplanned ending by a further "
                                f"**{pct(be['reduction'])}** beyond what the model attributes to mismatch for the extra cost to pay for itself."
                                if be["status"] == "found" else
                                "needs-led commissioning already costs no more than unit costs." if be["reduction"] == 0 else
                                f"not reachable through fewer moves alone: even with no unplanned endings at all in matched placements, "
                                f"needs-led care would cost {money(be['difference_per_child_at_full_cut'])} more per child over the horizon. "
                                + (f"Each move would have to cost {money(be['break_even_process_cost_per_move'])} (not "
                                   f"{money(process_cost)}) for the moves averted to pay for it."
                                   if be["break_even_process_cost_per_move"] else "")),
    ]
    return "\n".join(lines)
