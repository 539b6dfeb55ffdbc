"""Time the DfE rules (csc-validator-be-903 in its own venv) over a region, on 1 and 2 workers,
and count what they flag, by rule (rows and children): what the synthetic generator should fix.

Usage: python benchmarks/bench_dfe_rules.py [--data DIR] [--jobs 2] [--councils N]
Default data: data/synthetic/region-seed20240331 (19 councils x 8 years = 152 council-years).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from rcceval.ingest.dfe_rules import council_years, dfe_problems, ensure_env
from rcceval.ingest.load import find_903_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/synthetic/region-seed20240331")
    parser.add_argument("--jobs", default="2", help="comma-separated worker counts to time (default 2)")
    parser.add_argument("--councils", type=int, help="only the first N councils (quicker look)")
    args = parser.parse_args()
    root = find_903_root(Path(args.data))
    if args.councils:
        import shutil
        import tempfile
        tmp = Path(tempfile.mkdtemp(prefix="bench-dfe-"))
        for la in sorted(p for p in root.iterdir() if p.is_dir())[: args.councils]:
            shutil.copytree(la, tmp / la.name)
        root = tmp
    t0 = time.perf_counter()
    ensure_env()
    print(f"validator environment ready in {time.perf_counter() - t0:.1f} s")
    n = len(council_years(root))
    frame = None
    for jobs in [int(j) for j in args.jobs.split(",")]:
        t0 = time.perf_counter()
        frame = dfe_problems(root, jobs=jobs).frame()
        took = time.perf_counter() - t0
        print(f"{n} council-years, {jobs} worker(s): {took:.1f} s ({took / n:.2f} s a council-year), "
              f"{len(frame)} findings")
    if frame is not None and len(frame):
        by = (frame.assign(child=frame["LA"] + "/" + frame["CHILD"])
              .groupby(["severity", "rule"]).agg(rows=("row", "size"), children=("child", "nunique"),
                                                  example=("message", "first")))
        by["example"] = by["example"].str.slice(0, 90)
        with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 90):
            print(by.sort_values("rows", ascending=False).to_string())


if __name__ == "__main__":
    main()
