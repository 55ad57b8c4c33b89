"""Notebook hand-ins grade like their `.py` twins: names decide, never cells, metadata or outputs."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from autograder.grading import GradeOptions, grade
from autograder.course import CourseDir
from autograder.exports.feedback import render_html, render_markdown
from autograder.results import QuestionResult, Result
from autograder.notebook.feedback_notebook import write_feedback_notebooks
from autograder.notebook.handin import from_notebook
from autograder.grading.inprocess import run_inprocess_batch
from autograder.release import notebook_doc
from autograder.store import load_schema, read_result
from gradekit.scoring import score

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def scores(course: CourseDir, notebooks: dict[str, dict], name: str = "backprop") -> dict[str, dict[str, float]]:
    """Per-question scores of each notebook, all in one in-process pytest session (no sandbox)."""
    spec = course.assignment(name).spec
    return {student: {q.id: q.score for q in score(spec, outcomes)}
            for student, outcomes in run_inprocess_batch(course, course.assignment(name), _folders(notebooks, spec)).items()}


def _folders(notebooks: dict[str, dict], spec) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="nbgrading-"))
    folders = {}
    for student, doc in notebooks.items():
        hand_in = from_notebook("hw.ipynb", json.dumps(doc).encode(), spec.files)
        folder = root / student
        folder.mkdir()
        for name, data in hand_in.files.items():
            (folder / name).write_bytes(data)
        folders[student] = folder
    return folders


@pytest.fixture(scope="module")
def alice() -> dict:
    return json.loads((EXAMPLES / "backprop-notebooks" / "alice.ipynb").read_text())


def test_deleted_cells_cost_only_their_question_and_metadata_changes_nothing(course: CourseDir, alice: dict, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, without a sandbox: the training cell, `!pip`, `%%bash` and `os.system` of the
    notebooks would leave their marker files in the working folder (and the training would sleep ten minutes)."""
    monkeypatch.chdir(tmp_path)
    def without(cell_id: str) -> dict:
        doc = copy.deepcopy(alice)
        doc["cells"] = [c for c in doc["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != cell_id]
        assert len(doc["cells"]) == len(alice["cells"]) - 1
        return doc

    stripped = copy.deepcopy(alice)
    for cell in stripped["cells"]:
        cell["metadata"] = {}
        cell.pop("id")
    stripped["metadata"] = {}
    edited = copy.deepcopy(alice)
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in edited["cells"] if "nbgrader" in c["metadata"]]
    for cell, new_id in zip((c for c in edited["cells"] if "nbgrader" in c["metadata"]), reversed(ids)):
        cell["metadata"]["nbgrader"].update(grade_id=new_id, points=1000, solution=False, grade=True)
    got = scores(course, {"alice": alice, "no-value": without("autodiff-Value"),
                          "no-momentum": without("momentum-momentum_step"), "stripped": stripped, "edited": edited})
    full = got["alice"]
    spec = course.assignment("backprop").spec
    assert full == {q.id: q.points for q in spec.questions}
    assert got["stripped"] == full and got["edited"] == full
    for student, lost in (("no-value", "autodiff"), ("no-momentum", "momentum")):
        assert got[student][lost] == 0
        assert {k: v for k, v in got[student].items() if k != lost} == {k: v for k, v in full.items() if k != lost}
    assert "ran-training-at-grading.txt" in json.dumps(alice) and not list(tmp_path.glob("ran-*"))


def test_torchnets_release_notebook_solved_gets_full_marks_and_a_deleted_cell_costs_its_question(course: CourseDir) -> None:
    """The PyTorch assignment's notebook route: public and hidden tests, names found across questions."""
    solved = notebook_doc(course, "torchnets", solved=True)
    no_inception = copy.deepcopy(solved)
    no_inception["cells"] = [c for c in solved["cells"] if c.get("id") != "inception-InceptionBottleneck"]
    assert len(no_inception["cells"]) == len(solved["cells"]) - 1
    got = scores(course, {"solved": solved, "no-bottleneck": no_inception}, "torchnets")
    full = {q.id: q.points for q in course.assignment("torchnets").spec.questions}
    assert got["solved"] == full
    assert 0 <= got["no-bottleneck"]["inception"] < full["inception"]
    assert {k: v for k, v in got["no-bottleneck"].items() if k != "inception"} == {k: v for k, v in full.items() if k != "inception"}


@pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")
def test_example_notebooks_grade_exactly_like_their_py_twins(course: CourseDir, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    as_py = grade(course, EXAMPLES / "backprop", GradeOptions(out=tmp_path / "py"))
    as_nb = grade(course, EXAMPLES / "backprop-notebooks", GradeOptions(out=tmp_path / "nb", assignment="backprop"))
    assert not as_py.grader_errors and not as_nb.grader_errors
    py = {r.student: r for r in as_py.results}
    nb = {r.student: r for r in as_nb.results}
    assert set(nb) == set(py) == {"alice", "bob", "carol"}
    for student in py:
        assert nb[student].score == py[student].score, student
        for q_py, q_nb in zip(py[student].questions, nb[student].questions):
            assert (q_nb.id, q_nb.score) == (q_py.id, q_py.score), student
            assert [(t.name, t.passed) for t in q_nb.tests] == [(t.name, t.passed) for t in q_py.tests], (student, q_py.id)
    assert 0 < nb["bob"].score < nb["alice"].score == 44
    carol = "\n".join(nb["carol"].warnings)
    assert "question autodiff: `Value` is not defined in any code cell" in carol
    assert "syntax error (invalid syntax)" in carol and "not run at grading: cell" in carol
    assert any("out of order" in n for n in nb["bob"].warnings)
    assert not any(Path(tmp_path).rglob("ran-*-at-grading.txt"))
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads((tmp_path / "nb" / "carol.json").read_text()), load_schema())
    assert read_result(tmp_path / "nb" / "carol.json").warnings == nb["carol"].warnings

    monkeypatch.setenv("AUTOGRADER_COURSE", str(course.root))
    written = write_feedback_notebooks(as_nb.results, EXAMPLES / "backprop-notebooks", tmp_path / "fb", as_nb.assignment.spec)
    assert sorted(p.name for p in written) == ["alice.ipynb", "bob.ipynb", "carol.ipynb"]
    bob_fb = json.loads((tmp_path / "fb" / "bob.ipynb").read_text())
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in bob_fb["cells"])
    texts = ["".join(c["source"]) for c in bob_fb["cells"]]
    sigmoid_at = next(i for i, t in enumerate(texts) if t.startswith("def sigmoid("))
    assert texts[sigmoid_at + 1].startswith(f"**Question `sigmoid` (") and "hidden tests:" in texts[sigmoid_at + 1]
    carol_summary = "".join(json.loads((tmp_path / "fb" / "carol.ipynb").read_text())["cells"][0]["source"])
    assert carol_summary.startswith("# Feedback for carol: 5 / 44") and "**Question `autodiff`" in carol_summary


def test_feedback_shows_the_notebook_warnings_escaped() -> None:
    questions = (QuestionResult("q", "Question", 0.0, 1.0),)
    result = Result("alice", "backprop", "graded", 0.0, 1.0, questions,
                    warnings=("question q: `f` is not defined in any code cell", "cell 3: line 1 `<script>`"))
    md = render_markdown(result)
    assert "About your submission" in md and "is not defined in any code cell" in md
    page = render_html(result)
    assert "&lt;script&gt;" in page and "<script>" not in page
