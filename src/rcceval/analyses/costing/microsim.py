"""The journey microsimulation of question 3: every child's placements over a horizon, under unit-cost
and needs-led commissioning, vectorised over children x Monte Carlo draws.

A journey is a sequence of placements. Each placement's end is the first of three latent times, one
per cause-specific hazard (unplanned ending, planned change, left care), each drawn by inverse
transform of that cause's cumulative hazard (costing_hazard): proper competing risks. Leaving care,
the 18th birthday or the horizon ends a journey; an unplanned or planned ending is a move: it costs
the process cost and a next placement follows. The first placement is the child's observed one;
a next placement is drawn from the observed later placements of children with the same need
profile and age band (its type, whether it was second best, its capability, hence the child's
mismatch in it).
Needs-led commissioning finds a matched placement (mismatch 0, not second best) with probability
`capacity` for each placement, else the placement is as under unit costs; a matched placement costs
the child's needs-led weekly cost, any other its unit cost.

Common random numbers: every uniform is a hash (splitmix64) of the seed, the draw, the child, the
placement number and the stream, so both scenarios (and every break-even or tornado run) see the
same random numbers for the same child and placement, and results do not depend on how draws are
split into chunks or on n_jobs. Draws are chunked and run with joblib (a Dask cluster can run them
through joblib's backend). No loop over children: the loop is over placement numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from joblib import delayed

from rcceval import parallel
from rcceval.analyses.costing.hazard import CAUSES, NO_HAZARD_LOG_HR, HazardModel
from rcceval.analyses.costing.money import DAYS_PER_YEAR as MONEY_DAYS_PER_YEAR
from rcceval.analyses.costing.money import _cumulative_discounted_days
from rcceval.analyses.costing.params import COST_GROUPS, SETTINGS
from rcceval.parallel import Workers
from rcceval.spec.codes import AGE_BAND_EDGES, AGE_BAND_LABELS, DAYS_PER_YEAR, MODEL_TYPE_LEVELS
from rcceval.stats.rng import splitmix64_uniform

VARIABLE = ("MISMATCH", "SECOND_BEST", "FIRST_IN_PERIOD")
SCENARIOS = ("unit_cost", "needs_led")
UNPLANNED_I, PLANNED_I, LEFT_I = 0, 1, 2

ITEMS = ([f"unit_days.{g}" for g in COST_GROUPS] + [f"setting_days.{s}" for s in SETTINGS] + ["hours_days"]
         + [f"peak_days.{k}" for k in range(4)]
         + ["moves", "unplanned_moves", "days", "placements", "matched_days", "three_plus_moves", "children",
            "truncated"])
ITEM = {k: i for i, k in enumerate(ITEMS)}
G, S = len(COST_GROUPS), len(SETTINGS)
_U0, _S0, _H, _P0 = ITEM[f"unit_days.{COST_GROUPS[0]}"], ITEM[f"setting_days.{SETTINGS[0]}"], ITEM["hours_days"], ITEM["peak_days.0"]


@dataclass
class Cohort:
    """The children simulated (one row each) with their first placement, as arrays.

    fixed_names / Xf: the hazard covariates that stay as at the first placement (needs, care order,
    UASC, sex); age0 in years at the first placement; type0 index into MODEL_TYPE_LEVELS; group0 into
    COST_GROUPS; stratum into the hazard model's strata; profile into profiles; setting / hours /
    peak: what the needs-led cost is built from (costing_static.needs_components)."""

    profiles: list[str]
    profile: np.ndarray
    stratum: np.ndarray
    age0: np.ndarray
    first0: np.ndarray
    type0: np.ndarray
    mismatch0: np.ndarray
    sb0: np.ndarray
    group0: np.ndarray
    intensity: np.ndarray
    fixed_names: list[str]
    Xf: np.ndarray
    setting: np.ndarray
    hours: np.ndarray
    peak: np.ndarray

    @property
    def n(self) -> int:
        return len(self.profile)


@dataclass
class Pool:
    """Next placements to draw from, rows sorted by profile and age band at their start: start/count
    (profiles x age bands) give the rows a child of that profile and age draws from (the profile's
    rows of every age where none of that age, every row where the profile has none)."""

    type: np.ndarray
    sb: np.ndarray
    group: np.ndarray
    cap: np.ndarray
    start: np.ndarray
    count: np.ndarray


@dataclass
class Settings:
    horizon_days: float
    capacity: float
    max_placements: int = 60
    unplanned_factor: float = 1.0     # extra multiplier on matched placements' unplanned hazard (break-even)
    seed: int = 0
    n_jobs: Workers = 1               # workers, or the run's ParallelSetting (rcceval.parallel)
    chunk_draws: int = 0              # 0: chosen from the cohort size (never from n_jobs)
    record_first: bool = False        # keep every first placement's duration (days) and cause (checks)
    discount_rates: tuple[float, ...] = ()   # also record exposures discounted at these yearly rates (costing.money)


@dataclass
class Layout:
    """One cause's coefficients over draws, laid out for the engine."""

    fixed: np.ndarray      # (D, pf)
    offset: np.ndarray     # (D,) centring: coef . centre
    age: np.ndarray        # (D, 5)
    type: np.ndarray       # (D, 7)
    mm: np.ndarray         # (D,)
    sb: np.ndarray
    first: np.ndarray
    stratum_offset: np.ndarray | None

    def take(self, lo: int, hi: int) -> "Layout":
        return Layout(self.fixed[lo:hi], self.offset[lo:hi], self.age[lo:hi], self.type[lo:hi], self.mm[lo:hi],
                      self.sb[lo:hi], self.first[lo:hi], self.stratum_offset)


def layout(names: list[str], coefs: np.ndarray, centre: np.ndarray, fixed_names: list[str],
           eventless: list[str] = (), stratum_offset: np.ndarray | None = None) -> Layout:
    """Coefficient draws (D, p) of a model with columns `names` in the engine's layout; covariates of
    the cohort absent from the model get 0, levels with no ending of the cause NO_HAZARD_LOG_HR."""
    D = len(coefs)
    fixed = np.zeros((D, len(fixed_names)))
    age, typ = np.zeros((D, len(AGE_BAND_LABELS))), np.zeros((D, len(MODEL_TYPE_LEVELS)))
    var = {v: np.zeros(D) for v in VARIABLE}
    for j, name in enumerate(names):
        col = coefs[:, j]
        if name.startswith("AGE_BAND="):
            age[:, AGE_BAND_LABELS.index(name.split("=", 1)[1])] = col
        elif name.startswith("TYPE="):
            typ[:, MODEL_TYPE_LEVELS.index(name.split("=", 1)[1])] = col
        elif name in var:
            var[name] = col
        elif name in fixed_names:
            fixed[:, fixed_names.index(name)] = col
    for name in eventless:
        if name.startswith("AGE_BAND="):
            age[:, AGE_BAND_LABELS.index(name.split("=", 1)[1])] = NO_HAZARD_LOG_HR
        elif name.startswith("TYPE="):
            typ[:, MODEL_TYPE_LEVELS.index(name.split("=", 1)[1])] = NO_HAZARD_LOG_HR
    return Layout(fixed, coefs @ centre, age, typ, var["MISMATCH"], var["SECOND_BEST"], var["FIRST_IN_PERIOD"],
                  stratum_offset)


# ---- counter-based uniforms (common random numbers) -----------------------------------------------
def seed_key(seed: int) -> np.ndarray:
    return np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)


# ---- the engine ---------------------------------------------------------------------------------
@dataclass
class ChunkResult:
    by_profile: dict          # scenario -> (draws, profiles, items)
    per_child: dict           # scenario -> (children, 3): central cost, moves, days, summed over draws
    first: dict | None = None # scenario -> (duration days, cause index) of every first placement (draws x children)
    discounted: dict | None = None  # scenario -> (rates, draws, profiles, items): exposures discounted


def _run_chunk(c: Cohort, pool: Pool, lays: list[Layout], hz: HazardModel, st: Settings, draw0: int,
               scenarios: tuple[str, ...], nl_daily: np.ndarray, unit_daily: np.ndarray,
               process_cost: float) -> ChunkResult:
    nd, n, P = len(lays[0].mm), c.n, len(c.profiles)
    N = nd * n
    child = np.tile(np.arange(n), nd)
    dloc = np.repeat(np.arange(nd), n)
    key = seed_key(st.seed)
    base = ((dloc + draw0).astype(np.uint64) * np.uint64(n) + child.astype(np.uint64)) * np.uint64(st.max_placements)
    lp_fixed = [(L.fixed @ c.Xf.T - L.offset[:, None]).ravel() for L in lays]
    stratum = c.stratum[child]
    limit = np.minimum(st.horizon_days, np.maximum(0.0, (18.0 - c.age0) * DAYS_PER_YEAR))[child]
    hazards = [hz.causes[cause] for cause in CAUSES]
    first_rec = {}
    log_factor = np.log(st.unplanned_factor) if st.unplanned_factor > 0 else NO_HAZARD_LOG_HR
    R = len(st.discount_rates)
    state = {s: {"t": np.zeros(N), "alive": limit > 0, "moves": np.zeros(N, dtype=np.int64),
                 "acc": np.zeros((nd * P, len(ITEMS))), "child": np.zeros((n, 3)),
                 "dacc": np.zeros((R, nd * P, len(ITEMS)))} for s in scenarios}
    for k in range(st.max_placements):
        alive_any = np.zeros(N, dtype=bool)
        for s in scenarios:
            alive_any |= state[s]["alive"]
        idx = np.flatnonzero(alive_any)
        if not idx.size:
            break
        ctr = (base[idx] + np.uint64(k)) * np.uint64(8)
        e = [-np.log(splitmix64_uniform(key, ctr + np.uint64(i))) for i in range(3)]
        u_pool, u_cap = splitmix64_uniform(key, ctr + np.uint64(3)), splitmix64_uniform(key, ctr + np.uint64(4))
        for s in scenarios:
            ss = state[s]
            sel = ss["alive"][idx]
            j = idx[sel]
            if not j.size:
                continue
            ch, dr = child[j], dloc[j]
            t0 = ss["t"][j]
            age = c.age0[ch] + t0 / DAYS_PER_YEAR
            band = np.searchsorted(AGE_BAND_EDGES, np.floor(age), side="right")
            if k == 0:
                typ, sb, grp = c.type0[ch], c.sb0[ch], c.group0[ch]
                mm, first = c.mismatch0[ch], c.first0[ch]
            else:
                prof = c.profile[ch]
                start, count = pool.start[prof, band], pool.count[prof, band]
                row = start + np.minimum((u_pool[sel] * count).astype(np.int64), count - 1)
                typ, sb, grp = pool.type[row], pool.sb[row], pool.group[row]
                mm = np.clip(c.intensity[ch] - pool.cap[row], 0, None).sum(axis=1)
                first = np.zeros(len(j))
            matched = (u_cap[sel] < st.capacity) if s == "needs_led" else np.zeros(len(j), dtype=bool)
            mm = np.where(matched, 0.0, mm)
            sb = np.where(matched, 0.0, sb)
            times = np.empty((3, len(j)))
            for ci, (L, H) in enumerate(zip(lays, hazards)):
                lp = (lp_fixed[ci][j] + L.age[dr, band] + L.type[dr, typ] + L.mm[dr] * mm + L.sb[dr] * sb
                      + L.first[dr] * first)
                if L.stratum_offset is not None:
                    lp = lp + L.stratum_offset[stratum[j]]
                if ci == UNPLANNED_I and st.unplanned_factor != 1.0:
                    lp = lp + np.where(matched, log_factor, 0.0)
                times[ci] = H.inverse(stratum[j], e[ci][sel] * np.exp(-lp))
            cause = np.argmin(times, axis=0)
            dur = times[cause, np.arange(len(j))]
            if k == 0 and st.record_first:
                fd, fc = np.full(N, np.nan), np.full(N, -1)
                fd[j], fc[j] = dur, cause
                first_rec[s] = (fd.reshape(nd, n), fc.reshape(nd, n))
            lim = limit[j]
            hit = t0 + dur >= lim
            days = np.where(hit, lim - t0, dur)
            moved = ~hit & (cause != LEFT_I)
            keyp = dr * P + c.profile[ch]
            _accumulate(ss["acc"], keyp, nd * P, grp, matched, c.setting[ch], c.hours[ch],
                        c.peak[ch], days, moved, cause)
            for ri, rate in enumerate(st.discount_rates):
                # Green Book year steps from the journey's start: spell days weighted by their year's factor,
                # a move by the factor of the year it happens in (costing.money)
                ddays = _cumulative_discounted_days(t0 + days, rate) - _cumulative_discounted_days(t0, rate)
                dmove = moved * (1.0 + rate) ** -np.floor((t0 + dur) / MONEY_DAYS_PER_YEAR)
                _accumulate(ss["dacc"][ri], keyp, nd * P, grp, matched, c.setting[ch], c.hours[ch],
                            c.peak[ch], ddays, dmove, cause)
            daily = np.where(matched, nl_daily[ch], unit_daily[grp])
            ss["child"][:, 0] += np.bincount(ch, weights=days * daily + moved * process_cost, minlength=n)
            ss["child"][:, 1] += np.bincount(ch, weights=moved, minlength=n)
            ss["child"][:, 2] += np.bincount(ch, weights=days, minlength=n)
            ss["moves"][j] += moved
            ss["t"][j] = t0 + dur
            ss["alive"][j] = moved
    out, per_child, disc = {}, {}, {}
    key_all = dloc * P + c.profile[child]
    for s in scenarios:
        ss = state[s]
        acc = ss["acc"]
        acc[:, ITEM["three_plus_moves"]] = np.bincount(key_all, weights=ss["moves"] >= 3, minlength=nd * P)
        acc[:, ITEM["children"]] = np.bincount(key_all, minlength=nd * P)
        acc[:, ITEM["truncated"]] = np.bincount(key_all, weights=ss["alive"], minlength=nd * P)
        out[s] = acc.reshape(nd, P, len(ITEMS))
        per_child[s] = ss["child"]
        disc[s] = ss["dacc"].reshape(R, nd, P, len(ITEMS))
    return ChunkResult(out, per_child, first_rec if st.record_first else None, disc if R else None)


def _accumulate(acc: np.ndarray, keyp: np.ndarray, m: int, grp, matched, setting, hours, peak, days, moved, cause):
    um = ~matched
    acc[:, _U0:_U0 + G] += np.bincount(keyp[um] * G + grp[um], weights=days[um], minlength=m * G).reshape(m, G)
    acc[:, _S0:_S0 + S] += np.bincount(keyp[matched] * S + setting[matched], weights=days[matched],
                                       minlength=m * S).reshape(m, S)
    acc[:, _H] += np.bincount(keyp[matched], weights=days[matched] * hours[matched], minlength=m)
    acc[:, _P0:_P0 + 4] += np.bincount(keyp[matched] * 4 + peak[matched], weights=days[matched],
                                       minlength=m * 4).reshape(m, 4)
    acc[:, ITEM["moves"]] += np.bincount(keyp, weights=moved, minlength=m)
    acc[:, ITEM["unplanned_moves"]] += np.bincount(keyp, weights=moved * (cause == UNPLANNED_I), minlength=m)
    acc[:, ITEM["days"]] += np.bincount(keyp, weights=days, minlength=m)
    acc[:, ITEM["placements"]] += np.bincount(keyp, minlength=m)
    acc[:, ITEM["matched_days"]] += np.bincount(keyp[matched], weights=days[matched], minlength=m)


@dataclass
class Journeys:
    """What the simulation recorded: per draw and profile, the exposure to every priced item (days by
    unit cost group and by needs-led setting, staffing hour-days, therapy days by peak intensity,
    moves) and the journey counts (ITEMS); per child, sums over draws at central prices."""

    scenarios: tuple[str, ...]
    profiles: list[str]
    by_profile: dict = field(default_factory=dict)    # scenario -> (draws, profiles, items)
    per_child: dict = field(default_factory=dict)     # scenario -> (children, 3)
    draws: int = 0
    first: dict | None = None                         # scenario -> (durations, causes), (draws, children)
    discounted: dict | None = None                    # scenario -> (rates, draws, profiles, items)
    discount_rates: tuple[float, ...] = ()

    def item(self, scenario: str, name: str) -> np.ndarray:
        """(draws, profiles) of one item."""
        return self.by_profile[scenario][:, :, ITEM[name]]


def simulate(c: Cohort, pool: Pool, hz: HazardModel, lays: list[Layout], st: Settings,
             nl_weekly_central: np.ndarray, unit_weekly_central: dict[str, float], process_cost: float,
             scenarios: tuple[str, ...] = SCENARIOS) -> Journeys:
    """Run every draw (lays hold one coefficient row per draw) in chunks of draws, in parallel."""
    D = len(lays[0].mm)
    size = st.chunk_draws or int(max(1, min(D, 250_000 // max(c.n, 1))))
    bounds = [(lo, min(D, lo + size)) for lo in range(0, D, size)]
    nl_daily = np.asarray(nl_weekly_central, dtype=float) / 7.0
    unit_daily = np.array([unit_weekly_central[g] for g in COST_GROUPS]) / 7.0
    jobs = (delayed(_run_chunk)(c, pool, [L.take(lo, hi) for L in lays], hz, st, lo, scenarios, nl_daily,
                                unit_daily, process_cost) for lo, hi in bounds)
    parts = parallel.run(jobs, st.n_jobs)
    out = Journeys(scenarios, list(c.profiles), draws=D, discount_rates=tuple(st.discount_rates))
    for s in scenarios:
        out.by_profile[s] = np.concatenate([p.by_profile[s] for p in parts], axis=0)
        out.per_child[s] = np.sum([p.per_child[s] for p in parts], axis=0)
    if st.discount_rates:
        out.discounted = {s: np.concatenate([p.discounted[s] for p in parts], axis=1) for s in scenarios}
    if st.record_first:
        out.first = {s: tuple(np.concatenate([p.first[s][i] for p in parts], axis=0) for i in range(2))
                     for s in scenarios}
    return out


def first_linear_predictors(c: Cohort, lays: list[Layout], draw: int = 0) -> np.ndarray:
    """(causes, children) linear predictor of each child's first placement under draw `draw`
    (stratum offsets included): what the model says the first placement's hazards are."""
    out = []
    for L in lays:
        lp = (c.Xf @ L.fixed[draw] - L.offset[draw] + L.age[draw, np.searchsorted(AGE_BAND_EDGES, np.floor(c.age0), side="right")]
              + L.type[draw, c.type0] + L.mm[draw] * c.mismatch0 + L.sb[draw] * c.sb0 + L.first[draw] * c.first0)
        if L.stratum_offset is not None:
            lp = lp + L.stratum_offset[c.stratum]
        out.append(lp)
    return np.array(out)


def item_prices(prices: dict[str, np.ndarray], n: int) -> np.ndarray:
    """(n, items) price of one unit of each item per draw: a day of a group or setting, an hour-day of
    staffing, a therapy day, a move; the journey counts cost nothing."""
    out = np.zeros((n, len(ITEMS)))
    for g in COST_GROUPS:
        out[:, ITEM[f"unit_days.{g}"]] = prices[f"unit.{g}"] / 7.0
    for s in SETTINGS:
        out[:, ITEM[f"setting_days.{s}"]] = prices[f"setting.{s}"] / 7.0
    out[:, ITEM["hours_days"]] = prices["staffing_scale"] * prices["hourly_staff_cost"] / 7.0
    for k in range(4):
        out[:, ITEM[f"peak_days.{k}"]] = prices[f"therapy.{k}"] / 7.0
    out[:, ITEM["moves"]] = prices["process_cost"]
    return out


def cost(by_profile: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """(draws, profiles) total cost: exposures (draws, profiles, items) priced per draw (draws, items)."""
    return np.einsum("dpi,di->dp", by_profile, prices)
