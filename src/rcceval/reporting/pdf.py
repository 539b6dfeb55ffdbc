"""PDF of a run's pages for committee papers: index.html (and, if asked, each report) printed by
headless Chromium, as a person would with the browser's "Save as PDF".

Chromium's own print (the DevTools Page.printToPDF command, through selenium and chromedriver) uses
the pages' print CSS: A4, no navigation or council selector, the region's answers only. It waits
until every image has loaded, so no figure prints blank. Chromium and chromedriver are Debian's
packages (make system-deps); selenium is the `pdf` extra (pip install 'rcceval[pdf]').
"""
from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rcceval.errors import ParameterError

CHROMIUM_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,2000")
A4_INCHES = (8.27, 11.69)
LOAD_SECONDS = 60
PRINT = {"printBackground": True, "preferCSSPageSize": True, "paperWidth": A4_INCHES[0],
         "paperHeight": A4_INCHES[1], "displayHeaderFooter": False}

__all__ = ["chromium", "print_pdf", "print_run"]


class BrowserMissing(RuntimeError):
    """Chromium, chromedriver or selenium is not installed: the message says how to install it."""


def _binaries() -> tuple[str, str]:
    chromium_bin = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium_bin and driver):
        raise BrowserMissing("printing to PDF needs Debian's chromium and chromium-driver packages "
                             "(make system-deps installs them)")
    return chromium_bin, driver


@contextmanager
def chromium(profile: Path | None = None) -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, with a throw-away profile; quit on leaving."""
    chromium_bin, driver = _binaries()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BrowserMissing("printing to PDF needs selenium: pip install 'rcceval[pdf]'") from None
    with tempfile.TemporaryDirectory(prefix="rcceval-chrome-") as tmp:
        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium_bin
        for arg in (*CHROMIUM_ARGS, f"--user-data-dir={profile or Path(tmp)}"):
            opts.add_argument(arg)
        browser = webdriver.Chrome(options=opts, service=Service(driver))
        try:
            yield browser
        finally:
            browser.quit()


def _loaded(browser: Any) -> bool:
    return bool(browser.execute_script(
        "return document.readyState === 'complete' && Array.from(document.images)"
        ".filter(i => i.offsetParent !== null).every(i => i.complete);"))


def print_pdf(page: Path, pdf: Path, browser: Any | None = None) -> Path:
    """Print one HTML page to `pdf` (A4 unless the page's CSS says otherwise), in `browser` or a new one."""
    page = Path(page).resolve()
    if not page.is_file():
        raise ParameterError("pdf", "page", str(page), "is not a file: give a run folder holding index.html")
    if browser is None:
        with chromium() as fresh:
            return print_pdf(page, pdf, fresh)
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    browser.execute_script("Array.from(document.images).forEach(i => { i.loading = 'eager'; });")
    WebDriverWait(browser, LOAD_SECONDS).until(_loaded)
    data = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", dict(PRINT))["data"])
    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    tmp = pdf.with_name(f".{pdf.name}.partial")
    tmp.write_bytes(data)
    tmp.replace(pdf)   # nothing half-written under the real name
    return pdf


def print_run(run_dir: Path, reports: bool = False, out: Path | None = None,
              names: Sequence[str] | None = None) -> list[Path]:
    """index.html of a run folder as index.pdf (and each report NAME.html as NAME.pdf with `reports`),
    written into `out` (default: the run folder). Returns the PDFs written."""
    run_dir = Path(run_dir)
    index = run_dir / "index.html"
    if not index.is_file():
        raise ParameterError("pdf", "run_dir", str(run_dir), "holds no index.html: give a folder that "
                             "`rcceval run` wrote (outputs/<run>/)")
    pages = [index]
    if reports:
        found = sorted(p for p in run_dir.glob("[0-9]*.html"))
        pages += [p for p in found if names is None or p.stem in names]
    target = Path(out) if out is not None else run_dir
    with chromium() as browser:
        return [print_pdf(p, target / f"{p.stem}.pdf", browser) for p in pages]
