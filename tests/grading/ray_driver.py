"""The Ray side of test_cluster_ray.py, run in a child process: start a two-node cluster, grade on it
three times (the bank; an interrupted run resumed, then --regrade, through the CLI; a run whose
second node is killed once it holds a batch) and write what happened as JSON for the test.

Why a child process: a process that has started Ray keeps Ray's threads after `ray.shutdown()`,
and a grading runner forked from it later can crash (SIGSEGV). The CLI never does both in one
process; the test session does, so Ray never runs in it.

    python -m tests.grading.ray_driver SPEC.json     (SPEC: see `main`)
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

STORE_BYTES = 80 << 20


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.glob("*.json"))}


def _report(report: Any, seconds: float) -> dict[str, Any]:
    return {"seconds": seconds, "graded": report.graded, "rerun": report.rerun, "isolation": report.isolation,
            "protections": list(report.protections), "grader_errors": report.grader_errors}


def main(spec: dict[str, Any]) -> dict[str, Any]:
    """spec: course, bank, bank_out, resume_subs, resume_out, kill_subs, kill_out (paths)."""
    from click.testing import CliRunner
    from ray.cluster_utils import Cluster

    from autograder.cli import main as cli
    from autograder.course import ENV_COURSE, CourseDir
    from autograder.grading import GradeOptions, grade
    from autograder.grading import cluster as cluster_module
    from autograder.results import Result

    course = CourseDir(Path(spec["course"]))
    summary: dict[str, Any] = {}
    t0 = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": STORE_BYTES, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1, object_store_memory=STORE_BYTES)
        cluster.wait_for_nodes()
        summary["start_seconds"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        report = grade(course, Path(spec["bank"]), GradeOptions(out=Path(spec["bank_out"]), jobs=1, ray=cluster.address))
        summary["bank"] = _report(report, time.perf_counter() - t0)

        out = Path(spec["resume_out"])
        os.environ[ENV_COURSE] = str(course.root)
        args = ["grade", spec["resume_subs"], "--ray", cluster.address, "--out", str(out), "--jobs", "1", "-q"]
        before = _mtimes(out)
        resumed = CliRunner().invoke(cli, args)
        middle = _mtimes(out)
        regraded = CliRunner().invoke(cli, [*args, "--regrade"])
        summary["resume"] = {"before": before, "resumed": [resumed.exit_code, resumed.output], "middle": middle,
                             "regraded": [regraded.exit_code, regraded.output], "after": _mtimes(out)}

        written: Counter[str] = Counter()
        real_write = cluster_module.write_result

        def counting_write(path: Path, result: Result) -> Path:
            written[result.student] += 1
            return real_write(path, result)

        worker = next(iter(cluster.worker_nodes))
        lost_batch: list[str] = []
        real_send = cluster_module.RayCluster._send

        def send_then_kill(self, node, payload):  # type: ignore[no-untyped-def]
            stream = real_send(self, node, payload)
            if node.node_id == worker.node_id and not lost_batch:  # handed a batch, the node dies with it
                cluster.remove_node(worker, allow_graceful=False)
                lost_batch.extend(student for student, _ in payload)
            return stream

        cluster_module.write_result = counting_write  # type: ignore[assignment]
        cluster_module.RayCluster._send = send_then_kill  # type: ignore[method-assign]
        t0 = time.perf_counter()
        report = grade(course, Path(spec["kill_subs"]), GradeOptions(out=Path(spec["kill_out"]), jobs=1,
                                                                      ray=cluster.address))
        summary["kill"] = {**_report(report, time.perf_counter() - t0), "lost_batch": lost_batch,
                           "written": dict(written)}
    finally:
        cluster.shutdown()
    return summary


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(spec["summary"]).write_text(json.dumps(main(spec)))
