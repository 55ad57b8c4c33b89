"""`grade --ray` on a real two-node Ray cluster started on this machine: the same scores as a local
run, resume / --regrade / the gradebook as locally, and a node killed mid-run loses no student and
writes none twice.

The cluster (`ray.cluster_utils.Cluster`) has two nodes of one CPU each and a small object store.
The figures (local vs cluster wall time) are printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from autograder.cli import main
from autograder.course import ENV_COURSE, CourseDir
from autograder.exports.gradebook import default_db, diff, list_runs
from autograder.grading import GradeOptions, grade
from autograder.grading import cluster as cluster_module
from autograder.results import Result
from autograder.store import read_results

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'dl-autograder[cluster]' to test grade --ray")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")

ASSIGNMENT = "backprop"
STORE_BYTES = 80 << 20


@pytest.fixture(scope="module")
def ray_cluster():  # type: ignore[no-untyped-def]
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": STORE_BYTES, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1, object_store_memory=STORE_BYTES)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


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
def on_cluster(course: CourseDir, bank, ray_cluster, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    subs, _ = bank
    out = tmp_path_factory.mktemp("cluster")
    start = time.perf_counter()
    report = grade(course, subs, GradeOptions(out=out, jobs=1, ray=ray_cluster.address))
    return report, time.perf_counter() - start


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


def test_cluster_scores_identical_to_local(local, on_cluster, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    local_report, local_s = local
    report, cluster_s = on_cluster
    assert not report.grader_errors and not report.rerun
    assert report.isolation.startswith("ray cluster at ") and "2 nodes, 2 jobs" in report.isolation
    assert report.protections == local_report.protections
    assert sorted(report.graded) == sorted(r.student for r in local_report.results)
    assert _verdicts(report.results) == _verdicts(local_report.results)
    assert _verdicts(read_results(report.out)) == _verdicts(local_report.results), "the head wrote every result"
    with capsys.disabled():
        print(f"\n[cluster figures] {len(report.results)} students: local --jobs 2 {local_s:.1f} s; "
              f"2-node Ray cluster (1 job per node) {cluster_s:.1f} s; cluster/local {cluster_s / local_s:.2f}")


def _subset(bank: tuple[Path, dict[str, str]], folder: Path, count: int) -> dict[str, str]:
    """The first `count` students of the bank that do not hang (carol's timeouts cost seconds each run)."""
    subs, kinds = bank
    chosen = [s for s in sorted(kinds) if kinds[s] != "broken"][:count]
    for student in chosen:
        shutil.copytree(subs / student, folder / student)
    return {s: kinds[s] for s in chosen}


def test_resume_regrade_and_gradebook_as_locally(course: CourseDir, bank, local, ray_cluster, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """An interrupted run (one result already there, from the local run) resumes on the cluster; --regrade
    grades everyone again; both runs are in the gradebook with nothing changed."""
    kinds = _subset(bank, tmp_path / "subs", 2)
    done, todo = sorted(kinds)
    out = tmp_path / "grades"
    out.mkdir()
    shutil.copy2(local[0].out / f"{done}.json", out / f"{done}.json")
    kept = (out / f"{done}.json").stat().st_mtime_ns
    monkeypatch.setenv(ENV_COURSE, str(course.root))
    args = ["grade", str(tmp_path / "subs"), "--ray", ray_cluster.address, "--out", str(out), "--jobs", "1", "-q"]
    resumed = CliRunner().invoke(main, args)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming: 1 students already graded" in resumed.output
    assert (out / f"{done}.json").stat().st_mtime_ns == kept, "a resumed student is not graded again"
    assert (out / f"{todo}.json").is_file()
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    regraded = CliRunner().invoke(main, [*args, "--regrade"])
    assert regraded.exit_code == 0, regraded.output
    assert all(p.stat().st_mtime_ns != before[p.name] for p in out.glob("*.json")), "--regrade rewrote every result"
    assert [r.id for r in list_runs(default_db(out))] == [1, 2], "every run is in the gradebook, as locally"
    change = diff(default_db(out), 1, 2)
    assert change.changes == () and change.unchanged == len(kinds), change.lines()
    expected = {s: v for s, v in _verdicts(local[0].results).items() if s in kinds}
    assert _verdicts(read_results(out)) == expected


def test_node_lost_mid_run_regrades_only_its_unfinished_students(course: CourseDir, bank, local, ray_cluster,
                                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Runs last: it kills the cluster's second node. Every student is written exactly once."""
    kinds = _subset(bank, tmp_path / "subs", 6)
    out = tmp_path / "grades"
    written: Counter[str] = Counter()
    real_write = cluster_module.write_result

    def counting_write(path: Path, result: Result) -> Path:
        written[result.student] += 1
        return real_write(path, result)

    monkeypatch.setattr(cluster_module, "write_result", counting_write)
    worker = next(iter(ray_cluster.worker_nodes))
    lost_batch: list[str] = []
    real_send = cluster_module.RayCluster._send

    def send_then_kill(self, node, payload):  # type: ignore[no-untyped-def]
        stream = real_send(self, node, payload)
        if node.node_id == worker.node_id and not lost_batch:  # handed a batch, the node dies with it
            ray_cluster.remove_node(worker, allow_graceful=False)
            lost_batch.extend(student for student, _ in payload)
        return stream

    monkeypatch.setattr(cluster_module.RayCluster, "_send", send_then_kill)
    report = grade(course, tmp_path / "subs", GradeOptions(out=out, jobs=1, ray=ray_cluster.address))
    assert 0 < len(lost_batch) < len(kinds), "the run went on on the other node"
    assert sorted(report.rerun) == sorted(lost_batch), "exactly the lost node's unfinished students are re-run"
    assert not report.grader_errors
    assert sorted(report.graded) == sorted(kinds), "every student graded once"
    assert written == Counter({student: 1 for student in kinds}), "every result written exactly once"
    expected = {s: v for s, v in _verdicts(local[0].results).items() if s in kinds}
    assert _verdicts(report.results) == expected
    assert sorted(p.stem for p in out.glob("*.json")) == sorted(kinds)
    assert all(json.loads(p.read_text())["status"] == "graded" for p in out.glob("*.json"))
