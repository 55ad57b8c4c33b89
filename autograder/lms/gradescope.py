"""Gradescope: results.json in the autograder format, and an autograder.zip that runs our grader.

results.json follows Gradescope's autograder specification: a top-level `score` (which overrides
the sum of the tests), `execution_time`, `output`, `output_format`, `visibility`,
`stdout_visibility` and `tests`; each test has `name`, `number` ("1.2", for ordering), `score`,
`max_score`, `status` ("passed"/"failed"), `output`, `output_format`, `tags` and `visibility`
(hidden, after_due_date, after_published, visible).

The specification: "if test cases are hidden, students will not be able to see their total score".
assignment.yaml's `hidden_scores` uses it. `until_published` (the default): each question's hidden
tests are one entry with the question's `hidden_visibility`, carrying their points, so students
see neither those points nor their total before publication and cannot probe the hidden tests by
resubmitting. `visible`: points never sit on a test students cannot see; the hidden entries carry
none and one visible "Hidden tests (all questions)" entry carries them, so the total shows at once.

Inside Gradescope's container, `run_autograder` calls `python -m autograder.lms.gradescope run`,
which takes the student id from /autograder/submission_metadata.json (so the per-student seed is
the one a local run would use for that student), grades /autograder/submission with
`autograder grade ... --gradescope-results /autograder/results/results.json`, and writes a
zero-score results.json with an explanation if the grader could not run at all.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import write_bytes_atomic, write_text_atomic
from .errors import ExportError, GradescopeError
from .feedback import hint, short_name

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
HIDDEN_SCORES = ("until_published", "visible")  # assignment.yaml's hidden_scores
DEFAULT_HIDDEN_VISIBILITY = "after_published"
STUDENT_FIELDS = ("email", "id")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")  # what `autograder grade` accepts as a folder name
_WHEN = {"hidden": "never shown to students", "after_due_date": "shown after the due date",
         "after_published": "shown when grades are published", "visible": "shown now"}


def _round(x: float) -> float:
    return round(float(x), 6)


def _question_info(q: Any) -> dict[str, Any]:
    """A question from assignment.yaml as a dict, whether given as a QuestionSpec or a mapping."""
    get = q.get if isinstance(q, Mapping) else (lambda k, d=None: getattr(q, k, d))
    visibility = get("hidden_visibility", None) or DEFAULT_HIDDEN_VISIBILITY
    if visibility not in VISIBILITIES:
        raise GradescopeError(f"question {get('id')!r}: hidden_visibility {visibility!r} is not one of "
                              f"{', '.join(VISIBILITIES)}; fix assignment.yaml")
    return {"id": get("id"), "title": get("title", None) or get("id"), "hidden_visibility": visibility}


def to_gradescope(result: Mapping[str, Any], questions: Iterable[Any] = (),
                  hidden_scores: str = "until_published") -> dict[str, Any]:
    """Gradescope's results.json for one result dict (the grader's JSON), pure: no I/O.

    `questions` are assignment.yaml's questions (QuestionSpec objects or dicts with id, title and
    hidden_visibility); questions only in the result default to `after_published`. `hidden_scores`
    is assignment.yaml's policy: "until_published" puts each question's hidden points on its own
    entry with its hidden_visibility, so Gradescope shows students neither those points nor their
    total before grades are published (resubmitting reveals nothing about the hidden tests);
    "visible" pools them on one visible entry so the total is always shown.
    """
    if hidden_scores not in HIDDEN_SCORES:
        raise GradescopeError(f"hidden_scores {hidden_scores!r} is not one of {', '.join(HIDDEN_SCORES)}")
    withheld = hidden_scores == "until_published"
    if not isinstance(result, Mapping):  # a model.Result
        from ..serialize import to_dict

        result = to_dict(result)
    spec = {info["id"]: info for info in (_question_info(q) for q in questions)}
    rq = {q["id"]: q for q in result.get("questions", [])}
    order = [qid for qid in spec if qid in rq] + [qid for qid in rq if qid not in spec]
    tests: list[dict[str, Any]] = []
    pooled_score = pooled_max = 0.0
    pooled: list[str] = []
    public_score = public_max = hidden_score = hidden_max = 0.0
    for i, qid in enumerate(order, start=1):
        q = rq[qid]
        info = spec.get(qid) or _question_info({"id": qid, "title": q.get("title")})
        title = info["title"]
        visibility = info["hidden_visibility"]
        qtests = q.get("tests") or []
        n = 0
        if not qtests:  # an error result: nothing ran for this question
            n += 1
            tests.append({"name": f"{title}", "number": f"{i}.{n}", "score": _round(q.get("score", 0.0)),
                          "max_score": _round(q.get("max_score", 0.0)), "status": "failed",
                          "output": "Not graded: " + (result.get("error") or "no tests ran for this question."),
                          "output_format": "text", "tags": [qid], "visibility": "visible"})
            public_max += float(q.get("max_score", 0.0))
            continue
        for t in (t for t in qtests if not t.get("hidden")):
            n += 1
            message = (t.get("message") or "").strip()
            output = message if not t.get("passed") and message else ("" if t.get("passed") else hint(t.get("cause", "")))
            tests.append({"name": f"{title}: {short_name(t['name'])}", "number": f"{i}.{n}",
                          "score": _round(t["score"]), "max_score": _round(t["max_score"]),
                          "status": "passed" if t.get("passed") else "failed", "output": output,
                          "output_format": "text", "tags": [qid, "public"], "visibility": "visible"})
            public_score += float(t["score"])
            public_max += float(t["max_score"])
        hidden = [t for t in qtests if t.get("hidden")]
        if not hidden:
            continue
        n += 1
        h_score = sum(float(t["score"]) for t in hidden)
        h_max = sum(float(t["max_score"]) for t in hidden)
        hidden_score += h_score
        hidden_max += h_max
        passed = sum(bool(t.get("passed")) for t in hidden)
        lines = [f"Hidden tests: {passed} of {len(hidden)} passed, {_round(h_score):g} / {_round(h_max):g} points."]
        lines += [f"Hidden test {k}: failed: {hint(t.get('cause', ''))}"
                  for k, t in enumerate(hidden, start=1) if not t.get("passed")]
        entry = {"name": f"{title}: hidden tests", "number": f"{i}.{n}", "score": 0.0, "max_score": 0.0,
                 "status": "passed" if passed == len(hidden) else "failed", "output": "\n".join(lines),
                 "output_format": "text", "tags": [qid, "hidden"], "visibility": visibility}
        if withheld:
            entry["visibility"] = visibility if visibility != "visible" else "after_published"
            entry["score"], entry["max_score"] = _round(h_score), _round(h_max)
        elif visibility == "visible":
            entry["score"], entry["max_score"] = _round(h_score), _round(h_max)
        else:
            pooled_score += h_score
            pooled_max += h_max
            pooled.append(title)
            entry["output"] += "\nThese points are counted in 'Hidden tests (all questions)'."
        tests.append(entry)
    if pooled:
        whens = sorted({_WHEN[spec[qid]["hidden_visibility"]] for qid in order
                        if qid in spec and spec[qid]["hidden_visibility"] != "visible"})
        tests.append({
            "name": "Hidden tests (all questions)", "number": str(len(order) + 1),
            "score": _round(pooled_score), "max_score": _round(pooled_max),
            "status": "passed" if pooled_score >= pooled_max else "failed",
            "output": (f"Points from the hidden tests of: {', '.join(pooled)}. Their results per question are "
                       f"{' or '.join(whens) or 'shown later'}."),
            "output_format": "text", "tags": ["hidden"], "visibility": "visible",
        })
    score = _round(result.get("score", 0.0))
    max_score = _round(result.get("max_score", 0.0))
    summary = [f"**Score: {score:g} / {max_score:g}**", ""]
    if result.get("status") == "error":
        summary += ["This submission could not be graded: " + (result.get("error") or "unknown reason"), ""]
    elif withheld and hidden_max:
        summary = [f"**Public tests: {_round(public_score):g} / {_round(public_max):g} points**", "",
                   "Your hidden-test results and your total score are shown when grades are published."]
    else:
        summary.append(f"Public tests: {_round(public_score):g} / {_round(public_max):g} points. "
                       f"Hidden tests: {_round(hidden_score):g} / {_round(hidden_max):g} points.")
    duration = result.get("duration_s") or 0.0
    return {
        "score": score,
        "execution_time": max(0, int(round(float(duration)))),
        "output": "\n".join(summary).strip(),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


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
exec "$PYTHON" -m autograder.lms.gradescope run --root "$ROOT"
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


def build_autograder_zip(course_root: Path, assignment: str, out: Path, *, student_field: str = "email",
                         unsafe: bool = False, torch_index_url: str = CPU_TORCH_INDEX, package_root: Path | None = None) -> Path:
    """Write Gradescope's autograder.zip for `assignment`: setup.sh and run_autograder at the root,
    the assignment (assignment.yaml, public and hidden tests), its reference solutions under
    `course/`, and this package's source under `package/` for setup.sh to install."""
    from ..config import ConfigError
    from ..layout import CourseDir, LayoutError

    if student_field not in STUDENT_FIELDS:
        raise GradescopeError(f"--student-field must be one of {', '.join(STUDENT_FIELDS)}, got {student_field!r}")
    course = CourseDir(Path(course_root).resolve())
    try:
        spec = course.assignment(assignment).spec
    except (ConfigError, LayoutError) as exc:
        raise GradescopeError(str(exc)) from None
    assignment_dir = course.assignments_dir / assignment
    solutions = course.solutions_dir(assignment)
    if not solutions.is_dir() or not any(solutions.glob("*.py")):
        raise GradescopeError(f"no reference solutions in {solutions}; the hidden tests need them")
    if not (assignment_dir / "tests").is_dir():
        raise GradescopeError(f"no tests folder {assignment_dir / 'tests'}")
    if package_root is None:
        package_root = Path(__file__).resolve().parents[2]
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


def failure_results(message: str) -> dict[str, Any]:
    """What students see when the grader itself could not run: score 0 and a plain explanation."""
    return {"score": 0.0, "execution_time": 0, "output": message, "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def run_in_gradescope(root: Path, python: str | None = None) -> int:
    """Grade the submission laid out under `root` (Gradescope's /autograder); always leave a results.json."""
    root = Path(root)
    results_path = root / "results" / "results.json"
    (root / "results").mkdir(parents=True, exist_ok=True)
    results_path.unlink(missing_ok=True)
    sorry = ("The autograder could not grade this submission because of a problem on the course staff's side. "
             "Your files were received; please tell the course staff.")
    try:
        config = json.loads((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
        student = student_from_metadata(root / "submission_metadata.json", config.get("student_field", "email"))
    except (OSError, ValueError, ExportError) as exc:
        print(f"autograder: {exc}", flush=True)
        write_text_atomic(results_path, json.dumps(failure_results(sorry), indent=2) + "\n")
        return 0
    print(f"autograder: grading {student} for {config['assignment']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as work:
        subs = Path(work) / "submissions"
        subs.mkdir()
        if (root / "submission").is_dir():
            shutil.copytree(root / "submission", subs / student, symlinks=True)
        else:
            (subs / student).mkdir()
        cmd = [python or sys.executable, "-c", "from autograder.cli import main; main()", "grade", str(subs),
               "--assignment", config["assignment"], "--out", str(Path(work) / "out"), "--jobs", "1", "--quiet",
               "--gradescope-results", str(results_path), *(["--unsafe"] if config.get("unsafe") else [])]
        env = dict(os.environ, AUTOGRADER_COURSE=str(root / "source" / "course"))
        proc = subprocess.run(cmd, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(proc.stdout, end="", flush=True)  # Gradescope keeps our stdout for instructors only
        full = Path(work) / "out" / f"{student}.json"
        if full.is_file():  # the grader's own result, for staff debugging (Gradescope uploads only results.json)
            write_bytes_atomic(root / "results" / "autograder_result.json", full.read_bytes())
    if not results_path.is_file():
        print(f"autograder: the grader exited with status {proc.returncode} and wrote no results", flush=True)
        write_text_atomic(results_path, json.dumps(failure_results(sorry), indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.lms.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="grade /autograder/submission inside Gradescope")
    run.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = parser.parse_args(argv)
    return run_in_gradescope(Path(args.root))


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["to_gradescope", "student_from_metadata", "build_autograder_zip", "run_in_gradescope", "failure_results",
           "VISIBILITIES"]
