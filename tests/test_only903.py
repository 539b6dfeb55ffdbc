"""Reports on the 903 alone: declared section inputs, partial reports, no traceback in any report.

The end-to-end folder is a small synthetic region with only its 903/ tree copied (no needs
assessments, provider register, placement agreements, requests or postcode lookup).
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
import yaml

from rcceval.analyses.prediction.baseline import detectable_hr
from rcceval.analyses.proposal.power903 import power_from_events
from rcceval.reporting import requires
from rcceval.reporting.index import notebook_section
from rcceval.reporting.runner import NotebookRun, run, without_tracebacks

ROOT = Path(__file__).resolve().parents[1]
ONLY = ["00_data_quality", "01_needs_predict_stability", "02_placement_survival", "03_unit_cost_vs_needs_led",
        "04_dataset_proposal", "05_sufficiency_gap"]
SKIPPED = {"00_data_quality": [], "01_needs_predict_stability": ["needs_models"],
           "02_placement_survival": ["need_profiles", "time_varying"], "03_unit_cost_vs_needs_led": ["needs_led"],
           "04_dataset_proposal": ["power_needs", "field_value", "secured"],
           "05_sufficiency_gap": ["needs_audit", "provision"]}


# ---- declarations against a hand-made folder ------------------------------------------------------
def test_available_reads_the_folder_and_the_plan_follows(tmp_path):
    (tmp_path / "903" / "LA1" / "2024").mkdir(parents=True)
    (tmp_path / "903" / "LA1" / "2024" / "episodes.csv").write_text("CHILD\n1\n")
    (tmp_path / "Needs_Assessments.CSV").write_text("x\n")
    (tmp_path / "provider_register.txt").write_text("not a dataset file\n")
    have = requires.available(tmp_path, costing=tmp_path / "no_such.yaml")
    assert have == {"903", "needs_assessments"}
    plan = {nb: [(s.name, m) for s, m in secs] for nb, secs in requires.plan(["04_dataset_proposal"], have).items()}
    assert plan == {"04_dataset_proposal": [("specification", []), ("power_903", []), ("power_needs", []),
                                            ("field_value", []), ("secured", ["placement_requests"])]}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert requires.available(empty) == set()
    assert "will not run (no 903 returns)" in requires.check_text(["00_data_quality"], set())


def test_a_synthetic_region_not_yet_generated_will_hold_every_input(tmp_path):
    assert requires.available(tmp_path / "region", synthetic=True) >= set(requires.INPUTS) - {"costing"}


def test_the_sentence_says_what_is_missing_and_where_it_goes():
    s = requires.section("05_sufficiency_gap", "provision")
    text = requires.sentence(s, requires.missing(s, {"903"}))
    assert text == ("Provision map, sufficiency gap and nearest suitable placement: not run, it needs needs "
                    "assessments and a provider register, which this data folder does not hold (put them at "
                    "needs_assessments.csv and provider_register.csv in the data folder; see data/README.md).")
    with pytest.raises(KeyError, match="declares no section 'nope'"):
        requires.section("05_sufficiency_gap", "nope")


# ---- hand-checked power figures ---------------------------------------------------------------------
def test_detectable_hr_matches_the_hand_computed_closed_form():
    # (z_0.975 + z_0.8) / sqrt(100) = (1.959964 + 0.841621) / 10 = 0.2801585; exp = 1.323340
    assert detectable_hr([100])[0] == pytest.approx(1.323340, abs=1e-5)
    # 400 events halve the log HR: exp(0.1400793) = 1.150365
    assert detectable_hr([400])[0] == pytest.approx(1.150365, abs=1e-5)
    assert math.isinf(detectable_hr([0])[0])


def test_power_from_events_adds_england_scaled_rows():
    events = pd.DataFrame([{"unit": "A", "level": "council", "years": 1, "placements": 40, "events": 10},
                           {"unit": "Region (pooled)", "level": "region", "years": 1, "placements": 100,
                            "events": 25}])
    out = power_from_events(events, scale=4.0, target=0.8, alpha=0.05, hrs=(1.2,))
    eng = out[out["level"] == "national"].iloc[0]
    assert (eng["unit"], eng["placements"], eng["events"]) == ("England (scaled)", 400, 100)
    assert eng["mdhr_per_sd"] == pytest.approx(1.323340, abs=1e-5)
    # power at HR 1.2 per SD with 100 events: Phi(log(1.2) * 10 - 1.959964) + Phi(-log(1.2)*10 - 1.959964)
    # = Phi(-0.136750) + Phi(-3.783179) = 0.445614 + 0.0000774 = 0.445691
    assert eng["power_hr_1.2"] == pytest.approx(0.445691, abs=1e-5)


# ---- one sentence instead of a traceback ------------------------------------------------------------
def test_error_outputs_become_one_sentence_and_the_cell():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("frame['covariate']")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="before\n"),
                    nbformat.v4.new_output("error", ename="KeyError", evalue="\"None of ['covariate']\"\nmore",
                                           traceback=["Traceback (most recent call last)", "  File x"])]
    nb.cells = [cell]
    clean = without_tracebacks(nb)
    assert cell.outputs[1]["output_type"] == "error"   # the notebook itself keeps its traceback
    outs = clean.cells[0].outputs
    assert [o["output_type"] for o in outs] == ["stream", "display_data"]
    text = outs[1]["data"]["text/markdown"]
    assert "Traceback" not in text and "KeyError: \"None of ['covariate']\")" in text and "more" not in text
    assert "    frame['covariate']" in text and ".ipynb" in text


def test_index_marks_a_report_with_skipped_sections_partial(tmp_path):
    skipped = [{"section": "provision", "title": "t", "missing": ["provider_register"], "sentence": "Provision: not run."}]
    html = notebook_section(NotebookRun("05_sufficiency_gap", ok=True, skipped=skipped), tmp_path)
    assert '<span class="partial">partial</span>' in html and "Provision: not run." in html and "FAILED" not in html
    assert NotebookRun("x", ok=False, skipped=skipped).status == "failed"
    assert NotebookRun("x", ok=True).status == "ok"


# ---- end to end on a 903-only folder ----------------------------------------------------------------
@pytest.fixture(scope="module")
def only903(tmp_path_factory):
    from rcceval.synth import generate

    tmp = tmp_path_factory.mktemp("only903")
    generate(tmp / "region", scale="small", seed=7)
    shutil.copytree(tmp / "region" / "903", tmp / "data" / "903")   # the 903 returns and nothing else
    project = tmp / "project"
    (project / "parameters").mkdir(parents=True)
    (project / "pyproject.toml").write_text("# test project\n")
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    shutil.copy(ROOT / "parameters" / "costing.yaml", project / "parameters" / "costing.yaml")
    nb = jupytext.read(project / "notebooks" / "00_data_quality.py")
    nb.cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])] + [
        nbformat.v4.new_code_cell("x = {}\nx['covariate']")]
    jupytext.write(nb, project / "notebooks" / "99_broken.py", fmt="py:percent")
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    values.update(run_name="only903", data_source="folder", data_dir=str(tmp / "data"), notebooks=ONLY + ["99_broken"],
                  analysis={**values["analysis"], "bootstrap": 20}, power={**values["power"], "replicates": 10})
    (project / "parameters" / "only903.yaml").write_text(yaml.safe_dump(values))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        outcome = run(project / "parameters" / "only903.yaml", jobs=2)
    return project, outcome


def test_every_report_on_the_903_alone_ends_ok_or_partial_saying_what_is_missing(only903):
    _, outcome = only903
    runs = {n.name: n for n in outcome.notebooks}
    for name in ONLY:
        n = runs[name]
        assert n.ok, n.error
        assert [s["section"] for s in n.skipped] == SKIPPED[name]
        assert n.status == ("partial" if SKIPPED[name] else "ok")
        html = (outcome.run_dir / f"{name}.html").read_text()
        for s in n.skipped:
            assert "not run, it needs" in s["sentence"] and "data/README.md" in s["sentence"]
            assert s["sentence"].split(":")[0] in html
    index = (outcome.run_dir / "index.html").read_text()
    assert index.count('<span class="partial">partial</span>') == 5 and index.count('class="failed">FAILED') == 1


def test_the_903_only_content_is_there(only903):
    _, outcome = only903
    r01 = json.loads((outcome.run_dir / "01_needs_predict_stability" / "results.json").read_text())["results"]
    assert 0.5 < r01["baseline_auc"]["value"] < 1 and r01["baseline_auc"]["lower"] < r01["baseline_auc"]["value"]
    mdhr = r01["mdhr_per_sd_needs_score_80%_power"]
    assert list(mdhr) == [f"{k} years" for k in range(1, 6)] and mdhr["1 years"] > mdhr["5 years"] > 1
    r04 = json.loads((outcome.run_dir / "04_dataset_proposal" / "results.json").read_text())["results"]
    pooled = r04["mdhr_per_sd_80%_power_903"]["Region (pooled)"]
    assert pooled["1 years"] > pooled["5 years"] > 1
    assert r04["mdhr_per_sd_80%_power_903"]["England (scaled)"]["1 years"] < pooled["1 years"]
    r05 = json.loads((outcome.run_dir / "05_sufficiency_gap" / "results.json").read_text())["results"]
    demand = r05["forecast_demand"]["all"]     # one profile on the 903 alone: all children looked after
    assert demand
    assert all(v["lower"] <= v["value"] <= v["upper"] for v in demand.values())


def test_question_2_on_the_903_alone_models_the_903_profile(only903):
    _, outcome = only903
    r02 = json.loads((outcome.run_dir / "02_placement_survival" / "results.json").read_text())["results"]
    assert r02["profile"] == "placement type"
    hr = r02["main_model"]["hazard_ratios"]
    assert not any(c.startswith(("I_", "F_")) or c == "MISMATCH" for c in hr)
    # question 1's baseline, where the 903 has it: age, type, legal status, previous placements, need, UASC
    for prefix in ("AGE_BAND=", "TYPE=", "LEGAL=", "PREV_BAND=", "CIN_START="):
        assert any(c.startswith(prefix) for c in hr), prefix
    assert {"CARE_ORDER", "FIRST_IN_PERIOD", "UASC"} <= set(hr)
    assert all(v["hr"]["lower"] < v["hr"]["value"] < v["hr"]["upper"] for v in hr.values())
    assert r02["main_model"]["ph_test"]["method"].startswith("R cox.zph, km transform")
    cif = r02["cif_unplanned_1y_by_placement_type"]
    assert "foster" in cif and 0 < cif["foster"]["value"] < 1
    assert "median_days_to_unplanned_net_of_competing_endings_by_placement_type" in r02
    html = (outcome.run_dir / "02_placement_survival.html").read_text()
    assert "One-year figures by what the 903 holds" in html and "age band" in html


def test_question_3_on_the_903_alone_costs_placements_and_moves(only903):
    _, outcome = only903
    r03 = json.loads((outcome.run_dir / "03_unit_cost_vs_needs_led" / "results.json").read_text())["results"]
    assert r03["process_cost_per_child_year"] > 0 and r03["unit_cost_per_child_year"] > r03["process_cost_per_child_year"]
    assert 0 < r03["process_cost_share"] < 1
    m = r03["moves_per_child_year"]
    assert m["lower"] < m["value"] < m["upper"]
    assert "difference_per_child_year" not in r03          # the needs-led side is skipped, not guessed
    html = (outcome.run_dir / "03_unit_cost_vs_needs_led.html").read_text()
    assert "Cost per child-year by placement type" in html and "process cost of moves" in html


def test_no_traceback_in_any_report_and_the_notebook_keeps_it(only903):
    _, outcome = only903
    for html in outcome.run_dir.glob("*.html"):
        assert "Traceback" not in html.read_text(), html.name
    broken = (outcome.run_dir / "99_broken.html").read_text()
    assert "stopped on an unexpected error (KeyError: &#x27;covariate&#x27;)" in broken or \
        "stopped on an unexpected error (KeyError: 'covariate')" in broken
    assert "Traceback" in (outcome.run_dir / "99_broken.ipynb").read_text()


def test_run_check_lists_the_sections_of_each_report(only903, capsys):
    from rcceval.cli import main

    project, _ = only903
    params = project / "parameters" / "only903.yaml"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        assert main(["run", str(params), "--check"]) == 0
    out = capsys.readouterr().out
    assert "inputs found: 903, costing" in out
    assert "  01_needs_predict_stability: partial\n" in out and "  00_data_quality: runs in full\n" in out
    assert "    runs    The 903 baseline model (M0): cross-validated AUC and calibration\n" in out
    assert "    skipped Provision map, sufficiency gap and nearest suitable placement  (needs needs_assessments, " \
           "provider_register)\n" in out
    assert "  02_placement_survival: partial\n" in out and "  03_unit_cost_vs_needs_led: partial\n" in out
    assert "    skipped Needs re-scored at reviews  (needs needs_assessments)\n" in out
    assert "    runs    Cost per child-year by placement type and the process cost of moves\n" in out
    assert "  99_broken: sections not declared yet" in out
