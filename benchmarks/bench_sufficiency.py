"""Time question 5 (needs audit, gap, nearest suitable placement, forecast) at region scale.

Reads a synthetic region (generated when absent), derives placements, then times each step of the
05_sufficiency_gap report's analyses: preparing the censuses and entries, the audit tables, needs by
age and between reviews, needs after a stable placement, the gap (maximum flows for every profile,
area and reach), the nearest suitable placement (children x settings, and foster children x the
foster pool, in chunks), the forecast and its back-test. Prints seconds per step and peak memory.

Usage: python benchmarks/bench_sufficiency.py [--data DIR] [--scale region] [--seed 20240331] [--draws 2000]
Target (2 cores, synthetic South East: 19 councils, 8 years): the analyses under 15 s, the whole
report (load + validate + derive + analyses + publishing) under 1 minute.
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from rcceval.analyses.sufficiency import forecast as sf
from rcceval.analyses.sufficiency import gap as sg
from rcceval.analyses.sufficiency import needs as sn
from rcceval.analyses.sufficiency.profiles import prepare
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec.instruments import load_instrument

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.rows.append((name, now - self.last))
        print(f"  {name:<42} {now - self.last:7.2f} s", flush=True)
        self.last = now


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="a data folder (default: the synthetic region)")
    ap.add_argument("--scale", default="region")
    ap.add_argument("--seed", type=int, default=20240331)
    ap.add_argument("--draws", type=int, default=2000)
    args = ap.parse_args()
    folder = args.data or ROOT / "data" / "synthetic" / f"{args.scale}-seed{args.seed}"
    if not (folder / "truth.json").is_file() and args.data is None:
        from rcceval.synth import generate
        print(f"generating the synthetic region in {folder}")
        generate(folder, scale=args.scale, seed=args.seed)
    ins = load_instrument()
    clock = Clock()
    region = validate_region(read_region(folder))
    clock.lap("load + validate")
    placements = derive_placements(region.c903)
    clock.lap("derive placements")
    start_analyses = time.perf_counter()
    data = prepare(region, placements, ins, region.c903.extract_date, lookback_days=183)
    clock.lap(f"prepare ({len(data.census):,} census rows, {len(data.assessments):,} assessments)")
    cur = data.current
    for by in ("LA", "AGE_BAND"):
        sn.profile_counts(cur, by)
    sn.placement_type_counts(cur)
    sn.domains_by_profile(cur, ins)
    sn.profile_counts(data.yearly, "YEAR")
    clock.lap("audit tables")
    sn.need_level_by_age(data.assessments)
    sn.change_between_reviews(data.assessments)
    clock.lap("needs by age and between reviews")
    sn.needs_after_stable_placement(data.placements, data.wide, data.header, ins, pd.Timestamp("2019-04-01"),
                                    pd.Timestamp("2025-03-31"), 183)
    clock.lap("needs after a stable placement")
    t = region.tables
    settings, _ = sg.register_settings(t.get("provider_register"), t.get("postcode_lookup"), ins)
    kids, excluded = sg.gap_children(cur, settings, t.get("postcode_lookup"), ins)
    gap = sg.gap_analysis(kids, settings, ins, data.councils, excluded=excluded)
    clock.lap(f"gap: {len(kids):,} children x {len(settings):,} settings, {len(gap.cells)} max flows")
    markets, _ = sg.local_children(cur, settings, t.get("postcode_lookup"), t.get("provider_register"),
                                   t.get("placement_agreements"), ins)
    sizes = ", ".join(f"{m} {len(k):,} x {len(c):,}" for m, (k, c) in markets.items())
    local = sg.local_summary({m: (k, sg.nearest_suitable(k, c, ins)) for m, (k, c) in markets.items()})
    clock.lap(f"nearest suitable ({sizes})")
    opts = sf.ForecastOptions(draws=args.draws)
    sf.forecast_demand(data.yearly, data.entries, data.years[-1], opts)
    clock.lap("forecast")
    bt = sf.backtest(data.yearly, data.entries, opts)
    clock.lap(f"back-test ({len(bt.table['origin'].unique())} origins)")
    analyses = time.perf_counter() - start_analyses
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"analyses: {analyses:.1f} s; total {sum(s for _, s in clock.rows):.1f} s; peak memory {peak:,.0f} MB")
    everyone = gap.cells.loc[gap.cells["AREA"].eq(sg.REGION) & gap.cells["PROFILE"].eq(sg.ALL)]
    print(f"region shortfall (all profiles) by reach: {everyone.set_index('REACH')['shortfall'].to_dict()}")
    print(f"in the nearest suitable placement (%): {local.to_dict()['pct_in_nearest_suitable']}")


if __name__ == "__main__":
    main()
