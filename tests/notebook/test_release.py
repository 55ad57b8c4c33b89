"""The released student notebook: well formed, graded by name, and its check cells agree with pytest."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.notebook.questions import layout
from autograder.notebook.release_notebook import dumps
from autograder.release import build_release, notebook_doc
from autograder.grading.inprocess import run_inprocess
from gradekit.nbextract import notebook_module
from gradekit.scoring import score

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["backprop", "cnn", "torchnets"])
def test_release_notebook_is_well_formed_and_holds_every_graded_name(course: CourseDir, name: str) -> None:
    spec = course.assignment(name).spec
    data = build_release(course, name)[f"{name}.ipynb"]
    assert data == build_release(course, name)[f"{name}.ipynb"], "deterministic bytes"
    doc = json.loads(data)
    assert (doc["nbformat"], doc["nbformat_minor"]) == (4, 5)
    ids = [c["id"] for c in doc["cells"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)
    meta = [c["metadata"]["nbgrader"] for c in doc["cells"]]
    assert len({m["grade_id"] for m in meta}) == len(meta)
    graded = {m["grade_id"]: m["points"] for m in meta if m["grade"]}
    assert graded == {q.id: q.points for q in spec.questions}
    for cell in doc["cells"]:
        if cell["cell_type"] == "code":
            ast.parse("".join(cell["source"]))
    stubs = [c for c in doc["cells"] if c["metadata"]["nbgrader"]["solution"]]
    assert stubs and all("raise NotImplementedError" in "".join(c["source"]) for c in stubs)
    extraction = notebook_module(data)
    for qid, names in layout(course, spec).symbols.items():
        assert names, qid
        for symbol in names:
            assert extraction.where(symbol) is not None, symbol
    assert not extraction.syntax_errors and not extraction.warnings


def _release_copy(course: CourseDir, tmp_path: Path, notebook: bytes) -> Path:
    folder = tmp_path / "backprop"
    shutil.copytree(course.release_dir("backprop"), folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "backprop.ipynb").write_bytes(notebook)
    return folder


def _check(folder: Path, qid: str, symbols: tuple[str, ...]) -> subprocess.CompletedProcess:
    code = f"from gradekit.nbcheck import check\ncheck({qid!r}, symbols={symbols!r})\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBGRADER", "JPY_", "PYTEST"))}
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300, env=env)


def test_check_cells_agree_with_pytest_on_the_public_tests(course: CourseDir, tmp_path: Path) -> None:
    """bob's notebook: each check cell passes exactly when that question's public tests pass on bob's .py files."""
    assignment = course.assignment("backprop")
    folder = _release_copy(course, tmp_path, (EXAMPLES / "backprop-notebooks" / "bob.ipynb").read_bytes())
    public = run_inprocess(course, assignment, EXAMPLES / "backprop" / "bob", student_id="bob", hidden=False)
    expected = {q.id: q.score == q.max_score for q in score(assignment.spec, public.outcomes, include_hidden=False)
                if q.id in ("sigmoid", "momentum")}  # two questions keep the suite fast: one fails, one passes
    assert expected == {"sigmoid": False, "momentum": True}
    symbols = layout(course, assignment.spec).symbols
    for qid, passes in expected.items():
        proc = _check(folder, qid, symbols[qid])
        assert (proc.returncode == 0) == passes, (qid, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "points: " in proc.stdout and f"`{symbols[qid][0]}`: cell" in proc.stdout


def test_check_cell_fails_on_the_unsolved_release_and_refuses_nbgrader_autograde(course: CourseDir, tmp_path: Path) -> None:
    folder = _release_copy(course, tmp_path, (course.release_dir("backprop") / "backprop.ipynb").read_bytes())
    proc = _check(folder, "momentum", ("momentum_step",))
    assert proc.returncode != 0 and "not implemented yet" in proc.stdout
    env = dict(os.environ, NBGRADER_EXECUTION="autograde")
    proc = subprocess.run([sys.executable, "-c", "from gradekit.nbcheck import check\ncheck('momentum')"],
                          cwd=folder, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode != 0 and "does not score under nbgrader autograde" in proc.stderr


def test_the_solved_notebook_passes_a_check_cell(course: CourseDir, tmp_path: Path) -> None:
    folder = _release_copy(course, tmp_path, dumps(notebook_doc(course, "backprop", solved=True)))
    proc = _check(folder, "autodiff", ("Value",))
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_questions_whose_heading_names_no_code_take_it_from_their_public_tests(course: CourseDir) -> None:
    """torchnets' README has a section per file, not per question: the public tests say which code is whose."""
    lay = layout(course, course.assignment("torchnets").spec)
    assert lay.symbols == {
        "alexnet_mnist": ("AlexNetMNIST",), "inception": ("InceptionNaive", "InceptionBottleneck"),
        "crop_dataset": ("center_crop", "five_crop", "CropDataset"), "train_epoch": ("train_epoch", "evaluate"),
        "memorization": ("make_memorizer", "memorize"),  # make_memorizer: no test names it; it goes with its neighbour
        "five_crop_eval": ("five_crop_logits", "run_validation")}
    assert "CropDataset(root" in lay.file_sections["crops.py"] and "CropDataset(root" not in lay.intro
