"""Time and money for question 3: Green Book discounting of costs over days in care, and one price year.

Discounting (HM Treasury Green Book, 2022): the social time preference rate is 3.5% a year for the
first 30 years; 0% and 1.5% are reported as sensitivity (1.5% is the Green Book's rate for health
effects). The convention here is the Green Book's annual one: a cost incurred in year t of the
journey is multiplied by D_t = 1 / (1 + r)^t, where t = floor(day / 365.25) counts whole years since
the child's journey (the simulation) started, so the first year is undiscounted. A daily cost stream
is discounted by splitting it at the year boundaries; a one-off cost (a move) takes the factor of the
year it falls in. No mid-year adjustment is made.

Price years: every figure is converted to one price year with the GDP deflator (the Green Book's
general inflation measure), kept as sourced data in rcceval/spec/gdp_deflator.yaml; `uprating_table`
shows, beside each figure, its original price year, the factor and the uprated value.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rcceval.errors import ParameterError
from rcceval.spec.codes import DAYS_PER_YEAR  # a journey year: the boundaries at which the factor steps

__all__ = [
    "DAYS_PER_YEAR", "GREEN_BOOK_RATE", "SENSITIVITY_RATES", "Deflator", "Uprated",
    "discount_factor", "discounted_days", "discounted_spell_cost", "discounted_one_off",
    "gdp_deflator", "uprate", "uprating_table", "discounted_total", "discount_sensitivity", "uprate_prices",
]

GREEN_BOOK_RATE = 0.035                 # HM Treasury Green Book social time preference rate, years 0-30
SENSITIVITY_RATES = (0.0, 0.015)        # no discounting; the Green Book health rate
_PRICE_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


# ---- discounting -------------------------------------------------------------------------------------
def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not np.isfinite(rate) or rate < 0 or rate >= 1:
        raise ParameterError("parameters", "discount_rate", rate, "a yearly rate in [0, 1), e.g. 0.035")
    return rate


def discount_factor(day: np.ndarray | float, rate: float = GREEN_BOOK_RATE) -> np.ndarray:
    """Green Book factor 1 / (1 + rate)^t for a day since the start, t its whole year (0 in year one)."""
    rate = _check_rate(rate)
    year = np.floor(np.asarray(day, dtype=float) / DAYS_PER_YEAR)
    return (1.0 + rate) ** -year


def _cumulative_discounted_days(x: np.ndarray, rate: float) -> np.ndarray:
    """Integral over [0, x) of the year-step factor: full years' sum (geometric) plus the part year."""
    x = np.asarray(x, dtype=float)
    k = np.floor(x / DAYS_PER_YEAR)
    if rate == 0.0:
        full = k
    else:
        v = 1.0 / (1.0 + rate)
        full = (1.0 - v ** k) / (1.0 - v)             # sum_{t<k} v^t
    return DAYS_PER_YEAR * full + (x - k * DAYS_PER_YEAR) * (1.0 + rate) ** -k


def discounted_days(start_day: np.ndarray | float, end_day: np.ndarray | float,
                    rate: float = GREEN_BOOK_RATE) -> np.ndarray:
    """Days in [start_day, end_day) weighted by their year's factor (vectorised over spells).

    Multiply by a daily cost to get the discounted cost of a spell; with rate 0 it is end - start.
    """
    rate = _check_rate(rate)
    s, e = np.broadcast_arrays(np.asarray(start_day, dtype=float), np.asarray(end_day, dtype=float))
    bad = ~np.isfinite(s) | ~np.isfinite(e) | (s < 0) | (e < s)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"spell {i}: start_day {s.ravel()[i]!r}, end_day {e.ravel()[i]!r} break "
                         "0 <= start_day <= end_day (days since the journey started)")
    return _cumulative_discounted_days(e, rate) - _cumulative_discounted_days(s, rate)


def discounted_spell_cost(start_day: np.ndarray | float, end_day: np.ndarray | float,
                          weekly_cost: np.ndarray | float, rate: float = GREEN_BOOK_RATE) -> np.ndarray:
    """Discounted cost of placements costing `weekly_cost` a week from start_day to end_day."""
    return np.asarray(weekly_cost, dtype=float) / 7.0 * discounted_days(start_day, end_day, rate)


def discounted_one_off(day: np.ndarray | float, amount: np.ndarray | float,
                       rate: float = GREEN_BOOK_RATE) -> np.ndarray:
    """A one-off cost (e.g. the process cost of a move) on `day`, discounted by its year's factor."""
    return np.asarray(amount, dtype=float) * discount_factor(day, rate)


# ---- one price year ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deflator:
    """An index of prices by financial year ("2019-20"), with where it comes from."""

    index: Mapping[str, float]
    base_year: str
    series: str
    source: str
    publication_date: str
    status: str
    path: str = "gdp_deflator.yaml"

    def level(self, price_year: str, key: str = "price_year") -> float:
        """The index in a financial year; a year the series does not hold is an error naming it."""
        m = _PRICE_YEAR.match(str(price_year))
        if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise ParameterError(self.path, key, price_year, "a financial year written like '2019-20'")
        if price_year not in self.index:
            years = sorted(self.index)
            raise ParameterError(self.path, key, price_year,
                                 f"no deflator for this price year (the series covers {years[0]} to {years[-1]})")
        return float(self.index[price_year])

    def factor(self, from_year: str, to_year: str) -> float:
        """Multiply a figure in from_year prices by this to express it in to_year prices."""
        return self.level(to_year, "target_price_year") / self.level(from_year)


def _load_deflator(text: str, path: str) -> Deflator:
    raw = yaml.safe_load(text)
    for key in ("index", "base_year", "series", "source", "publication_date", "status"):
        if key not in raw:
            raise ParameterError(path, key, None, "the deflator file must give this key")
    index = {str(k): float(v) for k, v in raw["index"].items()}
    for year, value in index.items():
        if not np.isfinite(value) or value <= 0:
            raise ParameterError(path, f"index.{year}", value, "a positive index value")
    if index.get(str(raw["base_year"])) != 100.0:
        raise ParameterError(path, "base_year", raw["base_year"], "the index must be 100 in its base year")
    return Deflator(index=index, base_year=str(raw["base_year"]), series=str(raw["series"]),
                    source=str(raw["source"]), publication_date=str(raw["publication_date"]),
                    status=str(raw["status"]), path=path)


@lru_cache(maxsize=4)
def gdp_deflator(path: str | None = None) -> Deflator:
    """The GDP deflator series: the packaged file, or a user's file of the same layout."""
    if path is None:
        ref = resources.files("rcceval.spec").joinpath("gdp_deflator.yaml")
        return _load_deflator(ref.read_text(encoding="utf-8"), "rcceval/spec/gdp_deflator.yaml")
    return _load_deflator(Path(path).read_text(encoding="utf-8"), str(path))


@dataclass(frozen=True)
class Uprated:
    """A figure and its conversion: shown together so a reader sees what was uprated and by how much."""

    original: float
    price_year: str
    factor: float
    value: float
    target_price_year: str


def uprate(value: float, price_year: str, target_price_year: str, deflator: Deflator | None = None) -> Uprated:
    """A figure in price_year prices expressed in target_price_year prices (GDP deflator ratio)."""
    d = deflator or gdp_deflator()
    f = d.factor(price_year, target_price_year)
    return Uprated(float(value), str(price_year), f, float(value) * f, str(target_price_year))


def uprating_table(figures: Mapping[str, tuple[float, str]], target_price_year: str,
                   deflator: Deflator | None = None) -> pd.DataFrame:
    """One row per figure: original, its price year, the factor, the uprated value, the deflator's status.

    `figures` maps a name to (value, price_year); the factor is index(target) / index(price_year).
    """
    d = deflator or gdp_deflator()
    rows = []
    for name, (value, year) in figures.items():
        u = uprate(value, year, target_price_year, d)
        rows.append({"figure": name, "original": u.original, "price_year": u.price_year,
                     "factor": u.factor, "uprated": u.value, "target_price_year": u.target_price_year})
    table = pd.DataFrame(rows, columns=["figure", "original", "price_year", "factor", "uprated",
                                        "target_price_year"])
    table.attrs["deflator"] = {"series": d.series, "source": d.source,
                               "publication_date": d.publication_date, "status": d.status}
    return table


def discounted_total(spell_start, spell_end, weekly_cost, one_off_day=(), one_off_amount=(),
                     rate: float = GREEN_BOOK_RATE) -> float:
    """Total discounted cost of placement spells (weekly rates) and one-off costs (moves)."""
    spells = float(np.sum(discounted_spell_cost(spell_start, spell_end, weekly_cost, rate)))
    day = np.asarray(one_off_day, dtype=float)
    once = float(np.sum(discounted_one_off(day, np.broadcast_to(np.asarray(one_off_amount, float), day.shape),
                                           rate))) if day.size else 0.0
    return spells + once


def discount_sensitivity(spell_start, spell_end, weekly_cost, one_off_day=(), one_off_amount=(),
                         rates: tuple[float, ...] = (GREEN_BOOK_RATE, *SENSITIVITY_RATES)) -> dict[float, float]:
    """discounted_total at the Green Book rate and the sensitivity rates (headline first)."""
    return {r: discounted_total(spell_start, spell_end, weekly_cost, one_off_day, one_off_amount, r)
            for r in rates}


def uprate_prices(prices: Mapping[str, object], target_price_year: str, deflator: Deflator | None = None,
                  dimensionless: tuple[str, ...] = ("staffing_scale",)) -> pd.DataFrame:
    """costing.yaml's figures (objects with value, low, high, price_year) in one price year, side by side.

    Each row keeps the original value, range and price year and shows the factor and the uprated
    value, low and high. A bound from another price year (an attribute low_price_year or
    high_price_year, e.g. the CMA 2019-20 low end of the children's home range) gets its own factor.
    Multipliers (dimensionless, e.g. staffing_scale) are not prices: factor 1.
    """
    d = deflator or gdp_deflator()
    rows = []
    for name, f in prices.items():
        years = {b: str(getattr(f, f"{b}_price_year", None) or f.price_year) for b in ("value", "low", "high")}
        fac = {b: 1.0 if name in dimensionless else d.factor(y, target_price_year) for b, y in years.items()}
        rows.append({"figure": name, "price_year": years["value"], "value": f.value, "low": f.low,
                     "high": f.high, "factor": fac["value"], "uprated_value": f.value * fac["value"],
                     "low_price_year": years["low"], "low_factor": fac["low"], "uprated_low": f.low * fac["low"],
                     "high_price_year": years["high"], "high_factor": fac["high"],
                     "uprated_high": f.high * fac["high"], "target_price_year": target_price_year})
    table = pd.DataFrame(rows)
    table.attrs["deflator"] = {"series": d.series, "source": d.source,
                               "publication_date": d.publication_date, "status": d.status}
    return table
