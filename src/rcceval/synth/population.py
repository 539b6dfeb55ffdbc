"""Children who enter care: when, where, and who they are.

New children arrive as a Poisson stream per council (rate = entry_ratio x council size a year),
from the start of the burn-in to the extract date.  Demographics are drawn so that the children
looked after on 31 March reproduce the DfE 2024 mix (age, sex, category of need, UASC).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rcceval.spec.codes import DAYS_PER_YEAR, DFE_ENTRY_AGE_BANDS

from .councils import Geography
from .rng import stream

DAY = np.timedelta64(1, "D")


def to_day(date: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int(np.datetime64(date, "D").astype(np.int64))


def add_years(day: np.ndarray, years: int) -> np.ndarray:
    """Same calendar day `years` later (29 Feb -> 1 Mar)."""
    d = np.asarray(day, dtype=np.int64).astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    shifted = (m + (12 * np.asarray(years, dtype=np.int64)).astype("timedelta64[M]")).astype("datetime64[D]")
    return (shifted + dom).astype(np.int64)


def birthday18(dob: np.ndarray) -> np.ndarray:
    """The 18th birthday as the DfE rules and pandas date arithmetic read it: a child born on
    29 February turns 18 on 28 February (18 years on is never a leap year). The earlier of the
    two legal readings, so no episode can start on a day some reader counts as adulthood."""
    d = np.asarray(dob, dtype=np.int64)
    leap_day = (d.astype("datetime64[D]") - d.astype("datetime64[D]").astype("datetime64[Y]")
                .astype("datetime64[D]")).astype(np.int64) == 59
    is_leap = _is_leap_year(d)
    return add_years(d, 18) - (leap_day & is_leap).astype(np.int64)


def _is_leap_year(day: np.ndarray) -> np.ndarray:
    y = np.asarray(day, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)


def age_years(dob: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years of age on `day` (calendar exact)."""
    d0 = np.asarray(dob, dtype=np.int64)
    d1 = np.asarray(day, dtype=np.int64)
    y = (d1.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
         - d0.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64))
    return y - (add_years(d0, y) > d1).astype(np.int64)


@dataclass
class Children:
    """One row per child (arrays aligned by index)."""

    child_id: np.ndarray   # int64 unique across the region
    council: np.ndarray    # council index
    entry: np.ndarray      # first entry day
    dob: np.ndarray
    dob18: np.ndarray
    male: np.ndarray       # bool
    uasc: np.ndarray       # bool
    cin: np.ndarray        # object array of N1..N8
    ethnic: np.ndarray     # object array
    home_sector: np.ndarray

    @property
    def n(self) -> int:
        return len(self.child_id)


def _pick(rng: np.random.Generator, probs: dict, n: int) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def draw_children(geo: Geography, params: dict, seed: int, sim_start: int, extract: int) -> Children:
    """Entrants of the whole simulation, ordered by council then entry day."""
    pp = params["population"]
    rng = stream(seed, "population")
    years = (extract - sim_start + 1) / DAYS_PER_YEAR
    lam = geo.sizes * pp["entry_ratio"] * years
    counts = rng.poisson(lam)
    council = np.repeat(np.arange(geo.n), counts)
    n = len(council)
    entry = rng.integers(sim_start, extract + 1, size=n)
    order = np.lexsort((entry, council))
    council, entry = council[order], entry[order]
    rank = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    child_id = (council.astype(np.int64) + 1) * 1_000_000 + rank + 1

    uasc = rng.random(n) < pp["p_uasc"]
    # age at entry, in days
    age_days = np.zeros(n, dtype=np.int64)
    bands = _pick(rng, pp["age_band_probs"], n)
    lo = {label: first for label, first, _ in DFE_ENTRY_AGE_BANDS}
    hi = {label: past for label, _, past in DFE_ENTRY_AGE_BANDS}
    lo_a = np.array([lo[b] for b in bands]) * DAYS_PER_YEAR
    hi_a = np.array([hi[b] for b in bands]) * DAYS_PER_YEAR - 1
    age_days[:] = (lo_a + rng.random(n) * (hi_a - lo_a)).astype(np.int64)
    newborn = (bands == "0") & (rng.random(n) < pp["p_newborn_within_week"])
    age_days[newborn] = rng.integers(0, 7, size=int(newborn.sum()))
    ua_age = _pick(rng, pp["uasc_age_probs"], n).astype(int)
    ua_days = (ua_age * DAYS_PER_YEAR + rng.random(n) * 364).astype(np.int64)
    age_days = np.where(uasc, ua_days, age_days)
    dob = entry - age_days
    dob18 = birthday18(dob)
    # entries on or after the 18th birthday are impossible: pull those dob a little later
    late = entry >= dob18 - 2
    dob = np.where(late, entry - 17 * 365 - 100, dob)
    dob18 = birthday18(dob)

    male = np.where(uasc, rng.random(n) < pp["uasc_p_male"], rng.random(n) < pp["p_male"])
    older = age_days >= 10 * DAYS_PER_YEAR
    cin = np.where(older, _pick(rng, pp["cin_probs_10plus"], n), _pick(rng, pp["cin_probs_under10"], n))
    cin = np.where(uasc, _pick(rng, pp["cin_probs_uasc"], n), cin)
    ethnic = np.where(uasc, _pick(rng, pp["ethnic_probs_uasc"], n), _pick(rng, pp["ethnic_probs"], n))
    # home sector: uniform among the council's sectors
    offsets = np.array([s[0] for s in geo.council_sectors])
    nsec = np.array([len(s) for s in geo.council_sectors])
    home = offsets[council] + (rng.random(n) * nsec[council]).astype(np.int64)
    return Children(child_id, council, entry, dob, dob18, male, uasc, cin, ethnic, home)
