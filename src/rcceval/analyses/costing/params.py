"""Cost parameters of question 3 (costing.yaml): read, checked and held as plain values.

A commissioner must be able to read costing.yaml and see where every number comes from, so every
figure carries a source and a price year and a range (low, value, high) that the Monte Carlo and the
tornado plot use. The file is checked once, before anything runs, with errors naming the file, key,
value and rule (ParameterError), like the run parameters (params.py).
"""
from __future__ import annotations

import re
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

_TOP = {"price_year", "currency", "unit_costs", "needs_led", "moves", "simulation", "time_and_money", "psa"}
_FIGURE = {"value", "low", "high", "source", "price_year"}
_FIGURE_OPTIONAL = {"low_price_year", "high_price_year"}     # a bound quoted in another price year
TAIL_CHOICES = ("auto", "constant_tail", "exponential", "weibull", "lognormal", "gompertz")
TAIL_CRITERIA = ("window_aic", "aic", "bic")
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
    low_price_year: str | None = None      # None: the figure's price_year
    high_price_year: str | None = None

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
class TimeAndMoney:
    """Discounting, one price year and the tail beyond follow-up (costing.yaml `time_and_money`).

    discount_rate: the headline rate a year (HM Treasury Green Book: 3.5%); sensitivity_rates: the others
    reported (0% and 1.5%); target_price_year: every figure is uprated to it with the GDP deflator
    (deflator: a file of rcceval/spec/gdp_deflator.yaml's layout, or None for the packaged series);
    tail: the hazard beyond follow-up ("auto": the plausible parametric tail with the lowest
    tail_criterion, NICE DSU TSD 14; or a family named); mismatch_shrinkage: the shares of the mismatch
    effect the headline is repeated at."""

    discount_rate: float = 0.035
    sensitivity_rates: tuple[float, ...] = (0.0, 0.015)
    target_price_year: str = "2024-25"
    deflator: str | None = None
    tail: str = "auto"
    tail_criterion: str = "window_aic"
    mismatch_shrinkage: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)

    @property
    def rates(self) -> tuple[float, ...]:
        """The headline rate first, then the sensitivity rates (duplicates dropped)."""
        return tuple(dict.fromkeys((self.discount_rate, *self.sensitivity_rates)))


@dataclass(frozen=True)
class PSASettings:
    """The probabilistic sensitivity analysis (costing.yaml `psa`; Briggs, Claxton & Sculpher 2006).

    outer: parameter sets (child bootstrap refits of the Cox models with their baselines and tails, and
    one draw of every cost figure); inner: simulated journeys of every child per set; newton_steps: the
    Newton steps of each warm-started refit; tied: groups of cost figures that are one quantity (drawn
    with one uniform: correlation 1), e.g. the needs-led foster setting is the in-house foster figure;
    max_value: the CEAC's and EVPI's value of one disruption averted runs from 0 to this (pounds) in
    n_values steps; decisions_per_year / years: the region's population for EVPI (children a year)."""

    outer: int = 200
    inner: int = 4
    newton_steps: int = 2
    tied: tuple[tuple[str, ...], ...] = (("unit.in_house_foster", "setting.foster"),)
    max_value: float = 100_000.0
    n_values: int = 41
    decisions_per_year: float = 0.0
    years: int = 5


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
    time_and_money: TimeAndMoney = field(default_factory=TimeAndMoney)
    psa: PSASettings = field(default_factory=PSASettings)

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
    check.mapping(raw, key, _FIGURE | _FIGURE_OPTIONAL, _FIGURE)
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
    bounds = {b: check.text(str(raw[b]), f"{key}.{b}") if raw.get(b) is not None else None
              for b in sorted(_FIGURE_OPTIONAL)}
    return Figure(value, low, high, source, year, bounds["low_price_year"], bounds["high_price_year"])


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


def _rates(check: Checker, raw: object, key: str) -> tuple[float, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail(key, raw, "must be a non-empty list of yearly rates, e.g. [0.0, 0.015]")
    return tuple(float(check.number(r, f"{key}[{i}]", 0, 0.2)) for i, r in enumerate(raw))


def _price_year(check: Checker, raw: object, key: str) -> str:
    text = check.text(str(raw) if raw is not None else None, key)
    m = re.match(r"^(\d{4})-(\d{2})$", text)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        check.fail(key, raw, "must be a financial year written like '2024-25'")
    return text


def _time_and_money(check: Checker, raw: object, key: str = "time_and_money") -> TimeAndMoney:
    raw = {} if raw is None else raw
    check.mapping(raw, key, set(TimeAndMoney.__dataclass_fields__))
    d = TimeAndMoney()
    tail = raw.get("tail", d.tail)
    if tail not in TAIL_CHOICES:
        check.fail(f"{key}.tail", tail, f"must be one of {', '.join(TAIL_CHOICES)}")
    crit = raw.get("tail_criterion", d.tail_criterion)
    if crit not in TAIL_CRITERIA:
        check.fail(f"{key}.tail_criterion", crit, f"must be one of {', '.join(TAIL_CRITERIA)}")
    shrink = raw.get("mismatch_shrinkage", list(d.mismatch_shrinkage))
    if not isinstance(shrink, list) or not shrink:
        check.fail(f"{key}.mismatch_shrinkage", shrink, "must be a non-empty list of shares from 0 to 1")
    deflator = raw.get("deflator", d.deflator)
    return TimeAndMoney(
        discount_rate=float(check.number(raw.get("discount_rate", d.discount_rate), f"{key}.discount_rate", 0, 0.2)),
        sensitivity_rates=_rates(check, raw.get("sensitivity_rates", list(d.sensitivity_rates)),
                                 f"{key}.sensitivity_rates"),
        target_price_year=_price_year(check, raw.get("target_price_year", d.target_price_year),
                                      f"{key}.target_price_year"),
        deflator=None if deflator is None else check.text(deflator, f"{key}.deflator"),
        tail=tail, tail_criterion=crit,
        mismatch_shrinkage=tuple(float(check.number(v, f"{key}.mismatch_shrinkage[{i}]", 0, 1))
                                 for i, v in enumerate(shrink)))


def _psa(check: Checker, raw: object, names: set[str], key: str = "psa") -> PSASettings:
    raw = {} if raw is None else raw
    check.mapping(raw, key, set(PSASettings.__dataclass_fields__))
    d = PSASettings()
    tied = raw.get("tied", [list(t) for t in d.tied])
    if not isinstance(tied, list):
        check.fail(f"{key}.tied", tied, "must be a list of groups of figure names, e.g. [[unit.in_house_foster, "
                                        "setting.foster]]")
    seen: set[str] = set()
    for i, group in enumerate(tied):
        if not isinstance(group, list) or len(group) < 2:
            check.fail(f"{key}.tied[{i}]", group, "must list two or more figure names")
        for name in group:
            if name not in names:
                check.fail(f"{key}.tied[{i}]", name, f"is not a cost figure; one of {', '.join(sorted(names))}")
            if name in seen:
                check.fail(f"{key}.tied[{i}]", name, "is in two groups")
            seen.add(name)
    return PSASettings(
        outer=check.integer(raw.get("outer", d.outer), f"{key}.outer", 0, 100_000),
        inner=check.integer(raw.get("inner", d.inner), f"{key}.inner", 2, 10_000),
        newton_steps=check.integer(raw.get("newton_steps", d.newton_steps), f"{key}.newton_steps", 1, 20),
        tied=tuple(tuple(str(n) for n in g) for g in tied),
        max_value=float(check.number(raw.get("max_value", d.max_value), f"{key}.max_value", 1, 1e9)),
        n_values=check.integer(raw.get("n_values", d.n_values), f"{key}.n_values", 2, 10_000),
        decisions_per_year=float(check.number(raw.get("decisions_per_year", d.decisions_per_year),
                                              f"{key}.decisions_per_year", 0, 1e7)),
        years=check.integer(raw.get("years", d.years), f"{key}.years", 1, 100))


def parse_costing(values: object, source: str | Path = "<costing>", n_domains: int = 8) -> CostingParameters:
    """Check parsed costing.yaml values (ParameterError on the first problem, naming the key)."""
    check = Checker(Path(str(source)))
    top = check.mapping(values, "", _TOP, _TOP - {"simulation", "currency", "time_and_money", "psa"})
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
        simulation=_simulation(check, top.get("simulation")),
        time_and_money=_time_and_money(check, top.get("time_and_money")),
        psa=_psa(check, top.get("psa"), set(_price_names(top))))


def _price_names(top: dict) -> list[str]:
    """The dotted names of the figures (CostingParameters.prices) from the raw file, for the psa checks."""
    needs = top["needs_led"]
    return ([f"unit.{k}" for k in top["unit_costs"]] + [f"setting.{k}" for k in needs["settings"]]
            + ["staffing_scale", "hourly_staff_cost"] + [f"therapy.{i}" for i in range(len(needs["therapeutic"]))]
            + ["process_cost"])


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
