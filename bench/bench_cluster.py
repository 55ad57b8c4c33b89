"""Benchmark: `grade --ray` on a local multi-node Ray cluster against a local run, in one run.

It generates N submissions (as bench_grade.py does), grades them locally with --jobs J, then
starts a Ray cluster of K nodes with C CPUs each on this machine (`ray.cluster_utils.Cluster`)
and grades them again there (--jobs C per node), checks that every score is the same, and prints
both wall times and their ratio. On one machine the cluster cannot be faster than the local pool
with the same cores: the ratio is the price of Ray (node warm-up, object store, streaming), which
a real cluster pays once for many machines. Compare ratios from one run, not seconds across runs.

    python bench/bench_cluster.py --n 40 --nodes 2 --cpus-per-node 1 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from autograder.course import CourseDir  # noqa: E402
from autograder.grading import GradeOptions, grade  # noqa: E402
from bench_grade import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--jobs", type=int, default=2, help="local run's jobs")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--cpus-per-node", type=int, default=1)
    args = parser.parse_args()
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        sys.exit("Ray is not installed: pip install 'dl-autograder[cluster]'")
    course = CourseDir(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        generate(course, args.assignment, args.n, subs)
        t0 = time.perf_counter()
        local = grade(course, subs, GradeOptions(out=Path(tmp) / "local", assignment=args.assignment, jobs=args.jobs))
        local_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        store = 80 << 20
        cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": args.cpus_per_node, "object_store_memory": store, "include_dashboard": False})
        try:
            for _ in range(args.nodes - 1):
                cluster.add_node(num_cpus=args.cpus_per_node, object_store_memory=store)
            cluster.wait_for_nodes()
            start_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            remote = grade(course, subs, GradeOptions(out=Path(tmp) / "cluster", assignment=args.assignment,
                                                      jobs=args.cpus_per_node, ray=cluster.address))
            cluster_s = time.perf_counter() - t0
        finally:
            cluster.shutdown()
    same = {r.student: r.score for r in local.results} == {r.student: r.score for r in remote.results}
    print(f"{args.n} submissions of {args.assignment}")
    print(f"local, --jobs {args.jobs}:                          {local_s:7.1f} s  ({1000 * local_s / args.n:.0f} ms each)")
    print(f"Ray cluster, {args.nodes} nodes x {args.cpus_per_node} CPU (node warm-up included): "
          f"{cluster_s:7.1f} s  ({1000 * cluster_s / args.n:.0f} ms each); starting the cluster {start_s:.1f} s")
    print(f"cluster / local: {cluster_s / local_s:.2f}; scores identical: {same}; grader errors: "
          f"local {len(local.grader_errors)}, cluster {len(remote.grader_errors)}; re-run: {len(remote.rerun)}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
