"""Benchmark: the cost of one sandboxed worker (start, confine, one call, close) as root and rootless.

In one run it times N workers in this process's mode and, when run as root, N more in a child
running as `nobody` (rootless: a user namespace first), and prints milliseconds per worker and
the ratio. Machines here are shared and noisy: compare the ratio from one run, not seconds.

    python bench/bench_sandbox_modes.py --n 30
    python bench/bench_sandbox_modes.py --n 30 --python /path/to/a/python/nobody/can/run

The rootless half needs a Python that `nobody` can run and that imports this project (as in
tests/sandbox/test_rootless.py); without one it is skipped with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(n: int) -> dict:
    """Start a sandbox, then time n workers one after the other; returns ms per worker and the probe line."""
    from autograder.sandbox import Sandbox

    work = Path(tempfile.mkdtemp(prefix="bench-modes-"))
    student = work / "student"
    student.mkdir()
    (student / "m.py").write_text("def f(x):\n    return x + 1\n")
    box = Sandbox.start(work_dir=work / "sb")
    try:
        t0 = time.perf_counter()
        for i in range(n):
            with box.provider(student, student_id=f"s{i}") as p:
                assert p.module("m").f(i) == i + 1
        ms = (time.perf_counter() - t0) * 1000 / n
        return {"ms_per_worker": ms, "isolation": box.describe(), "uid": os.geteuid()}
    finally:
        box.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--python", help="interpreter for the rootless half (default: this one)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.n)))
        return
    mine = measure(args.n)
    print(f"{'root' if mine['uid'] == 0 else 'rootless'}: {mine['ms_per_worker']:.1f} ms per worker\n  {mine['isolation']}")
    if mine["uid"] != 0:
        return
    python = args.python or sys.executable
    tmp = tempfile.mkdtemp(prefix="bench-nobody-")
    shutil.chown(tmp, "nobody")
    done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", python,
                           str(Path(__file__).resolve()), "--child", "--n", str(args.n)], cwd=str(ROOT),
                          env={"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8"},
                          capture_output=True, text=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if done.returncode != 0:
        print(f"rootless: skipped ({(done.stderr.strip().splitlines() or ['no output'])[-1]})")
        return
    other = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"rootless: {other['ms_per_worker']:.1f} ms per worker\n  {other['isolation']}")
    print(f"ratio rootless / root: {other['ms_per_worker'] / mine['ms_per_worker']:.2f}")


if __name__ == "__main__":
    main()
