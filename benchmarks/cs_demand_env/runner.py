"""Run Social Finance's cs-demand-model on one council's 903 folder (inside its own venv; pandas<2).

argv: a JSON object {"folder": <council folder holding YEAR/header.csv, episodes.csv>, "origins": [years],
"days": [days after 31 March of the origin], "window_months": reference window}. For each origin the
model sees only the returns up to the origin year (a temporary copy), takes its
transition rates from the `window_months` before 31 March of the origin (its CLI default is 6) and
predicts daily. Prints JSON: {origin: {days: {age bin label: children}}}.
"""
import json
import os
import shutil
import sys
import tempfile
from datetime import date

from cs_demand_model import DemandModellingDataContainer, ModelPredictor, PopulationStats
from cs_demand_model.config import Config
from cs_demand_model.datastore import fs_datastore
from dateutil.relativedelta import relativedelta


def main() -> None:
    job = json.loads(sys.argv[1])
    out = {}
    for origin in job["origins"]:
        with tempfile.TemporaryDirectory() as tmp:
            for year in sorted(os.listdir(job["folder"])):
                if year.isdigit() and int(year) <= origin:
                    shutil.copytree(os.path.join(job["folder"], year), os.path.join(tmp, year))
            config = Config()
            dc = DemandModellingDataContainer(fs_datastore(tmp), config)
            stats = PopulationStats(dc.enriched_view, config)
            end = date(origin, 3, 31)
            start = end - relativedelta(months=job["window_months"])
            predictor = ModelPredictor.from_model(stats, start, end)
            pop = predictor.predict(max(job["days"]))
            res = {}
            for d in job["days"]:
                row = pop.iloc[d - 1]
                by_bin = {}
                for key, value in row.items():
                    age_bin = key[0] if isinstance(key, tuple) else key
                    label = getattr(age_bin, "label", str(age_bin))
                    by_bin[label] = by_bin.get(label, 0.0) + float(value)
                res[str(d)] = by_bin
            out[str(origin)] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main()
