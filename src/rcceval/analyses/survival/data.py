"""Question 2's data: follow-up and cause of each placement, need profiles, the Cox design matrix,
time-varying needs as (start, stop] intervals and episode splitting for time-varying effects.

Kept apart from the estimation (survival.py) so each step can be checked on its own: which
placements are analysed and why others are not, what a profile is, which columns a model holds,
and how a placement becomes interval rows. Everything here is vectorised: no loop over
placements or children.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rcceval.analyses.prediction.data import LEGAL_GROUPS
from rcceval.derive.needs import frequency_cols, intensity_cols, needs_wide, score_cols, tiers
from rcceval.spec import codes
from rcceval.spec.instruments import Instrument

# Cause codes of the competing-risks analyses (0 = censored: open at the extract date or unknown).
CENSORED, UNPLANNED, PLANNED, LEFT_CARE = 0, 1, 2, 3
CAUSES = {UNPLANNED: codes.UNPLANNED, PLANNED: codes.PLANNED, LEFT_CARE: codes.LEFT_CARE}
CAUSE_LABELS = {codes.UNPLANNED: "Unplanned ending", codes.PLANNED: "Planned change",
                codes.LEFT_CARE: "Left care"}
CAUSE_CODE = {name: code for code, name in CAUSES.items()}

# Columns added by `follow_up` (model columns never clash with the frame's own names).
TIME, CAUSE, CLUSTER, STRATUM = "_TIME", "_CAUSE", "_CLUSTER", "_STRATUM"
START, STOP = "_START", "_STOP"


# --------------------------------------------------------------------------------------------
# Follow-up
# --------------------------------------------------------------------------------------------

def follow_up(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's placements with some follow-up, with time (days), cause, child cluster and stratum.

    _TIME is DURATION_DAYS; placements with no follow-up (0 days: started on the extract date)
    are left out, as every survival estimator would. _CAUSE is 1 unplanned ending, 2 planned
    change, 3 left care, 0 censored (open at the extract date, or an ending the data cannot
    classify). _CLUSTER numbers the children (council and CHILD: placements of one child are
    not independent); _STRATUM is the council (LA).
    """
    keep = frame["DURATION_DAYS"].to_numpy() > 0
    out = frame.loc[keep].copy()
    out[TIME] = out["DURATION_DAYS"].astype(float)
    out[CAUSE] = out["ENDING"].map(CAUSE_CODE).fillna(CENSORED).astype(np.int64)
    out[CLUSTER] = pd.factorize(out["LA"].astype(str) + "\x1f" + out["CHILD"].astype(str))[0]
    out[STRATUM] = out["LA"].astype(str)
    # question 1's baseline groupings (prediction/data.py), where the frame has their columns
    if "LS_START" in out:
        out["LEGAL"] = out["LS_START"].map(LEGAL_GROUPS).fillna("other")
    if "PREV_PLACEMENTS" in out:
        prev = out["PREV_PLACEMENTS"].to_numpy(dtype=float)
        out["PREV_BAND"] = np.where(prev >= 3, "3+", np.nan_to_num(prev).astype(int).astype(str))
    if "CIN_START" in out:
        out["CIN_START"] = out["CIN_START"].replace("", "unknown").fillna("unknown")
    return out


# --------------------------------------------------------------------------------------------
# Need profiles
# --------------------------------------------------------------------------------------------

NOT_ASSESSED = "Not assessed"


def tier_labels(instrument: Instrument) -> dict[str, str]:
    """Tier id -> label, in order of increasing need (the instrument lists the highest first)."""
    return {b.id: b.label for b in reversed(instrument.bands)}


def _merged_level_labels(labels: tuple[str, ...]) -> list[str]:
    """Labels of levels 1..max with level 0 merged into level 1 ("none or low")."""
    return [f"{labels[0]} or {labels[1]}"] + list(labels[2:])


def need_profiles(frame: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Need profile columns of each row (same index): tier and the intensity x frequency grid.

    PROFILE_TIER: the instrument's tier label (ordered categorical, lowest need first).
    PEAK_INTENSITY: the highest intensity in any domain (levels 0 and 1 merged).
    PEAK_FREQUENCY: the highest frequency among the domains at that peak intensity (0 and 1
    merged): how often the most intense need shows. PROFILE_GRID: "<intensity> x <frequency>".
    Rows with no needs assessment in force get missing values (never a guessed profile).
    """
    labels = tier_labels(instrument)
    tier = tiers(frame, instrument) if "TIER" not in frame.columns else frame["TIER"]
    out = pd.DataFrame(index=frame.index)
    out["PROFILE_TIER"] = pd.Categorical(tier.map(labels), categories=list(labels.values()), ordered=True)
    inten = frame[intensity_cols(instrument)].to_numpy(dtype=float)
    freq = frame[frequency_cols(instrument)].to_numpy(dtype=float)
    rated = ~np.isnan(inten).all(axis=1)
    peak = np.nanmax(np.where(np.isnan(inten), -1, inten), axis=1)
    at_peak = np.where(inten == peak[:, None], np.nan_to_num(freq, nan=-1), -1)
    peak_f = at_peak.max(axis=1)
    i_labels = _merged_level_labels(instrument.intensity_labels)
    f_labels = _merged_level_labels(instrument.frequency_labels)
    i_idx = np.clip(peak, 1, None).astype(int) - 1
    f_idx = np.clip(peak_f, 1, None).astype(int) - 1
    i_cat = np.where(rated, np.array(i_labels, dtype=object)[np.clip(i_idx, 0, len(i_labels) - 1)], None)
    f_cat = np.where(rated & (peak_f >= 0), np.array(f_labels, dtype=object)[np.clip(f_idx, 0, len(f_labels) - 1)], None)
    out["PEAK_INTENSITY"] = pd.Categorical(i_cat, categories=i_labels, ordered=True)
    out["PEAK_FREQUENCY"] = pd.Categorical(f_cat, categories=f_labels, ordered=True)
    grid = [f"{a} x {b}" for a in i_labels for b in f_labels]
    cell = np.where(pd.isna(i_cat) | pd.isna(f_cat), None,
                    pd.Series(i_cat).astype(str).str.cat(pd.Series(f_cat).astype(str), sep=" x ").to_numpy())
    out["PROFILE_GRID"] = pd.Categorical(cell, categories=grid, ordered=True)
    return out


def profile_domains(fu: pd.DataFrame, profile: pd.Series, instrument: Instrument) -> pd.DataFrame:
    """The domains behind each profile: placements and mean intensity and frequency per domain."""
    prof = profile.reindex(fu.index)
    cols = intensity_cols(instrument) + frequency_cols(instrument)
    sub = fu.loc[prof.notna(), cols].astype(float)
    g = sub.groupby(prof.loc[sub.index], observed=True, sort=True)
    out = g.mean()
    out.insert(0, "placements", g.size())
    out.index = out.index.astype(str)
    out.index.name = "profile"
    return out.reset_index()


@dataclass
class NeedClusters:
    """Data-driven need profiles: k-means on the standardised intensity and frequency ratings.

    Method: Lloyd's k-means with k-means++ starting centres, `restarts` starts (the one with the
    lowest within-cluster sum of squares kept), every rating standardised to mean 0, sd 1 over the
    rows clustered; clusters are numbered by increasing mean total intensity and named by their
    two highest-intensity domains. Seeded: the same data and seed give the same clusters.
    """

    k: int
    seed: int
    labels: pd.Series                 # cluster name of each row (NaN where not assessed)
    centres: pd.DataFrame             # mean intensity and frequency by domain, per cluster
    within_ss: float
    method: str = field(default="k-means (Lloyd; k-means++ start; ratings standardised)")

    def to_dict(self) -> dict:
        return {"k": self.k, "seed": self.seed, "method": self.method, "within_ss": self.within_ss,
                "centres": self.centres.round(3).to_dict(orient="index")}


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [x[rng.integers(len(x))]]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else None
        centres.append(x[rng.choice(len(x), p=p)])
        d2 = np.minimum(d2, ((x - centres[-1]) ** 2).sum(axis=1))
    return np.array(centres)


def _lloyd(x: np.ndarray, w: np.ndarray, centres: np.ndarray, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted Lloyd iterations (rows of x with weights w: distinct rating patterns and their counts)."""
    k = len(centres)
    assign = np.full(len(x), -1, dtype=np.int64)
    xx = (x * x).sum(1)
    for _ in range(max_iter):
        d2 = xx[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
        new = d2.argmin(axis=1)
        if np.array_equal(new, assign):
            break
        assign = new
        onehot = np.zeros((len(x), k))
        onehot[np.arange(len(x)), assign] = w
        counts = onehot.sum(axis=0)
        centres = np.where(counts[:, None] > 0, (onehot.T @ x) / np.maximum(counts, 1e-300)[:, None], centres)
    ss = float((w * ((x - centres[assign]) ** 2).sum(axis=1)).sum())
    return assign, centres, ss


def need_clusters(frame: pd.DataFrame, instrument: Instrument, k: int = 4, seed: int = 0,
                  restarts: int = 10) -> NeedClusters:
    """Data-driven need profiles (see NeedClusters for the method). Rows not assessed get NaN."""
    cols = intensity_cols(instrument) + frequency_cols(instrument)
    values = frame[cols].to_numpy(dtype=float)
    ok = ~np.isnan(values).any(axis=1)
    x = values[ok]
    mu, sd = x.mean(axis=0), x.std(axis=0)
    z = (x - mu) / np.where(sd > 0, sd, 1)
    # ratings are whole numbers: cluster the distinct patterns, weighted by how often each occurs
    patterns, inverse, counts = np.unique(z, axis=0, return_inverse=True, return_counts=True)
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        assign, centres, ss = _lloyd(patterns, counts.astype(float), _kmeans_pp(z, k, rng))
        if best is None or ss < best[2]:
            best = (assign, centres, ss)
    assign, ss = best[0][inverse.ravel()], best[2]
    raw = pd.DataFrame(x, columns=cols).groupby(assign).mean()
    icols = intensity_cols(instrument)
    order = raw[icols].sum(axis=1).sort_values(kind="stable").index.to_numpy()
    rank = {int(c): r for r, c in enumerate(order)}
    # named by the domains whose intensity sits furthest above the average (standardised)
    zc = pd.DataFrame(z[:, :len(icols)], columns=icols).groupby(assign).mean()
    names = {}
    for c in order:
        top = zc.loc[c].sort_values(ascending=False, kind="stable")
        top = top[top > 0].index[:2]
        what = " & ".join(t[2:].replace("_", " ") for t in top) if len(top) else "below average in every domain"
        names[int(c)] = f"C{rank[int(c)] + 1}: {what}"
    labels = pd.Series(np.nan, index=frame.index, dtype=object)
    labels[ok] = [names[int(a)] for a in assign]
    centres = raw.loc[order].set_axis([names[int(c)] for c in order])
    centres.index.name = "cluster"
    centres.insert(0, "share", np.bincount(assign, minlength=k)[order] / len(assign))
    ordered = [names[int(c)] for c in order]
    return NeedClusters(k=k, seed=seed, labels=pd.Series(pd.Categorical(labels, categories=ordered, ordered=True),
                                                         index=frame.index, name="PROFILE_CLUSTER"),
                        centres=centres, within_ss=ss)


# --------------------------------------------------------------------------------------------
# Cox design matrix
# --------------------------------------------------------------------------------------------

# Question 1's baseline (M0) as question 2 adjusts for it: column -> reference level(s). A second
# reference keeps a generating covariate's meaning: LEGAL's levels are contrasts within care orders
# (against a full care order) and outside them (against section 20), beside CARE_ORDER; PREV_BAND's
# 2 and 3+ are against 1 previous placement, beside FIRST_IN_PERIOD (none).
BASELINE_CATEGORICAL: tuple[tuple[str, str | tuple[str, ...]], ...] = (
    ("AGE_BAND", codes.AGE_BAND_REFERENCE), ("TYPE", codes.MODEL_TYPE_REFERENCE), ("LEGAL", ("section20", "care_order")),
    ("PREV_BAND", ("0", "1")), ("CIN_START", "N1"), ("DISTANCE_BAND", "under 20 miles"), ("SDQ_BAND", "normal"))
# levels of these columns held by fewer placements than CoxSpec.min_level get no indicator (they
# join their reference); age band and placement type keep every level (question 3 simulates them)
POOLED = ("LEGAL", "PREV_BAND", "CIN_START", "DISTANCE_BAND", "SDQ_BAND")


@dataclass(frozen=True)
class CoxSpec:
    """What a Cox model of question 2 holds.

    needs: intensity and frequency of every domain (I_<d>, F_<d>, 0-3, linear);
    mismatch: MISMATCH (sum over domains of need intensity above the placement's capability);
    second_best: SECOND_BEST (the type secured was not the one preferred). It is recorded only
    where a placement request exists, so a model with it is fitted on placements with a request
    (question 2's request-only sensitivity analysis).
    categorical: 903 columns expanded to indicators against a reference level (or levels):
    question 1's baseline, age band, placement type, legal status, previous placements, category
    of need, distance and SDQ band, each where the frame has it (a column absent from the frame
    is left out; a level nobody has is dropped); binary: 903 flags (FEMALE is SEX == "2").
    strata: stratified by council (each council its own baseline hazard); cluster: robust
    variance clustered by child.
    """

    needs: bool = True
    mismatch: bool = True
    second_best: bool = False
    categorical: tuple[tuple[str, str | tuple[str, ...]], ...] = BASELINE_CATEGORICAL
    binary: tuple[str, ...] = ("FIRST_IN_PERIOD", "CARE_ORDER", "UASC", "FEMALE")
    strata: tuple[str, ...] = ("LA",)
    extra_strata: tuple[str, ...] = ()     # e.g. ("TYPE",) where a categorical fails PH
    min_level: int = 20

    def columns(self, instrument: Instrument) -> list[str]:
        """Frame columns the model needs (rows missing any are left out: complete cases)."""
        cols = []
        if self.needs:
            cols += intensity_cols(instrument) + frequency_cols(instrument)
        if self.mismatch:
            cols.append("MISMATCH")
        if self.second_best:
            cols.append("SECOND_BEST")
        return cols


def level_name(column: str, level: str) -> str:
    return f"{column}={level}"


@dataclass
class Design:
    """A model's rows: covariates X (named), time, cause, cluster and stratum, and what was left out."""

    X: pd.DataFrame
    time: np.ndarray
    cause: np.ndarray
    cluster: np.ndarray
    stratum: np.ndarray
    rows: pd.Index                      # index of the follow-up frame rows used
    excluded: dict[str, int]            # reason -> placements left out
    dropped: list[str]                  # covariates left out (constant in the sample)
    entry: np.ndarray | None = None     # (start, stop] data: start of each interval

    @property
    def names(self) -> list[str]:
        return list(self.X.columns)

    def subset(self, keep: np.ndarray, drop_columns: list[str] = ()) -> "Design":
        """The design restricted to rows `keep` (boolean), without `drop_columns`."""
        return Design(X=self.X.loc[keep].drop(columns=list(drop_columns)), time=self.time[keep],
                      cause=self.cause[keep], cluster=self.cluster[keep], stratum=self.stratum[keep],
                      rows=self.rows[keep], excluded=dict(self.excluded), dropped=list(self.dropped),
                      entry=None if self.entry is None else self.entry[keep])

    def without_eventless_levels(self, cause: int) -> tuple["Design", list[str]]:
        """Leave out the placements of a category level (an indicator "COL=level") with no ending of
        `cause`: its hazard ratio would be 0 with a meaningless interval, and leaving its rows out is
        exactly the limit the fit tends to (their weight in every risk set goes to 0)."""
        event = self.cause == cause
        cols, rows = [], np.zeros(len(self.time), dtype=bool)
        for c in self.names:
            if "=" in c:
                x = self.X[c].to_numpy() == 1
                if x.any() and not event[x].any():
                    cols.append(c)
                    rows |= x
        if not cols:
            return self, []
        out = self.subset(~rows, cols)
        out.excluded[f"level with no {CAUSES[cause]} ending ({', '.join(cols)})"] = int(rows.sum())
        return out, cols

    def lifelines_frame(self, cause: int = UNPLANNED) -> pd.DataFrame:
        """The frame lifelines fits: covariates, T, E (this cause), council (strata), cluster."""
        out = self.X.copy()
        out["T"] = self.time
        out["E"] = (self.cause == cause).astype(np.int64)
        out["council"] = self.stratum
        out["cluster"] = self.cluster
        if self.entry is not None:
            out.insert(len(out.columns) - 4, "T0", self.entry)
        return out.reset_index(drop=True)


def design(fu: pd.DataFrame, instrument: Instrument, spec: CoxSpec = CoxSpec()) -> Design:
    """Covariates of `spec` for the follow-up frame's complete cases (see follow_up).

    Rows missing a needs rating or mismatch (no assessment in force, or no known capability) are
    left out and counted; with second_best, so are rows with no placement request. Indicator
    columns constant in the sample (a level nobody has) are dropped and listed.
    """
    excluded: dict[str, int] = {}
    keep = np.ones(len(fu), dtype=bool)
    if spec.needs:
        miss = fu[intensity_cols(instrument) + frequency_cols(instrument)].isna().any(axis=1).to_numpy()
        excluded["no needs assessment in force"] = int((keep & miss).sum())
        keep &= ~miss
    if spec.mismatch:
        miss = fu["MISMATCH"].isna().to_numpy()
        excluded["capability unknown (mismatch missing)"] = int((keep & miss).sum())
        keep &= ~miss
    if spec.second_best:
        miss = fu["SECOND_BEST"].isna().to_numpy()
        excluded["no placement request (second best unknown)"] = int((keep & miss).sum())
        keep &= ~miss
    categorical = [(c, r) for c, r in spec.categorical if c in fu.columns]
    for col, _ in categorical:
        miss = fu[col].isna().to_numpy()
        if miss.any():
            excluded[f"{col} missing"] = int((keep & miss).sum())
            keep &= ~miss
    sub = fu.loc[keep]
    X = pd.DataFrame(index=sub.index)
    for col in spec.columns(instrument):
        X[col] = sub[col].astype(float)
    rare = []
    for col, ref in categorical:
        if col in spec.extra_strata:
            continue
        values = sub[col].astype(str)
        counts = values.value_counts()
        refs = {ref} if isinstance(ref, str) else set(ref)
        for level in sorted(set(values) - refs, key=_level_order):
            if col in POOLED and counts[level] < spec.min_level:
                rare.append(f"{level_name(col, level)} (fewer than {spec.min_level} placements: with the reference)")
                continue
            X[level_name(col, level)] = (values == level).astype(float)
    for col in spec.binary:
        if col == "FEMALE" and "SEX" in sub:
            X[col] = (sub["SEX"].astype(str) == "2").astype(float)
        elif col in sub:
            X[col] = sub[col].astype(float)
    constant = [c for c in X.columns if X[c].nunique() < 2]
    X = X.drop(columns=constant)
    aliased = aliased_columns(X)
    X = X.drop(columns=aliased)
    stratum = sub[STRATUM].to_numpy()
    if spec.extra_strata:
        stratum = pd.Series(stratum).str.cat([sub[c].astype(str).reset_index(drop=True)
                                               for c in spec.extra_strata], sep="|").to_numpy()
    return Design(X=X, time=sub[TIME].to_numpy(dtype=float), cause=sub[CAUSE].to_numpy(),
                  cluster=sub[CLUSTER].to_numpy(), stratum=stratum, rows=sub.index,
                  excluded=excluded, dropped=constant + rare + aliased)


def aliased_columns(X: pd.DataFrame, tol: float = 1e-9) -> list[str]:
    """Columns that are exact linear combinations of others (R's coxph reports them as aliased, NA):
    left out and listed. Checked in column order with "unknown"/"missing" levels last, so an
    unknown-level indicator goes before a substantive covariate it coincides with (UASC children
    have no home postcode, so "distance unknown" is UASC)."""
    if X.shape[1] < 2:
        return []
    last = [c for c in X.columns if str(c).endswith(("=unknown", "=missing"))]
    order = [c for c in X.columns if c not in last] + last
    Z = X[order].to_numpy(dtype=float)
    Z = Z - Z.mean(axis=0)
    Z = Z / np.maximum(np.linalg.norm(Z, axis=0), 1e-300)
    r = np.abs(np.diag(np.linalg.qr(Z, mode="r")))
    return [c for c, v in zip(order, r, strict=True) if v < tol * max(1.0, r.max())]


def _level_order(level: str):
    """Sort numeric-looking levels (age bands) by their number, others alphabetically."""
    head = level.split("-")[0]
    return (0, float(head), level) if head.replace(".", "").isdigit() else (1, 0.0, level)


# --------------------------------------------------------------------------------------------
# Time-varying needs: (start, stop] intervals from the assessments within each placement
# --------------------------------------------------------------------------------------------

def needs_intervals(fu: pd.DataFrame, assessments: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """One row per placement and period between needs assessments, needs re-scored at each review.

    A placement followed for D days (0, D] with reviews dated d1 < d2 < ... days after its start
    (0 < d < D) becomes the rows (0, d1], (d1, d2], ..., (dk, D]: the first carries the needs in
    force at the start (the frame's, with its look-back), each later row the needs of the review
    that opened it, and the mismatch recomputed from those needs and the placement's (fixed)
    capability; only the last row carries the placement's ending (_CAUSE, 0 on earlier rows).
    A review on the start day is the start needs already; one on or after the last day changes
    nothing. Columns: the frame's (row index in _ROW) with _START, _STOP, _CAUSE, the needs,
    MISMATCH, M_<domain> and TIER of the interval. Vectorised: one merge of placements with the
    child's assessments, no loop over placements.
    """
    wide = needs_wide(assessments, instrument)
    need_cols = intensity_cols(instrument) + frequency_cols(instrument) + score_cols(instrument)
    base = fu.reset_index(names="_ROW")
    base["_DUR"] = base[TIME].to_numpy(dtype=float)
    pairs = base[["_ROW", "LA", "CHILD", "START", "_DUR"]].merge(wide, on=["LA", "CHILD"], how="inner")
    offset = (pairs["ASSESSMENT_DATE"] - pairs["START"]).dt.days.to_numpy(dtype=float)
    inside = (offset > 0) & (offset < pairs["_DUR"].to_numpy())
    reviews = pairs.loc[inside, ["_ROW", "ASSESSMENT_DATE"] + need_cols].assign(_START=offset[inside])
    first = base.assign(_START=0.0)
    rows = pd.concat([first, reviews], ignore_index=True, sort=False)
    rows = rows.sort_values(["_ROW", "_START"], kind="stable").reset_index(drop=True)
    # carry the placement's own columns onto its review rows (reviews hold only needs columns)
    placement_cols = [c for c in base.columns if c not in need_cols and c not in ("_ROW", "ASSESSMENT_DATE")]
    idx = pd.Index(base["_ROW"]).get_indexer(rows["_ROW"])
    for col in placement_cols:
        if col != "_START":
            rows[col] = base[col].to_numpy()[idx]
    nxt = rows["_START"].shift(-1).to_numpy()
    last = rows["_ROW"].ne(rows["_ROW"].shift(-1)).to_numpy()
    rows[STOP] = np.where(last, rows["_DUR"].to_numpy(), nxt)
    rows[START] = rows.pop("_START")
    rows[CAUSE] = np.where(last, rows[CAUSE].to_numpy(), CENSORED)
    # needs-derived columns of each interval
    cap = rows[list(instrument.capability_columns)].to_numpy(dtype=float)
    excess = np.clip(rows[intensity_cols(instrument)].to_numpy(dtype=float) - cap, 0, None)
    for j, d in enumerate(instrument.domain_ids):
        rows[f"M_{d}"] = excess[:, j]
    total = excess.sum(axis=1)
    total[np.isnan(excess).any(axis=1)] = np.nan
    rows["MISMATCH"] = total
    rows["TIER"] = tiers(rows, instrument)
    rows["NEEDS_MISSING"] = rows[intensity_cols(instrument)].isna().all(axis=1)
    return rows.drop(columns=["_DUR"])


def split_at(design_: Design, cuts: tuple[float, ...]) -> tuple[Design, np.ndarray]:
    """Episode splitting: each row's follow-up cut at `cuts` (days) into (start, stop] pieces.

    Returns the split design (covariates repeated, the ending on the last piece only, entry set)
    and the period index (0 = before cuts[0], ...) of each piece, for time-varying effects
    (covariate x period) where proportional hazards fail. Works on right-censored or (start,
    stop] designs.
    """
    edges = np.r_[0.0, np.asarray(cuts, dtype=float), np.inf]
    entry = np.zeros(len(design_.time)) if design_.entry is None else design_.entry
    stop = design_.time
    first = np.searchsorted(edges, entry, side="right") - 1
    last = np.searchsorted(edges, stop, side="left") - 1
    n_pieces = last - first + 1
    row = np.repeat(np.arange(len(stop)), n_pieces)
    offs = np.arange(row.size) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    period = first[row] + offs
    p_start = np.maximum(edges[period], entry[row])
    p_stop = np.minimum(edges[period + 1], stop[row])
    is_last = period == last[row]
    out = Design(X=design_.X.iloc[row].reset_index(drop=True), time=p_stop,
                 cause=np.where(is_last, design_.cause[row], CENSORED), cluster=design_.cluster[row],
                 stratum=design_.stratum[row], rows=design_.rows[row], excluded=design_.excluded,
                 dropped=design_.dropped, entry=p_start)
    return out, period
