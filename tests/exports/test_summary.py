"""The end-of-run summary: internal errors, warnings and skipped entries listed, student text escaped."""

from __future__ import annotations


from autograder.results import build_result, error_result
from autograder.exports.summary import summary_lines
from tests.exports.factory import SPEC


def test_summary_lists_internal_errors_warnings_and_skipped_escaped() -> None:
    ok = build_result(SPEC, "alice", [])
    warned = build_result(SPEC, "bob", [], warnings=["ignored 1 other file(s): notes.txt"])
    broken = error_result(SPEC, "carol", "none of the files; it holds \x1b[2J\n... all tests passed.py")
    internal = error_result(SPEC, "dave", "internal grader error (test)", cause="test_error")
    lines = summary_lines(SPEC, [ok, warned, broken, internal], graded=4, resumed=0,
                          skipped=["README.md", "\x1b]52;c;x\x07.txt"])
    text = "\n".join(lines)
    assert "\x1b" not in text and "\x07" not in text
    assert not [line for line in lines if line.startswith("... all tests passed")]
    assert "  carol: none of the files; it holds \\x1b[2J\\n... all tests passed.py" in lines
    assert [line for line in lines if line.startswith("internal grader errors")] == [
        "internal grader errors (graded again by the next run, no --regrade needed): dave"]
    assert any(line.startswith("submissions with warnings") and line.endswith(": bob") for line in lines)
    assert lines[-1] == "skipped (not a folder or .zip, so not a submission): README.md, \\x1b]52;c;x\\x07.txt"
    assert internal.internal_error and not broken.internal_error and not ok.internal_error
