"""Gradescope's autograder.zip, and what runs inside Gradescope's container for each submission.

`build_autograder_zip` packs setup.sh and run_autograder at the root, the assignment (assignment.yaml,
public and hidden tests), its reference solutions under `course/`, and this package's source under
`package/` for setup.sh to install.

Inside Gradescope's container, `run_autograder` calls `python -m autograder.exports.gradescope_bundle
run`, which takes the student id from /autograder/submission_metadata.json (so the per-student seed is
the one a local run would use for that student), calls `grade()` on /autograder/submission in this
process (the same isolated grader as `autograder grade`), and writes /autograder/results/results.json
from the result in memory; if the grader could not run at all it writes a zero-score results.json
with an explanation. `AUTOGRADER_ROOT` (moving the /autograder tree, for testing) is read only here.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path

from ..course import CourseDir
from ..errors import AutograderError, GradescopeError
from ..grading import GradeOptions, grade
from ..store import write_bytes_atomic, write_json_atomic, write_result
from .gradescope import failure_results, write_results_json
from .summary import summary_lines

STUDENT_FIELDS = ("email", "id")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")  # what `autograder grade` accepts as a folder name
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SORRY = ("The autograder could not grade this submission because of a problem on the course staff's side. "
         "Your files were received; please tell the course staff.")


def student_from_metadata(path: Path, field: str = "email") -> str:
    """The student id for seeding and file names: `users[0][field]` of submission_metadata.json.

    For group submissions the first listed user is used (Gradescope lists all members).
    """
    path = Path(path)
    if field not in STUDENT_FIELDS:
        raise GradescopeError(f"student field must be one of {', '.join(STUDENT_FIELDS)}, got {field!r}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GradescopeError(f"{path}: cannot read Gradescope's submission metadata: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GradescopeError(f"{path}: not valid JSON ({exc})") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        raise GradescopeError(f"{path}: no 'users' list; is this Gradescope's submission_metadata.json?")
    value = users[0].get(field)
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        raise GradescopeError(f"{path}: users[0] has no {field!r}; rebuild the autograder with another --student-field")
    student = str(value).strip()
    if not _SAFE_ID.match(student):
        raise GradescopeError(f"{path}: users[0].{field} {student!r} is not usable as a student id "
                              "(letters, digits and ._@+- only); rebuild with --student-field id")
    return student


# ---------------------------------------------------------------- autograder.zip

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (cwd: /autograder/source).
# It installs Python >= 3.11 (the base image's, else python3.11 from apt: Ubuntu 22.04 has it in
# universe), the CPU-only torch build (no CUDA packages: Gradescope has no GPU) and this autograder
# into a virtual environment.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  if apt-get install -y -qq python3.11 python3.11-venv >/dev/null 2>&1; then
    PYTHON=python3.11
  else
    echo "the autograder needs Python >= 3.11 and this image has neither it nor an apt package python3.11:" \
         "choose the Ubuntu 24.04 base image in Gradescope's autograder settings" >&2
    exit 1
  fi
fi
"$PYTHON" -m venv "$ROOT/venv"
TORCH_INDEX_URL="@TORCH_INDEX_URL@"
if [ -n "$TORCH_INDEX_URL" ]; then
  "$ROOT/venv/bin/pip" install -q --index-url "$TORCH_INDEX_URL" "torch==@TORCH_VERSION@"
fi
"$ROOT/venv/bin/pip" install -q "torch==@TORCH_VERSION@" "$SOURCE/package"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission (cwd: /autograder). It grades /autograder/submission
# with the isolated grader and writes /autograder/results/results.json.
# AUTOGRADER_ROOT moves the /autograder tree (for testing); AUTOGRADER_PYTHON picks the interpreter.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if [ -x "$ROOT/venv/bin/python" ]; then PYTHON="$ROOT/venv/bin/python"; else PYTHON=python3; fi
fi
exec "$PYTHON" -m autograder.exports.gradescope_bundle run --root "$ROOT"
"""

CONFIG_NAME = "gradescope.json"
# PyTorch's CPU-only wheels: a few hundred MB, where PyPI's Linux torch pulls gigabytes of CUDA packages
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git"}
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _files(folder: Path) -> list[Path]:
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts) or path.suffix in (".pyc", ".pyo"):
            continue
        if path.is_file():
            out.append(path)
    return out


def _add(z: zipfile.ZipFile, name: str, data: bytes, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)  # fixed time: the same inputs give the same zip
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    z.writestr(info, data)


def _torch_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "2.13.0"
    try:
        return version("torch").split("+")[0]
    except PackageNotFoundError:
        return "2.13.0"


def build_autograder_zip(course: CourseDir, assignment: str, out: Path, *, student_field: str = "email",
                         unsafe: bool = False, torch_index_url: str = CPU_TORCH_INDEX, package_root: Path | None = None) -> Path:
    """Write Gradescope's autograder.zip for `assignment`: setup.sh and run_autograder at the root,
    the assignment (assignment.yaml, public and hidden tests), its reference solutions under
    `course/`, and this package's source under `package/` for setup.sh to install."""
    if student_field not in STUDENT_FIELDS:
        raise GradescopeError(f"--student-field must be one of {', '.join(STUDENT_FIELDS)}, got {student_field!r}")
    spec = course.assignment(assignment).spec  # ConfigError/LayoutError: exit 2 like any bad assignment
    assignment_dir = course.assignments_dir / assignment
    solutions = course.solutions_dir(assignment)
    if not solutions.is_dir() or not any(solutions.glob("*.py")):
        raise GradescopeError(f"no reference solutions in {solutions}; the hidden tests need them")
    if not (assignment_dir / "tests").is_dir():
        raise GradescopeError(f"no tests folder {assignment_dir / 'tests'}")
    if package_root is None:
        package_root = PACKAGE_ROOT
    package_root = Path(package_root)
    if not (package_root / "pyproject.toml").is_file() or not (package_root / "autograder").is_dir():
        raise GradescopeError(f"cannot find this autograder's source (pyproject.toml) in {package_root}; "
                              "build the zip from a source checkout installed with `pip install -e .`")
    config = {"assignment": spec.name, "student_field": student_field, "unsafe": bool(unsafe)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        setup = SETUP_SH.replace("@TORCH_INDEX_URL@", torch_index_url).replace("@TORCH_VERSION@", _torch_version())
        _add(z, "setup.sh", setup.encode(), executable=True)
        _add(z, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        _add(z, CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode())
        for path in _files(assignment_dir):
            rel = path.relative_to(assignment_dir).as_posix()
            if rel == "assignment.yaml" or rel == "README.md" or rel.startswith("tests/"):
                _add(z, f"course/assignments/{assignment}/{rel}", path.read_bytes())
        for path in _files(solutions):
            _add(z, f"course/solutions/{assignment}/{path.relative_to(solutions).as_posix()}", path.read_bytes())
        for name in ("pyproject.toml", "README.md"):
            if (package_root / name).is_file():
                _add(z, f"package/{name}", (package_root / name).read_bytes())
        for pkg in ("autograder", "gradekit"):
            for path in _files(package_root / pkg):
                _add(z, f"package/{pkg}/{path.relative_to(package_root / pkg).as_posix()}", path.read_bytes())
    return write_bytes_atomic(out, buffer.getvalue())


# ---------------------------------------------------------------- inside Gradescope


def run_in_gradescope(root: Path) -> int:
    """Grade the submission laid out under `root` (Gradescope's /autograder); always leave a results.json."""
    root = Path(root)
    results_path = root / "results" / "results.json"
    (root / "results").mkdir(parents=True, exist_ok=True)
    results_path.unlink(missing_ok=True)
    try:
        config = json.loads((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
        student = student_from_metadata(root / "submission_metadata.json", config.get("student_field", "email"))
    except (OSError, ValueError, AutograderError) as exc:
        return _could_not_grade(results_path, str(exc))
    print(f"autograder: grading {student} for {config['assignment']}", flush=True)
    course = CourseDir((root / "source" / "course").resolve())
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="gradescope-") as work:
        subs = Path(work) / "submissions"
        subs.mkdir()
        if (root / "submission").is_dir():
            shutil.copytree(root / "submission", subs / student, symlinks=True)
        else:
            (subs / student).mkdir()
        options = GradeOptions(out=Path(work) / "out", assignment=config["assignment"], jobs=1,
                               unsafe=bool(config.get("unsafe")))
        os.chdir(work)  # the sandbox lets workers read the current folder: never /autograder
        try:
            report = grade(course, subs, options)
        except AutograderError as exc:
            return _could_not_grade(results_path, str(exc))
        except Exception:  # noqa: BLE001 - students must still get a results.json
            traceback.print_exc(file=sys.stdout)
            return _could_not_grade(results_path, "the grader crashed")
        finally:
            os.chdir(here)
    spec = report.assignment.spec
    for line in summary_lines(spec, report.results, graded=len(report.graded), resumed=len(report.resumed)):
        print(line, flush=True)  # Gradescope keeps our stdout for instructors only
    for line in report.grader_errors:
        print(line, flush=True)
    if report.tests_broken:
        return _could_not_grade(results_path, f"the assignment's tests are broken: {report.tests_broken}")
    if not report.results:
        return _could_not_grade(results_path, "the grader wrote no results")
    result = report.results[0]
    write_results_json(results_path, result, spec.questions, report.assignment.hidden_scores)
    # the grader's own result, for staff debugging (Gradescope uploads only results.json)
    write_result(root / "results" / "autograder_result.json", result)
    return 0


def _could_not_grade(results_path: Path, reason: str) -> int:
    """Log the reason for instructors; give the student a zero with a plain explanation."""
    print(f"autograder: {reason}", flush=True)
    write_json_atomic(results_path, failure_results(SORRY))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.exports.gradescope_bundle")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="grade /autograder/submission inside Gradescope")
    run.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = parser.parse_args(argv)
    return run_in_gradescope(Path(args.root))


__all__ = ["student_from_metadata", "build_autograder_zip", "run_in_gradescope", "STUDENT_FIELDS"]

if __name__ == "__main__":
    sys.exit(main())

