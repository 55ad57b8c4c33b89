"""Working beside nbgrader: the release notebook validates with nbgrader's own tools, and exported
scores reach `nbgrader export`. These need the `notebooks` extra; without it they are skipped,
except the check that the export says how to install it."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.errors import ExportError
from autograder.results import QuestionResult, Result
from autograder.notebook.nbgrader_export import export_nbgrader
from autograder.notebook.release_notebook import dumps
from autograder.release import notebook_doc

needs_nbgrader = pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None,
                                    reason="nbgrader is not installed: pip install -e '.[notebooks]'")


def result(student: str, scores: dict[str, float]) -> Result:
    questions = tuple(QuestionResult(qid, qid, s, 10.0) for qid, s in scores.items())
    return Result(student, "backprop", "graded", sum(scores.values()), 10.0 * len(scores), questions)


def _nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env = {k: v for k, v in env.items() if not k.startswith(("NBGRADER", "PYTEST", "JPY_"))}
    return subprocess.run(["nbgrader", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_without_nbgrader_the_export_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "nbgrader", None)  # `import nbgrader` now raises ImportError
    with pytest.raises(ExportError, match=r"pip install 'dl-autograder\[notebooks\]'"):
        export_nbgrader([result("alice", {"q": 1.0})], tmp_path)


@needs_nbgrader
@pytest.mark.parametrize("name", ["backprop", "cnn", "torchnets"])
def test_release_notebook_passes_nbgraders_metadata_validation(course: CourseDir, name: str) -> None:
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError

    notebook = nbformat.reads((course.release_dir(name) / f"{name}.ipynb").read_text(), as_version=4)
    MetadataValidator().validate_nb(notebook)
    del notebook.cells[-1].metadata["nbgrader"]["points"]  # the validator does reject a broken cell
    with pytest.raises(ValidationError):
        MetadataValidator().validate_nb(notebook)


@needs_nbgrader
def test_nbgrader_validate_fails_unsolved_and_passes_the_reference(course: CourseDir, tmp_path: Path) -> None:
    folder = tmp_path / "cnn"
    shutil.copytree(course.release_dir("cnn"), folder, ignore=shutil.ignore_patterns("__pycache__"))
    timeout = "--Execute.timeout=300"  # each check cell starts pytest; the machine may be busy
    unsolved = _nbgrader("validate", timeout, "cnn.ipynb", cwd=folder)
    assert "VALIDATION FAILED ON 4 CELL(S)" in unsolved.stdout, unsolved.stdout[-3000:] + unsolved.stderr[-3000:]
    (folder / "cnn.ipynb").write_bytes(dumps(notebook_doc(course, "cnn", solved=True)))
    solved = _nbgrader("validate", timeout, "cnn.ipynb", cwd=folder)
    assert "Success! Your notebook passes all the tests." in solved.stdout, solved.stdout[-3000:] + solved.stderr[-3000:]


@needs_nbgrader
def test_exported_scores_appear_in_nbgrader_export(tmp_path: Path) -> None:
    first = [result("alice", {"sigmoid": 6.0, "momentum": 2.5}), result("bob", {"sigmoid": 0.0, "momentum": 5.0})]
    summary = export_nbgrader(first, tmp_path)
    assert summary.students == ("alice", "bob") and (tmp_path / "gradebook.db").is_file()
    regraded = [result("alice", {"sigmoid": 6.0, "momentum": 4.0}), result("carol", {"sigmoid": 1.0, "momentum": 1.0})]
    export_nbgrader(regraded, tmp_path)  # a second export updates and adds, it does not duplicate
    proc = _nbgrader("export", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with (tmp_path / "grades.csv").open(newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert {s: (float(r["score"]), float(r["max_score"])) for s, r in rows.items()} == {
        "alice": (10.0, 20.0), "bob": (5.0, 20.0), "carol": (2.0, 20.0)}


@needs_nbgrader
def test_export_nbgrader_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from autograder.cli import main
    from autograder.store import write_result

    (tmp_path / "grades").mkdir()
    write_result(tmp_path / "grades" / "alice.json", result("alice", {"sigmoid": 3.0}))
    res = CliRunner().invoke(main, ["export", "nbgrader", str(tmp_path / "grades"), "--course-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "wrote 1 students' scores for backprop/backprop" in res.output and "would overwrite them" in res.output
    res = CliRunner().invoke(main, ["export", "nbgrader", str(tmp_path / "grades"), "--course-dir", str(tmp_path / "none")])
    assert res.exit_code == 2 and "no nbgrader course folder" in res.output
