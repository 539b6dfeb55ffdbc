"""Placements -> SSDA903 episodes.

A placement (one carer) becomes one or more episodes: a new episode starts when the legal status
changes (RNE L; B when it changes on the day the carer changes) or when the placement's status
changes with the same carer (U6 -> U4 short-term to long-term fostering: RNE T, U if the legal
status changes that day too, as the DfE rules 435/436 read them).  A legal status change made within 30 days after a change of carer
is recorded on the day of the move (RNE B), as returns commonly do.  Short-break children (LS V3)
are generated here too: many short periods, so the exclusion of short breaks is exercised.
"""
from __future__ import annotations

import numpy as np

from .journeys import CENSORED, LEAVING, NEVER, PLANNED, UNPLANNED, Tables, ls_at
from .population import birthday18, to_day
from .rng import stream

B_SNAP_DAYS = 30
# placement types without an Ofsted URN (DfE rule 222): R1 care homes are registered with the CQC
H5_URN_FROM = to_day("2023-04-01")
NO_URN = ["P1", "P3", "R1", "R2", "R5", "T0", "T1", "T2", "T3", "T4", "Z1"]


def _key(pkey: np.ndarray, day: np.ndarray) -> np.ndarray:
    return pkey.astype(np.int64) * 100_000 + day.astype(np.int64)


def build_episodes(region) -> Tables:
    """Every episode of every period, burn-in included, up to the extract date."""
    per, pl = region.periods, region.placements
    extract = region.extract
    n_pl = len(pl)
    # placements are sorted by (pkey, start); period row of each placement
    per_order = np.argsort(per["pkey"], kind="stable")
    prow = per_order[np.searchsorted(per["pkey"][per_order], pl["pkey"])]
    pl_key = _key(pl["pkey"], pl["start"])

    # legal status changes, moved onto a change of carer made up to 14 days before them
    ls_codes = per["ls_codes"].copy()
    ls_days = per["ls_days"].copy()
    ev_p, ev_s = np.nonzero(ls_days[:, 1:] < NEVER)
    ev_s = ev_s + 1
    ev_day = ls_days[ev_p, ev_s]
    ev_key = _key(per["pkey"][ev_p], ev_day)
    host = np.searchsorted(pl_key, ev_key, side="right") - 1
    ok = (host >= 0) & (pl["pkey"][np.maximum(host, 0)] == per["pkey"][ev_p])
    host_start = pl["start"][np.maximum(host, 0)]
    snap = ok & (pl["k"][np.maximum(host, 0)] > 1) & (ev_day - host_start <= B_SNAP_DAYS) & (ev_day > host_start)
    # keep the timeline ordered: snapping never crosses the previous change
    prev_day = ls_days[ev_p, ev_s - 1]
    snap &= host_start > prev_day
    ls_days[ev_p[snap], ev_s[snap]] = host_start[snap]
    ev_day = np.where(snap, host_start, ev_day)

    # break rows inside placements: legal status changes and same-carer status changes
    pl_end = np.where(pl["cause"] == CENSORED, NEVER, pl["end"])
    inside = ok & (ev_day > pl["start"][np.maximum(host, 0)]) & (ev_day < pl_end[np.maximum(host, 0)]) & (ev_day < extract)
    ls_break_pl, ls_break_day = host[inside], ev_day[inside]
    st = (pl["status_day"] < NEVER) & (pl["status_day"] < pl_end) & (pl["status_day"] < extract)
    st_pl, st_day = np.flatnonzero(st), pl["status_day"][st]

    rows_pl = np.concatenate([np.arange(n_pl), ls_break_pl, st_pl])
    rows_day = np.concatenate([pl["start"], ls_break_day, st_day])
    kind = np.concatenate([np.zeros(n_pl, np.int8), np.ones(len(ls_break_pl), np.int8), np.full(len(st_pl), 2, np.int8)])
    keep = rows_day <= extract
    rows_pl, rows_day, kind = rows_pl[keep], rows_day[keep], kind[keep]
    order = np.lexsort((kind, rows_day, rows_pl))
    rows_pl, rows_day, kind = rows_pl[order], rows_day[order], kind[order]
    # merge rows on the same placement and day (an LS change and a status change together: T)
    dup = np.zeros(len(rows_pl), dtype=bool)
    dup[1:] = (rows_pl[1:] == rows_pl[:-1]) & (rows_day[1:] == rows_day[:-1])
    is_ls = np.zeros(len(rows_pl), dtype=bool)
    is_st = np.zeros(len(rows_pl), dtype=bool)
    grp = np.cumsum(~dup) - 1
    np.logical_or.at(is_ls, grp, kind == 1)
    np.logical_or.at(is_st, grp, kind == 2)
    first_of = ~dup
    starts_pl = np.zeros(len(rows_pl), dtype=bool)
    np.logical_or.at(starts_pl, grp, kind == 0)
    rows_pl, rows_day = rows_pl[first_of], rows_day[first_of]
    n = len(rows_pl)
    is_ls, is_st, starts_pl = is_ls[:n], is_st[:n], starts_pl[:n]

    p = rows_pl
    pr = prow[p]
    ls = ls_at(ls_codes[pr], ls_days[pr], rows_day)
    ls_prev = ls_at(ls_codes[pr], ls_days[pr], rows_day - 1)
    k = pl["k"][p]
    rne = np.where(starts_pl, np.where(k == 1, "S", np.where(ls != ls_prev, "B", "P")),
                   np.where(is_ls & is_st, "U", np.where(is_st, "T", "L")))
    place = np.where(rows_day >= pl["status_day"][p], pl["status_code"][p], pl["code"][p])
    # when the episode ends and why
    nxt_same = np.zeros(n, dtype=bool)
    nxt_same[:-1] = p[1:] == p[:-1]
    nxt_day = np.empty(n, dtype=np.int64)
    nxt_day[:-1] = rows_day[1:]
    nxt_day[-1] = NEVER
    cause = pl["cause"][p]
    dec = np.where(nxt_same, nxt_day, np.where(cause == CENSORED, NEVER, pl["end"][p]))
    period_rec = per["rec"][pr]
    rec = np.where(nxt_same, "X1", np.where(np.isin(cause, [UNPLANNED, PLANNED]), "X1",
                                            np.where(cause == LEAVING, period_rec, "")))
    nxt_rne_st = np.zeros(n, dtype=bool)
    nxt_rne_st[:-1] = np.isin(rne[1:], ["T", "U"])
    reason = np.where(~nxt_same & np.isin(cause, [UNPLANNED, PLANNED]), pl["reason"][p],
                      np.where(nxt_same & nxt_rne_st, "PLACE", ""))
    ch = region.children
    cidx = pl["cidx"][p]
    urn = np.where(pl["setting"][p] >= 0, region.register.urn[np.maximum(pl["setting"][p], 0)], "XXXXXXX")
    urn = np.where(np.isin(place, NO_URN), "XXXXXXX", urn)  # DfE 222: these types have no Ofsted URN
    # supported accommodation (H5) has an Ofsted URN only in episodes from 1 April 2023 (the 2023-24
    # collection on; DfE 222 before), the same in every return that carries the episode (503F)
    urn = np.where((place == "H5") & (rows_day < H5_URN_FROM), "XXXXXXX", urn)
    return Tables({
        "cidx": cidx, "council": ch.council[cidx], "pkey": pl["pkey"][p], "pl_row": p,
        "decom": rows_day, "dec": dec, "rne": rne, "ls": ls, "cin": ch.cin[cidx], "place": place,
        "provider": pl["provider"][p], "rec": rec, "reason": reason,
        "home_sector": ch.home_sector[cidx],
        "pl_sector": np.where(pl["pl_blank"][p], -1, pl["pl_sector"][p]), "urn": urn,
        "short_break": np.zeros(n, dtype=bool),
    })


def short_breaks(region, first_id_offset: int = 900_000) -> tuple[Tables, dict]:
    """Short-break-only children (LS V3): many short stays, each its own episode (RNE S)."""
    rng = stream(region.seed, "short_breaks")
    geo = region.geo
    share = region.params["population"]["short_break_share"]
    counts = np.maximum(1, np.round(geo.sizes * share)).astype(int)
    council = np.repeat(np.arange(geo.n), counts)
    m = len(council)
    rank = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts)
    child_id = (council.astype(np.int64) + 1) * 1_000_000 + first_id_offset + rank + 1
    span_start = rng.integers(region.window_start - 3 * 365, region.extract - 60, size=m)
    span_days = rng.integers(365, 6 * 365, size=m)
    dob = span_start - rng.integers(5 * 365, 14 * 365, size=m)
    interval = rng.integers(14, 36, size=m)
    n_breaks = span_days // interval
    owner = np.repeat(np.arange(m), n_breaks)
    j = np.arange(len(owner)) - np.repeat(np.cumsum(n_breaks) - n_breaks, n_breaks)
    start = span_start[owner] + j * interval[owner] + rng.integers(0, 4, size=len(owner))
    nights = rng.integers(1, 4, size=len(owner))
    end = start + nights
    keep = (start >= region.window_start) & (start <= region.extract) & (end < birthday18(dob[owner]))
    owner, start, end = owner[keep], start[keep], end[keep]
    place = np.full(m, "U6", dtype=object)  # never long-term fostering (DfE 384)
    n = len(owner)
    dec = np.where(end > region.extract, NEVER, end)
    eps = Tables({
        "cidx": owner + region.children.n, "council": council[owner], "pkey": -(owner + 1).astype(np.int64),
        "pl_row": np.full(n, -1), "decom": start, "dec": dec, "rne": np.full(n, "S", dtype=object),
        "ls": np.full(n, "V3", dtype=object), "cin": np.full(n, "N2", dtype=object),
        "place": place[owner], "provider": np.full(n, "PR1", dtype=object),
        "rec": np.where(dec < NEVER, "E4A", ""), "reason": np.full(n, "", dtype=object),
        # no postcodes and no URN for short breaks (DfE 214/398)
        "home_sector": np.full(n, -1, dtype=np.int64), "pl_sector": np.full(n, -1, dtype=np.int64),
        "urn": np.full(n, "", dtype=object), "short_break": np.ones(n, dtype=bool),
    })
    people = {"child_id": child_id, "council": council, "dob": dob,
              "male": rng.random(m) < 0.62, "uasc": np.zeros(m, dtype=bool),
              "ethnic": np.where(rng.random(m) < 0.8, "WBRI", "WOTH").astype(object)}
    return eps, people
