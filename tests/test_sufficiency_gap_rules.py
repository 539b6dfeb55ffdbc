"""Question 5's gap: the three matching rules and the netting of places held by children outside the
scope, on hand-made cases whose answers are worked out by hand in the comments."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rcceval.analyses.sufficiency import gap as sg
from rcceval.spec.instruments import load_instrument

INS = load_instrument()
B, E = "behaviour", "emotional_wellbeing"


def child(name: str, b: tuple[int, int] = (0, 0), e: tuple[int, int] = (0, 0)) -> dict:
    """A child of council A at (0, 0), age 12 in a children's home: behaviour and emotional wellbeing
    as (intensity, frequency); every other domain no need."""
    row = {"CHILD": name, "LA": "A", "PROFILE": "complex_chronic", "AGE": 12, "PLACE": "K2", "X": 0.0, "Y": 0.0}
    for d in INS.domain_ids:
        i, f = b if d == B else e if d == E else (0, 0)
        row[f"I_{d}"], row[f"F_{d}"] = float(i), float(f)
    return row


def home(urn: str, places: int, b: int, e: int) -> dict:
    """A children's home of council A at (0, 0): capability b in behaviour, e in emotional wellbeing,
    3 in every other domain."""
    caps = {c: 3.0 for c in INS.capability_columns}
    caps["CAP_BEHAVIOUR"], caps["CAP_EMOTIONAL_WELLBEING"] = float(b), float(e)
    return {"URN": urn, "LA": "A", "PLACE": "K2", "PLACES": places, "X": 0.0, "Y": 0.0, **caps}


def three_homes() -> pd.DataFrame:
    # h1: behaviour 3, emotional 1, 1 place; h2: behaviour 1, emotional 3, 1 place; h3: 2 and 2, 3 places
    return pd.DataFrame([home("h1", 1, 3, 1), home("h2", 1, 1, 3), home("h3", 3, 2, 2)])


def five_children() -> pd.DataFrame:
    return pd.DataFrame([
        child("c1", b=(3, 1), e=(2, 1)),   # every domain: h1 (emotional 1 < 2), h2 (behaviour 1), h3 (2 < 3): none
        child("c2", b=(2, 1), e=(3, 1)),   # every domain: none (h1 emotional 1, h2 behaviour 1, h3 emotional 2)
        child("c3", e=(3, 1)),             # every domain: h2 only
        child("c4", b=(1, 3), e=(1, 3)),   # intensity: any home; daily in both: needs 3 and 3: none
        child("c5", b=(2, 1), e=(2, 1)),   # h3 only, under every rule
    ])


def test_three_rules_exact_on_three_homes_and_five_children():
    kids, homes = five_children(), three_homes()
    gap = sg.gap_analysis(kids, homes, INS, ["A"])
    rules = gap.rules.loc[gap.rules["REACH"].eq("council")].set_index("rule")["shortfall"]
    # Each domain alone. Behaviour needs 3, 2, 0, 1, 2: h1 (3) takes c1, h2 (1) c3, h3 (2, 3 places) c2, c4,
    # c5: all 5 placed. Emotional needs 2, 3, 3, 1, 2: c2 and c3 both need 3, which only h2 (1 place) has,
    # so one is left; c1, c4, c5 go to h3: 4 placed, shortfall 1. Other domains: 5 places for 5: 0.
    # The largest over domains: 1.
    assert rules["domain_alone"] == 1
    # Every domain at once (intensity): c1, c2 have no home; c3 -> h2, c5 -> h3, c4 -> h1 or h3: 3 placed, 2 short
    assert rules["every_domain"] == 2
    # Intensity and frequency: c4's daily needs require capability 3 in both domains, which no home has: 3 short
    assert rules["all_needs"] == 3
    assert rules["domain_alone"] <= rules["every_domain"] <= rules["all_needs"]
    cell = gap.cells.set_index(["REACH", "AREA", "PROFILE"]).loc[("council", sg.REGION, sg.ALL)]
    assert (cell["shortfall"], cell["shortfall_all_needs"], cell["placeable"]) == (2, 3, 3)
    assert gap.bound == "lower" and gap.to_dict()["bound"] == "lower"


def test_eligibility_under_each_rule_is_computed_per_profile():
    kids = pd.concat([five_children()] * 40, ignore_index=True)     # 200 children, 5 distinct profiles
    homes = three_homes()
    every = sg.eligible(kids, homes, INS)
    joint = sg.eligible(kids, homes, INS, rule="all_needs")
    expect_every = np.array([[0, 0, 0], [0, 0, 0], [0, 1, 0], [1, 1, 1], [0, 0, 1]], bool)
    expect_joint = np.array([[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]], bool)
    assert (every == np.tile(expect_every, (40, 1))).all() and (joint == np.tile(expect_joint, (40, 1))).all()
    # a frequency not rated falls back to the intensity
    kids.loc[3, f"F_{B}"] = np.nan
    kids.loc[3, f"F_{E}"] = np.nan
    assert sg.eligible(kids.iloc[[3]], homes, INS, rule="all_needs").tolist() == [[True, True, True]]
    # a need of 0 asks nothing, whatever its frequency
    zero = pd.DataFrame([child("z", b=(0, 3))])
    assert sg.eligible(zero, homes, INS, rule="all_needs").all()


def test_places_held_by_children_outside_the_scope_are_netted_out_exactly():
    homes = three_homes()
    current = pd.DataFrame({"LA": ["A"] * 7, "CHILD": ["c3", "c5", "x1", "x2", "x3", "x4", "x5"],
                            "URN": ["h2", "h3", "h1", "h3", "h3", "XXXXXXX", "SC99999"]})
    in_scope = five_children()[["LA", "CHILD"]]
    net, table = sg.net_places(homes, current, in_scope)
    # x1 holds h1's only place; x2, x3 hold 2 of h3's 3; x4 is with a foster carer, x5 not in the register;
    # c3 and c5 are in scope, so their own places stay open to the children in scope
    assert net["OCCUPIED_OUT_OF_SCOPE"].tolist() == [1, 0, 2]
    assert net["PLACES_FREE"].tolist() == [0, 1, 1]
    assert dict(zip(table["measure"], table["value"])) == {
        "register places": 5, "children outside the scope in registered settings": 3,
        "places netted out (held by children outside the scope)": 3,
        "settings holding more such children than places": 0, "places free for the children in scope": 2}
    gap = sg.gap_analysis(five_children(), net, INS, ["A"], occupancy=table)
    cell = gap.cells.set_index(["REACH", "AREA", "PROFILE"]).loc[("council", sg.REGION, sg.ALL)]
    # every domain: h1 is full, so c4 and c5 compete for h3's one free place; c3 -> h2: 2 placed, 3 short
    assert (cell["shortfall"], cell["places_able"]) == (3, 2)
    # a setting holding more children outside the scope than places counts as full, and is counted
    over = pd.concat([current, pd.DataFrame({"LA": ["A", "B"], "CHILD": ["x6", "x1"], "URN": ["h1", "h2"]})])
    net, table = sg.net_places(homes, over, in_scope)
    assert net["PLACES_FREE"].tolist() == [0, 0, 1]
    assert table.set_index("measure").loc["settings holding more such children than places", "value"] == 1
    assert table.set_index("measure").loc["places netted out (held by children outside the scope)", "value"] == 4
