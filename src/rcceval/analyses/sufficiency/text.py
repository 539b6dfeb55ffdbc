"""Question 5's sentences, written from its result and the published (protected) numbers."""
from __future__ import annotations

from typing import Any

import pandas as pd

from rcceval.analyses.sufficiency import gap as sg
from rcceval.reporting.results import Share


def shown(v: Any) -> str:
    """A published count: "c" as it is, a number with thousands separators."""
    return v if isinstance(v, str) else f"{v:,.0f}"


def pct(share: Any) -> str:
    """A published share as the table shows it ("12.3"), "c" when hidden."""
    return f"{round(100 * share.value, 1)}" if isinstance(share, Share) and share.value is not None else "c"


def census(result) -> str:
    now = result.now.strftime("%-d %B %Y")
    return (f"Children looked after on **{now}**: {result.n_current:,}; censuses on 31 March "
            f"{result.years[0]}-{result.years[-1]}.")


def need_level(result) -> str:
    peaks = " and ".join(str(p) for p in result.need_level.peaks) or "no age"
    return (f"The level of need peaks at age **{peaks}** ({result.need_level.assessments:,} assessments). Between "
            f"consecutive reviews of the same children (at most a year apart; median "
            f"{result.need_change['median_gap_days'].median():.0f} days), the level rises before a peak and falls "
            "after it, so the pattern is within children, not a difference between cohorts.")


def stable_placement(difference: Any, n_placements: int, n_children: int,
                     median_days: dict[str, Any] | None = None) -> str:
    """difference: the published Estimate of stable minus moved (an association); median_days: the
    published median days from the start to the follow-up assessment, by group."""
    if difference.upper < 0:
        verdict = ("the level of need went down by more (or up by less) in placements still going at the follow-up "
                   "assessment than in placements that had ended")
    elif difference.lower > 0:
        verdict = ("the level of need went up by more (or down by less) in placements still going at the follow-up "
                   "assessment than in placements that had ended")
    else:
        verdict = ("the change in the level of need in placements still going at the follow-up assessment was not "
                   "distinguishable from that in placements that had ended")
    timing = ""
    if median_days:
        timing = (" Follow-up assessments fell a median of " +
                  "; ".join(f"{shown(v)} days after the start ({label})" for label, v in median_days.items()) + ".")
    return (f"Comparing like follow-up windows (the same 274-456 days after the start for every group, in three "
            f"bands), and adjusted for the baseline level and age band, {verdict}: difference "
            f"{difference.value:+.3f} (95% CI {difference.lower:+.3f} to {difference.upper:+.3f}) on the 0-3 scale, "
            f"from {n_placements:,} placements of {n_children:,} children.{timing} This is an association: "
            "stability was not assigned, and children whose placements last may differ from those who move in ways "
            "the adjustment does not capture.")


def provision(result) -> str:
    left_out = ", ".join(f"{k}: {v}" for k, v in result.settings_excluded.items())
    return f"{result.n_settings:,} settings with {result.n_places:,} places analysed ({left_out})."


def shortfall(at_least: dict[str, dict[str, Any]], children: pd.DataFrame, netted: pd.DataFrame | None = None) -> str:
    """at_least: the published region shortfall by reach and rule (region_shortfall_at_least_by_rule);
    children: the published gap_children crosstab; netted: the published gap_places_netted_out table."""
    def side_by_side(r: str) -> str:
        v = at_least[r]
        return (f"{sg.REACH_LABELS[r].lower()} at least **{shown(v['every_domain'])}** "
                f"(at least {shown(v['all_needs'])} when frequency counts too)")

    held = ""
    if netted is not None and len(netted):
        m = dict(zip(netted["measure"], netted["value"]))
        held = (f" Places held on the date by children outside the scope are taken "
                f"({shown(m['places netted out (held by children outside the scope)'])} of "
                f"{shown(m['register places'])} register places).")
    return ("Region-wide, with everyone competing for the same places, the children in registered settings who "
            "could not be given a place able to meet every need at once: " +
            "; ".join(side_by_side(r) for r in sg.REACHES if r in at_least) +
            f" (of {shown(children.loc['Total', 'Total'])})." + held +
            " Each figure is a lower bound: places held by children of councils outside the data, and whether a "
            "place is vacant at all, are not known, so every other place is counted as free. The full table (every "
            "profile, area and reach, with the places able to meet each group) is `tables/gap_shortfall.csv`; "
            "the three matching rules side by side are in `tables/gap_rules.csv`.")


def nearest(in_nearest: dict[str, Any], met_locally: dict[str, Any], extra: pd.DataFrame) -> str:
    """From the published shares by market and the published nearest_suitable_distance table."""
    ex = extra.set_index("market")
    return ("In the nearest suitable placement: " + "; ".join(f"{m} **{pct(s)}%**" for m, s in in_nearest.items()) +
            ". Placed within 20 miles with every need met: " +
            "; ".join(f"{m} **{pct(s)}%**" for m, s in met_locally.items()) +
            ". Children whose needs are met but not in the nearest suitable placement are a median of " +
            "; ".join(f"{m} {ex.loc[m, 'median_extra_miles']} miles" for m in ex.index) + " further from home than "
            "it; for children whose needs are not met, the nearest suitable placement is a median of " +
            "; ".join(f"{m} {ex.loc[m, 'median_nearest_miles_unmet']} miles" for m in ex.index) + " from home.")


def backtest(summary: pd.DataFrame) -> str:
    """From the back-test summary (by horizon)."""
    if not len(summary):
        return "Too few years of data for a back-test."
    s = summary.set_index("horizon") if "horizon" in summary.columns else summary
    return ("Forecasting from earlier years, the mean absolute percentage error for children looked after in all: " +
            "; ".join(f"{h} year{'s' if h > 1 else ''} ahead **{r.mape_total:.1f}%** ({int(r.origins)} origins)"
                      for h, r in s.iterrows()) +
            "; by age band " + "; ".join(f"{r.mape_age_bands:.1f}%" for _, r in s.iterrows()) +
            "; by placement type " + "; ".join(f"{r.mape_placement_types:.1f}%" for _, r in s.iterrows()) +
            ("; by need profile " + "; ".join(f"{r.mape_profiles:.1f}%" for _, r in s.iterrows())
             if s["mape_profiles"].notna().any() else "") +
            ". The share of observed counts inside the 95% interval: " +
            "; ".join(f"{r.coverage:.0%}" for _, r in s.iterrows()) + ".")


def forecast_cells(table: pd.DataFrame, profile_labels: dict[str, str]) -> pd.DataFrame:
    """The forecast as 'estimate (low-high)' by profile (rows) and year (columns), for display."""
    compact = table.assign(value=[f"{e:,.0f} ({lo:,.0f}-{hi:,.0f})"
                                  for e, lo, hi in zip(table["estimate"], table["low"], table["high"])])
    compact = compact.pivot(index="PROFILE", columns="YEAR", values="value").reindex([*profile_labels, "all"])
    return compact.rename(index=profile_labels | {"all": "All children"}).rename_axis(index=None, columns=None)
