"""What a report notebook holds: its checked parameters, its data, and where it publishes.

A notebook calls `open_report(globals(), "00_data_quality")` after its parameters cell; everything
else it needs (validated data, placements, the publisher) hangs off the returned Report, so the
notebook stays thin and every report reads and publishes the same way.
"""
from __future__ import annotations

import json
import os
import pickle
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from rcceval import params as params_mod
from rcceval.derive.placements import derive_placements
from rcceval.errors import ParameterError
from rcceval.ingest.load import read_region
from rcceval.ingest.validate import CleanRegion, validate_region
from rcceval.reporting import requires
from rcceval.reporting.disclosure import DisclosureSettings
from rcceval.reporting.publish import Publisher


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
# Beside results.json: the sections a report skipped for want of an input (the runner marks it "partial").
SECTIONS_FILE = "sections.json"


# Aggregates one notebook saves for another (question 2's fitted hazards for question 3, question 1's
# drop-one results for question 4) and objects every notebook of a run would otherwise rebuild (the
# analysis frame) live in the run's private cache folder named by this variable: outside outputs/,
# removed when the run ends. A notebook run alone has no cache and computes what it needs itself.
RUN_CACHE_ENV = "RCCEVAL_RUN_CACHE"


def _cache_dir() -> Path | None:
    path = os.environ.get(RUN_CACHE_ENV)
    return Path(path) if path and Path(path).is_dir() else None


def save_shared(key: str, value: object) -> None:
    """Put an object into the run's cache (atomically: a concurrent reader sees all of it or none)."""
    folder = _cache_dir()
    if folder is None:
        return
    target = folder / f"{key}.pickle"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, target)


def load_shared(key: str) -> object | None:
    """An object from the run's cache, or None (no cache, or nothing saved under key)."""
    folder = _cache_dir()
    if folder is None or not (folder / f"{key}.pickle").is_file():
        return None
    with open(folder / f"{key}.pickle", "rb") as handle:
        return pickle.load(handle)


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
        self.skipped: list[dict] = []
        root = params_mod.project_root()
        out = Path(params.output_dir) if params.output_dir else root / "outputs" / "standalone"
        d = params.disclosure
        self.publish = Publisher(out, notebook, DisclosureSettings(d.threshold, d.round_to, d.suppress_zero))

    @cached_property
    def _whole_region(self) -> CleanRegion:
        region = cached_region(self.params)
        if region is None:
            region = validate_region(read_region(ensure_data(self.params)), strict=self.params.strict)
        return region

    @cached_property
    def data_councils(self) -> list[str]:
        """Every council of the data, whichever are analysed (the region of "placed outside the region")."""
        return sorted(self._whole_region.c903.header["LA"].unique())

    @cached_property
    def region(self) -> CleanRegion:
        """Validated data of the councils asked for (stops with the problem list if it cannot be analysed)."""
        region = self._whole_region
        available = self.data_councils
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

    def shared(self, key: str, build):
        """The run's one copy of an object (e.g. the analysis frame for given options): loaded from the
        run cache when another notebook built it, else built with build() and saved for the others."""
        import hashlib

        spelled = f"{key}|{region_key(self.params)}|{self.params.councils}"
        full = "shared-" + hashlib.sha256(spelled.encode()).hexdigest()[:32]   # keys can outgrow a file name
        value = load_shared(full)
        if value is None:
            value = build()
            save_shared(full, value)
        return value

    def save_artifact(self, name: str, value: object) -> None:
        """Aggregates (never child-level rows) this notebook hands to a later one in the same run."""
        save_shared(f"{self.notebook}.{name}", value)

    def artifact(self, notebook: str, name: str) -> object | None:
        """What an earlier notebook of this run saved under name, or None (run alone: compute it)."""
        return load_shared(f"{notebook}.{name}")

    @cached_property
    def inputs(self) -> set[str]:
        """The inputs the data folder holds (see reporting/requires.py)."""
        return requires.available(self.params.data_path, self.params.costing,
                                  synthetic=self.params.data_source == "synthetic")

    def section(self, name: str) -> bool:
        """True when the inputs section `name` declares are all there; else show the one sentence saying
        what is missing and where it goes, record the section as skipped, and return False."""
        s = requires.section(self.notebook, name)
        absent = requires.missing(s, self.inputs)
        if not absent:
            return True
        if any(k["section"] == name for k in self.skipped):   # asked again (a section of several cells): said once
            return False
        text = requires.sentence(s, absent)
        self.skipped.append({"section": name, "title": s.title, "missing": absent, "sentence": text})
        from IPython.display import Markdown, display
        display(Markdown(f"*{text}*"))
        return False

    def finish(self) -> Path:
        """Write results.json and sections.json (the sections skipped); the last call of every notebook."""
        saved = Path(self.publish.save())
        (saved.parent / SECTIONS_FILE).write_text(json.dumps({"skipped": self.skipped}, indent=2, sort_keys=True) + "\n")
        return saved


def open_report(namespace: dict, notebook: str) -> Report:
    """Check the notebook's parameters (as papermill injected them) and open its report (in the
    reports' one figure style, whatever the notebook set before)."""
    from rcceval.reporting.figures import apply_style

    apply_style()
    return Report(params_mod.from_namespace(namespace, source=f"{notebook} parameters"), notebook)
