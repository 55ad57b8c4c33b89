"""The student notebook `release/<name>/<name>.ipynb`, generated from the solutions and README.

Layout: the README's introduction; a locked setup cell with the imports and the code given to
students; then per question its README section, one editable cell per function or class the
student writes (the stub, as in the `.py` release), and a locked check cell that runs the
question's public tests on the saved notebook (gradekit.nbcheck). Cells carry nbgrader metadata
(solution / grade / locked, grade_id, points from assignment.yaml) and fixed ids, and the JSON is
written with sorted keys, so the bytes are deterministic and `release --check` covers them.
Grading never trusts any of this metadata: it finds code by name and takes points from the yaml.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from gradekit.spec import AssignmentSpec

from ..course import CourseDir
from .questions import BEGIN, Layout, layout

END = "# END SOLUTION"
HOW_TO = """\
## Working in this notebook

Write your code in the cells that say `raise NotImplementedError(...)`, keeping the names and
signatures. Each question ends with a **check cell**: it runs that question's public tests on this
notebook *as last saved*, so save (Ctrl+S) before running it. You may also hand in the `.py` files
instead of this notebook; both are graded with the same tests.

**What grading runs.** Grading never runs the notebook. It takes only the top-level imports,
functions, classes and simple constants (`LR = 1e-3`) of every code cell, top to bottom, like
*Kernel > Restart Kernel and Run All Cells*; the last definition of a name counts. Everything else
(training loops, plots, prints, `!pip`, `%%bash`) is not run at grading, so your functions must
not depend on it; plotting packages such as matplotlib are not even imported, so graded functions
must not plot. Cell order, cell metadata and outputs do not matter; names do.
"""


def source_lines(text: str) -> list[str]:
    parts = text.rstrip("\n").split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
              points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def _cell(kind: str, cell_id: str, source: str, nbgrader: dict[str, Any] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source_lines(source)}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = nbgrader
        if nbgrader["locked"]:
            cell["metadata"]["deletable"] = False
            cell["metadata"]["editable"] = False
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def strip_markers(source: str) -> str:
    """The reference code with the solution markers removed (the solved notebook)."""
    return "".join(line for line in source.splitlines(keepends=True) if line.strip() not in (BEGIN, END))


def _setup_source(lay: Layout, spec: AssignmentSpec) -> str:
    future: list[str] = []
    imports: list[str] = []
    given: list[str] = []
    for file in spec.files:
        for block in lay.blocks[file]:
            if block.kind == "import":
                target = future if "__future__" in block.source else imports
                if block.source not in target:
                    target.append(block.source)
            elif not block.graded and block.source not in given:
                given.append(block.source)
    head = "".join(future) + "".join(imports)
    return (head + ("\n\n" + "\n\n".join(given) if given else "")).rstrip("\n") + "\n"


def check_source(qid: str, symbols: tuple[str, ...], notebook: str) -> str:
    names = ", ".join(repr(s) for s in symbols) + ("," if len(symbols) == 1 else "")
    return (f"# Check cell (do not edit): runs question `{qid}`'s public tests on {notebook} as last saved.\n"
            "from gradekit.nbcheck import check\n\n"
            f"check({qid!r}, symbols=({names}), notebook={notebook!r})\n")


def build_notebook(course: CourseDir, spec: AssignmentSpec, make_stub: Callable[[str, str], str],
                   *, readme: str, solved: bool = False) -> dict[str, Any]:
    """The release notebook as a JSON document (`readme`: the release's generated README); `solved`
    fills in the reference code (for tests, examples: see autograder.release.notebook_doc)."""
    lay = layout(course, spec, readme)
    notebook = f"{spec.name}.ipynb"
    cells = [_cell("markdown", "intro", lay.intro.rstrip("\n") + "\n\n" + HOW_TO,
                   _nbgrader("intro", locked=True)),
             _cell("code", "setup", _setup_source(lay, spec), _nbgrader("setup", locked=True))]
    shown_files: set[str] = set()
    for q in spec.questions:
        if q.file not in shown_files and (lay.docstrings.get(q.file) or lay.file_sections.get(q.file)):
            shown_files.add(q.file)
            doc = "\n".join("> " + line if line else ">" for line in lay.docstrings.get(q.file, "").strip().split("\n"))
            text = f"### About `{q.file}`\n\n" + (doc + "\n\n" if lay.docstrings.get(q.file) else "")
            text += lay.file_sections.get(q.file, "")
            cells.append(_cell("markdown", f"about-{_slug(q.file)}", text.rstrip("\n") + "\n",
                               _nbgrader(f"about-{_slug(q.file)}", locked=True)))
        section = lay.sections.get(q.id) or f"## {q.title} (question `{q.id}`)\n"
        cells.append(_cell("markdown", f"{q.id}-text", section, _nbgrader(f"{q.id}-text", locked=True)))
        for block in lay.blocks[q.file]:
            if not block.graded or not set(block.names) & set(lay.symbols[q.id]):
                continue
            name = block.names[0]
            code = strip_markers(block.source) if solved else make_stub(block.source, f"solutions/{spec.name}/{q.file}")
            cells.append(_cell("code", f"{q.id}-{_slug(name)}", code, _nbgrader(f"{q.id}-{_slug(name)}", solution=True)))
        cells.append(_cell("code", f"{q.id}-check", check_source(q.id, lay.symbols[q.id], notebook),
                           _nbgrader(q.id, grade=True, locked=True, points=q.points)))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "cell"


def dumps(doc: dict[str, Any]) -> bytes:
    """Jupyter's own on-disk style (indent 1), with sorted keys for deterministic bytes."""
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def notebook_bytes(course: CourseDir, spec: AssignmentSpec, make_stub: Callable[[str, str], str],
                   *, readme: str, solved: bool = False) -> bytes:
    return dumps(build_notebook(course, spec, make_stub, readme=readme, solved=solved))
