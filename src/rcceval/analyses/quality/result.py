"""Question 0's result: the data-quality summaries as one frozen, aggregate-only result.

`fit()` computes every summary once; `QualityResult.tables()` and `.headlines()` declare what the
report publishes, so every table passes disclosure control and every headline count and share is
protected by the publisher (none is computed from an unprotected frame in the notebook).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rcceval.analyses.quality import checks
from rcceval.ingest.validate import CleanRegion
from rcceval.reporting.results import Count, Relation, Result, Share, Table, Term, holding

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
        return out

    def relations(self) -> tuple[Relation, ...]:
        """The headlines that are table margins (kept where they hold, results.holding): children looked
        after each year = the council-by-year table's Total row; the stability and coverage shares' counts
        and totals = the ALL rows they are read from. So the audit treats a headline as the margin it is."""
        h = lambda path, coef=1.0: Term("headlines", path, "value", coef)  # noqa: E731
        out = [Relation((h(f"children_looked_after_31_march/{y}"), Term("cla_by_council_year", "Total", y, -1.0)),
                        0.0, f"headline children looked after {y} = the table's total") for y in self.cla.columns]
        ties = {"pct_3plus_placements_year": ("stability_measures", "n_3plus_year", "cla_31_march"),
                "pct_long_term_stability": ("stability_measures", "long_term_stable", "long_term_denominator"),
                "pct_placements_with_assessment": ("coverage", "with_assessment", "placements"),
                "pct_placements_with_request": ("coverage", "with_request", "placements")}
        for key, (table, count, total) in ties.items():
            out += [Relation((h(f"{key}/count"), Term(table, {"LA": "ALL"}, count, -1.0)), 0.0, f"headline {key} count"),
                    Relation((h(f"{key}/total"), Term(table, {"LA": "ALL"}, total, -1.0)), 0.0, f"headline {key} total")]
        out.append(Relation((h("placements_in_window"), Term("coverage", {"LA": "ALL"}, "placements", -1.0)), 0.0,
                            "headline placements in the window"))
        heads: dict[str, float] = {}
        for key, value in self.headlines().items():
            if isinstance(value, Count):
                heads[key] = value.value
            elif isinstance(value, Share):
                heads[f"{key}/count"], heads[f"{key}/total"] = value.count, value.total
            elif isinstance(value, dict):
                heads.update({f"{key}/{k}": v.value for k, v in value.items() if isinstance(v, Count)})
        return holding(out, self.tables(), heads)

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
        }


def fit(region: CleanRegion, placements: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, year: int,
        lookback_days: int = 183) -> QualityResult:
    """Every data-quality summary of a validated region, for the latest collection `year`."""
    c903 = region.c903
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
    )
