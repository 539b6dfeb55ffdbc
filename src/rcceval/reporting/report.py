"""What a report notebook holds: its checked parameters, its data, and where it publishes.

A notebook calls `open_report(globals(), "00_data_quality")` after its parameters cell; everything
else it needs (validated data, placements, the publisher) hangs off the returned Report, so the
notebook stays thin and every report reads and publishes the same way.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from rcceval import params as params_mod
from rcceval.derive.placements import derive_placements
from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.errors import ParameterError
from rcceval.ingest.load import read_region
from rcceval.reporting.publish import Publisher
from rcceval.ingest.validate import CleanRegion, validate_region


def ensure_data(params: params_mod.Parameters) -> Path:
    """The data folder of a run; the synthetic region is generated there on first use."""
    path = params.data_path
    if params.data_source == "synthetic" and not (path / "truth.json").is_file():
        from rcceval.synth import generate
        s = params.synthetic
        generate(path, scale=s.scale, seed=s.seed, null_needs=s.null_needs)
    return path


# The runner reads and validates a run's data once and hands it to every notebook through a pickle in
# a private temporary folder named by this variable (removed when the run ends; never in outputs/).
REGION_CACHE_ENV = "RCCEVAL_REGION_CACHE"


def region_key(params: params_mod.Parameters) -> tuple[str, bool]:
    """What a validated region depends on besides the files themselves: where they are and strictness."""
    return str(params.data_path), params.strict


def cached_region(params: params_mod.Parameters) -> CleanRegion | None:
    """The run's validated region if the runner prepared it for these parameters, else None."""
    path = os.environ.get(REGION_CACHE_ENV)
    if not path or not Path(path).is_file():
        return None
    with open(path, "rb") as handle:
        key, region = pickle.load(handle)
    return region if key == region_key(params) else None


def only_councils(region: CleanRegion, councils: list[str]) -> CleanRegion:
    """The same data restricted to some councils (every table with an LA column)."""
    keep = set(councils)

    def cut(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[frame["LA"].isin(keep)].reset_index(drop=True) if "LA" in frame.columns else frame

    c = region.c903
    c903 = replace(c, header=cut(c.header), episodes=cut(c.episodes), short_breaks=cut(c.short_breaks),
                   oc2=cut(c.oc2), uasc=cut(c.uasc))
    return replace(region, c903=c903, tables={k: cut(v) for k, v in region.tables.items()})


class Report:
    """One notebook's run: parameters, data (read once, on first use) and its publisher."""

    def __init__(self, params: params_mod.Parameters, notebook: str) -> None:
        self.params = params
        self.notebook = notebook
        root = params_mod.project_root()
        out = Path(params.output_dir) if params.output_dir else root / "outputs" / "standalone"
        d = params.disclosure
        self.publish = Publisher(out, notebook, DisclosureSettings(d.threshold, d.round_to, d.suppress_zero))

    @cached_property
    def region(self) -> CleanRegion:
        """Validated data of the councils asked for (stops with the problem list if it cannot be analysed)."""
        region = cached_region(self.params)
        if region is None:
            region = validate_region(read_region(ensure_data(self.params)), strict=self.params.strict)
        available = sorted(region.c903.header["LA"].unique())
        if self.params.councils == "all":
            return region
        missing = sorted(set(self.params.councils) - set(available))
        if missing:
            raise ParameterError(self.params.source, "councils", missing,
                                            f"not in the data (councils there: {', '.join(available)})")
        return only_councils(region, list(self.params.councils))

    @property
    def extract_date(self) -> pd.Timestamp:
        if self.params.extract_date:
            return pd.Timestamp(self.params.extract_date)
        return self.region.c903.extract_date

    @cached_property
    def placements(self) -> pd.DataFrame:
        return derive_placements(self.region.c903, extract_date=self.extract_date,
                                 unplanned_reasons=self.params.unplanned_reasons)

    def finish(self) -> Path:
        """Write results.json; the last call of every notebook."""
        return self.publish.save()


def open_report(namespace: dict, notebook: str) -> Report:
    """Check the notebook's parameters (as papermill injected them) and open its report."""
    return Report(params_mod.from_namespace(namespace, source=f"{notebook} parameters"), notebook)
