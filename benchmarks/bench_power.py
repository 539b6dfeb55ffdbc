"""Simulated power curve timing: 8 sample sizes x 200 replicates on 2 cores (target: under 2 minutes).

Covariate rows come from the region-scale synthetic data (placements with needs, capability and a
placement request, as the dataset-proposal report resamples them); the generating model is its
truth.json with the behaviour domain's effect set to HR 1.2 per point; every other generating covariate
is adjusted for in each Cox fit (exact Efron, stats.cox.cox_efron). Sizes run from one small
council-year to five years of the largest council. Also times the same curve with 1 worker, and checks
the results are identical whatever the number of workers.

    .venv/bin/python benchmarks/bench_power.py [DATA_DIR] [--replicates 200] [--jobs 2]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rcceval.analyses.proposal import power as pw
from rcceval.analyses.survival.data import CoxSpec, design, follow_up
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec.instruments import load_instrument
from rcceval.synth.recovery import proposal_generating_model

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(150, 1), (300, 1), (600, 1), (600, 2), (1200, 2), (1800, 3), (3000, 3), (6000, 5)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(ROOT / "data/synthetic/region-seed20240331"))
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    region = validate_region(read_region(Path(args.data)))
    placements = derive_placements(region.c903, extract_date=region.c903.extract_date)
    inst = load_instrument(None)
    frame = analysis_frame(region, placements, inst, FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31")))
    d = design(follow_up(frame), inst, CoxSpec(second_best=True))
    model = proposal_generating_model(args.data).with_effect("intensity_behaviour", float(np.log(1.2)))
    rows = pw.generating_rows(d, model.names)
    print(f"data read, {len(rows):,} covariate rows x {rows.shape[1]} covariates: {time.perf_counter() - t0:.1f} s")

    timings = {}
    tables = {}
    for jobs in (args.jobs, 1):
        sim = pw.SimulatedPower(model, rows, "intensity_behaviour", replicates=args.replicates, seed=1, n_jobs=jobs)
        t = time.perf_counter()
        sim.fit(SIZES)
        timings[jobs] = time.perf_counter() - t
        tables[jobs] = sim.table
    same = tables[args.jobs].equals(tables[1])
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(tables[args.jobs][["placements", "years", "events_mean", "power", "ci_low", "ci_high", "analytic_power",
                                 "failed_fits"]].round(3).to_string(index=False))
    n_fits = len(SIZES) * args.replicates
    print(f"simulated power curve: {len(SIZES)} sizes x {args.replicates} replicates = {n_fits} Cox fits")
    print(f"  {args.jobs} workers: {timings[args.jobs]:.1f} s  (target < 120 s; {1000 * timings[args.jobs] / n_fits:.1f} ms a fit)")
    print(f"  1 worker : {timings[1]:.1f} s")
    print(f"  identical results whatever the workers: {same}")


if __name__ == "__main__":
    main()
