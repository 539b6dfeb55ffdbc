"""Question 3 on a small synthetic region read through the real loader: needs-led with no capacity is
the unit-cost journey exactly; fixed seed gives identical results whatever n_jobs; the fitted hazards
and the generating model (truth.json) give the same moves and costs within Monte Carlo and
estimation error; the engine reproduces the fitted first-placement survival.
"""
from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rcceval.analyses.costing.analysis import CareCosting, fitted_hazards
from rcceval.analyses.costing.params import load_costing
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.reporting.publish import _plain
from rcceval.spec.codes import MODEL_TYPE_LEVELS as TYPE_LEVELS
from rcceval.spec.instruments import load_instrument
from rcceval.synth import generate
from rcceval.synth.recovery import generating_hazards

ROOT = Path(__file__).resolve().parents[1]
INST = load_instrument(None)
HEADER: dict = {}   # the 903 header of the region fixture (DOB: leaving care at 18)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("q3small")
    truth = generate(out, scale="small", seed=7)
    reg = validate_region(read_region(out))
    placements = derive_placements(reg.c903, extract_date=reg.c903.extract_date)
    frame = analysis_frame(reg, placements, INST, FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    HEADER["header"] = reg.c903.header
    return frame, reg.tables["placement_agreements"], truth


def costing(**sim):
    cp = load_costing(ROOT / "parameters" / "costing.yaml")
    return replace(cp, simulation=replace(cp.simulation, **sim), psa=replace(cp.psa, outer=0))   # PSA: test_costing_psa


def test_needs_led_with_no_capacity_is_the_unit_cost_journey(region):
    frame, agreements, truth = region
    q = CareCosting(costing(capacity=0.0, draws=8, break_even_draws=2), INST, seed=4).fit(frame, agreements)
    assert np.array_equal(q.journeys.by_profile["unit_cost"], q.journeys.by_profile["needs_led"])
    # next placements are drawn from children of the same tier and age band: no supported accommodation
    # (16+ only in the synthetic region) for younger children
    pool = q.pool
    supported = TYPE_LEVELS.index("supported")
    for pi in range(len(q.cohort.profiles)):
        for b in range(4):
            rows = slice(pool.start[pi, b], pool.start[pi, b] + pool.count[pi, b])
            if pool.count[pi, b] < len(pool.type):          # its own cell (not the every-row fallback)
                assert not (pool.type[rows] == supported).any(), (pi, b)
    d = q.difference.set_index("profile")
    assert (d["cost_per_child_year"] == 0).all() and (d["moves_averted_per_100"] == 0).all()


def test_fixed_seed_gives_identical_results_whatever_n_jobs(region):
    frame, agreements, truth = region
    cp = costing(draws=24, break_even_draws=3)
    text = lambda q: json.dumps(_plain(q.to_dict()), sort_keys=True)
    a = CareCosting(cp, INST, seed=9, n_jobs=1).fit(frame, agreements)
    b = CareCosting(cp, INST, seed=9, n_jobs=2).fit(frame, agreements)
    c = CareCosting(cp, INST, seed=10, n_jobs=1).fit(frame, agreements)
    assert text(a) == text(b)
    assert text(a) != text(c)
    assert a.tornado.equals(b.tornado) and a.summary.equals(b.summary)


def test_fitted_and_generating_hazards_agree_within_error(region):
    frame, agreements, truth = region
    cp = costing(draws=150, break_even_draws=4)
    header = HEADER["header"]
    fit = CareCosting(cp, INST, seed=2).fit(frame, agreements, header=header)
    gen = CareCosting(cp, INST, seed=2, hazard_source="generating").fit(
        frame, agreements, generating=lambda names, strata: generating_hazards(truth, names, strata))
    assert any("18th birthday censored" in n for n in fit.notes)
    fs, gs = (q.summary.set_index(["scenario", "profile"]) for q in (fit, gen))
    for scenario in ("unit_cost", "needs_led"):
        for col in ("weeks_in_care", "moves", "cost_per_child", "cost_per_child_year", "share_3plus_moves"):
            f, g = fs.loc[(scenario, "All")], gs.loc[(scenario, "All")]
            # the fitted interval carries the Cox coefficients' uncertainty and the Monte Carlo error
            half = max(f[f"{col}_upper"] - f[col], f[col] - f[f"{col}_lower"])
            assert abs(f[col] - g[col]) < 1.5 * half, (scenario, col, f[col], g[col], half)
    # the engine reproduces what each model says about first placements
    for q in (fit, gen):
        fc = q.first_check
        n = fc["children"] * q.sim.break_even_draws          # independent first placements simulated
        se = np.sqrt(fc["model"] * (1 - fc["model"]) / n)
        assert ((fc["simulated"] - fc["model"]).abs() < 4.5 * se + 1 / n).all()
        # and the hazards describe the data: the Kaplan-Meier of the same first placements (all children)
        a = fc.loc[(fc["profile"] == "All") & fc["observed_km"].notna()]
        km_se = np.sqrt(a["model"] * (1 - a["model"]) / a["children"])
        assert ((a["observed_km"] - a["model"]).abs() < 4 * km_se).all(), a


def test_generating_source_needs_truth(region):
    frame, agreements, _ = region
    with pytest.raises(ValueError, match="truth.json"):
        CareCosting(costing(draws=2), INST, hazard_source="generating").fit(frame, agreements)


def test_hazards_handed_over_give_the_same_numbers_as_fitting_here(region):
    """Question 2 saves fitted_hazards (aggregates only) for question 3; run alone, 03 fits them itself:
    the same results either way, and what is handed over holds no child-level rows."""
    frame, agreements, _ = region
    header = HEADER["header"]
    cp = costing(draws=12, break_even_draws=2)
    handed = pickle.loads(pickle.dumps(fitted_hazards(frame, INST, header)))    # through the run cache
    alone = CareCosting(cp, INST, seed=5).fit(frame, agreements, header=header)
    after = CareCosting(cp, INST, seed=5).fit(frame, agreements, hazards=handed, header=header)
    text = lambda q: json.dumps(_plain(q.to_dict()), sort_keys=True)
    assert text(alone) == text(after)
    assert alone.notes == after.notes and any("18th birthday censored" in n for n in after.notes)
    assert alone.summary.equals(after.summary) and alone.tornado.equals(after.tornado)
    n_rows = len(frame)
    for c in handed.causes.values():
        assert set(c) == {"names", "coef", "cov", "centre", "times", "cumhaz", "eventless"}
        assert c["cov"].shape == (len(c["names"]), len(c["names"]))
        assert c["cumhaz"].shape == (len(handed.strata), len(c["times"]))
        assert not any(isinstance(v, (pd.DataFrame, pd.Series)) for v in c.values())
    assert len(handed.strata) < n_rows
