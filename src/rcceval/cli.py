"""`rcceval` command line: validate, derive placements, stability, run the reports, PDF, schemas, synthetic data.

Every command reports bad input as a clear message (file, row, column, value, rule) and exits
non-zero; it never shows a Python traceback for a data or parameter problem.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import pandas as pd

from rcceval.errors import DataValidationError, ParameterError
from rcceval.spec import codes
from rcceval.synth.params import SCALES


def load_clean(data_dir: str, strict: bool = False):
    """Load and validate the 903 returns of a data folder (raises DataValidationError)."""
    from rcceval.ingest.load import find_903_root, read_903
    from rcceval.ingest.validate import validate_903
    return validate_903(read_903(find_903_root(Path(data_dir))), strict=strict)


def positive_jobs(text: str) -> int:
    """--jobs: a whole number of workers, at least 1 (joblib's -1 'all cores' is also accepted)."""
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs {text!r}: not a whole number") from None
    if jobs == 0 or jobs < -1:
        raise argparse.ArgumentTypeError(f"--jobs {text}: the number of workers must be 1 or more (or -1: every core)")
    return jobs


def scheduler_address(text: str) -> str:
    """--scheduler: a Dask scheduler address, checked as the parameter file's parallel.scheduler is."""
    from rcceval.parallel import scheduler_problem
    problem = scheduler_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"--scheduler {text!r}: {problem.removeprefix('must be null or ')}")
    return text


def cmd_validate(args: argparse.Namespace) -> int:
    from rcceval.ingest.load import read_region
    from rcceval.ingest.validate import validate_region
    region = read_region(Path(args.data_dir))
    if not args.no_dfe:
        from rcceval.ingest.dfe_rules import merge_dfe
        from rcceval.ingest.load import find_903_root
        from rcceval.parallel import ParallelSetting
        workers = ParallelSetting(workers=args.jobs, scheduler=args.scheduler)
        merge_dfe(region.returns.problems, find_903_root(Path(args.data_dir)), jobs=workers)
    report = validate_region(region, strict=args.strict, raise_on_stop=False).report
    print(report.summary(limit=args.limit))
    out = Path(args.out) if args.out else None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        report.to_csv(out)
        print(f"full list: {out}")
    return 1 if report.stops else 0


def cmd_placements(args: argparse.Namespace) -> int:
    from rcceval.derive.placements import derive_placements, distance_measures
    clean = load_clean(args.data_dir, strict=args.strict)
    unplanned = args.unplanned.split(",") if args.unplanned else codes.DEFAULT_UNPLANNED_REASONS
    out = Path(args.out)
    if out.suffix.lower() not in OUT_FORMATS:
        raise ParameterError("--out", "out", str(out), f"unknown file type {out.suffix or '(none)'!r}: "
                             f"use {', '.join(OUT_FORMATS)}")
    if out.is_dir():
        raise ParameterError("--out", "out", str(out), "is a folder: give a file name")
    placements = derive_placements(clean, extract_date=args.extract_date, unplanned_reasons=unplanned)
    placements = placements.join(distance_measures(placements))  # DfE distance; outside council / region
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        if out.suffix.lower() == ".parquet":
            placements.to_parquet(tmp, index=False)
        elif out.suffix.lower() == ".xlsx":
            _write_workbook(placements, tmp)
        else:
            placements.to_csv(tmp, index=False, date_format="%Y-%m-%d")
        tmp.replace(out)  # nothing half-written under the real name
    finally:
        tmp.unlink(missing_ok=True)
    print(f"{len(placements)} placements of {placements[['LA', 'CHILD']].drop_duplicates().shape[0]} children "
          f"-> {out}")
    return 0


OUT_FORMATS = (".csv", ".parquet", ".xlsx")
EXCEL_MAX_ROWS = 1_048_576


def _write_workbook(table: pd.DataFrame, path: Path) -> None:
    """A real Excel workbook (openpyxl), dates as dates; refused if the sheet cannot hold the rows."""
    if len(table) + 1 > EXCEL_MAX_ROWS:
        raise ParameterError("--out", "out", str(path.with_suffix(".xlsx")),
                             f"{len(table)} rows do not fit an Excel sheet ({EXCEL_MAX_ROWS - 1} at most): "
                             "write .csv or .parquet")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="placements", index=False)


def cmd_stability(args: argparse.Namespace) -> int:
    from rcceval.derive.placements import stability_measures
    clean = load_clean(args.data_dir, strict=args.strict)
    year = args.year or (clean.extract_date.year if clean.extract_date is not None else None)
    if year is None:
        raise ParameterError("--year", "year", None, "no collection year found in the data; give --year")
    table = stability_measures(clean, int(year))
    for line in refuse_without_history(table, clean, int(year), args.data_dir):
        print(line)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(1).to_string(index=False))
    return 0


HISTORY = {  # measure columns -> the collection years before `year` whose returns they need
    ("cla_two_years", "n_3plus_two_years", "pct_3plus_two_years"): ("3+ placements over two years", 1),
    ("long_term_denominator", "long_term_stable", "pct_long_term_stable"): ("long-term stability", 2),
}


def refuse_without_history(table: pd.DataFrame, clean, year: int, data_dir: str) -> list[str]:
    """Blank the measures whose history a council's returns do not cover; one line for each.

    A return holds the episodes open in its year only: placements and periods of care that ended
    before it are missing, so a two-year count from one return is an undercount, not a figure.
    """
    from rcceval.ingest.load import find_903_files, find_903_root
    on_disk = [(la, y) for _, _, la, y in find_903_files(find_903_root(Path(data_dir))) if la and y]
    frames = [clean.header, clean.episodes, clean.short_breaks, clean.oc2]  # stacked files: LA, YEAR columns
    held = pd.concat([f[["LA", "YEAR"]] for f in frames if "YEAR" in f.columns] +
                     [pd.DataFrame(on_disk, columns=["LA", "YEAR"])], ignore_index=True).dropna()
    years = held.groupby("LA")["YEAR"].agg(lambda y: set(int(v) for v in y))
    lines = []
    for cols, (what, back) in HISTORY.items():
        need = set(range(year - back, year + 1))
        short = [la for la in table["LA"] if la != "ALL" and not need <= years.get(la, set())]
        if not short:
            continue
        table.loc[table["LA"].isin([*short, "ALL"]), list(cols)] = float("nan")
        for la in short:
            missing = ", ".join(f"{y - 1}-{y % 100:02d}" for y in sorted(need - years.get(la, set())))
            lines.append(f"{la}: {what} for {year - 1}-{year % 100:02d} not computed: it needs the return(s) of "
                         f"{missing} as well (stability.no-history)")
    return lines


def cmd_schema(args: argparse.Namespace) -> int:
    from rcceval.spec.datadict import write_docs
    docs = Path(args.docs)
    if docs.exists() and not docs.is_dir():
        raise ParameterError("--docs", "docs", str(docs), "is a file: --docs takes a folder (datapackage.json and the "
                             "data dictionary are written into it)")
    written = write_docs(docs)
    for path in written:
        print(path)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from rcceval.synth import generate
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError("--out", "out", str(out), "is a file: synth writes a data folder")
    held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if held and not args.force:
        raise ParameterError("--out", "out", str(out), f"already holds data ({', '.join(held[:4])}"
                             f"{'...' if len(held) > 4 else ''}): give --force to replace it, or another folder")
    truth = generate(Path(args.out), scale=args.scale, seed=args.seed, null_needs=args.null_needs)
    print(f"synthetic region ({args.scale}, seed {args.seed}{', null needs' if args.null_needs else ''}) "
          f"-> {args.out} ({len(truth.get('councils', []))} councils)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from rcceval import params as params_mod
    if args.check:
        from rcceval.reporting import requires
        p = params_mod.load(args.params)
        if args.only:   # checked as `run --only` checks them (an unknown name is a parameter problem)
            p = params_mod.parse({**p.to_dict(), "notebooks": list(args.only)}, source=p.source)
        names = list(p.notebooks)
        print(f"{args.params}: parameters OK (data: {p.data_source} {p.data_path}; notebooks: {', '.join(names)})")
        have = requires.available(p.data_path, p.costing, synthetic=p.data_source == "synthetic")
        print(f"inputs found: {', '.join(i for i in requires.INPUTS if i in have) or 'none'}")
        print(requires.check_text(names, have))
        return 0
    from rcceval.reporting.runner import run
    outcome = run(args.params, only=args.only, by_la=args.by_la, jobs=args.jobs,
                  keep_code=True if args.keep_code else None, run_id=args.run_id)
    for n in outcome.notebooks:
        status = {"ok": "ok", "partial": "partial", "failed": "FAILED"}[n.status]
        skipped = f"  (not run: {', '.join(s['section'] for s in n.skipped)})" if n.skipped else ""
        print(f"  {n.name:32} {status} ({n.seconds:.1f} s){'  ' + n.error if n.error else ''}{skipped}")
    for la, sub in outcome.sub_runs.items():
        failed = [n.name for n in sub.notebooks if not n.ok]
        print(f"  {la:32} {'ok' if not failed else 'FAILED: ' + ', '.join(failed)}")
    print(f"index: {outcome.run_dir / 'index.html'}")
    return 0 if outcome.ok else 1


def cmd_pdf(args: argparse.Namespace) -> int:
    from rcceval.reporting.pdf import BrowserMissing, print_run
    try:
        written = print_run(Path(args.run_dir), reports=args.reports, out=Path(args.out) if args.out else None)
    except BrowserMissing as exc:
        print(f"rcceval pdf: {exc}", file=sys.stderr)
        return 2
    for pdf in written:
        print(f"pdf: {pdf}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rcceval", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def data_cmd(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("data_dir", help="data folder (holding 903/ or the 903 returns themselves)")
        p.add_argument("--strict", action="store_true", help="stop on fixable problems too")
        return p

    p = data_cmd("validate", "check 903 returns; exit 1 on fatal problems")
    p.add_argument("--out", help="write every problem to this CSV")
    p.add_argument("--limit", type=int, default=20, help="problems printed (default 20)")
    p.add_argument("--no-dfe", action="store_true", help="skip the DfE rules (csc-validator-be-903)")
    p.add_argument("--jobs", type=positive_jobs, default=1, help="council-years validated in parallel (DfE rules)")
    p.add_argument("--scheduler", type=scheduler_address, default=None, metavar="tcp://HOST:PORT",
                   help="run the DfE rules on this Dask scheduler instead (pip install 'rcceval[dask]')")
    p.set_defaults(func=cmd_validate)
    p = data_cmd("placements", "derive the placements table")
    p.add_argument("--out", required=True, help="CSV, or parquet or an Excel workbook (.xlsx) by extension")
    p.add_argument("--extract-date", help="censoring date (default: 31 March of the latest return)")
    p.add_argument("--unplanned", help="comma-separated REASON_PLACE_CHANGE codes counted as unplanned")
    p.set_defaults(func=cmd_placements)
    p = data_cmd("stability", "DfE placement stability measures for a year ending 31 March")
    p.add_argument("--year", type=int, help="collection year (default: the latest)")
    p.set_defaults(func=cmd_stability)
    p = sub.add_parser("run", help="run the report notebooks of a parameter file")
    p.add_argument("params", nargs="?", default="parameters/default.yaml", help="parameter file (YAML)")
    p.add_argument("--only", action="append", metavar="NAME", help="run only this notebook (repeatable)")
    p.add_argument("--by", dest="by", choices=["la"], help="also one report set per council")
    p.add_argument("--jobs", type=positive_jobs, default=1, help="notebooks run at once")
    p.add_argument("--keep-code", action="store_true", help="keep code cells in the HTML (academics)")
    p.add_argument("--run-id", help="output folder name (default: the run_name parameter)")
    p.add_argument("--check", action="store_true",
                   help="only check the parameter file and list, per report, what will and will not run on the data")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("pdf", help="print a run's index.html (and its reports) to PDF with headless Chromium")
    p.add_argument("run_dir", help="a run folder that `rcceval run` wrote (outputs/<run>/)")
    p.add_argument("--reports", action="store_true", help="each report too (NAME.pdf beside NAME.html)")
    p.add_argument("--out", metavar="DIR", help="write the PDFs here (default: the run folder)")
    p.set_defaults(func=cmd_pdf)
    p = sub.add_parser("schema", help="publish the dataset specifications")
    p.add_argument("--docs", required=True, metavar="DIR", help="write datapackage.json and the data dictionary here")
    p.set_defaults(func=cmd_schema)
    p = sub.add_parser("synth", help="generate the synthetic region")
    p.add_argument("--out", default="data/synthetic")
    p.add_argument("--scale", choices=list(SCALES), default="region")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--null-needs", action="store_true", help="needs and mismatch have no effect on endings")
    p.add_argument("--force", action="store_true", help="replace a data folder that already exists")
    p.set_defaults(func=cmd_synth)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "by", None):
        args.by_la = True
    elif args.command == "run":
        args.by_la = False
    from rcceval.reporting.audit import AuditError
    from rcceval.reporting.rundir import Interrupted, RunFolderError

    def on_sigterm(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    in_main = threading.current_thread() is threading.main_thread()  # signals can only be set there
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main else None
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("rcceval: interrupted (SIGINT); no partial results left, previous results intact", file=sys.stderr)
        return 130
    except Interrupted:
        print("rcceval: stopped (SIGTERM); no partial results left, previous results intact", file=sys.stderr)
        return 143
    except RunFolderError as exc:
        print(f"rcceval: {exc}", file=sys.stderr)
        return 2
    except AuditError as exc:
        print(f"rcceval: disclosure audit failed, nothing published: {exc}", file=sys.stderr)
        return 3
    except DataValidationError as exc:
        print("The data cannot be analysed as it is:", file=sys.stderr)
        print(exc.report.summary(), file=sys.stderr)
        return 1
    except ParameterError as exc:
        print(f"Parameter problem: {exc}", file=sys.stderr)
        return 2
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)  # main() called in-process leaves no handler behind


if __name__ == "__main__":
    sys.exit(main())
