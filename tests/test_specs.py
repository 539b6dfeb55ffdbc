"""Dataset specifications, the default needs instrument and the published data dictionary."""
from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

import frictionless
import pytest
import yaml
from required import require_shared

from rcceval.errors import ParameterError
from rcceval.spec import datadict, instruments
from rcceval.spec import datasets as specs

ROOT = Path(__file__).resolve().parents[1]
PDS_REFERENCE = "reference/placements-standard-v2.json"   # under ../shared/ (required under CI)
PRESENT = [name for name in specs.DATASETS if specs.schema_path(name).exists()]
MINE = ["needs_assessments", "provider_register", "placement_agreements", "placement_requests", "postcode_lookup"]
DOMAINS = ("emotional_wellbeing", "behaviour", "risk_to_self", "risk_to_others", "exploitation_missing",
           "relationships_attachment", "learning_communication", "health_disability")
PLACE_CODES = ["A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
               "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1"]


def fields(name: str) -> dict[str, dict]:
    return {f["name"]: f for f in specs.load_schema(name)["fields"]}


def validate_csv(tmp_path: Path, name: str, text: str) -> list[tuple[str, int | None, str | None]]:
    """Validate CSV text against a dataset's specification with frictionless: (error type, row, field)."""
    (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    report = frictionless.Resource(path=f"{name}.csv", basepath=str(tmp_path),
                                   schema=specs.frictionless_schema(name)).validate()
    return [(e.type, getattr(e, "row_number", None), getattr(e, "field_name", None))
            for task in report.tasks for e in task.errors]


# ------------------------------------------------------------------------------ schema files

def test_every_schema_file_is_a_known_dataset_and_mine_are_present():
    on_disk = {p.name for p in specs.SCHEMA_DIR.glob("*.json")}
    assert on_disk <= set(specs.DATASETS.values())
    for name in MINE:
        assert specs.schema_path(name).exists(), name


@pytest.mark.parametrize("name", PRESENT)
def test_schema_is_json_and_loads_with_frictionless(name):
    descriptor = json.loads(specs.schema_path(name).read_text(encoding="utf-8"))
    assert frictionless.Schema.validate_descriptor(descriptor).valid
    schema = specs.frictionless_schema(name)
    assert [f.name for f in schema.fields] == [f["name"] for f in descriptor["fields"]]
    assert descriptor["name"] == name
    assert descriptor["title"] and descriptor["description"]
    assert descriptor["missingValues"] == [""]


@pytest.mark.parametrize("name", PRESENT)
def test_every_field_is_documented_and_says_what_it_serves(name):
    names = [f["name"] for f in specs.load_schema(name)["fields"]]
    assert len(names) == len(set(names)), "field names must be unique"
    for f in specs.load_schema(name)["fields"]:
        assert f.get("title"), f["name"]
        assert len(f.get("description", "")) >= 10, f["name"]
        assert f.get("x-serves"), f["name"]
        assert set(f["x-serves"]) <= set(specs.SERVES), (f["name"], f["x-serves"])
        if f["type"] == "date":
            assert f.get("format"), f"{f['name']}: dates need a format"


@pytest.mark.parametrize("name", PRESENT)
def test_primary_key_fields_exist_and_are_required(name):
    schema = specs.load_schema(name)
    by_name = {f["name"]: f for f in schema["fields"]}
    for key in schema.get("primaryKey", []):
        assert by_name[key]["constraints"]["required"] is True, key


@pytest.mark.parametrize("name", PRESENT)
def test_coded_fields_enum_equals_codes(name):
    for f in specs.load_schema(name)["fields"]:
        cons = f.get("constraints", {})
        if "enum" in cons:
            assert [str(v) for v in cons["enum"]] == list(f["x-codes"]), f["name"]
            assert all(label for label in f["x-codes"].values()), f["name"]
        elif "x-codes" in f:  # several values in one cell: the pattern accepts the codes, alone or joined
            sep = f["x-separator"]
            codes = list(f["x-codes"])
            for code in codes:
                assert re.fullmatch(cons["pattern"], code), (f["name"], code)
            assert re.fullmatch(cons["pattern"], f"{codes[0]}{sep} {codes[1]}")
            assert not re.fullmatch(cons["pattern"], "not an option")


def test_load_schema_hands_out_copies():
    first = specs.load_schema("needs_assessments")
    first["fields"].clear()
    assert specs.load_schema("needs_assessments")["fields"]


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown dataset 'episode'.*episodes"):
        specs.load_schema("episode")


# --------------------------------------------------------------------------- my specifications

def test_needs_assessments_contract():
    f = fields("needs_assessments")
    assert list(f) == ["CHILD", "LA", "ASSESSMENT_DATE", "INSTRUMENT", "DOMAIN", "INTENSITY", "FREQUENCY", "SCORE"]
    for name in ("CHILD", "LA", "ASSESSMENT_DATE", "INSTRUMENT", "DOMAIN"):
        assert f[name]["constraints"]["required"] is True
    for name in ("INTENSITY", "FREQUENCY"):
        assert f[name]["type"] == "integer"
        assert (f[name]["constraints"]["minimum"], f[name]["constraints"]["maximum"]) == (0, 3)
        assert not f[name]["constraints"]["required"]
    assert f["SCORE"]["type"] == "number" and not f["SCORE"]["constraints"]["required"]
    rules = specs.load_schema("needs_assessments")["x-row-rules"]
    assert {"any_complete": [["INTENSITY", "FREQUENCY"], ["SCORE"]]}.items() <= rules[0].items()
    assert all(d in f["DOMAIN"]["description"] for d in DOMAINS)


def test_needs_assessments_data_validates(tmp_path):
    good = ("CHILD,LA,ASSESSMENT_DATE,INSTRUMENT,DOMAIN,INTENSITY,FREQUENCY,SCORE\n"
            "C1,LA1,15/03/2023,rcceval-open-v1,behaviour,2,3,\n"
            "C1,LA1,15/03/2023,other-tool,behaviour,,,2.5\n")
    assert validate_csv(tmp_path, "needs_assessments", good) == []
    bad = good + "C2,LA1,2023-03-15,rcceval-open-v1,risk_to_self,4,1,\nC1,LA1,15/03/2023,rcceval-open-v1,behaviour,1,1,\n"
    errors = validate_csv(tmp_path, "needs_assessments", bad)
    assert ("type-error", 4, "ASSESSMENT_DATE") in errors  # the format is dd/mm/YYYY
    assert ("constraint-error", 4, "INTENSITY") in errors  # 4 is off the 0-3 scale
    assert ("primary-key", 5, None) in errors  # same child, date, instrument and domain twice


def test_capability_columns_follow_the_default_instrument():
    expected = [f"CAP_{d.upper()}" for d in DOMAINS]
    assert list(instruments.load_instrument().capability_columns) == expected
    for name in ("provider_register", "placement_agreements"):
        caps = [n for n in fields(name) if n.startswith("CAP_")]
        assert caps == expected, name
        for col in caps:
            f = fields(name)[col]
            assert f["type"] == "integer"
            assert (f["constraints"]["minimum"], f["constraints"]["maximum"]) == (0, 3)


def test_provider_register_codes_and_keys(tmp_path):
    f = fields("provider_register")
    assert list(f)[:7] == ["URN", "LA", "PROVIDER_NAME", "PLACE", "PLACE_PROVIDER", "POSTCODE", "PLACES"]
    assert f["PLACE"]["constraints"]["enum"] == PLACE_CODES
    assert f["PLACE_PROVIDER"]["constraints"]["enum"] == ["PR0", "PR1", "PR2", "PR3", "PR4", "PR5"]
    if "episodes" in PRESENT:  # the register's codes are 903 codes
        assert set(PLACE_CODES) <= set(fields("episodes")["PLACE"]["constraints"]["enum"])
    assert specs.load_schema("provider_register")["primaryKey"] == ["URN"]
    header = ",".join(f) + "\n"
    caps = ",".join(["3"] * 8)
    good = header + f"SC123456,LA1,Oak House,K2,PR4,RG1 4,4,{caps}\n1234567,LA2,,H5,,RG30,,{caps}\n"
    assert validate_csv(tmp_path, "provider_register", good) == []
    bad = header + f"SC12,LA1,,K2,PR4,RG1 4,4,{caps}\nSC123456,LA1,,Q9,PR9,nowhere,-1,{caps}\n"
    errors = {(t, row, fld) for t, row, fld in validate_csv(tmp_path, "provider_register", bad)}
    assert ("constraint-error", 2, "URN") in errors
    assert {("constraint-error", 3, c) for c in ("PLACE", "PLACE_PROVIDER", "POSTCODE", "PLACES")} <= errors


def test_placement_agreements_join_key_and_fees(tmp_path):
    f = fields("placement_agreements")
    assert list(f)[:5] == ["CHILD", "LA", "START_DATE", "URN", "WEEKLY_FEE"]
    assert specs.load_schema("placement_agreements")["primaryKey"] == ["LA", "CHILD", "START_DATE"]
    assert "DECOM" in f["START_DATE"]["description"]
    header = ",".join(f) + "\n"
    blanks = "," * 8
    good = header + f"C1,LA1,01/04/2022,XXXXXXX,850.50{blanks}\nC2,LA1,01/04/2022,SC123456,5200,3,3,2,2,1,1,1,0\n"
    assert validate_csv(tmp_path, "placement_agreements", good) == []
    errors = validate_csv(tmp_path, "placement_agreements", header + f"C1,LA1,01/04/2022,,-5{blanks}\n")
    assert errors == [("constraint-error", 2, "WEEKLY_FEE")]


def test_postcode_lookup(tmp_path):
    assert list(fields("postcode_lookup")) == ["POSTCODE", "EASTING", "NORTHING"]
    good = "POSTCODE,EASTING,NORTHING\nRG1 4,471500,173200\nRG30 2,468000.5,172900\n"
    assert validate_csv(tmp_path, "postcode_lookup", good) == []
    errors = validate_csv(tmp_path, "postcode_lookup", good + "RG1 4,800000,1\n")
    assert ("constraint-error", 4, "EASTING") in errors and ("primary-key", 4, None) in errors


def test_placement_requests_mirror_the_standard():
    standard = json.loads(require_shared(PDS_REFERENCE).read_text(encoding="utf-8"))
    schema = specs.load_schema("placement_requests")
    f = fields("placement_requests")
    expected = ["LA"] + [fld["name"] for ent in standard["entities"] for fld in ent["fields"]]
    assert list(f) == expected
    assert f["LA"]["constraints"]["required"] is True
    assert "MIT" in schema["description"] and "Copyright (c) 2025 Data Standards for Social Care" in schema["description"]
    types = {"Integer": "integer", "Categorical": "string", "Boolean": "boolean", "Date": "date", "String": "string"}
    for ent in standard["entities"]:
        for std in ent["fields"]:
            mine = f[std["name"]]
            if "x-deviation" in mine:  # a documented departure from the standard (childId read as text)
                assert mine["x-deviation"].startswith("type:") and mine["type"] == "string", std["name"]
            else:
                assert mine["type"] == types[std["type"]], std["name"]
            assert mine["constraints"]["required"] is std["cardinality"].startswith("1"), std["name"]
            assert mine["description"].startswith(std["description"]), std["name"]
            assert mine["x-source"] == f"Placements Data Standard v2 (draft, 2025-07-18), entity {ent['name']}"
            if std["type"] == "Categorical":
                assert list(mine["x-codes"]) == std["options"], std["name"]
                if std["cardinality"].endswith("*"):
                    assert "enum" not in mine["constraints"] and mine["x-separator"] == ";"
                else:
                    assert mine["constraints"]["enum"] == std["options"], std["name"]


def test_placement_requests_data_validates(tmp_path):
    f = fields("placement_requests")
    row = {name: "" for name in f}
    row.update({
        "LA": "LA1", "childId": "101", "communicationNeeds": "Y", "specificCommunicationRequirements": "ESOL; BSL",
        "homeAdaptation": "N", "culturalNeeds": "Not required", "livingCompanions": "No preference",
        "pets": "Yes - can", "fosterCareSuitability": "Preferred",
        "residentialCareSuitability": "Unsuitable", "supportedAccommodationSuitability": "Not specified",
        "totalWeeklyCost": "1200", "placementLocation": "RG1 4", "preferabilityLocation": "true",
        "educationContinuity": "Yes", "providerURN": "XXXXXXX", "siblingsPlacedTogether": "0",
        "placementType": "Foster", "referralDate": "01/04/2024", "placementOfficerName": "A Officer",
        "placementDate": "05/04/2024", "costDate": "05/04/2024",
    })
    for name in f:
        if name.startswith("risk") and "enum" in f[name]["constraints"]:
            row[name] = "No known risk"
    header = ",".join(f) + "\n"
    assert validate_csv(tmp_path, "placement_requests", header + ",".join(row.values()) + "\n") == []
    row.update({"specificCommunicationRequirements": "ESOL;Braille", "riskMissing": "maybe"})
    errors = validate_csv(tmp_path, "placement_requests", header + ",".join(row.values()) + "\n")
    assert {e[2] for e in errors} == {"specificCommunicationRequirements", "riskMissing"}


# ------------------------------------------------------------------------------ instruments

def test_default_instrument():
    inst = instruments.load_instrument()
    assert inst.id == specs.DEFAULT_INSTRUMENT_ID == "rcceval-open-v1"
    assert inst.domain_ids == DOMAINS
    assert inst.intensity_labels[0] == "none" and len(inst.intensity_labels) == 4
    assert inst.frequency_labels == ("never", "occasionally (monthly or less)", "often (weekly)", "constantly (daily)")
    assert inst.score_rule == "intensity_x_frequency" and inst.score_max == 9
    assert [b.id for b in inst.bands] == ["extensive_enduring", "complex_chronic", "straightforward"]
    top, middle, fallback = inst.bands
    assert top.conditions == (instruments.Condition(1, intensity_at_least=3, frequency_at_least=2),
                              instruments.Condition(2, score_at_least=6))
    assert middle.conditions == (instruments.Condition(1, score_at_least=4), instruments.Condition(3, intensity_at_least=2))
    assert fallback.otherwise and fallback.conditions == ()
    assert inst.domain("risk_to_self").pds_fields[:3] == ("riskSelfHarm", "riskEatingDisorder", "riskDrugAlcohol")
    assert set(inst.domain("exploitation_missing").pds_fields) == {
        "riskSexualExploitation", "riskCriminalExploitation", "riskMissing"}
    assert all(p.startswith("riskToOthers") for p in inst.domain("risk_to_others").pds_fields)
    assert "communicationNeeds" in inst.domain("learning_communication").pds_fields


def test_instrument_found_by_id_and_by_path():
    by_id = instruments.load_instrument("rcceval-open-v1")
    assert by_id == instruments.load_instrument(specs.DEFAULT_INSTRUMENT_PATH) == instruments.load_instrument(
        str(specs.DEFAULT_INSTRUMENT_PATH))
    with pytest.raises(ParameterError) as err:
        instruments.load_instrument("no-such-instrument")
    assert err.value.key == "instrument" and err.value.value == "no-such-instrument"
    with pytest.raises(ParameterError, match="not found"):
        instruments.load_instrument(Path("/nonexistent/instrument.yaml"))


def test_instrument_ships_with_the_package():
    """The default instrument must be installed with the package, not only present in the source tree."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["rcceval"]
    package_dir = specs.SCHEMA_DIR.parents[1]   # src/rcceval: package-data patterns are relative to it
    shipped = [p.relative_to(package_dir).as_posix() for p in specs.SCHEMA_DIR.rglob("*") if p.suffix in (".json", ".yaml")]
    assert "spec/schemas/instruments/rcceval_open_v1.yaml" in shipped
    for rel in shipped:
        assert any(fnmatch.fnmatch(rel, pat) and rel.count("/") == pat.count("/") for pat in patterns), (
            f"{rel} is not in [tool.setuptools.package-data] of pyproject.toml")


def _default_yaml() -> dict:
    return yaml.safe_load(specs.DEFAULT_INSTRUMENT_PATH.read_text(encoding="utf-8"))


def _dup_domain(d):
    d["domains"][1]["id"] = d["domains"][0]["id"]


def _unknown_top(d):
    d["colour"] = "blue"


def _unknown_domain_key(d):
    d["domains"][2]["weight"] = 2


def _intensity_out_of_range(d):
    d["scale"]["intensity"]["labels"][4] = "extreme"


def _frequency_gap(d):
    del d["scale"]["frequency"]["labels"][1]


def _threshold_out_of_range(d):
    d["bands"]["tiers"][0]["conditions"]["any"][0]["intensity_at_least"] = 5


def _too_many_domains(d):
    d["bands"]["tiers"][1]["conditions"]["any"][1]["min_domains"] = 9


def _unknown_tier(d):
    d["bands"]["tiers"][1]["id"] = "medium"


def _fallback_not_last(d):
    d["bands"]["tiers"].reverse()


def _unknown_pds_field(d):
    d["domains"][0]["pds_fields"] = ["riskSelfharm"]


def _bad_domain_id(d):
    d["domains"][0]["id"] = "Emotional wellbeing"


@pytest.mark.parametrize("break_it, key, rule", [
    (_dup_domain, "domains[1].id", "unique"),
    (_unknown_top, "colour", "unknown key"),
    (_unknown_domain_key, "domains[2].weight", "unknown key"),
    (_intensity_out_of_range, "scale.intensity.labels", "0 to 3"),
    (_frequency_gap, "scale.frequency.labels", "without gaps"),
    (_threshold_out_of_range, "bands.tiers[0].conditions.any[0].intensity_at_least", "from 0 to 3"),
    (_too_many_domains, "bands.tiers[1].conditions.any[1].min_domains", "from 1 to 8"),
    (_unknown_tier, "bands.tiers[1].id", "need tiers"),
    (_fallback_not_last, "bands.tiers[0].otherwise", "last tier"),
    (_unknown_pds_field, "domains[0].pds_fields", "Placements Data Standard"),
    (_bad_domain_id, "domains[0].id", "lower-case"),
])
def test_bad_instrument_names_file_key_and_rule(tmp_path, break_it, key, rule):
    data = _default_yaml()
    break_it(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        instruments.load_instrument(path)
    assert Path(err.value.path) == path.resolve()
    assert err.value.key == key
    assert rule in err.value.rule
    assert "broken.yaml" in str(err.value) and key in str(err.value)


def test_instrument_that_is_not_yaml(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="not valid YAML"):
        instruments.load_instrument(path)


def test_given_score_instrument(tmp_path):
    data = _default_yaml()
    data["id"] = "scored-tool"
    data["score"] = {"rule": "given", "maximum": 4}
    data["bands"]["tiers"][0]["conditions"]["any"] = [{"min_domains": 1, "score_at_least": 4}]
    data["bands"]["tiers"][1]["conditions"]["any"] = [{"min_domains": 2, "score_at_least": 2}]
    path = tmp_path / "scored.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    inst = instruments.load_instrument(path)
    assert (inst.id, inst.score_rule, inst.score_max) == ("scored-tool", "given", 4)
    data["bands"]["tiers"][1]["conditions"]["any"] = [{"intensity_at_least": 2}]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        instruments.load_instrument(path)
    assert err.value.key == "bands.tiers[1].conditions.any[0].intensity_at_least"


# --------------------------------------------------------------------------------- publishing

def test_write_docs_is_deterministic_and_complete(tmp_path):
    first = datadict.write_docs(tmp_path / "a", PRESENT)
    second = datadict.write_docs(tmp_path / "b", PRESENT)
    assert [p.name for p in first] == ["datapackage.json", "data_dictionary.md", "data_dictionary.html"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name

    package = frictionless.Package(str(first[0]))
    assert [r.name for r in package.resources] == PRESENT
    assert frictionless.Package.validate_descriptor(str(first[0])).valid
    for resource in package.resources:
        assert resource.path == f"{resource.name}.csv"
        assert [f.name for f in resource.schema.fields] == [f["name"] for f in specs.load_schema(resource.name)["fields"]]

    markdown = first[1].read_text(encoding="utf-8")
    page = first[2].read_text(encoding="utf-8")
    for name in PRESENT:
        assert f'<a id="{name}"></a>' in markdown and f"(#{name})" in markdown
        assert f'<section id="{name}">' in page and f'href="#{name}"' in page
        for f in specs.load_schema(name)["fields"]:
            assert f"`{f['name']}`" in markdown, (name, f["name"])
            assert f"<code>{f['name']}</code>" in page, (name, f["name"])
            for code, label in f.get("x-codes", {}).items():  # allowed values with their labels
                shown = f"`{code}` {label}" if label != code else f"`{code}`"
                assert shown.replace("|", "\\|") in markdown, (name, f["name"], code)
    for domain in DOMAINS:
        assert f"`{domain}`" in markdown and f"`CAP_{domain.upper()}`" in markdown
    assert "at least 2 domains with score 6 or more" in markdown


def test_html_is_self_contained_and_escaped(tmp_path):
    page = datadict.write_docs(tmp_path, ["provider_register", "placement_requests"])[2].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page and "<link" not in page
    assert "Children&#x27;s home subject to Children&#x27;s Homes Regulations" in page
    assert "Children's home subject" not in page  # every text goes through html.escape
    assert "needs_assessments" not in page.split("</nav>")[0]  # only the datasets asked for


def test_write_docs_rejects_unknown_datasets(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        datadict.write_docs(tmp_path, ["needs"])
    assert not (tmp_path / "datapackage.json").exists()


# ------------------------------------------------------------------- the case for the proposal

def test_questions_the_903_cannot_answer_name_real_fields(tmp_path):
    assert len(specs.BEYOND_903) >= 4
    for q in specs.BEYOND_903:
        assert q["serves"] in specs.SERVES and q["question"].endswith("?") and q["why_not_903"]
        for ref in q["fields"]:
            dataset, name = ref.split(".")
            assert dataset in specs.DATASETS and dataset not in ("header", "episodes"), ref
            assert name in fields(dataset), ref
    markdown = datadict.write_docs(tmp_path, PRESENT)[1].read_text(encoding="utf-8")
    page = (tmp_path / "data_dictionary.html").read_text(encoding="utf-8")
    assert "## What the 903 alone cannot answer" in markdown and '<section id="beyond-903">' in page
    for q in specs.BEYOND_903:
        assert q["question"] in markdown
        for ref in q["fields"]:
            assert f"`{ref}`" in markdown and f"<code>{ref}</code>" in page


def test_a_bad_placement_request_extract_names_file_row_column_value_and_rule(tmp_path, capsys):
    """`rcceval validate` checks an extract against exactly the published specification."""
    from helpers903 import ep, hd, write_return

    from rcceval.cli import main

    write_return(tmp_path / "903", "LA1", 2024, [hd("1")], [ep("1", "01/04/2023", "S")])
    f = fields("placement_requests")
    row = {name: "" for name in f}
    row.update({"LA": "LA1", "childId": "1", "communicationNeeds": "Y", "homeAdaptation": "false",
                "culturalNeeds": "Not required", "livingCompanions": "No preference", "pets": "No",
                "deprivationOfLiberty": "false", "fosterCareSuitability": "Preferred",
                "residentialCareSuitability": "Unsuitable", "supportedAccommodationSuitability": "Perhaps",
                "totalWeeklyCost": "900", "preferabilityLocation": "true", "educationContinuity": "true",
                "siblingsPlacedTogether": "0", "placementType": "Foster", "referralDate": "01/04/2023",
                "placementDate": "01/04/2023", "neededBy": "Today", "siblingCount": "0", "additionalSupport": "NA"})
    for name in f:
        if name.startswith("risk") and "enum" in f[name]["constraints"]:
            row[name] = "No known risk"
    (tmp_path / "placement_requests.csv").write_text(",".join(f) + "\n" + ",".join(row.values()) + "\n")
    assert main(["validate", str(tmp_path), "--out", str(tmp_path / "problems.csv")]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out
    import pandas as pd
    problems = pd.read_csv(tmp_path / "problems.csv", dtype=str)
    hit = problems[problems["column"] == "supportedAccommodationSuitability"]
    assert len(hit) == 1, problems.to_dict("records")
    hit = hit.iloc[0]
    assert hit["file"].endswith("placement_requests.csv") and hit["row"] == "2" and hit["value"] == "Perhaps"
    assert hit["severity"] == "fatal" and hit["rule"] == "cell.code"
