"""Question 5, needs: the needs audit and how needs change over time.

- Audit: counts of children looked after by need profile and council, age band, placement type
  and year (crosstabs of counts, for the publisher's disclosure control), and the domains behind
  each profile (mean intensity by domain).
- Level of need by age: the mean level (mean intensity over domains, 0-3) by age to the nearest
  year at assessment. Each child counts once per age (the mean of their assessments at that age),
  so the interval (mean +/- 1.96 standard errors over children) is not narrowed by re-assessments.
  A peak is an age whose mean exceeds both neighbours' by more than 1.96 standard errors of the
  difference (so noise at the plateau is not called a peak).
- Change between reviews: for consecutive assessments of the same child at most `max_gap_days`
  apart, the later level minus the earlier, by age at the pair's midpoint (nearest year); each
  child once per age. Within-child change shows the age pattern is not a cohort artefact.
- Need level and placement stability (an association, not an effect): placements started in a
  window with needs in force at the start (baseline) and a follow-up assessment 9-15 months after
  the start (the first one dated in [start + 274, start + 456] days). The placement was *stable*
  when it was still going on the follow-up date, otherwise the child had *moved* (unplanned or
  planned). The follow-up window is fixed relative to the placement's start, the same for every
  group, so an assessment brought forward by a breakdown cannot fall earlier than 274 days; within
  it, the window is cut into three bands of about two months (WINDOWS) and the groups are compared
  within like bands: the change in level is compared by ordinary least squares adjusted for
  baseline level (regression to the mean), age band at the start and the follow-up band (fixed
  effects), with standard errors clustered by child; `timing` shows the placements and the mean
  change of each group in each band, and the median days to follow-up, so a difference in timing
  is seen. Stability is not assigned: children whose placements last may differ in ways the
  adjustment does not capture, so the difference is an association.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from rcceval.analyses.sufficiency.profiles import KEY, PROFILES, need_level
from rcceval.derive.frame import age_band, whole_years
from rcceval.derive.needs import intensity_cols, needs_at
from rcceval.spec import codes
from rcceval.spec.instruments import Instrument

Z95 = 1.959963984540054
WINDOWS = ((274, 334), (335, 395), (396, 456))   # follow-up bands, days after the placement's start


# ------------------------------------------------------------------------------------- audit

def profile_counts(census: pd.DataFrame, by: str, order: list | None = None) -> pd.DataFrame:
    """Children counted by `by` (rows) and need profile (columns, every profile shown)."""
    table = census.groupby([by, "PROFILE"]).size().unstack("PROFILE")
    table = table.reindex(columns=list(PROFILES)).fillna(0).astype(int)
    if order is not None:
        table = table.reindex(order).fillna(0).astype(int)
    table.columns.name = None
    table.index.name = by
    return table


def placement_type_counts(census: pd.DataFrame) -> pd.DataFrame:
    """Children by placement type group (rows, DfE groupings) and need profile."""
    labelled = census.assign(PLACEMENT_TYPE=census["PLACE_GROUP"].map(codes.PLACE_GROUP_LABELS)
                             .fillna(codes.PLACE_GROUP_LABELS["temporary_other"]))
    order = [v for v in codes.PLACE_GROUP_LABELS.values() if v in set(labelled["PLACEMENT_TYPE"])]
    return profile_counts(labelled, "PLACEMENT_TYPE", order)


def domains_by_profile(census: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Per need profile (assessed children): children and mean intensity in each domain (0-3)."""
    assessed = census.loc[census["PROFILE"].isin(PROFILES[:-1])]
    cols = intensity_cols(instrument)
    means = assessed.groupby("PROFILE")[cols].mean().reindex(list(PROFILES[:-1]))
    out = means.rename(columns={c: f"mean_{c[2:]}" for c in cols}).round(2)
    out.insert(0, "children", assessed.groupby("PROFILE").size().reindex(out.index).fillna(0).astype(int))
    return out.reset_index().rename(columns={"PROFILE": "profile"})


# ---------------------------------------------------------------------------- needs over time

def _mean_by_age(values: pd.DataFrame, value: str, age: str) -> pd.DataFrame:
    """Mean of `value` by `age`, each child once per age; children, mean, se and 95% interval."""
    per_child = values.groupby(KEY + [age], sort=False)[value].mean().reset_index()
    g = per_child.groupby(age)[value]
    out = pd.DataFrame({"children": g.size(), "mean": g.mean(), "sd": g.std(ddof=1)})
    out["se"] = out["sd"] / np.sqrt(out["children"])
    out["ci_low"] = out["mean"] - Z95 * out["se"]
    out["ci_high"] = out["mean"] + Z95 * out["se"]
    out.index = out.index.astype(int)
    out.index.name = "age"
    return out.drop(columns="sd").reset_index()


def find_peaks(table: pd.DataFrame) -> list[int]:
    """Ages whose mean exceeds both neighbours' by more than 1.96 standard errors of the difference."""
    t = table.sort_values("age").reset_index(drop=True)
    m, se, ages = t["mean"].to_numpy(), t["se"].to_numpy(), t["age"].to_numpy()
    peaks = []
    for i in range(1, len(t) - 1):
        if ages[i - 1] != ages[i] - 1 or ages[i + 1] != ages[i] + 1:
            continue
        left = m[i] - m[i - 1] > Z95 * np.hypot(se[i], se[i - 1])
        right = m[i] - m[i + 1] > Z95 * np.hypot(se[i], se[i + 1])
        if left and right:
            peaks.append(int(ages[i]))
    return peaks


@dataclass
class NeedsByAge:
    """Level of need by age (table: age, children, mean, se, ci_low, ci_high) and its peaks."""

    table: pd.DataFrame
    peaks: list[int]
    assessments: int

    def to_dict(self) -> dict:
        return {"peak_ages": self.peaks, "assessments": self.assessments,
                "mean_level_by_age": dict(zip(self.table["age"].astype(str), self.table["mean"].round(3)))}


def need_level_by_age(assessments: pd.DataFrame, max_age: int = 17) -> NeedsByAge:
    """Mean level of need by age to the nearest year at assessment (0 to max_age)."""
    a = assessments.dropna(subset=["LEVEL", "AGE_EXACT"])
    a = a.assign(AGE_YEAR=np.floor(a["AGE_EXACT"] + 0.5).astype(int))
    a = a.loc[a["AGE_YEAR"].between(0, max_age)]
    table = _mean_by_age(a, "LEVEL", "AGE_YEAR")
    return NeedsByAge(table, find_peaks(table), len(a))


def change_between_reviews(assessments: pd.DataFrame, max_gap_days: int = 365, max_age: int = 17) -> pd.DataFrame:
    """Mean change in level between consecutive assessments of a child, by age at the pair's midpoint.

    Returns age, children, mean (change per review), se, ci_low, ci_high and the median days between
    the reviews (median_gap_days).
    """
    a = assessments.dropna(subset=["LEVEL", "AGE_EXACT"]).sort_values(KEY + ["ASSESSMENT_DATE"], kind="stable")
    la, child = a["LA"].to_numpy(), a["CHILD"].to_numpy()
    same = (la[1:] == la[:-1]) & (child[1:] == child[:-1])
    gap = (a["ASSESSMENT_DATE"].to_numpy()[1:] - a["ASSESSMENT_DATE"].to_numpy()[:-1]) / np.timedelta64(1, "D")
    keep = same & (gap > 0) & (gap <= max_gap_days)
    later, earlier = a.iloc[1:].loc[keep], a.iloc[:-1].loc[keep]
    pairs = pd.DataFrame({"LA": later["LA"].to_numpy(), "CHILD": later["CHILD"].to_numpy(),
                          "CHANGE": later["LEVEL"].to_numpy() - earlier["LEVEL"].to_numpy(),
                          "GAP": gap[keep],
                          "AGE_YEAR": np.floor((later["AGE_EXACT"].to_numpy() + earlier["AGE_EXACT"].to_numpy()) / 2
                                               + 0.5).astype(int)})
    pairs = pairs.loc[pairs["AGE_YEAR"].between(0, max_age)]
    out = _mean_by_age(pairs, "CHANGE", "AGE_YEAR")
    out["median_gap_days"] = pairs.groupby("AGE_YEAR")["GAP"].median().reindex(out["age"]).to_numpy()
    return out


@dataclass
class StablePlacementResult:
    """Change in need level for placements still going at follow-up versus those that had ended.

    groups: group, placements, mean_baseline, mean_follow_up, mean_change, ci_low, ci_high,
    median_days (start to follow-up); timing: group x follow-up band (window, placements,
    mean_change); model: the adjusted OLS (term, estimate, ci_low, ci_high, p_value) with standard
    errors clustered by child; difference: the adjusted difference stable minus moved (the `STABLE`
    term), an association.
    """

    groups: pd.DataFrame
    model: pd.DataFrame
    n_placements: int
    n_children: int
    statistic: float = float("nan")   # Wald z of the STABLE term (clustered SE)
    timing: pd.DataFrame | None = None

    @property
    def difference(self) -> dict:
        row = self.model.loc["STABLE"]
        return {k: row[k] for k in ("estimate", "ci_low", "ci_high", "p_value")}

    def to_dict(self) -> dict:
        return {"stable_minus_moved": self.difference, "placements": self.n_placements}


GROUP_LABELS = {"stable": "Stable (same placement at follow-up)", "moved_unplanned": "Moved after an unplanned ending",
                "moved_planned": "Moved after a planned ending"}


def window_labels(days: pd.Series) -> pd.Series:
    """The follow-up band (WINDOWS) of each number of days after the start, as "274-334 days"."""
    edges = [WINDOWS[0][0] - 1, *[hi for _, hi in WINDOWS]]
    names = [f"{lo}-{hi} days" for lo, hi in WINDOWS]
    return pd.cut(days, edges, labels=names).astype(str)


def needs_after_stable_placement(placements: pd.DataFrame, wide: pd.DataFrame, header: pd.DataFrame,
                                 instrument: Instrument, start: pd.Timestamp, end: pd.Timestamp,
                                 lookback_days: int, follow_from_days: int = WINDOWS[0][0],
                                 follow_to_days: int = WINDOWS[-1][1]) -> StablePlacementResult:
    """Is the change in need level different for placements still going at follow-up? (module doc)."""
    pl = placements.loc[(placements["START"] >= start) & (placements["START"] <= end),
                        KEY + ["START", "END", "ENDING"]].reset_index(drop=True)
    base = needs_at(pl, "START", wide, lookback_days)
    base["BASE_LEVEL"] = need_level(base, instrument)
    base = base.loc[base["BASE_LEVEL"].notna(), KEY + ["START", "END", "ENDING", "BASE_LEVEL"]]
    base["FOLLOW_FROM"] = base["START"] + pd.Timedelta(days=follow_from_days)
    order = base.reset_index(drop=True).reset_index(names="_i").sort_values("FOLLOW_FROM", kind="stable")
    levels = wide[KEY + ["ASSESSMENT_DATE"]].assign(FOLLOW_LEVEL=need_level(wide, instrument).to_numpy())
    levels = levels.dropna(subset=["FOLLOW_LEVEL"]).sort_values("ASSESSMENT_DATE", kind="stable")
    follow = pd.merge_asof(order, levels, left_on="FOLLOW_FROM", right_on="ASSESSMENT_DATE", by=KEY,
                           direction="forward", tolerance=pd.Timedelta(days=follow_to_days - follow_from_days))
    f = follow.dropna(subset=["FOLLOW_LEVEL"]).sort_values("_i").reset_index(drop=True)
    stable = f["END"].isna() | (f["END"] > f["ASSESSMENT_DATE"])
    moved = np.where(f["ENDING"].eq(codes.UNPLANNED), "moved_unplanned", "moved_planned")
    f["GROUP"] = np.where(stable, "stable", moved)
    f["STABLE"] = stable.astype(int)
    f["CHANGE"] = f["FOLLOW_LEVEL"] - f["BASE_LEVEL"]
    f["DAYS"] = (f["ASSESSMENT_DATE"] - f["START"]).dt.days
    f["WINDOW"] = window_labels(f["DAYS"])
    f = f.merge(header[KEY + ["DOB"]].drop_duplicates(KEY, keep="last"), on=KEY, how="left")
    f["AGE_BAND"] = age_band(whole_years(f["DOB"], f["START"])).fillna(codes.AGE_BAND_OLDEST)
    g = f.groupby("GROUP")
    groups = pd.DataFrame({"placements": g.size(), "mean_baseline": g["BASE_LEVEL"].mean(),
                           "mean_follow_up": g["FOLLOW_LEVEL"].mean(), "mean_change": g["CHANGE"].mean(),
                           "se": g["CHANGE"].std(ddof=1) / np.sqrt(g.size()),
                           "median_days": g["DAYS"].median()}).reindex(list(GROUP_LABELS))
    groups["ci_low"] = groups["mean_change"] - Z95 * groups["se"]
    groups["ci_high"] = groups["mean_change"] + Z95 * groups["se"]
    groups = groups.drop(columns="se").reset_index(names="group")
    groups["placements"] = groups["placements"].fillna(0).astype(int)
    groups.insert(1, "label", groups["group"].map(GROUP_LABELS))
    names = [f"{lo}-{hi} days" for lo, hi in WINDOWS]
    t = f.groupby(["GROUP", "WINDOW"])["CHANGE"].agg(["size", "mean"])
    t = t.reindex(pd.MultiIndex.from_product([list(GROUP_LABELS), names], names=["GROUP", "WINDOW"]))
    timing = pd.DataFrame({"group": t.index.get_level_values(0), "window": t.index.get_level_values(1),
                           "placements": t["size"].fillna(0).astype(int).to_numpy(),
                           "mean_change": t["mean"].to_numpy()})
    cluster = pd.factorize(f["LA"].astype(str) + "|" + f["CHILD"].astype(str))[0]
    ref = min(f["WINDOW"].unique(), default=names[0])
    fit = smf.ols(f"CHANGE ~ STABLE + BASE_LEVEL + C(AGE_BAND, Treatment('5-9')) + C(WINDOW, Treatment('{ref}'))",
                  data=f).fit(
        cov_type="cluster", cov_kwds={"groups": cluster})
    ci = fit.conf_int()
    model = pd.DataFrame({"estimate": fit.params, "ci_low": ci[0], "ci_high": ci[1], "p_value": fit.pvalues})
    model.index.name = "term"
    return StablePlacementResult(groups, model, len(f), int(pd.Series(cluster).nunique()),
                                 float(fit.tvalues["STABLE"]), timing)
