"""Reports and index.html as people using assistive technology meet them: a table of contents, headings
in order, one figure style, alt text on every figure, and axe-core (in headless Chromium) finding no
serious or critical violation. index.html is built from hand-made results (test_index_browser.py);
the report is one small notebook executed in the project's kernel and rendered by the package
(runner.export_html), not the full report suite."""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import matplotlib.ticker
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from a11y import axe_source, blocking, violations  # noqa: E402
from test_index_browser import index_page  # noqa: E402,F401 - the hand-made index.html fixture
from test_reports import _browser  # noqa: E402

from rcceval.reporting import figures  # noqa: E402
from rcceval.reporting.publish import ALT_FILE, Publisher  # noqa: E402
from rcceval.reporting.render import (  # noqa: E402
    add_contents,
    heading_levels,
    heading_problems,
    markdown_levels,
    notebook_heading_problems,
)

ROOT = Path(__file__).resolve().parents[1]


# --- headings -----------------------------------------------------------------------------------

def test_heading_problems_name_each_break_in_the_outline():
    assert heading_problems([1, 2, 3, 3, 2, 3, 4, 2]) == []
    assert heading_problems([1, 2, 4, 2]) == ["heading 3 is h4 straight after an h2"]
    assert heading_problems([2, 1, 3]) == ["the first heading is h2, not the title (h1)",
                                           "heading 3 is h3 straight after an h1"]
    assert heading_problems([1, 2, 1]) == ["2 top-level (h1) headings, not one"]
    assert markdown_levels("# T\n\ntext\n```\n# not a heading\n```\n## S\n#hashtag\n### U") == [1, 2, 3]


@pytest.mark.parametrize("source", sorted((ROOT / "notebooks").glob("*.py")), ids=lambda p: p.stem)
def test_every_notebook_has_one_title_and_no_skipped_heading_level(source: Path):
    assert notebook_heading_problems(source) == []


def test_contents_lists_the_sections_nested_by_level_after_the_title():
    page = ('<html><head><title>x</title></head><body><main><div class="jp-Cell"><h1 id="T">Title'
            '<a class="anchor-link" href="#T">¶</a></h1></div><h2 id="A">A</h2><h3 id="A1">A one</h3>'
            '<h3>A two?</h3><h2 id="B">B</h2><h4 id="deep">too deep for h3-less</h4></main></body></html>')
    out = add_contents(page)
    nav = out[out.index("<nav"):out.index("</nav>") + 6]
    assert nav == ('<nav aria-labelledby="contents" class="toc"><h2 id="contents">Contents</h2><ol>'
                   '<li><a href="#A">A</a><ol><li><a href="#A1">A one</a></li><li><a href="#A-two">A two?</a></li>'
                   '</ol></li><li><a href="#B">B</a><ol><li><a href="#deep">too deep for h3-less</a></li></ol></li>'
                   '</ol></nav>')
    assert re.findall(r'href="#([^"]+)"', nav) == ["A", "A1", "A-two", "B", "deep"]
    assert '<h3 id="A-two">' in out                              # an id made for a heading without one
    assert out.index("</h1></div><nav") > 0                       # right after the title's cell
    assert "<title>Title</title>" in out                          # the page title, without the pilcrow
    assert heading_levels(out) == [1, 2, 2, 3, 3, 2, 4]


# --- figures ------------------------------------------------------------------------------------

def test_alt_text_is_written_from_what_the_figure_shows():
    fig, ax = plt.subplots()
    for la in ("S01", "S02"):
        ax.plot([2021, 2022, 2023], [10, 12, 11], label=la)
    ax.set(title="Children looked after on 31 March", xlabel="Year", ylabel="Children")
    ax.legend(title="Council")
    assert figures.describe(fig) == ("Children looked after on 31 March: line chart of Children against Year, "
                                     "from 2021 to 2023; Council: S01, S02.")
    ax.clear()
    ax.plot(["2024", "2025"], [448, 437])
    ax.axhline(400)                                             # a reference line: not a second series
    ax.set(ylabel="Children")
    assert figures.describe(fig) == "Line chart of Children, from 2024 to 2025."
    plt.close(fig)

    fig, ax = plt.subplots()                                    # values on the ticks are not categories
    ax.barh(["Complex or co-\noccurring", "All"], [-6000, -2000])
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"£{v:,.0f}".replace("-", "\u2212")))
    ax.set(xlabel="Needs-led minus unit cost, £ a week")
    assert figures.describe(fig) == "Bar chart over Needs-led minus unit cost, £ a week, for Complex or co-occurring, All."
    ax.clear()
    ax.plot([10, 100, 1000], [0.2, 0.5, 0.9])
    ax.set(xscale="log", xlabel="Endings", ylabel="Power")
    assert figures.describe(fig) == "Line chart of Power against Endings, from 10 to 1000."
    plt.close(fig)

    fig, axes = plt.subplots(1, 2)
    axes[0].bar(["Foster", "Residential", "Other"], [5, 3, 1])
    axes[0].set(ylabel="Share of placements ($\\%$)")
    axes[1].imshow([[0, 1], [1, 0]])
    axes[1].set(title="Shortfall", xticks=[0, 1], xticklabels=["Council", "Region"], yticks=[0, 1],
                yticklabels=["Complex", "All"])
    fig.suptitle("Placement mix")
    assert figures.describe(fig) == ("Placement mix. 2 panels. 1. Bar chart of Share of placements (\\%), for Foster, "
                                     "Residential, Other. 2. Shortfall: heat map, rows Complex, All; columns Council, Region.")
    plt.close(fig)


def test_publisher_figure_keeps_each_alt_text_beside_the_figures(tmp_path: Path):
    pub = Publisher(tmp_path, "nb")
    fig, ax = plt.subplots()
    ax.scatter([1, 2, 3], [3, 1, 2])
    ax.set(xlabel="Weeks", ylabel="Cost")
    pub.figure("points", fig)
    pub.figure("given", fig, alt="  Cost  by\nweek, as  said. ")
    assert pub.alt_texts == {"points": "Scatter plot of Cost against Weeks.", "given": "Cost by week, as said."}
    plt.close(fig)
    assert json.loads((tmp_path / "nb" / "figures" / ALT_FILE).read_text()) == {
        "given": "Cost by week, as said.", "points": "Scatter plot of Cost against Weeks."}


def test_one_figure_style_set_by_the_package_and_nowhere_else():
    matplotlib.rcParams.update({"figure.dpi": 72, "axes.titleweight": "normal"})
    figures.apply_style()
    assert matplotlib.rcParams["figure.dpi"] == figures.DPI == 110
    assert matplotlib.rcParams["savefig.dpi"] == 110 and matplotlib.rcParams["axes.titleweight"] == "bold"
    assert matplotlib.rcParams["axes.facecolor"] == "white" and matplotlib.rcParams["axes.grid"]
    setting = re.compile(r"set_theme|style\.use|sns\.set\(|set_style|rcParams\[[^]]+\]\s*=|rcParams\.update")
    elsewhere = [f"{p.relative_to(ROOT)}:{i}" for base in ("src", "notebooks") for p in (ROOT / base).rglob("*.py")
                 if p.name != "figures.py" for i, line in enumerate(p.read_text().splitlines(), 1)
                 if setting.search(line)]
    assert elsewhere == []


# --- a rendered report and index.html in Chromium with axe ------------------------------------------

REPORT_CELLS = [
    ("markdown", "# A small report\n\nWhat this report checks, in a sentence. Small numbers are suppressed (\"c\")."),
    ("markdown", "## Children looked after, by council"),
    ("code", """import matplotlib.pyplot as plt
import pandas as pd
from rcceval.reporting.figures import apply_style
from rcceval.reporting.publish import Publisher
apply_style()
pub = Publisher(OUT, "small")
table = pd.DataFrame({"council": ["S01", "S02"], "2024": [448, "c"], "2025": [437, 12]}).set_index("council")
display(table)
fig, ax = plt.subplots(figsize=(6, 3))
for la, values in [("S01", [448, 437]), ("S02", [15, 12])]:
    ax.plot([2024, 2025], values, marker="o", label=la)
ax.set(title="Children looked after on 31 March", xlabel="Year", ylabel="Children")
ax.legend(title="Council")
pub.figure("cla", fig)
plt.show()"""),
    ("markdown", "### By placement type"),
    ("code", """fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(["Foster", "Residential"], [70, 30])
ax.set(xlabel="Share of placements (%)")
pub.figure("mix", fig, alt="Bar chart: 70% of placements are foster placements, 30% residential.")
pub.save()"""),
    ("markdown", "## Conclusion\n\nA sentence."),
    ("code", "raise ValueError('no placement has a needs assessment')"),
]


@pytest.fixture(scope="module")
def small_report(tmp_path_factory) -> Path:
    """One small notebook executed in the project's kernel (as the runner does) and rendered to HTML by
    the package (runner.export_html: tracebacks out, contents, alt text)."""
    import nbformat
    from nbclient import NotebookClient

    from rcceval.reporting.runner import export_html, project_kernel
    tmp = tmp_path_factory.mktemp("report")
    nb = nbformat.v4.new_notebook()
    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb.cells = [nbformat.v4.new_code_cell(f"OUT = {str(tmp)!r}")] + [make[k](s) for k, s in REPORT_CELLS]
    with project_kernel() as kernel:
        NotebookClient(nb, kernel_name=kernel, timeout=120, allow_errors=True).execute(cwd=str(ROOT))
    nbformat.write(nb, str(tmp / "small.ipynb"))
    export_html(tmp / "small.ipynb", tmp / "small.html", keep_code=False)
    return tmp / "small.html"


@pytest.mark.slow
def test_rendered_report_has_contents_ordered_headings_and_alt_on_every_figure(small_report: Path):
    page = small_report.read_text(encoding="utf-8")
    assert heading_problems(heading_levels(page)) == []
    nav = page[page.index('<nav aria-labelledby="contents"'):page.index("</nav>")]
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', nav) == [
        ("Children-looked-after,-by-council", "Children looked after, by council"),
        ("By-placement-type", "By placement type"), ("Conclusion", "Conclusion")]
    assert all(f'id="{target}"' in page for target in re.findall(r'href="#([^"]+)"', nav))
    assert "<title>A small report</title>" in page
    alts = re.findall(r'<img alt="([^"]*)"', page)
    stored = json.loads((small_report.parent / "small" / "figures" / ALT_FILE).read_text())
    assert alts == [stored["cla"], stored["mix"]]                  # every figure, once, with its alt text
    assert stored["cla"] == ("Children looked after on 31 March: line chart of Children against Year, "
                             "from 2024 to 2025; Council: S01, S02.")
    assert stored["mix"] == "Bar chart: 70% of placements are foster placements, 30% residential."
    assert page.count("<img") == 2 and "Traceback" not in page
    assert re.search(r'<table[^>]*class="dataframe"', page) and "<th></th>" not in page   # no nameless header
    assert "This part of the report stopped on an unexpected error (ValueError" in page


@pytest.mark.slow
def test_axe_finds_no_serious_violation_in_a_report_or_index(small_report: Path, index_page: Path,  # noqa: F811
                                                                 tmp_path: Path):
    source = axe_source()
    browser = _browser(tmp_path)
    try:
        found = {page.name: violations(browser, page, source) for page in (small_report, index_page)}
        bad = violations(browser, _bad_page(tmp_path), source)
    finally:
        browser.quit()
    (tmp_path / "axe.json").write_text(json.dumps(found, indent=2))  # the full list, minor ones too: an artefact
    assert {name: blocking(v) for name, v in found.items()} == {small_report.name: [], index_page.name: []}
    assert found[small_report.name] == []                           # nor a minor one
    # the check can fail: a page with an unlabelled image and a nameless button is caught
    assert {"image-alt", "button-name"} <= {v["id"] for v in blocking(bad)}


def _bad_page(tmp_path: Path) -> Path:
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body><main><h1>Bad</h1>'
                    '<img src="x.png"><button></button></main></body></html>')
    return page


def test_index_figures_carry_the_alt_text_their_report_saved(tmp_path: Path):
    from test_index import Q1, _run_folder

    from rcceval.params import Parameters
    from rcceval.reporting import answers
    from rcceval.reporting.index import write_index
    from rcceval.reporting.runner import NotebookRun, RunOutcome
    run = _run_folder(tmp_path)
    folder = run / "01_needs_predict_stability" / "figures"
    folder.mkdir(parents=True)
    for stem in ("auc_and_gains", "calibration"):
        (folder / f"{stem}.png").write_bytes(b"png")
    (folder / ALT_FILE).write_text(json.dumps({"auc_and_gains": 'AUC of M0, M1 & M2 "with" intervals.'}))
    page = write_index(RunOutcome(run, [NotebookRun("01_needs_predict_stability", ok=True, results=Q1)]), run, "r",
                       Parameters(data_source="synthetic")).read_text()
    assert re.findall(r'<img src="([^"]+)" alt="([^"]*)"', page) == [
        ("01_needs_predict_stability/figures/auc_and_gains.png", "AUC of M0, M1 &amp; M2 &quot;with&quot; intervals."),
        ("01_needs_predict_stability/figures/calibration.png", answers.figure_label("calibration"))]  # none saved
