"""Question 1's data: the model sample, the nested covariate sets, the outcome at the horizon and
the person-period rows of the discrete-time hazard model.

Kept apart from the fitting so each step can be checked on its own: which placements are analysed
(and why others are not), what M0, M1 and M2 hold, and how a placement becomes interval rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rcceval.spec import codes

NONE, UNPLANNED, OTHER_ENDING = 0, 1, 2  # cause of the last person-period row

# Legal status at the start, grouped as the 903's LS codes are usually read.
LEGAL_GROUPS = {"V2": "section20", "V1": "section20", "C1": "interim_care_order", "C2": "care_order",
                "D1": "care_order", "E1": "placement_order", "L1": "emergency", "L2": "emergency",
                "L3": "emergency", "J1": "youth_justice", "J2": "youth_justice", "J3": "youth_justice"}

# M0: what the 903 already holds. Column -> reference level (None: a 0/1 column).
M0_CATEGORICAL: dict[str, str] = {
    "AGE_BAND": codes.AGE_BAND_REFERENCE, "SEX_GROUP": "male", "CIN_START": "N1", "LEGAL": "section20",
    "TYPE": codes.MODEL_TYPE_REFERENCE, "PROVIDER": "PR1", "PREV_BAND": "0",
    "DISTANCE_BAND": "under 20 miles", "SDQ_BAND": "normal", "LA": "",
}
M0_BINARY = ("UASC",)
MISMATCH = "MISMATCH"
RARE = "other (rare)"


def interval_edges(horizon_days: int, interval_days: int) -> np.ndarray:
    """Interval edges 0 < e1 < ... < horizon (days); a last stub shorter than half an interval joins the one before."""
    if interval_days <= 0 or horizon_days <= 0:
        raise ValueError("horizon_days and interval_days must be positive")
    starts = np.arange(0, horizon_days, interval_days, dtype=float)
    if len(starts) > 1 and horizon_days - starts[-1] < interval_days / 2:
        starts = starts[:-1]
    return np.r_[starts, float(horizon_days)]


@dataclass(frozen=True)
class Outcome:
    """Each placement's follow-up to the horizon: time at risk, cause, and whether the status is known."""

    time: np.ndarray        # days at risk within the horizon (>= 1)
    cause: np.ndarray       # UNPLANNED / OTHER_ENDING if the placement ended so by the horizon, else NONE
    known: np.ndarray       # status at the horizon is known (not censored before it)
    y: np.ndarray           # unplanned ending within the horizon (meaningful where known)


UNKNOWN_AS = ("other", "unplanned")  # the two bounds for an ending of unknown cause


def horizon_outcome(frame: pd.DataFrame, horizon_days: int, unknown_as: str | np.ndarray = "other") -> Outcome:
    """Unplanned ending within the horizon; other endings compete, open placements are censored.

    An ending of unknown cause (ENDING unknown) is an ending, never censored: the placement stopped,
    so its status at the horizon is known except for the cause. `unknown_as` says which cause it gets:
    "other" (none unplanned: the lower bound for unplanned endings, the default), "unplanned" (all
    unplanned: the upper bound), or an array over the rows holding one imputed draw (True where the
    unknown ending is taken as unplanned; stats/impute_cause.py draws them) for multiple imputation.
    A placement ending on its first day (0 days) is counted as ending on day 1 so it has a first interval
    (the analysis frame drops zero-day placements, so this only guards frames built otherwise).
    """
    days = np.maximum(frame["DURATION_DAYS"].to_numpy(dtype=float), 1.0)
    censored = frame["CENSORED"].to_numpy(bool)
    unknown = frame["ENDING"].eq(codes.UNKNOWN).to_numpy()
    if isinstance(unknown_as, str):
        if unknown_as not in UNKNOWN_AS:
            raise ValueError(f"unknown_as must be one of {UNKNOWN_AS} or an array, not {unknown_as!r}")
        as_unplanned = np.full(len(frame), unknown_as == "unplanned")
    else:
        as_unplanned = np.asarray(unknown_as, bool)
        if as_unplanned.shape != (len(frame),):
            raise ValueError(f"unknown_as has {as_unplanned.shape} values for {len(frame)} placements")
    unplanned = frame["ENDING"].eq(codes.UNPLANNED).to_numpy() | (unknown & as_unplanned)
    within = days <= horizon_days
    cause = np.where(within & ~censored, np.where(unplanned, UNPLANNED, OTHER_ENDING), NONE)
    known = ~censored | (days >= horizon_days)
    return Outcome(time=np.minimum(days, horizon_days), cause=cause.astype(np.int8), known=known,
                   y=(cause == UNPLANNED))


@dataclass(frozen=True)
class PersonPeriod:
    """One row per placement and interval at risk (rows of a placement are consecutive)."""

    placement: np.ndarray   # row -> placement (index into the sample)
    interval: np.ndarray    # row -> interval (0-based)
    cause: np.ndarray       # NONE on all rows but a placement's last, which carries its cause
    exposure: np.ndarray    # fraction of the interval at risk (below 1 only on a last row ended part-way)
    edges: np.ndarray

    @property
    def n_intervals(self) -> int:
        return len(self.edges) - 1

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"placement": self.placement, "interval": self.interval, "cause": self.cause,
                             "exposure": self.exposure})


def person_period(time: np.ndarray, cause: np.ndarray, edges: np.ndarray) -> PersonPeriod:
    """Expand placements into interval rows (vectorised: np.repeat, no loop over placements).

    Interval k covers days (e_k, e_k+1]. A placement followed for t days has a row for every interval
    starting before t; its last row carries its cause and the fraction of that interval it was at risk.
    """
    time = np.asarray(time, dtype=float)
    starts, widths = edges[:-1], np.diff(edges)
    n_rows = np.searchsorted(starts, time, side="left")
    if (n_rows < 1).any():
        raise ValueError("every placement needs a positive time at risk")
    placement = np.repeat(np.arange(len(time)), n_rows)
    first_row = np.cumsum(n_rows) - n_rows
    interval = np.arange(len(placement)) - np.repeat(first_row, n_rows)
    last = first_row + n_rows - 1
    exposure = np.ones(len(placement))
    exposure[last] = (time - starts[interval[last]]) / widths[interval[last]]
    row_cause = np.zeros(len(placement), dtype=np.int8)
    row_cause[last] = cause
    return PersonPeriod(placement, interval.astype(np.int64), row_cause, exposure, np.asarray(edges, float))


# ---- covariates ---------------------------------------------------------------------------------
def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's categorical columns derived from the analysis frame (no levels merged yet)."""
    out = pd.DataFrame(index=frame.index)
    out["AGE_BAND"] = frame["AGE_BAND"]
    out["SEX_GROUP"] = np.where(frame["SEX"].astype(str).eq("2"), "female",
                                np.where(frame["SEX"].astype(str).eq("1"), "male", "unknown"))
    out["CIN_START"] = frame["CIN_START"].replace("", "unknown").fillna("unknown")
    out["LEGAL"] = frame["LS_START"].map(LEGAL_GROUPS).fillna("other")
    out["TYPE"] = frame["TYPE"]
    out["PROVIDER"] = frame["PROVIDER"].fillna("none")
    prev = frame["PREV_PLACEMENTS"].to_numpy()
    out["PREV_BAND"] = np.where(prev >= 3, "3+", prev.astype(str))
    out["DISTANCE_BAND"] = frame["DISTANCE_BAND"]
    out["SDQ_BAND"] = frame["SDQ_BAND"]
    out["LA"] = frame["LA"]
    out["UASC"] = frame["UASC"].astype(float)
    return out


@dataclass(frozen=True)
class Levels:
    """The levels of each categorical column kept in the models (rare ones pooled), with their reference."""

    kept: dict[str, list[str]]          # column -> non-reference levels with a column in the design
    reference: dict[str, str]
    pooled: dict[str, list[str]] = field(default_factory=dict)  # column -> levels pooled as RARE or into the reference


def choose_levels(prepared: pd.DataFrame, events: np.ndarray, min_events: int,
                  columns: dict[str, str] = M0_CATEGORICAL) -> Levels:
    """Keep a level with at least `min_events` unplanned endings; pool the rest (then into the reference).

    A level with few events has a coefficient the data cannot estimate (it runs off to minus infinity
    when a cross-validation fold holds none of them), so rare levels are pooled before any fit.
    """
    kept, reference, pooled = {}, {}, {}
    for col, ref in columns.items():
        values = prepared[col].astype(str)
        counts = pd.Series(events, index=prepared.index).groupby(values).sum()
        sizes = values.value_counts()
        if col == "LA" or ref not in sizes.index:
            ref = str(sizes.index[0]) if col != "LA" else sorted(sizes.index)[0]
        rare = sorted(str(v) for v in counts.index if v != ref and counts[v] < min_events)
        keep = sorted(str(v) for v in counts.index if v != ref and counts[v] >= min_events)
        if rare and counts[rare].sum() >= min_events and len(rare) > 1:
            keep.append(RARE)
        reference[col] = ref
        kept[col] = keep
        if rare:
            pooled[col] = rare
    return Levels(kept, reference, pooled)


def apply_levels(prepared: pd.DataFrame, levels: Levels) -> pd.DataFrame:
    """Pooled levels replaced: by RARE where it is kept, else by the reference."""
    out = prepared.copy()
    for col, rare in levels.pooled.items():
        target = RARE if RARE in levels.kept[col] else levels.reference[col]
        out[col] = out[col].astype(str).where(~out[col].astype(str).isin(rare), target)
    return out


def m0_design(prepared: pd.DataFrame, levels: Levels) -> pd.DataFrame:
    """Dummy columns of M0, named COLUMN[level] (references left out) plus the 0/1 columns."""
    cols = {}
    for col, keep in levels.kept.items():
        values = prepared[col].astype(str).to_numpy()
        for level in keep:
            cols[f"{col}[{level}]"] = (values == level).astype(float)
    for col in M0_BINARY:
        cols[col] = prepared[col].to_numpy(dtype=float)
    return pd.DataFrame(cols, index=prepared.index)


def aliased_columns(X: pd.DataFrame, tol: float = 1e-9) -> list[str]:
    """Columns that are (near) linear combinations of a constant and the columns before them.

    E.g. provider PR0 is exactly placement type 'parents' in the 903 (P1 placements are with parents);
    such a column cannot be estimated and is dropped, as R's glm reports it NA. Greedy, in column order,
    on the cross-product matrix (cheap: columns x columns).
    """
    Z = np.column_stack([np.ones(len(X)), X.to_numpy(dtype=float)])
    G = Z.T @ Z
    keep = [0]
    out = []
    for j in range(1, G.shape[0]):
        g = G[np.ix_(keep, keep)]
        b = G[keep, j]
        resid = G[j, j] - b @ np.linalg.lstsq(g, b, rcond=None)[0]
        scale = G[j, j] - G[0, j] ** 2 / G[0, 0]
        if scale <= 0 or resid <= tol * max(scale, 1e-300):
            out.append(X.columns[j - 1])
        else:
            keep.append(j)
    return out


def needs_columns(frame: pd.DataFrame) -> list[str]:
    """The need-domain terms of M1: intensity then frequency per domain (scores if the instrument has only scores)."""
    inten = [c for c in frame.columns if c.startswith("I_") and frame[c].notna().any()]
    freq = [c for c in frame.columns if c.startswith("F_") and frame[c].notna().any()]
    if inten or freq:
        return inten + freq
    return [c for c in frame.columns if c.startswith("S_") and frame[c].notna().any()]


def domain_of(term: str) -> str:
    """The domain a needs term belongs to (I_behaviour -> behaviour)."""
    return term.split("_", 1)[1]


@dataclass(frozen=True)
class ModelSample:
    """The placements analysed (complete needs and capability) and the counts of those left out."""

    frame: pd.DataFrame
    exclusions: pd.DataFrame   # reason, placements, unplanned_within_horizon (among known status)


def model_sample(frame: pd.DataFrame, needs_terms: list[str], horizon_days: int) -> ModelSample:
    """Placements with an age band, every needs term and a mismatch; the rest counted by reason.

    M0, M1 and M2 are fitted on the same placements so that they are nested (likelihood-ratio tests
    need it); the placements left out are reported with their unplanned-ending rate so a reader can see
    whether the missing needs data is selective.
    """
    outcome = horizon_outcome(frame, horizon_days)
    no_age = frame["AGE_BAND"].isna().to_numpy()
    no_needs = frame["NEEDS_MISSING"].to_numpy(bool) | frame[needs_terms].isna().any(axis=1).to_numpy()
    no_cap = frame[MISMATCH].isna().to_numpy() & ~no_needs
    reasons = [("no age band (age unknown or 18+)", no_age),
               ("no needs assessment in force at the start", no_needs & ~no_age),
               ("needs but no capability (no mismatch)", no_cap & ~no_age),
               ("analysed", ~(no_age | no_needs | no_cap))]
    rows = []
    for reason, mask in reasons:
        k = mask & outcome.known
        rows.append({"reason": reason, "placements": int(mask.sum()), "known_at_horizon": int(k.sum()),
                     "unplanned_within_horizon": int((outcome.y & k).sum())})
    table = pd.DataFrame(rows)
    table["pct_unplanned"] = (100 * table["unplanned_within_horizon"] / table["known_at_horizon"].where(
        table["known_at_horizon"] > 0)).round(1)
    keep = ~(no_age | no_needs | no_cap)
    return ModelSample(frame.loc[keep].reset_index(drop=True), table)
