"""Time a clustered, stratified Cox fit at national scale: rcceval's engine beside R's coxph.

Simulates placements (default 1M rows x 10 covariates, ~300k children as clusters, 152
councils as strata, durations in whole days so event times are heavily tied), fits

    R:       coxph(Surv(time, status) ~ x1 + ... + x10 + strata(council), cluster = child)
    rcceval: cox_efron(time, status, X, strata=council, cluster=child)

on the same data in one run (sent to R as raw float64 columns: identical inputs), and prints
both fit times, their ratio and the largest relative differences of the estimates. R's time is
measured inside R around the coxph() call only (no data loading); R's coxph always computes
the concordance as well, so the engine is timed with and without it. lifelines, the engine
users see, is timed for context on a smaller sample (its clustered variance is quadratic in n).

Usage: python benchmarks/bench_cox.py [--n 1000000] [--p 10] [--seed 1] [--lifelines-n 200000]
Target: the rcceval fit within 3x of R's coxph time, with estimates equal to 1e-6 relative.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from r_reference import max_rel_diff, r_available, run_r  # noqa: E402

from rcceval.stats.cox import cox_efron  # noqa: E402

COUNCILS = 152


def simulate(n: int, p: int, seed: int) -> pd.DataFrame:
    """n placements of ~0.3 n children in 152 councils; integer-day durations (many ties)."""
    rng = np.random.default_rng(seed)
    n_children = max(1, int(0.3 * n))
    child = np.sort(rng.integers(0, n_children, n))
    council = rng.integers(0, COUNCILS, n_children)[child]
    X = rng.normal(size=(n, p)).round(4)
    X[:, p // 2:] = (X[:, p // 2:] > 0.8).astype(float)          # half binary (903 flags)
    beta = np.linspace(-0.4, 0.4, p)
    frailty = rng.normal(0, 0.3, n_children)[child]
    t_event = 1500 * rng.weibull(0.9, n) * np.exp(-(X @ beta + frailty) / 0.9)
    follow = rng.uniform(30, 1500, n)
    time_days = np.ceil(np.minimum(t_event, follow))
    status = (t_event <= follow).astype(float)
    cols = {f"x{j + 1}": X[:, j] for j in range(p)}
    return pd.DataFrame({"time": time_days, "status": status, **cols,
                         "council": council.astype(float), "child": child.astype(float)})


def r_fit(df: pd.DataFrame, p: int) -> dict[str, np.ndarray]:
    terms = " + ".join(f"x{j + 1}" for j in range(p))
    script = f"""
d <- emit_time("r_load_seconds", inp("d"))
f <- emit_time("r_fit_seconds", coxph(Surv(time, status) ~ {terms} + strata(council),
                                      data = d, cluster = child, ties = "efron"))
emit("coef", coef(f)); emit("var", f$var); emit("naive", f$naive.var); emit("loglik", f$loglik)
emit("iter", f$iter)
g <- emit_time("r_fit_plain_seconds", coxph(Surv(time, status) ~ {terms} + strata(council),
                                            data = d, ties = "efron"))
emit("coef_plain", coef(g))
"""
    return run_r(script, {"d": df})


def time_engine(df: pd.DataFrame, p: int, concordance: bool, cluster: bool = True):
    cols = [f"x{j + 1}" for j in range(p)]
    t0 = time.perf_counter()
    res = cox_efron(df.time.to_numpy(), df.status.to_numpy(), df[cols].to_numpy(),
                    strata=df.council.to_numpy(),
                    cluster=df.child.to_numpy() if cluster else None, concordance=concordance)
    return res, time.perf_counter() - t0


def time_lifelines(df: pd.DataFrame, p: int, cluster: bool) -> float:
    from lifelines import CoxPHFitter

    cols = [f"x{j + 1}" for j in range(p)] + ["time", "status", "council"] + \
        (["child"] if cluster else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        CoxPHFitter().fit(df[cols], "time", "status", strata=["council"],
                          cluster_col="child" if cluster else None)
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="placements (rows)")
    ap.add_argument("--p", type=int, default=10, help="covariates")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lifelines-n", type=int, default=200_000,
                    help="rows for the lifelines context timing (0 to skip)")
    ap.add_argument("--lifelines-cluster-n", type=int, default=20_000,
                    help="rows for lifelines with cluster_col (quadratic cost; 0 to skip)")
    args = ap.parse_args(argv)

    df = simulate(args.n, args.p, args.seed)
    ev = df[df.status == 1]
    print(f"data: {len(df):,} rows x {args.p} covariates, {df.child.nunique():,} children "
          f"(clusters), {df.council.nunique()} councils (strata), {len(ev):,} events at "
          f"{ev.time.nunique():,} distinct days ({ev.time.duplicated().mean():.0%} of events tied)")

    res, t_ours = time_engine(df, args.p, concordance=False)
    _, t_ours_c = time_engine(df, args.p, concordance=True)
    res_plain, t_ours_plain = time_engine(df, args.p, concordance=False, cluster=False)
    _, t_ours_plain_c = time_engine(df, args.p, concordance=True, cluster=False)
    print(f"rcceval cox_efron (clustered robust variance): {t_ours:6.2f} s "
          f"({res.iterations} Newton iterations); with concordance: {t_ours_c:6.2f} s")
    print(f"rcceval cox_efron unclustered (naive variance): {t_ours_plain:6.2f} s; "
          f"with concordance: {t_ours_plain_c:6.2f} s")

    reason = r_available()
    if reason is not None:
        print(f"R reference not run: {reason}")
        return 1
    r = r_fit(df, args.p)
    t_r = float(r["r_fit_seconds"])
    print(f"R coxph (inside R, fit + robust variance + concordance): {t_r:6.2f} s "
          f"({int(r['iter'])} iterations; R data load {float(r['r_load_seconds']):.1f} s, not counted)")
    t_r_plain = float(r["r_fit_plain_seconds"])
    print(f"R coxph without cluster (fit, naive variance, concordance): {t_r_plain:6.2f} s")
    print(f"ratio rcceval / R: {t_ours / t_r:.2f} (clustered fit + robust variance), "
          f"{t_ours_c / t_r:.2f} (also with concordance, as R computes it), "
          f"{t_ours_plain_c / t_r_plain:.2f} (unclustered, both with concordance)")
    diffs = {
        "coef": max_rel_diff(res.coef, r["coef"]),
        "robust se": max_rel_diff(res.robust_se, np.sqrt(np.diag(r["var"]))),
        "naive se": max_rel_diff(res.se, np.sqrt(np.diag(r["naive"]))),
        "robust var (all entries)": max_rel_diff(res.var_robust, r["var"]),
        "loglik": max_rel_diff([res.loglik_null, res.loglik], r["loglik"]),
        "coef (unclustered fit)": max_rel_diff(res_plain.coef, r["coef_plain"]),
    }
    for name, d in diffs.items():
        print(f"max relative difference to R, {name}: {d:.2e}")
    ok_speed = t_ours <= 3 * t_r
    ok_est = max(diffs["coef"], diffs["robust se"]) <= 1e-6
    print(f"target (within 3x of R, estimates to 1e-6): {'met' if ok_speed and ok_est else 'NOT met'}")

    if args.lifelines_n:
        sub = df.iloc[:: max(1, len(df) // args.lifelines_n)].head(args.lifelines_n)
        t_lf = time_lifelines(sub, args.p, cluster=False)
        print(f"context: lifelines CoxPHFitter on {len(sub):,} rows, stratified, no cluster: "
              f"{t_lf:.1f} s")
    if args.lifelines_cluster_n:
        sub = df.iloc[:args.lifelines_cluster_n]
        t_lfc = time_lifelines(sub, args.p, cluster=True)
        _, t_small = time_engine(sub, args.p, concordance=False)
        print(f"context: lifelines with cluster_col on {len(sub):,} rows: {t_lfc:.1f} s "
              f"(rcceval {t_small:.2f} s; lifelines' robust variance loops over rows, O(n^2))")
    return 0 if ok_speed and ok_est else 2


if __name__ == "__main__":
    sys.exit(main())
