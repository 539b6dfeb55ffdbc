"""SSDA903 returns: one folder per council and year, in the DfE CSV layout.

Each return holds every episode overlapping its year (1 April to 31 March); an episode still open
on 31 March is written without DEC, REC and REASON_PLACE_CHANGE and appears again, closed or
still open, in the next return, as real returns do.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rcceval.spec.codes import CODES_BY_YEAR, DAYS_PER_YEAR

from .csvout import DateStrings, write_csv
from .journeys import Tables
from .needs import DOMAINS, sdq_scores
from .population import add_years, age_years, birthday18, to_day
from .rng import hash_key, hash_uniform

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # no I, O, S (spec.codes)
SEX_LETTERS_FROM = next(lo for lo, _, cs in CODES_BY_YEAR[("header", "SEX")] if "M" in cs)

HEADER_COLS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
EPISODE_COLS = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]
OC2_COLS = ["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
            "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED",
            "INTERVENTION_OFFERED"]
UASC_COLS = ["CHILD", "SEX", "DOB", "DUC"]


@dataclass
class People:
    """Everyone in the returns: looked-after children then short-break-only children."""

    child_id: np.ndarray
    council: np.ndarray
    dob: np.ndarray
    male: np.ndarray
    uasc: np.ndarray
    ethnic: np.ndarray
    upn: np.ndarray
    child_str: np.ndarray = None  # CHILD as written (filled in __post_init__)

    def __post_init__(self) -> None:
        self.child_str = self.child_id.astype(str).astype(object)


def make_people(region, short_people: dict) -> People:
    ch = region.children
    child_id = np.concatenate([ch.child_id, short_people["child_id"]])
    k = hash_key(region.seed, "upn")
    digits = (hash_uniform(k, child_id, 1) * 1e12).astype(np.int64)
    upn = upn_with_check_letter(digits)
    return People(
        child_id=child_id,
        council=np.concatenate([ch.council, short_people["council"]]),
        dob=np.concatenate([ch.dob, short_people["dob"]]),
        male=np.concatenate([ch.male, short_people["male"]]),
        uasc=np.concatenate([ch.uasc, short_people["uasc"]]),
        ethnic=np.concatenate([ch.ethnic, short_people["ethnic"]]),
        upn=upn,
    )


def upn_with_check_letter(numbers: np.ndarray) -> np.ndarray:
    """UPNs: the check letter (DfE algorithm, spec.codes.upn_check_letter) then 12 digits."""
    body = np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), 12)
    digits = body.view("<U1").reshape(len(body), 12).astype(np.int64) if len(body) else np.zeros((0, 12), np.int64)
    total = (digits * np.arange(2, 14)).sum(axis=1)
    letters = np.array(list(UPN_LETTERS), dtype=object)
    return letters[total % 23] + body.astype(object)


def sex_codes(male: np.ndarray, year: int) -> np.ndarray:
    """SEX as that collection year codes it: 1/2 up to 2023-24, M/F from 2024-25 (spec.codes)."""
    boy, girl = ("M", "F") if year >= SEX_LETTERS_FROM else ("1", "2")
    return np.where(male, boy, girl).astype(object)


def year_bounds(year: int) -> tuple[int, int]:
    from .population import to_day
    return to_day(f"{year - 1}-04-01"), to_day(f"{year}-03-31")


def write_returns(region, eps: Tables, people: People, out: Path, dates: DateStrings) -> dict:
    """Write out/903/<LA>/<YEAR>/{header,episodes,oc2,uasc}.csv; returns row counts."""
    child_str = people.child_str
    sector = region.geo.sector_code
    order = np.lexsort((eps["decom"], people.child_id[eps["cidx"]], eps["council"]))
    e = eps.take(order)
    decom_s = dates(e["decom"])
    dec_s = dates(e["dec"])
    home_s = np.where(e["home_sector"] >= 0, sector[np.maximum(e["home_sector"], 0)], "")
    pl_s = np.where(e["pl_sector"] >= 0, sector[np.maximum(e["pl_sector"], 0)], "")
    dob_s = dates(people.dob)
    duc = dates(birthday18(people.dob))  # the date UASC status ceases: the 18th birthday, every year (DfE 205B)
    per = region.periods
    counts = {"episodes": 0, "header": 0, "oc2": 0, "uasc": 0, "files": 0}
    for year in region.return_years:
        w0, w1 = year_bounds(year)
        ix = np.flatnonzero((e["decom"] <= w1) & (e["dec"] >= w0))
        open_ = e["dec"][ix] > w1
        cols = {
            "CHILD": child_str[e["cidx"][ix]], "DECOM": decom_s[ix], "RNE": e["rne"][ix], "LS": e["ls"][ix],
            "CIN": e["cin"][ix], "PLACE": e["place"][ix], "PLACE_PROVIDER": e["provider"][ix],
            "DEC": np.where(open_, "", dec_s[ix]), "REC": np.where(open_, "", e["rec"][ix]),
            "REASON_PLACE_CHANGE": np.where(open_, "", e["reason"][ix]),
            # UASC children have no home postcode, so no distance (DfE 406)
            "HOME_POST": np.where(people.uasc[e["cidx"][ix]], "", home_s[ix]), "PL_POST": pl_s[ix],
            "URN": e["urn"][ix],
        }
        council = e["council"][ix]
        bounds = np.searchsorted(council, np.arange(region.geo.n + 1))
        # OC2: looked after continuously for 12 months at 31 March
        oc = np.flatnonzero((per["start"] <= w0) & (per["end"] > w1))  # from 1 April on counts (DfE 191)
        oc_c = per["cidx"][oc]
        oc_c = oc_c[np.lexsort((people.child_id[oc_c], people.council[oc_c]))]
        oc2 = _oc2(region, people, oc_c, w1, year, dob_s)
        oc_bounds = np.searchsorted(people.council[oc_c], np.arange(region.geo.n + 1))
        for c in range(region.geo.n):
            d = out / "903" / region.geo.codes[c] / str(year)
            sl = slice(bounds[c], bounds[c + 1])
            write_csv(d / "episodes.csv", EPISODE_COLS, {k: v[sl] for k, v in cols.items()})
            kids = np.unique(e["cidx"][ix][sl])
            kids = kids[np.argsort(people.child_id[kids], kind="stable")]
            last_dec = _last_dec(e["cidx"][ix][sl], e["dec"][ix][sl], w1, kids)
            write_csv(d / "header.csv", HEADER_COLS, _header(region, people, kids, w0, w1, year, dob_s, dates, last_dec))
            ua = kids[people.uasc[kids]]
            write_csv(d / "uasc.csv", UASC_COLS, {"CHILD": child_str[ua], "SEX": sex_codes(people.male[ua], year),
                                                   "DOB": dob_s[ua], "DUC": duc[ua]})
            osl = slice(oc_bounds[c], oc_bounds[c + 1])
            write_csv(d / "oc2.csv", OC2_COLS, {k: v[osl] for k, v in oc2.items()})
            counts["header"] += len(kids)
            counts["uasc"] += len(ua)
            counts["oc2"] += oc_bounds[c + 1] - oc_bounds[c]
            counts["files"] += 4
        counts["episodes"] += len(ix)
    return {k: int(v) for k, v in counts.items()}


def _last_dec(cidx: np.ndarray, dec: np.ndarray, w1: int, kids: np.ndarray) -> np.ndarray:
    """Each child's latest DEC written in this return (w1 if none is closed by 31 March)."""
    closed = dec <= w1
    latest = np.full(len(kids), -1, dtype=np.int64)
    order = np.argsort(kids, kind="stable")
    pos = order[np.searchsorted(kids[order], cidx[closed])]
    np.maximum.at(latest, pos, dec[closed])
    return np.where(latest >= 0, latest, w1)


def _header(region, people: People, kids: np.ndarray, w0: int, w1: int, year: int,
            dob_s: np.ndarray, dates: DateStrings, last_dec: np.ndarray) -> dict:
    """Header rows. A girl's first child is born on one day (hashed on the child, the same every
    year) between 15 and 18; MOTHER is 1 in every return from the one that year, once her first
    child is born by the return's last DEC (DfE 625), else 0; boys blank (DfE 393/607/207/624)."""
    k = hash_key(region.seed, "mothers")
    cid = people.child_id[kids]
    dob = people.dob[kids]
    girl = ~people.male[kids]
    mc = dob + (15 * DAYS_PER_YEAR + hash_uniform(k, cid, 1) * 3 * 365).astype(np.int64)
    is_mother = girl & (hash_uniform(k, cid, 0) < 0.06) & (mc <= np.minimum(last_dec, w1))
    mother_col = np.where(girl, np.where(is_mother, "1", "0"), "")
    # UN1 (not yet of school age: under 4 on 31 August before the collection year starts, DfE 209)
    ref = to_day(f"{year - 2}-08-31")
    un1 = add_years(dob, 4) > ref
    return {
        "CHILD": people.child_str[kids], "SEX": sex_codes(people.male[kids], year), "DOB": dob_s[kids],
        "ETHNIC": people.ethnic[kids], "UPN": np.where(un1, "UN1", people.upn[kids]), "MOTHER": mother_col,
        "MC_DOB": np.where(is_mother, dates(mc), ""),
    }


def _oc2(region, people: People, kids: np.ndarray, w1: int, year: int, dob_s: np.ndarray) -> dict:
    op = region.params["oc2"]
    k = hash_key(region.seed, "oc2")
    cid = people.child_id[kids]
    age = age_years(people.dob[kids], np.full(len(kids), w1))
    sdq_age = (age >= region.params["sdq"]["ages"][0]) & (age <= region.params["sdq"]["ages"][1])
    score, reason = sdq_scores(region.needs, region.params, region.seed, kids, np.full(len(kids), w1), year)
    scored = sdq_age & (score >= 0)
    score_s = np.where(scored, score.astype(str), "").astype(object)
    # a reason only where there is no score (DfE 197a); every child of 4-17 has one or the other
    # (197B): at 17, SDQ1 (outside the questionnaire's ages)
    reason_s = np.where(sdq_age & ~scored, np.where(reason == "SDQ1", "SDQ4", reason), "")
    reason_s = np.where(age == 17, "SDQ1", reason_s)

    def flag(p, i):
        return np.where(hash_uniform(k, cid, year, i) < p, "1", "0")

    expl = region.needs.latent(kids, np.full(len(kids), w1))[:, DOMAINS.index("exploitation_missing")]
    p_sub = np.where(expl >= 1.5, op["p_substance_misuse_high_exploitation"], op["p_substance_misuse_base"])
    p_sub = np.where(age >= 11, p_sub, 0.0)
    sub = hash_uniform(k, cid, year, 7) < p_sub
    received = np.where(sub, flag(0.45, 8), "")
    return {
        "CHILD": people.child_str[kids], "DOB": dob_s[kids], "SDQ_SCORE": score_s, "SDQ_REASON": reason_s,
        "CONVICTED": np.where(age >= 10, flag(op["p_convicted_10plus"], 1), ""),  # DfE 542: blank under 10
        "HEALTH_CHECK": np.where(age < 5, flag(op["p_health_check"], 2), ""),  # DfE 546: under 5 only
        "IMMUNISATIONS": flag(op["p_immunisations"], 3),
        "TEETH_CHECK": flag(op["p_teeth_check"], 4), "HEALTH_ASSESSMENT": flag(op["p_health_assessment"], 5),
        "SUBSTANCE_MISUSE": np.where(sub, "1", "0"),
        "INTERVENTION_RECEIVED": received,
        "INTERVENTION_OFFERED": np.where(sub & (received != "1"), flag(0.85, 9), ""),  # DfE 158
    }


__all__ = ["write_returns", "make_people", "People", "year_bounds"]
