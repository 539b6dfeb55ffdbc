"""A hand-made council-year pair (2023 and 2024) with one child built to trip each of many DfE rules.

Each deliberate child is named after the rule it is built to trip ("r101" trips dfe.101), so a test
can say, from the fixture alone, on which file and row each rule must be reported. Children named
"ok…" are clean fillers. Collection year 2024: 1 April 2023 to 31 March 2024.
"""
from __future__ import annotations

from pathlib import Path

HEADER_COLS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
EPISODE_COLS = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]
OC2_COLS = ["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
            "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"]
UASC_COLS = ["CHILD", "SEX", "DOB", "DUC"]
HOME, PLACED = "SW1A 1AA", "SW1A 2AA"  # real Westminster postcodes


def h(child: str, **kw: str) -> dict:
    return {"CHILD": child, "SEX": "1", "DOB": "01/01/2012", "ETHNIC": "WBRI", "UPN": "UN1", "MOTHER": "",
            "MC_DOB": "", **kw}


def e(child: str, decom: str = "01/05/2023", rne: str = "S", **kw: str) -> dict:
    return {"CHILD": child, "DECOM": decom, "RNE": rne, "LS": "C2", "CIN": "N1", "PLACE": "U4",
            "PLACE_PROVIDER": "PR1", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "", "HOME_POST": HOME,
            "PL_POST": PLACED, "URN": "XXXXXXX", **kw}


def o(child: str, dob: str = "01/01/2012", **kw: str) -> dict:
    return {"CHILD": child, "DOB": dob, "SDQ_SCORE": "10", "SDQ_REASON": "", "CONVICTED": "0", "HEALTH_CHECK": "",
            "IMMUNISATIONS": "1", "TEETH_CHECK": "1", "HEALTH_ASSESSMENT": "1", "SUBSTANCE_MISUSE": "0",
            "INTERVENTION_RECEIVED": "", "INTERVENTION_OFFERED": "", **kw}


def _e(child, decom="01/05/2023", rne="S", dec="", rec="", **kw):
    return e(child, decom, rne, DEC=dec, REC=rec, **kw)


# --- previous year (2023): the open episodes that this year's first episodes must continue ---
PREV_HEADER = [h("ok1"), h("ok2", SEX="2", DOB="01/06/2010", MOTHER="0"),
               h("r202"), h("r204"), h("r208", UPN="UN2"),
               h("r502"), h("r503A"), h("r503B"), h("r503C"), h("r503D"), h("r503E")]
PREV_EPISODES = [_e("ok1", "01/05/2022"), _e("ok2", "01/06/2022"),
                 _e("r202", "01/05/2022"), _e("r204", "01/05/2022"), _e("r208", "01/05/2022"),
                 _e("r502", "01/05/2022"), _e("r503A", "01/05/2022"), _e("r503B", "01/05/2022"),
                 _e("r503C", "01/05/2022"), _e("r503D", "01/05/2022"), _e("r503E", "01/05/2022")]

# --- this year (2024) ---
HEADER = [
    h("ok1"), h("ok2", SEX="2", DOB="01/06/2010", MOTHER="0"),
    h("r101", SEX="3"),                                   # SEX not a code
    h("r103", ETHNIC="XXXX"),                             # ETHNIC not a code
    h("r168", UPN="BAD"),                                 # UPN not valid
    h("r174", DOB="01/01/2005", MC_DOB="01/01/2022"),    # a boy with a child's DOB
    h("r611", SEX="2", DOB="01/01/2005", MOTHER="1"),     # a mother, no MC_DOB
    h("r612", SEX="2", DOB="01/01/2005", MOTHER="0", MC_DOB="01/01/2022"),  # MC_DOB but not a mother
    h("r620", SEX="2", DOB="01/01/2015", MOTHER="1", MC_DOB="01/01/2023"),  # a mother under 11
    h("r621", SEX="2", DOB="01/01/2006", MOTHER="1", MC_DOB="01/01/2004"),  # her child born before her
    h("rINT32"), h("rINT32"),                             # one child twice
    h("r202", SEX="2"),                                   # SEX changed from last year
    h("r204", ETHNIC="WIRI"),                             # ETHNIC changed from last year
    h("r208", UPN="UN3"),                                 # UPN changed from last year
    h("r502"), h("r503A"), h("r503B"), h("r503C"), h("r503D"), h("r503E"),
    h("r143"), h("r144"), h("r145"), h("r146"), h("r148"), h("r149"), h("r142"),
    h("r356"), h("r355"), h("r385"), h("r354"), h("r302", DOB="01/06/2023"), h("r361"), h("r362"), h("r363"),
    h("r365"),
    h("r379"), h("r375"), h("r381"), h("r389"), h("r386", DOB="01/01/2005"),
    h("r460"), h("r408"), h("r445"), h("r435"), h("r436"), h("r434"), h("r501"), h("r392c"), h("r392d"),
    h("r222"), h("r213"), h("r357"), h("rNoE"), h("r217t"), h("r378"), h("r225"), h("r353"),
    h("r542", DOB="01/01/2016"), h("r181"), h("r189", DOB="01/01/2006"), h("r192"), h("r546"),
    h("r304", DOB="01/01/2005"), h("rINT21", SEX="1"), h("rINT18"),
]
EPISODES = [
    _e("ok1", "01/05/2022"), _e("ok2", "01/06/2022"),
    _e("r101"), _e("r103"), _e("r168"), _e("r174"), _e("r611"), _e("r612"),
    _e("r620"), _e("r621"), _e("rINT32"),
    _e("r202", "01/05/2022"), _e("r204", "01/05/2022"), _e("r208", "01/05/2022"),
    _e("r502", "01/06/2022"),                                  # start differs from last year's open episode
    _e("r503A", "01/05/2022", "P"), _e("r503B", "01/05/2022", LS="C1"), _e("r503C", "01/05/2022", CIN="N2"),
    _e("r503D", "01/05/2022", PLACE="U5"), _e("r503E", "01/05/2022", PLACE_PROVIDER="PR2"),
    _e("r143", rne="Z"), _e("r144", LS="ZZ"), _e("r145", CIN="N9"), _e("r146", PLACE="ZZ"),
    _e("r148", dec="01/08/2023"),                              # DEC without REC
    _e("r149", dec="01/08/2023", rec="E99"),                   # REC not a code
    _e("r142"), _e("r142", "01/08/2023", "P", PLACE="U5"),     # the first never ends
    _e("r356", "01/08/2023", dec="01/06/2023", rec="E8"),      # ends before it starts
    _e("r355", "01/08/2023", dec="01/08/2023", rec="E8"),      # under 24 hours
    _e("r385", "01/05/2023", dec="01/05/2024", rec="E8"),      # ends after the year
    _e("r354", "01/05/2024"),                                  # starts after the year
    _e("r302", "01/05/2023"),                                  # starts before birth
    _e("r361", LS="L1", dec="10/05/2023", rec="E8"),           # police protection 9 days
    _e("r362", LS="L2", dec="01/07/2023", rec="E8"),           # EPO two months
    _e("r363", LS="L3", dec="01/06/2023", rec="E8"),           # CAO a month
    _e("r365", LS="V3", dec="01/07/2023", rec="E8"),           # a respite break of two months
    _e("r379", PLACE="T4", dec="01/07/2023", rec="X1", REASON_PLACE_CHANGE="CARPL"),
    _e("r379", "01/07/2023", "P", PLACE="U4"),                 # T4 for two months
    _e("r375", PLACE="T1", dec="01/09/2023", rec="X1", REASON_PLACE_CHANGE="CARPL"),
    _e("r375", "01/09/2023", "P", PLACE="U4"),                 # hospital four months
    _e("r381", PLACE="T2", dec="03/05/2023", rec="E8"),        # care ends in a temporary placement
    _e("r389", dec="01/08/2023", rec="E7"),                    # to adult social care at 11
    _e("r386", dec="01/08/2023", rec="E11"),                   # adopted at 18
    _e("r460", dec="01/08/2023", rec="E17"),                   # stayed put at 11
    _e("r408", PLACE="A5", LS="C2"),                           # placed for adoption without E1
    _e("r445", "01/05/2023", LS="D1"),                         # a freeing order after 2005
    _e("r435", dec="01/08/2023", rec="X1", REASON_PLACE_CHANGE="CARPL"), _e("r435", "01/08/2023", "P"),
    _e("r436", dec="01/08/2023", rec="X1", REASON_PLACE_CHANGE="CARPL"), _e("r436", "01/08/2023", "B", PLACE="U5"),
    _e("r434", dec="01/08/2023", rec="X1"), _e("r434", "01/08/2023", "L", PL_POST="SW1A 0AA"),
    _e("r501", dec="01/09/2023", rec="X1", REASON_PLACE_CHANGE="CARPL"),
    _e("r501", "01/08/2023", "P", PLACE="U5"),                 # starts before the previous ends
    _e("r392c", PL_POST="ZZ9 9ZZ"),                            # no such postcode
    _e("r392d", PL_POST=HOME),                                 # placed at home but not P1
    _e("r222", PLACE="R1", URN="1234567"),                     # a URN for a placement with none
    _e("r213", PLACE="T0"),                                    # a provider for a temporary placement
    _e("r357", rne="P"),                                       # first episode ever, not S
    _e("rNoE", "01/05/2022"),                                  # in care last year, no episode there
    _e("r217t", "01/11/2023", PLACE="P2"),                     # P2 after 28 October 2023
    _e("r378", PLACE="P1", LS="V2"),                           # with parents under section 20
    _e("r225", dec="01/08/2023", rec="X1"), _e("r225", "01/08/2023", "P", PLACE="U5"),  # no reason for change
    _e("r353", "01/05/1990"),                                  # before 14 October 1991
    _e("rINT03"),                                              # no header row
    _e("r542", "01/05/2022"), _e("r181", "01/05/2022"), _e("r189", "01/05/2022"), _e("r192", "01/05/2022"),
    _e("r546", "01/05/2022"),
    _e("r304"), _e("rINT21"), _e("rINT18"),
]
OC2 = [
    o("ok1"),
    o("r542", "01/01/2016", CONVICTED="1"),                    # a conviction at 8
    o("r181", CONVICTED="5"),                                  # not 0 or 1
    o("r189", "01/01/2006", SDQ_SCORE="12"),                   # an SDQ at 17
    o("r192", SUBSTANCE_MISUSE="1", INTERVENTION_RECEIVED=""),  # misuse, nothing on intervention
    o("r546", HEALTH_CHECK="1"),                               # health promotion at 11
    o("rINT05"),                                               # no header row
]
UASC = [
    {"CHILD": "r304", "SEX": "1", "DOB": "01/01/2005", "DUC": "01/06/2024"},  # ceased after 18th birthday
    {"CHILD": "rINT21", "SEX": "2", "DOB": "01/01/2012", "DUC": ""},          # SEX differs from header
    {"CHILD": "rINT18", "SEX": "1", "DOB": "02/02/2012", "DUC": ""},          # DOB differs from header
]

# --- a second council: dates that are not dates (one unreadable DECOM stops some DfE rules running for
# its whole council-year, so these are kept apart from the rest) ---
BAD_HEADER = [h("ok1"), h("r102", DOB="31/02/2012"), h("r141"), h("r147"),
              h("r171", SEX="2", DOB="01/01/2005", MOTHER="1", MC_DOB="99/99/2020"), h("r104")]
BAD_EPISODES = [_e("ok1"), _e("r102"),
                _e("r141", "32/13/2023"),                      # DECOM not a date
                _e("r147", dec="31/31/2023", rec="E8"),        # DEC not a date
                _e("r171"), _e("r104")]
BAD_UASC = [{"CHILD": "r104", "SEX": "1", "DOB": "01/01/2012", "DUC": "45/45/2023"}]  # DUC not a date

LA, BAD_LA, YEAR = "E09000033", "E09000007", 2024  # Westminster (the postcodes' council), Camden
RETURNS = {
    (LA, YEAR - 1): {"header": (HEADER_COLS, PREV_HEADER), "episodes": (EPISODE_COLS, PREV_EPISODES)},
    (LA, YEAR): {"header": (HEADER_COLS, HEADER), "episodes": (EPISODE_COLS, EPISODES), "oc2": (OC2_COLS, OC2),
                 "uasc": (UASC_COLS, UASC)},
    (BAD_LA, YEAR): {"header": (HEADER_COLS, BAD_HEADER), "episodes": (EPISODE_COLS, BAD_EPISODES),
                     "uasc": (UASC_COLS, BAD_UASC)},
}


def write(root: Path) -> Path:
    """Write every council-year under root/<LA>/<year>/ and return root."""
    for (la, year), files in RETURNS.items():
        folder = root / la / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        for kind, (cols, rows) in files.items():
            lines = [",".join(cols)] + [",".join(r[c] for c in cols) for r in rows]
            (folder / f"{kind}.csv").write_text("\n".join(lines) + "\n")
    return root


def where(child: str) -> list[tuple[str, int]]:
    """(file relative to the root, spreadsheet row: the header line is row 1) of every row of a child."""
    return [(f"{la}/{year}/{kind}.csv", i + 2) for (la, year), files in RETURNS.items()
            for kind, (_, rows) in files.items() for i, r in enumerate(rows) if r["CHILD"] == child]
