"""index.html's key figures are figures the notebooks save: each question's chosen names appear in
its notebook's Publisher.figure calls (a renamed figure must not silently drop off the front page)."""
from __future__ import annotations

import re
from pathlib import Path

from rcceval.reporting import answers

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def saved_figures(source: str) -> set[str]:
    """Names passed to figure(...) in a notebook source; an f-string name becomes a pattern."""
    names = re.findall(r"figure\((f?)\"([^\"]+)\"", source)
    return {("re:" + re.sub(r"\{[^}]*\}", ".+", n)) if f else n for f, n in names}


def test_every_chosen_figure_is_saved_by_its_notebook():
    for path in sorted(NOTEBOOKS.glob("0*.py")):
        saved = saved_figures(path.read_text(encoding="utf-8"))
        plain = {s for s in saved if not s.startswith("re:")}
        patterns = [re.compile(s[3:] + "$") for s in saved if s.startswith("re:")]
        for name in answers.question(path.stem).figures:
            assert name in plain or any(p.match(name) for p in patterns), (path.name, name, sorted(saved))
