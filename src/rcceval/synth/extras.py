"""The inputs beyond the 903: needs assessments, provider register, placement agreements (fees and
capability), placement requests (Placements Data Standard v2) and the postcode-sector lookup.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rcceval.spec.codes import DAYS_PER_YEAR

from .councils import postcode_lookup_rows
from .csvout import DateStrings, append_csv, write_csv
from .episodes import NO_URN
from .journeys import NEVER, UNPLANNED, Tables
from .params import DOMAINS, INSTRUMENT, REQUEST_TYPE
from .returns import People
from .rng import hash_key, hash_uniform, lookup

CAP_COLS = [f"CAP_{d.upper()}" for d in DOMAINS]
NEEDS_COLS = ["CHILD", "LA", "ASSESSMENT_DATE", "INSTRUMENT", "DOMAIN", "INTENSITY", "FREQUENCY"]
REGISTER_COLS = ["URN", "LA", "PROVIDER_NAME", "PLACE", "PLACE_PROVIDER", "POSTCODE", "PLACES"] + CAP_COLS
AGREEMENT_COLS = ["CHILD", "LA", "START_DATE", "URN", "WEEKLY_FEE"] + CAP_COLS
REQUEST_COLS = [
    "LA", "childId", "neededBy", "siblingCount", "preferredLocation", "communicationNeeds",
    "specificCommunicationRequirements", "homeAdaptation", "culturalNeeds", "livingCompanions", "pets",
    "additionalSupport", "deprivationOfLiberty", "fosterCareSuitability", "residentialCareSuitability",
    "supportedAccommodationSuitability", "riskSelfHarm", "riskSexualExploitation",
    "riskCriminalExploitation", "riskDrugAlcohol", "riskEatingDisorder", "riskMissing", "riskOther",
    "riskToOthersPhysical", "riskToOthersSexual", "riskToOthersFire", "riskToOthersAnimals",
    "riskToOthersCriminal", "riskToOthersOther", "totalWeeklyCost", "placementLocation",
    "preferabilityLocation", "educationContinuity", "providerURN", "siblingsPlacedTogether",
    "placementType", "referralDate", "placementOfficerName", "placementDate", "costDate",
]
LOOKUP_COLS = ["POSTCODE", "EASTING", "NORTHING"]
_DI = {d: i for i, d in enumerate(DOMAINS)}


def visible_placements(region, eps: Tables) -> np.ndarray:
    """Rows of region.placements with at least one episode in some return."""
    m = (eps["pl_row"] >= 0) & (eps["decom"] <= region.extract) & (eps["dec"] >= region.window_start)
    return np.unique(eps["pl_row"][m])


# ---- needs assessments -------------------------------------------------------------------------
def write_needs(region, vis: np.ndarray, people: People, out: Path, dates: DateStrings) -> int:
    """needs_assessments.csv: from the assessment in force at the first visible placement on."""
    pl, per, nm = region.placements, region.periods, region.needs
    pk = pl["pkey"][vis]
    start = pl["start"][vis]
    order = np.lexsort((start, pk))
    pk, start = pk[order], start[order]
    first = np.ones(len(pk), dtype=bool)
    first[1:] = pk[1:] != pk[:-1]
    pk, start = pk[first], start[first]
    per_order = np.argsort(per["pkey"], kind="stable")
    prow = per_order[np.searchsorted(per["pkey"][per_order], pk)]
    keep = ~nm.never_assessed(pk)
    pk, start, prow = pk[keep], start[keep], prow[keep]
    cidx = per["cidx"][prow]
    a0 = per["a0"][prow]
    j_min = nm.in_force(pk, a0, start)
    last_day = np.minimum(np.where(per["end"][prow] >= NEVER, region.extract, per["end"][prow] - 1), region.extract)
    j_max = nm.in_force(pk, a0, np.maximum(last_day, a0))
    council = people.council[cidx]
    sort = np.lexsort((a0, people.child_id[cidx], council))
    pk, cidx, a0, j_min, j_max, council = pk[sort], cidx[sort], a0[sort], j_min[sort], j_max[sort], council[sort]
    path = out / "needs_assessments.csv"
    codes = np.array(region.geo.codes, dtype=object)
    dom = np.array(DOMAINS, dtype=object)
    bounds = np.searchsorted(council, np.arange(region.geo.n + 1))
    total = 0
    header = True
    for c in range(region.geo.n):
        sl = slice(bounds[c], bounds[c + 1])
        n_j = (j_max[sl] - j_min[sl] + 1).astype(np.int64)
        if n_j.sum() == 0:
            continue
        owner = np.repeat(np.arange(len(n_j)), n_j)
        j = j_min[sl][owner] + (np.arange(len(owner)) - np.repeat(np.cumsum(n_j) - n_j, n_j))
        pkeys, kids = pk[sl][owner], cidx[sl][owner]
        day = nm.review_day(pkeys, a0[sl][owner], j)
        inten, freq = nm.recorded(kids, pkeys, j, day)
        m = len(owner)
        data = {
            "CHILD": np.repeat(people.child_str[kids], 8), "LA": np.full(m * 8, codes[c], dtype=object),
            "ASSESSMENT_DATE": np.repeat(dates(day), 8), "INSTRUMENT": np.full(m * 8, INSTRUMENT, dtype=object),
            "DOMAIN": np.tile(dom, m), "INTENSITY": inten.reshape(-1), "FREQUENCY": freq.reshape(-1),
        }
        append_csv(path, NEEDS_COLS, data, header)
        header = False
        total += m * 8
    if header:
        write_csv(path, NEEDS_COLS, {c: np.array([], dtype=object) for c in NEEDS_COLS})
    return total


# ---- provider register, agreements, lookup -----------------------------------------------------
def write_register(region, out: Path) -> int:
    reg = region.register
    data = {"URN": reg.urn, "LA": reg.la, "PROVIDER_NAME": reg.name, "PLACE": reg.place,
            "PLACE_PROVIDER": reg.provider, "POSTCODE": region.geo.sector_code[reg.sector],
            "PLACES": reg.places}
    for i, c in enumerate(CAP_COLS):
        data[c] = reg.cap[:, i]
    write_csv(out / "provider_register.csv", REGISTER_COLS, data)
    return reg.n


def _sorted_visible(region, vis: np.ndarray, people: People) -> np.ndarray:
    pl = region.placements
    c = pl["cidx"][vis]
    return vis[np.lexsort((pl["start"][vis], people.child_id[c], people.council[c]))]


def write_agreements(region, vis: np.ndarray, people: People, out: Path, dates: DateStrings) -> int:
    pl = region.placements
    v = _sorted_visible(region, vis, people)
    reg_set = (pl["setting"][v] >= 0) & ~np.isin(pl["code"][v], NO_URN)  # R1: CQC-registered, no URN
    c = pl["cidx"][v]
    data = {
        "CHILD": people.child_str[c], "LA": np.array(region.geo.codes, dtype=object)[people.council[c]],
        "START_DATE": dates(pl["start"][v]),
        "URN": np.where(reg_set, region.register.urn[np.maximum(pl["setting"][v], 0)], "XXXXXXX"),
        "WEEKLY_FEE": pl["fee"][v],
    }
    for i, col in enumerate(CAP_COLS):
        data[col] = np.where(reg_set, "", pl["cap"][v][:, i].astype(str)).astype(object)
    write_csv(out / "placement_agreements.csv", AGREEMENT_COLS, data)
    return len(v)


def write_lookup(region, out: Path) -> int:
    code, e, n = postcode_lookup_rows(region.geo)
    write_csv(out / "postcode_lookup.csv", LOOKUP_COLS, {"POSTCODE": code, "EASTING": e, "NORTHING": n})
    return len(code)


# ---- placement requests ------------------------------------------------------------------------
def _choose(u: np.ndarray, options: list[str], probs: list[float]) -> np.ndarray:
    cum = np.cumsum(probs) / np.sum(probs)
    return np.array(options, dtype=object)[np.minimum((u[:, None] >= cum[None]).sum(axis=1), len(options) - 1)]


def _tf(b: np.ndarray) -> np.ndarray:
    return np.where(b, "true", "false").astype(object)


def write_requests(region, vis: np.ndarray, people: People, out: Path, dates: DateStrings) -> int:
    """placement_requests.csv in the Placements Data Standard v2 (flattened, one row a request)."""
    pl = region.placements
    rp = region.params["requests"]
    # previous placement's ending (placements are sorted by period then start)
    prev_cause = np.full(len(pl), -1)
    same = pl["pkey"][1:] == pl["pkey"][:-1]
    prev_cause[1:] = np.where(same, pl["cause"][:-1], -1)
    v = _sorted_visible(region, vis, people)
    since = region.extract - int(round(rp["years_before_extract"] * DAYS_PER_YEAR))
    k = hash_key(region.seed, "requests")
    pk, kk = pl["pkey"][v], pl["k"][v].astype(np.int64)

    def u(i: int) -> np.ndarray:
        return hash_uniform(k, pk, kk, i)

    has_type = np.isin(pl["code"][v], list(REQUEST_TYPE))
    keep = has_type & (pl["start"][v] >= since) & (u(0) < rp["coverage"])
    v = v[keep]
    pk, kk = pl["pkey"][v], pl["k"][v].astype(np.int64)
    n = len(v)
    c = pl["cidx"][v]
    intensity = pl["inten"][v].astype(int)
    age = pl["age"][v]
    code = pl["code"][v]
    km = pl["km"][v]
    start = pl["start"][v]
    ch = region.children
    pc = prev_cause[v]
    nb_u = u(1)
    needed = np.where(kk == 1, _choose(nb_u, ["Today", "in less than 5 days", "in more than 5 days"], [0.6, 0.3, 0.1]),
                      np.where(pc == UNPLANNED,
                               _choose(nb_u, ["Today", "in less than 5 days", "in more than 5 days"], [0.5, 0.35, 0.15]),
                               _choose(nb_u, ["Today", "in less than 5 days", "in more than 5 days"], [0.1, 0.25, 0.65])))
    lead = np.where(needed == "Today", 0, np.where(needed == "in less than 5 days", 1 + (u(2) * 4).astype(int),
                                                    6 + (u(2) * 35).astype(int)))
    sib = _choose(u(3), ["0", "1", "2", "3"], [0.55, 0.25, 0.12, 0.08]).astype(int)
    together = np.where(sib > 0, np.minimum(sib, (u(4) * (sib + 1)).astype(int)), 0)
    uasc = ch.uasc[c]
    learn = intensity[:, _DI["learning_communication"]]
    comm = np.where(u(5) < 0.03, "Not Specified", np.where(learn >= 2, "Y", "N"))
    spec = np.where(uasc, "ESOL", np.where(learn >= 3, _choose(u(6), ["Makaton", "BSL", "Other"], [0.7, 0.1, 0.2]), "None"))
    adapt = (intensity[:, _DI["health_disability"]] >= 3) & (u(7) < 0.6)
    cult = np.where(uasc, _choose(u(8), ["Required", "Not required", "Not Known"], [0.6, 0.3, 0.1]),
                    _choose(u(8), ["Required", "Not required", "Not Known", "Other"], [0.12, 0.7, 0.16, 0.02]))
    solo = ((intensity[:, _DI["risk_to_others"]] >= 3) | (intensity[:, _DI["behaviour"]] >= 3)) & (u(9) < 0.7)
    comp = np.where(solo, "Solo placement recommended",
                    _choose(u(10), ["With other children recommended", "Only with other older children",
                                    "Only with other younger children", "No preference"], [0.3, 0.1, 0.1, 0.5]))
    pets = _choose(u(11), ["Yes - can", "Not Known", "No", "Yes - must"], [0.6, 0.22, 0.13, 0.05])
    support = np.where((intensity[:, _DI["emotional_wellbeing"]] >= 3) | (intensity[:, _DI["risk_to_self"]] >= 2), "therapeutic support",
                       np.where((intensity[:, _DI["risk_to_others"]] >= 2) | (intensity[:, _DI["exploitation_missing"]] >= 2),
                                "additional supervision",
                                np.where((km / 1.609344 > 20) & (age < 16), "taxis to school", "NA")))
    support = np.where((support == "NA") & (u(12) < 0.03), "other (please specify)", support)
    maxrisk = intensity[:, [_DI["risk_to_self"], _DI["risk_to_others"], _DI["exploitation_missing"]]].max(axis=1)
    dol = (code == "K1") | ((maxrisk == 3) & (pl["secured"][v] == 1) & (u(13) < 0.05))
    pref = pl["preferred"][v]
    ext = intensity[:, _DI["behaviour"]] + intensity[:, _DI["risk_to_others"]] + intensity[:, _DI["exploitation_missing"]]

    def suit(t: int, unsuitable: np.ndarray, i: int) -> np.ndarray:
        base = np.where(unsuitable, "Unsuitable", "Suitable but not preferred")
        base = np.where(u(i) < 0.03, "Not specified", base)
        return np.where(pref == t, "Preferred", base).astype(object)

    fos_s = suit(0, (pref == 1) & (ext >= 7), 14)
    res_s = suit(1, age < 10, 15)
    sup_s = suit(2, age < 16, 16)
    male = ch.male[c]

    def risk(b: np.ndarray) -> np.ndarray:
        return np.where(b, "Risk Present", "No known risk").astype(object)

    ex = intensity[:, _DI["exploitation_missing"]] >= 2
    rto = intensity[:, _DI["risk_to_others"]] >= 2
    sector = region.geo.sector_code
    pl_post = sector[pl["pl_sector"][v]]  # the commissioner knows where it is, even if PL_POST is blank
    urn = np.where((pl["setting"][v] >= 0) & ~np.isin(code, NO_URN),
                   region.register.urn[np.maximum(pl["setting"][v], 0)], "XXXXXXX")
    officer = 1 + (hash_uniform(k, people.council[c], (u(17) * 40).astype(np.int64)) * 40).astype(int)
    cost_day = np.minimum(start + (u(18) * 15).astype(int), region.extract)
    data = {
        "LA": np.array(region.geo.codes, dtype=object)[people.council[c]], "childId": people.child_str[c],
        "neededBy": needed, "siblingCount": sib, "preferredLocation": sector[ch.home_sector[c]],
        "communicationNeeds": comm, "specificCommunicationRequirements": spec, "homeAdaptation": _tf(adapt),
        "culturalNeeds": cult, "livingCompanions": comp, "pets": pets, "additionalSupport": support,
        "deprivationOfLiberty": _tf(dol), "fosterCareSuitability": fos_s, "residentialCareSuitability": res_s,
        "supportedAccommodationSuitability": sup_s,
        "riskSelfHarm": risk(intensity[:, _DI["risk_to_self"]] >= 2),
        "riskSexualExploitation": risk(ex & (u(19) < np.where(male, 0.3, 0.75))),
        "riskCriminalExploitation": risk(ex & (u(20) < np.where(male, 0.75, 0.3))),
        "riskDrugAlcohol": risk(ex & (age >= 12) & (u(21) < 0.5)),
        "riskEatingDisorder": risk((intensity[:, _DI["emotional_wellbeing"]] >= 3) & (u(22) < 0.1)),
        "riskMissing": risk(ex), "riskOther": np.full(n, "", dtype=object),
        "riskToOthersPhysical": risk(rto), "riskToOthersSexual": risk(rto & (u(23) < 0.15)),
        "riskToOthersFire": risk(rto & (u(24) < 0.08)),
        "riskToOthersAnimals": risk((intensity[:, _DI["behaviour"]] >= 2) & (u(25) < 0.08)),
        "riskToOthersCriminal": risk(rto & (age >= 12) & (u(26) < 0.6)),
        "riskToOthersOther": np.full(n, "", dtype=object),
        "totalWeeklyCost": pl["fee"][v], "placementLocation": pl_post,
        "preferabilityLocation": _tf(km / 1.609344 <= 20), "educationContinuity": _tf(u(27) < np.where(km <= 16, 0.85, 0.25)),
        "providerURN": urn, "siblingsPlacedTogether": together,
        "placementType": lookup(code, REQUEST_TYPE),
        "referralDate": dates(start - lead), "placementOfficerName": lookup(officer, {str(o): f"Officer {o}" for o in range(1, 41)}),
        "placementDate": dates(start), "costDate": dates(cost_day),
    }
    write_csv(out / "placement_requests.csv", REQUEST_COLS, data)
    return n


__all__ = ["visible_placements", "write_needs", "write_register", "write_agreements", "write_lookup",
           "write_requests"]
