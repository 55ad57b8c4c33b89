"""Benchmark: how grading scales with --jobs, and what one more submission costs, isolated vs plain.

In one run, for each assignment (default: hw1, the homework nbgrader and Otter were timed on,
beside the project's own assignments), it generates N submissions (hw1: its 20 bundled
submissions replicated; others: reference copies and mutants, as bench_grade.py), then times
1. `autograder grade` (full isolation) for every value of --jobs, printing seconds and the
   speed-up per doubling of the jobs;
2. the cost of one extra submission: `autograder grade` of N and of --n0 submissions, and the same
   tests in one plain process (no isolation, one pytest session per batch of students as in a
   runner), each as (T(N) - T(n0)) / (N - n0);
3. with --baseline DIR (another checkout of the project, e.g. `git archive` of an older commit),
   or --baseline-ref REF (this checkout with autograder/ taken from git REF, so the course,
   hw1 included, is the same and only the grader differs), that grader on the same submissions,
   for a before/after ratio in the same run.
Beside wall seconds it reports CPU seconds of the whole process tree (grader, runners, zygote,
workers): on a shared machine CPU per extra submission is the steadier figure.
Scores are checked: the grader's must equal the plain process's for every submission.
Machines here are shared and noisy: compare ratios from one run, not seconds across runs. The
sweep is meaningful only up to the machine's cores (`os.cpu_count()` is printed beside it).

    python bench/bench_scaling.py --assignments hw1 --n 1000 --jobs 2
    python bench/bench_scaling.py --assignments hw1,backprop --n 400 --jobs 1,2,4,8,16
    python bench/bench_scaling.py --assignments hw1 --n 1000 --jobs 1,2 --baseline-ref main
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from autograder.course import CourseDir  # noqa: E402
from bench_grade import generate  # noqa: E402

HW1 = ROOT / "examples" / "hw1" / "submissions"


def make_submissions(course: CourseDir, name: str, n: int, dest: Path) -> None:
    """N submissions in `dest`: hw1's bundled ones replicated in turn, or generated from mutants."""
    dest.mkdir(parents=True)
    if name != "hw1":
        generate(course, name, n, dest)
        return
    originals = sorted(p for p in HW1.iterdir() if p.is_dir())
    for i in range(n):
        shutil.copytree(originals[i % len(originals)], dest / f"s{i:04d}", ignore=shutil.ignore_patterns("__pycache__"))


def subset(subs: Path, n: int, dest: Path) -> Path:
    """The first n submissions of `subs`, as a folder of their own."""
    dest.mkdir(parents=True)
    for folder in sorted(subs.iterdir())[:n]:
        shutil.copytree(folder, dest / folder.name)
    return dest


def _children_cpu() -> float:
    """User + system CPU seconds of every finished descendant (each process tree is reaped up the chain)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def baseline_tree(ref: str, dest: Path) -> Path:
    """This checkout's files (as committed) with autograder/ from git `ref`: only the grader differs."""
    dest.mkdir(parents=True)
    for tree, paths in (("HEAD", []), (ref, ["autograder"])):
        if paths:
            shutil.rmtree(dest / "autograder")
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", tree, *paths], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def run_grader_cpu(tree: Path, subs: Path, name: str, out: Path, jobs: int) -> tuple[float, float, dict[str, float]]:
    """Wall seconds, CPU seconds of the process tree, and the scores of one `autograder grade` from `tree`."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "from autograder.cli import main; main()", "grade", str(subs), "--assignment", name,
         "--out", str(out), "--quiet", "--jobs", str(jobs)], cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    if proc.returncode != 0:
        sys.exit(f"autograder grade ({tree}) failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    scores = {p.stem: json.loads(p.read_text())["score"] for p in out.glob("s*.json")}
    return seconds, cpu, scores


PLAIN_SCRIPT = """
import json, sys
from pathlib import Path
from autograder.course import CourseDir
from autograder.grading.inprocess import run_inprocess_batch
from autograder.grading.pool import MAX_BATCH
from autograder.results import build_result
from autograder.grading.warm import warm_up
warm_up()
course = CourseDir(Path(sys.argv[1]))
a = course.assignment(sys.argv[2])
subs = sorted(Path(sys.argv[3]).iterdir())
scores = {}
for i in range(0, len(subs), MAX_BATCH):
    outcomes = run_inprocess_batch(course, a, {p.name: p for p in subs[i:i + MAX_BATCH]})
    scores.update({sid: build_result(a.spec, sid, o).score for sid, o in outcomes.items()})
print(json.dumps({"scores": scores}))
"""


def run_plain(subs: Path, name: str) -> tuple[float, dict[str, float]]:
    """Seconds for the same tests in one plain process (imports included), and the scores.

    One pytest session per MAX_BATCH students, as a runner has: pytest's end-of-session summary
    compares every failed test with every report, quadratic in the students of one session.
    """
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(ROOT), name, str(subs)], cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"in-process run failed:\n{proc.stderr[-3000:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])["scores"]


def mismatches(a: dict[str, float], b: dict[str, float]) -> list[str]:
    return sorted(s for s in set(a) | set(b) if abs(a.get(s, -1.0) - b.get(s, -2.0)) > 1e-9)


def bench_assignment(course: CourseDir, name: str, args: argparse.Namespace, tmp: Path) -> dict:
    subs = tmp / name / "n"
    make_submissions(course, name, args.n, subs)
    small = subset(subs, args.n0, tmp / name / "n0")
    extra = args.n - args.n0
    figures: dict = {"assignment": name, "n": args.n, "n0": args.n0, "cpu_count": os.cpu_count()}
    cpu0 = _children_cpu()
    plain_s, plain_scores = run_plain(subs, name)
    plain_cpu = _children_cpu() - cpu0
    cpu0 = _children_cpu()
    plain0_s, _ = run_plain(small, name)
    plain0_cpu = _children_cpu() - cpu0
    figures["plain_s"] = round(plain_s, 3)
    figures["plain_extra_ms"] = round((plain_s - plain0_s) / extra * 1000, 2)
    figures["plain_extra_cpu_ms"] = round((plain_cpu - plain0_cpu) / extra * 1000, 2)
    bad: list[str] = []
    sweep = []
    for jobs in args.jobs:
        seconds, cpu, scores = run_grader_cpu(ROOT, subs, name, tmp / name / f"grades-j{jobs}", jobs)
        bad += mismatches(scores, plain_scores)
        sweep.append({"jobs": jobs, "s": round(seconds, 2), "cpu_s": round(cpu, 2)})
    figures["sweep"] = sweep
    main_jobs = args.jobs[-1] if len(args.jobs) == 1 else min(args.jobs, key=lambda j: abs(j - (os.cpu_count() or 1)))
    full = next(r for r in sweep if r["jobs"] == main_jobs)
    small_s, small_cpu, scores = run_grader_cpu(ROOT, small, name, tmp / name / "grades-n0", main_jobs)
    bad += mismatches(scores, {k: v for k, v in plain_scores.items() if k in scores})
    figures["grader_jobs"] = main_jobs
    figures["grader_extra_ms"] = round((full["s"] - small_s) / extra * 1000, 2)
    figures["grader_extra_cpu_ms"] = round((full["cpu_s"] - small_cpu) / extra * 1000, 2)
    if args.baseline:
        base_s, base_cpu, base_scores = run_grader_cpu(args.baseline, subs, name, tmp / name / "grades-base", main_jobs)
        base0_s, base0_cpu, _ = run_grader_cpu(args.baseline, small, name, tmp / name / "grades-base-n0", main_jobs)
        bad += mismatches(base_scores, plain_scores)
        figures["baseline_s"] = round(base_s, 2)
        figures["baseline_cpu_s"] = round(base_cpu, 2)
        figures["baseline_extra_ms"] = round((base_s - base0_s) / extra * 1000, 2)
        figures["baseline_extra_cpu_ms"] = round((base_cpu - base0_cpu) / extra * 1000, 2)
    figures["score_mismatches"] = sorted(set(bad))
    return figures


def report(f: dict) -> None:
    print(f"{f['assignment']}: {f['n']} submissions (extra cost from {f['n0']} to {f['n']}), {f['cpu_count']} cores here")
    prev = None
    for row in f["sweep"]:
        step = f"   x{prev['s'] / row['s']:.2f} over --jobs {prev['jobs']}" if prev else ""
        total = f"   x{f['sweep'][0]['s'] / row['s']:.2f} over --jobs {f['sweep'][0]['jobs']}" if prev else ""
        print(f"  --jobs {row['jobs']:<3} {row['s']:8.2f} s ({row['cpu_s']:.1f} s CPU){step}{total}")
        prev = row
    print(f"  one plain process        {f['plain_s']:8.2f} s for all; per extra submission {f['plain_extra_ms']:.2f} ms"
          f" ({f['plain_extra_cpu_ms']:.2f} ms CPU)")
    print(f"  isolated (--jobs {f['grader_jobs']})      per extra submission {f['grader_extra_ms']:.2f} ms"
          f" ({f['grader_extra_cpu_ms']:.2f} ms CPU)   x{f['grader_extra_ms'] / f['plain_extra_ms']:.1f} the plain"
          f" process (CPU x{f['grader_extra_cpu_ms'] / f['plain_extra_cpu_ms']:.1f})")
    if "baseline_s" in f:
        now = next(r for r in f["sweep"] if r["jobs"] == f["grader_jobs"])
        print(f"  baseline grader          {f['baseline_s']:8.2f} s ({f['baseline_cpu_s']:.1f} s CPU); per extra submission"
              f" {f['baseline_extra_ms']:.2f} ms ({f['baseline_extra_cpu_ms']:.2f} ms CPU)")
        print(f"  this grader vs baseline: x{f['baseline_s'] / now['s']:.2f} faster in total (CPU"
              f" x{f['baseline_cpu_s'] / now['cpu_s']:.2f}); per extra submission x{f['baseline_extra_ms'] / f['grader_extra_ms']:.2f}"
              f" (CPU x{f['baseline_extra_cpu_ms'] / f['grader_extra_cpu_ms']:.2f})")
    print(f"  score mismatches (graders vs plain process): {len(f['score_mismatches'])} {f['score_mismatches'][:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", default="hw1", help="comma-separated; hw1 uses examples/hw1 replicated")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--n0", type=int, default=40, help="the smaller run the extra cost is measured from")
    parser.add_argument("--jobs", default="2", help="comma-separated values of --jobs, e.g. 1,2,4,8,16")
    parser.add_argument("--baseline", type=Path, help="another checkout whose grader is timed on the same submissions")
    parser.add_argument("--baseline-ref", help="git ref whose autograder/ is timed with this checkout's course files")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.jobs = [int(j) for j in args.jobs.split(",")]
    if not 0 < args.n0 < args.n:
        parser.error("need 0 < --n0 < --n")
    course = CourseDir(ROOT)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        if args.baseline_ref:
            args.baseline = baseline_tree(args.baseline_ref, Path(tmp) / "baseline")
        for name in args.assignments.split(","):
            figures = bench_assignment(course, name, args, Path(tmp))
            report(figures)
            results.append(figures)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
