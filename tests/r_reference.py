"""Run a small R script against data from Python and read its results back, exactly.

R `survival` is the reference implementation the statistical standards name, so tests (and the
Cox benchmark) hand the same data to R and compare. Data goes over as raw float64 columns
(`readBin`), not CSV, so both sides see bit-identical inputs and a million rows load in a
second; results come back as text written with 17 significant digits (`%.17g`), which
round-trips a double exactly.

In an R script:
- `inp(name)` returns the data frame sent as `inputs[name]` (numeric columns only);
- `emit(name, x)` sends back a vector or matrix (NA, NaN and +/-Inf survive);
- `emit_time(name, expr)` evaluates expr, sends back its elapsed seconds, returns its value.

Availability: `require_r()` skips the calling test when Rscript or a needed R package is
missing, but fails instead when the environment variable CI is set (the repository's CI installs
R, so a missing R there is a broken set-up, not a reason to skip).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from required import missing

R_PACKAGES = ("survival", "cmprsk")

PRELUDE = r"""
.args <- commandArgs(trailingOnly = TRUE)
.in_dir <- .args[1]
.out_dir <- .args[2]
suppressPackageStartupMessages({ library(survival); library(cmprsk) })
inp <- function(name) {
  man <- readLines(file.path(.in_dir, paste0(name, ".cols")))
  n <- as.integer(man[1])
  cols <- man[-1]
  out <- lapply(cols, function(col) {
    con <- file(file.path(.in_dir, paste0(name, "__", col, ".f64")), "rb")
    on.exit(close(con))
    readBin(con, "double", n = n, size = 8, endian = "little")
  })
  names(out) <- cols
  as.data.frame(out, optional = TRUE)
}
emit <- function(name, x) {
  x <- as.matrix(x)
  txt <- sprintf("%.17g", as.vector(x))
  txt[is.na(x) & !is.nan(x)] <- "NA"
  writeLines(c(paste(dim(x), collapse = " "), txt), file.path(.out_dir, paste0(name, ".txt")))
}
emit_time <- function(name, expr) {
  t0 <- proc.time()[["elapsed"]]
  val <- expr
  emit(name, proc.time()[["elapsed"]] - t0)
  val
}
"""


class RUnavailable(RuntimeError):
    """Rscript or one of the R packages the reference checks need is not installed."""


def r_available() -> str | None:
    """None when Rscript with survival and cmprsk works, else the reason it does not."""
    exe = shutil.which("Rscript")
    if exe is None:
        return "Rscript not found on PATH"
    libs = "; ".join(f"library({p})" for p in R_PACKAGES)
    proc = subprocess.run([exe, "-e", libs], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"R packages missing: {proc.stderr.strip()[-300:]}"
    return None


_R_STATUS: list[str | None] = []


def require_r() -> None:
    """Skip the test without R, or fail under CI=true (CI installs R, so absence is a bug)."""

    if not _R_STATUS:
        _R_STATUS.append(r_available())
    reason = _R_STATUS[0]
    if reason is None:
        return
    missing(f"R reference checks: {reason}")


def _write_frame(folder: Path, name: str, frame: pd.DataFrame) -> None:
    cols = [str(c) for c in frame.columns]
    (folder / f"{name}.cols").write_text("\n".join([str(len(frame)), *cols]) + "\n")
    for col, src in zip(cols, frame.columns):
        values = np.ascontiguousarray(frame[src].to_numpy(dtype="<f8"))
        values.tofile(folder / f"{name}__{col}.f64")


def _read_result(path: Path) -> np.ndarray:
    lines = path.read_text().split("\n")
    dims = [int(d) for d in lines[0].split()]
    vals = np.array([float(v) if v != "NA" else np.nan for v in lines[1:1 + int(np.prod(dims))]])
    mat = vals.reshape(dims[::-1]).T  # R is column-major
    if mat.size == 1:
        return mat.reshape(())  # a scalar (0-d array: float() and int() work on it)
    return mat[:, 0] if mat.ndim == 2 and mat.shape[1] == 1 else mat


def run_r(script: str, inputs: dict[str, pd.DataFrame] | None = None,
          timeout: float = 3600) -> dict[str, np.ndarray]:
    """Run `script` (after the prelude) on `inputs`; return everything it `emit`ted.

    Raises RUnavailable when Rscript is missing and RuntimeError (with R's stderr) when the
    script fails, so a broken reference never passes silently.
    """
    exe = shutil.which("Rscript")
    if exe is None:
        raise RUnavailable("Rscript not found on PATH")
    with tempfile.TemporaryDirectory(prefix="rcceval_r_") as tmp:
        tmp_path = Path(tmp)
        in_dir, out_dir = tmp_path / "in", tmp_path / "out"
        in_dir.mkdir()
        out_dir.mkdir()
        for name, frame in (inputs or {}).items():
            _write_frame(in_dir, name, frame)
        script_path = tmp_path / "script.R"
        script_path.write_text(PRELUDE + "\n" + script)
        proc = subprocess.run([exe, "--vanilla", str(script_path), str(in_dir), str(out_dir)],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"R script failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return {p.stem: _read_result(p) for p in sorted(out_dir.glob("*.txt"))}


def max_rel_diff(ours, ref) -> float:
    """Largest |ours - ref| / |ref| over finite entries; NaN/Inf must sit in the same places."""
    a = np.asarray(ours, dtype=float)
    b = np.asarray(ref, dtype=float)
    if a.shape != b.shape:
        raise AssertionError(f"shape {a.shape} != reference shape {b.shape}")
    fin = np.isfinite(b)
    if not np.array_equal(fin, np.isfinite(a)):
        raise AssertionError("non-finite values in different places than the reference")
    if not np.array_equal(b[~fin], a[~fin], equal_nan=True):
        raise AssertionError("infinite values differ from the reference")
    if not fin.any():
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(a[fin] - b[fin]) / np.abs(b[fin])
    rel[(a[fin] == b[fin])] = 0.0
    return float(np.max(rel))


if __name__ == "__main__":  # a smoke check: python tests/r_reference.py
    print(r_available() or "R ok")
    res = run_r('emit("x", inp("d")$a * 2); emit("m", matrix(1:6, 2))',
                {"d": pd.DataFrame({"a": [0.1, 1 / 3, np.pi]})})
    print(json.dumps({k: v.tolist() for k, v in res.items()}))
