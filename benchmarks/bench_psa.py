"""Time question 3's probabilistic sensitivity analysis: `outer` parameter sets (child bootstrap refits of
the three cause-specific Cox models, warm-started Newton steps, with their council baselines; one draw of
every cost figure) x `inner` simulated journeys of every child, both scenarios, on n_jobs workers.

Reads the synthetic region (data/synthetic/region-seed<SEED>, or --data DIR, or --small), builds the
analysis frame, fits question 3's hazards (or reads them with the frame from --cache, a pickle this script
writes on its first run: building the region's frame takes minutes on a shared machine), sets up
CareCosting with the PSA off, then times `costing.psa.run_psa`. Reports wall-clock time, the CPU time
summed over sets and workers (the machine is shared: wall time depends on the other load), the time per
set, and the Monte Carlo / parameter split of the cost difference.

Usage: python benchmarks/bench_psa.py [--data DIR | --small] [--outer 200] [--inner N] [--jobs 2] [--cache FILE]
Target (issue 17): 200 outer sets on the region cohort in at most 120 s on 2 cores.
"""
from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from rcceval.analyses.costing.analysis import CareCosting, fitted_hazards
from rcceval.analyses.costing.decision import split_uncertainty
from rcceval.analyses.costing.params import load_costing
from rcceval.analyses.costing.psa import run_psa
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec.instruments import load_instrument

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 120


def _inputs(args, inst):
    if args.cache and args.cache.is_file():
        return pickle.loads(args.cache.read_bytes())
    if args.small:
        from rcceval.synth import generate
        data = Path(tempfile.mkdtemp()) / "small"
        generate(data, scale="small", seed=7)
    else:
        data = args.data or ROOT / "data" / "synthetic" / f"region-seed{args.seed}"
    region = validate_region(read_region(data))
    placements = derive_placements(region.c903, extract_date=region.c903.extract_date)
    frame = analysis_frame(region, placements, inst, FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    out = (frame, region.c903.header, region.tables.get("placement_agreements"),
           fitted_hazards(frame, inst, region.c903.header))
    if args.cache:
        args.cache.write_bytes(pickle.dumps(out))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--seed", type=int, default=20240331)
    ap.add_argument("--outer", type=int, default=200)
    ap.add_argument("--inner", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args()
    inst = load_instrument(None)
    t0 = time.perf_counter()
    frame, header, agreements, hazards = _inputs(args, inst)
    cp = load_costing(ROOT / "parameters" / "costing.yaml")
    cp = replace(cp, simulation=replace(cp.simulation, draws=2, break_even_draws=1),
                 psa=replace(cp.psa, outer=0, inner=args.inner or cp.psa.inner))
    q = CareCosting(cp, inst, seed=args.seed, n_jobs=args.jobs).fit(frame, agreements, hazards=hazards, header=header)
    print(f"setup (frame, hazards, CareCosting without the PSA): {time.perf_counter() - t0:.1f} s; "
          f"{q.cohort.n:,} children, tails {q.tail_choice}")
    t, c = time.perf_counter(), time.process_time()
    out = run_psa(q, outer=args.outer, n_jobs=args.jobs)
    wall, main_cpu = time.perf_counter() - t, time.process_time() - c
    s = split_uncertainty(out.delta_cost)
    print(f"PSA {args.outer} outer sets x {cp.psa.inner} inner journeys of {q.cohort.n:,} children, n_jobs={args.jobs}: "
          f"wall {wall:.1f} s, CPU in the sets {out.cpu_seconds:.1f} s (main process {main_cpu:.1f} s), "
          f"{out.cpu_seconds / max(args.outer, 1):.2f} CPU s a set; refits with every step accepted "
          f"{out.refits_ok} of {out.refits}")
    print(f"cost difference per child {s.mean:,.0f}: parameter sd {s.parameter_sd:,.0f}, Monte Carlo sd of a set's "
          f"mean {s.mc_sd_of_set_mean:,.0f} ({100 * s.mc_share:.1f}% of the between-set variance)")
    print(f"target {BUDGET_S} s wall on 2 cores: {'met' if wall <= BUDGET_S else 'MISSED'} ({wall:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
