"""The DfE's 903 validation rules, run through the sector's own validator (csc-validator-be-903).

Why a separate environment: that package pins pandas<2 and numpy<1.25, which rcceval cannot
share. So, like pre-commit with its hooks, rcceval makes a venv of its own on first use (python3.11,
the pinned dfe_env/requirements.txt), under $XDG_CACHE_HOME/rcceval/dfe-validator-<hash> (or
$RCCEVAL_DFE_ENV), locked while it is made. Each council-year is validated in a subprocess of that
venv with its previous year's return: CSV files in (the validator's exact columns), JSON out
(rule, table, row positions), mapped back here to the source file and spreadsheet row.

Rule set: the collection year's (lac2023_24 for the year ending 31 March 2024); years before
2022-23 use lac2022_23, years after 2026-27 use lac2026_27 (the oldest and newest the package has).
A rule that crashes on the data is reported as `dfe.not-run` (a warning), never fatal.

Severities (SEVERITY below; any rule not listed is a warning):

| rule | severity | why |
|------|----------|-----|
| 102 | fatal | DOB not a valid date: ages, and so every analysis, cannot be placed in time |
| 141, 147 | fatal | DECOM / DEC not a valid date: the episode has no usable span |
| 143, 144, 146, 149 | fatal | RNE, LS, PLACE, REC not a code of that year's list: placements, care periods and endings cannot be derived |
| 142 | fixable | an episode starts while the previous is open: closed at the next DECOM (rcceval `episode.open-followed`) |
| 356 | fixable | DEC before DECOM: the episode is dropped (rcceval `episode.dec-before-decom`) |
| any other | warning | reported, nothing changed (e.g. 101 SEX, 392c postcode, 435/436 RNE, 546 health check) |

Known faults of the package (0.1.17): a stale LA lookup (rules on LA from postcodes are unreliable),
a case problem in K3, some rules crash on some data (reported as not run), and one blank DECOM
disables about 15 rules for that council-year.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd

from rcceval import parallel
from rcceval.ingest.load import find_903_files, read_text_table
from rcceval.ingest.problems import COLUMNS, Problem, ProblemLog
from rcceval.parallel import Workers

SEVERITY: dict[str, str] = {
    "102": "fatal", "141": "fatal", "147": "fatal", "143": "fatal", "144": "fatal", "146": "fatal",
    "149": "fatal", "142": "fixable", "356": "fixable",
}
FIXES: dict[str, str] = {  # the rcceval cleaning rule that applies
    "142": "closed at the next DECOM (episode.open-followed)",
    "356": "episode dropped (episode.dec-before-decom)",
}
TABLES = {  # validator table -> (rcceval file kind, its exact columns)
    "Header": ("header", ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]),
    "Episodes": ("episodes", ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                              "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]),
    "OC2": ("oc2", ["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
                    "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED",
                    "INTERVENTION_OFFERED"]),
    "UASC": ("uasc", ["CHILD", "SEX", "DOB", "DUC"]),
}
DERIVED = {  # columns the validator derives from postcodes, blamed on the postcodes they come from
    "PL_LA": ["PL_POST"], "PL_LOCATION": ["PL_POST"], "PL_DISTANCE": ["HOME_POST", "PL_POST"],
}
KIND_TABLE = {kind: table for table, (kind, _) in TABLES.items()}
FIRST_SET, LAST_SET = 2023, 2027
DEFAULT_LA_CODE = "E09000027"  # the package's own example; folders named by an E-code use theirs
_ECODE = re.compile(r"^E\d{8}$")


class DfeEnvError(RuntimeError):
    """The validator's environment could not be made or run."""


def severity(rule: str) -> str:
    """Severity of a DfE rule (code without the `dfe.` prefix): warning unless listed."""
    return SEVERITY.get(rule, "warning")


def ruleset_for(year: int) -> str:
    """Rule set of a collection year (year ending 31 March), clamped to those the package has."""
    y = min(max(int(year), FIRST_SET), LAST_SET)
    return f"lac{y - 1}_{y % 100:02d}"


def requirements_text() -> str:
    return resources.files("rcceval.ingest.dfe_env").joinpath("requirements.txt").read_text()


def env_dir() -> Path:
    """Where the venv lives: $RCCEVAL_DFE_ENV, else the cache folder named by the requirements' hash."""
    if os.environ.get("RCCEVAL_DFE_ENV"):
        return Path(os.environ["RCCEVAL_DFE_ENV"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(requirements_text().encode()).hexdigest()[:12]
    return cache / "rcceval" / f"dfe-validator-{digest}"


def ensure_env() -> Path:
    """The venv's python, making the venv first if needed (locked against concurrent runs)."""
    env = env_dir()
    python = env / "bin" / "python"
    done = env / ".rcceval-complete"
    if done.exists():
        return python
    if os.environ.get("RCCEVAL_DFE_ENV") and python.exists():  # a venv of the user's own: used, never rebuilt
        check = subprocess.run([str(python), "-c", "import lac_validator"], check=False, capture_output=True)
        if check.returncode == 0:
            return python
        raise DfeEnvError(f"{env} (RCCEVAL_DFE_ENV) is a venv without csc-validator-be-903")
    base = os.environ.get("RCCEVAL_DFE_PYTHON", "python3.11")
    try:
        env.parent.mkdir(parents=True, exist_ok=True)
        with open(env.parent / f"{env.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if done.exists():
                return python
            req = env.parent / f"{env.name}.requirements.txt"
            req.write_text(requirements_text())
            for cmd in ([base, "-m", "venv", "--clear", str(env)],
                        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(req)]):
                run = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1800)
                if run.returncode:
                    last = (run.stderr.strip().splitlines() or [f"exit code {run.returncode}"])[-1]
                    raise DfeEnvError(f"{' '.join(cmd[:3])}: {last}")
            done.write_text(requirements_text())
    except (OSError, subprocess.SubprocessError) as exc:
        raise DfeEnvError(str(exc)) from exc
    return python


def council_years(root: Path) -> dict[tuple[str, int], dict[str, Path]]:
    """{(LA, year): {kind: path}} for the four files the DfE rules read."""
    out: dict[tuple[str, int], dict[str, Path]] = {}
    for kind, path, la, year in find_903_files(Path(root)):
        if kind in KIND_TABLE and year is not None:
            out.setdefault((la or "LA", year), {})[kind] = path
    return out


# SEX changed coding in 2024-25 (1/2 -> M/F, spec/codes.py): the previous year's return is read in this
# year's coding, or rule 202 (sex differs from last year) would flag every child at the change.
SEX_TO_LETTERS = {"1": "M", "2": "F"}


def _write_inputs(files: dict[str, Path], folder: Path, tag: str,
                  sex_letters: bool = False) -> tuple[list[str], dict[str, pd.DataFrame]]:
    """The validator's columns of each file as text CSV; the provenance (_file/_row) of each position."""
    paths, provenance = [], {}
    for kind, path in files.items():
        table = KIND_TABLE[kind]
        columns = TABLES[table][1]
        frame = read_text_table(path, ProblemLog(), kind)
        if frame is None:
            continue
        for col in columns:
            if col not in frame.columns:
                frame[col] = ""
        if sex_letters and "SEX" in frame.columns:
            frame = frame.assign(SEX=frame["SEX"].replace(SEX_TO_LETTERS))
        out = folder / f"{tag}_{kind}.csv"
        frame[columns].to_csv(out, index=False)
        paths.append(str(out))
        provenance[table] = frame.reset_index(drop=True)
    return paths, provenance


# The DfE code-list rules whose list rcceval also keeps by collection year (spec/codes.py): where the
# validator rejects a code that year's guidance allows (its K3 check, for one), rcceval's list wins and
# the finding is a warning, so a valid code is never fatal.
CODE_LIST_RULES: dict[str, tuple[str, str]] = {"146": ("episodes", "PLACE"), "149": ("episodes", "REC")}


def valid_sex_letters(year: int) -> bool:
    """True when the collection year codes SEX as M/F (spec/codes.py)."""
    from rcceval.spec import codes as code_lists
    return any((lo or 0) <= year <= (hi or 9999) and "M" in cs for lo, hi, cs in code_lists.CODES_BY_YEAR[("header", "SEX")])


def _valid_by_rcceval(code: str, rows: pd.DataFrame, year: int) -> pd.Series:
    from rcceval.spec import codes as code_lists

    if code not in CODE_LIST_RULES or CODE_LIST_RULES[code][1] not in rows.columns:
        return pd.Series(False, index=rows.index)
    dataset, field = CODE_LIST_RULES[code]
    years = pd.Series(year, index=rows.index)
    return code_lists.valid_in_year(rows[field].astype(str).str.strip(), years, dataset, field)


def la_code(la: str) -> str:
    """The ONS code the validator is given: the folder's, read as DfE code, ONS code or name, else a default."""
    from rcceval.spec.authorities import ons_code
    found = ons_code(pd.Series([la])).iloc[0]
    return found if found else (la if _ECODE.match(la) else DEFAULT_LA_CODE)


def run_council_year(la: str, year: int, files: dict[str, Path], prev: dict[str, Path] | None,
                     python: Path) -> pd.DataFrame:
    """DfE findings of one council-year, as rows of the problem list."""
    log = ProblemLog()
    with tempfile.TemporaryDirectory(prefix="rcceval-dfe-") as tmp:
        folder = Path(tmp)
        this_paths, this_prov = _write_inputs(files, folder, "this")
        letters = bool(valid_sex_letters(year))
        prev_paths, prev_prov = _write_inputs(prev or {}, folder, "prev", sex_letters=letters)
        if "Episodes" not in this_prov:
            return log.frame()
        spec = folder / "spec.json"
        spec.write_text(json.dumps({"ruleset": ruleset_for(year), "collection_year": str(year),
                                    "la": la_code(la),
                                    "this_year": this_paths, "prev_year": prev_paths,
                                    "out": str(folder / "result.json")}))
        runner = resources.files("rcceval.ingest.dfe_env").joinpath("runner.py")
        run = subprocess.run([str(python), str(runner), str(spec)], check=False, capture_output=True, text=True,
                             cwd=tmp, env={**os.environ, "PYTHONPATH": ""})
        where = str(files["episodes"].parent)
        if run.returncode:
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            log.add(Problem("warning", "dfe.not-run", where, LA=la, message=f"DfE rules could not run: {last}"))
            return log.frame()
        result = json.loads((folder / "result.json").read_text())
    for fail in result["failed"]:
        log.add(Problem("warning", "dfe.not-run", where, LA=la, value=fail["rule"],
                        message=f"DfE rule {fail['rule']} ({ruleset_for(year)}) could not run: {fail['error']}"))
    for finding in result["findings"]:
        code, table = finding["rule"], finding["table"]
        base = table.removesuffix("_last")
        prov = (prev_prov if table.endswith("_last") else this_prov).get(base)
        if prov is None:
            continue
        rows = prov.iloc[[r for r in finding["rows"] if 0 <= r < len(prov)]].copy()
        rows["LA"] = la
        info = result["rules"].get(code, {})
        named = [c for f in info.get("fields", []) for c in DERIVED.get(f, [f])]
        fields = [f for f in dict.fromkeys(named) if f in rows.columns]
        message = f"DfE rule {code} ({ruleset_for(year)}): {info.get('message', '')}"
        accepted = _valid_by_rcceval(code, rows, year)
        for part, level, text in ((rows[~accepted], severity(code), message),
                                  (rows[accepted], "warning", message + " (a valid code of that collection year in "
                                   "rcceval's code list, which follows the DfE guidance: kept, not fatal)")):
            if part.empty:
                continue
            values = part[fields].astype(str).agg(",".join, axis=1) if fields else None
            log.add_rows(part, level, f"dfe.{code}", ",".join(fields), text, values=values, fix=FIXES.get(code, ""))
    return log.frame()


def dfe_problems(root: str | Path, jobs: Workers = 1) -> ProblemLog:
    """Every DfE finding below a 903 folder, each council-year with its previous year (in parallel:
    `jobs` workers or the run's ParallelSetting; the list is in council-year order whatever runs them).

    Raises DfeEnvError if the validator's environment cannot be made.
    """
    from joblib import delayed

    python = ensure_env()
    found = council_years(Path(root))
    frames = parallel.run((delayed(run_council_year)(la, year, files, found.get((la, year - 1)), python)
                           for (la, year), files in sorted(found.items())), jobs)
    log = ProblemLog()
    frames = [f for f in frames if len(f)]
    if frames:
        merged = pd.concat(frames, ignore_index=True)[COLUMNS]
        log._chunks.append(merged.drop_duplicates(["rule", "file", "row", "column"]))
    return log


def merge_dfe(log: ProblemLog, root: str | Path, jobs: Workers = 1, out=sys.stdout) -> None:
    """Add the DfE findings to a problem list; if the validator cannot be installed, one line and go on."""
    try:
        log.extend(dfe_problems(root, jobs=jobs))
    except DfeEnvError as exc:
        print(f"DfE rules skipped: the validator's environment could not be made ({exc})", file=out)
