"""The released notebook's check cells: one question's public tests on the notebook as last saved.

A check cell calls `check("sigmoid", symbols=("sigmoid",))`. It takes the definitions out of the
saved notebook exactly as the grader does (gradekit.nbextract: nothing else in the notebook runs),
writes them as the assignment's module files into a temporary folder, and runs the question's
public tests there in a fresh `python -m gradekit.nbcheck` process, so it agrees with plain `pytest`
and with the grader. Under nbgrader's autograde it refuses to score: nbgrader would record full
points for any cell that runs without error, and would overwrite scores exported by `autograder`.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from .nbextract import Extraction, NotebookError, notebook_module
from .spec import AssignmentSpec, load_spec

AUTOGRADE_MESSAGE = (
    "This check cell does not score under nbgrader autograde: grades come from `autograder grade` and "
    "reach nbgrader's gradebook through `autograder export nbgrader`. Running `nbgrader autograde` would "
    "overwrite them; see the course's README."
)


def check(question: str, symbols: tuple[str, ...] = (), notebook: str | None = None) -> None:
    """Run `question`'s public tests on the saved notebook; raise AssertionError if any fails."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        raise RuntimeError(AUTOGRADE_MESSAGE)
    folder = Path.cwd()
    spec = load_spec(folder)
    path = find_notebook(folder, notebook or f"{spec.name}.ipynb")
    try:
        extraction = notebook_module(path.read_bytes(), path.name)
    except NotebookError as exc:
        raise AssertionError(str(exc)) from None
    print(f"Checking question {question!r} on {path.name} as last saved (save with Ctrl+S before running this cell).")
    for line in describe(extraction, symbols):
        print("  " + line)
    with tempfile.TemporaryDirectory(prefix="nbcheck-") as tmp:
        for file in spec.files:
            (Path(tmp) / file).write_text(extraction.source, encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "gradekit.nbcheck", question, tmp], cwd=folder,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout)
    if proc.returncode != 0:
        raise AssertionError(f"question {question!r}: not every public test passes yet (see above)")


def find_notebook(folder: Path, default: str) -> Path:
    """The notebook being checked: Jupyter's session file if it says, else `default`, else the only one."""
    session = os.environ.get("JPY_SESSION_NAME", "")
    for candidate in (Path(session) if session else None, folder / default):
        if candidate is not None and candidate.suffix == ".ipynb" and candidate.is_file():
            return candidate
    found = sorted(folder.glob("*.ipynb"))
    if len(found) == 1:
        return found[0]
    raise AssertionError(f"cannot tell which notebook to check in {folder}: name it {default}")


def describe(extraction: Extraction, symbols: tuple[str, ...]) -> list[str]:
    """What the grader will see of the notebook, as lines for a student."""
    lines = []
    for name in symbols:
        where = extraction.where(name)
        lines.append(f"`{name}`: cell {where.cell}" if where else f"`{name}`: not defined in any code cell")
    lines += [f"cell {e.cell}, line {e.line}: syntax error ({e.why}): this cell is not graded" for e in extraction.syntax_errors]
    lines += list(extraction.warnings)
    return lines


class _Host:
    """Gives gradekit's plugin a session for one question on the extracted folder."""

    def __init__(self, session: Any, question: str) -> None:
        self.session = session
        self.question = question

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: Any) -> None:
        from .plugin import SESSION

        config.stash[SESSION] = self.session

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list[Any]) -> None:
        keep, drop = [], []
        for item in items:
            marker = item.get_closest_marker("question")
            (keep if marker is not None and marker.args and marker.args[0] == self.question else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def _restricted(spec: AssignmentSpec, question: str) -> AssignmentSpec:
    return dataclasses.replace(spec, questions=(spec.question(question),))


def main(argv: list[str]) -> int:
    """`python -m gradekit.nbcheck QUESTION FOLDER`, in the release folder: exit 0 when all pass."""
    from .direct import DirectProvider
    from .plugin import Session

    question, student_dir = argv
    spec = load_spec(Path.cwd())
    try:
        restricted = _restricted(spec, question)
    except KeyError:
        print(f"no question {question!r} in this assignment ({', '.join(q.id for q in spec.questions)})")
        return 2
    session = Session(spec=restricted, student=DirectProvider(Path(student_dir), spec.modules), student_id="public")
    host = _Host(session, question)
    pytest.main(["-q", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", "tests"],
                plugins=[host])
    outcomes = session.outcomes
    return 0 if outcomes and all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
