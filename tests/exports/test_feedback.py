"""Student feedback: scores per question, public messages, hidden tests as pass/fail + generic hint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder.errors import OutputPathError
from autograder.exports.feedback import HINTS, render_html, render_markdown, write_feedback
from autograder.results import Result
from autograder.store import from_dict
from tests.exports.factory import SECRET, SPEC, result


def test_markdown_has_scores_public_messages_and_only_generic_hidden_hints(results: list[Result]) -> None:
    bob = results[1]
    md = render_markdown(bob, SPEC)
    assert md.startswith("# Demo: backprop & optimizers: feedback for bob")
    assert "**Score: 9 / 15**" in md
    assert "| Sigmoid gate | 3 / 6 | 1 of 2 passed |" in md
    assert "expected 6, received 7 <b>" in md  # the public test's message, verbatim in a code block
    assert "- `test_sigmoid_0`: ✅ passed (1/1)" in md
    assert f"- hidden test 1: ❌ failed: {HINTS['wrong_answer']}" in md
    assert SECRET not in md and "hidden input" not in md and "debug print" not in md


def test_html_is_self_contained_and_escaped(results: list[Result]) -> None:
    page = render_html(results[1], SPEC)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"<script|<link|src=|https?://", page)
    assert "received 7 &lt;b&gt;" in page and "<b>" not in page
    assert "Sigmoid gate: 3 / 6" in page and "1 of 2 passed" in page
    assert SECRET not in page and "debug print" not in page


def test_timeouts_get_their_hint_and_errors_their_reason(results: list[Result]) -> None:
    carol, dave = results[2], results[3]
    assert HINTS["timeout"] in render_markdown(carol)
    assert "could not be graded" in render_markdown(dave) and "the submission is empty" in render_html(dave)
    assert "No tests ran for this question." in render_markdown(dave)


def test_backticks_in_messages_cannot_break_the_fence() -> None:
    data = result("eve", {"sigmoid/public/0"})
    data["questions"][0]["tests"][0]["message"] = "got ```python\n# heading\n```"
    md = render_markdown(from_dict(data))
    assert "````text\ngot ```python" in md.replace("  ", "")


def test_write_feedback(tmp_path: Path, results: list[Result]) -> None:
    paths = write_feedback(results, tmp_path / "fb", SPEC)
    assert sorted(p.name for p in paths) == sorted(f"{s}.{ext}" for s in ("alice", "bob", "carol", "dave")
                                                   for ext in ("md", "html"))
    assert (tmp_path / "fb" / "bob.html").read_text().startswith("<!DOCTYPE html>")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match="it is a file"):
        write_feedback(results, tmp_path / "file")
