"""One figure style for every report; figures are drawn from published tables or model results only.

The style (seaborn's whitegrid theme, the colour-blind palette, one resolution, bold titles and fixed
SVG ids so the same figure gives the same file) is set here and nowhere else: `apply_style()` runs
on import and again when a report opens (reporting/report.py), so every figure of every report looks
alike whatever a notebook imported first. `describe(fig)` writes a figure's alt text from what the
figure itself says (its titles, kind of chart, axes, series): Publisher.figure uses it when a
notebook gives none, so no report image goes without a text alternative.

Published tables may hold "c" (suppressed) where a number was: such cells are left out of a figure,
never recomputed from child-level data.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

PALETTE = "colorblind"
DPI = 110
STYLE_RC: dict[str, Any] = {"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titleweight": "bold",
                            "svg.hashsalt": "rcceval"}
MAX_SERIES = 8          # series named in an alt text; more are counted
MAX_CATEGORIES = 10     # category tick labels named in an alt text


def apply_style() -> None:
    """The reports' one figure style (idempotent)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, rc=STYLE_RC)
    mpl.rcParams.update(STYLE_RC)  # stable SVG ids: same figure, same file


apply_style()


def axes_or_new(ax: Axes | None, figsize: tuple[float, float], **subplots: Any) -> Axes:
    """The axes a plot function draws on: `ax` when given (lifelines' convention: every plot
    function takes ax=None and returns the axes), else those of a new figure of `figsize`."""
    return ax if ax is not None else plt.subplots(figsize=figsize, **subplots)[1]


def panels_or_new(ax: Sequence[Axes] | np.ndarray | None, n: int, figsize: tuple[float, float],
                  **subplots: Any) -> np.ndarray:
    """The axes of a figure of `n` panels in a row: `ax` (one axes a panel) when given, else a new
    figure's. Returned as a flat array, which the plot function returns."""
    if ax is None:
        return np.atleast_1d(plt.subplots(1, n, figsize=figsize, squeeze=False, **subplots)[1][0])
    axes = np.asarray(ax, dtype=object).ravel()
    if len(axes) != n:
        raise ValueError(f"this figure has {n} panels: give {n} axes (one a panel), not {len(axes)}")
    return axes


def figure_of(drawn: Any) -> Any:
    """The matplotlib figure of what a plot function returned: a figure, an axes or an array of axes."""
    if hasattr(drawn, "savefig"):
        return drawn
    if isinstance(drawn, Axes):
        return drawn.figure
    return np.asarray(drawn, dtype=object).ravel()[0].figure


def numeric(values: pd.Series) -> pd.Series:
    """Published values as numbers; suppressed cells ("c") become missing."""
    return pd.to_numeric(values.replace({"c": None}), errors="coerce")


def _clean(text: str) -> str:
    """Label text as a sentence fragment: mathtext ($, \\mathdefault{}) and runs of white space removed,
    a word broken over two lines ("co-\\noccurring") joined again."""
    text = re.sub(r"\\mathdefault\{((?:[^{}]|\{[^{}]*\})*)\}", r"\1", str(text).replace("$", ""))
    return re.sub(r"\s+", " ", re.sub(r"-\n\s*", "-", text)).strip()


def _is_number(word: str) -> bool:
    """A tick label that is a value (12, -0.5, 40%, £-6,000, −2, 10^{3}, 1.5k), not a category."""
    t = re.sub(r"[£$%,{}\s]", "", word.replace("\u2212", "-"))
    t = re.sub(r"^10\^", "", t).rstrip("kmbKMB")
    try:
        float(t)
    except ValueError:
        return False
    return True


def _kind(ax: Any) -> str:
    """The kind of chart an axes holds, in words."""
    from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh
    from matplotlib.image import AxesImage
    from matplotlib.patches import Rectangle

    if ax.images and any(isinstance(i, AxesImage) for i in ax.images) or \
            any(isinstance(c, QuadMesh) for c in ax.collections):
        return "heat map"
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() and p.get_height()]
    lines = [ln for ln in ax.lines if ln.get_linestyle() not in ("None", "") and not _reference(ln)]
    marks = [ln for ln in ax.lines if ln.get_linestyle() in ("None", "") and ln.get_marker() not in (None, "None", "")]
    scatter = [c for c in ax.collections if isinstance(c, PathCollection)]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    whiskers = [c for c in ax.collections if isinstance(c, LineCollection)]
    if bars:
        return "bar chart"
    if lines:
        return "line chart" + (" with shaded intervals" if bands else "")
    if marks:
        return "dot plot" + (" with intervals" if whiskers else "")
    if scatter:
        return "scatter plot"
    return "chart"


def _reference(line: Any) -> bool:
    """A straight horizontal or vertical reference line (axhline, axvline: no value is read off it)."""
    x, y = list(line.get_xdata()), list(line.get_ydata())
    return len(x) < 2 or len(set(map(str, x))) == 1 or len(set(map(str, y))) == 1


def _categories(ax: Any, axis: str) -> list[str]:
    """Tick labels that are words (categories), not numbers."""
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    words = [_clean(t.get_text()) for t in ticks if _clean(t.get_text())]
    return [w for w in words if not _is_number(w)]


def _span(ax: Any) -> str:
    """", from A to B" for lines over labelled points (years as text, whole numbers); "" otherwise
    (dates and continuous scales: the axis label says what is plotted)."""
    import numpy as np

    xs = [v for ln in ax.lines if not _reference(ln) for v in ln.get_xdata()]
    if xs and all(isinstance(v, str) for v in xs):
        first, last = xs[0], xs[-1]
    elif xs and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in xs):
        first, last = min(xs), max(xs)
    else:
        return ""
    return f", from {_clean(first)} to {_clean(last)}" if first != last else ""


def _named(words: list[str], limit: int) -> str:
    shown = ", ".join(words[:limit])
    return shown + (f" and {len(words) - limit} more" if len(words) > limit else "")


def _axes_text(ax: Any) -> str:
    """One axes in a sentence: its title, kind, what each axis shows, its series or categories."""
    parts = []
    title = _clean(ax.get_title())
    kind = _kind(ax)
    parts.append(f"{title}: {kind}" if title else kind[0].upper() + kind[1:])
    x, y = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
    if x and y:
        parts.append(f" of {y} against {x}")
    elif y:
        parts.append(f" of {y}")
    elif x:
        parts.append(f" over {x}")
    cats = _categories(ax, "x") or _categories(ax, "y")
    span = _span(ax) if kind.startswith("line chart") else ""
    rows, columns = _categories(ax, "y"), _categories(ax, "x")
    if kind == "heat map" and rows and columns:
        parts.append(f", rows {_named(rows, MAX_CATEGORIES)}; columns {_named(columns, MAX_CATEGORIES)}")
    elif span:
        parts.append(span)
    elif cats:
        parts.append(f", for {_named(cats, MAX_CATEGORIES)}")
    legend = ax.get_legend()
    if legend is not None:
        names = [_clean(t.get_text()) for t in legend.get_texts() if _clean(t.get_text())]
        if names:
            what = _clean(legend.get_title().get_text())
            parts.append(f"; {what + ': ' if what else 'series: '}{_named(names, MAX_SERIES)}")
    return "".join(parts)


def describe(fig: Any) -> str:
    """Alt text for a matplotlib figure from what it shows: its overall title, then each panel with
    content (title, kind of chart, axes, categories, legend). Colour bars and empty panels are left
    out. The numbers themselves are in the report's tables beside the figure."""
    panels = [ax for ax in fig.get_axes() if ax.get_visible() and ax.has_data() and ax.get_label() != "<colorbar>"]
    texts = [_axes_text(ax) for ax in panels]
    head = _clean(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) is not None else ""
    if len(texts) > 1:
        body = f"{len(texts)} panels. " + " ".join(f"{i}. {t}." for i, t in enumerate(texts, 1))
    else:
        body = (texts[0] + ".") if texts else "An empty figure."
    return f"{head}. {body}" if head else body
