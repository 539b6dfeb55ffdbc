"""Cost parameters of question 3 (costing.yaml): read, checked and held as plain values.

A commissioner must be able to read costing.yaml and see where every number comes from, so every
figure carries a source and a price year and a range (low, value, high) that the Monte Carlo and the
tornado plot use. The file is checked once, before anything runs, with errors naming the file, key,
value and rule (ParameterError), like the run parameters (params.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from rcceval.checking import Checker
from rcceval.errors import ParameterError

# Unit cost groups (costing_static.cost_group maps PLACE / PLACE_PROVIDER onto them).
COST_GROUPS = ("in_house_foster", "ifa_foster", "kinship_foster", "childrens_home", "secure",
               "supported_accommodation", "other_residential", "with_parents", "adoption", "temporary_other")
SETTINGS = ("foster", "enhanced_foster", "childrens_home", "intensive_home")
HAZARD_SOURCES = ("fitted", "generating")
LEVELS = 4  # intensity and frequency 0-3

_TOP = {"price_year", "currency", "unit_costs", "needs_led", "moves", "simulation"}
_FIGURE = {"value", "low", "high", "source", "price_year"}
_NEEDS = {"settings", "setting_rules", "staffing_hours", "staffing_scale", "hourly_staff_cost", "therapeutic"}
_RULE = {"setting", "min_intensity", "min_frequency", "min_domains"}


@dataclass(frozen=True)
class Figure:
    """One cost figure: central value, the range drawn from, its source and price year."""

    value: float
    low: float
    high: float
    source: str
    price_year: str

    @property
    def assumption(self) -> bool:
        return self.source.upper().startswith("ASSUMPTION")

    @property
    def pert_mode(self) -> float:
        """The mode of the Beta-PERT distribution on [low, high] whose mean is value."""
        return (6 * self.value - self.low - self.high) / 4

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws from Beta-PERT on [low, high] with mean = value, so the Monte Carlo's expected cost
        is the cost at the stated values (a triangular with mode = value would shift it)."""
        if self.high <= self.low:
            return np.full(n, self.value)
        width = self.high - self.low
        a = 1 + 4 * (self.pert_mode - self.low) / width
        b = 1 + 4 * (self.high - self.pert_mode) / width
        return self.low + width * rng.beta(a, b, size=n)


@dataclass(frozen=True)
class SettingRule:
    setting: str
    min_intensity: int
    min_frequency: int
    min_domains: int


@dataclass(frozen=True)
class Simulation:
    hazard_source: str = "fitted"
    horizon_years: float = 5.0
    capacity: float = 0.8
    draws: int = 200
    max_placements: int = 60
    extrapolation_days: int = 365
    break_even_draws: int = 40


@dataclass(frozen=True)
class CostingParameters:
    """Everything costing.yaml says. prices: every priced figure by a dotted name (the tornado's rows)."""

    path: str
    price_year: str
    currency: str
    unit_costs: dict[str, Figure]
    settings: dict[str, Figure]
    setting_rules: tuple[SettingRule, ...]
    staffing_hours: np.ndarray            # (4, 4): hours a week by intensity x frequency, per domain
    staffing_source: str
    staffing_scale: Figure
    hourly_staff_cost: Figure
    therapeutic: tuple[Figure, ...]       # by peak intensity 0-3
    process_cost: Figure
    simulation: Simulation = field(default_factory=Simulation)

    @property
    def prices(self) -> dict[str, Figure]:
        """Every figure by name: unit.<group>, setting.<name>, staffing_scale, hourly_staff_cost,
        therapy.<peak>, process_cost. The Monte Carlo draws each independently."""
        out = {f"unit.{k}": v for k, v in self.unit_costs.items()}
        out.update({f"setting.{k}": v for k, v in self.settings.items()})
        out["staffing_scale"] = self.staffing_scale
        out["hourly_staff_cost"] = self.hourly_staff_cost
        out.update({f"therapy.{i}": f for i, f in enumerate(self.therapeutic)})
        out["process_cost"] = self.process_cost
        return out

    def central(self) -> dict[str, float]:
        return {k: f.value for k, f in self.prices.items()}

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """n draws of every figure (Figure.draw), independent across figures."""
        return {k: f.draw(rng, n) for k, f in self.prices.items()}

    def sources_table(self):
        """One row per figure: value, range, price year, source, assumption or published (for the report)."""
        import pandas as pd
        rows = [{"figure": k, "value": f.value, "low": f.low, "high": f.high, "price_year": f.price_year,
                 "assumption": f.assumption, "source": f.source} for k, f in self.prices.items()]
        return pd.DataFrame(rows)


def _figure(check: Checker, raw: object, key: str, lo: float = 0, hi: float = 1e6) -> Figure:
    check.mapping(raw, key, _FIGURE, _FIGURE)
    value = float(check.number(raw["value"], f"{key}.value", lo, hi))
    low = float(check.number(raw["low"], f"{key}.low", lo, hi))
    high = float(check.number(raw["high"], f"{key}.high", lo, hi))
    if not low <= value <= high:
        check.fail(f"{key}.value", value, f"must lie in its range low {low:g} to high {high:g}")
    if high > low and not (5 * low + high) / 6 <= value <= (low + 5 * high) / 6:
        check.fail(f"{key}.value", value, f"must lie in the middle two-thirds of its range ({(5 * low + high) / 6:g} "
                                          f"to {(low + 5 * high) / 6:g}) so that a PERT distribution on low-high "
                                          "has it as its mean; widen the range or move the value")
    source = check.text(raw["source"], f"{key}.source")
    year = check.text(str(raw["price_year"]) if raw["price_year"] is not None else None, f"{key}.price_year")
    return Figure(value, low, high, source, year)


def _named_figures(check: Checker, raw: object, key: str, names: tuple[str, ...]) -> dict[str, Figure]:
    check.mapping(raw, key, set(names), set(names))
    return {n: _figure(check, raw[n], f"{key}.{n}") for n in names}


def _rules(check: Checker, raw: object, key: str, n_domains: int) -> tuple[SettingRule, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail(key, raw, "must be a non-empty list of rules")
    rules = []
    for i, r in enumerate(raw):
        k = f"{key}[{i}]"
        check.mapping(r, k, _RULE, _RULE)
        if r["setting"] not in SETTINGS:
            check.fail(f"{k}.setting", r["setting"], f"must be one of {', '.join(SETTINGS)}")
        rules.append(SettingRule(r["setting"], check.integer(r["min_intensity"], f"{k}.min_intensity", 0, 3),
                                 check.integer(r["min_frequency"], f"{k}.min_frequency", 0, 3),
                                 check.integer(r["min_domains"], f"{k}.min_domains", 0, n_domains)))
    last = rules[-1]
    if last.min_intensity or last.min_frequency or last.min_domains:
        check.fail(f"{key}[{len(rules) - 1}]", raw[-1], "the last rule must hold for every child "
                                                      "(min_intensity, min_frequency and min_domains 0)")
    return tuple(rules)


def _hours(check: Checker, raw: object, key: str) -> tuple[np.ndarray, str]:
    check.mapping(raw, key, {"source", "by_intensity_frequency"}, {"source", "by_intensity_frequency"})
    table = raw["by_intensity_frequency"]
    k = f"{key}.by_intensity_frequency"
    if not isinstance(table, list) or len(table) != LEVELS or not all(isinstance(r, list) and len(r) == LEVELS
                                                                      for r in table):
        check.fail(k, table, "must be 4 rows (intensity 0-3) of 4 hours (frequency 0-3)")
    for i, row in enumerate(table):
        for j, v in enumerate(row):
            check.number(v, f"{k}[{i}][{j}]", 0, 168)
    return np.array(table, dtype=float), check.text(raw["source"], f"{key}.source")


def _therapy(check: Checker, raw: object, key: str) -> tuple[Figure, ...]:
    if not isinstance(raw, list) or len(raw) != LEVELS:
        check.fail(key, raw, "must list the four peak intensities 0-3")
    out = []
    for i, r in enumerate(raw):
        k = f"{key}[{i}]"
        check.mapping(r, k, _FIGURE | {"peak_intensity"}, _FIGURE | {"peak_intensity"})
        if r["peak_intensity"] != i:
            check.fail(f"{k}.peak_intensity", r["peak_intensity"], f"must be {i} (listed in order 0-3)")
        out.append(_figure(check, {f: r[f] for f in _FIGURE}, k))
    return tuple(out)


def _simulation(check: Checker, raw: object, key: str = "simulation") -> Simulation:
    raw = {} if raw is None else raw
    check.mapping(raw, key, set(Simulation.__dataclass_fields__))
    d = Simulation()
    src = raw.get("hazard_source", d.hazard_source)
    if src not in HAZARD_SOURCES:
        check.fail(f"{key}.hazard_source", src, f"must be one of {', '.join(HAZARD_SOURCES)}")
    return Simulation(
        hazard_source=src,
        horizon_years=float(check.number(raw.get("horizon_years", d.horizon_years), f"{key}.horizon_years", 0.25, 18)),
        capacity=float(check.number(raw.get("capacity", d.capacity), f"{key}.capacity", 0, 1)),
        draws=check.integer(raw.get("draws", d.draws), f"{key}.draws", 1, 100_000),
        max_placements=check.integer(raw.get("max_placements", d.max_placements), f"{key}.max_placements", 1, 500),
        extrapolation_days=check.integer(raw.get("extrapolation_days", d.extrapolation_days),
                                         f"{key}.extrapolation_days", 30, 3650),
        break_even_draws=check.integer(raw.get("break_even_draws", d.break_even_draws), f"{key}.break_even_draws",
                                       1, 10_000))


def parse_costing(values: object, source: str | Path = "<costing>", n_domains: int = 8) -> CostingParameters:
    """Check parsed costing.yaml values (ParameterError on the first problem, naming the key)."""
    check = Checker(Path(str(source)))
    top = check.mapping(values, "", _TOP, _TOP - {"simulation", "currency"})
    needs = check.mapping(top["needs_led"], "needs_led", _NEEDS, _NEEDS)
    moves = check.mapping(top["moves"], "moves", {"process_cost"}, {"process_cost"})
    hours, hours_source = _hours(check, needs["staffing_hours"], "needs_led.staffing_hours")
    return CostingParameters(
        path=str(source),
        price_year=check.text(str(top["price_year"]), "price_year"),
        currency=check.text(top.get("currency", "GBP"), "currency"),
        unit_costs=_named_figures(check, top["unit_costs"], "unit_costs", COST_GROUPS),
        settings=_named_figures(check, needs["settings"], "needs_led.settings", SETTINGS),
        setting_rules=_rules(check, needs["setting_rules"], "needs_led.setting_rules", n_domains),
        staffing_hours=hours, staffing_source=hours_source,
        staffing_scale=_figure(check, needs["staffing_scale"], "needs_led.staffing_scale", 0, 10),
        hourly_staff_cost=_figure(check, needs["hourly_staff_cost"], "needs_led.hourly_staff_cost", 0, 1000),
        therapeutic=_therapy(check, needs["therapeutic"], "needs_led.therapeutic"),
        process_cost=_figure(check, moves["process_cost"], "moves.process_cost"),
        simulation=_simulation(check, top.get("simulation")))


def load_costing(path: str | Path, n_domains: int = 8) -> CostingParameters:
    """Read and check costing.yaml."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(path, "<file>", str(path), "costing parameter file not found")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(path, "<file>", None, f"not valid YAML: {exc}") from None
    return parse_costing(values, source=path, n_domains=n_domains)
