"""Time question 2 (survival of placements by need profile) at region scale, step by step, and the
whole report notebook.

Reads the synthetic region (data/synthetic/region-seed<SEED>, generated first if absent, or
--data DIR), builds the analysis frame, then times each step of PlacementSurvival.fit as the
notebook runs it: Kaplan-Meier and Aalen-Johansen by profile, k-means clusters, the main Cox
model with its proportional hazards test, the all-placements model, the cause-specific models,
and needs re-scored at reviews. --notebook also times `rcceval run parameters/default.yaml --only
02_placement_survival` end to end (papermill, HTML), the number the budget is about.

Usage: python benchmarks/bench_survival.py [--data DIR] [--seed N] [--notebook]
Budget (the issue): the notebook at region scale under 2 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from rcceval.analyses.survival.analysis import (
    CoxSpec,
    fit_cause_specific,
    fit_cox,
    fit_time_varying_needs,
    follow_up,
    incidence_by_profile,
    need_clusters,
    need_profiles,
    survival_by_profile,
)
from rcceval.derive.frame import FrameOptions, analysis_frame
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec import codes
from rcceval.spec.instruments import load_instrument

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 120


class Timer:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []

    def __call__(self, label: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.rows.append((label, time.perf_counter() - t0))
        print(f"  {label:<52} {self.rows[-1][1]:6.1f} s", flush=True)
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=20240331)
    ap.add_argument("--notebook", action="store_true", help="also time the report notebook end to end")
    args = ap.parse_args()
    data = args.data or ROOT / "data" / "synthetic" / f"region-seed{args.seed}"
    t = Timer()
    if not (data / "truth.json").is_file():
        from rcceval.synth import generate
        t("generate the synthetic region (not timed in the budget)", generate, data, scale="region", seed=args.seed)
    inst = load_instrument(None)
    region = t("read + validate", lambda: validate_region(read_region(data)))
    placements = t("derive placements", derive_placements, region.c903, extract_date=region.c903.extract_date)
    frame = t("analysis frame", analysis_frame, region, placements, inst,
              FrameOptions(pd.Timestamp("2019-04-01"), pd.Timestamp("2025-03-31"), 183))
    fu = t("follow-up + need profiles", follow_up, frame)
    prof = need_profiles(fu, inst)
    tier = prof["PROFILE_TIER"].rename("tier")
    t("Kaplan-Meier by tier (unplanned, any; clustered CIs)",
      lambda: [survival_by_profile(fu, tier, e) for e in ("unplanned", "any")])
    t("Aalen-Johansen by tier and by grid", lambda: [incidence_by_profile(fu, tier),
                                                      incidence_by_profile(fu, prof["PROFILE_GRID"])])
    t("k-means need clusters (k=4, 10 starts)", need_clusters, fu, inst, 4, 1)
    spec = CoxSpec(second_best=True)
    main_model = t("main Cox model (lifelines + R variance + PH test)", fit_cox, fu, inst, spec=spec)
    t("all-placements Cox model", fit_cox, fu, inst, spec=CoxSpec(), with_ph=False)
    t("cause-specific models (planned, left care)", fit_cause_specific, fu, inst, spec,
      causes=(codes.PLANNED, codes.LEFT_CARE))
    tv = t("needs re-scored at reviews (CoxTimeVaryingFitter)", fit_time_varying_needs, fu,
           region.tables["needs_assessments"], inst, spec, rows=main_model.design.rows)
    total = sum(s for label, s in t.rows if not label.startswith("generate"))
    print(f"  {'analysis total (no notebook overhead)':<52} {total:6.1f} s")
    print(f"  main model: {main_model.n:,} placements, {main_model.n_events:,} events; "
          f"time-varying: {tv.n:,} intervals")
    status = 0
    if args.notebook:
        t0 = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).parent / "rcceval"), "run", "parameters/default.yaml",
                               "--only", "02_placement_survival", "--run-id", "bench-q2"], cwd=ROOT,
                              capture_output=True, text=True)
        secs = time.perf_counter() - t0
        ok = proc.returncode == 0 and secs < BUDGET_S
        print(f"  {'notebook end to end (rcceval run --only 02)':<52} {secs:6.1f} s  "
              f"(budget {BUDGET_S} s: {'ok' if ok else 'OVER' if proc.returncode == 0 else 'FAILED'})")
        status = 0 if ok else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
