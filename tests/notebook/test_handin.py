"""Notebook hand-ins are staged as the assignment's module files: every accepted shape, and the refusals.

(Tests of autograder/grading/notebook_route.py and autograder/notebook/handin.py.)"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from autograder.grading.notebook_route import NotebookRoute
from autograder.grading.submissions import SubmissionError, discover, stage
from gradekit.nbextract import MAX_NOTEBOOK_BYTES

FILES = ("backprop.py", "optim.py")
ROUTE = NotebookRoute({"backprop.py": b"stub"}, {"sigmoid": ("sigmoid",)})


def subs_of(folder: Path) -> dict:
    return {s.student: s for s in discover(folder).submissions}


def nb(*sources: str, pad: int = 0) -> bytes:
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "source": s,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": "x" * pad}] if pad else []}
             for i, s in enumerate(sources)]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


NOTEBOOK = nb("import numpy as np\n", "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n", "for i in range(10**9):\n    pass\n")


def staged_source(tmp_path: Path, sub_path: Path) -> dict[str, str]:
    (sub,) = [s for s in discover(sub_path.parent).submissions if s.path == sub_path]
    staged = stage(sub, FILES, tmp_path / "staged" / sub.student, ROUTE)
    assert any(w.startswith("graded the notebook") for w in staged.warnings)
    return {f: (staged.folder / f).read_text() for f in staged.files}


def test_a_single_notebook_file_becomes_every_module(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_bytes(NOTEBOOK)
    (sub,) = discover(subs).submissions
    assert (sub.student, sub.problem) == ("alice", "")
    files = staged_source(tmp_path, subs / "alice.ipynb")
    assert set(files) == set(FILES) and files["backprop.py"] == files["optim.py"]
    assert "def sigmoid" in files["backprop.py"] and "range(10 ** 9)" not in files["backprop.py"]


def test_folder_with_checkpoints_and_stray_files(tmp_path: Path) -> None:
    folder = tmp_path / "subs" / "bob"
    (folder / ".ipynb_checkpoints").mkdir(parents=True)
    (folder / ".ipynb_checkpoints" / "hw-checkpoint.ipynb").write_bytes(nb("def sigmoid(x):\n    return 0\n"))
    (folder / "My Homework (1).ipynb").write_bytes(NOTEBOOK)
    (folder / "data.csv").write_text("1,2\n")
    (folder / "backprop.py").write_bytes(b"stub")  # an unchanged copy of the released file
    files = staged_source(tmp_path, folder)
    assert "return 1 / (1 + np.exp(-x))" in files["backprop.py"]


def test_zip_and_nbgrader_submitted_tree_with_timestamp(tmp_path: Path) -> None:
    subs = tmp_path / "submitted"
    (subs / "carol" / "backprop").mkdir(parents=True)
    (subs / "carol" / "backprop" / "backprop.ipynb").write_bytes(NOTEBOOK)
    (subs / "carol" / "backprop" / "timestamp.txt").write_text("2026-11-20 10:31:02.123456 UTC\n")
    (subs / "carol" / "backprop" / "submission_secret.txt").write_text("secret\n")
    with zipfile.ZipFile(subs / "dave.zip", "w") as z:
        z.writestr("dave/hw.ipynb", NOTEBOOK)
        z.writestr("dave/notes.txt", "stray")
    subs_found = subs_of(subs)
    carol = stage(subs_found["carol"], FILES, tmp_path / "c", ROUTE)
    dave = stage(subs_found["dave"], FILES, tmp_path / "d", ROUTE)
    assert "nbgrader submission timestamp: 2026-11-20 10:31:02.123456 UTC" in carol.warnings
    assert "ignored 1 other file(s): notes.txt" in dave.warnings
    assert any(w.startswith("graded the notebook hw.ipynb") for w in dave.warnings)
    assert "found `sigmoid` cell 2" in dave.warnings
    assert (carol.folder / "backprop.py").read_bytes() == (dave.folder / "backprop.py").read_bytes()


def test_py_files_win_over_a_notebook_when_the_student_edited_them(tmp_path: Path) -> None:
    folder = tmp_path / "subs" / "erin"
    folder.mkdir(parents=True)
    (folder / "backprop.py").write_text("def sigmoid(x):\n    return 'py'\n")
    (folder / "scratch.ipynb").write_bytes(NOTEBOOK)
    (sub,) = discover(folder.parent).submissions
    staged = stage(sub, FILES, tmp_path / "s", ROUTE)
    assert staged.files == ("backprop.py",) and "ignored 1 other file(s): scratch.ipynb" in staged.warnings
    assert "'py'" in (staged.folder / "backprop.py").read_text()


@pytest.mark.parametrize("notebooks, message", [
    ({"a.ipynb": NOTEBOOK, "b.ipynb": NOTEBOOK}, "several notebooks"),
    ({"a.ipynb": b"{not json"}, "not valid JSON"),
])
def test_refusals_are_submission_errors(tmp_path: Path, notebooks: dict[str, bytes], message: str) -> None:
    folder = tmp_path / "subs" / "hal"
    folder.mkdir(parents=True)
    for name, data in notebooks.items():
        (folder / name).write_bytes(data)
    (sub,) = discover(folder.parent).submissions
    with pytest.raises(SubmissionError, match=message):
        stage(sub, FILES, tmp_path / "h", ROUTE)


def test_big_outputs_are_accepted_but_a_huge_file_is_a_per_student_error(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "plots.ipynb").write_bytes(nb("def sigmoid(x):\n    return x\n", pad=5 << 20))
    with (subs / "huge.ipynb").open("wb") as fh:
        fh.truncate(MAX_NOTEBOOK_BYTES + 1)
    found = subs_of(subs)
    assert stage(found["plots"], FILES, tmp_path / "p", ROUTE).files == FILES
    with pytest.raises(SubmissionError, match="larger than 32 MiB; clear its outputs"):
        stage(found["huge"], FILES, tmp_path / "h", ROUTE)


def test_a_bad_notebook_is_a_submission_error_naming_the_file(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "frank.ipynb").write_text(json.dumps({"cells": [], "nbformat": 3}))
    (sub,) = discover(subs).submissions
    with pytest.raises(SubmissionError, match="frank.ipynb is notebook format 3"):
        stage(sub, FILES, tmp_path / "f", ROUTE)


def test_a_zip_of_big_notebooks_reads_only_the_chosen_one(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    with zipfile.ZipFile(subs / "gina.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("gina/hw.ipynb", NOTEBOOK)
        for i in range(20):
            z.writestr(f"gina/old/copy{i}.ipynb", nb("x = 1\n", pad=4 << 20))
    (sub,) = discover(subs).submissions
    staged = stage(sub, FILES, tmp_path / "g", ROUTE)
    assert "def sigmoid" in (staged.folder / "backprop.py").read_text()
    assert "ignored 20 other file(s): old/ (20 files)" in staged.warnings
