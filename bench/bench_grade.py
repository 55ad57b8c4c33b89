"""Benchmark: seconds per submission for the grader, a fresh pytest per submission, and the limit.

In one run it generates N submissions (reference copies and mutants from mutants.yaml), then times
1. `autograder grade` (isolated, all cores),
2. one fresh `pytest` process per submission (a sample of them: each costs seconds),
3. the in-process limit: all tests of all submissions in one process and one pytest session, no
   isolation, set-up (imports) included once,
and prints the ratios. It also checks that the grader's scores equal the in-process scores.
Machines here are shared and noisy: compare ratios from one run, not seconds across runs.

    python bench/bench_grade.py --n 200 --assignment backprop
    python bench/bench_grade.py --n 24 --fresh-sample 3 --assignment torchnets
    python bench/bench_grade.py --marginal          # per-student CPU of each assignment, start-up excluded

It also reports the CPU seconds per submission of the whole grading process tree (the grader, its
runners, the zygote, supervisors and workers), the figure that says what grading costs a course.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course import CourseDir  # noqa: E402

LIMIT_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from autograder.course import CourseDir
from autograder.grading.inprocess import run_inprocess_batch
from autograder.results import build_result
from autograder.grading.warm import warm_up
warm_up()
course = CourseDir(Path(sys.argv[1]))
a = course.assignment(sys.argv[2])
subs = Path(sys.argv[3])
folders = {p.name: p for p in sorted(subs.iterdir())}
outcomes = run_inprocess_batch(course, a, folders)
scores = {sid: build_result(a.spec, sid, o).score for sid, o in outcomes.items()}
print(json.dumps({"seconds": time.perf_counter() - t0, "scores": scores}))
"""


def generate(course: CourseDir, name: str, n: int, dest: Path, seed: int = 0) -> None:
    """N submissions: every fourth a reference copy, the rest each with one plausible bug."""
    rnd = random.Random(seed)
    bugs = [m for m in yaml.safe_load(course.mutants_file(name).read_text()) if m["kind"] == "bug"]
    solutions = course.solutions_dir(name)
    for i in range(n):
        folder = dest / f"s{i:04d}"
        shutil.copytree(solutions, folder, ignore=shutil.ignore_patterns("__pycache__"))
        if i % 4:
            bug = rnd.choice(bugs)
            path = folder / bug["file"]
            path.write_text(path.read_text().replace(bug["replace"], bug["with"]))


def _children_cpu() -> float:
    """User + system CPU seconds of every finished descendant (each process tree is reaped up the chain)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grade_cpu(course: CourseDir, name: str, n: int, jobs: int) -> float:
    """CPU seconds of the whole process tree of one `autograder grade` run over n generated submissions."""
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        generate(course, name, n, subs)
        cpu0 = _children_cpu()
        run = subprocess.run([sys.executable, "-c", "from autograder.cli import main; main()", "grade", str(subs),
                              "--assignment", name, "--out", str(Path(tmp) / "grades"), "--quiet", "--jobs", str(jobs)],
                             cwd=ROOT, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"autograder grade failed ({run.returncode}):\n{run.stderr[-3000:]}")
        return _children_cpu() - cpu0


def marginal(names: list[str], small: int, large: int, jobs: int) -> None:
    """Per-student CPU without the start-up: (CPU(large) - CPU(small)) / (large - small), per assignment."""
    course = CourseDir(ROOT)
    for name in names:
        a, b = grade_cpu(course, name, small, jobs), grade_cpu(course, name, large, jobs)
        per = (b - a) / (large - small)
        print(f"{name:10s} CPU per student {per:6.2f} s   start-up {a - small * per:6.2f} s   ({small} and {large} submissions)")


def main() -> None:
    if "--marginal" in sys.argv:
        parser = argparse.ArgumentParser(description="per-student CPU of autograder grade, start-up excluded")
        parser.add_argument("--marginal", action="store_true")
        parser.add_argument("--assignments", default="backprop,cnn,torchnets")
        parser.add_argument("--small", type=int, default=2)
        parser.add_argument("--large", type=int, default=10)
        parser.add_argument("--jobs", type=int, default=2)
        margs = parser.parse_args()
        marginal(margs.assignments.split(","), margs.small, margs.large, margs.jobs)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--fresh-sample", type=int, default=10, help="submissions timed with a fresh pytest each")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    course = CourseDir(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        generate(course, args.assignment, args.n, subs)

        t0 = time.perf_counter()
        cpu0 = _children_cpu()
        grade = subprocess.run(
            [sys.executable, "-c", "from autograder.cli import main; main()", "grade", str(subs), "--assignment",
             args.assignment, "--out", str(Path(tmp) / "grades"), "--quiet", "--jobs", str(args.jobs)],
            cwd=ROOT, capture_output=True, text=True,
        )
        grader_s = (time.perf_counter() - t0) / args.n
        grader_cpu_s = (_children_cpu() - cpu0) / args.n  # grader, runners, zygote, supervisors, workers
        if grade.returncode != 0:
            sys.exit(f"autograder grade failed ({grade.returncode}):\n{grade.stdout}\n{grade.stderr}")
        grader_scores = {p.stem: json.loads(p.read_text())["score"] for p in (Path(tmp) / "grades").glob("s*.json")}

        limit = subprocess.run([sys.executable, "-c", LIMIT_SCRIPT, str(ROOT), args.assignment, str(subs)],
                               cwd=ROOT, capture_output=True, text=True)
        if limit.returncode != 0:
            sys.exit(f"in-process run failed:\n{limit.stderr}")
        limit_data = json.loads(limit.stdout.strip().splitlines()[-1])
        limit_s = limit_data["seconds"] / args.n

        sample = sorted(subs.iterdir())[: args.fresh_sample]
        t0 = time.perf_counter()
        for folder in sample:
            subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
                 f"--rootdir={ROOT / 'assignments' / args.assignment / 'tests'}",
                 "--gradekit-assignment", str(ROOT / "release" / args.assignment),
                 "--gradekit-student-dir", str(folder), "--gradekit-student-id", folder.name,
                 str(ROOT / "assignments" / args.assignment / "tests")],
                cwd=ROOT, capture_output=True, text=True,
            )
        fresh_s = (time.perf_counter() - t0) / len(sample)

    mismatched = sorted(s for s in grader_scores if abs(grader_scores[s] - limit_data["scores"].get(s, -1)) > 1e-9)
    figures = {
        "n": args.n, "assignment": args.assignment, "fresh_sample": len(sample),
        "grader_s_per_submission": round(grader_s, 4),
        "grader_cpu_s_per_submission": round(grader_cpu_s, 4),
        "fresh_pytest_s_per_submission": round(fresh_s, 4),
        "inprocess_limit_s_per_submission": round(limit_s, 4),
        "grader_over_limit": round(grader_s / limit_s, 2),
        "fresh_over_grader": round(fresh_s / grader_s, 1),
        "score_mismatches": mismatched,
    }
    print(f"{args.n} submissions of {args.assignment} (fresh pytest timed on {len(sample)} of them)")
    print(f"  autograder grade      {grader_s * 1000:8.1f} ms/submission")
    print(f"  ... CPU, all processes {grader_cpu_s * 1000:7.1f} ms/submission (start-up included, shared by the n)")
    print(f"  fresh pytest each     {fresh_s * 1000:8.1f} ms/submission")
    print(f"  in-process limit      {limit_s * 1000:8.1f} ms/submission")
    print(f"  grader / limit        {grader_s / limit_s:8.2f}x   (target <= 2)")
    print(f"  fresh / grader        {fresh_s / grader_s:8.1f}x   (target >= 10)")
    print(f"  score mismatches grader vs in-process: {len(mismatched)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
