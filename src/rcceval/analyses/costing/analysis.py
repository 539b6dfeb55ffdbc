"""Question 3: what does a child's care cost under unit-cost commissioning ("everyone gets what is
provided") versus needs-led costing ("everyone gets what is right for them"), once the cost of
breakdowns and moves is counted?

`CareCosting(costing, instrument, seed=...).fit(frame, agreements, hazards=..., generating=...)`
runs the whole analysis on the analysis frame (frame.py) and keeps its results as data frames;
`to_dict()` is what goes into results.json. The pieces:

- costing_params: costing.yaml, every figure with its source, price year and range;
- costing_static: unit and needs-led cost of a week of care per placement, by need profile, and
  unit costs against actual fees where recorded;
- costing_hazard: the ending hazards (fitted cause-specific Cox models, which question 2 saves for this
  question, or the synthetic region's generating model, built by synth.recovery);
- costing_microsim: the journey microsimulation (children x draws, common random numbers, joblib).

Uncertainty: each Monte Carlo draw takes its own cost figures (Beta-PERT over each range, with the
stated value as its mean) and, with the fitted hazards, its own Cox coefficients (multivariate
normal, robust covariance), and simulates every child's journey once; intervals are percentiles over
draws. Nothing here prints or plots.

The stated model (costing.sensitivity, costing.psa) is added after these and changes none of them: the
E-value of the mismatch hazard ratio and the headline with the effect of matching shrunk; the Monte
Carlo's journeys discounted (Green Book) and priced in one price year; the parametric tails against the
constant tail; and the probabilistic sensitivity analysis (child bootstrap refits, inner journeys, CEAC,
EVPI, EVPPI), all set in costing.yaml's time_and_money and psa sections.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from rcceval.analyses.costing.hazard import CAUSES, FittedHazards, HazardModel, cox_aggregates, from_fitted
from rcceval.analyses.costing.microsim import (
    ITEM,
    SCENARIOS,
    VARIABLE,
    Cohort,
    Journeys,
    Pool,
    Settings,
    cost,
    first_linear_predictors,
    item_prices,
    layout,
    simulate,
)
from rcceval.analyses.costing.params import COST_GROUPS, CostingParameters
from rcceval.analyses.costing.static import (
    cost_group,
    fee_comparison,
    needs_components,
    needs_led_weekly,
    static_comparison,
)
from rcceval.analyses.survival.cox import fit_cox
from rcceval.analyses.survival.data import UNPLANNED, CoxSpec, Design, design, follow_up, need_profiles
from rcceval.derive.needs import frequency_cols, intensity_cols
from rcceval.parallel import Workers
from rcceval.spec import codes
from rcceval.spec.codes import AGE_BAND_EDGES as AGE_EDGES
from rcceval.spec.codes import DAYS_PER_YEAR
from rcceval.spec.codes import MODEL_TYPE_LEVELS as TYPE_LEVELS
from rcceval.spec.instruments import Instrument
from rcceval.stats.curves import kaplan_meier

BISECTION_STEPS = 10


def choose_spec(fu: pd.DataFrame, instrument: Instrument, min_events: int = 100) -> CoxSpec:
    """Question 3's hazard rule (that of question 2's request-only sensitivity model): SECOND_BEST in
    the model (fitted on placements with a placement request) when at least min_events unplanned
    endings have one, since the needs-led scenario removes second best; else left out."""
    with_sb = design(fu, instrument, CoxSpec(second_best=True))
    return CoxSpec(second_best=bool((with_sb.cause == UNPLANNED).sum() >= min_events))


def censor_leaving_at_18(frame: pd.DataFrame, header: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The frame with leaving-care endings on (or the day before) the 18th birthday made censored.

    The simulation ends every journey at 18 itself; a leaving-care hazard fitted with those endings
    as events would spread that certain exit over 16-17 year olds' placements and end their care
    early. header: the 903 header (LA, CHILD, DOB). Returns (frame, endings recoded)."""
    dob = frame[["LA", "CHILD"]].merge(header[["LA", "CHILD", "DOB"]].drop_duplicates(["LA", "CHILD"]),
                                       on=["LA", "CHILD"], how="left")["DOB"].to_numpy()
    end = frame["START"].to_numpy() + pd.to_timedelta(frame["DURATION_DAYS"], unit="D").to_numpy()
    age18 = pd.DatetimeIndex(dob) + pd.DateOffset(years=18)
    at18 = frame["ENDING"].eq(codes.LEFT_CARE).to_numpy() & (end >= (age18 - pd.Timedelta(days=1)).to_numpy())
    out = frame.copy()
    out.loc[at18, "ENDING"] = codes.OPEN
    return out, int(at18.sum())


def fit_hazards(fu: pd.DataFrame, instrument: Instrument, spec: CoxSpec | None = None,
                n_censored_at_18: int | None = None, censored: bool = False) -> FittedHazards:
    """Question 3's cause-specific Cox models (unplanned, planned change, left care; R coxph's fit by the
    engine) on the follow-up `fu`, as aggregates. censored: fu's leaving-care endings at 18 were
    censored (censor_leaving_at_18; n_censored_at_18 of them, for the note)."""
    spec = spec or choose_spec(fu, instrument)
    models = {c: fit_cox(fu, instrument, cause=c, spec=spec, with_ph=False, engine="engine") for c in CAUSES}
    notes = ()
    if censored:
        notes = ((f"{n_censored_at_18} leaving-care endings on the 18th birthday censored in the fitted hazards "
                  "(the simulation ends every journey at 18 itself)"),)
    return cox_aggregates(models, spec, notes)


def fitted_hazards(frame: pd.DataFrame, instrument: Instrument, header: pd.DataFrame | None = None,
                   spec: CoxSpec | None = None) -> FittedHazards:
    """The hazards question 3 simulates from, fitted on the analysis frame (leaving care at 18 censored
    when the 903 header is given; spec default: question 2's rule on the uncensored frame)."""
    spec = spec or choose_spec(follow_up(frame), instrument)
    if header is None:
        return fit_hazards(follow_up(frame), instrument, spec)
    censored, n18 = censor_leaving_at_18(frame, header)
    return fit_hazards(follow_up(censored), instrument, spec, n18, censored=True)


def build_cohort(fu: pd.DataFrame, d: Design, profile: pd.Series, strata: list[str], cp: CostingParameters,
                 instrument: Instrument) -> tuple[Cohort, Pool, pd.DataFrame]:
    """The children simulated and the next placements drawn from, from the model's rows `d`.

    Cohort: each child's earliest placement among the model's rows (complete covariates), as its
    first placement. Pool: the model's rows that are not a period's first placement, by profile and
    age band at their start (an empty cell draws from the profile's rows of any age, an empty profile
    from every row; no such rows at all: from the first placements). Returns
    (cohort, pool, rows) with rows the cohort's frame rows (child-level, never published)."""
    sub = fu.loc[d.rows]
    X = d.X.set_axis(d.rows)
    order = sub.assign(_C=d.cluster).sort_values(["_C", "START"], kind="stable")
    first = order.drop_duplicates("_C", keep="first").index
    rows = sub.loc[first]
    cats = [str(c) for c in profile.cat.categories] if isinstance(profile.dtype, pd.CategoricalDtype) else \
        sorted(profile.dropna().astype(str).unique())
    prof = profile.reindex(sub.index).astype(object).fillna("Not assessed").astype(str)
    present = set(prof.loc[first])
    profiles = [p for p in cats if p in present] + sorted(present - set(cats))
    pidx = {p: i for i, p in enumerate(profiles)}
    fixed = [c for c in X.columns if not c.startswith(("AGE_BAND=", "TYPE=")) and c not in VARIABLE]
    icols, fcols = intensity_cols(instrument), frequency_cols(instrument)
    comp = needs_components(rows[icols].to_numpy(), rows[fcols].to_numpy(), cp)
    with_sb = "SECOND_BEST" in X.columns
    cohort = Cohort(
        profiles=profiles, profile=prof.loc[first].map(pidx).to_numpy(np.int64),
        stratum=pd.Index(strata).get_indexer(rows["LA"].astype(str)),
        age0=rows["AGE_START"].astype(float).to_numpy() + 0.5,      # whole years at the start: mid-year
        first0=rows["FIRST_IN_PERIOD"].astype(float).to_numpy(), type0=_type_index(rows),
        mismatch0=rows["MISMATCH"].astype(float).to_numpy(), sb0=_second_best(rows, with_sb),
        group0=_group_index(rows), intensity=rows[icols].to_numpy(float), fixed_names=fixed,
        Xf=X.loc[first, fixed].to_numpy(float), setting=comp["setting"].to_numpy(np.int64),
        hours=comp["hours"].to_numpy(float), peak=comp["peak"].to_numpy(np.int64))
    if (cohort.stratum < 0).any():
        raise ValueError("a council of the cohort has no baseline hazard in the model's strata")
    later = sub.loc[~sub["FIRST_IN_PERIOD"].astype(bool)]
    pool_rows = later if len(later) else rows
    p_of = prof.reindex(pool_rows.index).map(pidx).fillna(-1).to_numpy(np.int64)
    b_of = np.searchsorted(AGE_EDGES, pool_rows["AGE_START"].astype(float).to_numpy(), side="right")
    order = np.lexsort((b_of, p_of))
    pool_rows, p_of, b_of = pool_rows.iloc[order], p_of[order], b_of[order]
    n_b = len(AGE_EDGES) + 1
    start = np.zeros((len(profiles), n_b), dtype=np.int64)
    count = np.full((len(profiles), n_b), len(pool_rows), dtype=np.int64)   # fallback: every row
    for pi in range(len(profiles)):
        in_p = np.flatnonzero(p_of == pi)
        if not in_p.size:
            continue
        start[pi], count[pi] = in_p[0], in_p.size                          # fallback: the profile, any age
        for b in range(n_b):
            cell = in_p[b_of[in_p] == b]
            if cell.size:
                start[pi, b], count[pi, b] = cell[0], cell.size
    caps = list(instrument.capability_columns)
    pool = Pool(type=_type_index(pool_rows), sb=_second_best(pool_rows, with_sb), group=_group_index(pool_rows),
                cap=pool_rows[caps].to_numpy(float), start=start, count=count)
    return cohort, pool, rows


def break_even(diff, steps: int = BISECTION_STEPS) -> dict:
    """The factor r in [0, 1] on matched placements' unplanned hazard at which diff(r) (needs-led minus
    unit-cost total) is 0, by bisection: diff(1) <= 0 needs no cut; diff(0) > 0 cannot be reached.
    reduction = 1 - r: the extra cut in the hazard needed."""
    d1, d0 = diff(1.0), diff(0.0)
    out = {"difference_per_child_at_no_cut": d1, "difference_per_child_at_full_cut": d0}
    if d1 <= 0:
        return {**out, "status": "needs-led already costs no more", "factor": 1.0, "reduction": 0.0}
    if d0 > 0:
        return {**out, "status": "not reachable: needs-led costs more even with no unplanned endings in matched "
                                 "placements", "factor": None, "reduction": None}
    lo, hi = 0.0, 1.0                  # diff(lo) <= 0 < diff(hi)
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if diff(mid) > 0 else (mid, hi)
    r = (lo + hi) / 2
    return {**out, "status": "found", "factor": r, "reduction": 1 - r}


def _type_index(f: pd.DataFrame) -> np.ndarray:
    """Placement type (TYPE) as an index into TYPE_LEVELS (unknown types: other)."""
    levels = {t: i for i, t in enumerate(TYPE_LEVELS)}
    return f["TYPE"].astype(str).map(levels).fillna(TYPE_LEVELS.index("other")).to_numpy(np.int64)


def _group_index(f: pd.DataFrame) -> np.ndarray:
    """Unit cost group as an index into COST_GROUPS."""
    groups = {g: i for i, g in enumerate(COST_GROUPS)}
    return cost_group(f["PLACE"], f["PLACE_PROVIDER"]).map(groups).to_numpy(np.int64)


def _second_best(f: pd.DataFrame, in_model: bool) -> np.ndarray:
    return f["SECOND_BEST"].astype(float).fillna(0.0).to_numpy() if in_model else np.zeros(len(f))


def _interval(x: np.ndarray, alpha: float) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": float(np.mean(x)), "lower": float(np.quantile(x, alpha / 2)),
            "upper": float(np.quantile(x, 1 - alpha / 2))}


@dataclass
class CareCosting:
    """Unit-cost versus needs-led costing of care (question 3).

    Parameters: the costing parameters (costing.yaml), the needs instrument, seed (every random
    step), n_jobs (joblib workers), alpha (intervals are 1 - alpha), and overrides of
    costing.yaml's simulation settings (hazard_source, draws).

    Results after fit(): static_rows (child-level), static (by need profile), fees (unit costs
    against fees, or None), hazards (HazardModel), cohort, journeys (Journeys of the Monte Carlo),
    summary (each scenario by profile: weeks in care, placements, moves, share with 3+ moves,
    cost per child and per child-year, with intervals), difference (needs-led minus unit cost by
    profile), per_child (quantiles over children of the per-child cost difference at central prices),
    break_even, tornado; and the stated model: evalue, shrinkage, uprating (costing_uprated),
    discounting, tail_tables / tail_choice / tail_sensitivity, psa (psa_output: the raw PSA arrays).
    """

    costing: CostingParameters
    instrument: Instrument
    seed: int = 0
    n_jobs: Workers = 1
    alpha: float = 0.05
    hazard_source: str | None = None
    draws: int | None = None
    notes: list = field(default_factory=list)

    @property
    def sim(self):
        s = self.costing.simulation
        return replace(s, hazard_source=self.hazard_source or s.hazard_source, draws=self.draws or s.draws)

    # ---- fit ----------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, agreements: pd.DataFrame | None = None,
            hazards: FittedHazards | None = None,
            generating: Callable[[list[str], list[str]], HazardModel] | None = None,
            spec: CoxSpec | None = None, header: pd.DataFrame | None = None) -> "CareCosting":
        """frame: the analysis frame; agreements: placement_agreements (weekly fees) or None;
        hazards: the fitted hazards question 2 saved (fit_hazards; else fitted here);
        generating: (covariate names, strata) -> the generating HazardModel (synth.recovery, for
        hazard_source "generating"); spec: the Cox covariates (default: question 2's rule);
        header: the 903 header (DOB), so that leaving care at 18 is censored in the fitted hazards."""
        cp, inst, sim = self.costing, self.instrument, self.sim
        fu = follow_up(frame)
        self.fit_frame = frame
        self._n18 = None
        if header is not None and sim.hazard_source == "fitted":
            self.fit_frame, self._n18 = censor_leaving_at_18(frame, header)
        tier = need_profiles(fu, inst)["PROFILE_TIER"]
        if tier.notna().sum() == 0:
            raise ValueError("no placement has a needs assessment in force at its start: question 3 needs the "
                             "needs assessments (needs_assessments.csv) for the instrument " + inst.id)
        self.static_rows, self.static = static_comparison(fu, cp, intensity_cols(inst), frequency_cols(inst), tier)
        self.fees = fee_comparison(fu, agreements, cp, tier)
        fit_fu = fu if self.fit_frame is frame else follow_up(self.fit_frame)
        self.hazards, d = self._hazards(fit_fu, hazards, generating, spec, header)
        self.cohort, self.pool, self.cohort_rows = build_cohort(fu, d, tier, self.hazards.strata, cp, inst)
        central = cp.central()
        self.nl_weekly_central = needs_led_weekly(pd.DataFrame({"setting": self.cohort.setting, "hours": self.cohort.hours,
                                                                "peak": self.cohort.peak}), central)
        ss = np.random.SeedSequence(self.seed)
        coef_ss, price_ss = ss.spawn(2)
        D = sim.draws
        self.price_draws = cp.draw(np.random.default_rng(price_ss), D)
        rng = np.random.default_rng(coef_ss)
        self.layouts = [self._layout(self.hazards.causes[c], self.hazards.causes[c].draw_coefs(rng, D)) for c in CAUSES]
        self.journeys = self._simulate(self.layouts, sim.capacity, 1.0, discount=True)
        prices = item_prices(self.price_draws, D)
        self.summary, self.difference, self._draw_metrics = self._summaries(self.journeys, prices)
        self.per_child = self._per_child()
        self._point_runs()
        self._design = d
        self._stated_model(price_ss)
        return self

    def _stated_model(self, price_ss: np.random.SeedSequence) -> None:
        """The causal reading, time and money and the tail (costing.sensitivity); the figures above are
        not changed: every run here is an addition with its own settings."""
        from rcceval.analyses.costing import sensitivity as sens
        cp, d = self.costing, self._design
        self.evalue = sens.mismatch_evalue(self.hazards, 1 - self.alpha)
        self.shrinkage = sens.shrinkage(self)
        self.costing_uprated, self.uprating = sens.uprated_costing(cp)
        up_draws = self.costing_uprated.draw(np.random.default_rng(price_ss), self.sim.draws)
        self.discounting = sens.discounting(self, item_prices(up_draws, self.sim.draws))
        if self.hazards.source == "fitted":
            keep = np.asarray(d.time, dtype=float) > 0
            self.tail_tables, self.tail_fits = sens.tail_comparison(self, np.asarray(d.time, float)[keep],
                                                                    np.asarray(d.cause)[keep])
            self.tail_choice = sens.tail_choice(cp, self.tail_tables)
            self.tail_sensitivity = sens.tail_sensitivity(self, self.tail_fits, self.tail_choice)
            self.chosen_tails = {c: None if f == "constant_tail" else self.tail_fits[c][f]
                                 for c, f in self.tail_choice.items()}
        else:
            self.tail_tables, self.tail_fits, self.tail_choice, self.tail_sensitivity = {}, {}, {}, None
            self.chosen_tails = {}
        self.psa = None
        if cp.psa.outer >= 2 and self.hazards.source == "fitted":
            from rcceval.analyses.costing.psa import run_psa, summarise_psa
            self.psa_output = run_psa(self)
            self.psa = summarise_psa(self.psa_output, self.costing_uprated, 1 - self.alpha)

    def _hazards(self, fu, fitted, generating, spec, header) -> tuple[HazardModel, Design]:
        inst, sim = self.instrument, self.sim
        if sim.hazard_source == "fitted":
            if fitted is None:
                fitted = fit_hazards(fu, inst, spec, self._n18, censored=header is not None)
            self.notes.extend(fitted.notes)
            self.fitted_aggregates = fitted
            return from_fitted(fitted, sim.extrapolation_days), design(fu, inst, fitted.spec)
        if generating is None:
            raise ValueError("hazard_source 'generating' needs the synthetic region's truth.json (data_source "
                             "synthetic); use hazard_source 'fitted' on real data")
        spec = spec or (fitted.spec if fitted else choose_spec(fu, inst))
        d = design(fu, inst, spec)
        strata = sorted(pd.unique(np.asarray(d.stratum).astype(str)))
        return generating(d.names, strata), d

    def _layout(self, h, coefs):
        return layout(h.names, coefs, h.centre, self.cohort.fixed_names, h.eventless, h.stratum_offset)

    def _simulate(self, lays, capacity: float, factor: float, scenarios=SCENARIOS, record_first: bool = False,
                  hazards: HazardModel | None = None, discount: bool = False, seed: int | None = None,
                  n_jobs: int | None = None) -> Journeys:
        """Journeys for layouts `lays` (one row per draw); hazards default to the fitted ones; discount:
        also record exposures at costing.yaml's discount rates; seed: the random numbers' seed (default
        the analysis seed)."""
        sim, cp = self.sim, self.costing
        st = Settings(horizon_days=sim.horizon_years * DAYS_PER_YEAR, capacity=capacity,
                      max_placements=sim.max_placements, unplanned_factor=factor,
                      seed=self.seed if seed is None else seed, n_jobs=self.n_jobs if n_jobs is None else n_jobs,
                      record_first=record_first, discount_rates=cp.time_and_money.rates if discount else ())
        central = cp.central()
        return simulate(self.cohort, self.pool, hazards or self.hazards, lays, st, self.nl_weekly_central,
                        {g: central[f"unit.{g}"] for g in COST_GROUPS}, central["process_cost"], scenarios)

    # ---- summaries ----------------------------------------------------------------------------
    def _metrics(self, j: Journeys, prices: np.ndarray, scenario: str) -> dict[str, np.ndarray]:
        """Per draw (draws, profiles + All) metrics of one scenario."""
        bp = j.by_profile[scenario]
        allp = np.concatenate([bp, bp.sum(axis=1, keepdims=True)], axis=1)
        c = cost(allp, prices)
        n = allp[:, :, ITEM["children"]]
        days = allp[:, :, ITEM["days"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"children": n, "child_years": days / DAYS_PER_YEAR,
                    "weeks_in_care": days / 7.0 / n, "placements": allp[:, :, ITEM["placements"]] / n,
                    "moves": allp[:, :, ITEM["moves"]] / n, "unplanned_moves": allp[:, :, ITEM["unplanned_moves"]] / n,
                    "share_3plus_moves": allp[:, :, ITEM["three_plus_moves"]] / n,
                    "share_weeks_matched": allp[:, :, ITEM["matched_days"]] / days,
                    "cost_per_child": c / n, "cost_per_child_year": c / (days / DAYS_PER_YEAR)}

    def _summaries(self, j: Journeys, prices: np.ndarray):
        labels = j.profiles + ["All"]
        metrics = {s: self._metrics(j, prices, s) for s in j.scenarios}
        rows = []
        for s in j.scenarios:
            m = metrics[s]
            for pi, p in enumerate(labels):
                row = {"scenario": s, "profile": p, "children": int(m["children"][0, pi])}
                for k in ("weeks_in_care", "placements", "moves", "unplanned_moves", "share_3plus_moves",
                          "share_weeks_matched", "cost_per_child", "cost_per_child_year"):
                    iv = _interval(m[k][:, pi], self.alpha)
                    row.update({k: iv["mean"], f"{k}_lower": iv["lower"], f"{k}_upper": iv["upper"]})
                rows.append(row)
        summary = pd.DataFrame(rows)
        diff_rows = []
        a, b = metrics["unit_cost"], metrics["needs_led"]
        for pi, p in enumerate(labels):
            row = {"profile": p, "children": int(a["children"][0, pi])}
            for k, sign, name in (("cost_per_child", 1, "cost_per_child"), ("cost_per_child_year", 1, "cost_per_child_year"),
                                  ("moves", -100, "moves_averted_per_100"),
                                  ("unplanned_moves", -100, "unplanned_moves_averted_per_100"),
                                  ("share_3plus_moves", 1, "share_3plus_moves"), ("weeks_in_care", 1, "weeks_in_care")):
                iv = _interval(sign * (b[k][:, pi] - a[k][:, pi]), self.alpha)
                row.update({name: iv["mean"], f"{name}_lower": iv["lower"], f"{name}_upper": iv["upper"]})
            diff_rows.append(row)
        return summary, pd.DataFrame(diff_rows), metrics

    def _per_child(self) -> pd.DataFrame:
        """Quantiles over children of each child's mean cost difference over the horizon (central prices)."""
        D = self.journeys.draws
        diff = (self.journeys.per_child["needs_led"][:, 0] - self.journeys.per_child["unit_cost"][:, 0]) / D
        prof = np.array(self.cohort.profiles + ["All"], dtype=object)
        frame = pd.DataFrame({"profile": np.concatenate([prof[self.cohort.profile], np.full(self.cohort.n, "All")]),
                              "diff": np.concatenate([diff, diff])})
        g = frame.groupby("profile", sort=False)["diff"]
        q = {f"p{int(100 * p):02d}": g.quantile(p) for p in (0.1, 0.25, 0.5, 0.75, 0.9)}
        out = pd.DataFrame({"children": g.size(), "mean": g.mean(), **q,
                            "cheaper_under_needs_led": g.apply(lambda s: int((s < 0).sum()))})
        out = out.reindex([p for p in list(prof) if p in out.index])
        out.index.name = "profile"
        return out.reset_index()

    # ---- break-even and tornado (point estimates, common random numbers) ------------------------
    def _point_layouts(self, mismatch_shift: float = 0.0):
        B = self.sim.break_even_draws
        lays = []
        for c in CAUSES:
            h = self.hazards.causes[c]
            coef = np.tile(h.coef, (B, 1))
            if c == codes.UNPLANNED and mismatch_shift and "MISMATCH" in h.names:
                coef[:, h.names.index("MISMATCH")] += mismatch_shift
            lays.append(self._layout(h, coef))
        return lays

    def _point_diff(self, uc: Journeys, nl: Journeys, prices: np.ndarray, per: str = "cost_per_child") -> float:
        a, b = self._metrics(uc, prices, "unit_cost"), self._metrics(nl, prices, "needs_led")
        return float(np.mean(b[per][:, -1] - a[per][:, -1]))

    def _point_runs(self) -> None:
        sim, cp = self.sim, self.costing
        B = sim.break_even_draws
        central = cp.central()
        p0 = item_prices({k: np.full(B, v) for k, v in central.items()}, B)
        lays = self._point_layouts()
        base = self.point = self._simulate(lays, sim.capacity, 1.0, record_first=True)
        self.first_check = self._first_check(base, lays)

        def diff(factor: float) -> float:
            nl = base if factor == 1.0 else self._simulate(lays, sim.capacity, factor, scenarios=("needs_led",))
            return self._point_diff(base, nl, p0)

        be = {"method": f"bisection on the cut in matched placements' unplanned hazard, {B} draws at point "
                        "estimates and central costs, common random numbers", **break_even(diff)}
        # the process cost per move at which needs-led pays for itself (the cost is linear in it)
        a, b = self._metrics(base, p0, "unit_cost"), self._metrics(base, p0, "needs_led")
        averted = float(np.mean(a["moves"][:, -1] - b["moves"][:, -1]))
        other = be["difference_per_child_at_no_cut"] + averted * central["process_cost"]
        be["moves_averted_per_child"] = averted
        be["break_even_process_cost_per_move"] = other / averted if averted > 0 and other > 0 else None
        self.break_even = be
        self.tornado = self._tornado(base, p0, B)

    def _first_check(self, base: Journeys, lays, days=(30, 91, 182, 365, 730, 1095, 1461)) -> pd.DataFrame:
        """Does the engine reproduce its hazards, and the hazards the data? Share of first placements
        (unit-cost scenario, point estimates) still running at each day: simulated, the model's
        survival exp(-sum over causes of H0_c(t) exp(lp_c)) averaged over the profile's children, and
        the Kaplan-Meier estimate of the same placements in the data (any ending; censored at the
        extract date and, where the fitted hazards censor it, at the 18th birthday)."""
        dur = base.first["unit_cost"][0]
        lp = first_linear_predictors(self.cohort, lays)
        c = self.cohort
        ending = self.fit_frame.loc[self.cohort_rows.index, "ENDING"]
        event = ending.isin(list(CAUSES)).to_numpy()
        time = self.cohort_rows["DURATION_DAYS"].to_numpy(float)
        rows = []
        for pi, prof in enumerate(c.profiles + ["All"]):
            mask = c.profile == pi if prof != "All" else np.ones(c.n, dtype=bool)
            km = kaplan_meier(time[mask], event[mask])
            for t in days:
                H = sum(self.hazards.causes[cause].cumulative(float(t), c.stratum[mask]) * np.exp(lp[ci, mask])
                        for ci, cause in enumerate(CAUSES))
                at = km.loc[km["time"] <= t, "surv"]
                seen = t <= km["time"].max()
                rows.append({"profile": prof, "day": t, "children": int(mask.sum()),
                             "simulated": float(np.mean(dur[:, mask] > t)), "model": float(np.mean(np.exp(-H))),
                             "observed_km": (float(at.iloc[-1]) if len(at) else 1.0) if seen else np.nan})
        return pd.DataFrame(rows)

    def _tornado(self, base: Journeys, p0: np.ndarray, B: int) -> pd.DataFrame:
        """Cost difference per child-year (needs-led minus unit cost) with one figure at a time at the
        ends of its range: every cost figure (re-pricing the same journeys), the unplanned-ending
        mismatch HR (its CI; generating source: +/-50% of the log HR) and capacity (+/-0.2)."""
        cp, sim = self.costing, self.sim
        central = cp.central()
        per = "cost_per_child_year"
        rows = []
        for name, f in cp.prices.items():
            if f.low == f.high:
                continue
            out = []
            for v in (f.low, f.high):
                pr = item_prices({k: np.full(B, (v if k == name else c)) for k, c in central.items()}, B)
                out.append(self._point_diff(base, base, pr, per))
            rows.append({"parameter": name, "low": f.low, "high": f.high, "at_low": out[0], "at_high": out[1]})
        h = self.hazards.causes[codes.UNPLANNED]
        if "MISMATCH" in h.names:
            k = h.names.index("MISMATCH")
            z = stats.norm.ppf(1 - self.alpha / 2)
            half = z * np.sqrt(h.cov[k, k]) if h.cov is not None else 0.5 * abs(h.coef[k])
            out = []
            for shift in (-half, half):
                j = self._simulate(self._point_layouts(shift), sim.capacity, 1.0)
                out.append(self._point_diff(j, j, p0, per))
            rows.append({"parameter": "mismatch_hr (unplanned)", "low": float(np.exp(h.coef[k] - half)),
                         "high": float(np.exp(h.coef[k] + half)), "at_low": out[0], "at_high": out[1]})
        lays = self._point_layouts()
        caps = (max(0.0, sim.capacity - 0.2), min(1.0, sim.capacity + 0.2))
        out = [self._point_diff(base, self._simulate(lays, c, 1.0, scenarios=("needs_led",)), p0, per) for c in caps]
        rows.append({"parameter": "capacity", "low": caps[0], "high": caps[1], "at_low": out[0], "at_high": out[1]})
        t = pd.DataFrame(rows)
        t["base"] = self._point_diff(base, base, p0, per)
        t["swing"] = (t["at_high"] - t["at_low"]).abs()
        return t.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)

    # ---- results.json --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        s = self.summary.set_index(["scenario", "profile"])
        d = self.difference.set_index("profile")
        iv = lambda frame, key, col: {"mean": frame.loc[key, col], "lower": frame.loc[key, f"{col}_lower"],  # noqa: E731
                                      "upper": frame.loc[key, f"{col}_upper"]}
        sim = self.sim
        be = self.break_even
        return {
            "price_year": self.costing.price_year,
            "hazard_source": sim.hazard_source, "draws": sim.draws, "horizon_years": sim.horizon_years,
            "capacity": sim.capacity, "children_simulated": self.cohort.n,
            "cost_per_child_year": {sc: iv(s, (sc, "All"), "cost_per_child_year") for sc in SCENARIOS},
            "cost_per_child_horizon": {sc: iv(s, (sc, "All"), "cost_per_child") for sc in SCENARIOS},
            "difference_per_child_year": iv(d, "All", "cost_per_child_year"),
            "difference_per_child_year_by_profile": {p: iv(d, p, "cost_per_child_year") for p in d.index},
            "moves_averted_per_100_children": iv(d, "All", "moves_averted_per_100"),
            "unplanned_moves_averted_per_100_children": iv(d, "All", "unplanned_moves_averted_per_100"),
            "share_3plus_moves": {sc: iv(s, (sc, "All"), "share_3plus_moves") for sc in SCENARIOS},
            "break_even_disruption_reduction": be["reduction"],
            "break_even": be,
            "static_per_child_week": self.static.set_index("profile")[["unit_per_week", "needs_led_per_week"]]
                                          .to_dict(orient="index"),
            "truncated_journeys": float(self.journeys.item("unit_cost", "truncated").sum()
                                        + self.journeys.item("needs_led", "truncated").sum()),
            "hazard_notes": self.hazards.notes,
            "notes": self.notes,
        }
