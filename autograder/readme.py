"""The generated parts of a release: requirements.txt and the README's Setup, What to submit and
points sections, all from assignment.yaml and the files' imports, so none can go stale by hand.

An assignment's README.md places each section with a marker line (`<!-- autograder: setup -->`,
`<!-- autograder: submit -->`, `<!-- autograder: points -->`); a marker left out gets its section
appended at the end. A hand-written points table is refused: it is exactly what went stale.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Iterable

from gradekit.spec import AssignmentSpec
from gradekit.table import readme_points_table

from .errors import ReleaseError

# The grader's own pins (pyproject.toml; a project test keeps them equal): the student installs what grades.
PINS = {"torch": "torch==2.13.0", "numpy": "numpy>=1.26", "pytest": "pytest>=8.0", "yaml": "pyyaml>=6.0"}
KIT_NEEDS = ("pytest", "numpy")  # gradekit itself
MARKER = "<!-- autograder: {} -->"
SECTIONS = ("setup", "submit", "points")
_HAND_TABLE = re.compile(r"^\|\s*question\s*\|\s*public\s*\|", re.MULTILINE | re.IGNORECASE)


def third_party_imports(sources: Iterable[tuple[str, str]], local: set[str]) -> set[str]:
    """Top-level module names imported by the (name, source) pairs, minus the stdlib and `local`."""
    found: set[str] = set()
    for filename, source in sources:
        try:
            tree = ast.parse(source, filename)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in local and m != "__future__"}


def requirements(modules: set[str]) -> str:
    """requirements.txt: the kit's needs and every third-party module the tests or the code import."""
    names = sorted(set(KIT_NEEDS) | modules)
    return "".join(f"{PINS.get(m, m)}\n" for m in names)


def setup_section(modules: set[str]) -> str:
    names = sorted(set(KIT_NEEDS) | modules)
    lines = ["## Setup", "",
             f"You need Python 3.11 or newer and the packages in `requirements.txt` ({', '.join(names)}). In this folder:",
             "", "```bash", "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt", "```", ""]
    if "torch" in modules:
        lines += ["The tests use torch to compute expected values, so install it even if your code does not use it. "
                  "A machine without a GPU needs only torch's CPU build: add "
                  "`--index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple` "
                  "to the command above to skip gigabytes of CUDA packages.", ""]
    lines += ["Then run the tests with `.venv/bin/python -m pytest` here. If a package is missing, `pytest` says which "
              "one in a single line instead of running the tests.", ""]
    return "\n".join(lines)


def submit_section(spec: AssignmentSpec) -> str:
    files = ", ".join(f"`{f}`" for f in spec.files)
    by_file = {f: [q.id for q in spec.questions if q.file == f] for f in spec.files}
    rows = "\n".join(f"| `{f}` | {', '.join(f'`{q}`' for q in qs) or '-'} |" for f, qs in by_file.items())
    return (f"## What to submit\n\nHand in {'this file' if len(spec.files) == 1 else 'these files'}, with exactly "
            f"{'this name' if len(spec.files) == 1 else 'these names'}: {files}, as a folder or a `.zip`. Only "
            f"{'this file is' if len(spec.files) == 1 else 'these files are'} graded: the tests, `gradekit/` and any "
            "other file are not. Each question is graded from one file:\n\n| file | questions |\n| --- | --- |\n"
            f"{rows}\n" + notebook_route(spec))


def notebook_route(spec: AssignmentSpec) -> str:
    """The second route (issue 10): every release also holds the student notebook."""
    return (f"\nOr work in the notebook `{spec.name}.ipynb` and hand in that notebook instead of the `.py` files: "
            "it holds this text, one cell per function or class to write, and a check cell per question that runs "
            "the same public tests on the saved notebook. Grading never runs a notebook: it takes only its imports, "
            "functions, classes and constants, and grades them with the same tests and points as the `.py` files.\n")


def points_section(spec: AssignmentSpec) -> str:
    return ("## Points\n\nThe public tests here give the public points; the hidden tests run at grading, with "
            "inputs of your own, and give the rest.\n\n" + readme_points_table(spec))


def render_readme(source: str, spec: AssignmentSpec, modules: set[str], where: str) -> str:
    """The release README: `source` with each marker replaced by its generated section."""
    if _HAND_TABLE.search(source):
        raise ReleaseError(f"{where}: has a hand-written points table; put the line {MARKER.format('points')} "
                           "where the generated one should go")
    made = {"setup": setup_section(modules), "submit": submit_section(spec), "points": points_section(spec)}
    text = source if source.endswith("\n") else source + "\n"
    for name in SECTIONS:
        marker = MARKER.format(name)
        if marker in text:
            text = text.replace(marker + "\n", made[name], 1).replace(marker, made[name].rstrip("\n"), 1)
        else:
            text += "\n" + made[name]
    return text


def release_docs(spec: AssignmentSpec, readme: Path | None, sources: Iterable[tuple[str, str]]) -> dict[str, bytes]:
    """README.md and requirements.txt of a release folder."""
    modules = third_party_imports(sources, local={*spec.modules, "gradekit"})
    source = readme.read_text(encoding="utf-8") if readme is not None and readme.is_file() else f"# {spec.title}\n"
    where = str(readme) if readme is not None else "README.md"
    return {"README.md": render_readme(source, spec, modules, where).encode(),
            "requirements.txt": requirements(modules).encode()}


__all__ = ["release_docs", "render_readme", "requirements", "third_party_imports", "PINS"]
