"""axe-core (Deque's accessibility rules engine, from the npm registry) run in a page open in headless
Chromium. `axe_source()` returns axe.min.js, installing the pinned version into .cache/axe with npm
when it is missing (`make axe`, or `python tests/a11y.py`, does the same ahead of time). Under CI a
missing axe or npm fails the test; elsewhere it skips."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_DIR = Path(__file__).resolve().parents[1] / ".cache" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")       # impacts a page must not have
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))
   .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def install_axe() -> Path:
    """axe.min.js of AXE_VERSION, installed with npm into AXE_DIR if absent; raises RuntimeError."""
    if AXE_JS.is_file():
        return AXE_JS
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: axe-core comes from the npm registry")
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "--silent",
                           f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not AXE_JS.is_file():
        raise RuntimeError(f"npm install axe-core@{AXE_VERSION} failed: {done.stderr.strip()[-500:]}")
    return AXE_JS


def axe_source() -> str:
    from required import missing
    try:
        return install_axe().read_text(encoding="utf-8")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        missing(f"axe-core is needed for the accessibility check: {exc}")


def violations(browser, page: Path, source: str) -> list[dict]:
    """axe's violations of the page (every rule axe runs by default), each with id, impact, help, nodes."""
    browser.get(page.as_uri())
    browser.set_script_timeout(120)
    browser.execute_script(source)
    return browser.execute_async_script(RUN_AXE)


def blocking(found: list[dict]) -> list[dict]:
    """The violations a page must not have: serious or critical."""
    return [v for v in found if v["impact"] in BLOCKING]


if __name__ == "__main__":
    try:
        print(f"axe-core {AXE_VERSION}: {install_axe()}")
    except RuntimeError as exc:
        sys.exit(f"axe: {exc}")
