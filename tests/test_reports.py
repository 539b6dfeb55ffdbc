"""The report runner end to end on a small synthetic region: outputs, provenance, privacy, failures."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
import yaml
from required import missing

from rcceval import params as params_mod
from rcceval.errors import ParameterError
from rcceval.reporting.runner import run

ROOT = Path(__file__).resolve().parents[1]
SEED = 7


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project's notebooks and parameters in a temporary project folder."""
    tmp = tmp_path_factory.mktemp("project")
    (tmp / "pyproject.toml").write_text("# test project\n")
    shutil.copytree(ROOT / "notebooks", tmp / "notebooks")
    (tmp / "parameters").mkdir()
    # the shipped cost file with a short PSA (20 parameter sets, not 200): the end-to-end run checks the
    # PSA's plumbing; its statistics are tested in test_costing_psa.py
    costs = (ROOT / "parameters" / "costing.yaml").read_text()
    assert "\n  outer: 200 " in costs
    (tmp / "parameters" / "costing.yaml").write_text(costs.replace("\n  outer: 200 ", "\n  outer: 20  ", 1))
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    values.update(run_name="small", synthetic={"scale": "small", "seed": SEED, "null_needs": False})
    (tmp / "parameters" / "small.yaml").write_text(yaml.safe_dump(values))
    return tmp


@pytest.fixture(scope="module")
def small_run(project):
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        first = run(project / "parameters" / "small.yaml", run_id="first")
    return project, first


@pytest.fixture(scope="module")
def second_run(small_run):
    """The same run again, from scratch (its own run id, so nothing of the first is reused)."""
    project, _ = small_run
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        return run(project / "parameters" / "small.yaml", run_id="second")


def test_run_writes_every_output(small_run):
    project, first = small_run
    out = first.run_dir
    assert first.ok, [n.error for n in first.notebooks]
    for name in params_mod.Parameters().notebooks:
        assert (out / f"{name}.ipynb").is_file() and (out / f"{name}.html").is_file()
        results = json.loads((out / name / "results.json").read_text())
        assert results["notebook"] == name and results["results"]
        for fig in results["figures"]:
            assert (out / name / "figures" / f"{fig}.png").is_file() and (out / name / "figures" / f"{fig}.svg").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    data_dir = Path(manifest["data_dir"])
    assert set(manifest["inputs_sha256"]) == {str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()}
    assert manifest["parameters"]["synthetic"]["seed"] == SEED and manifest["seed"] == 20240331
    assert manifest["versions"]["pandas"] == pd.__version__
    assert {"started", "ended", "seconds"} <= set(manifest["notebooks"][0])
    settings = manifest["settings_sha256"]
    for key, path in [("parameters", project / "parameters" / "small.yaml"),
                      ("costing", project / "parameters" / "costing.yaml")]:
        assert settings[key] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(settings) == {"parameters", "instrument", "costing"}
    index = (out / "index.html").read_text()
    assert "00_data_quality.html" in index and "FAILED" not in index and not list((project / "outputs").glob(".first.*"))


@pytest.mark.slow
def test_results_are_byte_identical_across_runs(small_run, second_run):
    _, first = small_run
    second = second_run
    for n in first.notebooks:
        a = (first.run_dir / n.name / "results.json").read_bytes()
        assert a == (second.run_dir / n.name / "results.json").read_bytes()
        for table in (first.run_dir / n.name / "tables").glob("*.csv"):
            assert table.read_bytes() == (second.run_dir / n.name / "tables" / table.name).read_bytes()


def _identifiers(data_dir: Path) -> tuple[set[str], set[str]]:
    """Every CHILD id and UPN, and every date of birth (as dd/mm/YYYY and YYYY-MM-DD), in the inputs."""
    ids, dobs = set(), set()
    for header in (data_dir / "903").rglob("header.csv"):
        h = pd.read_csv(header, dtype=str, keep_default_na=False)
        ids |= set(h["CHILD"]) | {u for u in h["UPN"] if u}
        for d in h["DOB"]:
            day = pd.Timestamp(pd.to_datetime(d, format="%d/%m/%Y"))
            dobs |= {d, day.strftime("%Y-%m-%d")}
    return ids, dobs


def test_no_child_identifier_or_date_of_birth_in_any_output(small_run):
    project, first = small_run
    manifest = json.loads((first.run_dir / "manifest.json").read_text())
    ids, dobs = _identifiers(Path(manifest["data_dir"]))
    assert len(ids) > 100
    # dates that are parameters of the run (window, year ends) may appear as such: not a date of birth leak
    p = manifest["parameters"]
    allowed = {p["analysis_start"], p["analysis_end"]} | {f"{y}-03-31" for y in range(2000, 2031)} | \
              {f"31/03/{y}" for y in range(2000, 2031)}
    scanned = 0
    for path in first.run_dir.rglob("*"):
        if not path.is_file() or path.suffix == ".png":
            continue
        text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\\n]+", "", path.read_text(errors="ignore"))
        tokens = set(re.findall(r"[A-Za-z0-9]+", text))
        leaked = tokens & ids
        assert not leaked, f"{path}: child identifiers {sorted(leaked)[:5]}"
        dates = set(re.findall(r"\d{2}/\d{2}/\d{4}|\d{4}-\d{2}-\d{2}", text)) - allowed
        assert not dates & dobs, f"{path}: dates of birth {sorted(dates & dobs)[:5]}"
        scanned += 1
    assert scanned >= 8


def test_a_failing_notebook_does_not_stop_the_others(project, tmp_path, monkeypatch):
    broken = tmp_path / "proj"
    shutil.copytree(project, broken, ignore=shutil.ignore_patterns("outputs", "data"))
    nb = jupytext.read(broken / "notebooks" / "00_data_quality.py")
    nb.cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])] + [
        nbformat.v4.new_code_cell("raise ValueError('the example failure')")]
    jupytext.write(nb, broken / "notebooks" / "99_broken.py", fmt="py:percent")
    values = yaml.safe_load((broken / "parameters" / "small.yaml").read_text())
    values.update(notebooks=["00_data_quality", "99_broken"], data_dir=str(project / "data" / "synthetic"))
    (broken / "parameters" / "small.yaml").write_text(yaml.safe_dump(values))
    monkeypatch.chdir(broken)
    outcome = run(broken / "parameters" / "small.yaml")
    assert not outcome.ok
    status = {n.name: n.ok for n in outcome.notebooks}
    assert status == {"00_data_quality": True, "99_broken": False}
    index = (outcome.run_dir / "index.html").read_text()
    assert "FAILED" in index and "ValueError: the example failure" in index
    from rcceval.cli import main
    assert main(["run", str(broken / "parameters" / "small.yaml"), "--only", "99_broken", "--run-id", "again"]) == 1


@pytest.mark.parametrize("change, key, rule", [
    ({"colour": "blue"}, "colour", "unknown key"),
    ({"strict": "yes"}, "strict", "true or false"),
    ({"disclosure": {"threshold": "five"}}, "disclosure.threshold", "whole number"),
    ({"data_source": "folder", "data_dir": "no/such/folder"}, "data_dir", "does not exist"),
    ({"notebooks": ["07_nothing"]}, "notebooks", "no such notebook"),
    ({"unplanned_reasons": ["CREQB", "NOPE"]}, "unplanned_reasons", "not a REASON_PLACE_CHANGE code"),
    ({"analysis_start": "2025-13-01"}, "analysis_start", "YYYY-MM-DD"),
    ({"power": {"target": 1.5}}, "power.target", "number from 0.5 to 0.99"),
    ({"power": {"replicates": 3}}, "power.replicates", "whole number from 10"),
    ({"costing": "parameters/no_such_costs.yaml", "notebooks": [params_mod.COSTING_NOTEBOOK]}, "costing",
     "cost parameter file not found"),
    # the one parallel setting (rcceval.parallel)
    ({"parallel": {"workers": 0}}, "parallel.workers", "must be 1 to 256 (or -1: every core)"),
    ({"parallel": {"workers": "two"}}, "parallel.workers", "must be a whole number"),
    ({"parallel": {"scheduler": "localhost:8786"}}, "parallel.scheduler", "tcp://host:port"),
    ({"parallel": {"threads": 2}}, "parallel.threads", "unknown key; allowed keys: scheduler, workers"),
    ({"parallel": 4}, "parallel", "mapping"),
    ({"analysis": {"jobs": 2}}, "analysis.jobs", "moved: write the number of workers as parallel.workers"),
])
def test_parameter_files_are_checked(tmp_path, change, key, rule):
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    values.update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(ParameterError) as err:
        params_mod.load(path, root=ROOT)
    assert err.value.key == key and rule in err.value.rule and str(path) in str(err.value)
    run_ = subprocess.run([sys.executable, "-m", "rcceval.cli", "run", str(path), "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert run_.returncode == 2 and key in run_.stderr and "Traceback" not in run_.stderr


def test_the_cost_file_is_checked_with_the_run(tmp_path):
    """--check reads costing.yaml too: a bad figure, or the generating hazard asked for on real data, stops it."""
    costs = (ROOT / "parameters" / "costing.yaml").read_text()
    bad = tmp_path / "costs.yaml"
    bad.write_text(costs.replace("hourly_staff_cost:\n    value: 30", "hourly_staff_cost:\n    value: -30", 1))
    values = yaml.safe_load((ROOT / "parameters" / "default.yaml").read_text())
    with pytest.raises(ParameterError) as err:
        params_mod.parse({**values, "costing": str(bad)}, source="p.yaml", root=ROOT)
    assert err.value.key.startswith("needs_led.hourly_staff_cost") and str(bad) in str(err.value)
    generating = tmp_path / "generating.yaml"
    generating.write_text(costs.replace("hazard_source: fitted", "hazard_source: generating", 1))
    folder = {**values, "costing": str(generating), "data_source": "folder", "data_dir": str(tmp_path)}
    with pytest.raises(ParameterError) as err:
        params_mod.parse(folder, source="p.yaml", root=ROOT)
    assert err.value.key == "simulation.hazard_source" and "synthetic" in err.value.rule
    assert params_mod.parse({**folder, "notebooks": ["00_data_quality"]}, source="p.yaml", root=ROOT).notebooks


def test_every_shipped_parameter_file_is_valid():
    for path in sorted((ROOT / "parameters").glob("*.yaml")):
        if path.name == "costing.yaml":      # cost parameters, not a run: checked by the costing tests
            continue
        p = params_mod.load(path, root=ROOT) if "folder" not in path.read_text() else \
            params_mod.parse(yaml.safe_load(path.read_text()), source=path, root=ROOT, check_paths=False)
        assert p.notebooks


def test_notebook_sources_are_jupytext_with_one_parameters_cell():
    """The .py sources are the notebooks; no .ipynb is committed (they are made at run time)."""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "notebooks"], capture_output=True, text=True)
    assert not [f for f in tracked.stdout.split() if f.endswith(".ipynb")]
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    assert len(sources) == 6
    for path in sources:
        nb = jupytext.read(path)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path


def test_notebook_parameters_cell_is_the_one_set_of_defaults():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        nb = jupytext.read(path)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        names = set(re.findall(r"^(\w+)\s*=", cell.source, flags=re.M))
        assert names == params_mod.KEYS, path
        assert cell.source.strip() == params_mod.parameter_cell(path.stem).strip(), path


def test_a_notebook_runs_alone_with_papermill(small_run, tmp_path):
    project, first = small_run
    values = yaml.safe_load((project / "parameters" / "small.yaml").read_text())
    values.update(output_dir=str(tmp_path / "alone"), data_dir=str(project / "data" / "synthetic"))
    params_file = tmp_path / "alone.yaml"
    params_file.write_text(yaml.safe_dump(values))
    papermill = Path(sys.executable).with_name("papermill")
    jupytext.write(jupytext.read(project / "notebooks" / "00_data_quality.py"), tmp_path / "in.ipynb", fmt="ipynb")
    done = subprocess.run([str(papermill), str(tmp_path / "in.ipynb"),
                           str(tmp_path / "out.ipynb"), "-f", str(params_file), "--cwd", str(project)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    alone = (tmp_path / "alone" / "00_data_quality" / "results.json").read_bytes()
    assert alone == (first.run_dir / "00_data_quality" / "results.json").read_bytes()


def _browser(tmp_path):
    """Headless Debian Chromium driven by chromedriver (both from apt: see Makefile system-deps)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        missing("chromium and chromedriver are not installed (.ci/run installs them: make system-deps)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chrome'}", "--window-size=1280,2000"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(driver))


@pytest.mark.slow
def test_index_and_reports_render_with_their_figures_in_chromium(small_run, tmp_path):
    _, first = small_run
    browser = _browser(tmp_path)
    try:
        for page, min_images in [("index.html", 2), ("00_data_quality.html", 2)]:
            browser.get((first.run_dir / page).as_uri())
            images = browser.execute_script(
                "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]);")
            assert len(images) >= min_images, page
            assert all(done and w > 50 and h > 50 for done, w, h in images), (page, images)
            text = browser.find_element("tag name", "body").text
            assert "Traceback" not in text and len(text) > 200, page
        assert "Children looked after" in text and "c" in text
    finally:
        browser.quit()


@pytest.mark.slow
def test_index_and_every_report_read_cleanly_in_chromium(small_run, tmp_path):
    """The real run's index.html: no key names, no "p 0", every figure loads, a sane height; each report:
    no "p 0", no traceback, every figure loads. Screenshots under tmp_path/screenshots."""
    from test_index_browser import P_ZERO, check_page, visible_images
    _, first = small_run
    browser = _browser(tmp_path)
    try:
        text = check_page(browser, first.run_dir / "index.html", tmp_path / "screenshots", min_images=6)
        assert "Audit passed" in text and "All reports ran" in text
        for n in first.notebooks:
            browser.get((first.run_dir / f"{n.name}.html").as_uri())
            body = browser.find_element("tag name", "body").text
            images = visible_images(browser)
            browser.save_screenshot(str(tmp_path / "screenshots" / f"{n.name}.png"))
            assert not P_ZERO.search(body), (n.name, P_ZERO.search(body))
            assert "Traceback" not in body and images, n.name
            assert all(done and w > 0 for _, done, w, _, _ in images), n.name
    finally:
        browser.quit()


@pytest.mark.slow
def test_index_and_every_report_pass_axe_with_contents_and_alt_text(small_run, tmp_path):
    """The real run's pages: axe-core finds no serious or critical violation; each report has its
    contents list, its headings in order and an alt text on every image."""
    from a11y import axe_source, blocking, violations

    from rcceval.reporting.render import heading_levels, heading_problems
    _, first = small_run
    pages = ["index.html"] + [f"{n.name}.html" for n in first.notebooks]
    for name in pages[1:]:
        page = (first.run_dir / name).read_text(encoding="utf-8")
        assert heading_problems(heading_levels(page)) == [], name
        assert '<nav aria-labelledby="contents" class="toc">' in page, name
        images = re.findall(r"<img\b[^>]*>", page)
        assert images and all(re.search(r'\salt="[^"]+"', i) for i in images), name
    source = axe_source()
    browser = _browser(tmp_path)
    try:
        found = {name: blocking(violations(browser, first.run_dir / name, source)) for name in pages}
    finally:
        browser.quit()
    assert found == {name: [] for name in pages}


def test_by_council_adds_one_report_set_per_council(small_run, monkeypatch):
    project, first = small_run
    monkeypatch.chdir(project)
    # 00 alone: the per-council split is the runner's, the same for every notebook
    outcome = run(project / "parameters" / "small.yaml", only=["00_data_quality"], by_la=True,
                  run_id="by-la", jobs=2)
    from rcceval.synth.councils import council_codes
    councils = sorted(council_codes("small"))
    assert len(councils) == 2 and outcome.ok and sorted(outcome.sub_runs) == councils
    for la, sub in outcome.sub_runs.items():
        results = json.loads((sub.run_dir / "00_data_quality" / "results.json").read_text())["results"]
        stab = pd.read_csv(sub.run_dir / "00_data_quality" / "tables" / "stability_measures.csv", dtype=str)
        assert stab["LA"].tolist() == [la, "ALL"]
        assert results["files_read"] > 0
    index = (outcome.run_dir / "index.html").read_text()
    assert all(f'href="la/{la}/00_data_quality.html"' in index for la in councils)
    regional = json.loads((first.run_dir / "00_data_quality" / "results.json").read_text())["results"]
    per_la = [json.loads((s.run_dir / "00_data_quality" / "results.json").read_text())["results"]
              for s in outcome.sub_runs.values()]
    assert sum(r["placements_in_window"] for r in per_la) == regional["placements_in_window"]


def test_html_hides_code_unless_asked(small_run, tmp_path):
    from rcceval.reporting.runner import export_html
    _, first = small_run
    executed = first.run_dir / "00_data_quality.ipynb"
    export_html(executed, tmp_path / "hidden.html", keep_code=False)
    export_html(executed, tmp_path / "code.html", keep_code=True)
    hidden, code = (tmp_path / "hidden.html").read_text(), (tmp_path / "code.html").read_text()
    assert "open_report" not in hidden and "open_report" in code
    assert "Children looked after on 31 March" in hidden


def test_notebooks_take_the_runs_validated_data_only_when_it_is_theirs(monkeypatch, tmp_path, small_run):
    import os
    import pickle
    from dataclasses import replace
    from types import SimpleNamespace

    from rcceval.reporting import report as report_mod
    assert report_mod.REGION_CACHE_ENV not in os.environ          # the run removed its cache
    params = params_mod.load(ROOT / "parameters" / "default.yaml", root=ROOT)
    path = tmp_path / "region.pickle"
    prepared = SimpleNamespace(c903=SimpleNamespace(header=pd.DataFrame({"LA": ["X1"]})), note="by the runner")
    path.write_bytes(pickle.dumps((report_mod.region_key(params), prepared)))
    monkeypatch.setenv(report_mod.REGION_CACHE_ENV, str(path))
    assert report_mod.Report(params, "00_data_quality").region.note == "by the runner"
    assert report_mod.cached_region(replace(params, strict=True)) is None
    assert report_mod.cached_region(replace(params, data_dir=str(tmp_path))) is None



def test_notebooks_publish_only_through_the_one_path():
    """Notebooks hand whole results to publish(); the publisher has no per-table or per-figure
    bypass of disclosure control left for them to call."""
    from rcceval.reporting.publish import Publisher
    allowed = {"publish", "figure", "published"}
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        source = nb.read_text()
        aliases = {"report.publish"} | set(re.findall(r"^(\w+) = report\.publish\s*$", source, re.M))
        used = {m.group(2) for a in aliases for m in re.finditer(rf"({re.escape(a)})\.(\w+)", source)}
        assert used <= allowed, f"{nb.name} calls {sorted(used - allowed)}"
    for gone in ("table", "crosstab", "model_table", "result"):
        assert not hasattr(Publisher, gone)
