"""Where new placements are (00_data_quality): the DfE's five location categories and inside / outside
the region, on hand-made placements at real postcodes (grid references in tests/test_distance.py;
TN13 1AA, Sevenoaks in Kent, is at (552989, 154629): 39.1 miles from CT1 1AA, Canterbury)."""
from __future__ import annotations

import pandas as pd

from rcceval.analyses.quality import location, text
from rcceval.reporting.results import Share

WESTMINSTER, CAMDEN, KENT = "E09000033", "E09000007", "E10000016"


def placements() -> pd.DataFrame:
    rows = [  # LA, home, placement, start
        (WESTMINSTER, "SW1A 1AA", "SW1A 2AA", "2024-05-01"),   # inside, under 20 miles
        (WESTMINSTER, "SW1A 1AA", "B1 1AA", "2024-06-01"),     # Birmingham: outside, 101 miles, outside the region
        (CAMDEN, "NW1 2DB", "SW1A 2AA", "2024-07-01"),         # Westminster: outside the council, in the region
        (WESTMINSTER, "SW1A 1AA", "ZZ9 9ZZ", "2024-08-01"),    # no such postcode: not known
        (CAMDEN, "NW1 2DB", "SW1A 2AA", "2024-03-31"),         # the year before: not a new placement of 2025
        (KENT, "TN13 1AA", "CT1 1AA", "2025-03-31"),           # inside Kent, 39 miles
        (KENT, "CT1 1AA", "CT1 1AA", "2025-01-01"),            # inside Kent, 0 miles
    ]
    return pd.DataFrame(rows, columns=["LA", "HOME_POST", "PL_POST", "START"]).assign(
        START=lambda d: pd.to_datetime(d["START"]))


def test_new_placements_by_the_dfes_location_categories_and_the_region():
    where, region = location.location_tables(placements(), 2025)
    c = location.DFE_CATEGORIES
    cols = [c["distance_not_known"], c["inside_under_20"], c["inside_20_plus"], c["outside_under_20"],
            c["outside_20_plus"]]
    assert where.loc[WESTMINSTER, cols].tolist() == [1, 1, 0, 0, 1]
    assert where.loc[CAMDEN, cols].tolist() == [0, 0, 0, 1, 0]
    assert where.loc[KENT, cols].tolist() == [0, 1, 1, 0, 0]
    assert where.sum().tolist() == [1, 2, 1, 1, 1]
    r = location.REGION_CATEGORIES
    rcols = [r["region_not_known"], r["inside_region"], r["outside_region"]]
    assert region.loc[WESTMINSTER, rcols].tolist() == [1, 1, 1]
    assert region.sum().tolist() == [1, 4, 1]
    assert (region.sum(axis=1) == where.sum(axis=1)).all()
    # a one-council run names the co-operative's councils: Kent is not one of them here
    _, two = location.location_tables(placements(), 2025, region=[WESTMINSTER, CAMDEN])
    assert two.loc[KENT, rcols].tolist() == [0, 0, 2]
    # shares of those with a known location: outside the council 2 of 5, outside the region 1 of 5 (3 of 5)
    assert location.location_shares(where, region) == {"pct_new_placements_outside_council": Share(2, 5),
                                                       "pct_new_placements_outside_region": Share(1, 5)}
    assert location.location_shares(where, two)["pct_new_placements_outside_region"] == Share(3, 5)


def test_published_shares_and_the_sentence():
    pub = location.published_for(2026)          # no 2026 table: the latest published, 2025
    assert pub["year"].iloc[0] == 2025
    assert pub.loc["England", location.DFE_CATEGORIES["outside_20_plus"]] == 16
    assert pub.loc["South East", location.DFE_CATEGORIES["distance_not_known"]] == 28
    shown = {"pct_new_placements_outside_council": Share(2, 5), "pct_new_placements_outside_region": Share(1, 5)}
    sentence = text.location_summary(shown, pub, 2025)
    # England: (20 + 16) / (100 - 13) = 41%; South East: (10 + 17) / (100 - 28) = 38%
    assert "**40.0%** were outside the placing council (England: 41%, South East: 38%, 2025)" in sentence
    assert "**20.0%** outside the region" in sentence
