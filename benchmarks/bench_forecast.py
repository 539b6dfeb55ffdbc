"""rcceval's forecast against the sector's open model (Social Finance / Data to Insight cs-demand-model).

Both tools forecast the children looked after on 31 March, 1 and 2 years after each origin, from the
same synthetic 903 returns; each forecast is compared with the count observed then (rcceval's
count: placements derived from the episodes, short breaks excluded as the DfE does). Printed: the
absolute % error of each tool by origin and horizon, for the total and for the age bands both tools
share (0-4, 5-9, 10-15, 16-17: the sector model's bins are 0-1, 1-5, 5-10, 10-16, 16-18), then the
mean over origins, and rcceval's 95% interval coverage. rcceval runs once on the region's pooled
returns; cs-demand-model is a one-council tool, so it runs per council (seeing only the returns up to
the origin year, rates from its default 6-month reference window before the origin) and its council
forecasts are summed. With --by-council, rcceval also forecasts each council on its own and the
interval coverage over origins and councils is printed.

cs-demand-model pins pandas<2, so it gets an environment of its own, made here on first use (like the
DfE validator's, rcceval.ingest.dfe_rules): $XDG_CACHE_HOME/rcceval/cs-demand-model-<hash> (or
~/.cache/...) from benchmarks/cs_demand_env/requirements.txt. It is never a dependency of rcceval.

Usage: python benchmarks/bench_forecast.py [--data data/synthetic] [--origins 2020 2021 2022 2023]
       [--councils N] [--jobs 2] [--draws 2000] [--window-months 6] [--by-council]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from rcceval.analyses.sufficiency import forecast as sf
from rcceval.analyses.sufficiency.result import forecast_inputs
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region

HERE = Path(__file__).resolve().parent
REQ = HERE / "cs_demand_env" / "requirements.txt"
RUNNER = HERE / "cs_demand_env" / "runner.py"
COMMON = (("0-4", 0, 4), ("5-9", 5, 9), ("10-15", 10, 15), ("16-17", 16, 17))
SECTOR_BINS = {"BIRTH_TO_ONE": "0-4", "ONE_TO_FIVE": "0-4", "FIVE_TO_TEN": "5-9", "TEN_TO_SIXTEEN": "10-15",
               "SIXTEEN_TO_EIGHTEEN": "16-17"}


def sector_env() -> Path:
    """The sector model's venv python, made on first use (python3.11 + the pinned requirements)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env = cache / "rcceval" / f"cs-demand-model-{hashlib.sha256(REQ.read_bytes()).hexdigest()[:12]}"
    python, done = env / "bin" / "python", env / ".rcceval-complete"
    if not done.exists():
        print(f"making the cs-demand-model environment in {env} (once)", flush=True)
        for cmd in ([os.environ.get("RCCEVAL_DEMAND_PYTHON", "python3.11"), "-m", "venv", "--clear", str(env)],
                    [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(REQ)]):
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode:
                sys.exit(f"cannot make the cs-demand-model environment: {' '.join(cmd[:3])}: "
                         f"{(run.stderr.strip().splitlines() or ['failed'])[-1]}")
        done.write_text(REQ.read_text())
    return python


def run_sector(python: Path, folder: Path, origins: list[int], window_months: int) -> dict:
    job = {"folder": str(folder), "origins": origins, "days": [365, 730], "window_months": window_months}
    run = subprocess.run([str(python), str(RUNNER), json.dumps(job)], capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"cs-demand-model on {folder.name}: {run.stderr.strip().splitlines()[-1:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def sector_table(results: dict[str, dict]) -> pd.DataFrame:
    """LA, origin, horizon, GROUP (common band or all), estimate."""
    rows = []
    for la, res in results.items():
        for origin, by_days in res.items():
            for days, bins in by_days.items():
                h = int(days) // 365
                for name, v in bins.items():
                    rows.append({"LA": la, "origin": int(origin), "horizon": h, "GROUP": SECTOR_BINS.get(name, name),
                                 "estimate": v})
    t = pd.DataFrame(rows).groupby(["LA", "origin", "horizon", "GROUP"], as_index=False)["estimate"].sum()
    total = t.groupby(["LA", "origin", "horizon"], as_index=False)["estimate"].sum().assign(GROUP="all")
    return pd.concat([t, total], ignore_index=True)


def observed(data: sf.ForecastData, year: int) -> pd.Series:
    s = data.snap.loc[data.snap["DATE"].eq(pd.Timestamp(year, 3, 31))]
    age = s["AGE_Q"] // 4
    out = {b: int(((age >= lo) & (age <= hi)).sum()) for b, lo, hi in COMMON}
    return pd.Series(out | {"all": len(s)})


def rcceval_table(data: sf.ForecastData, origins: list[int], draws: int) -> pd.DataFrame:
    rows = []
    for origin in origins:
        fc = sf.forecast_demand(data, origin, sf.ForecastOptions(horizons=(1, 2), draws=draws, extra_bands=COMMON))
        d = fc.detail.loc[fc.detail["DIMENSION"].isin(["extra_band", "total"])]
        for h in (1, 2):
            obs = observed(data, origin + h)
            for r in d.loc[d["horizon"].eq(h)].itertuples():
                rows.append({"origin": origin, "horizon": h, "GROUP": r.GROUP, "estimate": r.estimate, "low": r.low,
                             "high": r.high, "observed": obs[r.GROUP]})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("data/synthetic"))
    ap.add_argument("--origins", type=int, nargs="+", default=[2020, 2021, 2022, 2023])
    ap.add_argument("--councils", type=int, default=None, help="only the first N councils")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--window-months", type=int, default=6, help="the sector model's reference window")
    ap.add_argument("--by-council", action="store_true", help="rcceval per council too (interval coverage)")
    args = ap.parse_args()
    root = args.data / "903" if (args.data / "903").is_dir() else args.data
    councils = sorted(p.name for p in root.iterdir() if p.is_dir())[: args.councils]
    python = sector_env()

    t0 = time.perf_counter()
    region = validate_region(read_region(args.data))
    placements = derive_placements(region.c903)
    placements = placements.loc[placements["LA"].isin(councils)]
    years = sorted(int(y) for y in region.c903.episodes["YEAR"].dropna().unique())
    data = forecast_inputs(region, placements, years)
    print(f"read, validated and derived {len(councils)} councils in {time.perf_counter() - t0:.0f} s", flush=True)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        sector = dict(zip(councils, pool.map(lambda la: run_sector(python, root / la, args.origins, args.window_months),
                                             councils)))
    print(f"cs-demand-model: {len(councils)} councils x {len(args.origins)} origins in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    sec = sector_table(sector).groupby(["origin", "horizon", "GROUP"], as_index=False)["estimate"].sum()

    t0, c0 = time.perf_counter(), time.process_time()
    ours = rcceval_table(data, args.origins, args.draws)
    print(f"rcceval: {len(args.origins)} origins x {args.draws} simulations in {time.perf_counter() - t0:.0f} s "
          f"(CPU {time.process_time() - c0:.0f} s)", flush=True)

    both = ours.merge(sec.rename(columns={"estimate": "sector"}), on=["origin", "horizon", "GROUP"], how="left")
    both["ape_rcceval"] = 100 * (both["estimate"] - both["observed"]).abs() / both["observed"]
    both["ape_sector"] = 100 * (both["sector"] - both["observed"]).abs() / both["observed"]
    both["covered"] = both["observed"].between(both["low"], both["high"])
    order = ["all", *[b[0] for b in COMMON]]
    both["GROUP"] = pd.Categorical(both["GROUP"], order)
    pd.set_option("display.width", 200)
    print("\nAbsolute % error by origin (region = the councils above):")
    print(both.sort_values(["horizon", "GROUP", "origin"])[
        ["horizon", "GROUP", "origin", "observed", "estimate", "sector", "ape_rcceval", "ape_sector", "covered"]]
          .round(1).to_string(index=False))
    summary = both.groupby(["horizon", "GROUP"], observed=True).agg(
        origins=("origin", "nunique"), mape_rcceval=("ape_rcceval", "mean"), mape_sector=("ape_sector", "mean"),
        coverage_rcceval=("covered", "mean")).round(2)
    print("\nMean absolute % error over origins (h = years ahead):")
    print(summary.to_string())

    if args.by_council:
        rows = []
        for la in councils:
            sub = data.restrict(la)
            t = rcceval_table(sub, args.origins, min(args.draws, 1000))
            rows.append(t.assign(LA=la))
        bc = pd.concat(rows, ignore_index=True)
        bc["covered"] = bc["observed"].between(bc["low"], bc["high"])
        st = sector_table(sector)
        bc = bc.merge(st.rename(columns={"estimate": "sector"}), on=["LA", "origin", "horizon", "GROUP"], how="left")
        bc["ape_rcceval"] = 100 * (bc["estimate"] - bc["observed"]).abs() / bc["observed"].where(bc["observed"] > 0)
        bc["ape_sector"] = 100 * (bc["sector"] - bc["observed"]).abs() / bc["observed"].where(bc["observed"] > 0)
        print("\nBy council (each council's own rcceval fit), over origins and councils:")
        print(bc.groupby(["horizon", "GROUP"]).agg(mape_rcceval=("ape_rcceval", "mean"),
                                                   mape_sector=("ape_sector", "mean"),
                                                   coverage_rcceval=("covered", "mean")).round(2).to_string())


if __name__ == "__main__":
    main()
