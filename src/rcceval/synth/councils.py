"""Councils and their synthetic geography.

Councils are discs on a plane (radius grows with the number looked after, so a county is
40-65 km across and a unitary 20-30 km), packed greedily around the origin.  Postcode sectors are
points inside each disc; a ring of sectors around the whole layout stands for the rest of the
country, where out-of-area placements land.  Sector codes start with Q, which no real UK postcode
does, so a synthetic file can never be mistaken for a real one.
"""
from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from .params import SCALES
from .rng import stream


@dataclass
class Geography:
    """Councils and postcode sectors (all arrays aligned by index)."""

    codes: list[str]              # council codes, e.g. SE01
    sizes: np.ndarray             # target looked after on 31 March
    centre: np.ndarray            # (n, 2) km
    radius: np.ndarray            # km
    frailty_log: np.ndarray       # council log frailty
    sector_code: np.ndarray       # object array of "QA1 4"
    sector_xy: np.ndarray         # (m, 2) km
    sector_council: np.ndarray    # council index, -1 for the outside ring
    council_sectors: list[np.ndarray]  # sector indices of each council

    @property
    def n(self) -> int:
        return len(self.codes)


def council_codes(scale: str) -> list[str]:
    spec = SCALES[scale]
    return [f"{spec['prefix']}{i + 1:0{spec['width']}d}" for i in range(len(spec["sizes"]))]


def _pack(radius: np.ndarray, gap: float = 0.5) -> np.ndarray:
    """Greedy disc packing: largest first, each at the free spot nearest the origin."""
    n = len(radius)
    order = np.argsort(-radius, kind="stable")
    centre = np.zeros((n, 2))
    placed: list[int] = [int(order[0])]
    angles = np.deg2rad(np.arange(0, 360, 10))
    for i in order[1:]:
        pc = centre[placed]
        pr = radius[placed]
        dist = pr[:, None] + radius[i] + gap
        cand = (pc[:, None, :] + dist[:, :, None] * np.stack([np.cos(angles), np.sin(angles)], -1)[None]).reshape(-1, 2)
        d = np.linalg.norm(cand[:, None, :] - pc[None], axis=2)
        ok = (d >= (pr[None] + radius[i] + gap - 1e-9)).all(axis=1)
        cand = cand[ok]
        best = np.argmin(np.round(np.linalg.norm(cand, axis=1), 6))
        centre[i] = cand[best]
        placed.append(int(i))
    return centre - centre.mean(axis=0)


def _district_codes(count: int) -> list[str]:
    """Outward codes QA1..QA99, QB1..: 10 sectors each."""
    letters = string.ascii_uppercase
    return [f"Q{letters[k // 99]}{k % 99 + 1}" for k in range(count)]


def _disc_points(rng: np.random.Generator, n: int, centre: np.ndarray, r: float) -> np.ndarray:
    rr = r * np.sqrt(rng.random(n))
    th = 2 * np.pi * rng.random(n)
    return centre + np.stack([rr * np.cos(th), rr * np.sin(th)], axis=1)


def build_geography(scale: str, seed: int, params: dict) -> Geography:
    """Lay out councils and sectors; draw each council's frailty."""
    sizes = np.asarray(SCALES[scale]["sizes"], dtype=float)
    codes = council_codes(scale)
    radius = 5.0 + 28.0 * np.sqrt(sizes / 2000.0)
    centre = _pack(radius)
    rng = stream(seed, "geography")
    area = params["geography"]["sector_area_km2"]
    per_council = np.maximum(8, np.round(np.pi * radius**2 / area)).astype(int)
    # every council starts at a fresh district so its codes look like its own
    districts_each = np.ceil(per_council / 10).astype(int)
    xy, council, codes_out = [], [], []
    all_districts = _district_codes(int(districts_each.sum()) + 200)
    dpos = 0
    council_sectors = []
    start = 0
    for c in range(len(codes)):
        m = per_council[c]
        xy.append(_disc_points(rng, m, centre[c], radius[c]))
        council.append(np.full(m, c))
        k = np.arange(m)
        codes_out += [f"{all_districts[dpos + kk // 10]} {kk % 10}" for kk in k]
        dpos += districts_each[c]
        council_sectors.append(np.arange(start, start + m))
        start += m
    # the outside ring: the rest of the country
    reach = float(np.max(np.linalg.norm(centre, axis=1) + radius))
    ring_w = params["geography"]["outside_ring_km"]
    m = params["geography"]["outside_sectors"]
    rr = np.sqrt(rng.uniform(reach**2, (reach + ring_w) ** 2, m))
    th = 2 * np.pi * rng.random(m)
    xy.append(np.stack([rr * np.cos(th), rr * np.sin(th)], axis=1))
    council.append(np.full(m, -1))
    ring_districts = _district_codes(int(dpos) + int(np.ceil(m / 10)))[dpos:]
    codes_out += [f"{ring_districts[kk // 10]} {kk % 10}" for kk in range(m)]
    frailty = stream(seed, "council_frailty").normal(0.0, params["hazard"]["council_frailty_sd"], len(codes))
    return Geography(
        codes=codes,
        sizes=sizes,
        centre=centre,
        radius=radius,
        frailty_log=frailty,
        sector_code=np.array(codes_out, dtype=object),
        sector_xy=np.concatenate(xy),
        sector_council=np.concatenate(council),
        council_sectors=council_sectors,
    )


def postcode_lookup_rows(geo: Geography) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """POSTCODE, EASTING, NORTHING (metres, all positive like a national grid)."""
    xy_m = np.round(geo.sector_xy * 1000.0).astype(np.int64)
    offset = -xy_m.min(axis=0) + 100_000
    xy_m = xy_m + offset
    return geo.sector_code, xy_m[:, 0], xy_m[:, 1]


def sector_points_m(geo: Geography) -> np.ndarray:
    """Sector points as written to the lookup (metres), so distances match the files exactly."""
    _, e, n = postcode_lookup_rows(geo)
    return np.stack([e, n], axis=1).astype(float)
