"""Profile one grading run: cProfile of the grading parent and of every forked runner.

Grades N generated submissions (as bench_scaling.py makes them) with full isolation, in this
process, with the parent under cProfile and each runner (pool._runner, wrapped here only) under
its own cProfile; prints the top functions of the parent and of all runners together, by own time
and by cumulative time, per student. The sandbox's zygote and workers are other programs: their
cost shows here as the runner waiting on the worker's socket (remote.py, select/recv).

    python bench/profile_grade.py --assignment hw1 --n 200 --jobs 2 [--save DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from autograder.course import CourseDir  # noqa: E402
from autograder.grading import GradeOptions, grade, pool  # noqa: E402
from bench_scaling import make_submissions  # noqa: E402


def profiled_runner(save: Path):
    """pool._runner, profiled into save/runner-<pid>.prof (the wrapper runs in the forked runner)."""
    original = pool._runner

    def runner(*args, **kwargs):  # type: ignore[no-untyped-def]
        profile = cProfile.Profile()
        try:
            return profile.runcall(original, *args, **kwargs)
        finally:
            profile.dump_stats(str(save / f"runner-{os.getpid()}.prof"))

    return runner


def show(stats: pstats.Stats, title: str, students: int, top: int) -> None:
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        stats.stream = buf  # type: ignore[attr-defined]
        stats.sort_stats(key).print_stats(top)
        print(f"==== {title}, by {key} (divide by {students} students for per-student figures)")
        lines = buf.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print("\n".join(lines[max(0, start - 3):]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="hw1")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", type=Path, help="keep the .prof files here")
    args = parser.parse_args()
    course = CourseDir(ROOT)
    with tempfile.TemporaryDirectory(prefix="profile-grade-") as tmp:
        save = args.save or Path(tmp) / "prof"
        save.mkdir(parents=True, exist_ok=True)
        subs = Path(tmp) / "subs"
        make_submissions(course, args.assignment, args.n, subs)
        pool._runner = profiled_runner(save)  # type: ignore[assignment]
        parent = cProfile.Profile()
        t0 = time.perf_counter()
        report = parent.runcall(grade, course, subs, GradeOptions(out=Path(tmp) / "grades", assignment=args.assignment,
                                                                   jobs=args.jobs))
        wall = time.perf_counter() - t0
        parent.dump_stats(str(save / "parent.prof"))
        runners = sorted(save.glob("runner-*.prof"))
        print(f"{args.n} submissions of {args.assignment}, --jobs {args.jobs}: {wall:.2f} s wall in grade(), "
              f"{len(runners)} runners, grader errors: {len(report.grader_errors)}")
        show(pstats.Stats(str(save / "parent.prof")), "grading parent", args.n, args.top)
        if runners:
            show(pstats.Stats(*[str(p) for p in runners]), f"all {len(runners)} runners together", args.n, args.top)


if __name__ == "__main__":
    main()
