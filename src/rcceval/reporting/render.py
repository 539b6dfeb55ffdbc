"""A report's HTML from its executed notebook: JupyterLab's look, a table of contents, alt text on
every figure, headings in order.

nbconvert's lab template writes no alt text and no contents, so the reports use a small template of
their own (templates/rcceval: the lab template with each figure's alt text, which Publisher.figure
puts in the output's metadata, and print CSS), and the page is finished here: a "Contents" list of
the report's section headings after its title, and the page's <title> set to that title (not the
notebook's file name). `heading_problems` says where headings skip a level (an h2 followed by an h4)
or the page has other than one h1: screen-reader users move through a report by its headings, so
the tests apply it to every notebook's markdown and to the rendered pages.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "rcceval"
CONTENTS_ID = "contents"
_HEADING = re.compile(r"^h[1-6]$")

__all__ = ["add_contents", "heading_levels", "heading_problems", "markdown_levels", "notebook_heading_problems",
           "render_html"]


def render_html(nb: Any, keep_code: bool = False) -> str:
    """The finished HTML of an executed notebook (code hidden unless keep_code)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=not keep_code, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    return add_contents(body)


def _filler_headers(soup: Any) -> None:
    """pandas' empty header cells (the corner above the index, the gaps beside an index name) as
    plain cells: an empty <th> announces a column with no name."""
    for th in soup.select("table.dataframe th"):
        if not th.get_text(strip=True):
            th.name = "td"


def _text(tag: Any) -> str:
    """A heading's words, without nbconvert's pilcrow anchor link."""
    parts = [s for s in tag.strings if not (s.parent is not None and "anchor-link" in (s.parent.get("class") or []))]
    return " ".join("".join(parts).split())


def add_contents(page: str) -> str:
    """The page with a table of contents after its title and introduction: every h2 to h4 below the first h1, nested by
    level, each linking to its heading (nbconvert gives headings ids; one is made where missing).
    A page without an h1, or with no section heading, gets no contents. pandas' empty header cells
    become plain cells (_filler_headers)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    _filler_headers(soup)
    heads = [h for h in soup.find_all(_HEADING) if not h.find_parent("nav")]
    title = next((h for h in heads if h.name == "h1"), None)
    if title is None:
        return str(soup)
    if soup.title is not None:
        soup.title.string = _text(title)
    sections = [h for h in heads[heads.index(title) + 1:] if h.name in ("h2", "h3", "h4")]
    if not sections:
        return str(soup)
    used = {t.get("id") for t in soup.find_all(id=True)}
    nav = soup.new_tag("nav", attrs={"class": "toc", "aria-labelledby": CONTENTS_ID})
    heading = soup.new_tag("h2", id=CONTENTS_ID)
    heading.string = "Contents"
    nav.append(heading)
    top = soup.new_tag("ol")
    nav.append(top)
    stack: list[list[Any]] = [[2, top, None]]          # [level, its list, the list's last item]
    for i, h in enumerate(sections):
        level = int(h.name[1])
        if not h.get("id"):
            h["id"] = _unique(re.sub(r"[^\w-]+", "-", _text(h)).strip("-") or f"section-{i + 1}", used)
        while len(stack) > 1 and level < stack[-1][0]:
            stack.pop()
        if level > stack[-1][0] and stack[-1][2] is not None:   # deeper: a list inside the last item
            inner = soup.new_tag("ol")
            stack[-1][2].append(inner)
            stack.append([level, inner, None])
        item = soup.new_tag("li")
        link = soup.new_tag("a", href=f"#{h['id']}")
        link.string = _text(h)
        item.append(link)
        stack[-1][1].append(item)
        stack[-1][2] = item
    text = title.find_parent(class_="jp-RenderedHTMLCommon")     # the title's cell: after its introduction
    if text is not None:
        text.append(nav)
    else:
        (title.find_parent(class_="jp-Cell") or title).insert_after(nav)
    return str(soup)


def _unique(base: str, used: set) -> str:
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name)
    return name


def heading_levels(page: str) -> list[int]:
    """Levels (1-6) of a page's headings in document order."""
    from bs4 import BeautifulSoup

    return [int(h.name[1]) for h in BeautifulSoup(page, "html.parser").find_all(_HEADING)]


def heading_problems(levels: list[int]) -> list[str]:
    """Where a run of heading levels breaks the outline: not exactly one h1, the h1 not first, or a
    heading more than one level below the one before it. Empty when in order."""
    problems = []
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} top-level (h1) headings, not one")
    if levels and levels[0] != 1:
        problems.append(f"the first heading is h{levels[0]}, not the title (h1)")
    for i in range(1, len(levels)):
        if levels[i] > levels[i - 1] + 1:
            problems.append(f"heading {i + 1} is h{levels[i]} straight after an h{levels[i - 1]}")
    return problems


def markdown_levels(text: str) -> list[int]:
    """Levels of the ATX headings (# Title) of markdown text, outside fenced code."""
    levels, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (m := re.match(r"^(#{1,6})\s+\S", line)):
            levels.append(len(m.group(1)))
    return levels


def notebook_heading_problems(source: Path) -> list[str]:
    """heading_problems of a jupytext notebook's markdown cells, taken in order, naming the file."""
    import jupytext

    nb = jupytext.read(str(source))
    levels = [lv for cell in nb.cells if cell.cell_type == "markdown" for lv in markdown_levels(cell.source)]
    return [f"{source.name}: {p}" for p in heading_problems(levels)]
