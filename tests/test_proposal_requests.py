"""'Did we secure the placement we wanted?': exact shares and intervals on hand-made placements and requests."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rcceval.analyses.proposal.requests import SecuredPlacements, design_effect, share_ci
from rcceval.derive.frame import secured_vs_preferred

Z = 1.959963984540054


def wilson(k: float, n: float) -> tuple[float, float]:
    """The Wilson score interval written out (the reference, independent of statsmodels)."""
    p = k / n
    centre = (p + Z ** 2 / (2 * n)) / (1 + Z ** 2 / n)
    half = Z / (1 + Z ** 2 / n) * math.sqrt(p * (1 - p) / n + Z ** 2 / (4 * n ** 2))
    return centre - half, centre + half


def _case():
    """Ten placements of ten children in two councils; nine with a request, one without."""
    start = pd.Timestamp("2024-01-01")
    frame = pd.DataFrame({
        "LA": ["A"] * 6 + ["B"] * 4,
        "CHILD": [str(i) for i in range(10)],
        "START": [start + pd.Timedelta(days=i) for i in range(10)],
        "TIER": ["straightforward"] * 5 + ["complex_chronic"] * 4 + [None],
    })
    # secured type (placementType) and the request's suitability of each type
    secured = ["Foster", "Foster", "Foster", "Residential", "Foster", "Foster", "Residential", "Foster", "Foster"]
    foster = ["Preferred", "Preferred", "Preferred", "Preferred", "Suitable but not preferred", "Preferred",
              "Unsuitable", "Not specified", "Suitable but not preferred"]
    resid = ["Unsuitable", "Unsuitable", "Suitable but not preferred", "Suitable but not preferred", "Preferred",
             "Unsuitable", "Preferred", "Preferred", "Preferred"]
    location = [True, True, False, True, False, True, True, False, True]
    requests = pd.DataFrame({
        "LA": frame["LA"][:9], "childId": frame["CHILD"][:9], "placementDate": frame["START"][:9],
        "placementType": secured, "fosterCareSuitability": foster, "residentialCareSuitability": resid,
        "supportedAccommodationSuitability": ["Unsuitable"] * 9, "preferabilityLocation": location})
    frame = pd.concat([frame, secured_vs_preferred(frame, requests)], axis=1)
    return frame, requests


def test_secured_suitability_shares_exact():
    frame, requests = _case()
    # child 3: Residential secured, residential "Suitable but not preferred"; child 6: Residential, Preferred
    assert frame["SECURED_SUITABILITY"].tolist()[:9] == [
        "Preferred", "Preferred", "Preferred", "Suitable but not preferred", "Suitable but not preferred",
        "Preferred", "Preferred", "Not specified", "Suitable but not preferred"]
    sp = SecuredPlacements().fit(frame)
    t = sp.suitability.set_index(["group", "value", "category"])
    t = t.sort_index()
    allr = t.loc[("all", "All councils")].reindex(["Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"])
    assert allr["placements"].tolist() == [4 + 1, 3, 0, 1] and set(allr["of"]) == {9}
    assert allr.loc["Preferred", "share"] == pytest.approx(5 / 9)
    lo, hi = wilson(5, 9)
    assert (allr.loc["Preferred", "ci_low"], allr.loc["Preferred", "ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert allr.loc["Preferred", "design_effect"] == 1.0        # one placement per child
    # by council: A has 6 requests (4 preferred), B 3 (1 preferred)
    assert t.loc[("council", "A", "Preferred"), ["placements", "of"]].tolist() == [4, 6]
    assert t.loc[("council", "B", "Preferred"), ["placements", "of"]].tolist() == [1, 3]
    assert t.loc[("council", "B", "Unsuitable"), "share"] == 0
    # by tier: straightforward 5 requests (children 0-4), 3 preferred; complex 4 (children 5-8), 2 preferred
    assert t.loc[("need tier", "straightforward", "Preferred"), ["placements", "of"]].tolist() == [3, 5]
    assert t.loc[("need tier", "complex_chronic", "Preferred"), ["placements", "of"]].tolist() == [2, 4]
    h = sp.to_dict()
    assert h["preferred_type_secured"]["rate"] == pytest.approx(5 / 9)
    assert h["counts"] == {"placements": 10, "with_request": 9, "with_location": 9}


def test_preferred_location_met_exact():
    frame, requests = _case()
    sp = SecuredPlacements().fit(frame)
    loc = sp.location.set_index(["group", "value", "category"])
    assert loc.loc[("all", "All councils", "Preferred location met"), ["placements", "of"]].tolist() == [6, 9]
    lo, hi = wilson(6, 9)
    r = loc.loc[("all", "All councils", "Preferred location met")]
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert loc.loc[("council", "B", "Preferred location met"), ["placements", "of"]].tolist() == [2, 3]


def test_design_effect_and_clustered_interval_by_hand():
    # two children with two placements each, one child's both preferred, the other's neither
    y, cl = np.array([1.0, 1, 0, 0]), np.array(["a", "a", "b", "b"])
    # sum over children of (summed y - p)^2 = 1 + 1; over placements 4 * 0.25 = 1: deff 2
    assert design_effect(y, cl) == pytest.approx(2.0)
    lo, hi = share_ci(2, 4, deff=2.0)          # Wilson with 1 of 2 effective placements
    assert (lo, hi) == (pytest.approx(wilson(1, 2)[0]), pytest.approx(wilson(1, 2)[1]))
    assert design_effect(np.array([1.0, 0, 1, 0]), np.array(["a", "b", "c", "d"])) == 1.0
    assert design_effect(np.ones(3), np.array(["a", "a", "b"])) == 1.0   # p = 1: nothing to inflate
    assert np.isnan(share_ci(0, 0)).all()                                # no requests: no interval


def test_no_requests_at_all():
    frame, _ = _case()
    frame = frame.assign(HAS_REQUEST=False, SECURED_SUITABILITY=pd.NA, SECOND_BEST=np.nan, PREFERRED_LOCATION_MET=pd.NA)
    sp = SecuredPlacements().fit(frame)
    assert sp.to_dict()["preferred_type_secured"]["rate"] is None
    assert sp.counts["with_request"] == 0


def test_tiers_in_the_order_given():
    frame, requests = _case()
    sp = SecuredPlacements(tier_order=("straightforward", "complex_chronic")).fit(frame)
    tiers = sp.suitability.loc[sp.suitability["group"] == "need tier", "value"].drop_duplicates().tolist()
    assert tiers == ["straightforward", "complex_chronic"]
