"""Question 3's probabilistic sensitivity analysis (Briggs, Claxton & Sculpher 2006): an outer loop of
parameter sets and an inner loop of simulated journeys, so that Monte Carlo error is reported apart
from parameter uncertainty.

Outer loop (one parameter set b = 0 .. outer - 1):
  - a child bootstrap: children drawn with replacement (frequency weights on their placements), and the
    three cause-specific Cox models refitted on it, coefficients and per-council Breslow baselines
    together, so the baselines and the constant-hazard tail level (the last `extrapolation_days` of the
    refitted baseline) vary with the coefficients. The refit is cheap: warm-started at the full-data
    estimates, `newton_steps` Newton steps on the frequency-weighted Efron partial likelihood
    (stats.cox.newton_refit: the one-step bootstrap, error O(n^-1) after one step, smaller after two).
    A parametric tail's shape is held at its full-data fit; its level follows the refitted baseline;
  - one draw of every cost figure (Beta-PERT on its range, uprated to the target price year), figures
    that are one quantity (costing.yaml psa.tied, e.g. the needs-led foster setting is the in-house
    foster figure) drawn with one uniform: correlation 1; the others independent (stated).
Inner loop: `inner` simulated journeys of every child of the cohort under both scenarios, with common
random numbers between the scenarios (the engine's counter-based uniforms); each set has its own
random numbers, so a parameter set repeated shows Monte Carlo spread only.

Every random number is a splitmix64 hash (stats.rng) of the seed, the set and a counter: a set's result
is a pure function of (seed, b), whatever n_jobs or the chunking. Outputs per set and inner batch: the
incremental cost of needs-led (discounted at the headline rate, target price year, per child over the
horizon) and the disruptions it averts (unplanned endings followed by a move, per child, undiscounted);
decision.py turns them into the CEAC, break-even interval, EVPI and EVPPI of the mismatch effect (the
bootstrap's mismatch log hazard ratio of an unplanned ending).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from joblib import delayed
from scipy import special

from rcceval import parallel
from rcceval.analyses.costing import decision
from rcceval.analyses.costing.hazard import CAUSES, FittedHazards, HazardModel, breslow, from_fitted
from rcceval.analyses.costing.microsim import ITEM, Settings, item_prices, layout, seed_key, simulate
from rcceval.analyses.costing.params import COST_GROUPS, CostingParameters
from rcceval.analyses.survival.data import CAUSE_CODE
from rcceval.spec import codes
from rcceval.spec.codes import DAYS_PER_YEAR
from rcceval.stats._blas import one_blas_thread
from rcceval.stats.cox import newton_refit
from rcceval.stats.rng import GOLDEN, splitmix64_mix, splitmix64_uniform

if TYPE_CHECKING:
    from rcceval.analyses.costing.analysis import CareCosting

_BOOT, _PRICE, _JOURNEY = np.uint64(0xB0075), np.uint64(0x9A1CE), np.uint64(0x70A2E)   # stream tags


def _stream(seed: int, tag: np.uint64, b: int) -> np.uint64:
    """The key of stream `tag` of parameter set b: a hash of the seed's key, the tag and b."""
    with np.errstate(over="ignore"):
        return splitmix64_mix(np.asarray(seed_key(seed)[0] ^ tag) + GOLDEN * np.uint64(b + 1))


@dataclass
class CauseData:
    """One cause's model rows, laid out once for every refit (child-level: never published)."""

    cause: str
    names: list[str]
    coef: np.ndarray
    X: np.ndarray
    time: np.ndarray
    event: np.ndarray
    stratum: np.ndarray        # council label of each row
    child: np.ndarray          # index of each row's child (into the bootstrap's children)
    eventless: list[str]


@dataclass
class RefitInputs:
    causes: list[CauseData]
    strata: list[str]
    n_children: int
    spec: object


def refit_inputs(q: "CareCosting") -> RefitInputs:
    """The model rows of each cause from the analysis design (q._design) and the fitted coefficients.

    A cause's rows are the design's rows less the placements of a level with no ending of that cause
    (as survival.cox fits it), with the fitted model's columns."""
    d = q._design
    fitted = q.fitted_aggregates
    child_codes, _ = pd.factorize(pd.Series(np.asarray(d.cluster)), sort=True)
    out = []
    for c in CAUSES:
        a = fitted.causes[c]
        keep = np.ones(len(d.time), dtype=bool)
        for name in a["eventless"]:
            if name in d.X.columns:
                keep &= d.X[name].to_numpy(float) == 0
        out.append(CauseData(c, list(a["names"]), np.asarray(a["coef"], float),
                             d.X[list(a["names"])].to_numpy(float)[keep],
                             np.asarray(d.time, float)[keep], (np.asarray(d.cause) == CAUSE_CODE[c])[keep],
                             np.asarray(d.stratum).astype(str)[keep], child_codes[keep], list(a["eventless"])))
    return RefitInputs(out, list(fitted.strata), int(child_codes.max()) + 1, fitted.spec)


def bootstrap_counts(seed: int, b: int, n_children: int) -> np.ndarray:
    """How often each child is drawn in bootstrap b (n_children draws with replacement)."""
    u = splitmix64_uniform(np.asarray(_stream(seed, _BOOT, b)), np.arange(n_children, dtype=np.uint64))
    return np.bincount(np.minimum((u * n_children).astype(np.int64), n_children - 1), minlength=n_children)


def refit(inputs: RefitInputs, counts: np.ndarray, steps: int) -> tuple[FittedHazards, int]:
    """The three models refitted on the children's bootstrap counts (coefficients and baselines).
    Returns (the aggregates, the number of refits whose Newton steps all raised the likelihood)."""
    out, ok_n = {}, 0
    for cd in inputs.causes:
        w = counts[cd.child].astype(float)
        beta, ok = newton_refit(cd.time, cd.event, cd.X, cd.coef, steps, strata=cd.stratum, weights=w)
        ok_n += ok
        centre = (cd.X * w[:, None]).sum(axis=0) / w.sum()
        times, H = breslow(cd.time, cd.event, cd.X, beta, cd.stratum, centre, inputs.strata, weights=w)
        out[cd.cause] = {"names": cd.names, "coef": beta, "cov": None, "centre": centre, "times": times,
                         "cumhaz": H, "eventless": cd.eventless}
    return FittedHazards(spec=inputs.spec, strata=tuple(inputs.strata), causes=out), ok_n


def price_draw(cp: CostingParameters, seed: int, b: int) -> dict[str, float]:
    """One draw of every figure (Beta-PERT inverse CDF of a hashed uniform); tied figures share one."""
    names = list(cp.prices)
    group = {n: n for n in names}
    for g in cp.psa.tied:
        for n in g:
            group[n] = g[0]
    slot = {n: names.index(group[n]) for n in names}
    u = splitmix64_uniform(np.asarray(_stream(seed, _PRICE, b)), np.arange(len(names), dtype=np.uint64))
    out = {}
    for n, f in cp.prices.items():
        if f.high <= f.low:
            out[n] = f.value
            continue
        width = f.high - f.low
        a = 1 + 4 * (f.pert_mode - f.low) / width
        bb = 1 + 4 * (f.high - f.pert_mode) / width
        out[n] = float(f.low + width * special.betaincinv(a, bb, u[slot[n]]))   # the Beta quantile
    return out


@dataclass
class SetOutput:
    delta_cost: np.ndarray      # (inner,) needs-led minus unit cost per child (discounted, target price year)
    delta_effect: np.ndarray    # (inner,) disruptions averted per child
    moves_averted: np.ndarray   # (inner,) moves averted per child
    mismatch_log_hr: float      # the set's unplanned-ending mismatch coefficient
    refits_ok: int
    cpu_seconds: float = 0.0    # CPU time of the set in its process (benchmarks)


def run_set(q: "CareCosting", inputs: RefitInputs, b: int, cp_up: CostingParameters, tails: dict,
            repeat: FittedHazards | None = None) -> SetOutput:
    """Parameter set b: refit, prices, journeys. repeat: the same parameter set for every b (these fitted
    hazards and set 0's prices) with b's own journeys: the spread between sets is then Monte Carlo only."""
    ps, sim = q.costing.psa, q.sim
    cpu0 = time.process_time()
    if repeat is None:
        fitted, ok = refit(inputs, bootstrap_counts(q.seed, b, inputs.n_children), ps.newton_steps)
    else:
        fitted, ok = repeat, len(CAUSES)
    hz: HazardModel = from_fitted(fitted, sim.extrapolation_days, tails)
    lays = [layout(h.names, np.tile(h.coef, (ps.inner, 1)), h.centre, q.cohort.fixed_names, h.eventless,
                   h.stratum_offset) for h in (hz.causes[c] for c in CAUSES)]
    rate = cp_up.time_and_money.discount_rate
    st = Settings(horizon_days=sim.horizon_years * DAYS_PER_YEAR, capacity=sim.capacity,
                  max_placements=sim.max_placements, seed=int(_stream(q.seed, _JOURNEY, b)), n_jobs=1,
                  discount_rates=(rate,))
    central = cp_up.central()
    j = simulate(q.cohort, q.pool, hz, lays, st, q.nl_weekly_central,
                 {g: central[f"unit.{g}"] for g in COST_GROUPS}, central["process_cost"])
    draw = price_draw(cp_up, q.seed, b if repeat is None else 0)     # a repeated set repeats its prices too
    prices = item_prices({k: np.full(ps.inner, v) for k, v in draw.items()}, ps.inner)
    n = float(q.cohort.n)
    cost = {s: np.einsum("dpi,di->d", j.discounted[s][0], prices) / n for s in j.scenarios}
    un = {s: j.by_profile[s][:, :, ITEM["unplanned_moves"]].sum(axis=1) / n for s in j.scenarios}
    mv = {s: j.by_profile[s][:, :, ITEM["moves"]].sum(axis=1) / n for s in j.scenarios}
    u = fitted.causes[codes.UNPLANNED]
    mm = float(u["coef"][list(u["names"]).index("MISMATCH")]) if "MISMATCH" in u["names"] else float("nan")
    return SetOutput(cost["needs_led"] - cost["unit_cost"], un["unit_cost"] - un["needs_led"],
                     mv["unit_cost"] - mv["needs_led"], mm, ok, time.process_time() - cpu0)


@dataclass
class _Context:
    """What a worker needs of the CareCosting (not its frames): pickled once per chunk."""

    costing: CostingParameters
    sim: object
    seed: int
    cohort: object
    pool: object
    nl_weekly_central: np.ndarray


def _run_sets(q, inputs, sets, cp_up, tails, repeat):
    """Sets in order, with one BLAS thread (stats._blas): a matrix product's rounding depends on its thread
    count and joblib's workers have fewer threads than the main process, so without it n_jobs would
    change the last bits of the refits."""
    with one_blas_thread():
        return [run_set(q, inputs, b, cp_up, tails, repeat) for b in sets]


@dataclass
class PSAOutput:
    """The PSA's raw output (aggregates over children only): one row per set, one column per batch."""

    delta_cost: np.ndarray      # (outer, inner)
    delta_effect: np.ndarray
    moves_averted: np.ndarray
    mismatch_log_hr: np.ndarray  # (outer,)
    refits_ok: int
    refits: int
    cpu_seconds: float = 0.0     # summed over sets and workers


def run_psa(q: "CareCosting", outer: int | None = None, n_jobs: parallel.Workers | None = None,
            repeat: FittedHazards | None = None) -> PSAOutput:
    """The outer loop over parameter sets, in chunks over n_jobs workers (results in set order)."""
    outer = q.costing.psa.outer if outer is None else outer
    n_jobs = q.n_jobs if n_jobs is None else n_jobs
    inputs = refit_inputs(q)
    cp_up, tails = q.costing_uprated, q.chosen_tails
    q = _Context(q.costing, q.sim, q.seed, q.cohort, q.pool, q.nl_weekly_central)
    ps = parallel.setting(n_jobs)
    workers = 8 if ps.scheduler is not None else max(1, ps.workers if ps.workers > 0 else (os.cpu_count() or 1))
    chunks = [c for c in np.array_split(np.arange(outer), max(1, min(outer, 4 * workers))) if c.size]
    parts = parallel.run((delayed(_run_sets)(q, inputs, c.tolist(), cp_up, tails, repeat) for c in chunks), n_jobs)
    sets = [s for p in parts for s in p]
    return PSAOutput(np.array([s.delta_cost for s in sets]), np.array([s.delta_effect for s in sets]),
                     np.array([s.moves_averted for s in sets]), np.array([s.mismatch_log_hr for s in sets]),
                     int(sum(s.refits_ok for s in sets)), len(sets) * len(CAUSES),
                     float(sum(s.cpu_seconds for s in sets)))


def _evppi_method(n: int) -> dict:
    """Regression spline (GCV over 3 to min(10, n/10) degrees of freedom) from 40 sets; fewer: binned."""
    return {"method": "regression", "max_df": max(3, min(10, n // 10))} if n >= 40 else {"method": "binned"}


def summarise_psa(out: PSAOutput, cp: CostingParameters, level: float = 0.95) -> dict:
    """What decision-makers read: means with parameter-uncertainty intervals, the Monte Carlo error apart,
    the break-even value with its interval, the CEAC, EVPI and EVPPI of the mismatch effect."""
    ps = cp.psa
    alpha = 1 - level
    cost, eff = out.delta_cost.mean(axis=1), out.delta_effect.mean(axis=1)
    values = np.linspace(0.0, ps.max_value, ps.n_values)
    split = {k: decision.split_uncertainty(v) for k, v in (("delta_cost", out.delta_cost),
                                                          ("delta_effect", out.delta_effect),
                                                          ("moves_averted", out.moves_averted))}

    def iv(x):
        return {"mean": float(np.mean(x)), "lower": float(np.quantile(x, alpha / 2)),
                "upper": float(np.quantile(x, 1 - alpha / 2))}

    be = decision.break_even(cost, eff, level)
    phi = out.mismatch_log_hr
    has_phi = bool(np.isfinite(phi).all() and np.unique(phi).size > 1)
    curves = pd.DataFrame({
        "value": values, "ceac": decision.ceac(cost, eff, values),
        "evpi": decision.evpi_curve(cost, eff, values),
        "evppi_mismatch": decision.evppi_curve(cost, eff, phi, values, **_evppi_method(cost.size)) if has_phi else np.full(values.size, np.nan)})
    pop = (decision.population_value(curves["evpi"].to_numpy(), ps.decisions_per_year, ps.years,
                                     cp.time_and_money.discount_rate) if ps.decisions_per_year > 0 else None)
    if pop is not None:
        curves["evpi_population"] = pop
        curves["evppi_mismatch_population"] = decision.population_value(
            curves["evppi_mismatch"].to_numpy(), ps.decisions_per_year, ps.years, cp.time_and_money.discount_rate)
    return {
        "outer": int(out.delta_cost.shape[0]), "inner": int(out.delta_cost.shape[1]),
        "refits_all_steps_accepted": out.refits_ok, "refits": out.refits,
        "delta_cost_per_child": iv(cost), "disruptions_averted_per_100": iv(100 * eff),
        "moves_averted_per_100": iv(100 * out.moves_averted.mean(axis=1)),
        "uncertainty": {k: {"mean": s.mean, "parameter_sd": s.parameter_sd, "mc_sd_of_set_mean": s.mc_sd_of_set_mean,
                            "se_of_mean": s.se_of_mean, "mc_share": s.mc_share, "inner_needed_for_5pct": (
                                s.inner_needed(0.05) if s.parameter_var > 0 else None)}
                        for k, s in split.items()},
        "break_even": {"value": be.value, "lower": be.lower, "upper": be.upper, "level": be.level},
        "curves": curves,
        "mismatch_hr": iv(np.exp(phi)) if has_phi else None,
    }
