"""The class report: numbers, embedded plots, and a headless-Chromium screenshot that is not blank."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.errors import OutputPathError
from autograder.exports.report import class_stats, render_report, write_report
from autograder.results import Result
from tests.exports.factory import SECRET, SPEC


def test_class_stats(results: list[Result]) -> None:
    stats = class_stats(results, SPEC)
    assert (stats.students, stats.graded, stats.max_score) == (4, 3, 15.0)
    assert stats.scores == (15.0, 9.0, 7.5) and stats.median == 9.0, "graded submissions only"
    sigmoid, adam = stats.questions
    assert sigmoid.id == "sigmoid" and sigmoid.public_pass == pytest.approx(5 / 6)
    assert sigmoid.hidden_pass == pytest.approx(5 / 6) and sigmoid.full_marks == pytest.approx(2 / 3)
    assert adam.hidden_pass == pytest.approx(3 / 6) and adam.counted == 3
    assert stats.causes == (("timeout", 3), ("wrong_answer", 3))
    assert stats.errors == (("dave", "the submission is empty; it should contain bp.py, optim.py"),)


def test_one_counting_basis(results: list[Result]) -> None:
    """Header, histogram and question table all count the 3 graded submissions; dave is listed apart."""
    stats = class_stats(results, SPEC)
    graded = [r for r in results if r.status == "graded"]
    assert stats.mean == pytest.approx(sum(r.score for r in graded) / len(graded))
    for q in stats.questions:
        assert q.mean == pytest.approx(sum(r.question(q.id).score for r in graded) / len(graded))  # type: ignore[union-attr]
    page = render_report(results, SPEC)
    assert "graded submissions only" in page and "Score distribution (3 graded submissions)" in page
    histogram = page[page.index("<svg"):page.index("</svg>")]
    assert sum(int(n) for n in re.findall(r"<title>(\d+) students</title>", histogram)) == 3


def test_most_failed_tests_group_ties(results: list[Result]) -> None:
    stats = class_stats(results, SPEC)
    counts = [n for n, _ in stats.failing_groups]
    assert counts == sorted(set(counts), reverse=True), "one row per failure count"
    top_count, top_tests = stats.failing_groups[0]
    assert top_count == 2 and [t for _, t, _ in top_tests] == [f"hidden/test_demo_hidden.py::test_adam_random[x={SECRET}1]"]
    ones = dict(stats.failing_groups)[1]
    assert len(ones) == 4, "every test that failed once shares one row, none cut off arbitrarily"


def test_report_has_svg_plots_a_student_table_and_lists_errors(results: list[Result]) -> None:
    page = render_report(results, SPEC, feedback={"alice": "feedback/alice.html"})
    assert page.count("<svg") == 2 and "data:image" not in page
    assert "Demo: backprop &amp; optimizers: class report" in page
    assert "time limit exceeded" in page and "<code>dave</code>: the submission is empty" in page
    assert '<a href="feedback/alice.html">feedback</a>' in page and page.count("<a href") == 1
    students = page[page.index("<h2>Students</h2>"):]
    assert all(f"<code>{s}</code>" in students for s in ("alice", "bob", "carol", "dave"))
    assert not re.search(r"<script|<link|https?://(?!www.w3.org/2000/svg)", page)


def test_a_question_the_results_lack_is_no_keyerror(results: list[Result]) -> None:
    """Results kept from an older assignment.yaml lack a question that the yaml now has."""
    from dataclasses import replace

    from gradekit.spec import QuestionSpec

    newer = replace(SPEC, questions=SPEC.questions + (
        QuestionSpec(id="conv", title="Convolution", file="bp.py", public_points=1, hidden_points=1),))
    stats = class_stats(results, newer)
    conv = stats.questions[-1]
    assert conv.id == "conv" and conv.counted == 0 and conv.max_score == 2
    assert "older assignment.yaml" in render_report(results, newer)


def test_report_needs_no_optional_package(results_dir: Path, tmp_path: Path) -> None:
    """`autograder report` after quick start 1 (no lms extra): matplotlib and co. cannot be imported."""
    import sys

    code = ("import sys; sys.modules.update(matplotlib=None, canvasapi=None, requests=None)\n"
            "from autograder.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", code, "report", str(results_dir), "--out", str(tmp_path / "r.html")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.html").read_text().count("<svg") == 2


def test_write_report_to_a_missing_folder(tmp_path: Path, results: list[Result]) -> None:
    with pytest.raises(OutputPathError, match="does not exist"):
        write_report(results, tmp_path / "missing" / "report.html")
    assert write_report(results, tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.mark.skipif(_chromium() is None, reason="no chromium binary (apt-get install chromium); CI installs it")
def test_report_renders_in_headless_chromium(tmp_path: Path, results: list[Result]) -> None:
    import matplotlib.image
    import numpy as np

    page = write_report(results, tmp_path / "report.html", SPEC)
    shot = tmp_path / "report.png"
    cmd = [_chromium() or "", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1600",
           page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert shot.is_file(), proc.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1200)
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    non_white = (pixels < 0.95).any(axis=-1).mean()
    assert len(colours) > 50, "a rendered page with plots has many colours"
    assert non_white > 0.05, f"only {non_white:.1%} of the page is not white"
