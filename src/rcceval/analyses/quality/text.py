"""The data-quality report's sentences, written from the published (protected) numbers."""
from __future__ import annotations

from typing import Any

from rcceval.analyses.quality.checks import NATIONAL_SOURCE, NATIONAL_STABILITY
from rcceval.reporting.results import Share


def percent(share: Any) -> str:
    """A published share as "12.6%"; one hidden by disclosure control as "c"."""
    if isinstance(share, Share) and share.value is not None:
        return f"{100 * share.value:.1f}%"
    return "c"


def validation_summary(n_files: int, problems: dict[str, int]) -> str:
    return (f"**{n_files} files read**: {problems['fatal']} fatal, {problems['fixable']} fixable problems cleaned, "
            f"{problems['warning']} warnings.")


def stability_summary(shown: dict[str, Any], year: int) -> str:
    """The region's DfE stability measures beside England's for `year` (from publish()'s headlines)."""
    eng = NATIONAL_STABILITY.get(year, {})

    def england(key: str) -> str:
        return f"{eng[key]:.0f}%" if key in eng else "not published here"

    return (f"Across the councils, **{percent(shown['pct_3plus_placements_year'])}** of children looked after on "
            f"31 March {year} had three or more placements in the year (England: {england('pct_3plus_year')}), and "
            f"**{percent(shown['pct_long_term_stability'])}** of those under 16 in care 2.5 years or more had lived "
            f"with the same carer for 2 years or more (England: {england('pct_long_term_stable')}). "
            f"National figures: {NATIONAL_SOURCE}.")


def location_summary(shown: dict[str, Any], published: Any, year: int) -> str:
    """Where the year's new placements were, beside the DfE's England and South East shares."""
    from rcceval.analyses.quality.location import DFE_CATEGORIES, PUBLISHED_SOURCE

    def outside(area: str) -> str:
        if published is None or area not in published.index:
            return "not published here"
        row = published.loc[area]
        known = 100 - row[DFE_CATEGORIES["distance_not_known"]]
        share = row[DFE_CATEGORIES["outside_under_20"]] + row[DFE_CATEGORIES["outside_20_plus"]]
        return f"{100 * share / known:.0f}%" if known > 0 else "not published here"

    pub_year = int(published["year"].iloc[0]) if published is not None and len(published) else year
    return (f"Of the new placements in the year ending 31 March {year} whose location is known, "
            f"**{percent(shown['pct_new_placements_outside_council'])}** were outside the placing council "
            f"(England: {outside('England')}, South East: {outside('South East')}, {pub_year}), and "
            f"**{percent(shown['pct_new_placements_outside_region'])}** outside the region's councils, a "
            f"measure the DfE does not publish. Published figures: {PUBLISHED_SOURCE}.")
