"""Councils and their geography: England's real councils at real postcodes.

The region is the South East's 19 councils (scale "region"), England's 152 ("national"), the six
Berkshire unitaries ("berkshire") or two of them, West Berkshire and Reading ("small"), each with its ONS code
(the 903 folder name), DfE three-digit code, name and its count looked after on 31 March 2024
(la2024.py, from the DfE table). Each council's "sectors" are real postcodes inside it (the pool
of postcode_pool.py, positions in metres on the national grid); the postcodes of the rest of
England (Wales, for the national scale) stand for the country outside, where out-of-area
placements land. Distances are between real postcodes, as the DfE rules compute them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .la2024 import COUNCILS_2024
from .params import SCALES
from .postcode_pool import pool
from .rng import stream

SMALL_CODES = ("E06000037", "E06000038")  # West Berkshire, Reading
# The six Berkshire unitaries (about 1,070 looked after): about 2.4 times the small region, enough
# events per model term (about 10) for Wald intervals to reach their nominal coverage.
BERKSHIRE_CODES = ("E06000036", "E06000037", "E06000038", "E06000039", "E06000040", "E06000041")


@dataclass
class Geography:
    """Councils and postcode points (all arrays aligned by index)."""

    codes: list[str]              # ONS codes, e.g. E06000038 (the 903 folder names)
    dfe_codes: list[str]          # DfE three-digit codes, e.g. 870
    names: list[str]
    sizes: np.ndarray             # looked after on 31 March 2024 (DfE)
    centre: np.ndarray            # (n, 2) km, mean of the council's postcodes
    radius: np.ndarray            # km, root mean square distance of its postcodes from the centre
    frailty_log: np.ndarray       # council log frailty
    sector_code: np.ndarray       # object array of real postcodes "RG1 4AB"
    sector_xy: np.ndarray         # (m, 2) km on the national grid
    sector_council: np.ndarray    # council index, -1 outside the region
    council_sectors: list[np.ndarray]  # postcode indices of each council

    @property
    def n(self) -> int:
        return len(self.codes)


def scale_councils(scale: str) -> list[tuple[str, str, str, str, int]]:
    """(ONS code, DfE code, name, region, size) of the councils of a scale."""
    if scale == "small":
        return [c for c in COUNCILS_2024 if c[0] in SMALL_CODES]
    if scale == "berkshire":
        return [c for c in COUNCILS_2024 if c[0] in BERKSHIRE_CODES]
    if scale == "region":
        return [c for c in COUNCILS_2024 if c[3] == "South East"]
    if scale == "national":
        return list(COUNCILS_2024)
    raise ValueError(f"scale must be one of {sorted(SCALES)}, not {scale!r}")


def council_codes(scale: str) -> list[str]:
    return [c[0] for c in scale_councils(scale)]


def build_geography(scale: str, seed: int, params: dict) -> Geography:
    """The councils of a scale at their real postcodes; draw each council's frailty."""
    rows = scale_councils(scale)
    codes = [r[0] for r in rows]
    pc = pool()
    inside = pc["COUNCIL"].isin(codes).to_numpy()
    index = {c: i for i, c in enumerate(codes)}
    mine = pc[inside].copy()
    mine["_c"] = mine["COUNCIL"].map(index)
    mine = mine.sort_values(["_c", "POSTCODE"], kind="stable")
    missing = sorted(set(codes) - set(mine["COUNCIL"]))
    if missing:
        raise ValueError(f"no postcodes in the ONS directory for councils {missing}")
    ring_ok = pc["KNOWN"].to_numpy() & ~inside
    ring_ok &= pc["COUNCIL"].str.startswith("W").to_numpy() if scale == "national" else \
        pc["COUNCIL"].str.startswith("E").to_numpy()
    ring = pc[ring_ok].sort_values("POSTCODE", kind="stable")
    xy = np.concatenate([mine[["EASTING", "NORTHING"]].to_numpy(), ring[["EASTING", "NORTHING"]].to_numpy()]) / 1000.0
    council = np.concatenate([mine["_c"].to_numpy(dtype=np.int64), np.full(len(ring), -1, dtype=np.int64)])
    bounds = np.searchsorted(council[: len(mine)], np.arange(len(codes) + 1))
    council_sectors = [np.arange(bounds[i], bounds[i + 1]) for i in range(len(codes))]
    centre = np.array([xy[s].mean(axis=0) for s in council_sectors])
    radius = np.array([float(np.sqrt(((xy[s] - centre[i]) ** 2).sum(axis=1).mean())) for i, s in enumerate(council_sectors)])
    frailty = stream(seed, "council_frailty").normal(0.0, params["hazard"]["council_frailty_sd"], len(codes))
    return Geography(
        codes=codes, dfe_codes=[r[1] for r in rows], names=[r[2] for r in rows],
        sizes=np.array([r[4] for r in rows], dtype=float), centre=centre, radius=radius, frailty_log=frailty,
        sector_code=np.concatenate([mine["POSTCODE"].to_numpy(dtype=object), ring["POSTCODE"].to_numpy(dtype=object)]),
        sector_xy=xy, sector_council=council, council_sectors=council_sectors,
    )


def postcode_lookup_rows(geo: Geography) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """POSTCODE, EASTING, NORTHING (metres, national grid) of every postcode the region uses."""
    xy_m = np.round(geo.sector_xy * 1000.0).astype(np.int64)
    return geo.sector_code, xy_m[:, 0], xy_m[:, 1]


def sector_points_m(geo: Geography) -> np.ndarray:
    """Postcode points as written to the lookup (metres), so distances match the files exactly."""
    _, e, n = postcode_lookup_rows(geo)
    return np.stack([e, n], axis=1).astype(float)
