"""Question 5's sentences from given numbers: the shortfall read as a lower bound ("at least N", both
matching rules side by side) and the stable-placement comparison worded as an association."""
from __future__ import annotations

import re

import pandas as pd

from rcceval.analyses.sufficiency import text
from rcceval.reporting.results import Estimate

CAUSAL = re.compile(r"\b(caus\w*|leads?|led|results? in|resulted in|reduc\w*|lowers|lowered|lowering|rais\w*|"
                    r"improv\w*|because|effects?|impacts?|drives?|driven|makes?|made|prevent\w*|protect\w*|"
                    r"helps?|helped|benefits?|harms?|due to|thanks to|so that|after a stable placement|after a move)\b",
                    re.IGNORECASE)
OLD = ("Adjusted for the baseline level, age and time, the level of need after a stable placement fell more than after "
       "a move: difference -0.214")


def test_the_causal_pattern_catches_the_old_wording():
    assert CAUSAL.search(OLD) and CAUSAL.search("a stable placement reduces need") and CAUSAL.search("the effect")

MEDIAN = {"Stable (same placement at follow-up)": 365, "Moved after an unplanned ending": 301}


def test_stable_placement_sentences_have_no_causal_verbs_in_any_direction():
    for est, word in ((Estimate(-0.214, -0.3, -0.128), "down by more"), (Estimate(0.15, 0.05, 0.25), "up by more"),
                      (Estimate(0.011, -0.013, 0.035), "not distinguishable")):
        s = text.stable_placement(est, 1234, 1000, MEDIAN)
        assert not CAUSAL.search(s), (CAUSAL.search(s), s)
        assert word in s and "association" in s and "like follow-up windows" in s
    s = text.stable_placement(Estimate(-0.214, -0.3, -0.128), 1234, 1000, MEDIAN)
    assert "difference -0.214 (95% CI -0.300 to -0.128)" in s and "1,234 placements of 1,000 children" in s
    assert "a median of 365 days after the start (Stable (same placement at follow-up)); 301 days" in s


def test_shortfall_is_published_as_at_least_with_both_rules_side_by_side():
    at_least = {"council": {"domain_alone": 3, "every_domain": 12, "all_needs": 19},
                "anywhere": {"domain_alone": 0, "every_domain": 2, "all_needs": "c"}}
    children = pd.DataFrame({"Total": [300]}, index=["Total"])
    netted = pd.DataFrame({"measure": ["register places", "places netted out (held by children outside the scope)"],
                           "value": [1500, 87]})
    s = text.shortfall(at_least, children, netted)
    assert "within the council at least **12** (at least 19 when frequency counts too)" in s
    assert "anywhere (incl. out of region) at least **2** (at least c when frequency counts too)" in s
    assert "(of 300)" in s and "(87 of 1,500 register places)" in s and "lower bound" in s
    assert not CAUSAL.search(s), CAUSAL.search(s)
