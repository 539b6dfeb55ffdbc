"""Synthetic region: a calibrated generator of children's care journeys with a known truth.

``generate(out_dir, scale, seed, null_needs, years, last_year)`` writes a whole region in the
input contracts of rcceval (so the real loader and validator are exercised) and returns the truth
dict, also written as ``truth.json``.

Files written under ``out_dir``::

    903/<LA>/<YEAR>/header.csv, episodes.csv, oc2.csv, uasc.csv   one folder per council and year
    needs_assessments.csv      instrument rcceval-open-v1, long (child x assessment x domain)
    provider_register.csv      registered settings: URN, place, location, places, capability
    placement_agreements.csv   one row per placement: weekly fee, capability where no URN
    placement_requests.csv     Placements Data Standard v2, for most placements of the last 3 years
    postcode_lookup.csv        the real postcodes used, with easting/northing (m, national grid)
    truth.json                 every generating parameter and the true effects

Generating model (all numbers in truth.json["parameters"]):

* Councils: England's real councils (the South East's 19 for region, all 152 for national, West
  Berkshire and Reading for small), named by ONS code with their DfE code and name, sized by the
  DfE count looked after on 31 March 2024; homes and placements at real postcodes inside them (or
  elsewhere in England for out-of-area placements; councils.py); a log-normal council frailty.
* Entries: Poisson per council (entry_ratio x size a year) from 18 years before the first return
  (burn-in, steady state) to the extract date 31 March <last_year>. Age, sex, category of need,
  UASC and legal status are drawn to give the DfE 2024 mix; a legal-status timeline per period of
  care (emergency -> interim care order -> full care order after 4-9 months, placement orders for
  young children, section 20, youth justice). About 12% of entrants are re-entries.
* Needs: a latent level per domain = domain mean + category-of-need/UASC shift + correlated child
  effect (general, externalising, internalising factors) + age curve (peaks near 7 and 11, then a
  plateau) + slow drift. Assessments at entry and every ~6 months record INTENSITY =
  round(latent + noise) clipped to 0-3, and FREQUENCY tied to it. SDQ from the same latent.
* Placement choice: non-commissioned routes (adoption after a placement order, parents, mother
  and baby, custody, health, other) or a preferred type (Foster / Residential / Supported) by age
  and needs, secured with a probability below 1 (else a second-best type). Capability comes from the
  register for registered settings and from the child's needs plus noise (with type ceilings)
  otherwise; mismatch = sum over domains of max(0, intensity - capability). Distance from home is
  type-typical (children's homes far more often out of area).
* Endings: cause-specific Weibull proportional hazards for unplanned change, planned change and
  leaving care, with the covariates as recorded at the placement start (age band, type group, the
  latest assessment's intensity and frequency per domain, mismatch, second-best, first placement
  of the period, UASC, care order), times the council frailty (unplanned and planned). Leaving
  care at the 18th birthday at the latest; placements open on the extract date are censored.
  A placement order moves young foster children to adopters (a planned change outside the Weibull
  model, stated in truth.json). ``null_needs`` zeroes every needs and mismatch effect on endings
  (needs still drive placement choice) and rescales the baselines so the number of endings stays
  about the same, for false-positive checks.

The simulation is vectorised: it loops over the k-th placement of every child at once (and over
periods of care, councils and return years), never over children.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .calibration import internal_report
from .csvout import DateStrings
from .episodes import build_episodes, short_breaks
from .extras import visible_placements, write_agreements, write_lookup, write_needs, write_register, write_requests
from .journeys import Tables
from .params import SCALES
from .region import Region, simulate_region
from .returns import make_people, write_returns
from .truth import build_truth, write_truth


def generate(out_dir: Path | str, scale: str = "small", seed: int = 1, null_needs: bool = False,
             years: int = 8, last_year: int = 2025) -> dict:
    """Write a synthetic region to `out_dir` and return its truth (also out_dir/truth.json)."""
    out = Path(out_dir)
    region = simulate_region(scale=scale, seed=seed, null_needs=null_needs, years=years, last_year=last_year)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "903").exists():  # a previous region's councils must not linger
        shutil.rmtree(out / "903")
    eps = build_episodes(region)
    sb_eps, sb_people = short_breaks(region)
    all_eps = Tables.concat([eps.cols, sb_eps.cols])
    people = make_people(region, sb_people)
    first = int(min(people.dob.min(), region.sim_start)) - 400
    dates = DateStrings(first, region.extract + 20 * 366)
    files = {"903": write_returns(region, all_eps, people, out, dates)}
    vis = visible_placements(region, all_eps)
    files["needs_assessments.csv"] = write_needs(region, vis, people, out, dates)
    files["provider_register.csv"] = write_register(region, out)
    files["placement_agreements.csv"] = write_agreements(region, vis, people, out, dates)
    files["placement_requests.csv"] = write_requests(region, vis, people, out, dates)
    files["postcode_lookup.csv"] = write_lookup(region, out)
    calib = internal_report(region)
    truth = build_truth(region, files, calib)
    return write_truth(out / "truth.json", truth)


__all__ = ["generate", "simulate_region", "internal_report", "Region", "SCALES"]
