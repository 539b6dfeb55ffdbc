"""Write small hand-made 903 returns for tests."""
from __future__ import annotations

from pathlib import Path

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"


def ep(child: str, decom: str, rne: str, dec: str = "", rec: str = "", rpc: str = "", place: str = "U6",
       ls: str = "C2", urn: str = "XXXXXXX", provider: str = "PR1", cin: str = "N1") -> str:
    """One episodes.csv row; defaults: foster care (U6) under a care order."""
    return f"{child},{decom},{rne},{ls},{cin},{place},{provider},{dec},{rec},{rpc},AB1 2,AB1 3,{urn}"


def hd(child: str, dob: str = "01/01/2012", sex: str = "1") -> str:
    return f"{child},{sex},{dob},WBRI,,,"


def write_return(root: Path, la: str, year: int, header: list[str], episodes: list[str],
                 header_text: str = HEADER, episodes_text: str = EPISODES) -> Path:
    folder = root / la / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "header.csv").write_text("\n".join([header_text, *header]) + "\n")
    (folder / "episodes.csv").write_text("\n".join([episodes_text, *episodes]) + "\n")
    return folder
