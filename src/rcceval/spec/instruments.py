"""Needs instruments: domains, intensity and frequency scales, score rule and bands to need tiers.

An instrument is a YAML file, so rcceval hard-wires no proprietary tool: the default open
instrument ships in `schemas/instruments/`; users copy and edit it. Instrument files are checked
on load and a broken one raises `ParameterError` naming file, key and rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rcceval.checking import Checker
from rcceval.errors import ParameterError
from rcceval.spec.datasets import (
    DEFAULT_INSTRUMENT_PATH,
    INSTRUMENT_DIR,
    NEED_TIERS,
    SCALE_MAX,
    SCORE_RULES,
    capability_column,
    load_schema,
)


@dataclass(frozen=True)
class Domain:
    """One need domain of an instrument, with the Placements Data Standard fields it draws on."""

    id: str
    title: str
    description: str
    pds_fields: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    """Holds when at least `min_domains` domains each meet every threshold given (None: no threshold)."""

    min_domains: int = 1
    intensity_at_least: int | None = None
    frequency_at_least: int | None = None
    score_at_least: float | None = None


@dataclass(frozen=True)
class Band:
    """A need tier and when a child is in it: any of `conditions`, or `otherwise` (the fallback)."""

    id: str
    label: str
    description: str
    conditions: tuple[Condition, ...]
    otherwise: bool = False


@dataclass(frozen=True)
class Instrument:
    """A needs instrument read from a YAML file: domains, 0-3 scales, score rule and bands.

    `intensity_labels[i]` is the label of intensity level i (likewise frequency). Bands are
    checked in order and the first that holds applies; the last is the `otherwise` band.
    """

    id: str
    title: str
    description: str
    source: str
    domains: tuple[Domain, ...]
    intensity_labels: tuple[str, ...]
    frequency_labels: tuple[str, ...]
    score_rule: str
    score_max: float
    bands: tuple[Band, ...]
    path: Path

    @property
    def domain_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.domains)

    @property
    def capability_columns(self) -> tuple[str, ...]:
        return tuple(capability_column(d.id) for d in self.domains)

    def domain(self, domain_id: str) -> Domain:
        for d in self.domains:
            if d.id == domain_id:
                return d
        raise KeyError(f"instrument {self.id} has no domain {domain_id!r}")


_INSTRUMENT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_DOMAIN_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_KEYS = {"id", "title", "description", "source", "scale", "score", "domains", "bands"}
_SCALE_KEYS = {"description", "labels"}
_SCORE_KEYS = {"rule", "description", "maximum"}
_DOMAIN_KEYS = {"id", "title", "description", "pds_fields"}
_BANDS_KEYS = {"description", "tiers"}
_TIER_KEYS = {"id", "label", "description", "conditions", "otherwise"}
_CONDITION_KEYS = {"min_domains", "intensity_at_least", "frequency_at_least", "score_at_least"}


def _scale_labels(check: Checker, raw: object, key: str) -> tuple[str, ...]:
    scale = check.mapping(raw, key, _SCALE_KEYS, {"labels"})
    labels = scale["labels"]
    if not isinstance(labels, dict) or not labels:
        check.fail(f"{key}.labels", labels, "must map each level (0, 1, ...) to its label")
    levels = list(labels)
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= SCALE_MAX:
            check.fail(f"{key}.labels", level, f"levels must be whole numbers from 0 to {SCALE_MAX} "
                                               "(the 0-3 range of the data contracts)")
    if sorted(levels) != list(range(len(levels))) or len(levels) < 2:
        check.fail(f"{key}.labels", levels, "levels must run 0, 1, 2, ... without gaps (at least 0 and 1)")
    return tuple(check.text(labels[i], f"{key}.labels.{i}") for i in range(len(levels)))


def _domains(check: Checker, raw: object) -> tuple[Domain, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("domains", raw, "must be a non-empty list of domains")
    pds_names = {f["name"] for f in load_schema("placement_requests")["fields"]} - {"LA"}
    seen: set[str] = set()
    out = []
    for i, item in enumerate(raw):
        key = f"domains[{i}]"
        d = check.mapping(item, key, _DOMAIN_KEYS, {"id", "title"})
        did = d["id"]
        if not isinstance(did, str) or not _DOMAIN_ID_RE.match(did):
            check.fail(f"{key}.id", did, "must be lower-case letters, digits and _ starting with a letter "
                                         "(it becomes the CAP_<ID> column name)")
        if did in seen:
            check.fail(f"{key}.id", did, "domain ids must be unique")
        seen.add(did)
        pds = d.get("pds_fields", []) or []
        if not isinstance(pds, list):
            check.fail(f"{key}.pds_fields", pds, "must be a list of Placements Data Standard field names")
        for name in pds:
            if name not in pds_names:
                check.fail(f"{key}.pds_fields", name, "not a field of the Placements Data Standard v2 "
                                                      "(see the placement_requests specification)")
        out.append(Domain(did, check.text(d["title"], f"{key}.title"),
                          check.text(d.get("description"), f"{key}.description", required=False), tuple(pds)))
    return tuple(out)


def _condition(check: Checker, raw: object, key: str, n_domains: int, max_i: int, max_f: int,
               score_max: float, rule: str) -> Condition:
    c = check.mapping(raw, key, _CONDITION_KEYS)
    if not set(c) - {"min_domains"}:
        check.fail(key, c, "needs at least one threshold: intensity_at_least, frequency_at_least or score_at_least")
    if rule != "intensity_x_frequency":
        for k in ("intensity_at_least", "frequency_at_least"):
            if k in c:
                check.fail(f"{key}.{k}", c[k], "only instruments scored as intensity x frequency can use it")
    return Condition(
        min_domains=check.integer(c.get("min_domains", 1), f"{key}.min_domains", 1, n_domains),
        intensity_at_least=(check.integer(c["intensity_at_least"], f"{key}.intensity_at_least", 0, max_i)
                            if "intensity_at_least" in c else None),
        frequency_at_least=(check.integer(c["frequency_at_least"], f"{key}.frequency_at_least", 0, max_f)
                            if "frequency_at_least" in c else None),
        score_at_least=(check.number(c["score_at_least"], f"{key}.score_at_least", 0, score_max)
                        if "score_at_least" in c else None),
    )


def _bands(check: Checker, raw: object, n_domains: int, max_i: int, max_f: int, score_max: float,
           rule: str) -> tuple[Band, ...]:
    bands = check.mapping(raw, "bands", _BANDS_KEYS, {"tiers"})
    tiers = bands["tiers"]
    if not isinstance(tiers, list) or not tiers:
        check.fail("bands.tiers", tiers, "must be a non-empty list of tiers")
    out, seen = [], set()
    for i, item in enumerate(tiers):
        key = f"bands.tiers[{i}]"
        t = check.mapping(item, key, _TIER_KEYS, {"id"})
        if t["id"] not in NEED_TIERS:
            check.fail(f"{key}.id", t["id"], f"must be one of the need tiers {', '.join(NEED_TIERS)}")
        if t["id"] in seen:
            check.fail(f"{key}.id", t["id"], "each tier appears once")
        seen.add(t["id"])
        otherwise = t.get("otherwise", False)
        if otherwise is not True and otherwise is not False:
            check.fail(f"{key}.otherwise", otherwise, "must be true or false")
        last = i == len(tiers) - 1
        if otherwise != last:
            check.fail(f"{key}.otherwise", otherwise, "exactly the last tier is the fallback (otherwise: true)")
        conditions: tuple[Condition, ...] = ()
        if otherwise:
            if "conditions" in t:
                check.fail(f"{key}.conditions", t["conditions"], "the fallback tier has no conditions")
        else:
            cond = check.mapping(t.get("conditions"), f"{key}.conditions", {"any"}, {"any"})
            if not isinstance(cond["any"], list) or not cond["any"]:
                check.fail(f"{key}.conditions.any", cond["any"], "must be a non-empty list of conditions")
            conditions = tuple(_condition(check, c, f"{key}.conditions.any[{j}]", n_domains, max_i, max_f,
                                          score_max, rule) for j, c in enumerate(cond["any"]))
        out.append(Band(t["id"], check.text(t.get("label", t["id"]), f"{key}.label"),
                        check.text(t.get("description"), f"{key}.description", required=False),
                        conditions, bool(otherwise)))
    return tuple(out)


def parse_instrument(data: object, path: Path) -> Instrument:
    """Check an instrument's parsed YAML and build the Instrument; ParameterError on the first break."""
    check = Checker(path)
    top = check.mapping(data, "", _TOP_KEYS, {"id", "title", "scale", "domains", "bands"})
    iid = top["id"]
    if not isinstance(iid, str) or not _INSTRUMENT_ID_RE.match(iid):
        check.fail("id", iid, "must be lower-case letters, digits, '.', '_' or '-' (e.g. rcceval-open-v1)")
    scale = check.mapping(top["scale"], "scale", {"intensity", "frequency"}, {"intensity", "frequency"})
    intensity = _scale_labels(check, scale["intensity"], "scale.intensity")
    frequency = _scale_labels(check, scale["frequency"], "scale.frequency")
    score = check.mapping(top.get("score", {"rule": "intensity_x_frequency"}), "score", _SCORE_KEYS, {"rule"})
    rule = score["rule"]
    if rule not in SCORE_RULES:
        check.fail("score.rule", rule, f"must be one of {', '.join(SCORE_RULES)}")
    if rule == "intensity_x_frequency":
        if "maximum" in score:
            check.fail("score.maximum", score["maximum"], "is implied by the scales when the score is intensity x frequency")
        score_max: float = (len(intensity) - 1) * (len(frequency) - 1)
    else:
        score_max = check.number(score.get("maximum"), "score.maximum", 1e-9, float("inf"))
    domains = _domains(check, top["domains"])
    bands = _bands(check, top["bands"], len(domains), len(intensity) - 1, len(frequency) - 1, score_max, rule)
    return Instrument(
        id=iid, title=check.text(top["title"], "title"),
        description=check.text(top.get("description"), "description", required=False),
        source=check.text(top.get("source"), "source", required=False),
        domains=domains, intensity_labels=intensity, frequency_labels=frequency,
        score_rule=rule, score_max=score_max, bands=bands, path=path,
    )


@lru_cache(maxsize=32)
def _load_instrument_file(path: Path, mtime_ns: int) -> Instrument:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(path, "<file>", None, f"not valid YAML: {exc}") from None
    return parse_instrument(data, path)


def instrument_file(path_or_id: str | Path | None) -> Path:
    """The YAML file of an instrument given by path or by id (the packaged instruments are searched)."""
    if path_or_id is None:
        return DEFAULT_INSTRUMENT_PATH
    text = str(path_or_id)
    looks_like_path = isinstance(path_or_id, Path) or text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text
    if looks_like_path:
        path = Path(path_or_id)
        if not path.is_file():
            raise ParameterError(path, "instrument", text, "instrument file not found")
        return path
    for candidate in sorted(INSTRUMENT_DIR.glob("*.y*ml")):
        data = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("id") == text:
            return candidate
    raise ParameterError(INSTRUMENT_DIR, "instrument", text,
                         "no shipped instrument has this id; give the path of your instrument file")


def load_instrument(path_or_id: str | Path | None = None) -> Instrument:
    """Load and check a needs instrument: None for the default, a shipped instrument's id, or a file path."""
    path = instrument_file(path_or_id).resolve()
    return _load_instrument_file(path, path.stat().st_mtime_ns)


def describe_condition(c: Condition) -> str:
    """A band condition in plain English, e.g. 'at least 2 domains with score 6 or more'."""
    parts = []
    if c.intensity_at_least is not None:
        parts.append(f"intensity {c.intensity_at_least} or more")
    if c.frequency_at_least is not None:
        parts.append(f"frequency {c.frequency_at_least} or more")
    if c.score_at_least is not None:
        parts.append(f"score {c.score_at_least:g} or more")
    who = "any domain" if c.min_domains == 1 else f"at least {c.min_domains} domains"
    return f"{who} with {' and '.join(parts)}"


def describe_score(instrument: Instrument) -> str:
    """How a domain's score is made, in plain English."""
    if instrument.score_rule == "intensity_x_frequency":
        return f"intensity x frequency, from 0 to {instrument.score_max:g}"
    return f"given directly (SCORE column), from 0 to {instrument.score_max:g}"


def describe_band(band: Band) -> str:
    """When a child is in a band, in plain English."""
    if band.otherwise:
        return "when no tier above applies"
    return "; or ".join(describe_condition(c) for c in band.conditions)
