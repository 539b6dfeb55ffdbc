"""Every plot function follows lifelines' convention: it takes `ax=None`, draws on the axes it is
given (one a panel for multi-panel figures), opens no figure of its own then, and returns those axes.
Inputs are small hand-made published tables (with a suppressed "c" cell where a function reads counts)."""
from __future__ import annotations

import importlib
import inspect

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rcceval.analyses.sufficiency.profiles import PROFILE_LABELS  # noqa: E402
from rcceval.reporting.figures import axes_or_new, figure_of, panels_or_new  # noqa: E402

MODULES = ["quality", "prediction", "survival", "costing", "proposal", "sufficiency"]
NOT_PLOTS = {"hr_text"}          # survival.plots.hr_text formats a table, it draws nothing
LABELS = list(PROFILE_LABELS.values())


def _crosstab(rows: list[str]) -> pd.DataFrame:
    t = pd.DataFrame({lab: [3 + i + j for i in range(len(rows))] for j, lab in enumerate(LABELS)}, index=rows)
    t.iloc[0, 0] = "c"
    t["Total"] = 40
    t.loc["Total"] = 100
    return t


def _cases() -> dict[str, tuple[tuple, dict, int]]:
    """name -> (args, keywords, panels): panels 0 for one axes."""
    years = pd.DataFrame({"2023": [5, 7, 12], "2024": ["c", 8, 10], "Total": [5, 15, 22]}, index=["A", "B", "Total"])
    hr = pd.DataFrame({"hr": [1.5, 0.8], "hr_lower": [1.1, 0.6], "hr_upper": [2.0, 1.1]}, index=["x", "z"])
    two_models = pd.DataFrame({f"{m}: {k}": v for m in ("a", "b") for k, v in
                               (("hr", [1.5, 0.8]), ("hr_lower", [1.1, 0.6]), ("hr_upper", [2.0, 1.1]))},
                              index=["x", "z"])
    curves = pd.DataFrame({"profile": ["P"] * 3 + ["Q"] * 3, "day": [0, 365.25, 730.5] * 2,
                           "surv": [1, 0.8, 0.7, 1, 0.6, 0.5], "lower": [1, 0.7, 0.6, 1, 0.5, 0.4],
                           "upper": [1, 0.9, 0.8, 1, 0.7, 0.6]})
    at_risk = pd.DataFrame({"profile": ["P", "P", "Q", "Q"], "day": [0, 365.25, 0, 365.25], "at_risk": [50, "c", 40, 20]})
    cif = pd.concat([curves.rename(columns={"surv": "cif"}).assign(cause=c) for c in ("unplanned", "planned")])
    grid = pd.DataFrame({"peak_intensity": ["low", "low", "high", "high"], "peak_frequency": ["rare", "often"] * 2,
                         "cif": [0.1, 0.2, "c", 0.5]})
    ci = {"estimate": [0.03, 0.01], "ci_low": [0.01, -0.01], "ci_high": [0.05, 0.03]}
    comparison = pd.DataFrame({"auc": [0.6, 0.65], "auc_ci_low": [0.55, 0.6], "auc_ci_high": [0.65, 0.7],
                               "label": ["base", "needs"]}, index=["M0", "M1"])
    kids = _crosstab(["E1", "E2"])
    shortfall = pd.DataFrame([{"REACH": r, "PROFILE": p, "AREA": a, "shortfall": 1}
                              for r in ("near", "far") for p in ("straightforward", "complex_chronic", "all")
                              for a in ("E1", "E2", "Region")])
    history = _crosstab(["2023", "2024"])
    forecast = pd.DataFrame([{"PROFILE": p, "YEAR": y, "estimate": 10.0, "low": 8.0, "high": 12.0}
                             for p in (*PROFILE_LABELS, "all") for y in (2025, 2026)])
    return {
        "quality.cla_over_time": ((years,), {}, 0),
        "quality.placement_mix": ((pd.DataFrame({"placement_type": ["Foster", "Residential"], "percent": [70, "c"]}),), {}, 0),
        "prediction.auc_and_gains": ((comparison, pd.DataFrame(ci, index=["M1 - M0", "M2 - M1"])), {}, 2),
        "prediction.calibration": ((pd.DataFrame({"model": ["M1", "M1"], "predicted": [0.1, 0.3], "observed": [0.12, 0.28],
                                                  "observed_ci_low": [0.08, 0.2], "observed_ci_high": [0.16, 0.35]}),), {}, 0),
        "prediction.drop_one": ((pd.DataFrame({"domain": ["behaviour", "health"], **ci}),), {}, 0),
        "prediction.council_widths": ((pd.DataFrame({"LA": ["A", "Region (pooled)"], "hr_per_point": [1.1, 1.05],
                                                     "ci_low": [0.9, 1.0], "ci_high": [1.3, 1.1], "placements": [90, 400]}),),
                                      {}, 0),
        "prediction.effects": ((pd.DataFrame({"model": ["M1", "M2"], "term": ["I_behaviour", "MISMATCH"], "hr": [1.1, 1.3],
                                              "ci_low": [1.0, 1.1], "ci_high": [1.2, 1.5]}).set_index("term"),), {}, 0),
        "survival.survival_curves": ((curves, at_risk), {}, 0),
        "survival.incidence_panels": ((cif,), {}, 2),
        "survival.forest": ((hr,), {"truth": pd.Series({"x": 1.4, "z": 0.9})}, 0),
        "survival.compare_forest": ((two_models, ["a", "b"]), {}, 0),
        "survival.grid_heatmap": ((grid, "cif"), {}, 0),
        "costing.static_gap": ((pd.DataFrame({"profile": ["P", "Q"], **{f"diff_{k}": [v, v + 5] for k, v in
                                              (("p10", -10), ("p25", 0), ("median", 5), ("p75", 10), ("p90", 20))}}),), {}, 0),
        "costing.scenario_bars": ((pd.DataFrame({"scenario": ["unit_cost", "needs_led"] * 2, "profile": ["P", "P", "Q", "Q"],
                                                 "cost": [100, 120, 90, "c"], "cost_lower": [90, 110, 80, "c"],
                                                 "cost_upper": [110, 130, 100, "c"]}), "cost", "£"), {}, 0),
        "costing.tornado": ((pd.DataFrame({"parameter": ["fee", "hours"], "base": [500.0, 500.0], "at_low": [300.0, 450.0],
                                           "at_high": [700.0, 560.0], "low": [0.8, 10], "high": [1.2, 30]}),), {}, 0),
        "costing.fee_ratios": ((pd.DataFrame({"by": ["cost group"] * 2, "level": ["foster", "residential"],
                                              "ratio_median": [0.9, 1.1], "ratio_p10": [0.7, 0.9], "ratio_p90": [1.2, 1.4]}),),
                               {}, 0),
        "costing.first_placement_check": ((pd.DataFrame({"profile": ["P", "P"], "day": [0, 365.25], "model": [1, 0.7],
                                                         "simulated": [1, 0.72], "observed_km": [1, 0.69]}),), {}, 0),
        "costing.acceptability": ((pd.DataFrame({"value": [0, 1000, 2000], "ceac": [0.1, 0.5, 0.9],
                                                 "evpi": [10.0, 50.0, 5.0], "evppi_mismatch": [5.0, 20.0, 1.0]}),),
                                  {}, 0),
        "proposal.mdhr_by_years": ((pd.DataFrame({"council_median": [3.0, 2.0], "region": [1.5, 1.3], "events_region": [50, 90]},
                                                 index=[1, 2]),), {}, 0),
        "proposal.power_curves": ((pd.DataFrame({"unit": ["region"] * 2, "years": [1, 2], "power_1.2": [0.5, 0.8],
                                                 "power_1.3": [0.7, 0.95]}), ["power_1.2", "power_1.3"], {"region": "Region"}),
                                  {}, 2),
        "proposal.simulated_vs_analytic": ((pd.DataFrame({"setting": ["a", "a"], "events_mean": [50.0, 100.0],
                                                          "power": [0.5, 0.8], "ci_low": [0.4, 0.7], "ci_high": [0.6, 0.9]}),),
                                           {"curves": {"analytic": lambda e: 1 - np.exp(-e / 60)}}, 0),
        "proposal.field_value": ((pd.DataFrame({"title": ["Needs", "Distance"], "delta_auc": [0.03, 0.01],
                                                "ci_low": [0.01, -0.01], "ci_high": [0.05, 0.02]}),), {}, 0),
        "proposal.secured_shares": ((pd.DataFrame({"group": ["age"] * 3, "value": ["5-9", "5-9", "10-15"],
                                                   "category": ["Preferred", "Unsuitable", "Preferred"],
                                                   "share": [0.7, 0.3, "c"]}), "age"), {}, 0),
        "sufficiency.profile_shares": ((kids,), {}, 0),
        "sufficiency.profile_lines": ((history,), {}, 0),
        "sufficiency.by_age": ((pd.DataFrame({"age": [4, 5, 6], "mean": [1.0, 2.0, 1.5], "ci_low": [0.5, 1.5, 1.0],
                                              "ci_high": [1.5, 2.5, 2.0]}), "Mean"), {"peaks": [5]}, 0),
        "sufficiency.provision_map": ((pd.DataFrame({"PLACE": ["K2", "U4"], "X": [450000, 460000], "Y": [170000, 175000],
                                                     "places": [4, 2]}),
                                       pd.DataFrame({"LA": ["E1"], "X": [455000], "Y": [172000]})), {}, 0),
        "sufficiency.shortfall_heatmaps": ((shortfall, kids, {"near": "Within 20 miles", "far": "Anywhere"}), {}, 2),
        "sufficiency.category_bars": ((pd.DataFrame({"market": ["A", "A"], "category": ["near", "far"], "percent": [60, "c"]}),
                                       {"near": "Near", "far": "Far"}), {}, 0),
        "sufficiency.forecast_fan": ((history, forecast), {}, len(PROFILE_LABELS) + 1),
    }


CASES = _cases()


def _plot_functions() -> set[str]:
    found = set()
    for m in MODULES:
        module = importlib.import_module(f"rcceval.analyses.{m}.plots")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and name not in NOT_PLOTS:
                found.add(f"{m}.{name}")
    return found


def _resolve(key: str):
    m, name = key.split(".")
    return getattr(importlib.import_module(f"rcceval.analyses.{m}.plots"), name)


def _drawn(ax) -> int:
    return len(ax.lines) + len(ax.patches) + len(ax.collections) + len(ax.images) + len(ax.texts)


def test_every_plot_function_is_checked_and_takes_ax_none():
    assert _plot_functions() == set(CASES)
    for key in CASES:
        param = inspect.signature(_resolve(key)).parameters.get("ax")
        assert param is not None and param.default is None, key


@pytest.mark.parametrize("key", sorted(CASES))
def test_plot_draws_on_the_given_axes_and_returns_them(key):
    args, kwargs, panels = CASES[key]
    plt.close("all")
    fig, given = plt.subplots(1, max(panels, 1), squeeze=False)
    given = given[0] if panels else given[0, 0]
    try:
        got = _resolve(key)(*args, **kwargs, ax=given)
        assert plt.get_fignums() == [fig.number], "opened a figure of its own"
        if panels:
            assert isinstance(got, np.ndarray) and len(got) == panels
            assert all(a is b for a, b in zip(got, given))
            assert all(_drawn(a) > 0 for a in got)
        else:
            assert got is given and _drawn(got) > 0
        assert figure_of(got) is fig
        alone = _resolve(key)(*args, **kwargs)            # without ax: its own new figure, returned as axes
        assert figure_of(alone) is not fig and len(plt.get_fignums()) == 2
    finally:
        plt.close("all")


def test_what_is_drawn_comes_from_the_table():
    """The data-quality line is the Total row with the suppressed year left out (not recomputed)."""
    ax = _resolve("quality.cla_over_time")(CASES["quality.cla_over_time"][0][0], ax=plt.subplots()[1])
    assert list(ax.lines[0].get_xdata()) == ["2023", "2024"] and list(ax.lines[0].get_ydata()) == [12, 10]
    cif = CASES["survival.incidence_panels"][0][0]
    axes = _resolve("survival.incidence_panels")(cif, ax=plt.subplots(1, 2)[1])
    assert [a.get_title() for a in axes] == ["unplanned", "planned"]
    np.testing.assert_allclose(axes[1].lines[0].get_xdata(), [0, 1, 2])     # days / 365.25
    plt.close("all")


def test_the_axes_helpers():
    fig, ax = plt.subplots()
    assert axes_or_new(ax, (3, 3)) is ax
    with pytest.raises(ValueError, match="this figure has 3 panels: give 3 axes"):
        panels_or_new(plt.subplots(1, 2)[1], 3, (3, 3))
    new = panels_or_new(None, 3, (6, 2))
    assert len(new) == 3 and figure_of(new) is new[0].figure and figure_of(fig) is fig
    plt.close("all")
