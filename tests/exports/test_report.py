"""The class report: numbers, embedded plots, and a headless-Chromium screenshot that is not blank."""

from __future__ import annotations

import base64
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
    assert stats.scores == (15.0, 9.0, 7.5, 0.0) and stats.median == 8.25
    sigmoid, adam = stats.questions
    assert sigmoid.id == "sigmoid" and sigmoid.public_pass == pytest.approx(5 / 6)
    assert sigmoid.hidden_pass == pytest.approx(5 / 6) and sigmoid.full_marks == pytest.approx(2 / 3)
    assert adam.hidden_pass == pytest.approx(3 / 6)
    assert stats.causes == (("timeout", 3), ("wrong_answer", 3))
    assert len(stats.failing_tests) == 5 and stats.failing_tests[0][1:3] == (
        f"hidden/test_demo_hidden.py::test_adam_random[x={SECRET}1]", 2)
    assert stats.errors == (("dave", "the submission is empty; it should contain bp.py, optim.py"),)


def test_report_embeds_png_plots_and_lists_errors(results: list[Result]) -> None:
    page = render_report(results, SPEC)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Demo: backprop &amp; optimizers: class report" in page
    assert "time limit exceeded" in page and "<code>dave</code>: the submission is empty" in page
    assert not re.search(r"<script|<link|https?://", page)


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
