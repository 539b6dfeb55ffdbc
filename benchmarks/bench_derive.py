"""Time load + validate + derive at region (~150k episodes) and national (~1M episodes) scale.

Builds valid 903 returns (one folder per council and year, open episodes re-reported the next
year) with a simple vectorised generator, then times each step and reports peak memory.
Usage: python benchmarks/bench_derive.py [region|national ...] [--keep DIR]
Targets (2 cores): region under 10 s, national under 60 s, peak memory under 4 GB.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rcceval.derive.placements import derive_placements, stability_measures
from rcceval.ingest.load import read_903
from rcceval.ingest.validate import validate_903

SCALES = {"region": (19, 190_000), "national": (152, 1_250_000)}  # about 150k and 1M episodes kept
LAST_YEAR = 2025
YEARS = 10


def build_returns(root: Path, councils: int, episodes: int, seed: int = 1) -> int:
    """Write returns holding about `episodes` distinct care episodes; returns rows written."""
    rng = np.random.default_rng(seed)
    first_day = pd.Timestamp(LAST_YEAR - YEARS, 4, 1)
    extract = pd.Timestamp(LAST_YEAR, 3, 31)
    per_child = rng.poisson(2.0, size=episodes) + 1
    per_child = per_child[np.cumsum(per_child) <= episodes]
    n_child = len(per_child)
    child = np.repeat(np.arange(n_child), per_child)
    pos = np.arange(len(child)) - np.repeat(np.cumsum(per_child) - per_child, per_child)
    start = first_day + pd.to_timedelta(rng.integers(-900, 365 * YEARS - 30, n_child), unit="D")
    length = rng.exponential(240, len(child)).astype(int) + 1
    cum = np.cumsum(length)
    child_base = np.repeat(np.r_[0, cum[np.cumsum(per_child)[:-1] - 1]], per_child)
    decom = np.repeat(start.values, per_child) + pd.to_timedelta(cum - length - child_base, unit="D").values
    dec = decom + pd.to_timedelta(length, unit="D").values
    last = pos == np.repeat(per_child - 1, per_child)
    rne = np.where(pos == 0, "S", rng.choice(np.array(["P", "P", "P", "L", "U", "B"]), len(child)))
    nxt = np.append(rne[1:], "S")
    rec = np.where(last, rng.choice(np.array(["E4A", "E13", "E11", "E17", "E45"]), len(child)), "X1")
    rpc = np.where(~last & np.isin(nxt, ["P", "B", "T", "U"]),
                   rng.choice(np.array(["CARPL", "CREQB", "CHILD", "LAREQ", "OTHER"]), len(child)), "")
    place = rng.choice(np.array(["U4", "U6", "U3", "K2", "H5", "P1"]), len(child), p=[.3, .3, .12, .12, .08, .08])
    keep = decom <= extract.to_datetime64()
    ep = pd.DataFrame({"CHILD": (child + 1).astype(str), "DECOM": decom, "RNE": rne, "LS": "C2", "CIN": "N1",
                       "PLACE": place, "PLACE_PROVIDER": "PR1", "DEC": dec, "REC": rec, "REASON_PLACE_CHANGE": rpc,
                       "HOME_POST": "AB1 2", "PL_POST": "AB1 3", "URN": "XXXXXXX"})[keep]
    ep["LA"] = "LA" + (ep["CHILD"].astype(int) % councils).astype(str).str.zfill(3)
    dob = pd.DataFrame({"CHILD": (np.arange(n_child) + 1).astype(str),
                        "DOB": start - pd.to_timedelta(rng.integers(30, 365 * 15, n_child), unit="D")})
    # one row per return the episode appears in: every collection year it overlaps
    y0 = (ep["DECOM"] + pd.DateOffset(months=9)).dt.year.to_numpy()
    end = ep["DEC"].where(ep["DEC"] <= extract, extract)
    y1 = (end + pd.DateOffset(months=9)).dt.year.to_numpy()
    y0, y1 = np.maximum(y0, LAST_YEAR - YEARS + 1), np.minimum(y1, LAST_YEAR)
    span = np.maximum(y1 - y0 + 1, 0)
    rows = ep.loc[ep.index.repeat(span)].copy()
    rows["YEAR"] = np.repeat(y0, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))
    still_open = rows["DEC"] > pd.to_datetime(rows["YEAR"].astype(str) + "-03-31")
    rows.loc[still_open, ["REC", "REASON_PLACE_CHANGE"]] = ""
    rows["DECOM"] = rows["DECOM"].dt.strftime("%d/%m/%Y")
    rows["DEC"] = rows["DEC"].dt.strftime("%d/%m/%Y").where(~still_open, "")
    head = rows[["LA", "YEAR", "CHILD"]].drop_duplicates().merge(dob, on="CHILD")
    head = head.assign(SEX="1", ETHNIC="WBRI", UPN="", MOTHER="", MC_DOB="", DOB=head["DOB"].dt.strftime("%d/%m/%Y"))
    eps_cols = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "REASON_PLACE_CHANGE",
                "HOME_POST", "PL_POST", "URN"]
    for (la, year), group in rows.groupby(["LA", "YEAR"]):
        folder = root / la / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        group[eps_cols].to_csv(folder / "episodes.csv", index=False)
    for (la, year), group in head.groupby(["LA", "YEAR"]):
        group[["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]].to_csv(root / la / str(year) / "header.csv", index=False)
    return len(rows)


def run(scale: str, keep: Path | None) -> dict:
    councils, episodes = SCALES[scale]
    with tempfile.TemporaryDirectory() as tmp:
        root = keep / scale if keep else Path(tmp)
        t = time.perf_counter()
        rows = build_returns(root, councils, episodes)
        build = time.perf_counter() - t
        timings = {}
        t = time.perf_counter()
        returns = read_903(root)
        timings["load"] = time.perf_counter() - t
        t = time.perf_counter()
        clean = validate_903(returns)
        timings["validate"] = time.perf_counter() - t
        t = time.perf_counter()
        placements = derive_placements(clean)
        timings["derive_placements"] = time.perf_counter() - t
        t = time.perf_counter()
        stability_measures(clean, LAST_YEAR)
        timings["stability_measures"] = time.perf_counter() - t
    total = sum(timings.values())
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"{scale}: {rows:,} rows in files, {len(clean.episodes):,} episodes, {len(placements):,} placements "
          f"(inputs built in {build:.1f} s)")
    for k, v in timings.items():
        print(f"  {k:20} {v:7.2f} s")
    print(f"  {'total':20} {total:7.2f} s   peak memory {peak_gb:.2f} GB")
    return {"scale": scale, "total_s": total, "peak_gb": peak_gb, **timings}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scales", nargs="*", default=["region", "national"])
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    for scale in args.scales:
        run(scale, args.keep)


if __name__ == "__main__":
    sys.exit(main())
