"""Time question 3's journey microsimulation: 10,000 children x 1,000 Monte Carlo draws, both scenarios
(unit-cost and needs-led), with the fitted hazards (Cox coefficients drawn from their robust
covariance, step baselines per council) and with the generating model, on 1 and 2 workers.

Reads the synthetic region (data/synthetic/region-seed<SEED>, or --data DIR, or --small to generate a
small region in a temporary folder), builds the analysis frame and fits CareCosting with few draws
(not timed beyond the setup line), then resamples its cohort to --children children and times
`costing_microsim.simulate` for --draws draws. --notebook also times
`rcceval run parameters/default.yaml --only 03_unit_cost_vs_needs_led` end to end.

Usage: python benchmarks/bench_costing.py [--data DIR | --small] [--children 10000] [--draws 1000] [--jobs 2] [--notebook]
Budget (the issue): 10,000 children x 1,000 draws in under 60 s on 2 cores.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from rcceval.analyses.costing.analysis import CareCosting
from rcceval.analyses.costing.hazard import CAUSES
from rcceval.analyses.costing.microsim import Cohort, Settings, simulate
from rcceval.analyses.costing.params import COST_GROUPS, load_costing
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec.codes import DAYS_PER_YEAR
from rcceval.spec.instruments import load_instrument

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60


def resample(c: Cohort, n: int, seed: int = 0) -> tuple[Cohort, np.ndarray]:
    """n children drawn with replacement from the cohort (every per-child array indexed alike)."""
    ix = np.random.default_rng(seed).integers(0, c.n, n)
    fields = {k: (v[ix] if isinstance(v, np.ndarray) and len(v) == c.n else v) for k, v in c.__dict__.items()}
    return Cohort(**fields), ix


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--seed", type=int, default=20240331)
    ap.add_argument("--children", type=int, default=10_000)
    ap.add_argument("--draws", type=int, default=1_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--notebook", action="store_true")
    args = ap.parse_args()
    inst = load_instrument(None)
    t0 = time.perf_counter()
    if args.small:
        from rcceval.synth import generate
        data = Path(tempfile.mkdtemp()) / "small"
        generate(data, scale="small", seed=7)
    else:
        data = args.data or ROOT / "data" / "synthetic" / f"region-seed{args.seed}"
    region = validate_region(read_region(data))
    placements = derive_placements(region.c903, extract_date=region.c903.extract_date)
    frame = analysis_frame(region, placements, inst, FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    truth = __import__("json").loads((data / "truth.json").read_text()) if (data / "truth.json").is_file() else None
    cp = load_costing(ROOT / "parameters" / "costing.yaml")
    cp = replace(cp, simulation=replace(cp.simulation, draws=2, break_even_draws=1))
    print(f"setup (load, frame, fit with 2 draws): {time.perf_counter() - t0:.1f} s  [{data}]")
    rows = []
    for source in ("fitted", "generating"):
        if source == "generating" and truth is None:
            continue
        q = CareCosting(cp, inst, seed=1, hazard_source=source).fit(frame, truth=truth)
        cohort, ix = resample(q.cohort, args.children)
        rng = np.random.default_rng(5)
        lays = [q._layout(q.hazards.causes[c], q.hazards.causes[c].draw_coefs(rng, args.draws)) for c in CAUSES]
        central = cp.central()
        for jobs in sorted({1, args.jobs}):
            st = Settings(horizon_days=cp.simulation.horizon_years * DAYS_PER_YEAR, capacity=cp.simulation.capacity,
                          max_placements=cp.simulation.max_placements, seed=1, n_jobs=jobs)
            t = time.perf_counter()
            j = simulate(cohort, q.pool, q.hazards, lays, st, q.nl_weekly_central[ix],
                         {g: central[f"unit.{g}"] for g in COST_GROUPS}, central["process_cost"])
            dt = time.perf_counter() - t
            moves = j.by_profile["unit_cost"][..., -1].sum()  # noqa: F841  (touch the result)
            rows.append((source, jobs, dt))
            print(f"{source:10s} {args.children:,} children x {args.draws:,} draws, both scenarios, n_jobs={jobs}: "
                  f"{dt:6.1f} s  ({2 * args.children * args.draws / dt / 1e6:.2f} M journeys/s)"
                  + ("  within budget" if jobs == args.jobs and dt < BUDGET_S else ""))
    if args.notebook:
        t = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "rcceval"), "run", "parameters/default.yaml", "--only",
                               "03_unit_cost_vs_needs_led"], cwd=ROOT, capture_output=True, text=True)
        print(f"notebook 03 at region scale (rcceval run --only): {time.perf_counter() - t:.1f} s, exit {done.returncode}")
    worst = max(dt for s, j, dt in rows if j == args.jobs)
    print(f"budget {BUDGET_S} s for the slowest source on {args.jobs} workers: {'met' if worst < BUDGET_S else 'MISSED'} ({worst:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
