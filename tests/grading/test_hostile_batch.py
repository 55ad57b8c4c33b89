"""One student never costs another: hostile submissions graded between correct classmates in ONE batch.

Every class of failure from issue 8 is here, in one `autograder grade` run with one runner and one
pytest session (`--jobs 1 --batch-size 40`): each hostile submission sorts between two correct
ones. The correct classmates keep full marks, each hostile one gets a clear reason, the run exits
0, and a re-run without --regrade changes nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.course import CourseDir
from autograder.grading import GradeOptions, grade
from autograder.results import error_result
from autograder.store import load_schema, write_result
from tests.hostile import (bad_utf8_name, corrupt_member, deep_name, empty_names, make_deep_tree,
                           remove_deep_tree, zip_bytes)
from tests.toycourse import SOLUTION_EXTRA, SOLUTION_TOY, make_course, submission

jsonschema = pytest.importorskip("jsonschema")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")

FILES = {"toy.py": SOLUTION_TOY.encode(), "extra.py": SOLUTION_EXTRA.encode()}
CALL = "def double(x):"

# 2. text JSON cannot encode: lone surrogates in an exception message and invalid bytes in the output
SURROGATES = SOLUTION_TOY.replace("    return 2 * np.asarray(x, dtype=float)",
                                  "    import os\n    os.write(1, b'\\xff\\xfe\\xed\\xa0\\x80')\n"
                                  "    raise ValueError('\\ud800 bad \\udfff')")
# 3. children that keep writing to stdout after the call returned
FLOOD = SOLUTION_TOY.replace('"""Double things."""', '''"""Double things."""
import os
os.write(1, b"spam" * 16384)  # more than the 8 KiB kept, whenever the children get to run
for _ in range(2):
    if os.fork() == 0:
        try:
            while True:
                os.write(1, b"spam" * 16384)
        finally:
            os._exit(0)''')


def _forge(body: bytes) -> str:
    """Student code that writes its own reply frame to the worker's channel (fd 3), then returns."""
    return (f"    import os\n    body = {body!r}\n"
            "    os.write(3, len(body).to_bytes(4, 'big') + body)\n")


# 4. a reply of a few tens of MB that would decode into gigabytes of lists
HUGE_REPLY = SOLUTION_TOY.replace("    return 2 * np.asarray(x, dtype=float)",
                                  "    import os\n    body = b'[' + b'[],' * 10_000_000 + b'[]]'\n"
                                  "    os.write(3, len(body).to_bytes(4, 'big') + body)\n"
                                  "    return 2 * np.asarray(x, dtype=float)")
# 5. values the decoder rejects: an integer with thousands of digits; an array numpy refuses (with the
#    right sequence number, found by walking the worker's frames as an attacker would)
BIG_INT = SOLUTION_TOY.replace("    return 2 * np.asarray(x, dtype=float)",
                               _forge(b'{"ok": ' + b"7" * 5000 + b"}") + "    return 2 * np.asarray(x, dtype=float)")
BAD_ARRAY = SOLUTION_EXTRA.replace("        self.value += k\n        return self", """\
        import os, sys, json
        frame = sys._getframe()
        while frame is not None and not isinstance(frame.f_locals.get("request"), dict):
            frame = frame.f_back
        seq = frame.f_locals["request"]["seq"]
        body = json.dumps({"ok": {"__ndarray__": "<f8", "shape": [1] * 70, "data": "AAAAAAAAAAA="},
                           "seq": seq}).encode()
        os.write(3, len(body).to_bytes(4, "big") + body)
        self.value += k
        return self""")
# 6. names that are terminal escape sequences and forged lines
ESCAPES = "\x1b]52;c;cHduZWQ=\x07\x1b[2J"
FORGED = "\n... all tests passed"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("hostile")
    course = make_course(root)
    subs = root / "subs"
    hostile: dict[str, object] = {
        "b01-corrupt-member": lambda p: corrupt_member(p.with_suffix(".zip"), FILES),
        "b03-bad-utf8-name": lambda p: bad_utf8_name(p.with_suffix(".zip"), FILES),
        "b05-empty-names": lambda p: empty_names(p.with_suffix(".zip"), FILES),
        "b07-deep-zip": lambda p: deep_name(p.with_suffix(".zip"), FILES),
        "b09-deep-folder": lambda p: (make_deep_tree(p / "deep", sys.getrecursionlimit() + 200),
                                      submission(p)),
        "b11-surrogates": lambda p: submission(p, toy=SURROGATES),
        "b13-flood": lambda p: submission(p, toy=FLOOD),
        "b15-huge-reply": lambda p: submission(p, toy=HUGE_REPLY),
        "b17-malformed": lambda p: submission(p, toy=BIG_INT, extra=BAD_ARRAY),
        "b19-names": lambda p: p.with_suffix(".zip").write_bytes(
            zip_bytes({f"{ESCAPES}.py": b"x = 1\n", f"{FORGED}.py": b"x = 1\n"})),
        "b21-names-beside-files": lambda p: p.with_suffix(".zip").write_bytes(
            zip_bytes({**FILES, f"{ESCAPES}{FORGED}.txt": b"x"})),
    }
    correct = [f"b{i:02d}-ok" for i in range(0, 23, 2)]
    for name in correct:
        submission(subs / name)
    for name, make in hostile.items():
        make(subs / name)  # type: ignore[operator]
    (subs / "README.md").write_text("not a submission")
    (subs / f"{ESCAPES}notes{FORGED}.txt").write_text("not a submission either")
    cwd = os.getcwd()
    os.chdir(course)
    try:
        args = ["grade", "subs", "--out", "out", "--quiet", "--jobs", "1", "--batch-size", "40"]
        first = CliRunner().invoke(main, args)
        files = {p.name: p.read_bytes() for p in (course / "out").glob("*.json")}
        again = CliRunner().invoke(main, args)
    finally:
        os.chdir(cwd)
        remove_deep_tree(subs / "b09-deep-folder" / "deep")
    yield course, first, again, files, correct, list(hostile)


def load(course: Path, student: str) -> dict:
    return json.loads((course / "out" / f"{student}.json").read_text(encoding="utf-8"))


def questions_tests(result: dict, qid: str) -> list[dict]:
    return next(q for q in result["questions"] if q["id"] == qid)["tests"]


def test_the_run_exits_0_and_classmates_keep_full_marks(batch) -> None:  # type: ignore[no-untyped-def]
    course, first, _, _, correct, hostile = batch
    assert first.exit_code == 0, first.output
    assert f"toy: {len(correct) + len(hostile)} students" in first.output
    schema = load_schema()
    for student in correct + hostile:
        jsonschema.validate(load(course, student), schema)
    for student in correct:
        result = load(course, student)
        assert (result["status"], result["score"], result["warnings"]) == ("graded", 5, []), student
    assert not any(load(course, s)["causes"].get("test_error") for s in correct + hostile)


def test_malformed_archives_and_trees_are_that_students_error_or_warning(batch) -> None:  # type: ignore[no-untyped-def]
    course = batch[0]
    corrupt, bad_name, deep_zip = (load(course, s) for s in ("b01-corrupt-member", "b03-bad-utf8-name", "b07-deep-zip"))
    assert corrupt["status"] == "error" and "toy.py is corrupt in the zip" in corrupt["error"]
    assert bad_name["status"] == "error" and "not a readable zip file" in bad_name["error"]
    assert deep_zip["status"] == "error" and "nested too deeply" in deep_zip["error"]
    empty, deep_folder = load(course, "b05-empty-names"), load(course, "b09-deep-folder")
    assert empty["score"] == 5 and empty["warnings"] == ["ignored an entry with an empty name"]
    assert deep_folder["score"] == 5 and any("nested too deeply" in w for w in deep_folder["warnings"])


def test_unencodable_text_is_kept_escaped_in_the_students_own_result(batch) -> None:  # type: ignore[no-untyped-def]
    result = load(batch[0], "b11-surrogates")
    messages = [t["message"] for t in questions_tests(result, "double")]
    assert all("\\ud800 bad \\udfff" in m for m in messages), messages
    assert result["score"] == 2 and {t["cause"] for t in questions_tests(result, "double")} == {"exception"}
    assert "\ufffd" in result["output"]


def test_output_flood_is_cut_and_counted(batch) -> None:  # type: ignore[no-untyped-def]
    result = load(batch[0], "b13-flood")
    assert result["status"] == "graded"
    assert result["output"].startswith("spam") and "more bytes of output dropped]" in result["output"]


def test_huge_and_malformed_replies_are_the_students_bad_return(batch) -> None:  # type: ignore[no-untyped-def]
    huge, malformed = load(batch[0], "b15-huge-reply"), load(batch[0], "b17-malformed")
    for result, qids in ((huge, ("double",)), (malformed, ("double", "counter"))):
        for qid in qids:
            tests = questions_tests(result, qid)
            assert {t["cause"] for t in tests} == {"bad_return"}, (result["student"], tests)
            assert all("malformed data" in t["message"] for t in tests if not t["hidden"])
    assert huge["score"] == 2
    assert "more than 1000 digits" in questions_tests(malformed, "double")[0]["message"]
    assert "70 dimensions" in questions_tests(malformed, "counter")[0]["message"]


def test_names_reach_the_terminal_escaped(batch) -> None:  # type: ignore[no-untyped-def]
    course, first = batch[0], batch[1]
    printed = first.output
    assert "\x1b" not in printed and "\x07" not in printed
    assert not [line for line in printed.splitlines() if line.startswith("... all tests passed")]
    assert "\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J" in printed
    names = load(course, "b19-names")
    assert names["status"] == "error" and "none of the assignment's files" in names["error"]
    beside = load(course, "b21-names-beside-files")
    assert beside["score"] == 5 and beside["warnings"] == [
        "ignored 1 other file(s): \\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\n... all tests passed.txt"]


def test_stray_files_are_listed_once_as_skipped(batch) -> None:  # type: ignore[no-untyped-def]
    course, first = batch[0], batch[1]
    skipped = [line for line in first.output.splitlines() if line.startswith("skipped")]
    assert skipped == ["skipped (not a folder or .zip, so not a submission): "
                       "\\x1b]52;c;cHduZWQ=\\x07\\x1b[2Jnotes\\n... all tests passed.txt, README.md"]
    assert not (course / "out" / "README.json").exists()
    rows = (course / "out" / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(batch[4]) + len(batch[5])


def test_a_rerun_without_regrade_changes_nothing(batch) -> None:  # type: ignore[no-untyped-def]
    course, _, again, files, correct, hostile = batch
    assert again.exit_code == 0, again.output
    assert f"(0 graded now, {len(correct) + len(hostile)} from an earlier run" in again.output
    assert {p.name: p.read_bytes() for p in (course / "out").glob("*.json")} == files


def test_an_internal_error_is_never_final(batch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A result filed as an internal grader error is graded again by a plain re-run."""
    course = CourseDir(batch[0])
    out = tmp_path / "out"
    out.mkdir()
    subs = tmp_path / "subs"
    submission(subs / "alice")
    submission(subs / "bob")
    spec = course.assignment("toy").spec
    write_result(out / "alice.json", error_result(spec, "alice", "internal grader error (test)", cause="test_error"))
    write_result(out / "bob.json", error_result(spec, "bob", "the submission is empty"))
    report = grade(course, subs, GradeOptions(out=out, jobs=1))
    assert report.graded == ["alice"] and report.resumed == ["bob"]
    assert load_result(out, "alice")["score"] == 5


def load_result(out: Path, student: str) -> dict:
    return json.loads((out / f"{student}.json").read_text())


def test_a_runaway_runner_costs_only_the_runaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside the grader's own code (not student code): an allocation past the runner's memory limit
    is that student's internal error; a runner that dies has each student it left graded alone."""
    from autograder.grading import pool

    course = CourseDir(make_course(tmp_path))
    for name in ("a-ok", "b-runaway", "c-ok", "d-dies", "e-ok"):
        submission(tmp_path / "subs" / name)
    real_stage = pool.stage

    def stage(sub, expected, dest, *route):  # type: ignore[no-untyped-def]
        if sub.student == "b-runaway":
            bytearray(pool.RUNNER_MEMORY + (256 << 20))  # past the runner's limit: MemoryError, not the OOM killer
        if sub.student == "d-dies":
            os._exit(9)
        return real_stage(sub, expected, dest, *route)

    monkeypatch.setattr(pool, "stage", stage)
    report = grade(course, tmp_path / "subs", GradeOptions(out=tmp_path / "out", jobs=1, batch_size=10))
    scores = {r.student: r.score for r in report.results}
    assert scores == {"a-ok": 5, "b-runaway": 0, "c-ok": 5, "d-dies": 0, "e-ok": 5}
    runaway, dies = (load_result(tmp_path / "out", s) for s in ("b-runaway", "d-dies"))
    assert "internal grader error while staging (MemoryError)" in runaway["error"]
    assert "exit status 9" in dies["error"]
    assert [e.split(":")[0] for e in report.grader_errors] == ["b-runaway", "d-dies"]
    assert "the runner failed (exit status 9)" in report.grader_errors[1]
    assert {r.student for r in report.results if r.internal_error} == {"b-runaway", "d-dies"}
