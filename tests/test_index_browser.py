"""index.html in headless Chromium, built from hand-made results.json files (no notebook is run):
no internal key names, no "p 0", every image loads, a sane page height, the council selector works,
and it prints to PDF. Screenshots and the PDF are kept under pytest's tmp folder as artefacts."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_index import AUDIT, Q1, _est, _run_folder
from test_reports import _browser

from rcceval.params import Parameters
from rcceval.reporting.index import write_index
from rcceval.reporting.pdf import print_pdf
from rcceval.reporting.runner import NotebookRun, RunOutcome

IDENTIFIER = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9%]+)+\b")    # snake_case: a key name, not a word
P_ZERO = re.compile(r"\bp\s*(?:=\s*)?0(?:\.0+)?(?![.\d])")          # "p 0", "p = 0", "p = 0.000"
MAX_HEIGHT = 9000                                                     # px at 1280 wide: six questions, one page each at most

RESULTS = {
    "00_data_quality": {"placements_in_window": 3656, "files_read": 69, "children_looked_after_31_march": {"2024": 448, "2025": 437},
                        "problems": {"fatal": 0, "fixable": 0, "warning": 3102},
                        "pct_placements_with_assessment": {"count": 3455, "total": 3656, "value": 0.945},
                        "pct_placements_with_request": {"count": 1461, "total": 3656, "value": 0.3996},
                        "pct_3plus_placements_year": {"count": 59, "total": 437, "value": 0.135},
                        "pct_long_term_stability": {"count": "c", "total": 141, "value": "c"}},
    "01_needs_predict_stability": {**Q1, "hr_m2": {"F_behaviour": _est(1.01, 0.86, 1.2)}, "brier_m0": 0.112,
                                   "wald_robust_m1_m0": {"statistic": 262.4, "df": 16, "p": 0.0, "method": "cluster-robust Wald"}},
    "02_placement_survival": {"cif_unplanned_1y_by_tier": {"Straightforward": _est(0.0503, 0.0332, 0.0761),
                                                           "Extensive and enduring": _est(0.2237, 0.1918, 0.2608)},
                              "logrank_unplanned_by_tier": {"statistic": 127.1, "df": 2, "p": 0.0, "method": "log-rank (lifelines)"},
                              "main_model": {"hazard_ratios": {"MISMATCH": {"hr": _est(1.287, 1.213, 1.367), "p": 0.0}},
                                             "children": 823, "events": 216}},
    "03_unit_cost_vs_needs_led": {"cost_per_child_year": {"needs_led": _est(117677.9, 110731.6, 133160.0),
                                                          "unit_cost": _est(89736.2, 85593.7, 94316.8)},
                                  "difference_per_child_year": _est(27941.7, 17889.1, 47373.7),
                                  "old_spelling": {"cif_unplanned_1y": 0.05}},
    "04_dataset_proposal": {"mdhr_80_with_5_years": {"region": 1.361, "national": 1.023, "council_median": 1.555},
                            "preferred_type_secured": {"design_effect": 1.09, "share": {
                                "count": 1318, "total": 1461, "value": 0.9021, "lower": 0.885, "upper": 0.9169, "level": 0.95}}},
    "05_sufficiency_gap": {"region_shortfall_all_profiles": {"council": 20, "within_20_miles": 18, "region": "c", "anywhere": 16},
                           "stable_placement_effect": _est(0.0108, -0.013, 0.0346),
                           "stable_placement_test": {"statistic": 0.89, "df": None, "p": 0.3734, "method": "Wald z"}},
}
FIGURES = {"00_data_quality": ["cla_over_time", "placement_mix"], "01_needs_predict_stability": ["auc_and_gains", "calibration"],
           "02_placement_survival": ["cif_by_profile"], "03_unit_cost_vs_needs_led": ["cost_per_child_year", "tornado"],
           "04_dataset_proposal": ["mdhr_by_years"], "05_sufficiency_gap": ["forecast", "shortfall_heatmap"]}


def _figure(path: Path, wide: bool) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 3) if wide else (5, 4))
    ax.plot([0, 1, 2], [1, 0.8, 0.7])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=60)
    plt.close(fig)


def _notebooks(folder: Path, failed: str | None = None) -> list[NotebookRun]:
    runs = []
    for name, results in RESULTS.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "results.json").write_text(json.dumps({"notebook": name, "results": results}))
        for i, stem in enumerate(FIGURES[name]):
            _figure(folder / name / "figures" / f"{stem}.png", wide=i == 0)
        ok = name != failed
        runs.append(NotebookRun(name, ok=ok, seconds=12.0, results=results if ok else {},
                                error="" if ok else "cell 7: ValueError: no placement has a needs assessment",
                                skipped=[{"sentence": "Needs assessments are not in the data folder: see data/README.md."}]
                                if name == "05_sufficiency_gap" else []))
    return runs


@pytest.fixture(scope="module")
def index_page(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("index")
    run = _run_folder(tmp, AUDIT)
    subs = {la: RunOutcome(run / "la" / la, _notebooks(run / "la" / la, failed="03_unit_cost_vs_needs_led" if la == "S02" else None))
            for la in ("S01", "S02")}
    return write_index(RunOutcome(run, _notebooks(run), subs), run, "small", Parameters(data_source="synthetic", seed=7))


def visible_images(browser) -> list:
    return browser.execute_script(
        "return Array.from(document.images).filter(i => i.offsetParent !== null)"
        ".map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.getBoundingClientRect().width,"
        " i.getBoundingClientRect().height]);")


def check_page(browser, page: Path, shots: Path, min_images: int = 0) -> str:
    """The page's visible text, after checking it: no key names, no "p 0", every visible image loaded,
    height within MAX_HEIGHT; a full-page screenshot saved in `shots`."""
    browser.get(page.as_uri())
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(height, MAX_HEIGHT))
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight); window.scrollTo(0, 0);")
    images = visible_images(browser)
    text = browser.find_element("tag name", "body").text
    shots.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(shots / f"{page.stem}.png"))
    assert len(images) >= min_images, page
    assert all(done and w > 0 for _, done, w, _, _ in images), [i for i in images if not (i[1] and i[2] > 0)]
    assert not IDENTIFIER.findall(text), sorted(set(IDENTIFIER.findall(text)))[:10]
    assert not P_ZERO.search(text), P_ZERO.search(text)
    assert 1000 < height < MAX_HEIGHT, height
    return text


@pytest.mark.slow
def test_index_reads_as_an_answer_in_chromium(index_page: Path, tmp_path: Path):
    browser = _browser(tmp_path)
    try:
        text = check_page(browser, index_page, tmp_path / "screenshots", min_images=10)
        sizes = {(round(w), round(h)) for _, _, _, w, h in visible_images(browser)}
        assert len(sizes) == 1, sizes                                # every figure at one size
        for words in ["+0.0552, 95% CI 0.0519 to 0.0585 (likelihood ratio test p < 0.001)",
                      "a difference of £27,942 (95% CI £17,889 to £47,374) per child-year",
                      "Audit passed: 1,515 cells hidden", "Needs assessments are not in the data folder",
                      "c (suppressed: fewer than 5)"]:
            assert words in text, words
        assert "Untyped" not in text and "design effect" not in text.lower()

        # the council selector: S02's answers, its failed report with the reason; the region's hidden
        from selenium.webdriver.support.ui import Select
        Select(browser.find_element("id", "council")).select_by_value("S02")
        shown = browser.execute_script("return Array.from(document.querySelectorAll('.scope'))"
                                       ".filter(s => !s.hidden).map(s => s.dataset.council);")
        assert shown == ["S02"]
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight); window.scrollTo(0, 0);")
        browser.implicitly_wait(2)
        council = browser.find_element("tag name", "main").text
        assert council.count("Council S02: its own reports") == 1
        assert "This report failed: cell 7: ValueError: no placement has a needs assessment" in council
        images = visible_images(browser)
        assert images and all(src.startswith("la/S02/") for src, *_ in images)
        browser.save_screenshot(str(tmp_path / "screenshots" / "index-S02.png"))

        # printable: Chromium's print to PDF as `rcceval pdf` does it (reporting/pdf.py), the region only
        pdf = print_pdf(index_page, tmp_path / "index.pdf", browser).read_bytes()
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert pdf.startswith(b"%PDF") and 2 <= pages <= 12, pages
    finally:
        browser.quit()
