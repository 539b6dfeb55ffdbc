"""Time question 1 (needs predict placement stability) at region scale, step by step.

    python benchmarks/bench_stability.py                       # generates the region in a temporary folder
    python benchmarks/bench_stability.py --data data/synthetic/region-seed20240331
    python benchmarks/bench_stability.py --jobs 2 --bootstrap 200

Budget (the issue): the whole notebook at region scale under 2 minutes on 2 cores. The notebook's own
time is load + validate + derive (shared with every report), the analysis frame, and the analysis
timed here; `rcceval run parameters/default.yaml --only 01_needs_predict_stability` measures it whole.
Since issue 16 every bootstrap replicate reruns the cross-validation (bench_q1_bootstrap.py times one
replicate), so with 200 replicates the analysis no longer fits this budget; `--bootstrap 0` times the rest.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

BUDGET_ANALYSIS_S = 60      # leaves the rest of the 2 minutes to reading the data and the notebook


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="a region folder (default: generate one)")
    ap.add_argument("--seed", type=int, default=20240331)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()

    from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
    from rcceval.derive.frame import FrameOptions, analysis_frame
    from rcceval.derive.placements import derive_placements
    from rcceval.ingest.load import read_region
    from rcceval.ingest.validate import validate_region
    from rcceval.spec.instruments import load_instrument
    from rcceval.synth import generate

    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "region"
            t = time.perf_counter()
            generate(data, scale="region", seed=args.seed)
            times["generate region (not in the notebook)"] = time.perf_counter() - t
        t = time.perf_counter()
        region = validate_region(read_region(data))
        placements = derive_placements(region.c903, extract_date=region.c903.extract_date)
        times["load + validate + derive"] = time.perf_counter() - t
        t = time.perf_counter()
        frame = analysis_frame(region, placements, load_instrument(None),
                               FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
        times["analysis frame"] = time.perf_counter() - t
        q1 = NeedsStabilityAnalysis(folds=args.folds, bootstrap=args.bootstrap, seed=1, n_jobs=args.jobs)
        q1.fit(frame, extract_date=region.c903.extract_date)
        times.update({f"q1: {k}": v for k, v in q1.timings.items()})
    analysis = sum(v for k, v in times.items() if k.startswith("q1:"))
    for name, secs in times.items():
        print(f"{name:50s} {secs:7.1f} s")
    print(f"{'q1 analysis total':50s} {analysis:7.1f} s (budget {BUDGET_ANALYSIS_S} s)")
    print(f"placements {q1.counts['n_placements']:,}  children {q1.counts['n_children']:,}  person-period rows "
          f"{q1.counts['n_person_periods']:,}  bootstrap {args.bootstrap}  jobs {args.jobs}  "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if analysis < BUDGET_ANALYSIS_S else 1


if __name__ == "__main__":
    sys.exit(main())
