"""Time the synthetic region generator at region and national scale.

    python benchmarks/bench_synth.py                 # region and national, in a temporary folder
    python benchmarks/bench_synth.py --scale region  # one scale
    python benchmarks/bench_synth.py --out /tmp/x    # keep the files

Each scale runs in its own process so its peak memory (resource.getrusage) is its own.
Budgets (issue 15): region at most 15 s, national at most 120 s, peak memory at most 4 GB, on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = {"small": 10, "region": 15, "national": 120}


def run_one(scale: str, out: Path, seed: int) -> dict:
    from rcceval.synth import generate

    t0 = time.perf_counter()
    truth = generate(out, scale=scale, seed=seed)
    secs = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    calib = truth["achieved_calibration"]
    return {
        "scale": scale, "seconds": round(secs, 1), "peak_memory_mb": round(peak_mb), "output_mb": round(size_mb),
        "budget_seconds": BUDGET_S[scale], "within_budget": secs < BUDGET_S[scale],
        "episodes": truth["files"]["903"]["episodes"], "needs_rows": truth["files"]["needs_assessments.csv"],
        "looked_after_31_march": calib["looked_after_31_march"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["small", "region", "national"], action="append")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="keep the generated files here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    scales = args.scale or ["region", "national"]
    if args.child:
        print(json.dumps(run_one(scales[0], args.out, args.seed)))
        return 0
    ok = True
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            out = (args.out / scale) if args.out else Path(tmp) / scale
            cmd = [sys.executable, __file__, "--child", "--scale", scale, "--seed", str(args.seed), "--out", str(out)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                print(res.stderr, file=sys.stderr)
                return res.returncode
            r = json.loads(res.stdout.strip().splitlines()[-1])
            ok &= r["within_budget"]
            print(f"{scale:9s} {r['seconds']:7.1f} s (budget {r['budget_seconds']} s)  peak {r['peak_memory_mb']} MB  "
                  f"output {r['output_mb']} MB  episodes {r['episodes']:,}  needs rows {r['needs_rows']:,}  "
                  f"looked after 31 March {r['looked_after_31_march']:,}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
