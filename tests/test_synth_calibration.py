"""The synthetic region, measured through the project's own loader and derivation, matches DfE 2024-25."""
from __future__ import annotations

import pytest

from rcceval.analyses.quality.checks import looked_after_on
from rcceval.derive.needs import distance_miles
from rcceval.derive.placements import stability_measures, year_bounds
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import validate_region
from rcceval.spec import codes
from rcceval.synth import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("region")
    truth = generate(out, scale="region", seed=11)
    clean = validate_region(read_region(out))
    return truth, clean


def test_generated_files_validate_without_problems(region):
    _, clean = region
    assert clean.report.count("fatal") == 0 and clean.report.count("fixable") == 0


def test_size_and_placement_mix_at_31_march(region):
    truth, clean = region
    year = truth["last_year"]
    on = looked_after_on(clean.c903.episodes, [year_bounds(year)[1]])
    assert len(on) == pytest.approx(11_180, rel=0.05)
    assert on["LA"].nunique() == 19
    group = on["PLACE"].map(codes.PLACE_GROUPS)
    share = lambda groups: 100 * group.isin(groups).mean()  # noqa: E731
    assert share({"foster_relative_friend", "foster_other"}) == pytest.approx(67, abs=3)
    assert share({"childrens_home", "secure"}) == pytest.approx(10, abs=3)
    assert share({"supported_independent"}) == pytest.approx(7, abs=3)
    assert share({"with_parents"}) == pytest.approx(6, abs=3)


def test_dfe_stability_measures(region):
    truth, clean = region
    m = stability_measures(clean.c903, truth["last_year"]).set_index("LA").loc["ALL"]
    assert m["pct_3plus_year"] == pytest.approx(11, abs=2)
    assert m["pct_long_term_stable"] == pytest.approx(68, abs=5)


def test_councils_spread_like_the_south_east(region):
    truth, clean = region
    m = stability_measures(clean.c903, truth["last_year"]).set_index("LA").drop("ALL")
    # the real South East councils' % with 3+ placements: standard deviation about 2.5 points
    assert 1.0 < m["pct_3plus_year"].std() < 5.0


def test_distance_from_home(region):
    truth, clean = region
    on = looked_after_on(clean.c903.episodes, [year_bounds(truth["last_year"])[1]])
    eps = clean.c903.episodes.merge(on[["LA", "CHILD"]], on=["LA", "CHILD"])
    current = eps.sort_values("DECOM").drop_duplicates(["LA", "CHILD"], keep="last")
    miles = distance_miles(current, clean.tables["postcode_lookup"]).dropna()
    assert len(miles) > 0.9 * len(current)
    assert 100 * (miles > 20).mean() == pytest.approx(22, abs=3)


def test_sdq(region):
    truth, clean = region
    oc2 = clean.c903.oc2
    sdq = oc2.loc[oc2["YEAR"] == truth["last_year"], "SDQ_SCORE"].dropna().astype(float)
    assert len(sdq) > 2000
    assert sdq.mean() == pytest.approx(14.7, abs=1.0)
    assert 100 * (sdq >= 17).mean() == pytest.approx(41, abs=4)
