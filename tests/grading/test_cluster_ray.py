"""`grade --ray` on a real two-node Ray cluster started on this machine: the same scores as a local
run, resume / --regrade / the gradebook as locally, and a node killed mid-run loses no student and
writes none twice.

The cluster (`ray.cluster_utils.Cluster`: two nodes of one CPU, an 80 MiB object store each) and
every `--ray` run live in a child process (`ray_driver.py`, which says why); this process grades
the same submissions locally and checks the files and the driver's record. The figures (local vs
cluster wall time) are printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from autograder.course import CourseDir
from autograder.exports.gradebook import default_db, diff, list_runs
from autograder.grading import GradeOptions, grade
from autograder.results import Result
from autograder.store import read_results

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                       reason="Ray is not installed: pip install 'dl-autograder[cluster]' to test grade --ray"),
    pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)"),
]

ASSIGNMENT = "backprop"
ROOT = Path(__file__).resolve().parents[2]


def _mutate(course: CourseDir, entry: dict, folder: Path) -> None:
    shutil.copytree(course.solutions_dir(ASSIGNMENT), folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / entry["file"]
    source = target.read_text()
    assert source.count(entry["replace"]) == 1, entry["name"]
    target.write_text(source.replace(entry["replace"], entry["with"]))


@pytest.fixture(scope="module")
def bank(course: CourseDir, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The examples (full, partial, broken with a hang) plus the first bug of each question and two
    correct alternatives from mutants.yaml; returns the folder and each student's kind."""
    subs = tmp_path_factory.mktemp("bank") / "subs"
    shutil.copytree(course.root / "examples" / ASSIGNMENT, subs)
    kinds = {"alice": "full", "bob": "partial", "carol": "broken"}
    seen: set[tuple[str, str]] = set()
    for entry in yaml.safe_load(course.mutants_file(ASSIGNMENT).read_text()):
        key = (entry["kind"], entry["question"])
        if key in seen or (entry["kind"] == "alternative" and entry["question"] not in ("sigmoid", "autodiff")):
            continue
        seen.add(key)
        student = f"{entry['kind']}-{entry['question']}-{entry['name']}"[:60]
        _mutate(course, entry, subs / student)
        kinds[student] = entry["kind"]
    (subs / student / "notes.txt").write_text("an extra file: skipped, and a warning in the result\n")
    return subs, kinds


def _verdicts(results: list[Result]) -> dict[str, tuple]:
    return {r.student: (r.status, r.score, r.submission_sha256, r.warnings,
                        tuple((t.name, t.passed, t.score, t.cause) for q in r.questions for t in q.tests))
            for r in results}


def _subset(bank: tuple[Path, dict[str, str]], folder: Path, count: int) -> dict[str, str]:
    """The first `count` students of the bank that do not hang (carol's timeouts cost seconds each run)."""
    subs, kinds = bank
    chosen = [s for s in sorted(kinds) if kinds[s] != "broken"][:count]
    for student in chosen:
        shutil.copytree(subs / student, folder / student)
    return {s: kinds[s] for s in chosen}


@pytest.fixture(scope="module")
def local(course: CourseDir, bank, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    subs, kinds = bank
    out = tmp_path_factory.mktemp("local")
    start = time.perf_counter()
    report = grade(course, subs, GradeOptions(out=out, jobs=2))
    seconds = time.perf_counter() - start
    assert not report.grader_errors and len(report.results) == len(kinds)
    return report, seconds


@pytest.fixture(scope="module")
def driven(course: CourseDir, bank, local, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[no-untyped-def]
    """Every --ray run, in the driver's process; returns its record and the folders it wrote."""
    subs, _ = bank
    work = tmp_path_factory.mktemp("ray")
    resume = _subset(bank, work / "resume_subs", 2)
    kill = _subset(bank, work / "kill_subs", 6)
    done = sorted(resume)[0]  # an interrupted run: one result already there (from the local run)
    (work / "resume_out").mkdir()
    shutil.copy2(local[0].out / f"{done}.json", work / "resume_out" / f"{done}.json")
    spec = {"course": str(course.root), "bank": str(subs), "bank_out": str(work / "bank_out"),
            "resume_subs": str(work / "resume_subs"), "resume_out": str(work / "resume_out"),
            "kill_subs": str(work / "kill_subs"), "kill_out": str(work / "kill_out"), "summary": str(work / "summary.json")}
    (work / "spec.json").write_text(json.dumps(spec))
    run = subprocess.run([sys.executable, "-m", "tests.grading.ray_driver", str(work / "spec.json")], cwd=ROOT,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-4000:]
    return {"record": json.loads((work / "summary.json").read_text()), "resume": resume, "kill": kill,
            "done": done, **{k: Path(v) for k, v in spec.items() if k.endswith("_out")}}


def test_bank_is_not_vacuous(local, bank) -> None:  # type: ignore[no-untyped-def]
    """The comparison below means something only if the students' scores differ as their kinds say."""
    report, _ = local
    _, kinds = bank
    assert sum(bool(r.warnings) for r in report.results) == 1, "one student has an extra file"
    for result in report.results:
        if kinds[result.student] in ("full", "alternative"):
            assert result.score == result.max_score, result.student
        else:
            assert result.score < result.max_score, result.student


def test_cluster_scores_identical_to_local(local, driven, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    local_report, local_s = local
    ran = driven["record"]["bank"]
    assert not ran["grader_errors"] and not ran["rerun"]
    assert ran["isolation"].startswith("ray cluster at ") and "2 nodes, 2 jobs" in ran["isolation"]
    assert tuple(ran["protections"]) == local_report.protections
    assert sorted(ran["graded"]) == sorted(r.student for r in local_report.results)
    assert _verdicts(read_results(driven["bank_out"])) == _verdicts(local_report.results)
    with capsys.disabled():
        print(f"\n[cluster figures] {len(ran['graded'])} students: local --jobs 2 {local_s:.1f} s; 2-node Ray "
              f"cluster (1 job per node) {ran['seconds']:.1f} s; cluster/local {ran['seconds'] / local_s:.2f}; "
              f"starting the cluster {driven['record']['start_seconds']:.1f} s")


def test_resume_regrade_and_gradebook_as_locally(local, driven) -> None:  # type: ignore[no-untyped-def]
    """An interrupted run (one result already there, from the local run) resumes on the cluster; --regrade
    grades everyone again; both runs are in the gradebook with nothing changed."""
    step = driven["record"]["resume"]
    kinds, done, out = driven["resume"], driven["done"], driven["resume_out"]
    (todo,) = set(kinds) - {done}
    code, output = step["resumed"]
    assert code == 0 and "resuming: 1 students already graded" in output, output
    assert step["middle"][f"{done}.json"] == step["before"][f"{done}.json"], "a resumed student is not graded again"
    assert set(step["middle"]) == {f"{s}.json" for s in kinds}
    code, output = step["regraded"]
    assert code == 0, output
    assert all(step["after"][name] != step["middle"][name] for name in step["middle"]), "--regrade rewrote every result"
    assert [r.id for r in list_runs(default_db(out))] == [1, 2], "every run is in the gradebook, as locally"
    change = diff(default_db(out), 1, 2)
    assert change.changes == () and change.unchanged == len(kinds), change.lines()
    expected = {s: v for s, v in _verdicts(local[0].results).items() if s in kinds}
    assert _verdicts(read_results(out)) == expected


def test_node_lost_mid_run_regrades_only_its_unfinished_students(local, driven) -> None:  # type: ignore[no-untyped-def]
    """The second node is killed right after it was handed a batch: exactly that batch is graded again on
    the other node, and every student is written exactly once."""
    ran, kinds, out = driven["record"]["kill"], driven["kill"], driven["kill_out"]
    assert 0 < len(ran["lost_batch"]) < len(kinds), "the run went on on the other node"
    assert sorted(ran["rerun"]) == sorted(ran["lost_batch"]), "exactly the lost node's unfinished students are re-run"
    assert not ran["grader_errors"]
    assert sorted(ran["graded"]) == sorted(kinds), "every student graded once"
    assert ran["written"] == {student: 1 for student in kinds}, "every result written exactly once"
    expected = {s: v for s, v in _verdicts(local[0].results).items() if s in kinds}
    assert _verdicts(read_results(out)) == expected
