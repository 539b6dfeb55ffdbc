"""Question 3's narrative and by-profile headlines follow the published (protected) tables: a profile
the publisher hid is in no sentence and no headline."""
from __future__ import annotations

import pandas as pd

from rcceval.analyses.costing import text
from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.reporting.publish import Publisher


def published(tmp_path, counts):
    frame = pd.DataFrame({"profile": ["All", "Straightforward", "Complex"], "children": counts,
                          "cost": [10.0, 20.0, 30.0]})
    pub = Publisher(tmp_path, "03_test", DisclosureSettings(threshold=5))
    return pub.table("difference_by_profile", frame, counts=["children"], percent_of={"cost": "children"})


def test_a_hidden_profile_is_left_out_of_the_headline(tmp_path):
    shown = published(tmp_path, [12, 9, 3])
    assert text.shown_profiles(shown, "children") == ["All", "Straightforward"]
    values = {"All": 1.0, "Straightforward": 2.0, "Complex": 3.0}
    assert text.only_shown(values, shown, "children") == {"All": 1.0, "Straightforward": 2.0}


def test_every_profile_shown_when_none_is_small(tmp_path):
    shown = published(tmp_path, [30, 15, 15])
    assert text.shown_profiles(shown, "children") == ["All", "Straightforward", "Complex"]


def test_money_and_intervals():
    assert text.money(-1234.4) == "−£1,234" and text.money(None) == "–" and text.pct(0.256) == "26%"
    assert text.interval({"mean": 10, "lower": -5, "upper": 20.5}) == "£10 (−£5 to £20)"
