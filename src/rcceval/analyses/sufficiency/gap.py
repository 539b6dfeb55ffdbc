"""Question 5, provision and gap: places in the register against the children needing them.

Definitions (stated in the report as well):

- **A placement can meet a child** when its capability is at least the child's intensity of need
  in every domain of the instrument (zero mismatch, as in needs.mismatch), and the child may be
  placed there: supported accommodation (PLACE H5) only from age 16; a secure children's home
  (K1) only for children placed in secure care (a court decides, not a needs match). A child
  with a domain not rated, or a setting with a domain's capability missing, is left out and counted.
- **Scope of the gap**: the provider register lists registered settings only (children's homes,
  secure homes, residential care homes and schools, supported accommodation), so the gap compares
  the children looked after on the date who are placed in a registered setting (their URN is in
  the register) with the register's places. Foster carers have no register; they appear in the
  "as local as possible" measure through the pool of foster placements in force (below).
- **Reaches** (where a place is, seen from a child): `council` = a setting in the child's own
  council (register LA); `within_20_miles` = a setting whose postcode sector is within 20 miles
  (straight line between sector centroids) of the child's home sector; `region` = a setting in any
  council of the data; `anywhere` = any setting in the register, including those out of region
  (register LA not a council of the data, e.g. "OUT").
- **Places free for the children in scope**: a setting's registered PLACES less the children of the
  903 looked after on the date who are placed there but are outside the scope (no needs assessment
  in force, a domain not rated, home sector unknown): their places are taken (`net_places`; a
  setting holding more such children than places counts as full, and is counted).
- **Placeable and shortfall**: for a group of children (a need profile in a council, a profile
  across the region, all profiles of a council, everyone), `placeable` is the largest number of
  them who could each be given a different suitable place within the reach at once if every place
  free for them (above) were theirs to take (a maximum flow: child -> suitable setting -> its
  free places); `shortfall` = children - placeable. **The shortfall is a lower bound** ("at least
  N"): places held by children of councils outside the data, and whether a place is vacant at all,
  are unknown, so every such place is counted as free; each group is judged alone; and the cost of
  distance within a reach is nil.
- **Matching rules** (`RULES`): `domain_alone` judges each domain by itself (for each domain, the
  children against the places whose capability meets that domain's intensity; the rule's shortfall
  is the largest over domains): the loosest rule, shown only for comparison. `every_domain` (the
  headline) asks a setting to meet the child's intensity in every domain at once. `all_needs` (the
  sensitivity analysis) asks it to meet every domain at once at the intensity *and* frequency
  required: the register rates one capability level (0-3) per domain, taken to cover needs up to
  that level both in severity and in how often they show, so a domain with a need (intensity 1+)
  requires capability max(intensity, frequency); a frequency not rated falls back to the
  intensity. Each rule is at least as strict as the one before, so its shortfall is at least as
  large. Each group is taken on its own, so groups compete only
  within themselves: shortfalls of different rows do not add up, and the whole-region row (all
  profiles, all councils) is the figure with everyone competing. `places_able` is the number of
  places in settings within the reach able to meet at least one child of the group.
- **Nearest suitable placement** ("as local as possible, as specialist as necessary"): for a child
  in a registered setting, the nearest register setting (from the home sector) that can meet their
  needs; for a child with a foster carer (PLACE U4-U6, no URN), the nearest placement in the pool
  of foster placements in force on the date (each at its PL_POST sector, with the capability of its
  placement agreement) that can meet their needs: carers in use are a proxy for the carers
  available (nobody records foster vacancies), and the child's own carer is in the pool. A child
  is *in the nearest suitable placement* when their placement meets their needs and is no more
  than `tolerance_miles` (default 1, the size of a postcode sector) further from home than the
  nearest suitable one. Whether a place is free is not known: the measure is about where suitable
  provision is, not about vacancies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from rcceval.derive.needs import capability, frequency_cols, intensity_cols
from rcceval.spec import codes
from rcceval.spec.datasets import NEED_TIERS
from rcceval.spec.instruments import Instrument

MILE = 1609.344
REACHES = ("council", "within_20_miles", "region", "anywhere")
REACH_LABELS = {"council": "Within the council", "within_20_miles": "Within 20 miles of home",
                "region": "In the region", "anywhere": "Anywhere (incl. out of region)"}
ALL = "all"
REGION = "Region"
CHUNK = 512
RULES = ("domain_alone", "every_domain", "all_needs")
RULE_LABELS = {"domain_alone": "Each domain judged alone (comparison)",
               "every_domain": "Every domain at once, intensity (headline)",
               "all_needs": "Every domain at once, intensity and frequency (sensitivity)"}
BOUND = "lower"   # every published shortfall is a lower bound: at least this many children


@dataclass(frozen=True)
class GapOptions:
    """Rules of the gap analysis (see the module doc)."""

    local_miles: float = 20.0
    tolerance_miles: float = 1.0
    min_age: dict = field(default_factory=lambda: {"H5": 16})
    restricted: tuple[str, ...] = ("K1",)
    foster_places: tuple[str, ...] = ("U4", "U5", "U6")


# ------------------------------------------------------------------------------- positions

def positions(postcodes: pd.Series, lookup: pd.DataFrame | None) -> np.ndarray:
    """(n, 2) easting and northing in metres of each postcode sector; NaN where unknown."""
    if lookup is None or lookup.empty:
        return np.full((len(postcodes), 2), np.nan)
    norm = lambda s: s.fillna("").astype(str).str.upper().str.replace(r"\s+", " ", regex=True).str.strip()
    pos = lookup.assign(_k=norm(lookup["POSTCODE"])).drop_duplicates("_k").set_index("_k")[["EASTING", "NORTHING"]]
    return pos.astype(float).reindex(norm(postcodes)).to_numpy()


def register_settings(register: pd.DataFrame | None, lookup: pd.DataFrame | None,
                      instrument: Instrument) -> tuple[pd.DataFrame, dict]:
    """The register's settings with X, Y (metres), PLACES and capability; and the counts left out.

    Settings with a capability domain missing are left out (they cannot be judged); settings with an
    unknown postcode sector are kept (X, Y missing: never within 20 miles, not in the nearest search).
    """
    cap = list(instrument.capability_columns)
    if register is None or register.empty:
        return pd.DataFrame(columns=["URN", "LA", "PLACE", "PLACES", "X", "Y", *cap]), {}
    reg = register.drop_duplicates("URN", keep="last").reset_index(drop=True)
    xy = positions(reg["POSTCODE"], lookup)
    out = pd.DataFrame({"URN": reg["URN"], "LA": reg["LA"], "PLACE": reg["PLACE"], "POSTCODE": reg["POSTCODE"],
                        "PLACES": pd.to_numeric(reg["PLACES"], errors="coerce").fillna(0).astype(int),
                        "X": xy[:, 0], "Y": xy[:, 1]})
    for c in cap:
        out[c] = pd.to_numeric(reg[c], errors="coerce").astype(float) if c in reg.columns else np.nan
    missing = out[cap].isna().any(axis=1)
    excluded = {"settings with a capability missing": int(missing.sum()),
                "settings with an unknown postcode sector": int(np.isnan(out["X"]).sum())}
    return out.loc[~missing].reset_index(drop=True), excluded


# ------------------------------------------------------------------------------ eligibility

def can_meet(needs: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """(n, m): capability >= need in every domain (needs (n, d), caps (m, d), no missing values)."""
    out = np.empty((len(needs), len(caps)), dtype=bool)
    for lo in range(0, len(needs), CHUNK):
        out[lo:lo + CHUNK] = (caps[None, :, :] >= needs[lo:lo + CHUNK, None, :]).all(axis=2)
    return out


def requirements(children: pd.DataFrame, instrument: Instrument, rule: str = "every_domain") -> np.ndarray:
    """(n, d) capability each child requires in each domain under a matching rule (see the module doc):
    the intensity; under `all_needs`, max(intensity, frequency) where the intensity is 1 or more."""
    need = children[intensity_cols(instrument)].to_numpy(float)
    if rule != "all_needs":
        return need
    freq = children[frequency_cols(instrument)].to_numpy(float) if set(frequency_cols(instrument)) <= set(
        children.columns) else np.full_like(need, np.nan)
    return np.where(need >= 1, np.fmax(need, freq), need)


def eligible(children: pd.DataFrame, settings: pd.DataFrame, instrument: Instrument,
             options: GapOptions = GapOptions(), rule: str = "every_domain",
             domains: list[int] | None = None) -> np.ndarray:
    """(n children, m settings): the setting can meet the child's needs under `rule` (in the domains
    given, every domain by default) and may take the child (age and secure-care rules).

    Computed once per distinct profile (the required levels, and the age and secure-care flags the
    rules read), then spread to the children holding it.
    """
    req = requirements(children, instrument, rule)
    caps = settings[list(instrument.capability_columns)].to_numpy(float)
    if domains is not None:
        req, caps = req[:, domains], caps[:, domains]
    place = settings["PLACE"].to_numpy()
    age = children["AGE"].to_numpy(float) if len(children) else np.zeros(0)
    flags = [age >= a for a in options.min_age.values()] + \
            [children["PLACE"].to_numpy() == code for code in options.restricted]
    key = np.column_stack([req, *[f.astype(float) for f in flags]]) if len(children) else np.zeros((0, req.shape[1]))
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    ok = can_meet(uniq[:, :req.shape[1]], caps)
    col = req.shape[1]
    for code in options.min_age:
        cols = place == code
        if cols.any():
            ok[:, cols] &= uniq[:, col].astype(bool)[:, None]
        col += 1
    for code in options.restricted:
        cols = place == code
        if cols.any():
            ok[:, cols] &= uniq[:, col].astype(bool)[:, None]
        col += 1
    return ok[inverse]


def miles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) straight-line miles between points a (n, 2) and b (m, 2) in metres (NaN if unknown)."""
    d = a[:, None, :] - b[None, :, :]
    return np.sqrt((d ** 2).sum(axis=2)) / MILE


def reach_masks(children: pd.DataFrame, settings: pd.DataFrame, councils: list[str],
                options: GapOptions = GapOptions()) -> dict[str, np.ndarray]:
    """(n, m) masks of the four reaches (see the module doc)."""
    la = settings["LA"].to_numpy()
    dist = miles(children[["X", "Y"]].to_numpy(float), settings[["X", "Y"]].to_numpy(float))
    with np.errstate(invalid="ignore"):
        local = dist <= options.local_miles
    n = len(children)
    return {"council": children["LA"].to_numpy()[:, None] == la[None, :],
            "within_20_miles": local,
            "region": np.broadcast_to(np.isin(la, councils)[None, :], (n, len(la))),
            "anywhere": np.ones((n, len(la)), dtype=bool)}


# -------------------------------------------------------------------------------- max flow

def max_placeable(edges: np.ndarray, places: np.ndarray) -> int:
    """Largest number of children (rows) who can each get a different place: edges (n, m) says which
    settings can take which child, places (m,) how many children each setting can take.

    A maximum flow source -> child (1) -> setting (1) -> sink (places). Children with identical rows
    are merged into one node of capacity = their number (the same flow value, fewer nodes).
    """
    places = np.asarray(places, dtype=np.int64)
    edges = edges[:, places > 0]
    places = places[places > 0]
    edges = edges[edges.any(axis=1)]
    if edges.size == 0:
        return 0
    used = edges.any(axis=0)
    edges, places = edges[:, used], places[used]
    uniq, counts = np.unique(np.packbits(edges, axis=1), axis=0, return_counts=True)
    e = np.unpackbits(uniq, axis=1, count=edges.shape[1]).astype(bool)
    k, m = e.shape
    r, c = np.nonzero(e)
    sink = k + m + 1
    rows = np.concatenate([np.zeros(k, np.int64), 1 + r, 1 + k + np.arange(m)])
    cols = np.concatenate([1 + np.arange(k), 1 + k + c, np.full(m, sink)])
    cap = np.concatenate([counts, counts[r], places]).astype(np.int32)
    graph = csr_matrix((cap, (rows, cols)), shape=(sink + 1, sink + 1))
    return int(maximum_flow(graph, 0, sink, method="dinic").flow_value)


# ------------------------------------------------------------------------------------- gap

@dataclass
class GapResult:
    """The gap by need profile, area and reach; every shortfall a lower bound (BOUND, see the module doc).

    children: children in scope, council (rows) by profile (columns), for a crosstab;
    cells: one row per REACH, PROFILE (tiers and 'all') and AREA (councils and 'Region') with
    children, placeable, shortfall (headline rule, every domain at once), shortfall_all_needs (the
    sensitivity rule: intensity and frequency) and places_able (free places able to meet at least one
    child of the group); rules: the whole region (all profiles) by REACH and rule (RULES): children,
    shortfall; occupancy: the places netted out (net_places); excluded: children left out, by reason.
    """

    children: pd.DataFrame
    cells: pd.DataFrame
    excluded: pd.DataFrame
    rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["REACH", "rule", "children", "shortfall"]))
    occupancy: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["measure", "value"]))
    bound: str = BOUND

    def shortfall(self, reach: str, column: str = "shortfall") -> pd.DataFrame:
        """Shortfall of one reach: areas (rows) by profiles (columns)."""
        c = self.cells.loc[self.cells["REACH"].eq(reach)]
        return c.pivot(index="AREA", columns="PROFILE", values=column)

    def to_dict(self) -> dict:
        out: dict = {"bound": self.bound}
        for reach in REACHES:
            c = self.cells.loc[self.cells["REACH"].eq(reach)]
            out[reach] = {p: dict(zip(g["AREA"], g["shortfall"])) for p, g in c.groupby("PROFILE", sort=False)}
        return out


def gap_children(current: pd.DataFrame, settings: pd.DataFrame, lookup: pd.DataFrame | None,
                 instrument: Instrument) -> tuple[pd.DataFrame, dict]:
    """Children in scope of the gap (placed in a registered setting on the date), with home X, Y;
    and the counts left out by reason (no needs in force, a domain not rated, home sector unknown)."""
    in_reg = current.loc[current["URN"].ne(codes.NO_URN) & current["URN"].isin(set(settings["URN"]))].copy()
    xy = positions(in_reg["HOME_POST"], lookup)
    in_reg["X"], in_reg["Y"] = xy[:, 0], xy[:, 1]
    icols = intensity_cols(instrument)
    no_needs = in_reg["PROFILE"].isin(NEED_TIERS).eq(False)
    part = ~no_needs & in_reg[icols].isna().any(axis=1)
    no_home = ~no_needs & ~part & np.isnan(in_reg["X"].to_numpy())
    excluded = {"no needs assessment in force": int(no_needs.sum()), "a need domain not rated": int(part.sum()),
                "home postcode sector unknown": int(no_home.sum())}
    keep = ~(no_needs | part | no_home)
    return in_reg.loc[keep].reset_index(drop=True), excluded


def net_places(settings: pd.DataFrame, current: pd.DataFrame, in_scope: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Settings with PLACES_FREE: registered PLACES less the children looked after on the date (current:
    LA, CHILD, URN, from the 903 episodes open on it) placed there who are outside the scope (not in
    in_scope, LA and CHILD); never below 0. Also the table of what was netted out (measure, value)."""
    key = ["LA", "CHILD"]
    mine = pd.MultiIndex.from_frame(in_scope[key].astype(str)) if len(in_scope) else pd.MultiIndex.from_tuples([], names=key)
    cur = current.loc[current["URN"].ne(codes.NO_URN) & current["URN"].isin(set(settings["URN"]))]
    outside = cur.loc[~pd.MultiIndex.from_frame(cur[key].astype(str)).isin(mine)]
    held = outside.groupby("URN").size().reindex(settings["URN"]).fillna(0).astype(int).to_numpy()
    places = settings["PLACES"].to_numpy(np.int64)
    out = settings.assign(OCCUPIED_OUT_OF_SCOPE=held, PLACES_FREE=np.clip(places - held, 0, None))
    netted = np.minimum(held, places)
    table = pd.DataFrame({"measure": ["register places", "children outside the scope in registered settings",
                                      "places netted out (held by children outside the scope)",
                                      "settings holding more such children than places",
                                      "places free for the children in scope"],
                          "value": [int(places.sum()), int(len(outside)), int(netted.sum()),
                                    int((held > places).sum()), int(out["PLACES_FREE"].sum())]})
    return out, table


def domain_alone_shortfall(children: pd.DataFrame, settings: pd.DataFrame, instrument: Instrument,
                           places: np.ndarray, mask: np.ndarray | None = None,
                           options: GapOptions = GapOptions()) -> int:
    """The shortfall with each domain judged alone: the largest over domains of the children who cannot
    each get a different place meeting that one domain's intensity (mask: (n, m) reach)."""
    worst = 0
    for d in range(len(instrument.domain_ids)):
        edges = eligible(children, settings, instrument, options, "every_domain", [d])
        if mask is not None:
            edges &= mask
        worst = max(worst, len(children) - max_placeable(edges, places))
    return worst


def gap_analysis(children: pd.DataFrame, settings: pd.DataFrame, instrument: Instrument, councils: list[str],
                 options: GapOptions = GapOptions(), excluded: dict | None = None,
                 occupancy: pd.DataFrame | None = None) -> GapResult:
    """Children of each need profile and council against the places able to meet them, at each reach.

    children: LA, PROFILE, AGE, PLACE, X, Y (home, metres), I_<domain> (and F_<domain> for the all-needs
    rule); settings: LA, PLACE, PLACES (or PLACES_FREE, from net_places), X, Y and CAP_<DOMAIN>
    (register_settings). See the module doc for every definition.
    """
    children = children.reset_index(drop=True)
    ok = {rule: eligible(children, settings, instrument, options, rule) for rule in ("every_domain", "all_needs")}
    masks = reach_masks(children, settings, councils, options)
    col = "PLACES_FREE" if "PLACES_FREE" in settings.columns else "PLACES"
    places = settings[col].to_numpy(np.int64)
    la, prof = children["LA"].to_numpy(), children["PROFILE"].to_numpy()
    rows, rules = [], []
    for reach in REACHES:
        edges = ok["every_domain"] & masks[reach]
        joint = ok["all_needs"] & masks[reach]
        for area in [*councils, REGION]:
            in_area = np.ones(len(children), bool) if area == REGION else la == area
            for profile in [*NEED_TIERS, ALL]:
                sel = in_area & (True if profile == ALL else prof == profile)
                sub = edges[sel]
                n = int(sel.sum())
                placeable = max_placeable(sub, places) if n else 0
                joint_placeable = max_placeable(joint[sel], places) if n else 0
                able = int(places[sub.any(axis=0)].sum()) if n else 0
                rows.append({"REACH": reach, "PROFILE": profile, "AREA": area, "children": n,
                             "placeable": placeable, "shortfall": n - placeable,
                             "shortfall_all_needs": n - joint_placeable, "places_able": able})
        n = len(children)
        alone = domain_alone_shortfall(children, settings, instrument, places, masks[reach], options) if n else 0
        whole = rows[-1]
        rules += [{"REACH": reach, "rule": r, "children": n, "shortfall": v}
                  for r, v in zip(RULES, (alone, whole["shortfall"], whole["shortfall_all_needs"]))]
    cells = pd.DataFrame(rows)
    counts = children.groupby(["LA", "PROFILE"]).size().unstack("PROFILE")
    counts = counts.reindex(index=councils, columns=list(NEED_TIERS)).fillna(0).astype(int)
    counts.columns.name, counts.index.name = None, None
    ex = pd.DataFrame({"reason": list((excluded or {}).keys()), "children": list((excluded or {}).values())})
    occ = occupancy if occupancy is not None else pd.DataFrame(columns=["measure", "value"])
    return GapResult(counts, cells, ex, pd.DataFrame(rules), occ)


# ------------------------------------------------------------------------------ provision

def provision_by_type(settings: pd.DataFrame, councils: list[str]) -> pd.DataFrame:
    """Places (and settings) by area (councils, then 'Out of region') and setting type."""
    area = np.where(settings["LA"].isin(councils), settings["LA"], "Out of region")
    t = settings.assign(AREA=area).pivot_table(index="AREA", columns="PLACE", values="PLACES", aggfunc="sum",
                                               fill_value=0)
    t = t.reindex([*[c for c in councils if c in t.index], *(["Out of region"] if "Out of region" in t.index else [])])
    t.columns = [f"{c} places" for c in t.columns]
    t["all places"] = t.sum(axis=1)
    t["settings"] = settings.assign(AREA=area).groupby("AREA").size().reindex(t.index).fillna(0).astype(int)
    t.index.name = "area"
    return t


def provision_by_capability(settings: pd.DataFrame, councils: list[str], instrument: Instrument) -> pd.DataFrame:
    """Places able to meet moderate (2+) and high (3) intensity in each domain, in and out of region."""
    inside = settings["LA"].isin(councils).to_numpy()
    rows = []
    for d, c in zip(instrument.domain_ids, instrument.capability_columns):
        cap = settings[c].to_numpy(float)
        p = settings["PLACES"].to_numpy()
        rows.append({"domain": d,
                     "region places, moderate (2+)": int(p[inside & (cap >= 2)].sum()),
                     "region places, high (3)": int(p[inside & (cap >= 3)].sum()),
                     "out of region places, moderate (2+)": int(p[~inside & (cap >= 2)].sum()),
                     "out of region places, high (3)": int(p[~inside & (cap >= 3)].sum())})
    return pd.DataFrame(rows).set_index("domain")


def provision_points(settings: pd.DataFrame, councils: list[str]) -> pd.DataFrame:
    """Register places by postcode sector and setting type with the sector's position (public data)."""
    s = settings.dropna(subset=["X"])
    out = s.groupby(["POSTCODE", "PLACE"], as_index=False).agg(X=("X", "first"), Y=("Y", "first"),
                                                              places=("PLACES", "sum"), settings=("URN", "size"))
    out["in_region"] = out["POSTCODE"].isin(set(s.loc[s["LA"].isin(councils), "POSTCODE"]))
    return out


def council_centres(settings: pd.DataFrame, councils: list[str]) -> pd.DataFrame:
    """Mean position of each council's register settings (for labelling a map)."""
    s = settings.loc[settings["LA"].isin(councils)].dropna(subset=["X"])
    return s.groupby("LA", as_index=False)[["X", "Y"]].mean()


# ------------------------------------------------------------------- as local as possible

CATEGORIES = {
    "nearest": "In the nearest suitable placement (needs met)",
    "met_up_to_5": "Needs met; a suitable placement 1-5 miles nearer home",
    "met_5_to_20": "Needs met; a suitable placement 5-20 miles nearer home",
    "met_over_20": "Needs met; a suitable placement over 20 miles nearer home",
    "unmet_local": "Needs not met; a suitable placement within 20 miles of home",
    "unmet_far": "Needs not met; the nearest suitable placement over 20 miles from home",
    "unmet_none": "Needs not met; no suitable placement",
}


def nearest_suitable(children: pd.DataFrame, candidates: pd.DataFrame, instrument: Instrument,
                     options: GapOptions = GapOptions()) -> pd.DataFrame:
    """Per child (internal): NEAREST_MILES to the nearest candidate able to meet their needs (NaN: none),
    OWN_MILES home to own placement, OWN_MET (own capability meets every need), IN_NEAREST,
    EXTRA_MILES (own minus nearest) and CATEGORY (keys of CATEGORIES).

    children: X, Y (home), PX, PY (own placement), I_<domain>, OWN_CAP_<DOMAIN>, AGE, PLACE;
    candidates: X, Y, PLACE and CAP_<DOMAIN> (register settings or the foster pool). Vectorised in
    chunks of children.
    """
    children = children.reset_index(drop=True)
    cand = candidates.dropna(subset=["X", "Y"]).reset_index(drop=True)
    home = children[["X", "Y"]].to_numpy(float)
    nearest = np.full(len(children), np.nan)
    cxy = cand[["X", "Y"]].to_numpy(float)
    for lo in range(0, len(children), CHUNK):
        part = children.iloc[lo:lo + CHUNK]
        ok = eligible(part, cand, instrument, options)
        d = np.where(ok, miles(home[lo:lo + CHUNK], cxy), np.inf)
        best = d.min(axis=1) if d.shape[1] else np.full(len(part), np.inf)
        nearest[lo:lo + CHUNK] = np.where(np.isfinite(best), best, np.nan)
    own_cap = children[[f"OWN_{c}" for c in instrument.capability_columns]].to_numpy(float)
    need = children[intensity_cols(instrument)].to_numpy(float)
    own_met = (own_cap >= need).all(axis=1)
    own = np.sqrt(((home - children[["PX", "PY"]].to_numpy(float)) ** 2).sum(axis=1)) / MILE
    # the child's own placement counts among the suitable ones when it meets their needs
    nearest = np.where(own_met, np.fmin(nearest, own), nearest)
    extra = own - nearest
    tol = options.tolerance_miles
    in_nearest = own_met & (extra <= tol)
    cat = np.select(
        [in_nearest, own_met & (extra <= 5), own_met & (extra <= 20), own_met,
         np.isnan(nearest), nearest <= options.local_miles],
        ["nearest", "met_up_to_5", "met_5_to_20", "met_over_20", "unmet_none", "unmet_local"], "unmet_far")
    return pd.DataFrame({"NEAREST_MILES": nearest, "OWN_MILES": own, "OWN_MET": own_met, "IN_NEAREST": in_nearest,
                         "EXTRA_MILES": extra, "CATEGORY": cat,
                         "MET_LOCALLY": own_met & (own <= options.local_miles)}, index=children.index)


def local_children(current: pd.DataFrame, settings: pd.DataFrame, lookup: pd.DataFrame | None,
                   register: pd.DataFrame | None, agreements: pd.DataFrame | None, instrument: Instrument,
                   options: GapOptions = GapOptions()) -> tuple[dict[str, tuple[pd.DataFrame, pd.DataFrame]], dict]:
    """The two markets of the nearest-suitable measure: {market: (children, candidates)} and the counts
    of children left out (needs, home, placement position or capability unknown), by market.

    registered: children in a registered setting; candidates the register's settings; the child's
    own placement is its setting (position and capability from the register).
    foster: children with a foster carer (PLACE in options.foster_places, no URN); candidates the
    foster placements in force on the date with a known sector and agreement capability.
    """
    cap = list(instrument.capability_columns)
    icols = intensity_cols(instrument)
    cur = current.reset_index(drop=True).copy()
    xy = positions(cur["HOME_POST"], lookup)
    cur["X"], cur["Y"] = xy[:, 0], xy[:, 1]
    pxy = positions(cur["PL_POST"], lookup)
    cur["PX"], cur["PY"] = pxy[:, 0], pxy[:, 1]
    own = capability(cur, instrument, register, agreements)
    for c in cap:
        cur[f"OWN_{c}"] = own[c].to_numpy(float)
    reg_idx = settings.set_index("URN")
    registered = cur["URN"].ne(codes.NO_URN) & cur["URN"].isin(reg_idx.index)
    r = cur.loc[registered].copy()
    rows = reg_idx.reindex(r["URN"])
    r["PX"], r["PY"] = rows["X"].to_numpy(float), rows["Y"].to_numpy(float)
    foster = cur["PLACE"].isin(options.foster_places) & cur["URN"].eq(codes.NO_URN)
    f = cur.loc[foster].copy()
    pool = f.dropna(subset=["PX", "PY"] + [f"OWN_{c}" for c in cap])
    pool = pd.DataFrame({"X": pool["PX"], "Y": pool["PY"], "PLACE": pool["PLACE"], "PLACES": 1,
                         "LA": pool["LA"], **{c: pool[f"OWN_{c}"] for c in cap}}).reset_index(drop=True)
    out, excluded = {}, {}
    for market, kids, cands in (("registered", r, settings), ("foster", f, pool)):
        no_needs = ~kids["PROFILE"].isin(NEED_TIERS) | kids[icols].isna().any(axis=1)
        no_pos = ~no_needs & kids[["X", "Y", "PX", "PY"]].isna().any(axis=1)
        no_cap = ~no_needs & ~no_pos & kids[[f"OWN_{c}" for c in cap]].isna().any(axis=1)
        excluded[market] = {"no needs assessment in force (or a domain not rated)": int(no_needs.sum()),
                            "home or placement sector unknown": int(no_pos.sum()),
                            "placement capability unknown": int(no_cap.sum())}
        out[market] = (kids.loc[~(no_needs | no_pos | no_cap)].reset_index(drop=True), cands)
    return out, excluded


@dataclass
class LocalResult:
    """'As local as possible, as specialist as necessary', by market (registered, foster).

    categories: market, category, label, children, percent (of the market's children);
    by_profile: market, profile, children, in_nearest, pct_in_nearest, met_locally, pct_met_locally
    (met_locally: placement meets every need and is within 20 miles of home); extra_miles: market,
    median_extra_miles (own minus nearest, children not in the nearest suitable placement whose
    needs are met), median_nearest_miles_unmet (home to the nearest suitable, needs not met).
    """

    categories: pd.DataFrame
    by_profile: pd.DataFrame
    extra_miles: pd.DataFrame

    def to_dict(self) -> dict:
        all_rows = self.by_profile.loc[self.by_profile["profile"].eq(ALL)].set_index("market")
        return {"pct_in_nearest_suitable": all_rows["pct_in_nearest"].to_dict(),
                "pct_placed_locally_needs_met": all_rows["pct_met_locally"].to_dict()}


def local_summary(per_child: dict[str, tuple[pd.DataFrame, pd.DataFrame]]) -> LocalResult:
    """Aggregate the per-child nearest-suitable results of each market (child frames hold PROFILE)."""
    cats, profs, extra = [], [], []
    for market, (kids, res) in per_child.items():
        n = len(res)
        counts = res["CATEGORY"].value_counts().reindex(list(CATEGORIES), fill_value=0)
        cats.append(pd.DataFrame({"market": market, "category": counts.index,
                                  "label": [CATEGORIES[c] for c in counts.index], "children": counts.to_numpy(),
                                  "percent": (100 * counts.to_numpy() / max(n, 1)).round(1)}))
        frame = res.assign(PROFILE=kids["PROFILE"].to_numpy())
        for profile in [*NEED_TIERS, ALL]:
            sub = frame if profile == ALL else frame.loc[frame["PROFILE"].eq(profile)]
            k = len(sub)
            profs.append({"market": market, "profile": profile, "children": k,
                          "in_nearest": int(sub["IN_NEAREST"].sum()),
                          "pct_in_nearest": round(100 * sub["IN_NEAREST"].mean(), 1) if k else np.nan,
                          "met_locally": int(sub["MET_LOCALLY"].sum()),
                          "pct_met_locally": round(100 * sub["MET_LOCALLY"].mean(), 1) if k else np.nan})
        met_not_nearest = res.loc[res["OWN_MET"] & ~res["IN_NEAREST"], "EXTRA_MILES"]
        unmet = res.loc[~res["OWN_MET"], "NEAREST_MILES"].dropna()
        median = lambda s: round(float(s.median()), 1) if len(s) else np.nan
        extra.append({"market": market, "children_met_not_nearest": len(met_not_nearest),
                      "median_extra_miles": median(met_not_nearest), "children_unmet_with_suitable": len(unmet),
                      "median_nearest_miles_unmet": median(unmet)})
    return LocalResult(pd.concat(cats, ignore_index=True), pd.DataFrame(profs), pd.DataFrame(extra))
