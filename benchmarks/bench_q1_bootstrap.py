"""Time one replicate of question 1's refitting bootstrap at region scale (issue 16, item 3).

    python benchmarks/bench_q1_bootstrap.py --data data/synthetic/region-seed20240331
    python benchmarks/bench_q1_bootstrap.py --data data/synthetic/region-seed20240331 --replicates 4 --steps 2

Each replicate reruns the whole cross-validation: every fold's models (M0-M2, M1 without each need
domain; the unplanned and the other-ending hazard) refitted on resampled children, one Fisher-scoring
step from the fold's fit with the resample as frequency weights (bootstrap.py). The replicates run
here in this process, one after another (set OPENBLAS_NUM_THREADS=1 for the single-core figure a
joblib worker sees); CPU and wall seconds per replicate are printed with the projection for the
headline's 200 replicates on 2 workers. A previous design (refitting every fold to convergence on
copied rows) measured 160 s CPU per replicate.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="a region folder (default: generate one)")
    ap.add_argument("--seed", type=int, default=20240331)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1, help="Fisher-scoring steps per refit")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="print where a replicate's time goes (cProfile)")
    args = ap.parse_args()

    from rcceval.analyses.prediction import bootstrap as sb
    from rcceval.analyses.prediction.analysis import NeedsStabilityAnalysis
    from rcceval.derive.frame import FrameOptions, analysis_frame
    from rcceval.derive.placements import derive_placements
    from rcceval.ingest.load import read_region
    from rcceval.ingest.validate import validate_region
    from rcceval.spec.instruments import load_instrument
    from rcceval.synth import generate

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "region"
            generate(data, scale="region", seed=args.seed)
        region = validate_region(read_region(data))
        placements = derive_placements(region.c903, extract_date=region.c903.extract_date)
        frame = analysis_frame(region, placements, load_instrument(None),
                               FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    t = time.perf_counter()
    q1 = NeedsStabilityAnalysis(folds=args.folds, bootstrap=0, seed=1, n_jobs=1, sensitivity=False,
                                domain_tests=False)
    q1.fit(frame, extract_date=region.c903.extract_date)
    fit_s = time.perf_counter() - t
    d = q1._bootstrap_data
    sb._chunk(d, 1, [0], args.steps)          # warm-up (first-touch of the arrays)
    wall, cpu = time.perf_counter(), time.process_time()
    sb._chunk(d, 1, list(range(1, args.replicates + 1)), args.steps)
    per_wall = (time.perf_counter() - wall) / args.replicates
    per_cpu = (time.process_time() - cpu) / args.replicates
    n_fits = args.folds * (len(d.specs) + sum(o is None for _, o in d.specs.values()))
    print(f"placements {len(d.y):,}  children {d.n_children:,}  person-period rows {len(d.rows[1].y):,}  "
          f"columns {d.X.shape[1]}  models {len(d.specs)}  refits per replicate {n_fits}  steps {args.steps}")
    print(f"fits + cross-validation without bootstrap       {fit_s:8.1f} s")
    print(f"per replicate (whole cross-validation refitted)  {per_wall:8.2f} s wall  {per_cpu:8.2f} s CPU")
    print(f"200 replicates on 2 workers (projected)         {200 * per_cpu / 2 / 60:8.1f} min")
    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.runcall(sb._chunk, d, 1, [args.replicates + 1], args.steps)
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
