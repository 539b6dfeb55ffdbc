"""'Did we secure the placement we wanted?': measures from placement requests (Placements Data Standard v2).

The 903 records the placement a child got, never the one they needed. A PDS v2 placement request
marks each placement type Preferred / Suitable but not preferred / Unsuitable / Not specified and
records whether the agreed placement met the preferred location (preferabilityLocation). Joined to
the placements (frame.secured_vs_preferred: same council, child and start date), that gives:

- the share of placements whose secured type was the preferred one, suitable but not preferred,
  unsuitable, or not specified in the request;
- the share that met the preferred location;
- both by need tier and by council.

Intervals are Wilson 95% intervals with the effective sample size n / deff, deff the design effect of
clustering by child (robust variance of the share over the binomial one, no small-sample factor, at least 1): a child with
several placements counts less than several children. With one placement per child deff = 1 and the
interval is the plain Wilson interval. Counts go through disclosure control when published (long
tables: one row per group and category, so secondary suppression runs within a group).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

SUITABILITY = ("Preferred", "Suitable but not preferred", "Unsuitable", "Not specified")
LOCATION = ("Preferred location met", "Preferred location not met")
ALL = "All councils"


def design_effect(y: np.ndarray, cluster: np.ndarray) -> float:
    """Clustering design effect of a share: the sum over clusters of the squared summed residuals
    (y - p) over the sum of the squared residuals (the robust variance of the share over the
    binomial one, without small-sample factors): 1 with one observation a cluster, at least 1."""
    y = np.asarray(y, float)
    n = len(y)
    p = y.mean() if n else np.nan
    if n < 2 or not np.isfinite(p) or p in (0.0, 1.0):
        return 1.0
    codes, uniq = pd.factorize(pd.Series(cluster))
    r = np.bincount(codes, weights=y - p, minlength=len(uniq))
    return float(max(1.0, np.sum(r ** 2) / np.sum((y - p) ** 2)))


def share_ci(successes: int, n: int, deff: float = 1.0, level: float = 0.95) -> tuple[float, float]:
    """Wilson interval with effective sample size n/deff (successes scaled alike)."""
    if n == 0:
        return np.nan, np.nan
    n_eff = n / deff
    lo, hi = proportion_confint(successes / deff, n_eff, alpha=1 - level, method="wilson")
    return float(lo), float(hi)


def _shares(values: pd.Series, categories: tuple[str, ...], cluster: pd.Series, level: float) -> list[dict]:
    n = int(values.notna().sum())
    rows = []
    for cat in categories:
        y = (values == cat).to_numpy(dtype=float)[values.notna().to_numpy()]
        k = int(y.sum())
        deff = design_effect(y, cluster[values.notna()].to_numpy())
        lo, hi = share_ci(k, n, deff, level)
        rows.append({"category": cat, "placements": k, "of": n, "share": k / n if n else np.nan,
                     "ci_low": lo, "ci_high": hi, "design_effect": deff})
    return rows


@dataclass
class SecuredPlacements:
    """Configure, fit(frame, requests); tables are long data frames (group, value, category, counts, share, CI).

    suitability: secured type's suitability (SUITABILITY) among placements with a request; location:
    preferred location met or not (requests recording it); both overall, by need tier (`tier_col`)
    and by council. Child-level frame in, aggregates out.
    """

    tier_col: str = "TIER"
    tier_order: tuple[str, ...] = ()      # tiers in this order (least to most need), others after
    level: float = 0.95
    suitability: pd.DataFrame = field(default=None, init=False, repr=False)
    location: pd.DataFrame = field(default=None, init=False, repr=False)
    counts: dict = field(default_factory=dict, init=False)

    def fit(self, frame: pd.DataFrame) -> "SecuredPlacements":
        """frame: the analysis frame (its SECURED_SUITABILITY and PREFERRED_LOCATION_MET come from the
        placement requests, frame.secured_vs_preferred)."""
        has = frame["HAS_REQUEST"].fillna(False).to_numpy(bool) if "HAS_REQUEST" in frame else np.zeros(len(frame), bool)
        sub = frame.loc[has].copy()
        sub["_LOCATION"] = sub["PREFERRED_LOCATION_MET"].map({True: LOCATION[0], False: LOCATION[1]})
        sub["_SUIT"] = sub["SECURED_SUITABILITY"].where(sub["SECURED_SUITABILITY"].isin(SUITABILITY))
        sub["_CLUSTER"] = sub["LA"].astype(str) + "\x1f" + sub["CHILD"].astype(str)
        tier = sub[self.tier_col].astype(object).where(sub[self.tier_col].notna(), "Not assessed")
        groups = [("all", pd.Series(ALL, index=sub.index)), ("need tier", tier), ("council", sub["LA"].astype(str))]
        self.suitability = self._table(sub, "_SUIT", SUITABILITY, groups)
        self.location = self._table(sub, "_LOCATION", LOCATION, groups)
        self.counts = {"placements": int(len(frame)), "with_request": int(has.sum()),
                       "with_location": int(sub["_LOCATION"].notna().sum())}
        return self

    def _table(self, sub: pd.DataFrame, col: str, cats: tuple[str, ...], groups) -> pd.DataFrame:
        rows = []
        for group, labels in groups:
            rank = {v: i for i, v in enumerate(self.tier_order)} if group == "need tier" else {}
            for value in sorted(labels.dropna().unique(), key=lambda v: (rank.get(v, len(rank)), str(v))):
                m = (labels == value).to_numpy()
                for r in _shares(sub.loc[m, col], cats, sub.loc[m, "_CLUSTER"], self.level):
                    rows.append({"group": group, "value": value, **r})
        cols = ["group", "value", "category", "placements", "of", "share", "ci_low", "ci_high", "design_effect"]
        return pd.DataFrame(rows, columns=cols)

    def headline(self, category: str = "Preferred") -> dict:
        """The region-wide share of one category, {rate, ci_low, ci_high, placements, of}."""
        t = self.suitability if category in SUITABILITY else self.location
        r = t[(t["group"] == "all") & (t["category"] == category)]
        if r.empty:
            return {"rate": None, "ci_low": None, "ci_high": None, "placements": 0, "of": 0}
        r = r.iloc[0]
        return {"rate": r["share"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "placements": int(r["placements"]),
                "of": int(r["of"]), "design_effect": r["design_effect"]}

    def to_dict(self) -> dict:
        return {"counts": self.counts, "preferred_type_secured": self.headline("Preferred"),
                "suitable_not_preferred": self.headline("Suitable but not preferred"),
                "unsuitable": self.headline("Unsuitable"),
                "preferred_location_met": self.headline(LOCATION[0]),
                "interval": "Wilson 95%, effective sample size n / design effect of clustering by child"}


def counts_wide(table: pd.DataFrame, group: str) -> pd.DataFrame:
    """Counts of one grouping as a two-way table (values x categories) for Publisher.crosstab."""
    t = table[table["group"] == group]
    cats = list(dict.fromkeys(t["category"]))
    return t.pivot(index="value", columns="category", values="placements").reindex(columns=cats).fillna(0).astype(int)


def shares_shown(table: pd.DataFrame, group: str, protected: pd.DataFrame, marker: str = "c") -> pd.DataFrame:
    """Shares and intervals of one grouping, hidden wherever the published (protected) count is hidden."""
    t = table[table["group"] == group][["value", "category", "share", "ci_low", "ci_high", "design_effect"]].copy()
    t = t.astype({"share": object, "ci_low": object, "ci_high": object})
    hidden = np.array([str(protected.loc[v, c]) == marker for v, c in zip(t["value"], t["category"])])
    total = np.array([str(protected.loc[v, "Total"]) == marker if "Total" in protected else False for v in t["value"]])
    t.loc[hidden | total, ["share", "ci_low", "ci_high"]] = marker
    return t.set_index(["value", "category"])
