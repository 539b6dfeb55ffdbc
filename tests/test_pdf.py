"""`rcceval pdf RUN_DIR`: index.html (and with --reports each report) printed to PDF by headless
Chromium, on a hand-made run folder (test_index_browser.py's index.html; no notebook is run). The
PDF's text is read back (tests/pdftext.py) and must hold the answers and the provenance, and none of
what the print CSS leaves out (the council selector's hidden councils)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pdftext import page_texts
from required import missing
from test_index_browser import index_page  # noqa: F401 - the hand-made index.html fixture

from rcceval import cli
from rcceval.reporting import pdf as pdf_mod

A4 = (595, 842)   # points


def _need_chromium() -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        missing("chromium and chromedriver are not installed: .ci/run installs them (make system-deps)")


def _pages(data: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)]


@pytest.mark.slow
def test_rcceval_pdf_prints_the_answers_and_each_report(index_page: Path, tmp_path: Path, capsys):  # noqa: F811
    _need_chromium()
    run = index_page.parent
    (run / "00_data_quality.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>Data quality</title></head><body><main>'
        '<h1>Data quality: what was read</h1><p>Children looked after on 31 March, by council.</p>'
        '</main></body></html>', encoding="utf-8")
    out = tmp_path / "papers"
    assert cli.main(["pdf", str(run), "--reports", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"pdf: {out / 'index.pdf'}", f"pdf: {out / '00_data_quality.pdf'}"]

    data = (out / "index.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    sizes = _pages(data)
    assert 1 <= len(sizes) <= 12 and all((round(w), round(h)) == A4 for w, h in sizes), sizes   # A4, each page
    pages = page_texts(data)
    assert len(pages) == len(sizes)
    text = " ".join(pages)
    assert pages[0].startswith("Children's social care evaluation")
    for words in ["adding needs data raised the AUC from 0.77 to 0.82: +0.0552, 95% CI 0.0519 to 0.0585 "
                  "(likelihood ratio test p < 0.001)",
                  "a difference of £27,942 (95% CI £17,889 to £47,374) per child-year",
                  "Audit passed: 1,515 cells hidden", "Needs assessments are not in the data folder"]:
        assert words in text, words
    assert "Council S02: its own reports" not in text and "Show:" not in text     # print CSS: the region only

    report = page_texts((out / "00_data_quality.pdf").read_bytes())
    assert report == ["Data quality: what was read Children looked after on 31 March, by council."]


def test_rcceval_pdf_says_what_is_missing_without_a_traceback(tmp_path: Path, capsys, monkeypatch):
    assert cli.main(["pdf", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"'{tmp_path}': holds no index.html" in err and "Traceback" not in err
    (tmp_path / "index.html").write_text("<html></html>")
    monkeypatch.setattr(pdf_mod.shutil, "which", lambda name: None)
    assert cli.main(["pdf", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("rcceval pdf: printing to PDF needs Debian's chromium and chromium-driver "
                                       "packages (make system-deps installs them)\n")
    assert not (tmp_path / "index.pdf").exists()
