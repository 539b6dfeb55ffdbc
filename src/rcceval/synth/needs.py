"""Needs: a latent severity per child and domain, and what assessments record of it.

The latent need of child i in domain d on day t is

    latent = mean_d + shift_d(CIN, UASC) + child_sd * z_id + age_amp_d * age_curve(age)
             + exploitation_ramp(age) [exploitation only] + drift_id(t)

with z_id correlated across domains through three factors (general, externalising,
internalising).  The age curve peaks around 7 and 11 and then falls to a plateau (the Valuing Care
pattern).  An assessment on day t records INTENSITY = clip(round(latent + noise), 0, 3), with fresh
measurement noise each time, and a FREQUENCY tied to it.  Every draw is addressed by integers
(child, period, assessment number, domain), so the needs in force at any placement start and the
full list of assessments written to needs_assessments.csv are the same numbers.
"""
from __future__ import annotations

import numpy as np

from rcceval.spec.codes import DAYS_PER_YEAR

from .params import DOMAINS
from .population import Children
from .rng import hash_key, hash_normal, hash_uniform

ND = len(DOMAINS)
_D = np.arange(ND)
SDQ_DOMAINS = [0, 1, 2, 3, 5]


def age_curve(age: np.ndarray, p: dict) -> np.ndarray:
    """Overall level of need by age (latent units): peaks near 7 and 11, then a plateau."""
    s = p["peak_sd"]
    h = p["peak_height"]
    g = h * np.exp(-((age - p["peak1_age"]) ** 2) / (2 * s * s))
    g += h * np.exp(-((age - p["peak2_age"]) ** 2) / (2 * s * s))
    g += p["plateau"] / (1.0 + np.exp(-(age - p["plateau_age"]) / p["plateau_width"]))
    g += p["infant_offset"] * np.clip(3.0 - age, 0.0, 3.0) / 3.0
    return g


class NeedsModel:
    """Latent needs and recorded assessments, evaluated at any child, period and date."""

    def __init__(self, params: dict, seed: int, children: Children) -> None:
        self.p = params["needs"]
        self.children = children
        self.k_child = hash_key(seed, "needs_child")
        self.k_drift = hash_key(seed, "needs_drift")
        self.k_noise = hash_key(seed, "needs_noise")
        self.k_freq = hash_key(seed, "needs_frequency")
        self.k_sched = hash_key(seed, "needs_schedule")
        self.k_never = hash_key(seed, "needs_never_assessed")
        n = children.n
        idx = np.arange(n)[:, None]
        load = np.stack([self.p["loadings_general"], self.p["loadings_externalising"],
                         self.p["loadings_internalising"]], axis=1)  # (8, 3)
        unique = np.sqrt(np.maximum(0.1, 1.0 - (load**2).sum(axis=1)))
        eta = hash_normal(self.k_child, idx, np.arange(3)[None])
        u = hash_normal(self.k_child, idx, 10 + _D[None])
        z = eta @ load.T + u * unique
        # standardise the composite so child_sd is the sd of each domain's child effect
        z = z / np.sqrt((load**2).sum(axis=1) + unique**2)
        base = np.asarray(self.p["domain_means"])[None, :] + self.p["child_sd"] * z
        shifts = self.p["shifts"]
        for code, sh in shifts.items():
            mask = children.uasc if code == "UASC" else (children.cin == code) & ~children.uasc
            for dom, v in sh.items():
                base[mask, DOMAINS.index(dom)] += v
        self.base = base.astype(np.float32)
        self.freq_w = hash_normal(self.k_child, idx, 30 + _D[None]).astype(np.float32)
        self.amp = np.asarray(self.p["age_amp"])

    # ---- latent -----------------------------------------------------------------------------
    def latent(self, cidx: np.ndarray, day: np.ndarray) -> np.ndarray:
        """(n, 8) latent needs of children `cidx` on `day`."""
        age = (day - self.children.dob[cidx]) / DAYS_PER_YEAR
        y = self.base[cidx].astype(np.float64)
        y += self.amp[None, :] * age_curve(age, self.p["age_curve"])[:, None]
        r = self.p["exploitation_ramp"]
        ramp = r["offset"] * np.clip((r["full_age"] - age) / (r["full_age"] - r["below_age"]), 0.0, 1.0)
        y[:, DOMAINS.index("exploitation_missing")] += ramp
        t = (day / DAYS_PER_YEAR)[:, None]
        c = cidx[:, None]
        sd = self.p["drift_sd"] / np.sqrt(2.0)
        for k, period in enumerate(self.p["drift_periods_years"]):
            a = sd * hash_normal(self.k_drift, c, _D[None] * 4 + k)
            phi = 2 * np.pi * hash_uniform(self.k_drift, c, _D[None] * 4 + k + 2)
            y += a * np.cos(2 * np.pi * t / period + phi)
        return y

    # ---- assessments ------------------------------------------------------------------------
    def recorded(self, cidx: np.ndarray, pkey: np.ndarray, j: np.ndarray, day: np.ndarray):
        """INTENSITY and FREQUENCY (n, 8) int8 recorded at assessment j of period pkey on `day`."""
        y = self.latent(cidx, day)
        e = self.p["measurement_sd"] * hash_normal(self.k_noise, pkey[:, None], j[:, None], _D[None])
        inten = np.clip(np.rint(y + e), 0, 3)
        e2 = hash_normal(self.k_freq, pkey[:, None], j[:, None], _D[None])
        f = inten + self.p["freq_offset"] + self.p["freq_child_sd"] * self.freq_w[cidx] + self.p["freq_noise_sd"] * e2
        freq = np.where(inten == 0, 0, np.clip(np.rint(f), 1, 3))
        return inten.astype(np.int8), freq.astype(np.int8)

    def first_assessment(self, pkey: np.ndarray, period_start: np.ndarray) -> np.ndarray:
        """Entry assessment day: on or a few days before the first placement starts."""
        lo, hi = self.p["entry_assessment_days_before_start"]
        u = hash_uniform(self.k_sched, pkey, -1)
        return period_start - (lo + np.floor(u * (hi - lo + 1))).astype(np.int64)

    def review_day(self, pkey: np.ndarray, a0: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Day of assessment j (0 = entry; then about every 6 months with a little jitter)."""
        jit = self.p["review_jitter_days"]
        u = hash_uniform(self.k_sched, pkey, j)
        jitter = np.where(j > 0, np.floor(u * (2 * jit + 1)) - jit, 0)
        return a0 + np.rint(j * self.p["review_interval_days"]).astype(np.int64) + jitter.astype(np.int64)

    def in_force(self, pkey: np.ndarray, a0: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Number of the latest assessment dated on or before `day` (>= 0 as a0 <= day)."""
        j0 = np.maximum(0, np.floor((day - a0) / self.p["review_interval_days"]).astype(np.int64))
        best = np.zeros_like(j0)
        for cand in (j0 - 1, j0, j0 + 1):
            c = np.maximum(cand, 0)
            ok = self.review_day(pkey, a0, c) <= day
            best = np.where(ok & (c > best), c, best)
        return best

    def never_assessed(self, pkey: np.ndarray) -> np.ndarray:
        """Periods of care with no assessment written (missing needs data)."""
        return hash_uniform(self.k_never, pkey) < self.p["p_never_assessed"]

    # ---- SDQ --------------------------------------------------------------------------------
    def sdq_composite(self, cidx: np.ndarray, day: np.ndarray) -> np.ndarray:
        return self.latent(cidx, day)[:, SDQ_DOMAINS].mean(axis=1)


def sdq_scores(model: NeedsModel, params: dict, seed: int, cidx: np.ndarray, day: np.ndarray,
               year: int) -> tuple[np.ndarray, np.ndarray]:
    """SDQ total (0-40, -1 where missing) and SDQ_REASON for children `cidx` on `day`."""
    sp = params["sdq"]
    comp = model.sdq_composite(cidx, day)
    k = hash_key(seed, "sdq")
    noise = hash_normal(k, cidx, year, 0)
    score = np.clip(np.rint(sp["intercept"] + sp["slope"] * comp + sp["noise_sd"] * noise), 0, 40).astype(np.int64)
    u = hash_uniform(k, cidx, year, 1)
    missing = u < sp["p_missing"]
    reasons = list(sp["missing_reasons"])
    cum = np.cumsum([sp["missing_reasons"][r] for r in reasons])
    v = hash_uniform(k, cidx, year, 2) * cum[-1]
    why = np.array(reasons, dtype=object)[np.minimum((v[:, None] >= cum[None]).sum(axis=1), len(reasons) - 1)]
    reason = np.where(missing, why, "SDQ1")
    return np.where(missing, -1, score), reason
