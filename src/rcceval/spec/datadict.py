"""Publishing the dataset specifications: a Frictionless Data Package and a data dictionary.

`rcceval schema --docs DIR` writes datapackage.json, data_dictionary.md and data_dictionary.html
from the same Table Schemas the loader and validator apply. Output is deterministic (sorted, no
timestamps): two runs give identical bytes.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from rcceval.spec.datasets import BEYOND_903, DATASETS, capability_column, load_schema, schema_path
from rcceval.spec.instruments import Instrument, describe_band, describe_score, load_instrument


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


_BEYOND_INTRO = ("The SSDA903 return records the placements children had and how they ended. The questions "
                 "below need what it does not hold; the proposed datasets (needs assessments, provider "
                 "register and placement agreements, placement requests in the Placements Data Standard v2 "
                 "form) hold it. Each field below says which question it serves.")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(sections: list[_Section], instrument: Instrument) -> str:
    lines = ["# rcceval data dictionary", "", _INTRO, "", "## Contents", "",
             "- [What the 903 alone cannot answer](#beyond-903)"]
    for s in sections:
        lines.append(f"- [{s.title}](#{s.name}) (`{s.name}.csv`)")
    lines.append(f"- [Default needs instrument: {instrument.id}](#instrument)")
    lines += ["", '<a id="beyond-903"></a>', "", "## What the 903 alone cannot answer", "", _BEYOND_INTRO, "",
              "| question | serves | why the 903 cannot answer it | proposed fields that answer it |",
              "| --- | --- | --- | --- |"]
    for q in BEYOND_903:
        cells = [q["question"], q["serves"], q["why_not_903"], ", ".join(f"`{f}`" for f in q["fields"])]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
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
           '<h1>rcceval data dictionary</h1>', f'<p>{e(_INTRO)}</p>', '<nav><h2>Contents</h2><ul>',
           '<li><a href="#beyond-903">What the 903 alone cannot answer</a></li>']
    for s in sections:
        out.append(f'<li><a href="#{e(s.name)}">{e(s.title)}</a> (<code>{e(s.name)}.csv</code>)</li>')
    out.append(f'<li><a href="#instrument">Default needs instrument: {e(instrument.id)}</a></li></ul></nav>')
    out += ['<section id="beyond-903">', "<h2>What the 903 alone cannot answer</h2>", f"<p>{e(_BEYOND_INTRO)}</p>",
            "<table><thead><tr><th>question</th><th>serves</th><th>why the 903 cannot answer it</th>"
            "<th>proposed fields that answer it</th></tr></thead><tbody>"]
    for q in BEYOND_903:
        fields = ", ".join(f"<code>{e(f)}</code>" for f in q["fields"])
        out.append(f"<tr><td>{e(q['question'])}</td><td>{e(q['serves'])}</td><td>{e(q['why_not_903'])}</td>"
                   f"<td>{fields}</td></tr>")
    out += ["</tbody></table>", "</section>"]
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
