"""Episodes → placements, periods of care, child summary and the DfE stability measures.

derive knows 903 semantics, never models. It works on cleaned care episodes (validate.py has applied
the cleaning rules and added the NEW_PERIOD / NEXT_RNE / ENDING_UNKNOWN linkage), sorted by LA, CHILD,
DECOM. Everything is vectorised over the whole table: a placement is a run of episodes that begins
at a period start or an S/P/B episode, so placement boundaries are a cumulative sum, and first/last
episode attributes are positional look-ups.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from rcceval.ingest.validate import Clean903
from rcceval.spec import codes

KEY = ["LA", "CHILD"]
FIRST_COLS = ["DECOM", "PLACE", "PLACE_PROVIDER", "URN", "HOME_POST", "PL_POST", "LS", "CIN"]
LAST_COLS = ["DEC", "REC", "REASON_PLACE_CHANGE", "NEXT_RNE", "ENDING_UNKNOWN"]


def censor_episodes(episodes: pd.DataFrame, extract_date: pd.Timestamp) -> pd.DataFrame:
    """Episodes as known at the extract date: later starts dropped, later ends reopened."""
    eps = episodes.loc[episodes["DECOM"] <= extract_date].copy()
    after = eps["DEC"].notna() & (eps["DEC"] > extract_date)
    eps.loc[after, "DEC"] = pd.NaT
    eps.loc[after, ["REC", "REASON_PLACE_CHANGE", "NEXT_RNE"]] = ""
    eps.loc[after, "ENDING_UNKNOWN"] = False
    return eps.reset_index(drop=True)


def label_episodes(episodes: pd.DataFrame) -> pd.DataFrame:
    """Add PERIOD_NO, PLACEMENT_NO (1.. per child) and PLACEMENT_ID (global) to sorted care episodes."""
    eps = episodes.copy()
    new_child = _first_of(eps[KEY])
    child_id = np.cumsum(new_child)
    new_period = eps["NEW_PERIOD"].to_numpy(bool) | new_child
    starts = new_period | eps["RNE"].isin(codes.PLACEMENT_START_RNE).to_numpy()
    eps["PERIOD_NO"] = _count_within(new_period, child_id)
    eps["PLACEMENT_NO"] = _count_within(starts, child_id)
    eps["PLACEMENT_ID"] = np.cumsum(starts)
    return eps


def _first_of(keys: pd.DataFrame | pd.Series) -> np.ndarray:
    """True where a row's key differs from the previous row's (rows sorted by key)."""
    values = keys.to_numpy()
    if len(values) == 0:
        return np.zeros(0, bool)
    differs = values[1:] != values[:-1]
    return np.r_[True, differs.any(axis=1) if differs.ndim == 2 else differs]


def _count_within(flags: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running count of flags, restarting at each group (groups sorted and contiguous)."""
    total = np.cumsum(flags)
    first = np.r_[True, groups[1:] != groups[:-1]] if len(groups) else np.zeros(0, bool)
    offset = (total - flags)[first]
    return total - np.repeat(offset, np.diff(np.r_[np.flatnonzero(first), len(groups)]))


def classify_endings(last: pd.DataFrame, unplanned_reasons: Iterable[str]) -> tuple[pd.Series, pd.Series]:
    """Ending class and the code that decided it, from a placement's last episode.

    open: no end date at the extract date; unknown: the ending cannot be classified (see
    validate.py); left_care: REC is an E-code; otherwise a new placement follows and
    REASON_PLACE_CHANGE decides unplanned (in the disruption set) or planned.
    """
    unplanned = set(unplanned_reasons)
    rec, rpc = last["REC"].fillna(""), last["REASON_PLACE_CHANGE"].fillna("")
    is_open = last["DEC"].isna().to_numpy()
    unknown = last["ENDING_UNKNOWN"].fillna(False).to_numpy(bool)
    left = rec.str.startswith("E").to_numpy()
    change = last["NEXT_RNE"].isin(codes.PLACEMENT_START_RNE).to_numpy()
    conditions = [is_open, unknown, left, change & rpc.isin(unplanned).to_numpy(), change]
    ending = np.select(conditions, [codes.OPEN, codes.UNKNOWN, codes.LEFT_CARE, codes.UNPLANNED, codes.PLANNED],
                       default=codes.UNKNOWN)
    code = np.select(conditions, ["", rec.to_numpy(), rec.to_numpy(), rpc.to_numpy(), rpc.to_numpy()],
                     default=rec.to_numpy())
    return pd.Series(ending, index=last.index), pd.Series(code, index=last.index)


def derive_placements(clean: Clean903 | pd.DataFrame, extract_date: pd.Timestamp | str | None = None,
                      unplanned_reasons: Iterable[str] = codes.DEFAULT_UNPLANNED_REASONS) -> pd.DataFrame:
    """One row per placement (a stay with one carer), short breaks excluded.

    START is the first episode's DECOM, END the last episode's DEC (NaT when open at the extract
    date); DURATION_DAYS runs to END or the extract date; CENSORED is true for open placements only.
    An ending that cannot be classified (ENDING unknown) is still an ending: the placement stopped on
    END, only its cause is unknown, so it is an event of unknown cause, not follow-up cut short
    (censoring it would overstate survival; stats/impute_cause.py imputes or bounds its cause).
    """
    episodes = clean.episodes if isinstance(clean, Clean903) else clean
    extract = _extract(clean, extract_date, episodes)
    eps = label_episodes(censor_episodes(episodes, extract))
    if eps.empty:
        return _empty_placements()
    starts = np.flatnonzero(_first_of(eps["PLACEMENT_ID"]))
    ends = np.r_[starts[1:] - 1, len(eps) - 1]
    first, last = eps.iloc[starts].reset_index(drop=True), eps.iloc[ends].reset_index(drop=True)
    out = first[KEY + ["PERIOD_NO", "PLACEMENT_NO"]].copy()
    out["PLACEMENT_IN_PERIOD"] = out.groupby(KEY + ["PERIOD_NO"]).cumcount() + 1
    out["START"] = first["DECOM"]
    out["END"] = last["DEC"]
    for c in FIRST_COLS[1:]:
        out[c] = first[c].fillna("") if first[c].dtype == object else first[c]
    out.rename(columns={"LS": "LS_START", "CIN": "CIN_START"}, inplace=True)
    out["PLACE_GROUP"] = out["PLACE"].map(codes.PLACE_GROUPS).fillna("temporary_other")
    out["N_EPISODES"] = ends - starts + 1
    out["ENDING"], out["ENDING_CODE"] = classify_endings(last, unplanned_reasons)
    out["CENSORED"] = out["ENDING"].eq(codes.OPEN)
    out["DURATION_DAYS"] = (out["END"].fillna(extract) - out["START"]).dt.days.astype("int64")
    return out[PLACEMENT_COLUMNS]


PLACEMENT_COLUMNS = ["LA", "CHILD", "PERIOD_NO", "PLACEMENT_IN_PERIOD", "PLACEMENT_NO", "START", "END",
                     "PLACE", "PLACE_GROUP", "PLACE_PROVIDER", "URN", "HOME_POST", "PL_POST", "LS_START",
                     "CIN_START", "N_EPISODES", "ENDING", "ENDING_CODE", "DURATION_DAYS", "CENSORED"]


def _empty_placements() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PLACEMENT_COLUMNS})


def _extract(clean: object, extract_date: pd.Timestamp | str | None, episodes: pd.DataFrame) -> pd.Timestamp:
    if extract_date is not None:
        return pd.Timestamp(extract_date)
    if isinstance(clean, Clean903) and clean.extract_date is not None:
        return clean.extract_date
    latest = pd.concat([episodes["DECOM"], episodes["DEC"]]).max()
    return pd.Timestamp(latest) if pd.notna(latest) else pd.Timestamp.today().normalize()


def derive_periods(placements: pd.DataFrame) -> pd.DataFrame:
    """One row per period of care: its span, number of placements and how it ended."""
    g = placements.groupby(KEY + ["PERIOD_NO"], sort=True)
    out = g.agg(START=("START", "min"), END=("END", "last"), N_PLACEMENTS=("PLACEMENT_NO", "size"),
                LAST_ENDING=("ENDING", "last"), LAST_ENDING_CODE=("ENDING_CODE", "last"),
                DAYS=("DURATION_DAYS", "sum")).reset_index()
    out["OPEN"] = out["LAST_ENDING"].eq(codes.OPEN)
    return out


def child_summary(clean: Clean903, placements: pd.DataFrame) -> pd.DataFrame:
    """One row per child with episodes: characteristics and counts of periods, placements, short breaks."""
    per = placements.groupby(KEY).agg(N_PERIODS=("PERIOD_NO", "max"), N_PLACEMENTS=("PLACEMENT_NO", "max"),
                                      FIRST_START=("START", "min"), LAST_START=("START", "max")).reset_index()
    head = clean.header[KEY + ["SEX", "DOB", "ETHNIC"]]
    out = per.merge(head, on=KEY, how="left")
    uasc = clean.uasc[KEY].drop_duplicates().assign(UASC=True) if len(clean.uasc) else pd.DataFrame(columns=KEY + ["UASC"])
    out = out.merge(uasc, on=KEY, how="left")
    out["UASC"] = out["UASC"].eq(True)
    breaks = clean.short_breaks.groupby(KEY).size().rename("N_SHORT_BREAK_EPISODES").reset_index() \
        if len(clean.short_breaks) else pd.DataFrame(columns=KEY + ["N_SHORT_BREAK_EPISODES"])
    out = out.merge(breaks, on=KEY, how="left")
    out["N_SHORT_BREAK_EPISODES"] = out["N_SHORT_BREAK_EPISODES"].fillna(0).astype(int)
    return out


def year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the collection year ending 31 March `year`."""
    return pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 3, 31)


def stability_measures(clean: Clean903, year: int, by: str | None = "LA") -> pd.DataFrame:
    """DfE placement stability measures for the year ending 31 March `year`.

    - 3+ placements in the year: children looked after on 31 March who had three or more
      placements (carers; any day of the placement within the year) during the year;
    - 3+ placements over two years: children looked after on 31 March who had been looked after for
      two years or more (current period of care), with three or more placements in those two years;
    - long-term stability: children under 16 on 31 March, looked after continuously for at least
      2.5 years, of whom those living in the same placement for at least 2 years, or placed for
      adoption with the adoptive placement and the one before it together lasting 2+ years.
    Counted on placements as derived here (short breaks excluded). Returns one row per council
    and a total row ('ALL').
    """
    start_1, ref = year_bounds(year)
    start_2 = pd.Timestamp(year - 2, 4, 1)
    eps = label_episodes(censor_episodes(clean.episodes, ref))
    pl = derive_placements(clean.episodes, extract_date=ref)
    at_ref = eps.loc[eps["DEC"].isna()]  # censored at ref: open = looked after on 31 March
    cla = at_ref[KEY + ["PLACEMENT_NO", "PERIOD_NO", "PLACE"]].drop_duplicates(KEY, keep="last")

    def n_in(since: pd.Timestamp) -> pd.Series:
        inside = pl["END"].isna() | (pl["END"] >= since)
        return pl.loc[inside].groupby(KEY).size()

    cla = cla.join(n_in(start_1).rename("N_YEAR"), on=KEY).join(n_in(start_2).rename("N_2YR"), on=KEY)
    cla = cla.merge(clean.header[KEY + ["DOB"]], on=KEY, how="left")
    pl_key = pl.set_index(KEY + ["PLACEMENT_NO"])
    cur_start = pl_key["START"].reindex(pd.MultiIndex.from_frame(cla[KEY + ["PLACEMENT_NO"]])).to_numpy()
    prev = pd.MultiIndex.from_arrays([cla["LA"], cla["CHILD"], cla["PLACEMENT_NO"] - 1])
    prev_start = pl_key["START"].reindex(prev).to_numpy()
    prev_period = pl_key["PERIOD_NO"].reindex(prev).to_numpy()
    period_start = pl.groupby(KEY + ["PERIOD_NO"])["START"].min() \
        .reindex(pd.MultiIndex.from_frame(cla[KEY + ["PERIOD_NO"]])).to_numpy()
    two_years = ref - pd.DateOffset(years=2)
    cla["LT_DENOM"] = (cla["DOB"] + pd.DateOffset(years=16) > ref) & \
        (period_start <= ref - pd.DateOffset(years=2, months=6))
    adoption_rule = cla["PLACE"].isin(codes.ADOPTION_PLACE).to_numpy() & \
        (prev_period == cla["PERIOD_NO"].to_numpy()) & (prev_start <= two_years)
    cla["LT_STABLE"] = cla["LT_DENOM"] & ((cur_start <= two_years) | adoption_rule)
    cla["P3_YEAR"] = cla["N_YEAR"] >= 3
    cla["TWO_YEARS"] = period_start <= two_years
    cla["P3_2YR"] = cla["TWO_YEARS"] & (cla["N_2YR"] >= 3)
    groups = [("ALL", cla)] if by is None else [*cla.groupby(by, sort=True), ("ALL", cla)]
    rows = []
    for name, g in groups:
        n, n2, d = len(g), int(g["TWO_YEARS"].sum()), int(g["LT_DENOM"].sum())
        rows.append({"LA": name, "year": year, "cla_31_march": n,
                     "n_3plus_year": int(g["P3_YEAR"].sum()), "pct_3plus_year": _pct(g["P3_YEAR"].sum(), n),
                     "cla_two_years": n2, "n_3plus_two_years": int(g["P3_2YR"].sum()),
                     "pct_3plus_two_years": _pct(g["P3_2YR"].sum(), n2),
                     "long_term_denominator": d, "long_term_stable": int(g["LT_STABLE"].sum()),
                     "pct_long_term_stable": _pct(g["LT_STABLE"].sum(), d)})
    return pd.DataFrame(rows)


def _pct(k: float, n: int) -> float:
    return float(100.0 * k / n) if n else float("nan")


FAR_MILES = 20.0  # the DfE's published threshold: placed more than 20 miles from home


def distance_measures(frame: pd.DataFrame, lookup: pd.DataFrame | None = None,
                      region: Iterable[str] | None = None) -> pd.DataFrame:
    """What the DfE publishes on distance, and the region's own measure, for each placement row.

    - DISTANCE_MILES: straight line, home (HOME_POST) to placement (PL_POST), from the ONS Postcode
      Directory (a postcode_lookup table, where given, overrides the positions);
    - OVER_20_MILES: more than 20 miles;
    - PL_COUNCIL: the council (upper-tier authority, ONS code) the placement's postcode lies in;
    - PLACED_OUTSIDE_COUNCIL: PL_COUNCIL is not the placing council (the LA column, recognised as a
      DfE code, ONS code or name);
    - PLACED_OUTSIDE_REGION: PL_COUNCIL is none of the region's councils (`region`, by default every
      council in `frame`), which the DfE does not publish and regional co-operatives asked for.
    Each is missing (NA) where a postcode is unknown or the placing council is not recognised:
    never counted as inside or outside.
    """
    from rcceval.derive.needs import distance_miles
    from rcceval.ingest.postcodes import positions
    from rcceval.spec.authorities import ons_code, upper_tier

    miles = distance_miles(frame, lookup)
    placed = upper_tier(positions(frame["PL_POST"])["LA"])
    council = ons_code(frame["LA"])
    members = set(ons_code(pd.Series(sorted(set(region if region is not None else frame["LA"])))).dropna())
    known_pl = placed.notna()
    out = pd.DataFrame(index=frame.index)
    out["DISTANCE_MILES"] = miles
    out["OVER_20_MILES"] = pd.array((miles > FAR_MILES).where(miles.notna()), dtype="boolean")
    out["PL_COUNCIL"] = placed
    out["PLACED_OUTSIDE_COUNCIL"] = pd.array(placed.ne(council).where(known_pl & council.notna()), dtype="boolean")
    out["PLACED_OUTSIDE_REGION"] = pd.array(
        (~placed.isin(members)).where(known_pl & bool(members)), dtype="boolean")
    return out
