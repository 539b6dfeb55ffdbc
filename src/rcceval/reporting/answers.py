"""Each question's answer in plain words, for index.html: read from results.json, written by numbers.py.

One `Question` a notebook: its title as an evaluator would ask it, a function that turns the
notebook's published headlines (results.json, after disclosure control) into one or two sentences
with estimate and interval, plain labels for the headlines worth a row in the key-figures table, and
the figures that carry the answer. An answer that cannot be written from what was published (a
partial run, a renamed key) falls back to a sentence pointing to the full report: never an error.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rcceval.reporting import numbers as nb

Answer = Callable[[Mapping[str, Any], int], list[str]]


@dataclass(frozen=True)
class Question:
    """What index.html shows of one notebook besides its status and links."""

    title: str
    short: str
    answer: Answer | None = None
    labels: Mapping[str, str | tuple[str, Callable[[Any], str]]] = field(default_factory=dict)   # index.results_rows
    figures: tuple[str, ...] = ()


def est(d: Any, f: Callable[[Any], str] | None = None, threshold: int = 5) -> str:
    """A serialised Estimate in words: "0.769 (95% CI 0.763 to 0.774)"; "c" explained."""
    if d == nb.SUPPRESSED:
        return nb.suppressed(threshold)
    return nb.estimate(d["value"], d.get("lower"), d.get("upper"), d.get("level", 0.95), f)


def share(d: Any, threshold: int = 5) -> str:
    """A serialised Share as a percentage; "c" explained."""
    if d == nb.SUPPRESSED or d["value"] == nb.SUPPRESSED:
        return nb.suppressed(threshold)
    return nb.percent(d["value"])


def count(x: Any, threshold: int = 5) -> str:
    return nb.explain(nb.count(x), threshold)


def _quality(r: Mapping[str, Any], t: int) -> list[str]:
    cla = r["children_looked_after_31_march"]
    year = max(cla)
    p = r["problems"]
    return [
        f"{count(r['placements_in_window'], t)} placements in the analysis window were read from "
        f"{nb.count(r['files_read'])} files; {count(cla[year], t)} children were looked after on 31 March {year}. "
        f"Validation found {nb.count(p['fatal'])} fatal problems, fixed {nb.count(p['fixable'])} and noted "
        f"{nb.count(p['warning'])} warnings.",
        f"{share(r['pct_placements_with_assessment'], t)} of placements had a needs assessment and "
        f"{share(r['pct_placements_with_request'], t)} a placement request; {share(r['pct_3plus_placements_year'], t)} "
        f"of children looked after had three or more placements in the year.",
    ]


def _prediction(r: Mapping[str, Any], t: int) -> list[str]:
    h = nb.days(r["horizon_days"])
    if "delta_auc_m1_m0" not in r:     # partial: the 903 baseline only
        mdhr = next((v for k, v in r.items() if k.startswith("mdhr_per_sd_needs_score_")), {})
        five = mdhr.get("5 years")
        return [f"From the 903 alone, the chance of an unplanned ending within {h} is predicted with an AUC of "
                f"{est(r['baseline_auc'])}; without needs data, whether needs add to it cannot be tested."
                + (f" With five years of data, a needs score would be detected (80% power) if one standard deviation "
                   f"carried a hazard ratio of {nb.number(five)}." if five is not None else "")]
    d, m0, m1 = r["delta_auc_m1_m0"], r["auc_m0"], r["auc_m1"]
    lr = r["lr_test_m1_m0"]
    moved = "raised" if d["value"] > 0 else "lowered" if d["value"] < 0 else "left"
    out = [f"Predicting an unplanned ending within {h}, adding needs data {moved} the AUC from "
           f"{nb.fixed(m0['value'], 2)} to {nb.fixed(m1['value'], 2)}: {nb.difference(**d)} (likelihood ratio test "
           f"{nb.p_value(lr['p'])})."]
    if "delta_auc_m2_m1" in r:
        m = r["delta_auc_m2_m1"]
        out.append(f"Adding the mismatch between needs and placement changed it by a further {nb.difference(**m)}.")
    return out


def _tiers(by: Mapping[str, Any]) -> tuple[str, str]:
    """The profiles with the highest and lowest value."""
    known = {k: v for k, v in by.items() if isinstance(v, dict) and v.get("value") is not None}
    return max(known, key=lambda k: known[k]["value"]), min(known, key=lambda k: known[k]["value"])


def _survival(r: Mapping[str, Any], t: int) -> list[str]:
    cif = r["cif_unplanned_1y_by_tier"]
    hi, lo = _tiers(cif)
    out = [f"A year after it started, {est(cif[hi], nb.percent, t)} of placements of children with "
           f"{hi.lower()} needs had ended unplanned, against {est(cif[lo], nb.percent, t)} for "
           f"{lo.lower()} needs (log-rank test {nb.p_value(r['logrank_unplanned_by_tier']['p'])})."]
    mismatch = r.get("main_model", {}).get("hazard_ratios", {}).get("MISMATCH")
    if mismatch:
        out.append(f"A placement that did not meet the child's assessed needs had a hazard ratio of an unplanned "
                   f"ending of {est(mismatch['hr'])}, adjusted for age, placement type and needs.")
    return out


def _costing(r: Mapping[str, Any], t: int) -> list[str]:
    c, d = r["cost_per_child_year"], r["difference_per_child_year"]
    years = nb.number(r.get("simulation", {}).get("horizon_years", "the horizon"))
    out = [f"Care costs {est(c['needs_led'], nb.money)} per child-year under needs-led commissioning against "
           f"{est(c['unit_cost'], nb.money)} under unit costs: a difference of {nb.money(d['value'])} "
           f"({nb.number(100 * d['level'])}% CI {nb.interval(d['lower'], d['upper'], nb.money)}) per child-year."]
    if "moves_averted_per_100_children" in r:
        out.append(f"Needs-led commissioning averts {est(r['moves_averted_per_100_children'])} moves per 100 children "
                   f"over {years} years.")
    return out


def _proposal(r: Mapping[str, Any], t: int) -> list[str]:
    out = []
    five = r.get("mdhr_80_with_5_years") or {}
    if five.get("region") is not None:
        out.append(f"With five years of the region's data, a proposed needs field would be detected (80% power) if one "
                   f"point of intensity carried a hazard ratio of {nb.number(five['region'])} "
                   + (f"({nb.number(five['national'])} with England's data)." if five.get("national") else "."))
    else:
        by = next((v for k, v in r.items() if k.startswith("mdhr_per_sd_") and k.endswith("_903")), {})
        region = by.get("Region (pooled)", {})
        if region:
            out.append(f"From the 903's own unplanned endings, a proposed field would be detected (80% power) in one "
                       f"year of the region's data if one standard deviation carried a hazard ratio of "
                       f"{nb.number(region.get('1 years'))}.")
    secured = r.get("preferred_type_secured")
    secured = secured.get("share", secured) if isinstance(secured, dict) else None
    if isinstance(secured, dict) and "value" in secured:
        out.append(f"The preferred type of placement was secured for {share(secured, t)} of placements with a request"
                   + (f" ({nb.number(100 * secured['level'])}% CI "
                      f"{nb.interval(secured['lower'], secured['upper'], nb.percent)})."
                      if secured.get("lower") is not None else "."))
    if not out:
        raise KeyError("no power headline")
    return out


def _sufficiency(r: Mapping[str, Any], t: int) -> list[str]:
    # the shortfall is a lower bound ("at least") since the three matching rules; older runs had no bound
    short = r.get("region_shortfall_at_least_all_profiles") or r.get("region_shortfall_all_profiles")
    if short is None:     # partial: the forecast from the 903 only
        f = r.get("forecast_looked_after") or r["forecast_demand"]["all"]
        last = max(f)
        return [f"Children looked after are forecast at {est(f[last])} in {last}, from the 903 alone; the needs "
                f"audit and sufficiency gap need needs assessments and a provider register."]
    bound = "at least " if "region_shortfall_at_least_all_profiles" in r else ""
    out = [f"With every child competing for the same places, {bound}{count(short.get('council'), t)} children could "
           f"not be given a place able to meet their needs within their own council, and "
           f"{bound}{count(short.get('region'), t)} within the region."]
    e = r.get("stable_placement_difference") or r.get("stable_placement_effect")
    if isinstance(e, dict):
        out.append(f"Levels of need after a stable placement differed from those after a move by "
                   f"{nb.difference(**e)} on the 0-3 scale (an association, not a measured effect).")
    return out


QUESTIONS: dict[str, Question] = {
    "00_data_quality": Question(
        "Data quality: what was read, what was fixed, what is covered", "data quality", _quality,
        {"placements_in_window": "Placements in the analysis window",
         "pct_placements_with_assessment": "Placements with a needs assessment",
         "pct_placements_with_request": "Placements with a placement request",
         "pct_3plus_placements_year": "Children with 3 or more placements in the year",
         "pct_long_term_stability": "Long-term stability (DfE measure)",
         "children_looked_after_31_march": "Children looked after on 31 March",
         "files_read": "Files read"},
        ("cla_over_time", "placement_mix")),
    "01_needs_predict_stability": Question(
        "Question 1: does needs data predict placement stability?", "question 1", _prediction,
        {"delta_auc_m1_m0": "Gain in AUC from needs data (M1 - M0)",
         "delta_auc_m2_m1": "Further gain from the needs-placement mismatch (M2 - M1)",
         "auc_m0": "AUC: the 903 only (M0)", "auc_m1": "AUC: 903 and needs (M1)",
         "auc_m2": "AUC: 903, needs and mismatch (M2)",
         "lr_test_m1_m0": "Test of needs data (M1 against M0)",
         "lr_test_m2_m1": "Test of mismatch (M2 against M1)",
         "baseline_auc": "AUC: the 903 only (M0)",
         "n_placements": "Placements", "n_children": "Children",
         "baseline_placements": "Placements", "baseline_unplanned_within_horizon": "Unplanned endings"},
        ("auc_and_gains", "drop_one_domain", "calibration")),
    "02_placement_survival": Question(
        "Question 2: how long do placements last, by need, and what ends them?", "question 2", _survival,
        {"main_model.hazard_ratios.MISMATCH.hr": "Hazard ratio of an unplanned ending: placement not meeting needs",
         "cif_unplanned_1y_by_tier.Straightforward": ("Ended unplanned within a year: straightforward needs", nb.percent),
         "cif_unplanned_1y_by_tier.Complex or co-occurring": ("Ended unplanned within a year: complex or co-occurring needs",
                                                              nb.percent),
         "cif_unplanned_1y_by_tier.Extensive and enduring": ("Ended unplanned within a year: extensive and enduring needs",
                                                             nb.percent),
         "median_placement_days_by_tier.Straightforward": ("Median placement: straightforward needs", nb.days),
         "median_placement_days_by_tier.Complex or co-occurring": ("Median placement: complex or co-occurring needs", nb.days),
         "median_placement_days_by_tier.Extensive and enduring": ("Median placement: extensive and enduring needs", nb.days),
         "logrank_unplanned_by_tier": "Difference in unplanned endings between need profiles",
         "robust_test_unplanned_by_tier": "The same, robust to councils and repeated placements",
         "main_model.children": "Children in the model", "main_model.events": "Unplanned endings in the model"},
        ("cif_by_profile", "forest_unplanned", "km_unplanned_by_profile")),
    "03_unit_cost_vs_needs_led": Question(
        "Question 3: what does care cost under unit-cost and needs-led commissioning?", "question 3", _costing,
        {"difference_per_child_year": ("Needs-led minus unit cost, per child-year", nb.money),
         "cost_per_child_year.unit_cost": ("Cost per child-year: unit-cost commissioning", nb.money),
         "cost_per_child_year.needs_led": ("Cost per child-year: needs-led commissioning", nb.money),
         "share_3plus_moves.unit_cost": ("Children with 3 or more moves: unit-cost commissioning", nb.percent),
         "share_3plus_moves.needs_led": ("Children with 3 or more moves: needs-led commissioning", nb.percent),
         "moves_averted_per_100_children": "Moves averted per 100 children",
         "unplanned_moves_averted_per_100_children": "Unplanned moves averted per 100 children",
         "children_simulated": "Children simulated"},
        ("cost_per_child_year", "moves_per_child", "tornado")),
    "04_dataset_proposal": Question(
        "Question 4: what must a new dataset hold, and how big must it be?", "question 4", _proposal,
        {"mdhr_80_with_5_years.region": "Smallest detectable hazard ratio, 5 years of the region's data (80% power)",
         "mdhr_80_with_5_years.council_median": "The same for a median council",
         "mdhr_80_with_5_years.national": "The same for England",
         "field_value.all need domains.delta_auc": "Gain in AUC from all need domains",
         "preferred_type_secured.share": "Preferred type of placement secured",
         "second_best_hr.hr": "Hazard ratio of an unplanned ending: second-best placement",
         "events_with_needs": "Unplanned endings with needs data", "placements_with_needs": "Placements with needs data",
         "unplanned_endings_region_1_year": "Unplanned endings in the region in a year",
         "looked_after_on_extract": "Children looked after on the extract date"},
        ("mdhr_by_years", "power_curves", "field_value")),
    "05_sufficiency_gap": Question(
        "Question 5: are there enough placements able to meet children's needs?", "question 5", _sufficiency,
        {"region_shortfall_at_least_all_profiles.council": ("Children without a place able to meet their needs, at least: "
                                                            "in their council"),
         "region_shortfall_at_least_all_profiles.region": "The same, at least, in the region",
         "region_shortfall_all_profiles.council": "Children without a place able to meet their needs: in their council",
         "region_shortfall_all_profiles.within_20_miles": "The same within 20 miles",
         "region_shortfall_all_profiles.region": "The same in the region",
         "region_shortfall_all_profiles.anywhere": "The same anywhere",
         "pct_in_nearest_suitable.foster": "In the nearest suitable placement: foster care",
         "pct_in_nearest_suitable.registered": "In the nearest suitable placement: registered settings",
         "children_by_profile_now.all": "Children looked after now",
         "stable_placement_difference": "Need after a stable placement, against after a move (0-3 scale)",
         "stable_placement_effect": "Change in need after a stable placement, against a move (0-3 scale)",
         "stable_placement_test": "Test of that difference",
         "forecast_looked_after": "Forecast of children looked after"},
        ("shortfall_heatmap", "forecast", "provision_map")),
}


def question(notebook: str) -> Question:
    """The notebook's Question; an unknown notebook gets its name in words and no answer."""
    return QUESTIONS.get(notebook) or Question(notebook.split("_", 1)[-1].replace("_", " ").capitalize(),
                                               notebook.split("_", 1)[-1].replace("_", " "))


FALLBACK = "The answer could not be put in a sentence from the published figures: see the full report."


def answer(notebook: str, results: Mapping[str, Any], threshold: int = 5) -> list[str]:
    """One or two sentences from the notebook's published headlines (FALLBACK if they do not hold them)."""
    q = question(notebook)
    if q.answer is None or not results:
        return [FALLBACK]
    try:
        return q.answer(results, threshold)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return [FALLBACK]


FIGURE_LABELS = {
    "cla_over_time": "Children looked after on 31 March, by council", "placement_mix": "Placement mix",
    "auc_and_gains": "AUC of each model and the gains between them", "drop_one_domain": "What each need domain adds",
    "calibration": "Calibration: predicted against observed", "cif_by_profile": "Cumulative incidence of each ending",
    "forest_unplanned": "Hazard ratios of an unplanned ending", "km_unplanned_by_profile": "Free of an unplanned ending",
    "cost_per_child_year": "Cost per child-year", "moves_per_child": "Moves per child", "tornado": "What the difference depends on",
    "mdhr_by_years": "Minimum detectable hazard ratio by years of data", "power_curves": "Power curves",
    "field_value": "The value of each proposed field", "shortfall_heatmap": "Shortfall by profile and area",
    "forecast": "Forecast of children looked after", "provision_map": "Provision map",
}


def figure_label(stem: str) -> str:
    """A figure's caption and alt text: its label, else its file name in words."""
    return FIGURE_LABELS.get(stem) or stem.replace("_", " ").capitalize()


__all__ = ["FALLBACK", "QUESTIONS", "Question", "answer", "est", "figure_label", "question", "share"]
