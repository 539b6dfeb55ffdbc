"""Run the report notebooks with papermill: outputs with provenance, one folder a run.

`run(params_file)` checks the parameters, makes sure the data is there (generating the synthetic
region on first use), executes each notebook in the project's own Python (a kernel spec made for
the run, not registered anywhere global), exports HTML (code hidden unless keep_code), and writes
manifest.json (parameters, input hashes, versions, commit, seed, timings) and index.html. A
notebook that fails does not stop the others; the run then exits non-zero and index.html shows
the failing cell's error. A report whose sections lacked an input (reporting/requires.py) is
"partial", not failed. The HTML never shows a traceback: an error output becomes one sentence and
the cell (without_tracebacks); the .ipynb keeps the traceback. One run a name at a time (a lock beside the folder); everything is
written into a hidden `.<run>.partial-<pid>/` and swapped in only when complete, and an
interrupted run removes it, so the previous results stay intact (see rundir.py).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from rcceval import params as params_mod
from rcceval.reporting import audit as disclosure_audit
from rcceval.reporting import rundir
from rcceval.reporting.index import write_index
from rcceval.reporting.report import REGION_CACHE_ENV, RUN_CACHE_ENV, SECTIONS_FILE, ensure_data, region_key

KERNEL_NAME = "rcceval-project"
KERNEL_WARNINGS = "ignore::DeprecationWarning,ignore::PendingDeprecationWarning,ignore::FutureWarning"
PACKAGES = ("rcceval", "pandas", "numpy", "scipy", "statsmodels", "lifelines", "matplotlib", "seaborn",
            "papermill", "nbconvert", "nbformat", "frictionless", "joblib", "pyyaml")


@dataclass
class NotebookRun:
    name: str
    ok: bool = False
    seconds: float = 0.0
    started: str = ""
    ended: str = ""
    error: str = ""
    results: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)   # sections not run for want of an input (requires.py)

    @property
    def status(self) -> str:
        """ok, partial (ran, some sections skipped for want of an input) or failed."""
        return "failed" if not self.ok else ("partial" if self.skipped else "ok")


@dataclass
class RunOutcome:
    run_dir: Path
    notebooks: list[NotebookRun]
    sub_runs: dict[str, "RunOutcome"] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(n.ok for n in self.notebooks) and all(s.ok for s in self.sub_runs.values())


@contextlib.contextmanager
def project_kernel():
    """A kernel spec for this interpreter, visible to this process only (JUPYTER_PATH)."""
    with tempfile.TemporaryDirectory(prefix="rcceval-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        (spec_dir / "kernel.json").write_text(json.dumps({
            # errors only from the kernel itself; library deprecation noise filtered out of the reports
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--Application.log_level=40"],
            "env": {"PYTHONWARNINGS": KERNEL_WARNINGS},
            "display_name": "rcceval (project environment)", "language": "python"}))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = tmp + (os.pathsep + old if old else "")
        try:
            yield KERNEL_NAME
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(data_dir: Path) -> dict[str, str]:
    """SHA-256 of every input file, by path relative to the data folder."""
    return {str(p.relative_to(data_dir)): sha256(p) for p in sorted(data_dir.rglob("*")) if p.is_file()}


def settings_hashes(params: params_mod.Parameters) -> dict[str, str]:
    """SHA-256 of the files that configure a run besides the data: the parameter file, the needs
    instrument and the cost parameters (a costing figure changed is a different run)."""
    from rcceval.spec.instruments import instrument_file

    files = {"parameters": Path(str(params.source)), "instrument": instrument_file(params.instrument),
             "costing": Path(params.costing)}
    return {k: sha256(p) for k, p in files.items() if p.is_file()}


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def region_cache(params: params_mod.Parameters):
    """Read and validate the run's data once for all its notebooks (each would otherwise take ~13 s at
    region scale to do it again). The validated tables go to a pickle in a private temporary folder,
    named to the notebooks' kernels by REGION_CACHE_ENV and deleted when the run ends, so no child-level
    data is left behind. Data that fails validation is not cached: each notebook then stops with the
    problem list as it would alone."""
    from rcceval.ingest.load import read_region
    from rcceval.ingest.validate import validate_region

    with tempfile.TemporaryDirectory(prefix="rcceval-cache-") as tmp:
        path = Path(tmp) / "region.pickle"
        (Path(tmp) / "run").mkdir()
        old_run = os.environ.get(RUN_CACHE_ENV)
        os.environ[RUN_CACHE_ENV] = str(Path(tmp) / "run")
        try:
            region = validate_region(read_region(params.data_path), strict=params.strict)
        except Exception:  # noqa: BLE001 - the notebooks report the problem themselves
            region = None
        old = os.environ.get(REGION_CACHE_ENV)
        if region is not None:
            with open(path, "wb") as handle:
                pickle.dump((region_key(params), region), handle, protocol=pickle.HIGHEST_PROTOCOL)
            del region
            os.environ[REGION_CACHE_ENV] = str(path)
        try:
            yield
        finally:
            for name, value in ((REGION_CACHE_ENV, old), (RUN_CACHE_ENV, old_run)):
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def execute_notebook(name: str, params: params_mod.Parameters, run_dir: Path, root: Path, kernel: str) -> NotebookRun:
    """Execute one notebook into run_dir and export its HTML; failures are caught and described."""
    import papermill as pm

    record = NotebookRun(name=name, started=_now())
    t0 = time.perf_counter()
    source = root / params_mod.NOTEBOOK_DIR_NAME / f"{name}.py"
    target = run_dir / f"{name}.ipynb"
    injected = {**params.to_dict(), "output_dir": str(run_dir)}
    try:
        blank = to_ipynb(source, run_dir / f".{name}.source.ipynb")
        pm.execute_notebook(str(blank), str(target), parameters=injected, kernel_name=kernel, cwd=str(root),
                            progress_bar=False, log_output=False, request_save_on_cell_execute=False)
        record.ok = True
    except pm.PapermillExecutionError as exc:
        record.error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - a broken notebook must not stop the others
        record.error = f"{type(exc).__name__}: {exc}"
    (run_dir / f".{name}.source.ipynb").unlink(missing_ok=True)
    if target.exists():
        export_html(target, run_dir / f"{name}.html", keep_code=params.keep_code)
    results = run_dir / name / "results.json"
    if results.is_file():
        record.results = json.loads(results.read_text())["results"]
    sections = run_dir / name / SECTIONS_FILE
    if sections.is_file():
        record.skipped = json.loads(sections.read_text())["skipped"]
    record.seconds = round(time.perf_counter() - t0, 2)
    record.ended = _now()
    return record


def to_ipynb(source: Path, target: Path) -> Path:
    """The notebook papermill runs, made from its jupytext source (the .py is what is reviewed)."""
    import jupytext

    jupytext.write(jupytext.read(str(source)), str(target), fmt="ipynb")
    return target


def error_sentence(ename: str, evalue: str) -> str:
    """One plain sentence for an unexpected error (its first line; the traceback stays in the .ipynb)."""
    first = (str(evalue).strip().splitlines() or [""])[0].strip()
    return (f"This part of the report stopped on an unexpected error ({ename}: {first}). The rest of the report "
            f"after it did not run; the full traceback is kept in the notebook (.ipynb) beside this report.")


def without_tracebacks(nb):
    """A copy of an executed notebook whose error outputs are one sentence and the failing cell's code
    (the HTML is read by people who need no Python traceback; the .ipynb keeps it for whoever fixes it)."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                outputs.append(out)
                continue
            code = "\n".join("    " + line for line in str(cell.get("source", "")).splitlines())
            text = f"**{error_sentence(out.get('ename', 'Error'), out.get('evalue', ''))}**\n\nThe cell:\n\n{code}\n"
            outputs.append(nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": text}))
        cell["outputs"] = outputs
    return nb


def export_html(notebook: Path, html_path: Path, keep_code: bool) -> None:
    """HTML of an executed notebook (reporting/render.py: contents, alt text on every figure); code
    cells hidden unless keep_code (academics)."""
    import nbformat

    from rcceval.reporting.render import render_html

    body = render_html(without_tracebacks(nbformat.read(str(notebook), as_version=4)), keep_code=keep_code)
    html_path.write_text(body, encoding="utf-8")


# Notebooks that read what another saved (reuse instead of refits): each starts once those it
# depends on have finished, when they are part of the same run.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "03_unit_cost_vs_needs_led": ("02_placement_survival",),
    "04_dataset_proposal": ("01_needs_predict_stability",),
}


def _ready(name: str, finished, names: list[str]) -> bool:
    """True once every notebook `name` depends on has finished or is not part of this run."""
    return all(d in finished or d not in names for d in DEPENDS_ON.get(name, ()))


def _order(names: list[str]) -> list[str]:
    """Names with every dependency ahead of its dependants (stable otherwise)."""
    done: list[str] = []
    pending = list(names)
    while pending:
        ready = [n for n in pending if _ready(n, done, names)]
        done += ready[:1]
        pending.remove(ready[0])
    return done


def outcome_line(n: NotebookRun) -> str:
    """How a notebook ended, in a few words: done, partial (sections skipped) or failed with the reason."""
    if not n.ok:
        return f"failed after {n.seconds:.0f} s: {(n.error.splitlines() or ['no error recorded'])[0]}"
    skipped = f" (partial: {len(n.skipped)} section{'s' if len(n.skipped) != 1 else ''} skipped)" if n.skipped else ""
    return f"done in {n.seconds:.0f} s{skipped}"


def progress(label: str, name: str, what: str) -> None:
    """One line a notebook event, flushed at once, terminal or not (make report, CI logs)."""
    print(f"{label}: {name} {what}", flush=True)


def _run_set(params: params_mod.Parameters, run_dir: Path, root: Path, kernel: str, jobs: int,
             label: str) -> list[NotebookRun]:
    """Run the notebooks as a graph: up to `jobs` at once, each after those it depends on."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    run_dir.mkdir(parents=True, exist_ok=True)
    names = _order(list(params.notebooks))
    runs: list[NotebookRun] = []
    finished: set[str] = set()
    running: dict = {}
    waiting = list(names)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        while waiting or running:
            for name in [n for n in waiting if _ready(n, finished, names)]:
                if len(running) >= max(1, jobs):
                    break
                waiting.remove(name)
                running[pool.submit(execute_notebook, name, params, run_dir, root, kernel)] = name
                progress(label, name, "started")
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                finished.add(running.pop(future))
                runs.append(future.result())
                progress(label, runs[-1].name, outcome_line(runs[-1]))
    except BaseException:  # interrupted: stop the kernels so the worker threads end at once
        logging.disable(logging.CRITICAL)  # no "Kernel died" noise from the killed kernels
        rundir.stop_children()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return sorted(runs, key=lambda r: r.name)


def run(params_file: str | Path, only: list[str] | None = None, by_la: bool = False, jobs: int = 1,
        keep_code: bool | None = None, run_id: str | None = None) -> RunOutcome:
    """Run the report set of a parameter file into outputs/<run-id>/ (see module docstring)."""
    root = params_mod.project_root()
    params = params_mod.load(params_file, root=root)
    if only:
        params = replace(params, notebooks=tuple(only))
        params_mod.parse({**params.to_dict(), "notebooks": list(only)}, source=params.source, root=root)
    if keep_code is not None:
        params = replace(params, keep_code=keep_code)
    data_dir = ensure_data(params)
    run_id = run_id or params.run_name
    outputs = root / "outputs"
    rundir.check_outputs(outputs)
    with rundir.run_lock(outputs, run_id):
        work = rundir.work_dir(outputs, run_id)
        try:
            outcome = _run_into(params, data_dir, root, run_id, work, by_la, jobs)
            disclosure_audit.refuse_failed(outcome)     # a failed audit publishes nothing of the run
            final = outputs / run_id
            rundir.publish(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return RunOutcome(final, outcome.notebooks,
                      {la: RunOutcome(final / "la" / la, s.notebooks) for la, s in outcome.sub_runs.items()})


def _run_into(params: params_mod.Parameters, data_dir: Path, root: Path, run_id: str, work: Path, by_la: bool,
              jobs: int) -> RunOutcome:
    """Everything of a run written into the work folder: notebooks, manifest, index."""
    started = _now()
    t0 = time.perf_counter()
    with project_kernel() as kernel, region_cache(params):
        notebooks = _run_set(params, work, root, kernel, jobs, run_id)
        subs = {}
        if by_la:
            from rcceval.ingest.load import find_903_files, find_903_root
            councils = sorted({la for _, _, la, _ in find_903_files(find_903_root(data_dir)) if la})
            if params.councils != "all":
                councils = [c for c in councils if c in params.councils]
            for la in councils:
                sub_params = replace(params, councils=(la,))
                sub_dir = work / "la" / la
                subs[la] = RunOutcome(sub_dir, _run_set(sub_params, sub_dir, root, kernel, jobs, la))
    outcome = RunOutcome(work, notebooks, subs)
    manifest = {
        "run_id": run_id, "parameters_file": str(params.source), "parameters": params.to_dict(),
        "seed": params.seed, "data_dir": str(data_dir), "inputs_sha256": input_hashes(data_dir),
        "settings_sha256": settings_hashes(params),
        "versions": versions(), "git_commit": git_commit(root), "started": started, "ended": _now(),
        "seconds": round(time.perf_counter() - t0, 2),
        "notebooks": [vars(n) | {"results": None} for n in notebooks],
        "by_la": {la: [vars(n) | {"results": None} for n in s.notebooks] for la, s in subs.items()},
    }
    d = params.disclosure
    manifest["disclosure"] = disclosure_audit.manifest_section(
        work, notebooks, subs, disclosure_audit.DisclosureSettings(d.threshold, d.round_to, d.suppress_zero),
        manifest["seconds"])
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    write_index(outcome, work, run_id, params)
    return outcome
