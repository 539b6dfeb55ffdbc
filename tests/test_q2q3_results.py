"""Questions 2 and 3 on the typed results contract: the results hold aggregates only (no child
identifier anywhere in them), publish() protects every table and headline they declare, a hand-made
case serialises to exactly the expected JSON, and the narrative carries the numbers it is given."""
from __future__ import annotations

import json
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rcceval.analyses.costing import text as q3text
from rcceval.analyses.costing.analysis import fitted_hazards
from rcceval.analyses.costing.params import load_costing
from rcceval.analyses.costing.result import analyse as analyse_costing
from rcceval.analyses.survival import text as q2text
from rcceval.analyses.survival.result import CoxSummary, SurvivalResult, recovery_counts
from rcceval.analyses.survival.result import analyse as analyse_survival
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.reporting.publish import CHILD_LEVEL_COLUMNS, Publisher
from rcceval.reporting.results import SUPPRESSED, Count, Estimate, Result, serialise
from rcceval.reporting.results import Test as StatTest
from rcceval.spec.instruments import load_instrument
from rcceval.synth import generate
from rcceval.synth.recovery import cox_recovery

ROOT = Path(__file__).resolve().parents[1]
INST = load_instrument(None)
THRESHOLD = 40          # high enough that the small region has hidden cells in every kind of table


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Questions 2 and 3 on one small synthetic region (question 3 on question 2's saved hazards)."""
    out = tmp_path_factory.mktemp("q23")
    truth = generate(out, scale="small", seed=7)
    reg = validate_region(read_region(out))
    placements = derive_placements(reg.c903, extract_date=reg.c903.extract_date)
    frame = analysis_frame(reg, placements, INST,
                           FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    q2 = analyse_survival(frame, reg.tables["needs_assessments"], INST, seed=3,
                          recover=lambda m: cox_recovery(m, truth))
    cp = load_costing(ROOT / "parameters" / "costing.yaml", n_domains=len(INST.domain_ids))
    cp = replace(cp, simulation=replace(cp.simulation, draws=4, break_even_draws=2), psa=replace(cp.psa, outer=4, inner=2))
    hazards = fitted_hazards(frame, INST, reg.c903.header)
    q3 = analyse_costing(frame, cp, INST, reg.tables["placement_agreements"], hazards=hazards,
                         header=reg.c903.header, seed=1)
    children = set(frame["CHILD"].astype(str))
    return q2, q3, children


def _walk(value, seen=None):
    """Every value reachable from a result: dataclass fields, mappings, sequences, frames."""
    yield value
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _walk(getattr(value, f.name))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)


def _strings(frame: pd.DataFrame) -> set[str]:
    out = {str(c) for c in frame.columns} | {str(n) for n in frame.index.names if n}
    out |= {str(v) for v in frame.index.get_level_values(0)} if len(frame) else set()
    for c in frame.columns:
        if frame[c].dtype == object or isinstance(frame[c].dtype, pd.CategoricalDtype):
            out |= set(frame[c].astype(str))
    return out


@pytest.mark.parametrize("which", [0, 1])
def test_results_hold_no_child_identifier(results, which):
    result, children = results[which], results[2]
    assert isinstance(result, Result)
    frames = [v for v in _walk(result) if isinstance(v, pd.DataFrame)]
    assert frames, "the result holds its tables"
    for frame in frames:
        assert not (_strings(frame) & CHILD_LEVEL_COLUMNS), "a child-level column in a result table"
        assert not (_strings(frame) & children), "a child identifier in a result table"
    others = {str(v) for v in _walk(result) if isinstance(v, str)}
    assert not (others & children)
    # nothing child-level under another name: no model design, fitter or per-placement rows
    assert not any(type(v).__name__ in ("Design", "CoxModel", "CoxPHFitter", "Cohort", "Journeys")
                   for v in _walk(result))


@pytest.mark.parametrize("which", [0, 1])
def test_publish_protects_every_table(results, which, tmp_path):
    result = results[which]
    pub = Publisher(tmp_path, "q", DisclosureSettings(threshold=THRESHOLD))
    shown = pub.publish(result)
    declared = result.tables()
    assert sorted(pub.tables) == sorted(declared)            # every declared table, through publish only
    hidden_somewhere = False
    for name, tab in declared.items():
        safe = pub.published[name]
        if tab.kind == "crosstab":
            values = safe.to_numpy().ravel()
        elif tab.counts:
            values = safe[list(tab.counts)].to_numpy().ravel()
        else:
            continue
        for v in values:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            assert v == SUPPRESSED or float(v) == 0 or float(v) >= THRESHOLD, (name, v)
            hidden_somewhere |= v == SUPPRESSED
        for col, of in (tab.percent_of or {}).items():      # a rate is hidden with its count
            if col in safe and of in safe:
                assert (safe.loc[safe[of].eq(SUPPRESSED), col].astype(str) == SUPPRESSED).all(), (name, col)
    assert hidden_somewhere, "the threshold hides something (the test would not test)"
    saved = json.loads(pub.save().read_text())["results"]
    assert set(saved) == set(result.headlines())
    assert saved == serialise(shown.headlines)
    assert all(shown[k] is shown.headlines[k] for k in set(shown.headlines) - shown.clashes)


def test_a_hidden_table_cell_is_hidden_in_results(results, tmp_path):
    """Headlines that are cells of a table (the grid, the by-profile costs) follow its protection."""
    q2, q3, _ = results
    pub = Publisher(tmp_path, "q2", DisclosureSettings(threshold=THRESHOLD))
    shown = pub.publish(q2)
    grid = pub.published["grid_cif_unplanned_1y"]
    for r in grid.itertuples():
        value = shown.headlines["grid_cif_unplanned_1y"][f"{r.peak_intensity} x {r.peak_frequency}"]
        assert (value == SUPPRESSED) == (r.placements == SUPPRESSED)
    assert (grid["placements"] == SUPPRESSED).any()
    pub3 = Publisher(tmp_path, "q3", DisclosureSettings(threshold=10_000))   # every profile hidden
    shown3 = pub3.publish(q3)
    assert all(v == SUPPRESSED for p in serialise(shown3["difference_per_child_year_by_profile"]).values()
               for v in p.values())
    assert serialise(shown3["children_simulated"]) == SUPPRESSED
    assert f"({SUPPRESSED} children" in q3text.headlines(q3, shown3)
    text = q3text.headlines(q3, shown3)
    assert not any(p.lower() in text for p in q3.static["profile"] if p != "All")


def _summary() -> pd.DataFrame:
    coef = np.log([2.0, 0.5])
    return pd.DataFrame({"coef": coef, "hr": [2.0, 0.5], "hr_lower": [1.5, 0.25], "hr_upper": [3.0, 1.0],
                         "se": [0.1, 0.2], "robust_se": [0.125, 0.25], "z": [5.5, -2.75], "p": [0.001, 0.04]},
                        index=pd.Index(["MISMATCH", "I_behaviour"], name="covariate"))


def _cox(**kw) -> CoxSummary:
    ph = pd.DataFrame({"statistic": [1.0, 2.0, 3.5], "df": [1, 1, 2], "p": [0.3, 0.04, 0.17],
                       "fails": [False, False, False]}, index=["MISMATCH", "I_behaviour", "GLOBAL"])
    base = dict(cause="unplanned_change", kind="placement start needs", summary=_summary(), n=120, n_events=3,
                n_clusters=80, n_strata=2, loglik=-400.25, lr_test={"statistic": 21.5, "df": 2, "p": 2e-05},
                aic=804.5, concordance=0.71, ph=ph, excluded={"no needs assessment in force": 7}, dropped=(),
                notes=("a note",))
    return CoxSummary(**(base | kw))


def test_serialise_round_trip_of_a_hand_made_model(tmp_path):
    """A hand-made Cox summary: results.json holds exactly these numbers, and the small event count
    (3 < 5) is suppressed while the others show."""
    expected = {
        "cause": "unplanned_change", "kind": "placement start needs", "n": 120, "events": 3, "children": 80,
        "strata": 2, "concordance": 0.71, "loglik": -400.25, "aic": 804.5,
        "hazard_ratios": {
            "MISMATCH": {"hr": {"value": 2.0, "lower": 1.5, "upper": 3.0, "level": 0.95}, "robust_se": 0.125,
                         "p": 0.001},
            "I_behaviour": {"hr": {"value": 0.5, "lower": 0.25, "upper": 1.0, "level": 0.95}, "robust_se": 0.25,
                            "p": 0.04}},
        "lr_test": {"statistic": 21.5, "df": 2, "p": 2e-05, "method": "likelihood ratio"},
        "ph_test": {"method": "R cox.zph, km transform; fails: Holm-adjusted p < alpha",
                    "global": {"statistic": 3.5, "df": 2, "p": 0.17,
                               "method": "R cox.zph, km transform; fails: Holm-adjusted p < alpha"},
                    "failing": [], "p_by_covariate": {"MISMATCH": 0.3, "I_behaviour": 0.04}},
        "excluded": {"no needs assessment in force": 7}, "dropped": [], "notes": ["a note"],
        "variance": "", "imputation": None}
    m = _cox()
    assert json.loads(json.dumps(serialise(m.headline()))) == expected
    pub = Publisher(tmp_path, "q", DisclosureSettings(threshold=5))
    pub.headline("main_model", m.headline())
    saved = json.loads(pub.save().read_text())["results"]["main_model"]
    assert saved == expected | {"events": SUPPRESSED}


def test_recovery_counts_of_a_hand_made_table():
    rec = pd.DataFrame({"covered": [True, False, True, False]},
                       index=pd.Index(["MISMATCH", "I_behaviour", "AGE_BAND=0-4", "FEMALE"], name="covariate"))
    assert recovery_counts(rec) == {"covered": 2, "of": 4, "needs_and_mismatch_covered": 1,
                                    "needs_and_mismatch_of": 2, "not_covered": ["I_behaviour", "FEMALE"]}


def test_survival_sentences_carry_their_numbers():
    un = {"logrank": StatTest(12.345, 2, 0.0004, "log-rank"), "robust_test": StatTest(6.78, 2, 0.0336, "robust Wald")}
    an = {"logrank": StatTest(3.21, 2, 0.2009, "log-rank")}
    t = q2text.tier_tests(un, an)
    assert "χ² = 12.3 on 2 df, p < 0.001" in t and "χ² = 6.8 on 2 df, p 0.034" in t
    assert "Any ending: log-rank χ² = 3.2, p 0.201" in t
    r = SimpleNamespace(main=_cox(n=1234, n_events=56, n_clusters=789), remedy={})
    t = q2text.model_fit(r)
    assert t.startswith("1,234 placements of 789 children in 2 council(s), 56 unplanned endings.")
    assert "**0.710**" in t and "χ² = 22 on 2 df" in t and "AIC 804" in t   # 21.5 rounds to even, 804.5 too
    t = q2text.proportional_hazards(r)
    assert t.startswith("Global test: χ² = 3.5 on 2 df, p = 0.170.") and "I_behaviour, p = 0.040" in t
    t = q2text.recovery({"covered": 24, "of": 30, "needs_and_mismatch_covered": 16, "needs_and_mismatch_of": 17,
                         "not_covered": ["FEMALE"]})
    assert t.startswith("24 of 30 intervals") and "about 1.5 misses" in t and "16 of 17" in t
    assert t.endswith("Missed: FEMALE.")


def test_survival_headline_names_mismatch_and_the_strongest_need():
    by_tier = pd.DataFrame({"profile": ["Straightforward", "Extensive and enduring"], "cif_unplanned_1y": [0.05, 0.224],
                            "median_days": [74.0, 86.0]})
    r = SimpleNamespace(by_tier=by_tier, main=_cox())
    t = q2text.headlines(r)
    assert "**22.4%** of placements of children with extensive and enduring needs" in t
    assert "against **5.0%** for straightforward needs" in t and "straightforward 74 days" in t
    assert "hazard ratio of an unplanned ending of **2.00 (1.50–3.00)**" in t and "I_behaviour 0.50 (0.25–1.00)" in t
    assert "concordance **0.71**" in t and "proportional hazards hold" in t


def test_costing_sentences_carry_their_numbers():
    be = {"status": "found", "reduction": 0.25, "factor": 0.75, "difference_per_child_at_no_cut": 1234.4,
          "difference_per_child_at_full_cut": -2000.0, "moves_averted_per_child": 0.444,
          "break_even_process_cost_per_move": 5000.0}
    t = q3text.break_even(be, 2500.0)
    assert "**25%** (hazard ratio 0.75)" in t and "£1,234 per child" in t and "−£2,000" in t
    assert "per child: 0.44" in t and "each move cost £5,000 (costing.yaml: £2,500)" in t
    t = q3text.first_check({"model": 0.0123, "data_km": 0.0456}, ("note one",))
    assert "is 0.012;" in t and "gap is 0.046." in t and t.endswith("*note one.*")
    assert q3text.interval(Estimate(10, -5, 20.5)) == "£10 (−£5 to £20)"


def test_survival_result_is_frozen(results):
    q2 = results[0]
    assert isinstance(q2, SurvivalResult)
    with pytest.raises(AttributeError):
        q2.main = None


# ---- question 3's unit-cost side on the 903 alone ----------------------------------------------------
def test_unit_cost_by_type_of_hand_made_placements():
    from rcceval.analyses.costing.unit import analyse_unit_costs
    cp = load_costing(ROOT / "parameters" / "costing.yaml", n_domains=len(INST.domain_ids))
    frame = pd.DataFrame([
        {"PLACE": "U6", "PLACE_PROVIDER": "PR1", "DURATION_DAYS": 365.25, "ENDING": "unplanned_change"},
        {"PLACE": "U6", "PLACE_PROVIDER": "PR1", "DURATION_DAYS": 730.5, "ENDING": "open"},
        {"PLACE": "U6", "PLACE_PROVIDER": "PR4", "DURATION_DAYS": 146.1, "ENDING": "planned_change"},
        {"PLACE": "U6", "PLACE_PROVIDER": "PR4", "DURATION_DAYS": 0, "ENDING": "left_care"},   # no follow-up: out
    ])
    r = analyse_unit_costs(frame, cp)
    t = r.by_type.set_index("cost_group")
    assert list(t.index) == ["in_house_foster", "ifa_foster", "All"]
    assert t["placements"].tolist() == [2, 1, 3] and t["moves"].tolist() == [1, 1, 2]
    assert t["child_years"].tolist() == pytest.approx([3.0, 0.4, 3.4])
    w1, w2, P = cp.unit_costs["in_house_foster"].value, cp.unit_costs["ifa_foster"].value, cp.process_cost.value
    wy = 365.25 / 7
    assert t.loc["in_house_foster", "placement_cost_per_child_year"] == pytest.approx(w1 * wy)
    assert t.loc["All", "placement_cost_per_child_year"] == pytest.approx((3 * w1 + 0.4 * w2) * wy / 3.4)
    assert t.loc["ifa_foster", "process_cost_per_child_year"] == pytest.approx(2.5 * P)
    assert t.loc["All", "cost_per_child_year"] == pytest.approx((3 * w1 + 0.4 * w2) * wy / 3.4 + 2 * P / 3.4)
    assert t.loc["All", "spend"] == pytest.approx((3 * w1 + 0.4 * w2) * wy + 2 * P)
    # Garwood 95% interval for 1 event: (0.025318, 5.571643) events, per 3 child-years
    assert t.loc["in_house_foster", "moves_per_child_year_lower"] == pytest.approx(0.025318 / 3, abs=1e-6)
    assert t.loc["in_house_foster", "moves_per_child_year_upper"] == pytest.approx(5.571643 / 3, abs=1e-6)
    h = r.headlines()
    assert h["moves_per_child_year"].value == pytest.approx(2 / 3.4) and h["placements_costed"] == Count(3)
    assert set(r.sources["figure"]) == {f"unit.{g}" for g in cp.unit_costs} | {"process_cost"}


def test_survival_headline_on_the_903_alone_says_association_by_placement_type():
    s = pd.DataFrame({"coef": np.log([2.5, 0.4, 1.1]), "hr": [2.5, 0.4, 1.1], "hr_lower": [1.5, 0.2, 0.9],
                      "hr_upper": [4.0, 0.8, 1.3], "se": 0.1, "robust_se": 0.1, "z": 1.0, "p": [0.001, 0.01, 0.3]},
                     index=pd.Index(["TYPE=residential", "AGE_BAND=0-4", "UASC"], name="covariate"))
    ph = pd.DataFrame({"statistic": [1.0, 1.0, 1.0, 3.0], "df": [1, 1, 1, 3], "p": [0.5, 0.5, 0.5, 0.4],
                       "fails": False}, index=[*s.index, "GLOBAL"])
    by = pd.DataFrame({"profile": ["foster", "residential", "adoption"], "cif_unplanned_1y": [0.1, 0.3, float("nan")],
                       "median_days": [120.0, 60.0, float("nan")]})
    r = SimpleNamespace(profile_name="placement type", by_tier=by, main=_cox(summary=s, ph=ph))
    t = q2text.headlines(r)
    assert t.startswith("- Within a year, **30.0%** of residential placements ended unplanned, against **10.0%** "
                        "of foster placements (cumulative incidence); median placement duration foster 120 days, "
                        "residential 60 days.")
    assert "Associated with a higher hazard of an unplanned ending" in t and "TYPE=residential 2.50 (1.50–4.00)" in t
    assert "Associated with a lower hazard: AGE_BAND=0-4 0.40 (0.20–0.80)." in t and "UASC" not in t
    assert "raise" not in t and "proportional hazards hold" in t


def test_request_only_sentence_names_both_populations():
    main = _cox(n=1000, n_events=200)
    sb = _summary().copy()
    sb.loc["SECOND_BEST"] = {"coef": 0.2, "hr": 1.22, "hr_lower": 0.9, "hr_upper": 1.65, "se": 0.1,
                             "robust_se": 0.15, "z": 1.3, "p": 0.2}
    r = SimpleNamespace(main=main, requests_only=_cox(summary=sb, n=400, n_events=90, concordance=0.7))
    t = q2text.requests_only(r)
    assert t.startswith("Sensitivity analysis on the 400 placements with a placement request (90 unplanned endings; "
                        "the main model: 1,000 placements, 200)")
    assert "Second best is associated with a hazard ratio of 1.22 (0.90–1.65)." in t
    assert "2.00 with second best in the model, 2.00 in the main model" in t
