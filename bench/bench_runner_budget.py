"""Benchmark: what one runner costs (memory, time per student), and what the decoder limits save.

A runner is the forked process that grades one batch of students in one pytest session. This
script grades one full batch (the largest the grader makes) of generated submissions with one
runner and samples the runner's peak resident memory (VmHWM) and address space (VmPeak) while it
works; it then decodes a hostile reply (a few tens of MB of `[],`) once with the decoder limits
off, in a fresh process, to show what the limits prevent. Figures are from one run on a shared,
noisy machine: compare them with each other, not across runs.

    python bench/bench_runner_budget.py --assignment backprop
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from autograder.course import CourseDir  # noqa: E402
from autograder.grading import GradeOptions, grade, pool  # noqa: E402
from autograder.grading.warm import warm_up  # noqa: E402
from autograder.sandbox.limits import vm_size  # noqa: E402
from bench_grade import generate  # noqa: E402

DECODE_SCRIPT = """
import resource, sys, time
from gradekit import codec
codec.MAX_WIRE_VALUES = 1 << 62  # limits off, to measure what they prevent
body = b"[" + b"[]," * int(sys.argv[1]) + b"[]]"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
value = codec.decode(codec.loads(body))
print(len(body), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, time.perf_counter() - t0)
"""


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmPeak"):
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def sample_runners(stop: threading.Event, peaks: dict[str, int]) -> None:
    """Keep the largest VmHWM/VmPeak seen among this process's forked runners (not the zygote)."""
    me = os.getpid()
    while not stop.is_set():
        for child in _children(me):
            try:
                cmd = open(f"/proc/{child}/cmdline", "rb").read()
            except OSError:
                continue
            if b"autograder.sandbox.zygote" in cmd:
                continue
            for key, value in _status(child).items():
                peaks[key] = max(peaks.get(key, 0), value)
        stop.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--n", type=int, default=pool.MAX_BATCH, help="students in the one batch")
    parser.add_argument("--hostile-values", type=int, default=10_000_000, help="`[],` items in the hostile reply")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    course = CourseDir(ROOT)
    warm_up()
    baseline = vm_size()
    peaks: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-budget-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        generate(course, args.assignment, args.n, subs)
        stop = threading.Event()
        sampler = threading.Thread(target=sample_runners, args=(stop, peaks), daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        report = grade(course, subs, GradeOptions(out=Path(tmp) / "grades", assignment=args.assignment, jobs=1,
                                                  batch_size=args.n))
        seconds = time.perf_counter() - t0
        stop.set()
        sampler.join()
    if report.grader_errors:
        sys.exit("grader errors: " + "; ".join(report.grader_errors))
    decoded = subprocess.run([sys.executable, "-c", DECODE_SCRIPT, str(args.hostile_values)], cwd=ROOT,
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    reply_bytes, decode_bytes, decode_s = decoded.stdout.split()
    mib = 1 << 20
    figures = {
        "assignment": args.assignment, "students_in_batch": args.n,
        "batch_seconds": round(seconds, 1), "seconds_per_student": round(seconds / args.n, 3),
        "grader_vm_at_fork_mib": round(baseline / mib), "runner_memory_limit_mib": pool.RUNNER_MEMORY // mib,
        "runner_peak_rss_mib": round(peaks.get("VmHWM", 0) / mib),
        "runner_peak_vm_mib": round(peaks.get("VmPeak", 0) / mib),
        "runner_vm_above_baseline_mib": round((peaks.get("VmPeak", 0) - baseline) / mib),
        "hostile_reply_mib": round(int(reply_bytes) / mib, 1),
        "hostile_reply_decoded_without_limits_mib": round(int(decode_bytes) / mib),
        "hostile_decode_blowup": round(int(decode_bytes) / int(reply_bytes), 1),
        "hostile_decode_seconds_without_limits": round(float(decode_s), 2),
    }
    for key, value in figures.items():
        print(f"  {key:<42} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
