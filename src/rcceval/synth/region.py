"""Simulate a whole region in memory (no files): the tables every writer and check reads."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .councils import Geography, build_geography, sector_points_m
from .journeys import Context, Tables, simulate
from .needs import NeedsModel
from .params import SCALES, build_params
from .population import Children, add_years, draw_children, to_day
from .providers import Register, build_register


@dataclass
class Region:
    """Everything simulated, before it is written out."""

    scale: str
    seed: int
    null_needs: bool
    years: int
    last_year: int
    params: dict
    geo: Geography
    children: Children
    needs: NeedsModel
    register: Register
    periods: Tables
    placements: Tables
    sector_km: np.ndarray
    extract: int
    window_start: int
    sim_start: int

    @property
    def return_years(self) -> list[int]:
        return list(range(self.last_year - self.years + 1, self.last_year + 1))


def simulate_region(scale: str = "small", seed: int = 1, null_needs: bool = False, years: int = 8,
                    last_year: int = 2025) -> Region:
    """Run the generating model; see the package docstring for what it does."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, not {scale!r}")
    if years < 1:
        raise ValueError("years must be at least 1")
    params = build_params(null_needs)
    extract = to_day(f"{last_year}-03-31")
    first_year = last_year - years + 1
    window_start = to_day(f"{first_year - 1}-04-01")
    sim_start = int(add_years(np.array([window_start]), -params["timeline"]["burn_in_years"])[0])
    geo = build_geography(scale, seed, params)
    sector_km = sector_points_m(geo) / 1000.0
    children = draw_children(geo, params, seed, sim_start, extract)
    needs = NeedsModel(params, seed, children)
    register = build_register(geo, params, seed, sector_km)
    ctx = Context(params, seed, geo, children, needs, register, sector_km, extract, null_needs)
    periods, placements = simulate(ctx)
    return Region(scale, seed, null_needs, years, last_year, params, geo, children, needs, register,
                  periods, placements, sector_km, extract, window_start, sim_start)
