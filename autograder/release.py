"""Generate a student's folder from the reference solutions: the one source of truth.

Solution regions (`# BEGIN SOLUTION` ... `# END SOLUTION`) become `raise NotImplementedError`;
the public tests, the test kit and the assignment's points are copied beside the stubs so that a
student can run `pytest` there with only the packages of its generated requirements.txt (see
`readme`, which also writes the README's Setup, What to submit and points sections). Hidden tests and
solutions never reach the release; `check_release` tells whether release/ is out of date.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path
from typing import Any

import gradekit

from .course import CourseDir
from .errors import ReleaseError
from .notebook.release_notebook import build_notebook, notebook_bytes
from .readme import release_docs

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"

CONFTEST = '''"""Loads the grading kit: `pytest` here runs the public tests and prints your points."""

import pytest

from gradekit.requirements import message, missing

MISSING = missing(__file__)  # packages from requirements.txt that this Python lacks
if not MISSING:
    pytest_plugins = ["gradekit.plugin"]


def pytest_configure(config: pytest.Config) -> None:
    if MISSING:
        raise pytest.UsageError(message(MISSING))
'''
PYTEST_INI = """[pytest]
testpaths = tests
addopts = -p no:cacheprovider
"""


def make_stub(source: str, filename: str) -> str:
    """Replace every solution region with `raise NotImplementedError` at the region's indentation."""
    out: list[str] = []
    begin_line = 0
    regions = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        text = line.strip()
        if text == BEGIN:
            if begin_line:
                raise ReleaseError(f"{filename}:{number}: {BEGIN} inside the region opened at line {begin_line}")
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            func = _enclosing_function(out, indent)
            out.append(f'{indent}raise NotImplementedError("{func}: not implemented yet")\n')
        elif text == END:
            if not begin_line:
                raise ReleaseError(f"{filename}:{number}: {END} without {BEGIN}")
            begin_line = 0
            regions += 1
        elif not begin_line:
            out.append(line)
    if begin_line:
        raise ReleaseError(f"{filename}:{begin_line}: {BEGIN} is never closed")
    if regions == 0:
        raise ReleaseError(f"{filename}: no solution regions: students would receive the answer")
    stub = "".join(out)
    try:
        ast.parse(stub, filename)
    except SyntaxError as exc:
        raise ReleaseError(f"{filename}:{exc.lineno}: the generated stub is not valid Python: {exc.msg}") from None
    return stub


def _enclosing_function(lines: list[str], indent: str) -> str:
    for line in reversed(lines):
        stripped = line.lstrip()
        here = line[: len(line) - len(stripped)]
        if stripped.startswith(("def ", "async def ")) and len(here) < len(indent):
            return stripped.split("def ", 1)[1].split("(", 1)[0]
    return "this function"


def build_release(course: CourseDir, name: str) -> dict[str, bytes]:
    """The release folder's files as {relative path: content}, computed from the sources."""
    assignment = course.assignment(name)
    spec = assignment.spec
    files: dict[str, bytes] = {}
    for file in spec.files:
        source = (course.solutions_dir(name) / file).read_text(encoding="utf-8")
        files[file] = make_stub(source, f"solutions/{name}/{file}").encode()
    public = course.tests_dir(name, hidden=False)
    for path in sorted(public.rglob("*.py")):
        files[f"tests/{path.relative_to(public).as_posix()}"] = path.read_bytes()
    for path in sorted(public.rglob("*")):
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
            files[f"tests/{path.relative_to(public).as_posix()}"] = path.read_bytes()
    kit = Path(gradekit.__file__).parent
    for path in sorted(kit.glob("*.py")):
        files[f"gradekit/{path.name}"] = path.read_bytes()
    sources = [(rel, files[rel].decode("utf-8")) for rel in files if rel.endswith(".py") and not rel.startswith("gradekit/")]
    sources += [(f, (course.solutions_dir(name) / f).read_text(encoding="utf-8")) for f in spec.files]
    files.update(release_docs(spec, course.readme(name), sources))
    # the student notebook (autograder/notebook/), from the same solutions and the generated README
    files[f"{name}.ipynb"] = notebook_bytes(course, spec, make_stub, readme=files["README.md"].decode("utf-8"))
    files["assignment.json"] = (json.dumps(spec.to_json(), indent=2, sort_keys=True) + "\n").encode()
    files["conftest.py"] = CONFTEST.encode()
    files["pytest.ini"] = PYTEST_INI.encode()
    _refuse_leaks(course, name, files)
    return files


def notebook_doc(course: CourseDir, name: str, *, solved: bool = False) -> dict[str, Any]:
    """The release notebook as JSON; `solved` puts the reference code in its cells (examples, tests, bench)."""
    readme = build_release(course, name)["README.md"].decode("utf-8")
    return build_notebook(course, course.assignment(name).spec, make_stub, readme=readme, solved=solved)


def _refuse_leaks(course: CourseDir, name: str, files: dict[str, bytes]) -> None:
    """Hidden tests and solution regions must never reach a student's folder."""
    hidden = course.tests_dir(name, hidden=True)
    hidden_names = {p.name for p in hidden.rglob("test_*.py")} if hidden.is_dir() else set()
    for rel, data in files.items():
        if Path(rel).name in hidden_names and rel.startswith("tests/"):
            raise ReleaseError(f"{rel}: a hidden test file name appears among the public tests")
        if BEGIN.encode() in data and not rel.startswith("gradekit/"):
            raise ReleaseError(f"{rel}: contains a solution marker")


def write_release(course: CourseDir, name: str) -> Path:
    """Write release/<name>/ afresh (the folder is generated: anything else in it is removed)."""
    files = build_release(course, name)
    target = course.release_dir(name)
    tmp = target.with_name(f".{name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    for rel, data in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def check_release(course: CourseDir, name: str) -> list[str]:
    """Differences between release/<name>/ and what its sources generate (empty: up to date)."""
    expected = build_release(course, name)
    target = course.release_dir(name)
    actual = {
        p.relative_to(target).as_posix(): p.read_bytes()
        for p in sorted(target.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    } if target.is_dir() else {}
    problems = [f"missing: release/{name}/{rel}" for rel in sorted(set(expected) - set(actual))]
    problems += [f"unexpected: release/{name}/{rel}" for rel in sorted(set(actual) - set(expected))]
    problems += [f"out of date: release/{name}/{rel}" for rel in sorted(set(expected) & set(actual)) if expected[rel] != actual[rel]]
    return problems
