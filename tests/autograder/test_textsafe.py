"""Student text is made writable at the result boundary and escaped for each medium it reaches."""

from __future__ import annotations

import csv
import io
import json

from autograder.exports import csv_text
from autograder.exports.feedback import render_html, render_markdown
from autograder.textsafe import clean, csv_cell, terminal, visible_lines
from tests.exports.factory import result as result_dict

HOSTILE = "\x1b]52;c;cHduZWQ=\x07\x1b[2J\r\n... all tests passed \u202eevil\ud800"


def test_clean_makes_any_text_writable_and_bounded() -> None:
    text = clean(HOSTILE * 100, 50)
    text.encode("utf-8")  # no lone surrogate left
    json.dumps(text, ensure_ascii=False).encode("utf-8")
    assert text.startswith(clean(HOSTILE, 1000)[:50]) and "more characters not kept" in text
    assert "\\ud800" in clean(HOSTILE, 1000)


def test_terminal_text_has_no_control_characters() -> None:
    line = terminal(HOSTILE)
    assert all(ch.isprintable() for ch in line), line
    assert "\\x1b]52" in line and "\\n" in line and "\\u202e" in line
    assert visible_lines("a\nb\x1b") == "a\nb\\x1b"


def test_csv_cells_cannot_start_a_formula() -> None:
    assert csv_cell("=HYPERLINK(\"http://x\")").startswith("'=")
    assert csv_cell("+1") == "'+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell(3.5) == 3.5
    (row,) = csv.reader(io.StringIO(csv_text([["=1+1", "a\nb\x1b"]])))
    assert row == ["'=1+1", "a\\nb\\x1b"]


def test_feedback_escapes_student_text_in_markdown_and_html() -> None:
    from autograder.store import from_dict

    data = result_dict("mallory", status="error")
    data["error"] = HOSTILE
    data["warnings"] = ["ignored 1 other file(s): " + HOSTILE, "<script>alert(1)</script>"]
    result = from_dict(data)
    for text in (render_markdown(result), render_html(result)):
        assert "\x1b" not in text and "\u202e" not in text and "\ud800" not in text
        assert "<script>" not in text
    assert "About your submission" in render_markdown(result)


def test_gradescope_summary_escapes_student_text_and_lists_warnings() -> None:
    from autograder.exports.gradescope import to_gradescope
    from tests.exports.factory import QUESTIONS

    data = result_dict("mallory", status="error")
    data["error"] = "[click](http://evil) " + HOSTILE
    data["warnings"] = ["ignored 1 other file(s): ![x](http://evil/img)"]
    output = to_gradescope(data, QUESTIONS)["output"]
    assert "\x1b" not in output and "[click]" not in output and "![x]" not in output
    assert "About your submission:" in output and "\\[click\\]" in output
