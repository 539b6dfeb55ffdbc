"""Journeys through care: periods of care made of placements, each ended by competing hazards.

The simulation runs in rounds, never per child: round k places every child-period that is still
in care for its k-th placement at once (type, setting, capability, distance, fee), draws the three
cause-specific latent times from the Weibull proportional-hazards model, and keeps the periods
whose placement ended with a change for round k+1.  A period ends when the leaving-care cause
wins or at the 18th birthday; some children come back later (a new period, RNE S).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from rcceval.spec.codes import DAYS_PER_YEAR

from .councils import Geography
from .needs import NeedsModel
from .params import DOMAINS, TYPE_GROUPS, covariate_names
from .population import Children, age_years, to_day
from .providers import Register, choose_settings
from .rng import lookup, stream

GROUPS = list(TYPE_GROUPS)
CODE_GROUP = {c: GROUPS.index(g) for g, cs in TYPE_GROUPS.items() for c in cs}
G_FOSTER, G_KIN, G_RES, G_SUP, G_PAR, G_ADOPT, G_OTHER = range(7)
UNPLANNED, PLANNED, LEAVING, CENSORED = 0, 1, 2, 3
NEVER = np.int64(10**9)  # "no such day"
LS_SLOTS = 5
_D = {d: i for i, d in enumerate(DOMAINS)}


@dataclass
class Tables:
    """Column arrays of one table (all the same length)."""

    cols: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, k: str) -> np.ndarray:
        return self.cols[k]

    def __setitem__(self, k: str, v: np.ndarray) -> None:
        self.cols[k] = v

    @staticmethod
    def concat(parts: list[dict]) -> "Tables":
        keys = list(parts[0])
        return Tables({k: np.concatenate([p[k] for p in parts]) for k in keys})

    def take(self, ix: np.ndarray) -> "Tables":
        return Tables({k: v[ix] for k, v in self.cols.items()})


@dataclass
class Context:
    params: dict
    seed: int
    geo: Geography
    children: Children
    needs: NeedsModel
    register: Register
    sector_km: np.ndarray
    extract: int
    null_needs: bool
    sector_tree: object = None


def _pick(rng: np.random.Generator, probs: dict, n: int) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _uniform_days(rng: np.random.Generator, lohi: list, n: int) -> np.ndarray:
    return rng.integers(lohi[0], lohi[1] + 1, size=n).astype(np.int64)


# ---- legal status ----------------------------------------------------------------------------
def legal_status(rng: np.random.Generator, p: dict, start: np.ndarray, dob: np.ndarray,
                 uasc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Legal status timeline of each period: codes (n, 5) and the days they start (NEVER = none)."""
    n = len(start)
    age = (start - dob) / DAYS_PER_YEAR
    ls0 = np.where(age < 10, _pick(rng, p["entry_probs_under10"], n),
                   np.where(age < 16, _pick(rng, p["entry_probs_10_15"], n),
                            _pick(rng, p["entry_probs_16_17"], n)))
    ls0 = np.where(uasc, "V2", ls0)
    codes = np.empty((n, LS_SLOTS), dtype=object)
    days = np.full((n, LS_SLOTS), NEVER, dtype=np.int64)
    codes[:, 0] = ls0
    days[:, 0] = start
    cur, t = ls0.copy(), start.copy()
    for s in range(1, LS_SLOTS):
        nxt = np.full(n, None, dtype=object)
        dt = np.full(n, NEVER, dtype=np.int64)
        u = rng.random(n)
        em = np.isin(cur, ["L1", "L2", "L3"])
        em_days = np.select([cur == "L1", cur == "L2"],
                            [_uniform_days(rng, p["emergency_days_by_code"]["L1"], n),
                             _uniform_days(rng, p["emergency_days_by_code"]["L2"], n)],
                            _uniform_days(rng, p["emergency_days_by_code"]["L3"], n))
        dt = np.where(em, em_days, dt)
        nxt = np.where(em, np.where(u < p["emergency_to_C1"], "C1", "V2"), nxt)
        yj = np.isin(cur, ["J1", "J2", "J3"]) & (u < p["youth_justice_to_V2"])
        dt = np.where(yj, _uniform_days(rng, p["youth_justice_days"], n), dt)
        j2 = cur == "J2"
        yj |= j2
        dt = np.where(j2, _uniform_days(rng, p["J2_days"], n), dt)
        nxt = np.where(yj, "V2", nxt)
        age_t = (t - dob) / DAYS_PER_YEAR
        v2 = (cur == "V2") & ~uasc & (age_t < 14) & (u < p["V2_to_C1_prob_under14"])
        dt = np.where(v2, _uniform_days(rng, p["V2_to_C1_days"], n), dt)
        nxt = np.where(v2, "C1", nxt)
        c1 = (cur == "C1") & (u < p["C1_to_C2_prob"])
        d_c1 = _uniform_days(rng, p["C1_to_C2_days"], n)
        young = ((t + d_c1 - dob) / DAYS_PER_YEAR) < 5
        to_e1 = young & (rng.random(n) < p["E1_at_final_order_prob_under5"])
        dt = np.where(c1, d_c1, dt)
        nxt = np.where(c1, np.where(to_e1, "E1", "C2"), nxt)
        c2 = (cur == "C2") & (age_t < 4.5) & (u < p["C2_to_E1_prob_under5"])
        dt = np.where(c2, _uniform_days(rng, p["C2_to_E1_days"], n), dt)
        nxt = np.where(c2, "E1", nxt)
        has = (nxt != None) & (t < NEVER)  # noqa: E711
        t = np.where(has, t + dt, NEVER)
        codes[:, s] = np.where(has, nxt, None)
        days[:, s] = t
        cur = np.where(has, nxt, "none")
    return codes, days


def ls_at(codes: np.ndarray, days: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Legal status in force on `day`."""
    idx = (days <= day[:, None]).sum(axis=1) - 1
    return codes[np.arange(len(day)), np.maximum(idx, 0)]


# ---- one round of placements -----------------------------------------------------------------
def _choose_type(ctx: Context, rng: np.random.Generator, age: np.ndarray, inten: np.ndarray,
                 freq: np.ndarray, ls: np.ndarray, k: int, prev_group: np.ndarray,
                 prev_cause: np.ndarray, uasc: np.ndarray, day: np.ndarray):
    """PLACE code, preferred and secured request types (-1 when no request) for each placement."""
    pc = ctx.params["placement_choice"]
    n = len(age)
    first = k == 1
    planned_prev = prev_cause == PLANNED
    routes = np.zeros((n, 7))
    routes[:, 0] = np.where((ls == "E1") & (age < 7) & (not first), pc["p_adoption_if_E1"], 0)
    cpar = np.isin(ls, ["C1", "C2"]) & planned_prev
    care = np.isin(ls, ["C1", "C2"])
    routes[:, 1] = np.where((age < 16) & care, pc["p_parents_first"] if first else pc["p_parents_later_C"] * cpar, 0)
    routes[:, 2] = np.where(first & (age == 0), pc["p_mother_baby_infant"], 0)
    routes[:, 3] = np.where(ls == "J1", pc["p_custody_if_J1"], 0) + np.where(age >= 15, pc["p_custody_15plus"], 0)
    routes[:, 4] = pc["p_health"]
    routes[:, 5] = pc["p_other_Z1"]
    routes[:, 6] = np.where(age >= 16, pc["p_residential_employment_16plus"], 0)
    cum = np.cumsum(routes, axis=1)
    u = rng.random(n)
    route = (u[:, None] >= cum).sum(axis=1)  # 7 = commissioned
    route_codes = np.array(["A6", "P1", "R3", "R5", "R2", "Z1", "P3", ""], dtype=object)
    code = route_codes[route]
    adopt = route == 0
    code = np.where(adopt & (rng.random(n) < 0.1), "A4", code)

    # commissioned: preference among Foster (0), Residential (1), Supported (2)
    ur = pc["utility_residential"]
    ext = inten[:, _D["behaviour"]] + inten[:, _D["risk_to_others"]] + inten[:, _D["exploitation_missing"]]
    util_r = (ur["intercept"] + ur["ext_needs"] * ext + ur["risk_to_self"] * inten[:, _D["risk_to_self"]]
              + ur["freq_behaviour"] * freq[:, _D["behaviour"]]
              + np.select([age < 8, age < 12, age < 16], [ur["age_lt8"], ur["age_8_11"], ur["age_12_15"]], ur["age_16_17"])
              + ur["per_previous_placement"] * min(k - 1, 4) * (age >= 10)
              + ur["previous_residential"] * (prev_group == G_RES) + ur["uasc"] * uasc)
    us = pc["utility_supported"]
    util_s = np.where(age >= us["only_from_age"],
                      us["intercept"] + us["uasc"] * uasc + us["previous_supported"] * (prev_group == G_SUP)
                      + us["ext_needs"] * ext + us["not_first"] * (not first), -np.inf)
    util = np.stack([np.zeros(n), util_r, util_s], axis=1) + rng.gumbel(size=(n, 3))
    preferred = np.argmax(util, axis=1)
    psf = pc["p_secure_foster"]
    p_sec = np.select([preferred == 0, preferred == 1],
                      [np.select([age < 10, age < 14], [psf["under10"], psf["10_13"]], psf["14plus"]),
                       pc["p_secure_residential"]], pc["p_secure_supported"])
    got = rng.random(n) < p_sec
    v = rng.random(n)
    alt = np.select(
        [preferred == 0, preferred == 1],
        [np.where(age >= 16, np.where(v < 0.5, 2, 1), np.where(age >= 8, 1, 0)),
         np.where((age >= 16) & (v < 0.4), 2, 0)],
        np.where(v < 0.6, 0, 1))
    secured = np.where(got, preferred, alt)
    second_best = (secured != preferred) & (route == 7)
    comm = route == 7

    # concrete PLACE codes of commissioned placements
    tot = inten.sum(axis=1)
    p_kin = np.where(uasc, pc["p_kinship_uasc"], pc["p_kinship_first"] if first else pc["p_kinship_later"])
    p_kin = np.where(second_best | (age >= 16), p_kin * 0.3, p_kin)
    kin = comm & (secured == 0) & (rng.random(n) < p_kin)
    w = rng.random(n)
    kin_code = (np.where(w < 0.9, "U3", np.where(w < 0.95, "U2", "U1")) if first
                else np.where(w < 0.35, "U1", np.where(w < 0.95, "U3", "U2")))
    fos = comm & (secured == 0) & ~kin
    w = rng.random(n)
    lt = (not first) & planned_prev & (age < 16) & (w < pc["p_long_term_foster_planned"])
    ffa = (age == 0) & (rng.random(n) < pc["p_ffa_infant"])
    fos_code = np.where(lt, "U4", np.where(ffa, "U5", "U6"))
    pi = pc["p_ifa"]
    p_ifa = pi["base"] + pi["age10plus"] * (age >= 10) + pi["high_need"] * (tot >= 12) + pi["second_best"] * second_best
    ifa = fos & (rng.random(n) < p_ifa)
    res = comm & (secured == 1)
    w = rng.random(n)
    hi_risk = inten[:, [_D["risk_to_self"], _D["risk_to_others"], _D["exploitation_missing"]]].max(axis=1) == 3
    learn = (inten[:, _D["learning_communication"]] >= 2) | (inten[:, _D["health_disability"]] >= 2)
    res_code = np.where(hi_risk & (age >= 12) & (w < pc["p_secure_home_high_risk"]), "K1",
                        np.where(learn & (age >= 8) & (rng.random(n) < pc["p_residential_school_learning"]), "S1",
                                 np.where(rng.random(n) < pc["p_R1"], "R1", "K2")))
    sup = comm & (secured == 2)
    p2_ok = day < to_day(pc["P2_last_day"])
    sup_code = np.where((rng.random(n) < pc["p_P2_supported"]) & p2_ok, "P2", "H5")
    code = np.where(kin, kin_code, code)
    code = np.where(fos, fos_code, code)
    code = np.where(res, res_code, code)
    code = np.where(sup, sup_code, code)
    pref = np.where(comm, preferred, -1)
    sec = np.where(comm, secured, -1)
    return code, pref, sec, second_best, ifa


def _capability(ctx: Context, rng: np.random.Generator, kind: np.ndarray, inten: np.ndarray,
                second_best: np.ndarray) -> np.ndarray:
    cp = ctx.params["capability"]
    n = len(kind)
    delta = rng.choice(cp["delta_values"], p=cp["delta_probs"], size=(n, len(DOMAINS)))
    delta = delta + np.where(second_best, cp["second_best_shift"], 0)[:, None]
    ceil = np.full((n, len(DOMAINS)), 3)
    for name, c in cp["ceiling"].items():
        ceil[kind == name] = c
    floor = np.zeros((n, len(DOMAINS)), dtype=int)
    floor[np.isin(kind, ["foster_in_house", "foster_ifa", "kinship"])] = cp["floor"]["foster"]
    return np.clip(inten + delta, floor, ceil).astype(np.int8)


def _kind(code: np.ndarray, ifa: np.ndarray) -> np.ndarray:
    """Cost / distance / capability kind of each placement."""
    g = lookup(code, CODE_GROUP, dtype=np.int64)
    kind = code.copy()
    kind = np.where(g == G_FOSTER, np.where(ifa, "foster_ifa", "foster_in_house"), kind)
    kind = np.where(g == G_KIN, "kinship", kind)
    kind = np.where(g == G_ADOPT, "adoption", kind)
    kind = np.where(code == "P1", "parents", kind)
    return kind, g


def _fees(ctx: Context, rng: np.random.Generator, kind: np.ndarray, code: np.ndarray,
          provider: np.ndarray, inten: np.ndarray) -> np.ndarray:
    fp = ctx.params["fees"]["by_kind"]
    key = np.where(code == "K2", np.where(np.isin(provider, ["PR1", "PR2"]), "K2_la", "K2_private"), kind)
    key = np.where(kind == "parents", "P1", key)
    base = lookup(key, {k: v[0] for k, v in fp.items()}, dtype=float)
    sd = lookup(key, {k: v[1] for k, v in fp.items()}, dtype=float)
    up = lookup(key, {k: v[2] for k, v in fp.items()}, dtype=float)
    fee = base * np.exp(sd * rng.standard_normal(len(key))) * (1 + up * inten.sum(axis=1))
    return np.rint(fee).astype(np.int64)


def _hazard_draw(ctx: Context, rng: np.random.Generator, x: np.ndarray, council: np.ndarray):
    """Latent years to each cause; returns (min time, cause, linear predictors)."""
    hz = ctx.params["hazard"]
    names = covariate_names()
    times, lps = [], []
    for cause in hz["causes"]:
        beta = np.array([hz["log_hr"][cause][nm] for nm in names])
        lp = x @ beta
        if cause in hz["council_frailty_applies_to"]:
            lp = lp + ctx.geo.frailty_log[council]
        b = hz["baseline"][cause]
        e = rng.exponential(size=len(x))
        times.append((e / (b["lambda"] * np.exp(lp))) ** (1.0 / b["shape"]))
        lps.append(lp)
    t = np.stack(times, axis=1)
    cause = np.argmin(t, axis=1)
    return t[np.arange(len(t)), cause], cause, np.stack(lps, axis=1)


def design_matrix(age: np.ndarray, group: np.ndarray, inten: np.ndarray, freq: np.ndarray,
                  mismatch: np.ndarray, second_best: np.ndarray, first: np.ndarray,
                  uasc: np.ndarray, ls: np.ndarray) -> np.ndarray:
    """Hazard covariates in the order of params.covariate_names()."""
    cols = [
        age <= 4, (age >= 10) & (age <= 12), (age >= 13) & (age <= 15), age >= 16,
        group == G_KIN, group == G_RES, group == G_SUP, group == G_PAR, group == G_ADOPT, group == G_OTHER,
    ]
    care = np.isin(ls, ["C1", "C2", "D1", "E1"])
    x = np.column_stack(cols + [inten, freq, mismatch, second_best, first, uasc, care]).astype(float)
    return x


def _round(ctx: Context, rngs: dict, cidx: np.ndarray, pkey: np.ndarray, a0: np.ndarray,
           day: np.ndarray, ls_codes: np.ndarray, ls_days: np.ndarray, k: int,
           prev_group: np.ndarray, prev_cause: np.ndarray, prev_sector: np.ndarray, prev_setting: np.ndarray) -> dict:
    """Place every active child-period for its k-th placement and draw how it ends."""
    ch = ctx.children
    n = len(cidx)
    age = age_years(ch.dob[cidx], day)
    j = ctx.needs.in_force(pkey, a0, day)
    aday = ctx.needs.review_day(pkey, a0, j)
    inten, freq = ctx.needs.recorded(cidx, pkey, j, aday)
    ls = ls_at(ls_codes, ls_days, day)
    uasc = ch.uasc[cidx]
    code, pref, sec, second_best, ifa = _choose_type(ctx, rngs["choice"], age, inten, freq, ls, k,
                                                     prev_group, prev_cause, uasc, day)
    kind, group = _kind(code, ifa)

    # where: a search point at a type-typical distance from home, then the nearest sector/setting
    gp = ctx.params["geography"]
    rng = rngs["place"]
    dkey = np.where(kind == "parents", "P1", kind)
    med = lookup(dkey, {k: v[0] for k, v in gp["distance_km"].items()}, dtype=float)
    sig = lookup(dkey, {k: v[1] for k, v in gp["distance_km"].items()}, dtype=float)
    dist = med * np.exp(sig * rng.standard_normal(n))
    theta = 2 * np.pi * rng.random(n)
    home = ch.home_sector[cidx]
    target = ctx.sector_km[home] + np.stack([dist * np.cos(theta), dist * np.sin(theta)], axis=1)
    # the nearest postcode that is neither the child's home (only P1 may be at home: DfE 392d) nor
    # the previous placement's (a new carer is elsewhere: DfE 435/436)
    near = ctx.sector_tree.query(target, k=3)[1].astype(np.int64)
    usable = (near != home[:, None]) & (near != prev_sector[:, None])
    pl_sector = near[np.arange(n), np.argmax(usable, axis=1)]
    at_home = (code == "P1") & (rng.random(n) < 0.8) & (prev_sector != home)
    pl_sector = np.where(at_home, home, pl_sector)
    setting = np.full(n, -1, dtype=np.int64)
    cap = _capability(ctx, rngs["capability"], kind, inten, second_best)
    for reg_code in ["K2", "H5", "K1", "R1", "S1"]:
        m = code == reg_code
        if m.any():
            s = choose_settings(ctx.register, reg_code, target[m], inten[m], rng,
                                ctx.params["register"]["candidates"], avoid=prev_setting[m])
            setting[m] = s
            pl_sector[m] = ctx.register.sector[s]
            cap[m] = ctx.register.cap[s]
    blank = np.zeros(n, dtype=bool)
    for c, p in gp["p_pl_post_blank"].items():
        blank |= (code == c) & (rng.random(n) < p)
    km = np.linalg.norm(ctx.sector_km[pl_sector] - ctx.sector_km[home], axis=1)

    # provider
    w = rng.random(n)
    provider = np.full(n, "", dtype=object)
    provider = np.where(group == G_FOSTER, np.where(ifa, np.where(w < 0.88, "PR4", "PR5"),
                                                    np.where(w < 0.98, "PR1", "PR2")), provider)
    provider = np.where(group == G_KIN, np.where(w < 0.97, "PR1", "PR2"), provider)
    provider = np.where(group == G_ADOPT, np.where(w < 0.7, "PR1", np.where(w < 0.9, "PR5", "PR2")), provider)
    provider = np.where(code == "P1", "PR0", provider)
    provider = np.where(code == "P2", np.where(w < 0.6, "PR4", "PR1"), provider)  # DfE 526: always a provider
    provider = np.where(np.isin(code, ["R2", "R5"]), "PR3", provider)
    provider = np.where(code == "R3", np.where(w < 0.6, "PR4", "PR1"), provider)
    provider = np.where(code == "P3", "PR4", provider)
    provider = np.where(code == "Z1", "", provider)  # DfE 178: Z1 has no provider
    has = setting >= 0
    rp = ctx.register.provider[np.maximum(setting, 0)]
    own = ctx.register.council[np.maximum(setting, 0)] == ch.council[cidx]
    provider = np.where(has, np.where(rp == "PR1", np.where(own, "PR1", "PR2"), rp), provider)
    # the council's own provision outside fostering and adoption is inside the council (DfE 1015)
    away = ctx.geo.sector_council[pl_sector] != ch.council[cidx]
    provider = np.where((provider == "PR1") & away & ~np.isin(group, [G_FOSTER, G_KIN, G_ADOPT]), "PR2", provider)

    mismatch = np.maximum(0, inten.astype(np.int16) - cap).sum(axis=1)
    fee = _fees(ctx, rngs["fees"], kind, code, provider, inten)

    # how it ends
    first = np.full(n, k == 1)
    x = design_matrix(age, group, inten, freq, mismatch, second_best, first, uasc, ls)
    t_years, cause, lp = _hazard_draw(ctx, rngs["hazard"], x, ch.council[cidx])
    dur = np.maximum(1, np.ceil(t_years * DAYS_PER_YEAR)).astype(np.int64)
    end = day + np.minimum(dur, 40 * 365)
    forced = end >= ch.dob18[cidx]
    end = np.where(forced, ch.dob18[cidx], end)
    cause = np.where(forced, LEAVING, cause)
    # a placement order (E1) sends young children in foster care to adopters: a planned move
    e1 = np.where((ls_codes == "E1") & (ls_days > day[:, None]), ls_days, NEVER).min(axis=1)
    pc = ctx.params["placement_choice"]
    mv = (np.isin(group, [G_FOSTER, G_KIN]) & (age < 6) & (e1 < NEVER)
          & (rngs["reasons"].random(n) < pc["p_adoption_move_after_E1"]))
    move_day = np.where(mv, e1 + _uniform_days(rngs["reasons"], pc["adoption_move_days"], n), NEVER)
    moved = move_day < end
    end = np.where(moved, move_day, end)
    cause = np.where(moved, PLANNED, cause)
    forced &= ~moved
    p2_end = (code == "P2") & (end > to_day(pc["P2_last_day"]))
    end = np.where(p2_end, to_day(pc["P2_last_day"]), end)
    cause = np.where(p2_end, PLANNED, cause)
    forced &= ~p2_end
    censored = end >= ctx.extract
    cause = np.where(censored, CENSORED, cause)

    # reasons for changes, status changes with the same carer
    ep = ctx.params["endings"]
    rr = rngs["reasons"]
    reason = np.where(cause == UNPLANNED, _pick(rr, ep["unplanned_reasons"], n),
                      np.where(cause == PLANNED, _pick(rr, ep["planned_reasons"], n), ""))
    reason = np.where(p2_end & (cause == PLANNED), "LAREQ", reason)
    st = np.isin(code, ["U6", "U3"]) & (age < 15) & (rr.random(n) < pc["p_status_change_same_carer"])
    status_day = np.where(st, day + _uniform_days(rr, pc["status_change_days"], n), NEVER)
    status_day = np.where(status_day < end, status_day, NEVER)
    status_code = np.where(code == "U6", "U4", np.where(code == "U3", "U1", ""))
    return {
        "cidx": cidx, "pkey": pkey, "k": np.full(n, k, dtype=np.int16), "start": day, "end": end,
        "cause": cause.astype(np.int8), "forced18": forced & ~censored, "age": age.astype(np.int16),
        "group": group.astype(np.int8), "code": code, "provider": provider, "setting": setting,
        "pl_sector": pl_sector, "pl_blank": blank, "km": km, "cap": cap, "inten": inten, "freq": freq,
        "assess_j": j.astype(np.int16), "mismatch": mismatch.astype(np.int16),
        "second_best": second_best, "preferred": pref.astype(np.int8), "secured": sec.astype(np.int8),
        "fee": fee, "reason": reason, "status_day": status_day, "status_code": status_code,
        "ls_start": ls, "lp": lp.astype(np.float32), "uasc": uasc, "adoption_move": moved & ~censored,
    }


# ---- endings of periods ----------------------------------------------------------------------
def _rec_codes(ctx: Context, rng: np.random.Generator, last: dict, cin: np.ndarray) -> np.ndarray:
    ep = ctx.params["endings"]
    n = len(last["cidx"])
    age = age_years(ctx.children.dob[last["cidx"]], last["end"])
    g = last["group"]
    forced = last["forced18"]
    rec = np.where(age >= 16, _pick(rng, ep["rec_16_17"], n), _pick(rng, ep["rec_under16"], n))
    rec = np.where((g == G_KIN) & (age < 16), _pick(rng, ep["rec_kinship"], n), rec)
    rec = np.where(g == G_PAR, _pick(rng, ep["rec_parents"], n), rec)
    rec = np.where(g == G_ADOPT, _pick(rng, ep["rec_adoption"], n), rec)
    at18 = np.where(np.isin(g, [G_FOSTER, G_KIN]), _pick(rng, ep["rec_at_18_foster"], n),
                    _pick(rng, ep["rec_at_18_other"], n))
    rec = np.where(forced, at18, rec)
    disabled = (cin == "N2") | (last["inten"][:, _D["health_disability"]] >= 2)
    rec = np.where((rec == "E7") & ~disabled, "E8", rec)
    rec = np.where((rec == "E15") & (age < 12), "E8", rec)
    rec = np.where(np.isin(rec, ["E11", "E12"]) & (g != G_ADOPT), "E4A", rec)
    rec = np.where(np.isin(rec, ["E45", "E46"]) & ~np.isin(g, [G_FOSTER, G_KIN]), "E41", rec)  # DfE 516
    return rec


def simulate(ctx: Context) -> tuple[Tables, Tables]:
    """All periods of care and placements of the region, burn-in included."""
    ch = ctx.children
    ctx.sector_tree = cKDTree(ctx.sector_km)
    rngs = {name: stream(ctx.seed, f"journeys_{name}") for name in
            ["ls", "choice", "place", "capability", "fees", "hazard", "reasons", "rec", "reentry"]}
    rp = ctx.params["reentry"]
    p_cidx = np.arange(ch.n)
    p_no = np.ones(ch.n, dtype=np.int64)
    p_start = ch.entry.copy()
    periods, placements = [], []
    while len(p_cidx):
        n = len(p_cidx)
        pkey = p_cidx * 8 + p_no
        ls_codes, ls_days = legal_status(rngs["ls"], ctx.params["legal_status"], p_start,
                                         ch.dob[p_cidx], ch.uasc[p_cidx])
        a0 = ctx.needs.first_assessment(pkey, p_start)
        end = np.full(n, NEVER, dtype=np.int64)
        closed = np.zeros(n, dtype=bool)
        forced = np.zeros(n, dtype=bool)
        last_ix = np.full(n, -1, dtype=np.int64)
        active = np.arange(n)
        day = p_start.copy()
        prev_group = np.full(n, -1)
        prev_cause = np.full(n, -1)
        prev_sector = np.full(n, -1, dtype=np.int64)
        prev_setting = np.full(n, -1, dtype=np.int64)
        k = 1
        base = sum(len(p["cidx"]) for p in placements)
        round_parts = []
        offset = base
        while len(active):
            r = _round(ctx, rngs, p_cidx[active], pkey[active], a0[active], day, ls_codes[active],
                       ls_days[active], k, prev_group, prev_cause, prev_sector, prev_setting)
            r["period_row"] = active + sum(len(p["cidx"]) for p in periods)
            round_parts.append(r)
            cause = r["cause"]
            last_ix[active] = offset + np.arange(len(active))
            offset += len(active)
            stop = cause >= LEAVING
            end[active[stop]] = np.where(cause[stop] == CENSORED, NEVER, r["end"][stop])
            closed[active[stop]] = cause[stop] == LEAVING
            forced[active[stop]] = r["forced18"][stop]
            go = ~stop
            active, day = active[go], r["end"][go]
            prev_group, prev_cause = r["group"][go], cause[go]
            prev_sector, prev_setting = r["pl_sector"][go], r["setting"][go]
            k += 1
        placements.extend(round_parts)
        # the last placement of each period decides how care ended
        allp = Tables.concat(round_parts)
        last = allp.take(last_ix - base)
        rec = np.where(closed, _rec_codes(ctx, rngs["rec"], last.cols, ch.cin[p_cidx]), "")
        periods.append({"cidx": p_cidx, "pkey": pkey, "period_no": p_no, "start": p_start, "end": end,
                        "closed": closed, "forced18": forced, "rec": rec, "a0": a0,
                        "ls_codes": ls_codes, "ls_days": ls_days})
        # re-entry
        rr = rngs["reentry"]
        age_end = (end - ch.dob[p_cidx]) / DAYS_PER_YEAR
        elig = closed & np.isin(rec, rp["eligible_rec"]) & (age_end < rp["max_age_at_end"]) & (p_no < rp["max_periods"])
        back = elig & (rr.random(n) < rp["p_reentry_after_return_home"])
        delay = np.maximum(30, np.rint(rp["delay_days_median"] * np.exp(rp["delay_sigma"] * rr.standard_normal(n)))).astype(np.int64)
        new_start = end + delay
        back &= (new_start < ctx.extract) & (new_start < ch.dob18[p_cidx] - 30)
        p_cidx, p_no, p_start = p_cidx[back], p_no[back] + 1, new_start[back]
    per = Tables.concat(periods)
    pl = Tables.concat(placements)
    # CUSTOD: a planned change into custody
    order = np.lexsort((pl["start"], pl["pkey"]))
    pl = pl.take(order)
    same = pl["pkey"][1:] == pl["pkey"][:-1]
    into_custody = np.zeros(len(pl), dtype=bool)
    into_custody[:-1] = same & (pl["code"][1:] == "R5") & (pl["cause"][:-1] == PLANNED)
    pl["reason"] = np.where(into_custody, "CUSTOD", pl["reason"])
    # period_row must follow the new order; it indexes `per`
    return per, pl
