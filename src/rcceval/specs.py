"""Dataset specifications and needs instruments: where they live, how they load, how they publish.

Every input rcceval reads is declared once, as a Frictionless Table Schema in `schemas/`; the
loader and validator read their rules from there, and `write_docs` publishes the same files as a
Frictionless Data Package plus a data dictionary (Markdown and HTML), so the specification users
validate against and the one the code applies cannot drift apart.

A needs instrument (domains, intensity and frequency scales, bands to need tiers) is a YAML file:
the default open instrument ships in `schemas/instruments/`; users copy and edit it. Instrument
files are checked on load and a broken one raises `ParameterError` naming file, key and rule.
"""
from __future__ import annotations

import copy
import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import yaml

from .checking import Checker
from .errors import ParameterError

if TYPE_CHECKING:  # frictionless is slow to import: only frictionless_schema needs it
    import frictionless

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
INSTRUMENT_DIR = SCHEMA_DIR / "instruments"
DEFAULT_INSTRUMENT_ID = "rcceval-open-v1"
DEFAULT_INSTRUMENT_PATH = INSTRUMENT_DIR / "rcceval_open_v1.yaml"

DATASETS: dict[str, str] = {
    "header": "header.json",
    "episodes": "episodes.json",
    "oc2": "oc2.json",
    "uasc": "uasc.json",
    "needs_assessments": "needs_assessments.json",
    "provider_register": "provider_register.json",
    "placement_agreements": "placement_agreements.json",
    "placement_requests": "placement_requests.json",
    "postcode_lookup": "postcode_lookup.json",
}

SERVES = ("Q1 needs predict stability", "Q2 placement survival", "Q3 costing",
          "Q4 dataset proposal", "Q5 sufficiency", "derivation", "linkage")
# The three need tiers of the field (DESIGN.md), least to most intensive; instrument bands map to them.
NEED_TIERS = ("straightforward", "complex_chronic", "extensive_enduring")
# Intensity and frequency are 0-3 in the data contracts (needs assessments, capability columns).
SCALE_MAX = 3
SCORE_RULES = ("intensity_x_frequency", "given")


# ------------------------------------------------------------------------------------ schemas

def schema_path(name: str) -> Path:
    """File of a dataset's specification; ValueError for a dataset rcceval does not know."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return SCHEMA_DIR / DATASETS[name]


@lru_cache(maxsize=None)
def _read_schema(name: str) -> dict:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


def load_schema(name: str) -> dict:
    """The Table Schema descriptor of a dataset (parsed once; callers get their own copy)."""
    return copy.deepcopy(_read_schema(name))


def frictionless_schema(name: str) -> "frictionless.Schema":
    """The dataset's specification as a frictionless Schema (raises if the descriptor is invalid)."""
    import frictionless

    return frictionless.Schema.from_descriptor(load_schema(name))


def capability_column(domain_id: str) -> str:
    """Column holding a placement's capability in a domain: CAP_<DOMAIN ID IN CAPITALS>."""
    return f"CAP_{domain_id.upper()}"


# -------------------------------------------------------------------------------- instruments

@dataclass(frozen=True)
class Domain:
    """One need domain of an instrument, with the Placements Data Standard fields it draws on."""

    id: str
    title: str
    description: str
    pds_fields: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    """Holds when at least `min_domains` domains each meet every threshold given (None: no threshold)."""

    min_domains: int = 1
    intensity_at_least: int | None = None
    frequency_at_least: int | None = None
    score_at_least: float | None = None


@dataclass(frozen=True)
class Band:
    """A need tier and when a child is in it: any of `conditions`, or `otherwise` (the fallback)."""

    id: str
    label: str
    description: str
    conditions: tuple[Condition, ...]
    otherwise: bool = False


@dataclass(frozen=True)
class Instrument:
    """A needs instrument read from a YAML file: domains, 0-3 scales, score rule and bands.

    `intensity_labels[i]` is the label of intensity level i (likewise frequency). Bands are
    checked in order and the first that holds applies; the last is the `otherwise` band.
    """

    id: str
    title: str
    description: str
    source: str
    domains: tuple[Domain, ...]
    intensity_labels: tuple[str, ...]
    frequency_labels: tuple[str, ...]
    score_rule: str
    score_max: float
    bands: tuple[Band, ...]
    path: Path

    @property
    def domain_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.domains)

    @property
    def capability_columns(self) -> tuple[str, ...]:
        return tuple(capability_column(d.id) for d in self.domains)

    def domain(self, domain_id: str) -> Domain:
        for d in self.domains:
            if d.id == domain_id:
                return d
        raise KeyError(f"instrument {self.id} has no domain {domain_id!r}")


_INSTRUMENT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_DOMAIN_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_KEYS = {"id", "title", "description", "source", "scale", "score", "domains", "bands"}
_SCALE_KEYS = {"description", "labels"}
_SCORE_KEYS = {"rule", "description", "maximum"}
_DOMAIN_KEYS = {"id", "title", "description", "pds_fields"}
_BANDS_KEYS = {"description", "tiers"}
_TIER_KEYS = {"id", "label", "description", "conditions", "otherwise"}
_CONDITION_KEYS = {"min_domains", "intensity_at_least", "frequency_at_least", "score_at_least"}


def _scale_labels(check: Checker, raw: object, key: str) -> tuple[str, ...]:
    scale = check.mapping(raw, key, _SCALE_KEYS, {"labels"})
    labels = scale["labels"]
    if not isinstance(labels, dict) or not labels:
        check.fail(f"{key}.labels", labels, "must map each level (0, 1, ...) to its label")
    levels = list(labels)
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= SCALE_MAX:
            check.fail(f"{key}.labels", level, f"levels must be whole numbers from 0 to {SCALE_MAX} "
                                               "(the 0-3 range of the data contracts)")
    if sorted(levels) != list(range(len(levels))) or len(levels) < 2:
        check.fail(f"{key}.labels", levels, "levels must run 0, 1, 2, ... without gaps (at least 0 and 1)")
    return tuple(check.text(labels[i], f"{key}.labels.{i}") for i in range(len(levels)))


def _domains(check: Checker, raw: object) -> tuple[Domain, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("domains", raw, "must be a non-empty list of domains")
    pds_names = {f["name"] for f in _read_schema("placement_requests")["fields"]} - {"LA"}
    seen: set[str] = set()
    out = []
    for i, item in enumerate(raw):
        key = f"domains[{i}]"
        d = check.mapping(item, key, _DOMAIN_KEYS, {"id", "title"})
        did = d["id"]
        if not isinstance(did, str) or not _DOMAIN_ID_RE.match(did):
            check.fail(f"{key}.id", did, "must be lower-case letters, digits and _ starting with a letter "
                                         "(it becomes the CAP_<ID> column name)")
        if did in seen:
            check.fail(f"{key}.id", did, "domain ids must be unique")
        seen.add(did)
        pds = d.get("pds_fields", []) or []
        if not isinstance(pds, list):
            check.fail(f"{key}.pds_fields", pds, "must be a list of Placements Data Standard field names")
        for name in pds:
            if name not in pds_names:
                check.fail(f"{key}.pds_fields", name, "not a field of the Placements Data Standard v2 "
                                                      "(see the placement_requests specification)")
        out.append(Domain(did, check.text(d["title"], f"{key}.title"),
                          check.text(d.get("description"), f"{key}.description", required=False), tuple(pds)))
    return tuple(out)


def _condition(check: Checker, raw: object, key: str, n_domains: int, max_i: int, max_f: int,
               score_max: float, rule: str) -> Condition:
    c = check.mapping(raw, key, _CONDITION_KEYS)
    if not set(c) - {"min_domains"}:
        check.fail(key, c, "needs at least one threshold: intensity_at_least, frequency_at_least or score_at_least")
    if rule != "intensity_x_frequency":
        for k in ("intensity_at_least", "frequency_at_least"):
            if k in c:
                check.fail(f"{key}.{k}", c[k], "only instruments scored as intensity x frequency can use it")
    return Condition(
        min_domains=check.integer(c.get("min_domains", 1), f"{key}.min_domains", 1, n_domains),
        intensity_at_least=(check.integer(c["intensity_at_least"], f"{key}.intensity_at_least", 0, max_i)
                            if "intensity_at_least" in c else None),
        frequency_at_least=(check.integer(c["frequency_at_least"], f"{key}.frequency_at_least", 0, max_f)
                            if "frequency_at_least" in c else None),
        score_at_least=(check.number(c["score_at_least"], f"{key}.score_at_least", 0, score_max)
                        if "score_at_least" in c else None),
    )


def _bands(check: Checker, raw: object, n_domains: int, max_i: int, max_f: int, score_max: float,
           rule: str) -> tuple[Band, ...]:
    bands = check.mapping(raw, "bands", _BANDS_KEYS, {"tiers"})
    tiers = bands["tiers"]
    if not isinstance(tiers, list) or not tiers:
        check.fail("bands.tiers", tiers, "must be a non-empty list of tiers")
    out, seen = [], set()
    for i, item in enumerate(tiers):
        key = f"bands.tiers[{i}]"
        t = check.mapping(item, key, _TIER_KEYS, {"id"})
        if t["id"] not in NEED_TIERS:
            check.fail(f"{key}.id", t["id"], f"must be one of the need tiers {', '.join(NEED_TIERS)}")
        if t["id"] in seen:
            check.fail(f"{key}.id", t["id"], "each tier appears once")
        seen.add(t["id"])
        otherwise = t.get("otherwise", False)
        if otherwise is not True and otherwise is not False:
            check.fail(f"{key}.otherwise", otherwise, "must be true or false")
        last = i == len(tiers) - 1
        if otherwise != last:
            check.fail(f"{key}.otherwise", otherwise, "exactly the last tier is the fallback (otherwise: true)")
        conditions: tuple[Condition, ...] = ()
        if otherwise:
            if "conditions" in t:
                check.fail(f"{key}.conditions", t["conditions"], "the fallback tier has no conditions")
        else:
            cond = check.mapping(t.get("conditions"), f"{key}.conditions", {"any"}, {"any"})
            if not isinstance(cond["any"], list) or not cond["any"]:
                check.fail(f"{key}.conditions.any", cond["any"], "must be a non-empty list of conditions")
            conditions = tuple(_condition(check, c, f"{key}.conditions.any[{j}]", n_domains, max_i, max_f,
                                          score_max, rule) for j, c in enumerate(cond["any"]))
        out.append(Band(t["id"], check.text(t.get("label", t["id"]), f"{key}.label"),
                        check.text(t.get("description"), f"{key}.description", required=False),
                        conditions, bool(otherwise)))
    return tuple(out)


def parse_instrument(data: object, path: Path) -> Instrument:
    """Check an instrument's parsed YAML and build the Instrument; ParameterError on the first break."""
    check = Checker(path)
    top = check.mapping(data, "", _TOP_KEYS, {"id", "title", "scale", "domains", "bands"})
    iid = top["id"]
    if not isinstance(iid, str) or not _INSTRUMENT_ID_RE.match(iid):
        check.fail("id", iid, "must be lower-case letters, digits, '.', '_' or '-' (e.g. rcceval-open-v1)")
    scale = check.mapping(top["scale"], "scale", {"intensity", "frequency"}, {"intensity", "frequency"})
    intensity = _scale_labels(check, scale["intensity"], "scale.intensity")
    frequency = _scale_labels(check, scale["frequency"], "scale.frequency")
    score = check.mapping(top.get("score", {"rule": "intensity_x_frequency"}), "score", _SCORE_KEYS, {"rule"})
    rule = score["rule"]
    if rule not in SCORE_RULES:
        check.fail("score.rule", rule, f"must be one of {', '.join(SCORE_RULES)}")
    if rule == "intensity_x_frequency":
        if "maximum" in score:
            check.fail("score.maximum", score["maximum"], "is implied by the scales when the score is intensity x frequency")
        score_max: float = (len(intensity) - 1) * (len(frequency) - 1)
    else:
        score_max = check.number(score.get("maximum"), "score.maximum", 1e-9, float("inf"))
    domains = _domains(check, top["domains"])
    bands = _bands(check, top["bands"], len(domains), len(intensity) - 1, len(frequency) - 1, score_max, rule)
    return Instrument(
        id=iid, title=check.text(top["title"], "title"),
        description=check.text(top.get("description"), "description", required=False),
        source=check.text(top.get("source"), "source", required=False),
        domains=domains, intensity_labels=intensity, frequency_labels=frequency,
        score_rule=rule, score_max=score_max, bands=bands, path=path,
    )


@lru_cache(maxsize=32)
def _load_instrument_file(path: Path, mtime_ns: int) -> Instrument:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(path, "<file>", None, f"not valid YAML: {exc}") from None
    return parse_instrument(data, path)


def _instrument_file(path_or_id: str | Path | None) -> Path:
    if path_or_id is None:
        return DEFAULT_INSTRUMENT_PATH
    text = str(path_or_id)
    looks_like_path = isinstance(path_or_id, Path) or text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text
    if looks_like_path:
        path = Path(path_or_id)
        if not path.is_file():
            raise ParameterError(path, "instrument", text, "instrument file not found")
        return path
    for candidate in sorted(INSTRUMENT_DIR.glob("*.y*ml")):
        data = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("id") == text:
            return candidate
    raise ParameterError(INSTRUMENT_DIR, "instrument", text,
                         "no shipped instrument has this id; give the path of your instrument file")


def load_instrument(path_or_id: str | Path | None = None) -> Instrument:
    """Load and check a needs instrument: None for the default, a shipped instrument's id, or a file path."""
    path = _instrument_file(path_or_id).resolve()
    return _load_instrument_file(path, path.stat().st_mtime_ns)


def describe_condition(c: Condition) -> str:
    """A band condition in plain English, e.g. 'at least 2 domains with score 6 or more'."""
    parts = []
    if c.intensity_at_least is not None:
        parts.append(f"intensity {c.intensity_at_least} or more")
    if c.frequency_at_least is not None:
        parts.append(f"frequency {c.frequency_at_least} or more")
    if c.score_at_least is not None:
        parts.append(f"score {c.score_at_least:g} or more")
    who = "any domain" if c.min_domains == 1 else f"at least {c.min_domains} domains"
    return f"{who} with {' and '.join(parts)}"


def describe_score(instrument: Instrument) -> str:
    """How a domain's score is made, in plain English."""
    if instrument.score_rule == "intensity_x_frequency":
        return f"intensity x frequency, from 0 to {instrument.score_max:g}"
    return f"given directly (SCORE column), from 0 to {instrument.score_max:g}"


def describe_band(band: Band) -> str:
    """When a child is in a band, in plain English."""
    if band.otherwise:
        return "when no tier above applies"
    return "; or ".join(describe_condition(c) for c in band.conditions)


# ------------------------------------------------------------------------------ publishing

def datapackage(datasets: list[str] | None = None) -> dict:
    """A Frictionless Data Package descriptor with one tabular resource per dataset, schema inline."""
    names = _dataset_names(datasets)
    resources = []
    for name in names:
        schema = load_schema(name)
        resources.append({
            "name": name,
            "title": schema.get("title", name),
            "description": schema.get("description", ""),
            "path": f"{name}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": schema,
        })
    return {
        "name": "rcceval-inputs",
        "title": "rcceval input datasets",
        "description": "The datasets rcceval reads, as specified in the rcceval package "
                       "(src/rcceval/schemas). Put your files next to this descriptor with these "
                       "names to validate them with frictionless.",
        "profile": "tabular-data-package",
        "resources": resources,
    }


def write_docs(out_dir: Path, datasets: list[str] | None = None) -> list[Path]:
    """Publish the specifications: datapackage.json, data_dictionary.md and .html (byte-stable)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = _dataset_names(datasets)
    sections = [_section(name) for name in names]
    instrument = load_instrument()
    outputs = {
        "datapackage.json": json.dumps(datapackage(names), indent=2, ensure_ascii=False) + "\n",
        "data_dictionary.md": _markdown(sections, instrument),
        "data_dictionary.html": _html(sections, instrument),
    }
    written = []
    for filename, text in outputs.items():
        path = out_dir / filename
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def _dataset_names(datasets: list[str] | None) -> list[str]:
    names = list(DATASETS) if datasets is None else list(datasets)
    for name in names:
        schema_path(name)  # raises for unknown names
    return names


@dataclass(frozen=True)
class _Row:
    name: str
    type: str
    required: bool
    title: str
    description: str
    codes: tuple[tuple[str, str], ...]
    constraints: tuple[str, ...]
    serves: tuple[str, ...]


@dataclass(frozen=True)
class _Section:
    name: str
    title: str
    description: str
    primary_key: tuple[str, ...]
    row_rules: tuple[str, ...]
    rows: tuple[_Row, ...]


def _human_format(fmt: str) -> str:
    return fmt.replace("%d", "dd").replace("%m", "mm").replace("%Y", "YYYY")


def _field_row(f: dict) -> _Row:
    cons = f.get("constraints", {})
    kind = f["type"]
    if f.get("format") and f["format"] != "default":
        kind += f" ({_human_format(f['format'])})"
    rules = []
    if "minimum" in cons and "maximum" in cons:
        rules.append(f"{cons['minimum']} to {cons['maximum']}")
    elif "minimum" in cons:
        rules.append(f"at least {cons['minimum']}")
    elif "maximum" in cons:
        rules.append(f"at most {cons['maximum']}")
    if "minLength" in cons:
        rules.append(f"at least {cons['minLength']} characters")
    if "maxLength" in cons:
        rules.append(f"at most {cons['maxLength']} characters")
    if cons.get("unique"):
        rules.append("unique")
    if "x-separator" in f:
        rules.append(f"one or more values separated by '{f['x-separator']}'")
    if "pattern" in cons:
        rules.append(f"pattern {cons['pattern']}")
    if kind == "boolean":
        rules.append("true / false")
    codes = f.get("x-codes") or {str(v): "" for v in cons.get("enum", [])}
    return _Row(
        name=f["name"], type=kind, required=bool(cons.get("required")), title=f.get("title", ""),
        description=f.get("description", ""), codes=tuple((str(k), str(v)) for k, v in codes.items()),
        constraints=tuple(rules), serves=tuple(f.get("x-serves", [])),
    )


def _section(name: str) -> _Section:
    schema = load_schema(name)
    return _Section(
        name=name, title=schema.get("title", name), description=schema.get("description", ""),
        primary_key=tuple(schema.get("primaryKey", [])),
        row_rules=tuple(r.get("description", r.get("id", "")) for r in schema.get("x-row-rules", [])),
        rows=tuple(_field_row(f) for f in schema["fields"]),
    )


_INTRO = ("The datasets rcceval reads and what each field means. Generated from the dataset "
          "specifications (Frictionless Table Schemas in src/rcceval/schemas) by `rcceval schema`: "
          "do not edit by hand. The same specifications are in datapackage.json, which "
          "frictionless can validate your files against. Blank cells are missing values; "
          "'serves' says which questions a field is needed for (Q1 needs predict stability, "
          "Q2 placement survival, Q3 costing, Q4 dataset proposal, Q5 sufficiency) or whether it "
          "is used to derive placements (derivation) or link datasets (linkage).")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(sections: list[_Section], instrument: Instrument) -> str:
    lines = ["# rcceval data dictionary", "", _INTRO, "", "## Contents", ""]
    for s in sections:
        lines.append(f"- [{s.title}](#{s.name}) (`{s.name}.csv`)")
    lines.append(f"- [Default needs instrument: {instrument.id}](#instrument)")
    for s in sections:
        lines += ["", f'<a id="{s.name}"></a>', "", f"## {s.title} (`{s.name}`)", "", s.description, ""]
        if s.primary_key:
            lines += ["One row per " + ", ".join(f"`{k}`" for k in s.primary_key) + " (primary key).", ""]
        for rule in s.row_rules:
            lines.append(f"- Rule: {rule}")
        if s.row_rules:
            lines.append("")
        lines += ["| field | type | required | meaning | allowed values | constraints | serves |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in s.rows:
            codes = "<br>".join(f"`{c}` {label}".strip() if label != c else f"`{c}`" for c, label in r.codes)
            meaning = f"**{r.title}**. {r.description}" if r.title else r.description
            cons = "; ".join(f"`{c[8:]}`" if c.startswith("pattern ") else c for c in r.constraints)
            cells = [f"`{r.name}`", r.type, "yes" if r.required else "no", meaning, codes, cons, ", ".join(r.serves)]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines += ["", '<a id="instrument"></a>', "", f"## Default needs instrument: {instrument.title} (`{instrument.id}`)",
              "", instrument.description, ""]
    lines.append("- Intensity: " + "; ".join(f"{i} {lab}" for i, lab in enumerate(instrument.intensity_labels)) + ".")
    lines.append("- Frequency: " + "; ".join(f"{i} {lab}" for i, lab in enumerate(instrument.frequency_labels)) + ".")
    lines.append(f"- Domain score: {describe_score(instrument)}.")
    lines += ["", "| domain | title | meaning | PDS fields | capability column |", "| --- | --- | --- | --- | --- |"]
    for d in instrument.domains:
        cells = [f"`{d.id}`", d.title, d.description, ", ".join(d.pds_fields), f"`{capability_column(d.id)}`"]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines += ["", "Need tiers (checked in this order, the first that applies):", ""]
    for b in instrument.bands:
        lines.append(f"- **{b.label}** (`{b.id}`): {describe_band(b)}.")
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:75rem;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1,h2{color:#12436d}h2{border-top:2px solid #12436d;padding-top:.6rem;margin-top:2.4rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:1rem 0}
th,td{border:1px solid #b1b4b6;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f2f1}tr:nth-child(even) td{background:#fafafa}
code{font-family:ui-monospace,Consolas,monospace;font-size:.85em;background:#f3f2f1;padding:0 .15em;
overflow-wrap:anywhere}nav ul{columns:2}.req{font-weight:bold}"""


def _html(sections: list[_Section], instrument: Instrument) -> str:
    e = html.escape
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<title>rcceval data dictionary</title>', f'<style>{_CSS}</style>', '</head>', '<body>',
           '<h1>rcceval data dictionary</h1>', f'<p>{e(_INTRO)}</p>', '<nav><h2>Contents</h2><ul>']
    for s in sections:
        out.append(f'<li><a href="#{e(s.name)}">{e(s.title)}</a> (<code>{e(s.name)}.csv</code>)</li>')
    out.append(f'<li><a href="#instrument">Default needs instrument: {e(instrument.id)}</a></li></ul></nav>')
    for s in sections:
        out += [f'<section id="{e(s.name)}">', f'<h2>{e(s.title)} (<code>{e(s.name)}</code>)</h2>',
                f'<p>{e(s.description)}</p>']
        if s.primary_key:
            keys = ", ".join(f"<code>{e(k)}</code>" for k in s.primary_key)
            out.append(f"<p>One row per {keys} (primary key).</p>")
        if s.row_rules:
            out.append("<ul>" + "".join(f"<li>Rule: {e(r)}</li>" for r in s.row_rules) + "</ul>")
        out.append("<table><thead><tr><th>field</th><th>type</th><th>required</th><th>meaning</th>"
                   "<th>allowed values</th><th>constraints</th><th>serves</th></tr></thead><tbody>")
        for r in s.rows:
            codes = "<br>".join(f"<code>{e(c)}</code>" + (f" {e(label)}" if label and label != c else "")
                                for c, label in r.codes)
            cons = "<br>".join(f"pattern <code>{e(c[8:])}</code>" if c.startswith("pattern ") else e(c)
                               for c in r.constraints)
            meaning = (f"<strong>{e(r.title)}</strong>. " if r.title else "") + e(r.description)
            req = '<span class="req">yes</span>' if r.required else "no"
            out.append(f"<tr><td><code>{e(r.name)}</code></td><td>{e(r.type)}</td><td>{req}</td>"
                       f"<td>{meaning}</td><td>{codes}</td><td>{cons}</td><td>{e(', '.join(r.serves))}</td></tr>")
        out += ["</tbody></table>", "</section>"]
    out += ['<section id="instrument">',
            f"<h2>Default needs instrument: {e(instrument.title)} (<code>{e(instrument.id)}</code>)</h2>",
            f"<p>{e(instrument.description)}</p>", "<ul>",
            "<li>Intensity: " + e("; ".join(f"{i} {lab}" for i, lab in enumerate(instrument.intensity_labels))) + "</li>",
            "<li>Frequency: " + e("; ".join(f"{i} {lab}" for i, lab in enumerate(instrument.frequency_labels))) + "</li>",
            f"<li>Domain score: {e(describe_score(instrument))}</li>",
            "</ul>", "<table><thead><tr><th>domain</th><th>title</th><th>meaning</th><th>PDS fields</th>"
            "<th>capability column</th></tr></thead><tbody>"]
    for d in instrument.domains:
        out.append(f"<tr><td><code>{e(d.id)}</code></td><td>{e(d.title)}</td><td>{e(d.description)}</td>"
                   f"<td>{e(', '.join(d.pds_fields))}</td><td><code>{e(capability_column(d.id))}</code></td></tr>")
    out += ["</tbody></table>", "<p>Need tiers (checked in this order, the first that applies):</p>", "<ul>"]
    for b in instrument.bands:
        out.append(f"<li><strong>{e(b.label)}</strong> (<code>{e(b.id)}</code>): {e(describe_band(b))}.</li>")
    out += ["</ul>", "</section>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
