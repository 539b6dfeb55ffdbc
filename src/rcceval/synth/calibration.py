"""Headline figures of a simulated region, measured on its internal tables.

These are the DfE 2024 calibration targets (DESIGN.md) computed directly on the simulation, for
the last return year (31 March of `last_year`), so the generator can be checked without the
loader.  The lead's tests compute the same figures through load and derive.
"""
from __future__ import annotations

import numpy as np

from .journeys import CENSORED, G_ADOPT, GROUPS, LEAVING, NEVER, PLANNED, UNPLANNED
from .needs import sdq_scores
from .population import add_years, age_years

TARGETS: dict[str, float] = {
    "looked_after_31_march_region": 11180, "looked_after_31_march_national": 83600,
    "pct_foster": 67.0, "pct_childrens_home": 10.0, "pct_supported": 7.0, "pct_parents": 6.0,
    "pct_adoption": 2.0, "pct_cin_N1": 66.0, "pct_cin_N5": 12.0, "pct_cin_N8": 9.0,
    "pct_cin_N4": 7.0, "pct_age_10_15": 38.0, "pct_age_16_plus": 27.0, "pct_male": 57.0,
    "pct_uasc": 9.0, "pct_over_20_miles": 22.0, "sdq_mean": 14.7, "pct_sdq_17_plus": 41.0,
    "pct_3plus_placements": 11.0, "pct_long_term_stability": 68.0,
}


def _pct(x: np.ndarray) -> float:
    return float(100.0 * np.mean(x)) if len(x) else float("nan")


def snapshot(region, day: int) -> dict:
    """Indices of periods and placements open on `day` (looked after that day)."""
    per, pl = region.periods, region.placements
    in_care = (per["start"] <= day) & (per["end"] > day)
    cur = (pl["start"] <= day) & ((pl["end"] > day) | (pl["cause"] == CENSORED))
    return {"periods": np.flatnonzero(in_care), "placements": np.flatnonzero(cur)}


def internal_report(region, year: int | None = None) -> dict:
    """DfE-style figures for the year ending 31 March `year` (default: the last return)."""
    year = year or region.last_year
    ch, per, pl = region.children, region.periods, region.placements
    d = int(add_years(np.array([region.extract]), year - region.last_year)[0])
    w0 = int(add_years(np.array([d + 1]), -1)[0])
    snap = snapshot(region, d)
    pi, qi = snap["periods"], snap["placements"]
    cidx = per["cidx"][pi]
    out: dict = {"year": year, "looked_after_31_march": int(len(pi))}
    out["looked_after_by_council"] = np.bincount(ch.council[cidx], minlength=region.geo.n).tolist()
    # placement mix (on the episode code: status changes turn U6 into U4 but keep the group)
    g = pl["group"][qi]
    codes = pl["code"][qi]
    for name, mask in {
        "pct_foster": np.isin(g, [0, 1]), "pct_childrens_home": np.isin(codes, ["K1", "K2", "R1"]),
        "pct_supported": np.isin(codes, ["H5", "P2"]), "pct_parents": codes == "P1",
        "pct_adoption": g == G_ADOPT, "pct_other": np.isin(codes, ["S1", "R2", "R3", "R5", "Z1", "P3"]),
    }.items():
        out[name] = _pct(mask)
    for c in ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"]:
        out[f"pct_cin_{c}"] = _pct(ch.cin[cidx] == c)
    age = age_years(ch.dob[cidx], np.full(len(cidx), d))
    out["pct_age_under_1"] = _pct(age < 1)
    out["pct_age_1_4"] = _pct((age >= 1) & (age <= 4))
    out["pct_age_5_9"] = _pct((age >= 5) & (age <= 9))
    out["pct_age_10_15"] = _pct((age >= 10) & (age <= 15))
    out["pct_age_16_plus"] = _pct(age >= 16)
    out["pct_male"] = _pct(ch.male[cidx])
    out["pct_uasc"] = _pct(ch.uasc[cidx])
    ls_now = np.array([c for c in _ls_on(per, pi, d)], dtype=object)
    for c in ["C1", "C2", "E1", "V2"]:
        out[f"pct_ls_{c}"] = _pct(ls_now == c)
    km = pl["km"][qi]
    known = ~pl["pl_blank"][qi]
    out["pct_over_20_miles"] = _pct(km[known] / 1.609344 > 20.0)

    # stability: placements with any day in the year, per child looked after on 31 March
    inyear = (pl["start"] <= d) & ((pl["end"] > w0) | (pl["cause"] == CENSORED))
    counts = np.bincount(pl["cidx"][inyear], minlength=ch.n)
    out["pct_3plus_placements"] = _pct(counts[cidx] >= 3)
    by_c = []
    for c in range(region.geo.n):
        m = ch.council[cidx] == c
        by_c.append(_pct(counts[cidx[m]] >= 3) if m.any() else float("nan"))
    out["pct_3plus_by_council"] = by_c
    out["sd_3plus_across_councils"] = float(np.nanstd(by_c, ddof=1)) if len(by_c) > 1 else 0.0
    # long-term stability: under 16, in care 2.5+ years, same placement 2+ years (adoption rule)
    two = int(add_years(np.array([d]), -2)[0])
    two_half = two - 182
    cur_start = np.full(ch.n, NEVER, dtype=np.int64)
    cur_start[pl["cidx"][qi]] = pl["start"][qi]
    cur_group = np.full(ch.n, -1)
    cur_group[pl["cidx"][qi]] = pl["group"][qi]
    # start of the placement before the current one (same period)
    order = np.lexsort((pl["start"], pl["pkey"]))
    prev_start = np.full(len(pl), NEVER, dtype=np.int64)
    same = pl["pkey"][order][1:] == pl["pkey"][order][:-1]
    prev_start[order[1:]] = np.where(same, pl["start"][order][:-1], NEVER)
    cur_prev = np.full(ch.n, NEVER, dtype=np.int64)
    cur_prev[pl["cidx"][qi]] = prev_start[qi]
    elig = (age < 16) & (per["start"][pi] <= two_half)
    stable = (cur_start[cidx] <= two) | ((cur_group[cidx] == G_ADOPT) & (cur_prev[cidx] <= two))
    out["long_term_cohort"] = int(elig.sum())
    out["pct_long_term_stability"] = _pct(stable[elig])

    # SDQ on 31 March for children looked after 12+ months, ages 4-16
    oc2 = per["start"][pi] <= w0 - 1
    a = age[oc2]
    sel = cidx[oc2][(a >= 4) & (a <= 16)]
    score, _ = sdq_scores(region.needs, region.params, region.seed, sel, np.full(len(sel), d), year)
    score = score[score >= 0]
    out["sdq_n"] = int(len(score))
    out["sdq_mean"] = float(score.mean()) if len(score) else float("nan")
    out["pct_sdq_17_plus"] = _pct(score >= 17)

    # flows in the year
    started = (per["start"] >= w0) & (per["start"] <= d)
    out["periods_started"] = int(started.sum())
    out["pct_started_reentry"] = _pct(per["period_no"][started] > 1)
    ceased = per["closed"] & (per["end"] >= w0) & (per["end"] <= d)
    out["periods_ceased"] = int(ceased.sum())
    rec = per["rec"][ceased]
    for r in ["E11", "E12", "E4A", "E13", "E17", "E5", "E45"]:
        out[f"pct_ceased_{r}"] = _pct(rec == r)
    new = (pl["start"] >= w0) & (pl["start"] <= d)
    out["placements_started"] = int(new.sum())
    out["pct_new_placements_mismatch"] = _pct(pl["mismatch"][new] > 0)
    out["mean_new_placement_mismatch"] = float(pl["mismatch"][new].mean()) if new.any() else float("nan")
    comm = new & (pl["preferred"] >= 0)
    out["pct_new_placements_second_best"] = _pct(pl["second_best"][comm])
    ended = (pl["end"] >= w0) & (pl["end"] <= d) & (pl["cause"] != CENSORED)
    ch_end = ended & np.isin(pl["cause"], [UNPLANNED, PLANNED])
    out["pct_changes_unplanned"] = _pct(pl["cause"][ch_end] == UNPLANNED)
    out["placement_endings_in_year"] = {
        "unplanned": int((ended & (pl["cause"] == UNPLANNED)).sum()),
        "planned": int((ended & (pl["cause"] == PLANNED)).sum()),
        "leaving_care": int((ended & (pl["cause"] == LEAVING)).sum()),
    }
    out["mix_groups_31_march"] = {GROUPS[i]: _pct(g == i) for i in range(len(GROUPS))}
    return out


def _ls_on(per, pi: np.ndarray, day: int) -> np.ndarray:
    codes, days = per["ls_codes"][pi], per["ls_days"][pi]
    idx = (days <= day).sum(axis=1) - 1
    return codes[np.arange(len(pi)), np.maximum(idx, 0)]


def compare(report: dict) -> dict:
    """Report figure next to its target, for the keys that have one."""
    return {k: (round(report[k], 2), v) for k, v in TARGETS.items() if k in report}
