"""The end-of-run summary: one counting basis (graded submissions), errors apart, no KeyError;
internal errors, warnings and skipped entries listed, student text escaped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from autograder.exports import grades_csv
from autograder.exports.summary import summary_lines
from autograder.results import Result, build_result, error_result
from gradekit.spec import QuestionSpec
from tests.exports.factory import SPEC


def test_means_count_graded_submissions_and_errors_are_listed_apart(results: list[Result]) -> None:
    lines = summary_lines(SPEC, results, graded=4, resumed=0)
    assert lines[0] == "demo: 4 students (4 graded now, 0 from an earlier run, 1 could not be graded)"
    assert "over the 3 graded submissions" in lines[1]
    total = next(line for line in lines if line.startswith("total"))
    assert float(total.split()[1]) == pytest.approx((15 + 9 + 7.5) / 3)
    sigmoid = next(line for line in lines if line.startswith("sigmoid"))
    assert sigmoid.split()[-1] == "2/3", "full marks out of the graded submissions"
    assert lines[-2:] == ["could not be graded (1):", "  dave: the submission is empty; it should contain bp.py, optim.py"]


def test_a_question_the_results_lack_is_named_not_a_keyerror(results: list[Result]) -> None:
    newer = replace(SPEC, questions=SPEC.questions + (
        QuestionSpec(id="conv", title="Convolution", file="bp.py", public_points=1, hidden_points=1),))
    lines = summary_lines(newer, results, graded=0, resumed=4)
    conv = next(line for line in lines if line.startswith("conv"))
    assert conv.split()[1] == "-" and conv.split()[-1] == "0/0"
    assert any("lack question 'conv'" in line and "--regrade" in line for line in lines)
    rows = grades_csv.rows(newer, results)
    assert rows[0][3] == "conv" and rows[1][3] == "", "blank, not a made-up 0"


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
