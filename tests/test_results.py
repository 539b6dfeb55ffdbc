"""The typed results contract and the one publishing path: exact serialisation and protection."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pytest

from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.reporting.publish import Publisher
from rcceval.reporting.results import Count, Estimate, Result, Share, Table, Test, estimate, serialise


def test_serialise_spells_every_type_one_way():
    assert serialise(Estimate(0.5, 0.25, 0.75)) == {"value": 0.5, "lower": 0.25, "upper": 0.75, "level": 0.95}
    assert serialise(Test(3.84, 1, 0.05, "Wald")) == {"statistic": 3.84, "df": 1, "p": 0.05, "method": "Wald"}
    assert serialise(Share(3, 12)) == {"count": 3, "total": 12, "value": 0.25}
    assert serialise({"n": Count(7), "x": [float("nan"), 1 / 3]}) == {"n": 7, "x": [None, 0.3333333333]}
    assert estimate(1, (0, 2)) == Estimate(1.0, 0.0, 2.0, 0.95)
    with pytest.raises(TypeError):
        serialise(Table(pd.DataFrame()))


@dataclass(frozen=True)
class _Toy(Result):
    n: int
    events: int

    def tables(self):
        frame = pd.DataFrame({"group": ["a", "b", "c"], "n": [120, 1, 60]})
        return {"by_group": Table(frame, counts=("n",)),
                "cross": Table(pd.DataFrame({"x": [3, 10], "y": [10, 10]}, index=["r1", "r2"]), kind="crosstab")}

    def headlines(self):
        return {"children": Count(self.n), "events": Count(self.events), "share": Share(self.events, self.n),
                "hr": Estimate(1.5, 1.1, 2.0), "nested": {"few": Count(2), "many": Count(50)}}


def test_publish_protects_every_table_and_headline(tmp_path):
    pub = Publisher(tmp_path, "toy", DisclosureSettings(threshold=5))
    shown = pub.publish(_Toy(n=40, events=3))
    assert list(shown["by_group"]["n"]) == [120, "c", 60]
    cross = shown["cross"]
    assert cross.loc["r1", "x"] == "c" and cross.loc["r1", "y"] == "c"   # secondary suppression in the row
    pub.save()
    body = json.loads((tmp_path / "toy" / "results.json").read_text())["results"]
    assert body["children"] == 40 and body["events"] == "c"
    assert body["share"] == {"count": "c", "total": 40, "value": "c"}
    assert body["nested"] == {"few": "c", "many": 50}
    assert body["hr"] == {"value": 1.5, "lower": 1.1, "upper": 2.0, "level": 0.95}
    assert (tmp_path / "toy" / "tables" / "by_group.csv").read_text().splitlines()[2] == "b,c"


@dataclass(frozen=True)
class _Clash(Result):
    """A result whose table and headline share the name 'events'."""

    def tables(self):
        return {"events": Table(pd.DataFrame({"group": ["a", "b"], "n": [20, 30]}), counts=("n",))}

    def headlines(self):
        return {"events": Count(50)}


def test_a_table_and_a_headline_of_one_name_cannot_be_read_ambiguously(tmp_path):
    """Both are written (tables/events.csv, results.json's 'events'); the mapping the notebook reads
    refuses the bare name, naming both, instead of letting the headline replace the table."""
    pub = Publisher(tmp_path, "toy", DisclosureSettings(threshold=5))
    shown = pub.publish(_Clash())
    for read in (lambda: shown["events"], lambda: shown.get("events")):
        with pytest.raises(ValueError, match=r"_Clash: 'events' is both a published table and a published headline: "
                                             r"read shown.tables\['events'\] \(tables/events.csv\) or "
                                             r"shown.headlines\['events'\] \(results.json\)"):
            read()
    assert "events" not in shown and dict(shown) == {} and shown.clashes == {"events"}
    assert list(shown.tables["events"]["n"]) == [20, 30] and shown.headlines["events"] == Count(50)
    pub.save()
    body = json.loads((tmp_path / "toy" / "results.json").read_text())
    assert body["results"] == {"events": 50} and body["tables"] == ["events"]
    assert (tmp_path / "toy" / "tables" / "events.csv").read_text().splitlines() == ["group,n", "a,20", "b,30"]
    with pytest.raises(KeyError):
        shown["nothing"]
    assert shown.get("nothing", 1) == 1


def test_without_a_clash_the_mapping_holds_every_table_and_headline(tmp_path):
    shown = Publisher(tmp_path, "toy", DisclosureSettings(threshold=5)).publish(_Toy(n=40, events=30))
    assert set(shown) == {"by_group", "cross", "children", "events", "share", "hr", "nested"} and not shown.clashes
    assert shown["children"] == Count(40) and shown["by_group"] is shown.tables["by_group"]


def test_share_hidden_when_its_complement_is_small(tmp_path):
    pub = Publisher(tmp_path, "toy", DisclosureSettings(threshold=5))
    assert serialise(pub.protect(Share(38, 40))) == {"count": "c", "total": 40, "value": "c"}
    assert serialise(pub.protect(Share(20, 40))) == {"count": 20, "total": 40, "value": 0.5}


def test_runner_orders_dependencies_first():
    from rcceval.reporting.runner import _order

    names = ["04_dataset_proposal", "03_unit_cost_vs_needs_led", "02_placement_survival", "01_needs_predict_stability"]
    order = _order(names)
    assert order.index("02_placement_survival") < order.index("03_unit_cost_vs_needs_led")
    assert order.index("01_needs_predict_stability") < order.index("04_dataset_proposal")
    assert _order(["04_dataset_proposal"]) == ["04_dataset_proposal"]   # run alone, it computes for itself


def test_shared_objects_live_in_the_run_cache_only(tmp_path, monkeypatch):
    from rcceval import params as params_mod
    from rcceval.reporting import report

    monkeypatch.delenv(report.RUN_CACHE_ENV, raising=False)
    rep = report.Report(params_mod.Parameters(output_dir=str(tmp_path / "out")), "02_placement_survival")
    calls = []
    assert rep.shared("frame", lambda: calls.append(1) or 42) == 42
    assert rep.shared("frame", lambda: calls.append(1) or 42) == 42
    assert calls == [1, 1]                        # no cache: built each time, nothing written
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv(report.RUN_CACHE_ENV, str(cache))
    calls.clear()
    assert rep.shared("frame", lambda: calls.append(1) or 42) == 42
    assert rep.shared("frame", lambda: calls.append(1) or 43) == 42
    assert calls == [1]
    rep.save_artifact("hazards", {"beta": 0.5})
    later = report.Report(params_mod.Parameters(output_dir=str(tmp_path / "out")), "03_unit_cost_vs_needs_led")
    assert later.artifact("02_placement_survival", "hazards") == {"beta": 0.5}
    assert later.artifact("02_placement_survival", "missing") is None
    assert not (tmp_path / "out").exists()


def test_shared_keys_of_any_length_fit_a_file_name(tmp_path, monkeypatch):
    from rcceval import params as params_mod
    from rcceval.reporting import report

    monkeypatch.setenv(report.RUN_CACHE_ENV, str(tmp_path))
    rep = report.Report(params_mod.Parameters(output_dir=str(tmp_path / "out")), "01_needs_predict_stability")
    key = "analysis_frame|" + "x" * 400
    assert rep.shared(key, lambda: 1) == 1 and rep.shared(key, lambda: 2) == 1
    assert rep.shared(key + "y", lambda: 3) == 3
