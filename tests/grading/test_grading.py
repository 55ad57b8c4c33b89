"""`autograder grade` end to end on a toy course: results, schema, CSV, resume, determinism, bad input."""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.course import CourseDir
from autograder.exports.run_files import write_run_files
from autograder.grading import GradeOptions, grade
from autograder.store import load_schema
from tests.toycourse import SOLUTION_TOY, make_course, submission

jsonschema = pytest.importorskip("jsonschema")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")

BUGGY_TOY = SOLUTION_TOY.replace("return 2 * np.asarray(x, dtype=float)", "return 2 * np.asarray(x, dtype=float) + (np.abs(x) > 1)")
HANGING_TOY = SOLUTION_TOY.replace("return 2 * np.asarray(x, dtype=float)", "while True:\n        pass")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseDir, Path, object]:
    root = tmp_path_factory.mktemp("course")
    course = CourseDir(make_course(root))
    subs = root / "subs"
    submission(subs / "alice")
    submission(subs / "bob", toy=BUGGY_TOY)
    submission(subs / "carol", toy="def double(x) return x\n")  # syntax error: only `double` is lost
    submission(subs / "dave", toy=HANGING_TOY)
    with zipfile.ZipFile(subs / "eve.zip", "w") as z:
        z.writestr("../escape.py", "x = 1\n")
    (subs / "frank").mkdir()
    report = grade(course, subs, GradeOptions(out=root / "grades", jobs=2))
    write_run_files(report)
    return course, root / "grades", report


def load(out: Path, student: str) -> dict:
    return json.loads((out / f"{student}.json").read_text())


def test_every_student_gets_a_schema_valid_result(graded) -> None:  # type: ignore[no-untyped-def]
    _, out, report = graded
    schema = load_schema()
    for student in ("alice", "bob", "carol", "dave", "eve", "frank"):
        jsonschema.validate(load(out, student), schema)
    assert not report.grader_errors
    assert load(out, "alice")["protections"] == list(report.protections)


def test_scores(graded) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = graded
    alice, bob, carol, dave = (load(out, s) for s in ("alice", "bob", "carol", "dave"))
    assert alice["score"] == alice["max_score"] == 5
    by_q = {q["id"]: q for q in bob["questions"]}
    assert by_q["double"]["score"] == pytest.approx(0.5) and by_q["counter"]["score"] == 2
    carol_q = {q["id"]: q for q in carol["questions"]}
    assert carol_q["double"]["score"] == 0 and carol_q["counter"]["score"] == 2
    assert {t["cause"] for t in carol_q["double"]["tests"]} == {"import_error"}
    assert "SyntaxError" in carol_q["double"]["tests"][0]["message"]
    dave_q = {q["id"]: q for q in dave["questions"]}
    assert {t["cause"] for t in dave_q["double"]["tests"]} == {"timeout"}
    assert dave_q["counter"]["score"] == 2, "a hanging function costs only the questions it touches"


def test_bad_submissions_get_reasons(graded) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = graded
    eve, frank = load(out, "eve"), load(out, "frank")
    assert eve["status"] == "error" and "outside the folder" in eve["error"] and eve["score"] == 0
    assert frank["status"] == "error" and "empty" in frank["error"]
    assert not (out.parent / "escape.py").exists() and not (out / "escape.py").exists()


def test_hidden_messages_do_not_leak_values(graded) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = graded
    failed = [t for q in load(out, "bob")["questions"] for t in q["tests"] if t["hidden"] and not t["passed"]]
    assert failed, "bob's bug must fail a hidden test, or this test checks nothing"
    for t in failed:
        assert "values differ" in t["message"], t["message"]
        assert "worst" not in t["message"] and "expected" not in t["message"].split("tolerance")[0]


def test_grades_csv(graded) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = graded
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0] == ["student", "double", "counter", "total", "max_score", "status"]
    assert [r[0] for r in rows[1:]] == ["alice", "bob", "carol", "dave", "eve", "frank"]
    assert rows[1][3] == "5.0"


def test_resume_and_regrade_are_deterministic(graded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    course, out, _ = graded
    subs = out.parent / "subs"
    before = {p.name: load(out, p.stem) for p in out.glob("*.json")}
    (out / "bob.json").unlink()
    again = grade(course, subs, GradeOptions(out=out, jobs=2))
    assert again.graded == ["bob"] and sorted(again.resumed) == ["alice", "carol", "dave", "eve", "frank"]
    assert load(out, "bob")["score"] == before["bob.json"]["score"]
    regraded = grade(course, subs, GradeOptions(out=tmp_path / "g2", jobs=1, regrade=True))
    assert len(regraded.graded) == 6
    for name, old in before.items():
        new = load(tmp_path / "g2", Path(name).stem)
        assert new["score"] == old["score"]
        assert [t["passed"] for q in new["questions"] for t in q["tests"]] == \
               [t["passed"] for q in old["questions"] for t in q["tests"]]


def test_cli_grade_prints_summary(tmp_path: Path) -> None:
    course_root = make_course(tmp_path)
    submission(tmp_path / "subs" / "alice")
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(course_root)
    try:
        result = runner.invoke(main, ["grade", "subs", "--out", "out", "--quiet"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "toy: 1 students" in result.output and "double" in result.output
    assert (course_root / "out" / "alice.json").exists()
    cgroups = Path("/sys/fs/cgroup/memory")
    leftover = [p.name for p in cgroups.glob("autograder-*") if not Path(f"/proc/{p.name[11:]}").exists()] \
        if cgroups.is_dir() else []
    assert not leftover, f"a finished run left cgroups behind: {leftover}"


def test_cli_unknown_assignment_is_a_usage_error(tmp_path: Path) -> None:
    make_course(tmp_path)
    (tmp_path / "subs").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["grade", "subs", "--assignment", "nope"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2 and "no assignment 'nope'" in result.output


def test_conftest_and_shadowing_files_are_ignored_never_imported(tmp_path: Path) -> None:
    """A student's conftest.py / numpy.py / pytest.py is ignored with a warning: never copied or imported."""
    course = CourseDir(make_course(tmp_path))
    marker = tmp_path / "INJECTED"
    evil = f"open({str(marker)!r}, 'w').write('x')\n"
    folder = submission(tmp_path / "subs" / "mallory")
    for name in ("conftest.py", "numpy.py", "pytest.py"):
        (folder / name).write_text(evil)
    report = grade(course, tmp_path / "subs", GradeOptions(out=tmp_path / "out", jobs=1))
    result = report.results[0]
    assert result.status == "graded" and result.score == 5
    assert result.warnings == ("ignored 3 other file(s): conftest.py, numpy.py, pytest.py",)
    assert load(tmp_path / "out", "mallory")["warnings"] == list(result.warnings)
    assert not marker.exists()
    # and a module that does `import numpy` inside the sandbox gets the real numpy, not a student file
    ok = submission(tmp_path / "subs2" / "trent")
    (ok / "toy.py").write_text(SOLUTION_TOY.replace("import numpy as np", "import numpy as np\nassert hasattr(np, 'linalg')"))
    assert grade(course, tmp_path / "subs2", GradeOptions(out=tmp_path / "out2", jobs=1)).results[0].score == 5


def test_killed_run_resumes_without_half_files(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    course_root = make_course(tmp_path)
    slow = SOLUTION_TOY.replace('"""Double things."""', '"""Double things."""\nimport time\ntime.sleep(0.3)')
    for i in range(12):
        submission(tmp_path / "subs" / f"s{i:02d}", toy=slow)
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from autograder.cli import main; main()", "grade", "subs", "--out", "out",
           "--quiet", "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=course_root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("s*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    cgroups = Path("/sys/fs/cgroup/memory")
    time.sleep(0.2)
    left_by_kill = [p.name for p in cgroups.glob("autograder-*") if not Path(f"/proc/{p.name[11:]}").exists()] \
        if cgroups.is_dir() else []
    first = sorted(p.stem for p in out.glob("s*.json"))
    assert 2 <= len(first) < 12, first
    for p in out.glob("s*.json"):
        json.loads(p.read_text())  # every file present is whole
    again = subprocess.run(cmd, cwd=course_root, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(first)} from an earlier run" in again.stdout
    assert sorted(p.stem for p in out.glob("s*.json")) == [f"s{i:02d}" for i in range(12)]
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temp files left behind"
    assert all(load(out, f"s{i:02d}")["score"] == 5 for i in range(12))
    stale = [name for name in left_by_kill if (cgroups / name).exists()]
    assert not stale, f"cgroups of the killed run were not swept: {stale}"
