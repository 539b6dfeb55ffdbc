"""Read input files into typed tables, tolerant of real-world CSV/Excel quirks.

load knows file layouts and formats, never statistics. It reads every cell as text, keeps where
each row came from (file, row number as a spreadsheet shows it), types columns by the dataset
specification and records every cell it could not read as a problem instead of stopping: the
validator reports them all at once.

SSDA903 returns are read from a folder: one sub-folder per council and year holding the DfE
file names (header.csv, episodes.csv, oc2.csv, uasc.csv: any case, with or without a year
prefix such as 2019-episodes.csv, CSV or Excel), or stacked files carrying LA and/or YEAR
columns. Several annual returns are stacked and de-duplicated: an episode open on 31 March is
reported again in the next return, and the later return wins.
"""
from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from rcceval.ingest.problems import Problem, ProblemLog
from rcceval.spec import datasets as specs

FILE_KINDS = ("header", "episodes", "oc2", "uasc")
# Inputs beside the 903 folder, each optional: <data dir>/<name>.csv (or .xlsx), any case.
OTHER_DATASETS = ("needs_assessments", "provider_register", "placement_agreements", "placement_requests",
                  "postcode_lookup")
_FILE_RE = re.compile(
    r"^(?:(?P<year>(?:19|20)\d{2}(?:[-_]\d{2})?)[-_ ])?(?P<kind>header|episodes|oc2|uasc)\.(?P<ext>csv|xlsx|xlsm|xls)$",
    re.IGNORECASE,
)
_YEAR_DIR_RE = re.compile(r"^(?P<start>(?:19|20)\d{2})(?:[-_/](?P<end>\d{2}|\d{4}))?$")
PROVENANCE = ["_file", "_row"]
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%y")
MAX_HEADER_BYTES = 64 * 1024  # a header line longer than this is not a header line
_SLASH_DATE = r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/\d{2,4}$"


@dataclass
class Table:
    """One dataset read from one or more files: typed columns plus _file/_row provenance."""

    name: str
    frame: pd.DataFrame
    files: list[Path] = field(default_factory=list)


@dataclass
class Returns903:
    """The stacked, de-duplicated 903 tables of a region, with the problems met while reading."""

    header: pd.DataFrame
    episodes: pd.DataFrame
    oc2: pd.DataFrame
    uasc: pd.DataFrame
    files: list[Path]
    problems: ProblemLog
    collection_years: list[int]

    @property
    def extract_date(self) -> pd.Timestamp | None:
        """31 March of the latest collection year read: the default censoring date."""
        if not self.collection_years:
            return None
        return pd.Timestamp(year=max(self.collection_years), month=3, day=31)


def year_from_dir(name: str) -> int | None:
    """Collection year (year ending 31 March) from a folder name: '2024', '2023-24', '2023_2024'."""
    m = _YEAR_DIR_RE.match(name.strip())
    if not m:
        return None
    start = int(m["start"])
    return start + 1 if m["end"] else start


def find_903_files(root: Path) -> list[tuple[str, Path, str | None, int | None]]:
    """(kind, path, LA from folders, year from file name or folders) for every 903 file below root."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        m = _FILE_RE.match(path.name)
        if not m:
            continue
        parts = path.relative_to(root).parts[:-1]
        years = [y for y in (year_from_dir(p) for p in parts) if y is not None]
        others = [p for p in parts if year_from_dir(p) is None]
        year = year_from_dir(m["year"]) if m["year"] else (years[-1] if years else None)
        la = others[-1] if others else None
        found.append((m["kind"].lower(), path, la, year))
    return found


def _normalise_header(name: object) -> str:
    text = str(name).replace("\ufeff", "").strip().upper()
    return re.sub(r"\s+", "_", text)


def read_text_table(path: Path, log: ProblemLog, dataset: str) -> pd.DataFrame | None:
    """Read a CSV or Excel file as text cells with normalised headers; None (and a problem) if unreadable."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = path.read_bytes()
            if not raw.strip():
                log.add(Problem("fatal", "file.empty", str(path), message=f"{dataset} file is empty"))
                return None
            if raw[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
                log.add(Problem("fatal", "file.excel-named-csv", str(path),
                                message=f"this is an Excel workbook with a .csv name: save the {dataset} file as 'CSV UTF-8'"))
                return None
            first_line = raw.split(b"\n", 1)[0]
            if len(first_line) > MAX_HEADER_BYTES:
                ends = b"\n" in raw or b"\r" in raw
                log.add(Problem("fatal", "file.no-line-ends", str(path), row=1,
                                message=(f"the first line is {len(first_line):,} bytes long" if ends else
                                         f"no line ends found in {len(raw):,} bytes") +
                                ": this is not a CSV file as a spreadsheet saves it (one header line, then one row a line)"))
                return None
            for sep, name in ((b";", ";"), (b"\t", "tab")):
                if sep in first_line and b"," not in first_line:
                    log.add(Problem("fatal", "file.delimiter", str(path), row=1,
                                    message=f"the file looks {name}-delimited: save the {dataset} file comma-separated"))
                    return None
            try:
                raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                log.add(Problem("fatal", "file.encoding", str(path), value=repr(raw[exc.start:exc.start + 4]),
                                message=f"not UTF-8 text (byte {exc.start}): save the {dataset} file as 'CSV UTF-8'"))
                return None
            frame = _read_csv_text(path)
        else:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
            strip_text(frame)
    except (pa.ArrowInvalid, csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        log.add(Problem("fatal", "file.unreadable", str(path), message=f"cannot read {dataset} file: {exc}"))
        return None
    canonical = {f["name"].upper(): f["name"] for f in specs.load_schema(dataset)["fields"]}
    names = [_normalise_header(c) for c in frame.columns]
    frame.columns = [canonical.get(n, n) for n in names]  # any case in the file, the specification's spelling kept
    frame = frame.loc[:, [not c.startswith("UNNAMED:") for c in frame.columns]]
    known = set(canonical.values()) | {"LA", "YEAR"}
    for name in frame.columns:
        if name not in known:
            near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]}?" if near else ""
            log.add(Problem("warning", "file.unknown-column", str(path), row=1, column=name, value=name,
                            message=f"unknown column in the {dataset} file (ignored){hint}"))
    if frame.empty:
        log.add(Problem("fatal" if dataset in ("header", "episodes") else "warning", "file.no-rows", str(path),
                        message=f"the {dataset} file has a header line but no rows"))
    frame["_file"] = str(path)
    frame["_row"] = np.arange(2, len(frame) + 2)  # spreadsheet row: the header is row 1
    return frame


def _read_csv_text(path: Path) -> pd.DataFrame:
    """Every cell as text, whitespace trimmed: pyarrow reads and trims in C (ten times pandas' speed)."""
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding="utf8"),
                           convert_options=pacsv.ConvertOptions(strings_can_be_null=False,
                                                                column_types=_all_text(path)))
    return pd.DataFrame({name: pc.utf8_trim_whitespace(table[name].cast(pa.string())).to_numpy(zero_copy_only=False)
                         for name in table.column_names}, columns=table.column_names)


def _all_text(path: Path) -> dict[str, pa.DataType]:
    with path.open(encoding="utf-8-sig") as handle:
        header = next(csv.reader([handle.readline()]), [])
    return {name: pa.string() for name in header}


def strip_text(frame: pd.DataFrame) -> None:
    """Stray whitespace around cells is removed (Excel files; CSV is trimmed as it is read)."""
    for col in frame.columns:
        if col not in PROVENANCE and frame[col].dtype == object:
            frame[col] = frame[col].fillna("").astype(str).str.strip()


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates in dd/mm/YYYY or ISO form (with or without time); anything else becomes NaT."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    todo = values.ne("")
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(values[todo], format=fmt, errors="coerce")
        out.loc[parsed.index] = out.loc[parsed.index].fillna(parsed)
        todo &= out.isna()
    return out


def type_columns(frame: pd.DataFrame, dataset: str, log: ProblemLog) -> pd.DataFrame:
    """Cast text columns by the dataset specification, logging each cell that cannot be cast."""
    schema = specs.load_schema(dataset)
    for fld in schema["fields"]:
        name, kind = fld["name"], fld["type"]
        if name not in frame.columns:
            continue
        text = frame[name]
        if fld.get("constraints", {}).get("required"):
            _log_cells(log, frame, text.eq(""), name, "cell.required", f"{name} is required but blank", dataset)
        if kind == "date":
            _flag_day_month_order(frame, name, log, dataset)
            typed = parse_dates(text)
            bad = text.ne("") & typed.isna()
            _log_cells(log, frame, bad, name, "cell.date",
                       "not a date: expected dd/mm/YYYY (or YYYY-MM-DD)", dataset)
            frame[name] = typed
        elif kind in ("integer", "number"):
            typed = pd.to_numeric(text.where(text.ne(""), None), errors="coerce")
            bad = text.ne("") & typed.isna()
            if kind == "integer":
                frac = typed.notna() & (typed != np.floor(typed.fillna(0)))
                bad |= frac
                typed = typed.where(~frac)
                typed = typed.astype("Int64")
            _log_cells(log, frame, bad, name, f"cell.{kind}", f"not a{'n' if kind == 'integer' else ''} {kind}", dataset)
            frame[name] = typed
        elif kind == "boolean":
            low = text.str.lower()
            typed = low.map({"true": True, "false": False, "1": True, "0": False, "y": True, "n": False,
                             "yes": True, "no": False}).astype("boolean")
            _log_cells(log, frame, text.ne("") & typed.isna(), name, "cell.boolean", "not true/false", dataset)
            frame[name] = typed
        elif "enum" in fld.get("constraints", {}):
            canonical = {str(code).upper(): code for code in fld["constraints"]["enum"]}
            upper = text.str.upper()
            frame[name] = upper.map(canonical).fillna(text)  # any case accepted, canonical spelling kept
    return frame


def _flag_day_month_order(frame: pd.DataFrame, column: str, log: ProblemLog, dataset: str) -> None:
    """In a file that also holds month-first dates (12/25/2023), flag each date whose order is open.

    05/02/2023 reads as 5 February, but in a file where some dates can only be month first it may
    be 2 May: the data cannot settle it, so each such cell is named (a warning; read day first, as
    the DfE specifies). Dates that can only be month first are 'not a date' (fatal) already.
    """
    parts = frame[column].str.extract(_SLASH_DATE)
    if parts["a"].isna().all() or "_file" not in frame.columns:
        return
    a, b = pd.to_numeric(parts["a"]), pd.to_numeric(parts["b"])
    us = (a <= 12) & (b > 12) & (b <= 31)
    undecided = (a <= 12) & (b <= 12) & (a != b)
    for file, example in frame.loc[us, column].groupby(frame.loc[us, "_file"]).first().items():
        rows = frame.loc[undecided & frame["_file"].eq(file)]
        log.add_rows(rows, "warning", "date.day-month-order", column,
                     f"{dataset}: day/month order cannot be settled: read as day first, but this file also holds "
                     f"month-first dates (e.g. {example} in column {column})", values=rows[column])


def _check_year_collisions(found: list, log: ProblemLog) -> None:
    """Two folders of one council read as the same collection year ('2024-25' and '2025'): an error naming both."""
    folders: dict[tuple, set[Path]] = {}
    for _, path, la, year in found:
        if year is not None:
            folders.setdefault((la, year), set()).add(path.parent)
    for (la, year), paths in sorted(folders.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        if len(paths) > 1:
            names = sorted(str(p) for p in paths)
            log.add(Problem("fatal", "path.year-collision", names[0], LA=la or "",
                            message=f"{' and '.join(names)} are both the return for the year ending 31 March {year} "
                                    f"({year - 1}-{year % 100:02d}): keep one"))


def _log_cells(log: ProblemLog, frame: pd.DataFrame, bad: pd.Series, column: str, rule: str,
               message: str, dataset: str) -> None:
    if bad.any():
        log.add_rows(frame.loc[bad], "fatal", rule, column, f"{dataset}: {message}", values=frame.loc[bad, column])


def _stack(tables: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    extra = PROVENANCE + ["LA", "YEAR"]
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns + extra})
    return pd.concat(tables, ignore_index=True, sort=False)


def required_columns(dataset: str) -> set[str]:
    """Columns a file must have: those whose values the specification requires."""
    return {f["name"] for f in specs.load_schema(dataset)["fields"] if f.get("constraints", {}).get("required")}


def latest_return(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Keep, for each key, only the rows of the latest collection year that reported it.

    An episode open on 31 March is reported again in the next return (with its end date once it
    has ended): the later return is the truth. Rows whose key could not be read are all kept so
    the validator can report them.
    """
    if frame.empty:
        return frame
    year = frame["YEAR"].astype("float").fillna(-1)
    latest = year.groupby([frame[k] for k in key], dropna=False).transform("max")
    keep = year.eq(latest) | frame[key].isna().any(axis=1)
    return frame.loc[keep].reset_index(drop=True)


def _check_folders(root: Path, found: list, log: ProblemLog) -> None:
    """Each return folder holds both header and episodes; a council folder with no 903 file is named."""
    kinds: dict[Path, set[str]] = {}
    for kind, path, _, _ in found:
        kinds.setdefault(path.parent, set()).add(kind)
    if any("episodes" in k for k in kinds.values()):
        for folder, ks in sorted(kinds.items()):
            for need in ("header", "episodes"):
                if need not in ks:
                    log.add(Problem("fatal", "path.incomplete-return", str(folder / f"{need}.csv"),
                                    message=f"this return folder has no {need} file"))
    used = {p for _, path, _, _ in found for p in path.parents}
    for sub in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        if sub not in used:
            log.add(Problem("warning", "path.no-903-files", str(sub),
                            message="folder holds no 903 files (header.csv, episodes.csv...): nothing read from it"))


def read_903(root: str | Path, default_la: str = "LA") -> Returns903:
    """Read every 903 return below root, stack years and councils, de-duplicate re-reported rows.

    Problems met on the way (unreadable files, missing columns, cells that are not dates...) are
    collected in the returned ProblemLog; nothing is raised here so that all are reported at once.
    """
    root = Path(root)
    log = ProblemLog()
    if not root.exists():
        log.add(Problem("fatal", "path.missing", str(root), message="903 data folder does not exist"))
        empty = pd.DataFrame()
        return Returns903(empty, empty, empty, empty, [], log, [])
    found = find_903_files(root)
    if not any(kind == "episodes" for kind, *_ in found):
        log.add(Problem("fatal", "path.no-episodes", str(root),
                        message="no episodes file found (expected e.g. <LA>/<YEAR>/episodes.csv)"))
    _check_folders(root, found, log)
    _check_year_collisions(found, log)
    by_kind: dict[str, list[pd.DataFrame]] = {k: [] for k in FILE_KINDS}
    for kind, path, la, year in found:
        frame = read_text_table(path, log, kind)
        if frame is None:
            continue
        if "LA" not in frame.columns:
            frame["LA"] = la or default_la
        if "YEAR" not in frame.columns:
            if year is None:
                log.add(Problem("warning", "file.no-year", str(path),
                                message="no collection year in folder, file name or a YEAR column: "
                                        "rows of this file rank below dated returns when de-duplicating"))
            frame["YEAR"] = "" if year is None else str(year)
        missing = required_columns(kind) - set(frame.columns)
        for col in sorted(missing):
            log.add(Problem("fatal", "file.missing-column", str(path), column=col,
                            message=f"{kind} file has no {col} column (columns found: {', '.join(c for c in frame.columns if not c.startswith('_'))})"))
        if missing:
            continue
        by_kind[kind].append(frame)
    typed = {}
    for kind in FILE_KINDS:
        columns = [f["name"] for f in specs.load_schema(kind)["fields"]]
        frame = _stack(by_kind[kind], columns)
        for col in columns:
            if col not in frame.columns:
                frame[col] = ""
        frame["YEAR"] = pd.to_numeric(frame["YEAR"], errors="coerce").astype("Int64")
        typed[kind] = type_columns(frame, kind, log)
    years = sorted({int(y) for t in typed.values() for y in t["YEAR"].dropna().unique()})
    typed["episodes"] = latest_return(typed["episodes"], ["LA", "CHILD", "DECOM"])
    typed["header"] = latest_return(typed["header"], ["LA", "CHILD"])
    typed["uasc"] = latest_return(typed["uasc"], ["LA", "CHILD"])
    return Returns903(
        header=typed["header"], episodes=typed["episodes"], oc2=typed["oc2"], uasc=typed["uasc"],
        files=[p for _, p, _, _ in found], problems=log, collection_years=years,
    )


@dataclass
class RegionData:
    """Everything read from one data folder: the 903 returns and whichever other inputs are there."""

    returns: Returns903
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path]


def find_903_root(path: Path) -> Path:
    """A data folder holds 903 returns in a '903' sub-folder, or is itself the 903 folder."""
    return path / "903" if (path / "903").is_dir() else path


def find_dataset_file(root: Path, dataset: str) -> Path | None:
    """<root>/<dataset>.csv|.xlsx in any case, or None."""
    if not root.is_dir():
        return None
    for path in sorted(root.iterdir()):
        if path.is_file() and path.stem.lower() == dataset and path.suffix.lower() in (".csv", ".xlsx", ".xlsm", ".xls"):
            return path
    return None


def read_table(path: Path, dataset: str, log: ProblemLog) -> pd.DataFrame:
    """Read one non-903 input file, typed by its specification; problems go to the log."""
    columns = [f["name"] for f in specs.load_schema(dataset)["fields"]]
    frame = read_text_table(path, log, dataset)
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns + PROVENANCE})
    missing = required_columns(dataset) - set(frame.columns)
    for col in sorted(missing):
        log.add(Problem("fatal", "file.missing-column", str(path), column=col,
                        message=f"{dataset} file has no {col} column"))
    if missing:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns + PROVENANCE})
    for col in columns:
        if col not in frame.columns:
            frame[col] = ""
    return type_columns(frame, dataset, log)


def read_region(root: str | Path, default_la: str = "LA") -> RegionData:
    """Read the 903 returns and every other input present in a data folder."""
    root = Path(root)
    returns = read_903(find_903_root(root), default_la=default_la)
    tables, files = {}, {}
    for dataset in OTHER_DATASETS:
        path = find_dataset_file(root, dataset)
        if path is not None:
            files[dataset] = path
            tables[dataset] = read_table(path, dataset, returns.problems)
    return RegionData(returns=returns, tables=tables, files=files)
