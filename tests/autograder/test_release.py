"""The release is generated from the solutions, leaks nothing, and runs with pytest alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.release import ReleaseError, build_release, check_release, make_stub, write_release
from tests.toycourse import make_course


def test_stub_replaces_regions_and_keeps_the_rest() -> None:
    source = 'import numpy as np\n\n\ndef f(x):\n    """Doc."""\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n'
    stub = make_stub(source, "f.py")
    assert 'raise NotImplementedError("f: not implemented yet")' in stub
    assert "return x" not in stub and '"""Doc."""' in stub and "import numpy" in stub


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
        ("def f():\n    # END SOLUTION\n", "without"),
        ("def f():\n    return 1\n", "no solution regions"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n", "inside the region"),
    ],
)
def test_bad_markers_are_reported_with_line(source: str, words: str) -> None:
    with pytest.raises(ReleaseError, match=words):
        make_stub(source, "f.py")


def test_toy_release_contents(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path))
    files = build_release(course, "toy")
    assert {"toy.py", "extra.py", "tests/test_toy.py", "assignment.json", "conftest.py", "pytest.ini",
            "README.md", "gradekit/plugin.py", "gradekit/checks.py"} <= set(files)
    assert not any("hidden" in rel for rel in files)
    assert not any(b"BEGIN SOLUTION" in data or b"2 * np.asarray" in data for rel, data in files.items()
                   if not rel.startswith("gradekit/"))
    write_release(course, "toy")
    assert check_release(course, "toy") == []
    (course.release_dir("toy") / "toy.py").write_text("edited by hand\n")
    assert check_release(course, "toy") == ["out of date: release/toy/toy.py"]


def _student_pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest in a released folder as a student would: no autograder package importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # as if our package were not installed
    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name == 'autograder' or name.startswith('autograder.'):\n"
            "            raise ImportError('autograder is not installed for students')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import pytest\n"
            "code = pytest.main([])\n"
            "print('gradekit from', sys.modules['gradekit'].__file__)\n"
            "sys.exit(code)\n")
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, env=env)


def test_student_sees_zero_and_not_implemented(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path))
    folder = write_release(course, "toy")
    run = _student_pytest(folder)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert f"gradekit from {folder}" in out
    table = out[out.index("points: Toy assignment"):]
    assert "total" in table and "0.00 / 2" in table
    assert table.count("not implemented yet") == 2, table
    assert "3 not implemented" in out and "FAILED" not in out
    assert "Hidden tests (3 more points) run at grading" in table
    assert "Traceback" not in out


def test_student_with_solution_sees_full_public_points(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path))
    folder = write_release(course, "toy")
    for name in ("toy.py", "extra.py"):
        (folder / name).write_text((course.solutions_dir("toy") / name).read_text())
    run = _student_pytest(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2.00 / 2" in run.stdout


def test_committed_release_is_up_to_date(course: CourseDir) -> None:
    for name in course.assignment_names():
        assert check_release(course, name) == [], "release/ is out of date: run `autograder release`"


def test_release_tells_students_how_to_set_up_and_what_to_submit(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path))
    files = build_release(course, "toy")
    assert files["requirements.txt"].decode() == "numpy>=1.26\npytest>=8.0\n", "the kit's needs and the tests' imports"
    readme = files["README.md"].decode()
    for section in ("## Setup", "## What to submit", "## Points"):
        assert section in readme
    submit = readme[readme.index("## What to submit"):readme.index("## Points")]
    assert "`toy.py`, `extra.py`" in submit and "pip install -r requirements.txt" in readme
    assert "| `double` | Double an array | 1 | 2 | 3 |" in readme and "| **total** | | 2 | 3 | 5 |" in readme


def test_points_table_follows_assignment_yaml(tmp_path: Path) -> None:
    """The table went stale by hand while `release --check` passed; generated, a points change shows."""
    course = CourseDir(make_course(tmp_path))
    write_release(course, "toy")
    yaml_path = course.assignments_dir / "toy" / "assignment.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("points: {public: 1, hidden: 2}", "points: {public: 1, hidden: 7}"))
    assert "out of date: release/toy/README.md" in check_release(course, "toy")
    assert "| `double` | Double an array | 1 | 7 | 8 |" in build_release(course, "toy")["README.md"].decode()


def test_a_hand_written_points_table_is_refused(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path))
    (course.assignments_dir / "toy" / "README.md").write_text("# Toy\n\n| question | public | hidden |\n| --- | --- | --- |\n")
    with pytest.raises(ReleaseError, match="hand-written points table.*autograder: points"):
        build_release(course, "toy")


def test_a_missing_test_dependency_is_one_line(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path))
    folder = write_release(course, "toy")
    code = "import sys; sys.modules['numpy'] = None\nimport pytest; sys.exit(pytest.main([]))"
    run = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True,
                         env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert run.returncode == 4, run.stdout + run.stderr
    assert run.stderr.strip().splitlines() == [
        "ERROR: the tests need numpy, which is not installed for this Python: run "
        "`python -m pip install -r requirements.txt` in this folder (see the README's Setup section)"]
    assert "Traceback" not in run.stdout + run.stderr and "ModuleNotFoundError" not in run.stdout + run.stderr


def test_requirement_pins_are_the_graders_own() -> None:
    import tomllib

    from autograder.readme import PINS

    root = Path(__file__).resolve().parents[2]
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    for pin in PINS.values():
        assert pin in deps, f"{pin} differs from pyproject.toml's {deps}"
