"""Question 3 (unit-cost versus needs-led costing): costing.yaml checks, exact hand-checked costs and
journeys, the engine reproducing known hazards (simulated survival within sampling error of the
model, competing-cause shares equal to the hazard shares), the step baseline against lifelines, and
reproducibility (fixed seed, any n_jobs, any chunking).
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import integrate, stats

from rcceval.analyses.costing.analysis import break_even
from rcceval.analyses.costing.hazard import CAUSES, CauseHazard, HazardModel, breslow
from rcceval.analyses.costing.microsim import (
    ITEM,
    Cohort,
    Pool,
    Settings,
    cost,
    item_prices,
    layout,
    seed_key,
    simulate,
)
from rcceval.analyses.costing.params import COST_GROUPS, SETTINGS, load_costing, parse_costing
from rcceval.analyses.costing.static import (
    cost_group,
    fee_comparison,
    needs_components,
    needs_led_weekly,
    static_comparison,
)
from rcceval.errors import ParameterError
from rcceval.spec import codes
from rcceval.spec.codes import MODEL_TYPE_LEVELS as TYPE_LEVELS
from rcceval.spec.instruments import load_instrument
from rcceval.stats.rng import splitmix64_uniform as hash_uniform

ROOT = Path(__file__).resolve().parents[1]
COSTING = ROOT / "parameters" / "costing.yaml"
INST = load_instrument(None)
ND = len(INST.domain_ids)


@pytest.fixture(scope="module")
def cp():
    return load_costing(COSTING)


@pytest.fixture()
def raw():
    return yaml.safe_load(COSTING.read_text())


# ---- costing.yaml ------------------------------------------------------------------------------
def test_shipped_costing_file_gives_every_figure_a_source_year_and_range(cp):
    assert set(cp.unit_costs) == set(COST_GROUPS) and set(cp.settings) == set(SETTINGS)
    for name, f in cp.prices.items():
        assert f.low <= f.value <= f.high, name
        assert f.source and f.price_year, name
    # the published anchors of the issue are where they are said to be
    assert cp.unit_costs["childrens_home"].value == pytest.approx(318_400 / 52.14, abs=10)
    assert cp.unit_costs["childrens_home"].low == 3830 and cp.unit_costs["ifa_foster"].low == 820
    assert not cp.unit_costs["childrens_home"].assumption and cp.unit_costs["secure"].assumption
    table = cp.sources_table()
    assert len(table) == len(cp.prices) and table["assumption"].sum() == sum(f.assumption for f in cp.prices.values())


def test_monte_carlo_draws_have_the_stated_value_as_their_mean_within_the_range(cp):
    draws = cp.draw(np.random.default_rng(1), 200_000)
    for name, f in cp.prices.items():
        x = draws[name]
        assert x.min() >= f.low and x.max() <= f.high, name
        if f.high > f.low:   # Beta-PERT: sd <= (high - low) / 2, so 5 standard errors
            assert abs(x.mean() - f.value) < 5 * (f.high - f.low) / 2 / np.sqrt(len(x)), name
            mode = (6 * f.value - f.low - f.high) / 4
            hist, edges = np.histogram(x, bins=40, range=(f.low, f.high))
            assert abs(edges[hist.argmax()] - mode) <= 3 * (f.high - f.low) / 40, name


def _drop(d: dict, path: str):
    *head, last = path.split(".")
    for k in head:
        d = d[k]
    del d[last]


def _set(d: dict, path: str, value):
    *head, last = path.split(".")
    for k in head:
        d = d[int(k)] if isinstance(d, list) else d[k]
    d[int(last) if isinstance(d, list) else last] = value


@pytest.mark.parametrize("edit, key, rule", [
    (("drop", "unit_costs.secure"), "unit_costs.secure", "is required"),
    (("set", "unit_costs.castle", {"value": 1, "low": 0, "high": 2, "source": "x", "price_year": "2024-25"}),
     "unit_costs.castle", "unknown key"),
    (("set", "unit_costs.ifa_foster.value", 5000), "unit_costs.ifa_foster.value", "must lie in its range"),
    (("set", "unit_costs.ifa_foster.value", 830), "unit_costs.ifa_foster.value", "middle two-thirds"),
    (("drop", "needs_led.settings.foster.source"), "needs_led.settings.foster.source", "is required"),
    (("set", "needs_led.hourly_staff_cost.low", "cheap"), "needs_led.hourly_staff_cost.low", "must be a number"),
    (("set", "simulation.hazard_source", "magic"), "simulation.hazard_source", "must be one of fitted, generating"),
    (("set", "simulation.capacity", 1.5), "simulation.capacity", "number from 0 to 1"),
    (("set", "simulation.draws", 0), "simulation.draws", "whole number from 1"),
    (("set", "needs_led.setting_rules.0.setting", "castle"), "needs_led.setting_rules[0].setting", "must be one of"),
    (("set", "needs_led.staffing_hours.by_intensity_frequency", [[0, 1], [2, 3]]),
     "needs_led.staffing_hours.by_intensity_frequency", "4 rows"),
    (("set", "needs_led.therapeutic.2.peak_intensity", 3), "needs_led.therapeutic[2].peak_intensity", "must be 2"),
])
def test_bad_costing_file_is_a_parameter_error_naming_the_key(raw, tmp_path, edit, key, rule):
    values = copy.deepcopy(raw)
    (_drop(values, edit[1]) if edit[0] == "drop" else _set(values, edit[1], edit[2]))
    path = tmp_path / "costing.yaml"
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(ParameterError) as err:
        load_costing(path)
    assert err.value.key == key and rule in err.value.rule and str(path) in str(err.value)


def test_last_setting_rule_must_hold_for_everyone(raw):
    values = copy.deepcopy(raw)
    values["needs_led"]["setting_rules"] = values["needs_led"]["setting_rules"][:-1]
    with pytest.raises(ParameterError) as err:
        parse_costing(values, "c.yaml")
    assert err.value.key.startswith("needs_led.setting_rules[") and "every child" in err.value.rule


def test_missing_costing_file_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        load_costing(tmp_path / "nope.yaml")


# ---- static costs -------------------------------------------------------------------------------
def test_cost_group_from_place_and_provider():
    place = pd.Series(["U4", "U6", "U6", "U3", "K2", "R1", "K1", "H5", "P2", "S1", "R5", "P1", "A6", "Z1", "T2"])
    prov = pd.Series(["PR1", "PR4", "PR5", "PR1", "PR4", "PR1", "PR2", "PR4", "", "PR4", "PR3", "PR0", "PR1", "PR4", ""])
    assert list(cost_group(place, prov)) == [
        "in_house_foster", "ifa_foster", "ifa_foster", "kinship_foster", "childrens_home", "childrens_home", "secure",
        "supported_accommodation", "supported_accommodation", "other_residential", "other_residential", "with_parents",
        "adoption", "temporary_other", "temporary_other"]


def hand_prices(cp) -> dict:
    p = cp.central()
    p.update({"setting.foster": 500.0, "setting.enhanced_foster": 1000.0, "setting.childrens_home": 4000.0,
              "setting.intensive_home": 8000.0, "staffing_scale": 1.0, "hourly_staff_cost": 30.0,
              "therapy.0": 0.0, "therapy.1": 0.0, "therapy.2": 100.0, "therapy.3": 400.0})
    return p


def test_needs_led_cost_of_hand_made_profiles_is_exact(cp):
    H = cp.staffing_hours
    i = np.zeros((4, ND), dtype=int)
    f = np.zeros((4, ND), dtype=int)
    i[1, :2], f[1, :2] = 1, 2                          # low needs: foster
    i[2, :3], f[2, :3] = 2, 2                          # 3 domains at 2 x 2: enhanced foster
    i[3, :3], f[3, :3] = 3, 3                          # 3 domains at 3 x 3: intensive home
    comp = needs_components(i, f, cp)
    assert list(comp["setting"]) == [SETTINGS.index(s) for s in ("foster", "foster", "enhanced_foster", "intensive_home")]
    assert list(comp["hours"]) == [0.0, 2 * H[1, 2], 3 * H[2, 2], 3 * H[3, 3]]
    assert list(comp["peak"]) == [0, 1, 2, 3]
    weekly = needs_led_weekly(comp, hand_prices(cp))
    assert weekly == pytest.approx([500, 500 + 30 * 2 * H[1, 2], 1000 + 30 * 3 * H[2, 2] + 100,
                                    8000 + 30 * 3 * H[3, 3] + 400])


def hand_frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    for p in "IF":
        for d in INST.domain_ids:
            col = f"{p}_{d}"
            out[col] = out[col].astype(float).fillna(0.0) if col in out else 0.0
    return out


def test_static_comparison_and_fees_of_hand_made_placements(cp):
    d0, d1 = INST.domain_ids[:2]
    frame = hand_frame([
        {"LA": "L1", "CHILD": "a", "START": pd.Timestamp("2021-01-01"), "PLACE": "U6", "PLACE_PROVIDER": "PR4",
         "DURATION_DAYS": 70},                                                     # no needs, IFA
        {"LA": "L1", "CHILD": "b", "START": pd.Timestamp("2021-02-01"), "PLACE": "U6", "PLACE_PROVIDER": "PR1",
         "DURATION_DAYS": 14, f"I_{d0}": 3, f"F_{d0}": 3, f"I_{d1}": 3, f"F_{d1}": 2},  # children's home needs, in foster
    ])
    tier = pd.Series(pd.Categorical(["low", "high"], categories=["low", "high"], ordered=True), index=frame.index)
    prices = hand_prices(cp)
    rows, summary = static_comparison(frame, cp, [f"I_{d}" for d in INST.domain_ids], [f"F_{d}" for d in INST.domain_ids],
                                      tier, prices)
    H = cp.staffing_hours
    nl_b = 4000 + 30 * (H[3, 3] + H[3, 2]) + 400
    assert list(rows["needs_led"]) == pytest.approx([500, nl_b])
    assert list(rows["unit"]) == pytest.approx([prices["unit.ifa_foster"], prices["unit.in_house_foster"]])
    s = summary.set_index("profile")
    assert list(s.index) == ["low", "high", "All"]
    assert s.loc["low", "over_funded"] == 1 and s.loc["high", "under_funded"] == 1
    assert s.loc["All", "placements"] == 2 and s.loc["All", "child_weeks"] == 12
    assert s.loc["All", "unit_per_week"] == pytest.approx((10 * prices["unit.ifa_foster"] + 2 * prices["unit.in_house_foster"]) / 12)
    assert s.loc["high", "diff_median"] == pytest.approx(nl_b - prices["unit.in_house_foster"])
    agreements = pd.DataFrame({"LA": ["L1", "L1", "L1"], "CHILD": ["a", "b", "b"],
                               "START_DATE": pd.to_datetime(["2021-01-01", "2021-02-01", "2021-03-01"]),
                               "WEEKLY_FEE": [800, 1120, 9999]})
    fees = fee_comparison(frame, agreements, cp, tier, prices).set_index(["by", "level"])
    assert fees.loc[("cost group", "ifa_foster"), "ratio_median"] == pytest.approx(prices["unit.ifa_foster"] / 800)
    assert fees.loc[("cost group", "in_house_foster"), "mean_fee"] == 1120      # the 2021-03-01 fee matches nothing
    assert fees.loc[("need profile", "high"), "placements"] == 1


# ---- the engine: exact journeys -------------------------------------------------------------------
def jump_hazard(cause: str, day: float | None, names: list[str], coef: list[float], strata=("L1",)) -> CauseHazard:
    """A step baseline that jumps from 0 to 1e9 at `day` (the placement ends that day for sure),
    or never (day None)."""
    times = np.array([1.0, day if day else 2.0])
    H = np.zeros((len(strata), 2))
    if day:
        H[:, 1] = 1e9
    return CauseHazard(cause=cause, names=names, coef=np.array(coef, dtype=float), cov=None, centre=np.zeros(len(names)),
                       strata=list(strata), kind="step", times=times, cumhaz=H, tail_rate=np.zeros(len(strata)))


def one_child(age0: float = 10.5, n: int = 1) -> tuple[Cohort, Pool]:
    c = Cohort(profiles=["p"], profile=np.zeros(n, dtype=np.int64), stratum=np.zeros(n, dtype=np.int64),
               age0=np.full(n, age0), first0=np.ones(n), type0=np.zeros(n, dtype=np.int64), mismatch0=np.full(n, 2.0),
               sb0=np.zeros(n), group0=np.full(n, COST_GROUPS.index("in_house_foster")), intensity=np.zeros((n, ND)),
               fixed_names=[], Xf=np.zeros((n, 0)), setting=np.zeros(n, dtype=np.int64), hours=np.zeros(n),
               peak=np.zeros(n, dtype=np.int64))
    pool = Pool(type=np.array([TYPE_LEVELS.index("residential")]), sb=np.zeros(1),
                group=np.array([COST_GROUPS.index("childrens_home")]), cap=np.full((1, ND), 3.0),
                start=np.zeros((1, 5), dtype=np.int64), count=np.ones((1, 5), dtype=np.int64))
    return c, pool


def run(c, pool, hz, capacity=0.0, horizon=365.0, draws=1, nl_weekly=None, prices=None, **kw):
    lays = [layout(h.names, np.tile(h.coef, (draws, 1)), h.centre, c.fixed_names, h.eventless) for h in
            (hz.causes[k] for k in CAUSES)]
    st = Settings(horizon_days=horizon, capacity=capacity, seed=3, **kw)
    unit = {g: (prices or {}).get(f"unit.{g}", 700.0) for g in COST_GROUPS}
    return simulate(c, pool, hz, lays, st, np.full(c.n, 1400.0) if nl_weekly is None else nl_weekly, unit, 2500.0)


def test_one_child_with_known_durations_gives_exact_totals(cp):
    # first placement: unplanned ending on day 100 (left care impossible: FIRST_IN_PERIOD log HR -200);
    # second placement (a children's home from the pool): leaves care on day 50 (before its day-100 ending)
    names = ["FIRST_IN_PERIOD"]
    hz = HazardModel("hand", {codes.UNPLANNED: jump_hazard(codes.UNPLANNED, 100, names, [0.0]),
                              codes.PLANNED: jump_hazard(codes.PLANNED, None, names, [0.0]),
                              codes.LEFT_CARE: jump_hazard(codes.LEFT_CARE, 50, names, [-200.0])})
    c, pool = one_child()
    prices = hand_prices(cp)
    j = run(c, pool, hz, prices=prices)
    u = j.by_profile["unit_cost"][0, 0]
    assert u[ITEM["days"]] == 150 and u[ITEM["placements"]] == 2 and u[ITEM["moves"]] == 1
    assert u[ITEM["unplanned_moves"]] == 1 and u[ITEM["three_plus_moves"]] == 0 and u[ITEM["children"]] == 1
    assert u[ITEM["unit_days.in_house_foster"]] == 100 and u[ITEM["unit_days.childrens_home"]] == 50
    p = item_prices({k: np.array([v]) for k, v in prices.items()}, 1)
    total = 100 * prices["unit.in_house_foster"] / 7 + 50 * prices["unit.childrens_home"] / 7 + prices["process_cost"]
    assert cost(j.by_profile["unit_cost"], p)[0, 0] == pytest.approx(total, rel=1e-12)
    # the needs-led scenario with no capacity is the unit-cost journey; per-child sums at central prices
    assert np.array_equal(j.by_profile["needs_led"], j.by_profile["unit_cost"])
    assert j.per_child["unit_cost"][0] == pytest.approx([total, 1, 150])


def test_horizon_and_18th_birthday_end_a_journey_and_matched_placements_cost_needs_led():
    names = ["FIRST_IN_PERIOD"]
    hz = HazardModel("hand", {codes.UNPLANNED: jump_hazard(codes.UNPLANNED, 100, names, [0.0]),
                              codes.PLANNED: jump_hazard(codes.PLANNED, None, names, [0.0]),
                              codes.LEFT_CARE: jump_hazard(codes.LEFT_CARE, None, names, [0.0])})
    c, pool = one_child()
    u = run(c, pool, hz, horizon=365.0).by_profile["unit_cost"][0, 0]      # 0-100-200-300-365
    assert (u[ITEM["days"]], u[ITEM["placements"]], u[ITEM["moves"]], u[ITEM["three_plus_moves"]]) == (365, 4, 3, 1)
    c17, _ = one_child(age0=17.5)                                          # 18 after 0.5 years = 182.625 days
    u = run(c17, pool, hz, horizon=365.0).by_profile["unit_cost"][0, 0]
    assert u[ITEM["days"]] == pytest.approx(182.625) and u[ITEM["placements"]] == 2 and u[ITEM["moves"]] == 1
    j = run(c, pool, hz, capacity=1.0, horizon=365.0)
    nl = j.by_profile["needs_led"][0, 0]
    assert nl[ITEM["matched_days"]] == 365 and nl[ITEM["setting_days.foster"]] == 365
    assert j.per_child["needs_led"][0] == pytest.approx([365 * 1400 / 7 + 3 * 2500, 3, 365])


def test_matched_placements_remove_the_mismatch_effect():
    # the unplanned hazard exists only through mismatch: matched placements (capacity 1) never end unplanned
    names = ["MISMATCH"]
    hz = HazardModel("hand", {codes.UNPLANNED: jump_hazard(codes.UNPLANNED, 100, names, [0.0]),
                              codes.PLANNED: jump_hazard(codes.PLANNED, None, names, [0.0]),
                              codes.LEFT_CARE: jump_hazard(codes.LEFT_CARE, 300, names, [0.0])})
    hz.causes[codes.UNPLANNED].cumhaz[:, 1] = 1e-12          # no hazard at mismatch 0 ...
    hz.causes[codes.UNPLANNED].coef = np.array([40.0])       # ... a certain ending at mismatch 2 (e^80 x 1e-12)
    c, pool = one_child()
    pool.cap[:] = 0.0
    c.intensity[:] = 1.0                                     # next placements: mismatch 8
    j = run(c, pool, hz, capacity=1.0, horizon=1000.0)
    u, nl = j.by_profile["unit_cost"][0, 0], j.by_profile["needs_led"][0, 0]
    assert (u[ITEM["moves"]], u[ITEM["days"]]) == (9, 1000)       # 0-100-...-900-1000, never reaching day 300
    assert (nl[ITEM["moves"]], nl[ITEM["days"]]) == (0, 300)      # matched: leaves care on day 300


# ---- the engine reproduces a known hazard ---------------------------------------------------------
def test_simulated_first_placements_reproduce_the_weibull_hazards_and_cause_shares():
    lam = {codes.UNPLANNED: 0.3, codes.PLANNED: 0.5, codes.LEFT_CARE: 0.4}
    shape = {codes.UNPLANNED: 0.6, codes.PLANNED: 1.0, codes.LEFT_CARE: 1.4}
    hz = HazardModel("weibull", {k: CauseHazard(k, [], np.zeros(0), None, np.zeros(0), ["L1"], "weibull",
                                                weibull=(lam[k], shape[k])) for k in CAUSES})
    n, draws = 20_000, 10
    c, pool = one_child(age0=2.5, n=n)
    j = run(c, pool, hz, horizon=40 * 365.25, draws=draws, record_first=True)
    dur, cause = (x.ravel() for x in j.first["unit_cost"])
    N = dur.size
    H = lambda t, k: lam[k] * (t / 365.25) ** shape[k]  # noqa: E731
    S = lambda t: np.exp(-sum(H(t, k) for k in CAUSES))  # noqa: E731
    for t in (30, 91, 182, 365, 730, 1461):
        s = S(t)
        assert abs(np.mean(dur > t) - s) < 4.5 * np.sqrt(s * (1 - s) / N) + 1.0 / N, t
    # durations are whole days (ceil), so compare the KS distance with the day-rounded model: within the 0.1% bound
    ks = stats.kstest(dur - np.random.default_rng(0).random(N), lambda t: 1 - S(np.maximum(t, 0)))
    assert ks.statistic < 1.95 / np.sqrt(N)
    for ci, k in enumerate(CAUSES):
        h = lambda t, k=k: lam[k] * shape[k] * t ** (shape[k] - 1)  # noqa: E731  (years)
        share = integrate.quad(lambda y, h=h: h(y) * np.exp(-sum(lam[q] * y ** shape[q] for q in CAUSES)), 0, np.inf)[0]
        got = np.mean(cause == ci)
        assert abs(got - share) < 4.5 * np.sqrt(share * (1 - share) / N), (k, got, share)


def test_step_baseline_inverse_is_exact_and_extrapolates_the_last_year():
    times = np.array([10.0, 20.0, 400.0, 800.0])
    H = np.array([[0.1, 0.3, 0.5, 0.9], [0.0, 0.0, 0.2, 0.2]])
    h = CauseHazard("x", [], np.zeros(0), None, np.zeros(0), ["A", "B"], "step", times=times, cumhaz=H,
                    tail_rate=np.array([0.4 / 400, 0.0]))
    s = np.array([0, 0, 0, 0, 0, 1, 1])
    target = np.array([0.05, 0.1, 0.2, 0.9, 1.3, 0.1, 0.5])
    got = h.inverse(s, target)
    assert got[:4].tolist() == [10, 10, 20, 800] and got[4] == pytest.approx(800 + 0.4 / (0.4 / 400))
    assert got[5] == 400 and np.isinf(got[6])
    assert h.cumulative(900.0, np.array([0]))[0] == pytest.approx(1.0)


def test_breslow_baseline_agrees_with_lifelines():
    from lifelines import CoxPHFitter
    rng = np.random.default_rng(5)
    n = 400
    x = rng.normal(size=(n, 2))
    s = rng.integers(0, 2, n)
    t = np.ceil(rng.exponential(50 * np.exp(-x @ [0.5, -0.3]) * (1 + s))).astype(float)
    e = (rng.random(n) < 0.8).astype(int)
    df = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "T": t, "E": e, "s": np.where(s, "B", "A")})
    cph = CoxPHFitter().fit(df, "T", "E", strata=["s"])
    beta = cph.params_.to_numpy()
    times, cum = breslow(t, e, x, beta, df["s"].to_numpy(), x.mean(axis=0), ["A", "B"])
    ref = cph.baseline_cumulative_hazard_
    for k, name in enumerate(["A", "B"]):
        r = ref[name].reindex(times).ffill().fillna(0).to_numpy()
        assert np.max(np.abs(cum[k] - r)) < 1e-8 * max(1, r.max())


def test_hash_uniforms_are_uniform_and_a_pure_function_of_their_counter():
    key = seed_key(11)
    ctr = np.arange(200_000, dtype=np.uint64)
    u = hash_uniform(key, ctr)
    assert stats.kstest(u, "uniform").pvalue > 0.001 and 0 < u.min() and u.max() < 1
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    assert np.array_equal(hash_uniform(key, ctr[::-1])[::-1], u)
    assert not np.array_equal(hash_uniform(seed_key(12), ctr), u)


def test_the_microsimulation_on_a_dask_cluster_gives_the_serial_results():
    """The one parallel setting with a scheduler address: the chunks run on a LocalCluster, same journeys."""
    from dask.distributed import LocalCluster

    from rcceval.parallel import ParallelSetting

    lam = {codes.UNPLANNED: 0.3, codes.PLANNED: 0.5, codes.LEFT_CARE: 0.4}
    hz = HazardModel("weibull", {k: CauseHazard(k, ["MISMATCH"], np.array([0.3]), None, np.zeros(1), ["L1"], "weibull",
                                                weibull=(lam[k], 0.8)) for k in CAUSES})
    c, pool = one_child(n=200)
    serial = run(c, pool, hz, capacity=0.5, draws=9, chunk_draws=4)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None) as lc:
        remote = run(c, pool, hz, capacity=0.5, draws=9, chunk_draws=4,
                     n_jobs=ParallelSetting(workers=1, scheduler=lc.scheduler_address))
    for s in serial.scenarios:
        assert np.array_equal(serial.by_profile[s], remote.by_profile[s])
        assert np.array_equal(serial.per_child[s], remote.per_child[s])


def test_results_do_not_depend_on_chunking_or_jobs():
    lam = {codes.UNPLANNED: 0.3, codes.PLANNED: 0.5, codes.LEFT_CARE: 0.4}
    hz = HazardModel("weibull", {k: CauseHazard(k, ["MISMATCH"], np.array([0.3]), None, np.zeros(1), ["L1"], "weibull",
                                                weibull=(lam[k], 0.8)) for k in CAUSES})
    c, pool = one_child(n=300)
    a = run(c, pool, hz, capacity=0.5, draws=12, chunk_draws=12)
    b = run(c, pool, hz, capacity=0.5, draws=12, chunk_draws=5, n_jobs=2)
    for s in a.scenarios:
        assert np.array_equal(a.by_profile[s], b.by_profile[s])
        assert np.allclose(a.per_child[s], b.per_child[s], rtol=1e-12)
    # common random numbers: with no mismatch effect the scenarios' journeys are the same
    for h in hz.causes.values():
        h.coef = np.array([0.0])
    z = run(c, pool, hz, capacity=0.5, draws=4)
    for item in ("days", "moves", "placements"):
        assert np.array_equal(z.by_profile["unit_cost"][..., ITEM[item]], z.by_profile["needs_led"][..., ITEM[item]])


def test_break_even_bisection_finds_the_root_or_says_why_not():
    calls = []
    found = break_even(lambda r: calls.append(r) or 1000 * (r - 0.3), steps=20)
    assert found["status"] == "found" and found["factor"] == pytest.approx(0.3, abs=1e-6)
    assert found["reduction"] == pytest.approx(0.7, abs=1e-6) and len(calls) == 22
    assert break_even(lambda r: -5.0 + r)["reduction"] == 0.0                       # already cheaper
    never = break_even(lambda r: 10 + r)
    assert never["reduction"] is None and never["status"].startswith("not reachable")
    assert never["difference_per_child_at_full_cut"] == 10
