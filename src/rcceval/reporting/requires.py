"""What each report section needs, declared once: checked against what the data folder holds.

Every council has its 903 returns; few have needs assessments, a provider register, placement
agreements or placement requests. Each notebook section declares the inputs it reads (SECTIONS); a
notebook asks `report.section(name)` before a section and, when an input is absent, the report shows
one plain sentence (what is missing, where it goes, see data/README.md) and goes on. The same
declarations give `rcceval run PARAMS --check` its list of what will and will not run, and the runner
marks a report with skipped sections "partial" (not failed).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

INPUT_903 = "903"
COSTING = "costing"
# input -> (what it is, where it goes: relative to the data folder, or the parameter that names it)
INPUTS: dict[str, tuple[str, str]] = {
    INPUT_903: ("the SSDA903 returns", "903/<LA>/<YEAR>/header.csv, episodes.csv, oc2.csv, uasc.csv"),
    "needs_assessments": ("needs assessments", "needs_assessments.csv"),
    "provider_register": ("a provider register", "provider_register.csv"),
    "placement_agreements": ("placement agreements", "placement_agreements.csv"),
    "placement_requests": ("placement requests (Placements Data Standard v2)", "placement_requests.csv"),
    COSTING: ("the cost parameter file", "the file named by the `costing` parameter"),
}


@dataclass(frozen=True)
class Section:
    """One section of a report: its name (as the notebook asks for it), title and inputs."""

    name: str
    title: str
    inputs: tuple[str, ...] = (INPUT_903,)


def _s(name: str, title: str, *inputs: str) -> Section:
    return Section(name, title, (INPUT_903, *inputs))


NEEDS, REGISTER, AGREEMENTS, REQUESTS = ("needs_assessments", "provider_register", "placement_agreements",
                                         "placement_requests")
SECTIONS: dict[str, tuple[Section, ...]] = {
    "00_data_quality": (
        _s("validation", "Validation summary"),
        _s("looked_after", "Children looked after by council and year"),
        _s("placement_mix", "Placement mix"),
        _s("stability", "DfE placement stability measures"),
        _s("coverage", "Coverage of the needs data and placement requests"),
    ),
    "01_needs_predict_stability": (
        _s("baseline", "The 903 baseline model (M0): cross-validated AUC and calibration"),
        _s("detectable_gain", "The gain needs data would have to bring to be detectable"),
        _s("needs_models", "Needs and mismatch models (M1, M2), drop-one domains, council widths", NEEDS),
    ),
    "02_placement_survival": (
        _s("curves", "Kaplan–Meier and cumulative incidence of each ending, by profile"),
        _s("by_903", "One-year figures by 903 characteristic"),
        _s("cox", "Cox models of each ending, the proportional-hazards test and the request-only sensitivity "
                  "analysis"),
        _s("need_profiles", "Need profiles: the domains behind each tier, the intensity × frequency grid and "
                            "data-driven clusters", NEEDS),
        _s("time_varying", "Needs re-scored at reviews", NEEDS),
    ),
    "03_unit_cost_vs_needs_led": (
        _s("unit_cost", "Cost per child-year by placement type and the process cost of moves", COSTING),
        _s("needs_led", "Needs-led costing: a week of care costed both ways, the journey microsimulation, "
                        "sensitivity and break-even", COSTING, NEEDS),
    ),
    "04_dataset_proposal": (
        _s("specification", "The published specification"),
        _s("power_903", "Power and minimum detectable effect from the 903's own event rates"),
        _s("power_needs", "Power from placements with needs data, checked by simulation", NEEDS),
        _s("field_value", "The value of each proposed field", NEEDS),
        _s("secured", "Did we secure the placement we wanted?", NEEDS, REQUESTS),
    ),
    "05_sufficiency_gap": (
        _s("forecast", "Forecast of children looked after from the 903"),
        # the needs audit and the gap are one analysis today (sufficiency.result.fit): both inputs for either
        _s("needs_audit", "Needs audit, needs over time and forecast by need profile", NEEDS, REGISTER),
        _s("provision", "Provision map, sufficiency gap and nearest suitable placement", NEEDS, REGISTER),
    ),
}


def available(data_dir: Path, costing: str | Path | None = None, synthetic: bool = False) -> set[str]:
    """The inputs a data folder holds (a synthetic region not yet generated will hold all of them)."""
    from rcceval.ingest.load import find_903_files, find_903_root, find_dataset_file

    if synthetic and not (Path(data_dir) / "truth.json").is_file():
        have = set(INPUTS)
    else:
        have = {n for n in INPUTS if n not in (INPUT_903, COSTING) and find_dataset_file(Path(data_dir), n)}
        if Path(data_dir).is_dir() and find_903_files(find_903_root(Path(data_dir))):
            have.add(INPUT_903)
    if costing is not None and Path(costing).is_file():
        have.add(COSTING)
    return have


def section(notebook: str, name: str) -> Section:
    for s in SECTIONS.get(notebook, ()):
        if s.name == name:
            return s
    raise KeyError(f"{notebook} declares no section {name!r} (reporting/requires.py SECTIONS)")


def missing(s: Section, have: set[str]) -> list[str]:
    """The inputs of a section that are absent, in declaration order."""
    return [i for i in s.inputs if i not in have]


def sentence(s: Section, absent: list[str]) -> str:
    """The one sentence a report shows in place of a section whose inputs are absent."""
    what = " and ".join(INPUTS[i][0] for i in absent)
    where = " and ".join(INPUTS[i][1] for i in absent)
    return (f"{s.title}: not run, it needs {what}, which this data folder does not hold "
            f"(put {'it' if len(absent) == 1 else 'them'} at {where} in the data folder; see data/README.md).")


def plan(notebooks: list[str], have: set[str]) -> dict[str, list[tuple[Section, list[str]]]]:
    """Per notebook, each declared section with the inputs it lacks (empty: it will run)."""
    return {nb: [(s, missing(s, have)) for s in SECTIONS.get(nb, ())] for nb in notebooks}


def check_text(notebooks: list[str], have: set[str]) -> str:
    """`run --check`'s listing: per report, what will and will not run on the given data."""
    lines = []
    for nb, sections in plan(notebooks, have).items():
        if not sections:
            lines.append(f"  {nb}: sections not declared yet (the report checks its own inputs as it runs)")
            continue
        skipped = [s for s, m in sections if m]
        status = "will not run (no 903 returns)" if INPUT_903 not in have else \
            ("partial" if skipped else "runs in full")
        lines.append(f"  {nb}: {status}")
        for s, m in sections:
            mark = "runs   " if not m else "skipped"
            why = "" if not m else f"  (needs {', '.join(m)})"
            lines.append(f"    {mark} {s.title}{why}")
    return "\n".join(lines)
