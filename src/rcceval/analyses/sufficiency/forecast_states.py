"""The forecast's states: children looked after at each quarter end, and their moves between quarters.

State of a child on a quarter end (30 June, 30 September, 31 December, 31 March): exact age in
quarters from the date of birth (0-71; 18 years is leaving care), placement type group (GROUPS) and
the whole quarters spent so far in the current placement (0 .. DUR - 1, the last meaning "at least").
Only the 903 returns are needed (placements derived from the episodes, and the header's DOB and SEX).
Short breaks (LS V3/V4) are not care periods and are excluded as the DfE excludes them from the
children looked after: derive_placements drops them, so they enter no state, entry or move.

Between two consecutive quarter ends a child looked after at the first either stays in the same
placement, moves to another placement of the same period of care (to group g'), or leaves care (not
looked after at the second, or looked after in a new period). Entrants are children looked after at
the second quarter end in a period of care not in force at the first. Child-level: never published.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcceval.spec.codes import DAYS_PER_YEAR

GROUPS: tuple[str, ...] = ("fostering", "residential", "supported", "other")
GROUP_OF = {"foster_relative_friend": "fostering", "foster_other": "fostering",
            "childrens_home": "residential", "secure": "residential", "other_residential": "residential",
            "supported_independent": "supported",
            "with_parents": "other", "placed_for_adoption": "other", "temporary_other": "other"}
QUARTER_DAYS = DAYS_PER_YEAR / 4
AGES = 72            # age in quarters 0..71; at 72 (18 years) a child leaves care
DUR = 6              # quarters in placement 0..5, 5 meaning 5 or more
EXIT = len(GROUPS) + 1   # outcome index: 0 stay, 1..G move to group g-1, G+1 leave care
OUTCOMES = 2 + len(GROUPS)
KEY = ["LA", "CHILD"]


def quarter_ends(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """Quarter ends (31 March, 30 June, 30 September, 31 December) from first to last inclusive."""
    return list(pd.date_range(first, last, freq="QE-DEC"))


def group_codes(place_group: pd.Series) -> np.ndarray:
    """Index into GROUPS of rcceval's PLACE_GROUP (unknown groups are 'other')."""
    g = place_group.map(GROUP_OF).fillna("other")
    return pd.Categorical(g, categories=list(GROUPS)).codes.astype(np.int64)


def snapshots(placements: pd.DataFrame, header: pd.DataFrame, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """One row per date and child looked after on it (end date exclusive, as the DfE counts):
    DATE, LA, CHILD, PERIOD_NO, PID (placement row), AGE_Q, SEX, GROUP (index), DUR_Q, PLACE, PLACE_PROVIDER."""
    cols = KEY + ["PERIOD_NO", "START", "END", "PLACE", "PLACE_GROUP", "PLACE_PROVIDER"]
    pl = placements[cols].reset_index(drop=True).assign(PID=lambda d: np.arange(len(d)))
    hd = header[KEY + ["DOB", "SEX"]].drop_duplicates(KEY, keep="last")
    pl = pl.merge(hd, on=KEY, how="left")
    start, end = pl["START"].to_numpy(), pl["END"].to_numpy()
    out = []
    for day in dates:
        d64 = np.datetime64(pd.Timestamp(day))
        on = pl.loc[(start <= d64) & (np.isnat(end) | (end > d64))]
        on = on.sort_values(["START", "PID"], kind="stable").drop_duplicates(KEY, keep="last")
        age = np.floor((d64 - on["DOB"].to_numpy()).astype("timedelta64[D]").astype(float) / QUARTER_DAYS)
        dur = np.floor((d64 - on["START"].to_numpy()).astype("timedelta64[D]").astype(float) / QUARTER_DAYS)
        out.append(pd.DataFrame({
            "DATE": pd.Timestamp(day), "LA": on["LA"].to_numpy(), "CHILD": on["CHILD"].to_numpy(),
            "PERIOD_NO": on["PERIOD_NO"].to_numpy(), "PID": on["PID"].to_numpy(),
            "AGE_Q": age, "SEX": on["SEX"].astype(str).to_numpy(),
            "GROUP": group_codes(on["PLACE_GROUP"]), "DUR_Q": np.minimum(dur, DUR - 1),
            "PLACE": on["PLACE"].to_numpy(), "PLACE_PROVIDER": on["PLACE_PROVIDER"].to_numpy()}))
    snap = pd.concat(out, ignore_index=True)
    # a child of unknown age or outside 0-17 cannot be placed in an age state: left out (counted by the caller)
    snap = snap.loc[snap["AGE_Q"].between(0, AGES - 1)].copy()
    snap["AGE_Q"], snap["DUR_Q"] = snap["AGE_Q"].astype(np.int64), snap["DUR_Q"].astype(np.int64)
    return snap.reset_index(drop=True)


def moves(snap: pd.DataFrame, dates: list[pd.Timestamp]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transitions, entrants) between consecutive dates.

    transitions: one row per child looked after at DATE (the quarter end the move starts from):
    DATE, LA, AGE_Q, GROUP, DUR_Q, OUTCOME (0 stay, 1+g moved to group g, EXIT left care);
    entrants: one row per child looked after at DATE in a period of care not in force the quarter
    end before: DATE, LA, AGE_Q, SEX, GROUP."""
    by_date = {d: g for d, g in snap.groupby("DATE", sort=True)}
    trans, ents = [], []
    empty = snap.iloc[:0]
    for before, after in zip(dates[:-1], dates[1:]):
        a, b = by_date.get(before, empty), by_date.get(after, empty)
        m = a[KEY + ["PERIOD_NO", "PID", "AGE_Q", "GROUP", "DUR_Q"]].merge(
            b[KEY + ["PERIOD_NO", "PID", "GROUP"]], on=KEY, how="left", suffixes=("", "_B"))
        same_period = m["PERIOD_NO_B"].eq(m["PERIOD_NO"])
        outcome = np.where(~same_period, EXIT,
                           np.where(m["PID_B"].eq(m["PID"]), 0, 1 + m["GROUP_B"].fillna(0).astype(np.int64)))
        trans.append(pd.DataFrame({"DATE": before, "LA": m["LA"].to_numpy(), "AGE_Q": m["AGE_Q"].to_numpy(),
                                   "GROUP": m["GROUP"].to_numpy(), "DUR_Q": m["DUR_Q"].to_numpy(),
                                   "OUTCOME": outcome.astype(np.int64)}))
        new = b.merge(a[KEY + ["PERIOD_NO"]], on=KEY + ["PERIOD_NO"], how="left", indicator=True)
        new = new.loc[new["_merge"].eq("left_only")]
        ents.append(pd.DataFrame({"DATE": before, "LA": new["LA"].to_numpy(), "AGE_Q": new["AGE_Q"].to_numpy(),
                                  "SEX": new["SEX"].to_numpy(), "GROUP": new["GROUP"].to_numpy()}))
    cols_t = ["DATE", "LA", "AGE_Q", "GROUP", "DUR_Q", "OUTCOME"]
    cols_e = ["DATE", "LA", "AGE_Q", "SEX", "GROUP"]
    t = pd.concat(trans, ignore_index=True) if trans else pd.DataFrame(columns=cols_t)
    e = pd.concat(ents, ignore_index=True) if ents else pd.DataFrame(columns=cols_e)
    return t, e


@dataclass
class ForecastData:
    """Everything the forecast and its back-test read, built once from the 903 (child-level; never published).

    snap: children looked after on each quarter end (snapshots); transitions and entrants (moves);
    dates: the quarter ends; census_years: years whose 31 March is a quarter end of the data;
    profiles: LA, CHILD, YEAR, PROFILE of the 31 March censuses (need tier, where assessed) or None.
    """

    snap: pd.DataFrame
    transitions: pd.DataFrame
    entrants: pd.DataFrame
    dates: list[pd.Timestamp]
    census_years: list[int]
    profiles: pd.DataFrame | None = None

    def restrict(self, la: str) -> ForecastData:
        """The same data for one council."""
        prof = None if self.profiles is None else self.profiles.loc[self.profiles["LA"].eq(la)]
        return ForecastData(self.snap.loc[self.snap["LA"].eq(la)], self.transitions.loc[self.transitions["LA"].eq(la)],
                            self.entrants.loc[self.entrants["LA"].eq(la)], self.dates, self.census_years, prof)


def forecast_data(placements: pd.DataFrame, header: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp,
                  profiles: pd.DataFrame | None = None) -> ForecastData:
    """States at every quarter end from `first` (the first quarter end every return covers) to `last`
    (the last 31 March of the data), and the moves between them."""
    dates = quarter_ends(first, last)
    snap = snapshots(placements, header, dates)
    trans, ents = moves(snap, dates)
    years = [d.year for d in dates if d.month == 3]
    return ForecastData(snap, trans, ents, dates, years, profiles)
