"""index.html: every report of a run with its status, headline figures and figures.

Headlines are rendered by their type in the results contract (reporting/results.py), read back from
the one spelling `serialise()` gives each: an Estimate as "value (95% CI lower to upper)", a Test as
"statistic on df df, p = ...", a Share as a percentage with its count and total, a Count as a whole
number, and a value hidden by disclosure control ("c") with what the "c" means. Nothing is guessed
from key names.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcceval.reporting.results import SUPPRESSED

if TYPE_CHECKING:  # the runner imports this module: no import back at run time
    from rcceval import params as params_mod
    from rcceval.reporting.runner import NotebookRun, RunOutcome

MAX_HEADLINES = 14
ESTIMATE_KEYS = frozenset({"value", "lower", "upper", "level"})
TEST_KEYS = frozenset({"statistic", "df", "p", "method"})
SHARE_KEYS = frozenset({"count", "total", "value"})


def kind(value: Any) -> str:
    """The contract type of a serialised headline: estimate, test, share, suppressed, number, text,
    group (a dict of these) or other (nested tables, lists: left to results.json)."""
    if value == SUPPRESSED:
        return "suppressed"
    if isinstance(value, bool) or value is None:
        return "text"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        keys = set(value)
        if keys == ESTIMATE_KEYS:
            return "estimate"
        if keys == TEST_KEYS:
            return "test"
        if keys == SHARE_KEYS:
            return "share"
        if value and all(kind(v) not in ("group", "other") for v in value.values()):
            return "group"
    return "other"


def number(x: Any) -> str:
    """Whole numbers with thousands separators; other numbers to 3 significant figures (or whole
    from 1,000 up)."""
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) >= 1000):
        return f"{int(x):,}"
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"
    return str(x)


def suppressed(threshold: int) -> str:
    return f"c (suppressed: fewer than {threshold})"


def p_value(p: Any) -> str:
    """p = 0.042; never "p = 0": below 0.001 it is "p < 0.001"."""
    if p is None:
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def render(value: Any, threshold: int = 5) -> str | None:
    """One headline as one short cell, by its type; None for what only results.json can hold."""
    k = kind(value)
    if k == "suppressed":
        return suppressed(threshold)
    if k in ("number", "text"):
        return number(value) if k == "number" else str(value)
    if k == "estimate":
        if value["lower"] is None or value["upper"] is None:
            return number(value["value"])
        return (f"{number(value['value'])} ({number(100 * value['level'])}% CI "
                f"{number(value['lower'])} to {number(value['upper'])})")
    if k == "test":
        df = "" if value["df"] is None else f" on {number(float(value['df']))} df"
        method = f"{value['method']}: " if value["method"] else ""
        return f"{method}{number(value['statistic'])}{df}, {p_value(value['p'])}"
    if k == "share":
        total = value["total"] if value["total"] == SUPPRESSED else f"{value['total']:,}"
        if value["count"] == SUPPRESSED:
            return (f"c of {total} (suppressed: the count or the rest is fewer than {threshold})"
                    if total != SUPPRESSED else suppressed(threshold))
        if value["value"] is None:
            return f"{value['count']:,} of {total}"
        return f"{100 * value['value']:.1f}% ({value['count']:,} of {total})"
    if k == "group" and len(value) <= 10:
        return "; ".join(f"{key}: {render(v, threshold)}" for key, v in value.items())
    return None


MARKS = {"ok": "", "partial": " (partial)", "failed": " (FAILED)"}   # beside a council's report link
RANK = {"estimate": 0, "test": 1, "share": 2, "group": 3}


def results_rows(results: dict, threshold: int = 5) -> str:
    """Table rows of a notebook's headlines: estimates, then tests, then shares, then the rest, each
    by key; at most MAX_HEADLINES, the rest in results.json."""
    rows = []
    for key, value in sorted(results.items(), key=lambda kv: (RANK.get(kind(kv[1]), 4), kv[0])):
        cell = render(value, threshold)
        if cell is not None and len(rows) < MAX_HEADLINES:
            rows.append(f"<tr><td>{html.escape(key)}</td><td>{html.escape(cell)}</td></tr>")
    return "".join(rows)


def notebook_section(n: NotebookRun, run_dir: Path, threshold: int = 5) -> str:
    """One report in index.html: links, status, the failing cell's error, headline figures, figures."""
    status = {"ok": "ok", "partial": "partial", "failed": "FAILED"}[n.status]
    links = f'<a href="{n.name}.html">report</a> · <a href="{n.name}.ipynb">notebook</a> · ' \
            f'<a href="{n.name}/results.json">results.json</a> (every figure)'
    error = f'<pre class="error">{html.escape(n.error)}</pre>' if n.error else ""
    if n.skipped:   # partial: the sections not run, each with its sentence (what is missing, where it goes)
        error += '<ul class="skipped">' + "".join(f"<li>{html.escape(s['sentence'])}</li>" for s in n.skipped) + "</ul>"
    table = f"<table>{results_rows(n.results, threshold)}</table>" if n.results else ""
    fig_dir = run_dir / n.name / "figures"
    imgs = "".join(f'<figure><img src="{n.name}/figures/{p.name}" alt="{html.escape(p.stem)}">'
                   f"<figcaption>{html.escape(p.stem)}</figcaption></figure>"
                   for p in sorted(fig_dir.glob("*.png"))) if fig_dir.is_dir() else ""
    return (f'<section><h2>{html.escape(n.name)} <span class="{status.lower()}">{status}</span></h2>'
            f'<p>{links} ({n.seconds:.1f} s)</p>{error}{table}<div class="figs">{imgs}</div></section>')


def summary(outcome: RunOutcome) -> str:
    """The run in one sentence: all ran, some partial (inputs absent), or some failed."""
    if not outcome.ok:
        return "Some reports FAILED: see below."
    partial = [n.name for n in outcome.notebooks if n.status == "partial"]
    if partial:
        return (f"All reports ran; {', '.join(partial)} {'is' if len(partial) == 1 else 'are'} partial: some sections "
                f"need inputs this data folder does not hold (listed below; see data/README.md).")
    return "All reports ran."


def write_index(outcome: RunOutcome, run_dir: Path, run_id: str, params: params_mod.Parameters) -> Path:
    """index.html: every report with its status, headline figures and figures, failures with their error."""
    threshold = params.disclosure.threshold
    sections = [notebook_section(n, run_dir, threshold) for n in outcome.notebooks]
    subs = "".join(
        f'<li>{html.escape(la)}: ' + ", ".join(
            f'<a href="la/{la}/{n.name}.html">{html.escape(n.name)}</a>{MARKS[n.status]}'
            for n in s.notebooks) + "</li>"
        for la, s in outcome.sub_runs.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rcceval run {html.escape(run_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse}}td{{border-bottom:1px solid #ddd;padding:.2em .8em}}
.ok{{color:#1a7f37}}.partial{{color:#9a6700}}.failed{{color:#b42318}}pre.error{{background:#fff1f0;padding:.6em;white-space:pre-wrap}}
figure{{display:inline-block;margin:.5em}}img{{max-width:32em;border:1px solid #eee}}</style></head>
<body><h1>rcceval run: {html.escape(run_id)}</h1>
<p>{summary(outcome)}
Data: {html.escape(params.data_source)}; seed {params.seed}; small numbers suppressed: "c" is a count under {threshold}
(or a figure that would reveal one).
<a href="manifest.json">manifest.json</a> (parameters, input hashes, versions, commit, timings).</p>
{''.join(sections)}
{f'<h2>By council</h2><ul>{subs}</ul>' if subs else ''}
</body></html>
"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
