"""Runs inside the validator's own venv (pandas<2): CSV files in, JSON out on stdout.

Input (argv[1]): a JSON file {"ruleset": "lac2024_25", "collection_year": "2024", "la": "E...", "out": path,
"this_year": [csv paths], "prev_year": [csv paths]}. Output (the file spec["out"]): {"findings": [{"rule", "table",
"rows"}], "failed": [{"rule", "error"}], "rules": {code: {"message", "fields"}}}.
Each rule runs on its own copy of the data; one that raises is reported, not fatal.
"""
import importlib
import json
import logging
import math
import sys


def main() -> None:
    logging.disable(logging.CRITICAL)
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    from lac_validator.datastore import copy_datastore, create_datastore
    from lac_validator.ingress import read_from_text
    from lac_validator.utils import process_uploaded_files

    registry = importlib.import_module(f"lac_validator.rules.{spec['ruleset']}").registry
    files = process_uploaded_files({"This year": spec["this_year"], "Prev year": spec["prev_year"]})
    dfs, extras = read_from_text(raw_files=files)
    metadata = {"collectionYear": spec["collection_year"], "localAuthority": spec["la"], **extras}
    store = create_datastore(dfs, metadata)
    out = {"findings": [], "failed": [], "rules": {}}
    for code, rule in registry.items():
        out["rules"][str(code)] = {"message": rule.message or "", "fields": list(rule.affected_fields or [])}
        try:
            result = rule.func(copy_datastore(store))
        except Exception as exc:  # noqa: BLE001  a rule that cannot run on these data is reported as such
            out["failed"].append({"rule": str(code), "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        for table, rows in (result or {}).items():
            rows = [int(r) for r in rows if r is not None and not (isinstance(r, float) and math.isnan(r))]
            if rows:
                out["findings"].append({"rule": str(code), "table": table, "rows": sorted(set(rows))})
    with open(spec["out"], "w") as handle:  # a file: some rules print to stdout
        json.dump(out, handle)


if __name__ == "__main__":
    main()
