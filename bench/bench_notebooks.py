"""Benchmark: grading notebook hand-ins costs about what grading their `.py` twins costs.

In one run it generates N students twice: as `.py` folders (reference copies and mutants from
mutants.yaml) and as notebook twins of the same code, each notebook also carrying a top-level
training cell that would run for ten minutes, `!pip`, `%%bash` and plots (as in
examples/backprop-notebooks/). It grades both folders with `autograder grade`, prints the seconds
and the notebook/py ratio, and checks that every student's per-question scores are equal.
Machines here are shared and noisy: compare the ratio from one run, not seconds across runs.

    python bench/bench_notebooks.py --n 8
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

from autograder.course import CourseDir  # noqa: E402
from autograder.notebook.release_notebook import dumps  # noqa: E402
from autograder.release import notebook_doc  # noqa: E402
from notebooks import _add_experiments, _saved_by_jupyterlab, _set, _text  # noqa: E402


def generate(course: CourseDir, n: int, py_dir: Path, nb_dir: Path) -> None:
    """N students: every fourth the reference, the rest one plausible bug each, as .py and as .ipynb."""
    bugs = [m for m in yaml.safe_load(course.mutants_file("backprop").read_text()) if m["kind"] == "bug"]
    solutions = course.solutions_dir("backprop")
    solved = notebook_doc(course, "backprop", solved=True)
    bugs = [b for b in bugs if sum(b["replace"] in _text(c) for c in solved["cells"]) == 1]  # within one cell
    py_dir.mkdir(parents=True)
    nb_dir.mkdir(parents=True)
    for i in range(n):
        student = f"s{i:04d}"
        shutil.copytree(solutions, py_dir / student, ignore=shutil.ignore_patterns("__pycache__"))
        doc = copy.deepcopy(solved)
        _add_experiments(doc)
        if i % 4:
            bug = bugs[i % len(bugs)]
            path = py_dir / student / bug["file"]
            path.write_text(path.read_text().replace(bug["replace"], bug["with"]))
            (cell,) = [c for c in doc["cells"] if bug["replace"] in _text(c)]
            _set(cell, _text(cell).replace(bug["replace"], bug["with"]))
        (nb_dir / f"{student}.ipynb").write_bytes(dumps(_saved_by_jupyterlab(doc, student)))


def grade(folder: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "autograder"), "grade", str(folder), "--assignment", "backprop",
                    "--out", str(out), "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def per_question(out: Path) -> dict[str, dict[str, float]]:
    return {p.stem: {q["id"]: q["score"] for q in json.loads(p.read_text())["questions"]}
            for p in sorted(out.glob("*.json"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=8)
    args = parser.parse_args()
    course = CourseDir(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-nb-") as tmp:
        work = Path(tmp)
        generate(course, args.n, work / "py", work / "nb")
        sizes = sum(p.stat().st_size for p in (work / "nb").iterdir())
        py_s = grade(work / "py", work / "out-py")
        nb_s = grade(work / "nb", work / "out-nb")
        same = per_question(work / "out-py") == per_question(work / "out-nb")
    print(f"{args.n} students; notebooks {sizes / args.n / 1024:.0f} KiB each, each with a 10-minute training cell")
    print(f".py hand-ins:      {py_s:7.1f} s")
    print(f"notebook hand-ins: {nb_s:7.1f} s   ratio notebook/py = {nb_s / py_s:.2f}")
    print(f"per-question scores equal: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
