"""The provider register: registered settings (Ofsted URN), where they are, what they can meet.

Children's homes (K2), secure homes (K1), residential care homes (R1), residential schools (S1)
and supported accommodation (H5) are spread over the councils in proportion to their size, with
a share in the ring outside the region (out-of-area provision).  Each has a capability 0-3 per
need domain, from a profile (mainstream, behaviour, therapeutic, disability) with noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .councils import Geography
from .params import DOMAINS
from .rng import stream

OUTSIDE_LA = "OUT"


@dataclass
class Register:
    urn: np.ndarray          # object
    place: np.ndarray        # object PLACE code
    la: np.ndarray           # object council code or OUT
    council: np.ndarray      # council index, -1 outside
    provider: np.ndarray     # object PR1/PR4/PR5/PR3
    name: np.ndarray         # object
    sector: np.ndarray       # sector index
    places: np.ndarray
    cap: np.ndarray          # (n, 8) int8
    trees: dict              # PLACE -> (cKDTree, indices)

    @property
    def n(self) -> int:
        return len(self.urn)


def _caps(rng: np.random.Generator, base: np.ndarray, n: int) -> np.ndarray:
    noise = rng.choice([-1, 0, 1], p=[0.15, 0.7, 0.15], size=(n, len(DOMAINS)))
    return np.clip(base + noise, 0, 3).astype(np.int8)


def build_register(geo: Geography, params: dict, seed: int, sector_km: np.ndarray) -> Register:
    """Draw every registered setting of the region (and its outside ring)."""
    rp = params["register"]
    rng = stream(seed, "register")
    ring = np.flatnonzero(geo.sector_council < 0)
    rows = []
    spec = [
        ("K2", rp["homes_per_looked_after"], 1),
        ("H5", rp["supported_per_looked_after"], 1),
        ("K1", rp["secure_per_looked_after"], 0),
        ("R1", rp["r1_per_looked_after"], 0),
        ("S1", rp["schools_per_looked_after"], 0),
    ]
    for code, per, minimum in spec:
        per_council = np.maximum(minimum, np.round(geo.sizes * per)).astype(int)
        if code == "K1":  # a few large units serve many councils
            per_council = np.zeros(geo.n, dtype=int)
            total = max(1, int(round(geo.sizes.sum() * per)))
            per_council[np.argsort(-geo.sizes, kind="stable")[:total]] = 1
        n_out = int(round(per_council.sum() * rp["outside_share"] / (1 - rp["outside_share"])))
        n_out = max(n_out, 1)
        council = np.concatenate([np.repeat(np.arange(geo.n), per_council), np.full(n_out, -1)])
        sector = np.empty(len(council), dtype=np.int64)
        inside = council >= 0
        sizes = np.array([len(s) for s in geo.council_sectors])
        starts = np.array([s[0] for s in geo.council_sectors])
        ci = council[inside]
        sector[inside] = starts[ci] + (rng.random(len(ci)) * sizes[ci]).astype(np.int64)
        sector[~inside] = ring[rng.integers(0, len(ring), size=int((~inside).sum()))]
        n = len(council)
        lo, hi = rp["places"][code]
        places = rng.integers(lo, hi + 1, size=n)
        if code == "K2":
            prof_names = list(rp["home_profiles"])
            pr = np.array([rp["home_profiles"][k]["p"] for k in prof_names])
            prof = rng.choice(len(prof_names), size=n, p=pr / pr.sum())
            base = np.array([rp["home_profiles"][k]["cap"] for k in prof_names])[prof]
            cap = _caps(rng, base, n)
            mix = rp["provider_mix_homes"]
        else:
            key = {"H5": "supported_cap", "K1": "secure_cap", "R1": "r1_cap", "S1": "school_cap"}[code]
            cap = _caps(rng, np.asarray(rp[key])[None, :].repeat(n, 0), n)
            mix = rp["provider_mix_supported"] if code == "H5" else rp["provider_mix_homes"]
            if code == "K1":
                mix = {"PR1": 1.0}
        provs = np.array(list(mix), dtype=object)
        pm = np.array(list(mix.values()), dtype=float)
        provider = provs[rng.choice(len(provs), size=n, p=pm / pm.sum())]
        provider = np.where((council < 0) & (provider == "PR1"), "PR4", provider)
        rows.append((code, council, sector, places, cap, provider))

    place = np.concatenate([np.full(len(r[1]), r[0], dtype=object) for r in rows])
    council = np.concatenate([r[1] for r in rows])
    sector = np.concatenate([r[2] for r in rows])
    places = np.concatenate([r[3] for r in rows])
    cap = np.concatenate([r[4] for r in rows])
    provider = np.concatenate([r[5] for r in rows])
    n = len(place)
    codes = np.array(geo.codes + [OUTSIDE_LA], dtype=object)
    la = codes[council]  # -1 indexes OUT
    # URNs: SC + 5 digits for homes, SA + 5 digits for supported accommodation, 7 digits for schools
    numbers = rng.permutation(np.arange(10000, 100000))[:n]
    urn = np.empty(n, dtype=object)
    for i in range(n):
        if place[i] == "S1":
            urn[i] = f"1{numbers[i]:06d}"
        elif place[i] == "H5":
            urn[i] = f"SA{numbers[i]:05d}"
        else:
            urn[i] = f"SC{numbers[i]:05d}"
    pid = rng.integers(1, max(2, n // 4), size=n)
    kind = {"K2": "Children's Home", "K1": "Secure Children's Home", "R1": "Care Home",
            "S1": "School", "H5": "Supported Living"}
    name = np.array([
        (f"{la[i]} Council {kind[place[i]]} {i + 1}" if provider[i] == "PR1"
         else f"Provider {pid[i]:04d} {'Trust' if provider[i] == 'PR5' else 'Ltd'} {kind[place[i]]} {i + 1}")
        for i in range(n)], dtype=object)
    trees = {}
    for code in ["K2", "H5", "K1", "R1", "S1"]:
        ix = np.flatnonzero(place == code)
        trees[code] = (cKDTree(sector_km[sector[ix]]), ix)
    return Register(urn, place, la, council, provider, name, sector, places, cap, trees)


def choose_settings(reg: Register, code: str, target: np.ndarray, inten: np.ndarray,
                    rng: np.random.Generator, k: int, avoid: np.ndarray | None = None) -> np.ndarray:
    """Registered setting for each placement: a good fit near the search point, never `avoid`
    (the child's previous setting: a move is to another home)."""
    tree, ix = reg.trees[code]
    k = min(k, len(ix))
    dist, cand = tree.query(target, k=k)
    if k == 1:
        dist, cand = dist[:, None], cand[:, None]
    cap = reg.cap[ix[cand]]                                         # (n, k, 8)
    mism = np.maximum(0, inten[:, None, :].astype(np.int16) - cap).sum(axis=2)
    score = -mism - dist / 30.0 + 0.7 * rng.gumbel(size=dist.shape)
    if avoid is not None:
        score = np.where(ix[cand] == avoid[:, None], -np.inf, score)
    best = np.argmax(score, axis=1)
    return ix[cand[np.arange(len(cand)), best]]
