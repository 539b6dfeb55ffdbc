"""The age-structured forecast (question 5): states and moves counted exactly on a hand-made 903,
known generating rates recovered from a simulated stock and flow, the trend test, and reproducibility."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers903 import ep, hd, write_return

from rcceval.analyses.sufficiency import forecast as sf
from rcceval.analyses.sufficiency.forecast_rates import fit_entries, fit_transitions
from rcceval.analyses.sufficiency.forecast_states import EXIT, GROUPS, quarter_ends
from rcceval.derive.placements import derive_placements
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region

FOSTER, RESID = GROUPS.index("fostering"), GROUPS.index("residential")


# ------------------------------------------------------------------------- hand-made 903: exact counts

@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> sf.ForecastData:
    """Child 1 in foster care since 1 April 2022 (DOB 15 February 2012); child 2 enters foster care on
    15 May 2023, moves to a children's home on 10 August 2023 and leaves care on 20 January 2024;
    child 3 has short breaks only (LS V3), which are not care periods."""
    root = tmp_path_factory.mktemp("fc903")
    header = [hd("1", "15/02/2012"), hd("2", "01/06/2010", "2"), hd("3", "01/01/2015")]
    write_return(root, "A", 2023, header[:1] + header[2:], [
        ep("1", "01/04/2022", "S", ""),
        ep("3", "01/06/2022", "S", "03/06/2022", "E13", ls="V3")])
    write_return(root, "A", 2024, header, [
        ep("1", "01/04/2022", "S", ""),
        ep("2", "15/05/2023", "S", "10/08/2023", "X1", "CARPL"),
        ep("2", "10/08/2023", "P", "20/01/2024", "E13", place="K2", urn="SC12345", provider="PR4"),
        ep("3", "01/09/2023", "S", "03/09/2023", "E13", ls="V3")])
    region = validate_region(read_region(root))
    placements = derive_placements(region.c903)
    return sf.forecast_data(placements, region.c903.header, pd.Timestamp(2022, 6, 30), pd.Timestamp(2024, 3, 31))


def test_quarter_ends():
    assert [d.strftime("%d/%m/%Y") for d in quarter_ends(pd.Timestamp(2022, 6, 30), pd.Timestamp(2023, 3, 31))] == \
        ["30/06/2022", "30/09/2022", "31/12/2022", "31/03/2023"]


def test_states_exact_on_a_handmade_903(tiny):
    snap = tiny.snap.set_index(["DATE", "CHILD"])
    assert "3" not in set(tiny.snap["CHILD"])                       # short breaks: not looked after
    assert len(tiny.snap) == 8 + 3                                  # child 1 on 8 quarter ends, child 2 on 3
    # child 1 on 31 March 2023: 4,062 days old (11 years to 15/02/2023 = 4,018 days, + 44) = 44.48 quarters;
    # in placement 364 days = 3.99 quarters
    r = snap.loc[(pd.Timestamp(2023, 3, 31), "1")]
    assert (r["AGE_Q"], r["GROUP"], r["DUR_Q"]) == (44, FOSTER, 3)
    # on 31 March 2024: 730 days in placement (7.99 quarters), capped at the last duration state (5)
    assert snap.loc[(pd.Timestamp(2024, 3, 31), "1"), "DUR_Q"] == 5
    # child 2 (DOB 1 June 2010): 30 June 2023 foster (45 days in), 30 September 2023 children's home (51 days),
    # 31 December 2023 children's home (143 days = 1.57 quarters); 4,869 days old on 30/09/2023 = 53.3 quarters
    two = snap.xs("2", level="CHILD")
    assert two["GROUP"].tolist() == [FOSTER, RESID, RESID] and two["DUR_Q"].tolist() == [0, 0, 1]
    assert two.loc[pd.Timestamp(2023, 9, 30), "AGE_Q"] == 53


def test_moves_and_entrants_exact_on_a_handmade_903(tiny):
    assert "CHILD" not in tiny.transitions                            # moves keep no child identifiers
    trans = tiny.transitions.set_index("DATE").sort_index()
    assert len(trans) == 7 + 3                                        # child 1: 7 pairs; child 2: 3
    # from 30 June 2023: child 1 stays (0), child 2 moves to residential (1 + RESID)
    assert sorted(trans.loc[pd.Timestamp(2023, 6, 30), "OUTCOME"].tolist()) == [0, 1 + RESID]
    assert trans.loc[pd.Timestamp(2023, 9, 30), "OUTCOME"].tolist() == [0, 0]
    assert sorted(trans.loc[pd.Timestamp(2023, 12, 31), "OUTCOME"].tolist()) == [0, EXIT]
    ents = tiny.entrants
    assert len(ents) == 1
    e = ents.iloc[0]
    assert (e["DATE"], e["SEX"], e["GROUP"]) == (pd.Timestamp(2023, 3, 31), "2", FOSTER)
    assert e["AGE_Q"] == 52            # its state on 30/06/2023: 4,777 days old (13 years = 4,748 days, + 29) = 52.3
    counts = fit_transitions(tiny.transitions, tiny.dates[:-1], prior=10).counts
    assert counts.sum() == 10 and counts[..., EXIT].sum() == 1 and counts[..., 1 + RESID].sum() == 1


def test_observed_counts_exact(tiny):
    obs = sf.observed(tiny, 2024).set_index(["DIMENSION", "GROUP"])["observed"]
    assert obs[("total", "all")] == 1 and obs[("age_band", "10-12")] == 1 and obs[("placement_type", "fostering")] == 1
    assert sf.observed(tiny, 2023).set_index(["DIMENSION", "GROUP"])["observed"][("total", "all")] == 1


# ------------------------------------------------------------------ simulated stock and flow: recovery

P_LEAVE, P_MOVE, RATE = 0.10, 0.05, 120          # a quarter: leave care, move foster -> residential; entrants


def _simulated(seed: int = 3, growth: float = 0.0) -> sf.ForecastData:
    """A Markov stock and flow on quarter ends 30/06/2017 .. 31/03/2025: RATE entrants a quarter (x
    exp(growth x years)) aged 5-8, all first in foster care; each quarter a child leaves care with
    P_LEAVE, else a foster child moves to a children's home with P_MOVE. Placements are written as the
    903 would give them (a start and end date inside the quarter of the event)."""
    rng = np.random.default_rng(seed)
    dates = quarter_ends(pd.Timestamp(2017, 6, 30), pd.Timestamp(2025, 3, 31))
    rows, child = [], 0
    active: dict[int, list] = {}
    for a, b in zip(dates[:-1], dates[1:]):
        span = (b - a).days
        # events of the children in care at `a`, then the quarter's entrants
        for c, pl in list(active.items()):
            u = rng.random()
            day = a + pd.Timedelta(days=int(rng.integers(1, span)))
            if u < P_LEAVE:
                pl[-1]["END"] = day
                rows += pl
                del active[c]
            elif u < P_LEAVE + P_MOVE and pl[-1]["PLACE_GROUP"] == "foster_other":
                pl[-1]["END"] = day
                pl.append({**pl[-1], "START": day, "END": pd.NaT, "PLACE_GROUP": "childrens_home", "PLACE": "K2"})
        years = (b - dates[-1]).days / 365.25
        for _ in range(rng.poisson(RATE * np.exp(growth * years))):
            day = a + pd.Timedelta(days=int(rng.integers(1, span)))
            dob = day - pd.Timedelta(days=int(rng.integers(5 * 365 + 2, 9 * 365 - 2)))
            active[child] = [{"LA": "A", "CHILD": str(child), "PERIOD_NO": 1, "START": day, "END": pd.NaT,
                              "PLACE": "U4", "PLACE_GROUP": "foster_other", "PLACE_PROVIDER": "PR1", "DOB": dob,
                              "SEX": str(1 + child % 2)}]
            child += 1
    for pl in active.values():
        rows += pl
    pl = pd.DataFrame(rows)
    header = pl[["LA", "CHILD", "DOB", "SEX"]].drop_duplicates(["LA", "CHILD"])
    return sf.forecast_data(pl.drop(columns=["DOB", "SEX"]), header, dates[0], dates[-1])


@pytest.fixture(scope="module")
def simulated() -> sf.ForecastData:
    return _simulated()


def test_transition_model_recovers_the_generating_probabilities(simulated):
    window = simulated.dates[-13:-1]
    n = fit_transitions(simulated.transitions, window, prior=10).counts
    foster = n[:, FOSTER].sum(axis=(0, 1))
    resid = n[:, RESID].sum(axis=(0, 1))
    se = lambda p, m: 3 * np.sqrt(p * (1 - p) / m)  # noqa: E731
    assert foster[EXIT] / foster.sum() == pytest.approx(P_LEAVE, abs=se(P_LEAVE, foster.sum()))
    assert foster[1 + RESID] / foster.sum() == pytest.approx(P_MOVE, abs=se(P_MOVE, foster.sum()))
    assert resid[EXIT] / resid.sum() == pytest.approx(P_LEAVE, abs=se(P_LEAVE, resid.sum()))
    assert resid[1:EXIT].sum() == 0                                   # no moves out of children's homes
    entries = fit_entries(simulated.entrants, window, pd.Timestamp(2025, 3, 31))
    # entrants seen at the next quarter end are those who did not leave within their first quarter: all of them
    assert entries.cells["rate"].sum() == pytest.approx(RATE, rel=3 / np.sqrt(RATE * len(window)))
    assert not entries.test.used
    assert set(entries.cells.loc[entries.cells["entrants"] > 0, "AGE_BAND"]) <= {"5-9"}


def test_forecast_matches_the_expected_stock_of_the_generating_process(simulated):
    """No child reaches 18 within the horizon, so E[N(t + 1)] = (1 - P_LEAVE) N(t) + RATE and the foster
    share follows the move probability: the forecast's mean and interval must hold the exact expectation."""
    fc = sf.forecast_demand(simulated, 2025, sf.ForecastOptions(draws=600, seed=4))
    n0 = float((simulated.snap["DATE"] == pd.Timestamp(2025, 3, 31)).sum())
    f0 = float(((simulated.snap["DATE"] == pd.Timestamp(2025, 3, 31)) & simulated.snap["GROUP"].eq(FOSTER)).sum())
    d = fc.detail.set_index(["DIMENSION", "GROUP", "horizon"])
    for h in (1, 2, 3):
        total, foster = n0, f0
        for _ in range(4 * h):
            total = (1 - P_LEAVE) * total + RATE
            foster = (1 - P_LEAVE - P_MOVE) * foster + RATE
        t, f = d.loc[("total", "all", h)], d.loc[("placement_type", "fostering", h)]
        assert t["low"] < total < t["high"] and abs(t["estimate"] / total - 1) < 0.03
        assert f["low"] < foster < f["high"] and abs(f["estimate"] / foster - 1) < 0.04


# -------------------------------------------------------------------------------- the trend test

def _entrants(rate: float, growth: float, seed: int) -> tuple[pd.DataFrame, list[pd.Timestamp]]:
    rng = np.random.default_rng(seed)
    quarters = quarter_ends(pd.Timestamp(2019, 3, 31), pd.Timestamp(2024, 12, 31))
    rows = []
    for d in quarters:
        years = (d - pd.Timestamp(2025, 3, 31)).days / 365.25
        n = rng.poisson(rate * np.exp(growth * years))
        rows.append(pd.DataFrame({"DATE": d, "LA": "A", "AGE_Q": rng.integers(0, 72, n),
                                  "SEX": rng.choice(["1", "2"], n), "GROUP": 0}))
    return pd.concat(rows, ignore_index=True), quarters


def test_trend_test_accepts_a_flat_series_and_detects_a_planted_trend():
    flat, q = _entrants(300, 0.0, seed=21)
    m = fit_entries(flat, q, pd.Timestamp(2025, 3, 31))
    assert not m.test.used and m.test.p_value > 0.05 and m.trend == 0.0
    assert m.cells["rate"].sum() == pytest.approx(len(flat) / len(q))   # flat: each cell at its mean
    grown, q = _entrants(300, np.log(1.08), seed=22)
    g = fit_entries(grown, q, pd.Timestamp(2025, 3, 31))
    assert g.test.used and g.test.p_value < 0.001
    assert g.test.growth_low < 8 < g.test.growth_high


def test_overdispersed_entries_are_negative_binomial():
    rng = np.random.default_rng(5)
    quarters = quarter_ends(pd.Timestamp(2019, 3, 31), pd.Timestamp(2024, 12, 31))
    rows = [pd.DataFrame({"DATE": d, "LA": "A", "AGE_Q": 30, "SEX": "1", "GROUP": 0},
                         index=range(rng.poisson(rng.gamma(4, 50)))) for d in quarters]   # variance >> mean
    m = fit_entries(pd.concat(rows, ignore_index=True), quarters, pd.Timestamp(2025, 3, 31))
    assert m.dispersion > 5 and m.test.method.startswith("F")


# ----------------------------------------------------------------------------------- reproducibility

def test_fixed_seed_gives_an_identical_forecast(simulated):
    a = sf.forecast_demand(simulated, 2024, sf.ForecastOptions(draws=300, seed=9, jobs=1))
    b = sf.forecast_demand(simulated, 2024, sf.ForecastOptions(draws=300, seed=9, jobs=2))
    c = sf.forecast_demand(simulated, 2024, sf.ForecastOptions(draws=300, seed=10))
    pd.testing.assert_frame_equal(a.detail, b.detail)
    assert not a.detail["estimate"].equals(c.detail["estimate"])


def test_backtest_covers_every_origin_and_horizon(simulated):
    bt = sf.backtest(simulated, sf.ForecastOptions(draws=300, seed=2))
    s = bt.summary.set_index("horizon")
    # origins 2019 .. 2024 (2018 has 3 quarters of moves before it, fewer than 4)
    assert s["origins"].to_dict() == {1: 6, 2: 5, 3: 4}
    t = bt.table
    row = t.loc[t["DIMENSION"].eq("total") & t["origin"].eq(2022) & t["horizon"].eq(2)].iloc[0]
    assert row["observed"] == sf.observed(simulated, 2024).set_index("GROUP").loc["all", "observed"]
    assert row["ape"] == pytest.approx(100 * abs(row["estimate"] - row["observed"]) / row["observed"])
    assert s.loc[1, "mape_total"] < 5 and 0.8 <= s.loc[1, "coverage"] <= 1.0


def test_year_to_year_spread_of_leaving_rates():
    """2,000 children a quarter in one state, leaving at exactly 10% x exp(e) with e = -0.2, 0, 0.2 in the
    three years of the window: the SD of log(observed / expected) between years is 0.2 (less 1/observed);
    with the same rate every year it is 0."""
    quarters = quarter_ends(pd.Timestamp(2022, 3, 31), pd.Timestamp(2024, 12, 31))

    def rows(shocks):
        out = []
        for i, d in enumerate(quarters):
            leave = int(round(2000 * 0.1 * np.exp(shocks[i // 4])))
            out.append(pd.DataFrame({"DATE": d, "LA": "A", "AGE_Q": 30, "GROUP": FOSTER, "DUR_Q": 5,
                                     "OUTCOME": np.r_[np.full(leave, EXIT), np.zeros(2000 - leave, int)]}))
        return pd.concat(out, ignore_index=True)

    flat = fit_transitions(rows([0.0, 0.0, 0.0]), quarters)
    assert flat.tau == (0.0, 0.0)
    shocked = fit_transitions(rows([-0.2, 0.0, 0.2]), quarters)
    o = np.array([2000 * 0.1 * np.exp(e) * 4 for e in (-0.2, 0.0, 0.2)])
    r = np.log(o / o.mean())
    assert shocked.tau[0] == pytest.approx(np.sqrt(r.var(ddof=1) - np.mean(1 / o)), rel=0.05)
    assert shocked.tau[1] == 0.0
