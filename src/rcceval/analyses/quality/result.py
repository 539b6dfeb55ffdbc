"""Question 0's result: the data-quality summaries as one frozen, aggregate-only result.

`fit()` computes every summary once; `QualityResult.tables()` and `.headlines()` declare what the
report publishes, so every table passes disclosure control and every headline count and share is
protected by the publisher (none is computed from an unprotected frame in the notebook).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rcceval.analyses.quality import checks, location
from rcceval.ingest.validate import CleanRegion
from rcceval.reporting.results import Count, Relation, Result, Share, Table, Term

STABILITY_COUNTS = ("cla_31_march", "n_3plus_year", "cla_two_years", "n_3plus_two_years",
                    "long_term_denominator", "long_term_stable")
STABILITY_PERCENTS = {"pct_3plus_year": "n_3plus_year", "pct_3plus_two_years": "n_3plus_two_years",
                      "pct_long_term_stable": "long_term_stable"}
COVERAGE_COUNTS = ("placements", "with_assessment", "with_request")


@dataclass(frozen=True, eq=False)
class QualityResult(Result):
    """What was read and fixed, children looked after, placement mix, DfE stability and coverage
    (aggregates by council, year and category only)."""

    year: int                       # the latest collection year (31 March of the extract)
    n_files: int
    problems: dict[str, int]        # problems by severity
    rules: pd.DataFrame             # problems by severity and rule, with the fix
    cla: pd.DataFrame               # children looked after on 31 March: council x year
    mix: pd.DataFrame               # placement mix on 31 March of `year`
    stability: pd.DataFrame         # DfE stability measures by council and ALL, beside England's
    coverage: pd.DataFrame          # placements in the window with an assessment / a request
    location: pd.DataFrame          # new placements of `year`: council x the DfE's location categories
    region_location: pd.DataFrame   # new placements of `year`: council x inside / outside the region
    location_published: pd.DataFrame  # the DfE's percentages for England and the South East

    def tables(self) -> dict[str, Table]:
        """The council rows of stability_measures and coverage add up to their ALL row, which is shown:
        totals_shown, so a hidden council count cannot be recovered from ALL by subtraction."""
        out = {}
        if len(self.rules):
            out["problems_by_rule"] = Table(self.rules, counts=("n",))
        out["cla_by_council_year"] = Table(self.cla, kind="crosstab")
        out["placement_mix"] = Table(self.mix, counts=("children",), percent_of={"percent": "children"},
                                     totals_shown=True)
        out["stability_measures"] = Table(self.stability.round(1), counts=STABILITY_COUNTS,
                                          percent_of=STABILITY_PERCENTS, totals_shown=True)
        out["coverage"] = Table(self.coverage, counts=COVERAGE_COUNTS,
                                percent_of={"pct_with_assessment": "with_assessment",
                                            "pct_with_request": "with_request"}, totals_shown=True)
        out["new_placement_location"] = Table(self.location, kind="crosstab")
        out["new_placement_region"] = Table(self.region_location, kind="crosstab")
        out["new_placement_location_england"] = Table(self.location_published, kind="model", index=True)
        return out

    def relations(self) -> tuple[Relation, ...]:
        """The two location crosstabs count the same new placements: their Total columns are equal."""
        return tuple(Relation((Term("new_placement_location", la, "Total"),
                               Term("new_placement_region", la, "Total", -1.0)), 0.0,
                              f"new placements of {la}: the same total in both location tables")
                     for la in self.location.index)

    def headlines(self) -> dict[str, object]:
        stab = self.stability.set_index("LA").loc["ALL"]
        cov = self.coverage.set_index("LA").loc["ALL"]
        return {
            "files_read": self.n_files,
            "problems": dict(self.problems),
            "children_looked_after_31_march": {str(y): Count(int(v)) for y, v in self.cla.sum().items()},
            "pct_3plus_placements_year": Share(int(stab["n_3plus_year"]), int(stab["cla_31_march"])),
            "pct_long_term_stability": Share(int(stab["long_term_stable"]), int(stab["long_term_denominator"])),
            "placements_in_window": Count(int(cov["placements"])),
            "pct_placements_with_assessment": Share(int(cov["with_assessment"]), int(cov["placements"])),
            "pct_placements_with_request": Share(int(cov["with_request"]), int(cov["placements"])),
            **location.location_shares(self.location, self.region_location),
        }


def fit(region: CleanRegion, placements: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, year: int,
        lookback_days: int = 183, region_councils: list[str] | None = None) -> QualityResult:
    """Every data-quality summary of a validated region, for the latest collection `year`.
    region_councils: the co-operative's councils, for "placed outside the region" (by default the
    councils in `region`; a one-council run passes every council of the data)."""
    c903 = region.c903
    where, by_region = location.location_tables(placements, year, region_councils)
    years = sorted(int(y) for y in c903.episodes["YEAR"].dropna().unique())
    report = region.report
    return QualityResult(
        year=year, n_files=report.n_files,
        problems={s: report.count(s) for s in ("fatal", "fixable", "warning")},
        rules=checks.problems_by_rule(report),
        cla=checks.cla_by_council_year(c903, years),
        mix=checks.placement_mix(c903, year),
        stability=checks.stability_with_national(c903, year),
        coverage=checks.coverage(placements, start, end, region.tables.get("needs_assessments"),
                                 region.tables.get("placement_requests"), lookback_days),
        location=where, region_location=by_region, location_published=location.published_for(year),
    )
