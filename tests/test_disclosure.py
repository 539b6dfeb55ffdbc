"""Disclosure control on small hand-checked tables."""
import pandas as pd

from rcceval.reporting.disclosure import DisclosureSettings, is_safe, protect_crosstab, protect_rows


def crosstab():
    return pd.DataFrame({"A": [10, 12, 7], "B": [3, 9, 6], "C": [8, 20, 15]}, index=["r1", "r2", "r3"])


def test_primary_and_secondary_suppression_in_a_crosstab():
    out = protect_crosstab(crosstab())
    assert out.loc["r1"].tolist() == [10, "c", "c", 21]
    assert out.loc["r2"].tolist() == [12, 9, 20, 41]
    assert out.loc["r3"].tolist() == [7, "c", "c", 28]
    assert out.loc["Total"].tolist() == [29, 18, 43, 90]
    # every row and column has 0 or >= 2 hidden cells: no cell can be recovered by subtraction
    hidden = out.eq("c")
    assert set(hidden.sum(axis=0)) <= {0, 2} and set(hidden.sum(axis=1)) <= {0, 2}
    assert is_safe(out)


def test_rounding_to_nearest_five():
    out = protect_crosstab(crosstab(), DisclosureSettings(round_to=5))
    assert out.loc["r2"].tolist() == [10, 10, 20, 40]
    assert out.loc["Total"].tolist() == [30, 20, 45, 90]


def test_threshold_and_zero_rules():
    table = pd.DataFrame({"x": [0, 6, 30], "y": [5, 7, 40]}, index=["a", "b", "c"])
    out = protect_crosstab(table, DisclosureSettings(threshold=7), margins=False)
    assert out["x"].tolist() == [0, "c", 30] and out["y"].tolist() == ["c", 7, 40]
    out = protect_crosstab(table, DisclosureSettings(threshold=1, suppress_zero=True), margins=False)
    assert out["x"].tolist() == ["c", 6, 30]


def test_rows_with_percentages_and_groups():
    frame = pd.DataFrame({"la": ["X"] * 4 + ["Y"] * 2, "cat": list("abcdab"), "n": [50, 3, 20, 0, 8, 9],
                          "pct": [68.5, 4.1, 27.4, 0.0, 47.1, 52.9]})
    out = protect_rows(frame, ["n"], percent_of={"pct": "n"}, by=["la"])
    assert out["n"].tolist() == [50, "c", "c", 0, 8, 9]
    assert out["pct"].tolist() == [68.5, "c", "c", 0.0, 47.1, 52.9]
    alone = protect_rows(frame, ["n"], by=["la"], totals_shown=False)
    assert alone["n"].tolist() == [50, "c", 20, 0, 8, 9]
    assert not is_safe(frame[["n"]].astype(object))


def test_protection_width_defaults_to_the_threshold_and_a_wider_one_hides_more(tmp_path):
    from rcceval.reporting.publish import Publisher
    from rcceval.reporting.results import Relation, Table, Term

    assert DisclosureSettings().width == 5.0 and DisclosureSettings(threshold=10).width == 10.0
    assert DisclosureSettings(protection=3000).width == 3000.0
    frame = pd.DataFrame({"k": ["all", "none", "followed"], "n": [2805, 1, 2804]})
    rel = Relation((Term("t", 0, "n", -1.0), Term("t", 1, "n"), Term("t", 2, "n")))
    shown = Publisher(tmp_path, "x").publish_table("t", Table(frame, counts=("n",), relations=(rel,)))
    assert shown["n"].tolist() == [2805, "c", "c"]          # [0, 2805] is wide enough for 5
    wide = Publisher(tmp_path, "y", DisclosureSettings(protection=3000))
    assert wide.publish_table("t", Table(frame, counts=("n",), relations=(rel,)))["n"].tolist() == ["c", "c", "c"]


def test_crosstab_values_append_the_margins():
    from rcceval.reporting.disclosure import crosstab_values

    got = crosstab_values(pd.DataFrame({"a": [1, 2], "b": [3, 4]}))
    assert got.tolist() == [[1, 3, 4], [2, 4, 6], [3, 7, 10]]
