"""Run parameters: one YAML file says what data, which councils and years, which reports.

Every report gets its parameters from here, so a parameter file is checked once, before anything
runs, with errors that name the file, the key, the value and the rule. Papermill injects the same
top-level keys into each notebook's `parameters` cell; the notebook hands them back to
`from_namespace`, so a notebook run on its own is checked the same way.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rcceval.checking import Checker
from rcceval.errors import ParameterError
from rcceval.parallel import ParallelSetting, scheduler_problem, workers_problem
from rcceval.spec import codes
from rcceval.synth.params import SCALES

NOTEBOOK_DIR_NAME = "notebooks"
DATA_SOURCES = ("synthetic", "folder")
COSTING_NOTEBOOK = "03_unit_cost_vs_needs_led"
ALL_NOTEBOOKS = ("00_data_quality", "01_needs_predict_stability", "02_placement_survival", COSTING_NOTEBOOK,
                 "04_dataset_proposal", "05_sufficiency_gap")


def project_root(start: Path | None = None) -> Path:
    """The rcceval project folder (holding pyproject.toml and parameters/), else the current one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "parameters").is_dir():
            return folder
    return here


@dataclass(frozen=True)
class Synthetic:
    scale: str = "region"
    seed: int = 20240331
    null_needs: bool = False


@dataclass(frozen=True)
class Disclosure:
    threshold: int = 5
    round_to: int | None = None
    suppress_zero: bool = False


@dataclass(frozen=True)
class Analysis:
    """Settings shared by the model reports (questions 1 and 2, and those built on them)."""

    lookback_days: int = 183       # needs assessment in force: the latest within this many days before a start
    horizon_days: int = 365        # unplanned ending within this horizon (question 1)
    folds: int = 5                 # cross-validation folds, grouped by child
    bootstrap: int = 200           # bootstrap replicates, resampling children


@dataclass(frozen=True)
class Power:
    """Settings of the dataset-proposal report (power and minimum detectable effects)."""

    replicates: int = 200          # simulated-power replicates per sample size
    target: float = 0.8            # power at which the minimum detectable hazard ratio is read
    alpha: float = 0.05            # two-sided significance level of the tests powered


@dataclass(frozen=True)
class Parameters:
    """Everything a run needs. Paths are absolute once resolved against the project root."""

    run_name: str = "default"
    data_source: str = "synthetic"
    data_dir: str = "data/synthetic"
    synthetic: Synthetic = field(default_factory=Synthetic)
    councils: tuple[str, ...] | str = "all"
    analysis_start: str = "2019-04-01"
    analysis_end: str = "2025-03-31"
    extract_date: str | None = None
    unplanned_reasons: tuple[str, ...] = tuple(sorted(codes.DEFAULT_UNPLANNED_REASONS))
    strict: bool = False
    disclosure: Disclosure = field(default_factory=Disclosure)
    analysis: Analysis = field(default_factory=Analysis)
    power: Power = field(default_factory=Power)
    parallel: ParallelSetting = field(default_factory=ParallelSetting)   # every parallel step (rcceval.parallel)
    costing: str = "parameters/costing.yaml"   # cost parameters of question 3 (checked by costing_params)
    seed: int = 20240331
    notebooks: tuple[str, ...] = ALL_NOTEBOOKS
    instrument: str = "rcceval-open-v1"
    keep_code: bool = False
    output_dir: str | None = None
    source: str = "<defaults>"

    def to_dict(self) -> dict[str, Any]:
        """Plain values as they would be written in a parameter file (for papermill and the manifest)."""
        out = asdict(self)
        out.pop("source")
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    @property
    def data_path(self) -> Path:
        """The folder read: for the synthetic region, one sub-folder per scale, seed and mode."""
        if self.data_source == "folder":
            return Path(self.data_dir)
        s = self.synthetic
        return Path(self.data_dir) / f"{s.scale}-seed{s.seed}{'-null' if s.null_needs else ''}"

    def council_list(self, available: list[str]) -> list[str]:
        return sorted(available) if self.councils == "all" else [c for c in self.councils]


KEYS = {f for f in Parameters.__dataclass_fields__ if f != "source"}


def _date(check: Checker, value: object, key: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        check.fail(key, value, "must be a date written YYYY-MM-DD")


def _bool(check: Checker, value: object, key: str) -> bool:
    if not isinstance(value, bool):
        check.fail(key, value, "must be true or false")
    return value


def _choice(check: Checker, value: object, key: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        check.fail(key, value, f"must be one of {', '.join(choices)}")
    return value


def _text_list(check: Checker, value: object, key: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        check.fail(key, value, "must be a list of text values")
    return tuple(value)


def parse(values: dict, source: str | Path = "<parameters>", root: Path | None = None,
          check_paths: bool = True) -> Parameters:
    """Check parsed parameter values and build Parameters (ParameterError on the first problem)."""
    check = Checker(Path(str(source)))
    check.mapping(values, "", KEYS)
    out: dict[str, Any] = {"source": str(source)}
    d = Parameters()
    out["run_name"] = check.text(values.get("run_name", d.run_name), "run_name")
    if not out["run_name"].replace("-", "").replace("_", "").isalnum():
        check.fail("run_name", out["run_name"], "letters, digits, '-' and '_' only (it names the output folder)")
    out["data_source"] = _choice(check, values.get("data_source", d.data_source), "data_source", DATA_SOURCES)
    syn = values.get("synthetic", {}) or {}
    check.mapping(syn, "synthetic", set(Synthetic.__dataclass_fields__))
    s = Synthetic()
    out["synthetic"] = Synthetic(
        scale=_choice(check, syn.get("scale", s.scale), "synthetic.scale", SCALES),
        seed=check.integer(syn.get("seed", s.seed), "synthetic.seed", 0, 2**32 - 1),
        null_needs=_bool(check, syn.get("null_needs", s.null_needs), "synthetic.null_needs"))
    root = root or project_root()
    data_dir = Path(check.text(values.get("data_dir", d.data_dir), "data_dir"))
    data_dir = data_dir if data_dir.is_absolute() else root / data_dir
    if check_paths and out["data_source"] == "folder" and not data_dir.is_dir():
        check.fail("data_dir", str(data_dir), "folder does not exist")
    out["data_dir"] = str(data_dir)
    councils = values.get("councils", d.councils)
    out["councils"] = "all" if councils == "all" else _text_list(check, councils, "councils")
    out["analysis_start"] = _date(check, values.get("analysis_start", d.analysis_start), "analysis_start")
    out["analysis_end"] = _date(check, values.get("analysis_end", d.analysis_end), "analysis_end")
    if out["analysis_end"] <= out["analysis_start"]:
        check.fail("analysis_end", out["analysis_end"], "must be after analysis_start")
    out["extract_date"] = _date(check, values.get("extract_date", d.extract_date), "extract_date", optional=True)
    reasons = _text_list(check, values.get("unplanned_reasons", list(d.unplanned_reasons)), "unplanned_reasons")
    known = set(_reason_codes())
    for code in reasons:
        if code not in known:
            check.fail("unplanned_reasons", code, f"not a REASON_PLACE_CHANGE code ({', '.join(sorted(known))})")
    out["unplanned_reasons"] = tuple(sorted(set(reasons)))
    out["strict"] = _bool(check, values.get("strict", d.strict), "strict")
    dis = values.get("disclosure", {}) or {}
    check.mapping(dis, "disclosure", set(Disclosure.__dataclass_fields__))
    round_to = dis.get("round_to")
    out["disclosure"] = Disclosure(
        threshold=check.integer(dis.get("threshold", 5), "disclosure.threshold", 1, 1000),
        round_to=None if round_to is None else check.integer(round_to, "disclosure.round_to", 1, 1000),
        suppress_zero=_bool(check, dis.get("suppress_zero", False), "disclosure.suppress_zero"))
    an = values.get("analysis", {}) or {}
    if isinstance(an, dict) and "jobs" in an:
        check.fail("analysis.jobs", an["jobs"], "moved: write the number of workers as parallel.workers "
                                                "(one setting for every parallel step)")
    check.mapping(an, "analysis", set(Analysis.__dataclass_fields__))
    a = Analysis()
    out["analysis"] = Analysis(
        lookback_days=check.integer(an.get("lookback_days", a.lookback_days), "analysis.lookback_days", 0, 3650),
        horizon_days=check.integer(an.get("horizon_days", a.horizon_days), "analysis.horizon_days", 1, 3650),
        folds=check.integer(an.get("folds", a.folds), "analysis.folds", 2, 20),
        bootstrap=check.integer(an.get("bootstrap", a.bootstrap), "analysis.bootstrap", 0, 100_000))
    out["parallel"] = _parallel(check, values.get("parallel", {}) or {})
    pw = values.get("power", {}) or {}
    check.mapping(pw, "power", set(Power.__dataclass_fields__))
    w = Power()
    out["power"] = Power(
        replicates=check.integer(pw.get("replicates", w.replicates), "power.replicates", 10, 100_000),
        target=check.number(pw.get("target", w.target), "power.target", 0.5, 0.99),
        alpha=check.number(pw.get("alpha", w.alpha), "power.alpha", 0.001, 0.2))
    costing = Path(check.text(values.get("costing", d.costing), "costing"))
    costing = costing if costing.is_absolute() else root / costing
    out["costing"] = str(costing)
    out["seed"] = check.integer(values.get("seed", d.seed), "seed", 0, 2**32 - 1)
    notebooks = _text_list(check, values.get("notebooks", list(d.notebooks)), "notebooks")
    available = available_notebooks(root)
    for name in notebooks:
        if check_paths and name not in available:
            check.fail("notebooks", name, f"no such notebook in {root / NOTEBOOK_DIR_NAME} "
                                          f"(available: {', '.join(available)})")
    out["notebooks"] = notebooks
    out["instrument"] = check.text(values.get("instrument", d.instrument), "instrument")
    out["keep_code"] = _bool(check, values.get("keep_code", d.keep_code), "keep_code")
    output_dir = values.get("output_dir")
    out["output_dir"] = None if output_dir is None else check.text(output_dir, "output_dir")
    if check_paths and COSTING_NOTEBOOK in notebooks:
        _check_costing(check, costing, out)
    return Parameters(**out)


def _parallel(check: Checker, values: object) -> ParallelSetting:
    """parallel: {workers, scheduler}; a scheduler address needs dask.distributed installed."""
    check.mapping(values, "parallel", set(ParallelSetting.__dataclass_fields__))
    d = ParallelSetting()
    workers, scheduler = values.get("workers", d.workers), values.get("scheduler", d.scheduler)
    problem = workers_problem(workers)
    if problem:
        check.fail("parallel.workers", workers, problem.removeprefix("workers "))
    problem = scheduler_problem(scheduler)
    if problem:
        check.fail("parallel.scheduler", scheduler, problem)
    if scheduler is not None:
        import importlib.util
        if importlib.util.find_spec("distributed") is None:
            check.fail("parallel.scheduler", scheduler, "a scheduler needs dask.distributed: "
                                                        "pip install 'rcceval[dask]'")
    return ParallelSetting(workers=workers, scheduler=scheduler)


def _check_costing(check: Checker, path: Path, out: dict) -> None:
    """The cost parameter file exists and is valid (its own checks name its keys), and asks for the
    generating hazard only where there is one (the synthetic region's truth.json)."""
    if not path.is_file():
        check.fail("costing", str(path), f"cost parameter file not found ({COSTING_NOTEBOOK} needs it)")
    from rcceval.analyses.costing.params import load_costing
    from rcceval.spec.instruments import load_instrument
    costs = load_costing(path, n_domains=len(load_instrument(out["instrument"]).domain_ids))
    if costs.simulation.hazard_source == "generating" and out["data_source"] != "synthetic":
        raise ParameterError(path, "simulation.hazard_source", "generating",
                             "the generating hazard exists only for synthetic data (data_source: synthetic); use fitted")


def _reason_codes() -> list[str]:
    from rcceval.spec.datasets import load_schema
    field_ = next(f for f in load_schema("episodes")["fields"] if f["name"] == "REASON_PLACE_CHANGE")
    return list(field_["constraints"]["enum"])


def available_notebooks(root: Path) -> list[str]:
    folder = root / NOTEBOOK_DIR_NAME
    return sorted(p.stem for p in folder.glob("[0-9][0-9]_*.py")) if folder.is_dir() else []


def _bad_yaml_date(text: str) -> tuple[str, str, int]:
    """The first key whose value looks like a YYYY-MM-DD date but is not one (for the error)."""
    import datetime as dt
    import re
    for number, line in enumerate(text.splitlines(), start=1):
        m = re.match(r"^\s*([\w.-]+)\s*:\s*['\"]?(\d{4})-(\d{1,2})-(\d{1,2})\b", line)
        if m:
            try:
                dt.date(int(m[2]), int(m[3]), int(m[4]))
            except ValueError:
                return m[1], f"{m[2]}-{m[3]}-{m[4]}", number
    return "<file>", "", 0


def load(path: str | Path, overrides: dict | None = None, root: Path | None = None) -> Parameters:
    """Read and check a parameter file (YAML)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(path, "<file>", str(path), "parameter file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(path, "<file>", None, f"not UTF-8 text (byte {exc.start})") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParameterError(path, "<file>", None, f"not valid YAML: {exc}") from None
    except ValueError:  # YAML reads 2019-13-45 as a date and fails: name the key and line
        key, value, line = _bad_yaml_date(text)
        raise ParameterError(path, key, value, f"line {line}: not a date (YYYY-MM-DD)") from None
    if values is None:
        raise ParameterError(path, "<file>", "", "the parameter file is empty (copy parameters/default.yaml to start)")
    if not isinstance(values, dict):
        raise ParameterError(path, "<file>", values, "must be a mapping of keys to values")
    values.update(overrides or {})
    return parse(values, source=path, root=root)


def from_namespace(namespace: dict, source: str = "<notebook parameters>") -> Parameters:
    """Parameters from a notebook's variables (those papermill injected, or the cell's defaults)."""
    return parse({k: namespace[k] for k in KEYS if k in namespace}, source=source)


def parameter_cell(notebook: str) -> str:
    """The parameters cell of a notebook, generated from the one set of defaults above.

    Every notebook carries the same cell (so each runs alone with papermill); a test checks
    the cells against this, and `python -m rcceval.params --sync` rewrites them.
    """
    values = {**Parameters().to_dict(), "notebooks": [notebook]}
    lines = ["# Parameters: papermill replaces these (rcceval run, or papermill -f parameters/default.yaml)"]
    lines += [f"{key} = {value!r}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def sync_notebooks(folder: Path) -> list[Path]:
    """Rewrite each jupytext source's parameters cell from parameter_cell(); returns files changed."""
    import jupytext

    changed = []
    for path in sorted(folder.glob("[0-9][0-9]_*.py")):
        nb = jupytext.read(path)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        fresh = parameter_cell(path.stem)
        if cell.source.strip() != fresh.strip():
            cell.source = fresh.strip()
            jupytext.write(nb, path, fmt="py:percent")
            changed.append(path)
    return changed


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--sync"]:
        for changed in sync_notebooks(Path(__file__).resolve().parents[2] / NOTEBOOK_DIR_NAME):
            print(f"rewrote the parameters cell of {changed}")
